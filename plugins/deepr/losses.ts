/**
 * Deep-R's losses in TensorFlow.js ops (Methods, eqs. 1–4). All take NHWC float tensors
 * of normalised images; results are scalars (batch means) unless said otherwise.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { berhuTf, lsganDiscriminatorLoss, msSsimTf, rangePerImage, ssimTf, type Tf } from '../../core/ml.js';
import type { LossWeights } from './config.js';
/** The loss weights' schema and defaults live with the training configuration (config.ts). */
export { DEFAULT_LOSS_WEIGHTS, type LossWeights } from './config.js';

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;

/**
 * Generator loss (eq. 1), batch mean: λ·(1 − D(G(x)))² + ν·(1 − MS-SSIM(y, G(x))) + ξ·BerHu(y, G(x)).
 * MS-SSIM uses each target's max − min as data range (the metrics plugin's default).
 * With `dOfGx` null (the adversarial term off) the total is the two pixel terms and
 * `adversarial` is null. With `weights.ssim` > 0, σ·(1 − SSIM(y, G(x))) is added (same data
 * range); `ssim` is then that unweighted term, else null.
 * @returns The total (scalar, differentiable) and its unweighted terms (scalars).
 */
export function generatorLoss(
  tf: Tf,
  y: Tensor4D,
  gx: Tensor4D,
  dOfGx: Tensor | null,
  weights: LossWeights,
  scales: number,
): { total: Tensor; adversarial: Tensor | null; msSsim: Tensor; berhu: Tensor; ssim: Tensor | null } {
  const t = generatorTerms(tf, y, gx, dOfGx, (weights.ssim ?? 0) > 0, scales);
  const weighted = [tf.mul(t.msSsim, weights.msSsim), tf.mul(t.berhu, weights.berhu)];
  if (t.adversarial) weighted.unshift(tf.mul(t.adversarial, weights.adversarial));
  if (t.ssim) weighted.push(tf.mul(t.ssim, weights.ssim!));
  return { total: tf.addN(weighted), ...t };
}

/**
 * The unweighted terms of {@link generatorLoss}: (1 − D(G(x)))² (null without `dOfGx`),
 * 1 − MS-SSIM, BerHu and, with `withSsim`, 1 − SSIM (else null); batch means.
 */
export function generatorTerms(tf: Tf, y: Tensor4D, gx: Tensor4D, dOfGx: Tensor | null, withSsim: boolean, scales: number): { adversarial: Tensor | null; msSsim: Tensor; berhu: Tensor; ssim: Tensor | null } {
  const adversarial = dOfGx ? tf.mean(tf.square(tf.sub(1, dOfGx))) : null;
  const range = rangePerImage(tf, y);
  const msSsim = tf.sub(1, tf.mean(msSsimTf(tf, y, gx, range, scales)));
  const berhu = tf.mean(berhuTf(tf, y, gx));
  const ssim = withSsim ? tf.sub(1, tf.mean(ssimTf(tf, y, gx, range))) : null;
  return { adversarial, msSsim, berhu, ssim };
}

/** Discriminator loss (eq. 2): core's least-squares discriminator loss. */
export const discriminatorLoss = lsganDiscriminatorLoss;
