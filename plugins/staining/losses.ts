/**
 * The cascade's loss terms (paper Eqs. 3, 4, 8, 9, 10) as plain functions over tfjs tensors
 * (NHWC); each returns a scalar (batch mean). Built on core's kit (featureLoss, msSsimTf).
 */
import { featureLoss, msSsimScalesFor, msSsimTf, rangePerImage, type Tf } from '../../core/ml.js';
import type * as tfTypes from '@tensorflow/tfjs';

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;

/**
 * Eq. 4 as printed: Σ_p Σ_q (|G[p+1,q] − G[p,q]| + |G[p,q+1] − G[p,q]|), summed over pixels
 * and channels (not averaged), then the mean over the batch.
 */
export function tvSum(tf: Tf, x: Tensor4D): Tensor {
  return tf.tidy(() => {
    const [, h, w] = x.shape;
    const dy = tf.abs(tf.sub(tf.slice(x, [0, 1, 0, 0], [-1, -1, -1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, h - 1, -1, -1])));
    const dx = tf.abs(tf.sub(tf.slice(x, [0, 0, 1, 0], [-1, -1, -1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, -1, w - 1, -1])));
    return tf.mean(tf.add(tf.sum(dy, [1, 2, 3]), tf.sum(dx, [1, 2, 3])));
  });
}

/** Eq. 10 per channel: mean over channels and batch of 1 − MS-SSIM (tf.image.ssim_multiscale defaults, range = the target's max − min per image and channel; scales as many as the patch allows, ≤ 5). */
export function msSsimLoss(tf: Tf, y: Tensor4D, x: Tensor4D): Tensor {
  const c = y.shape[3];
  const scales = msSsimScalesFor(Math.min(y.shape[1], y.shape[2]));
  const terms: Tensor[] = [];
  for (let k = 0; k < c; k++) {
    const yk = tf.slice(y, [0, 0, 0, k], [-1, -1, -1, 1]) as Tensor4D;
    const xk = tf.slice(x, [0, 0, 0, k], [-1, -1, -1, 1]) as Tensor4D;
    terms.push(tf.mean(tf.sub(1, msSsimTf(tf, yk, xk, tf.maximum(rangePerImage(tf, yk), 1e-6), scales))));
  }
  return tf.div(tf.addN(terms), c);
}

/**
 * Eqs. 8 and 9: (1/L) Σ_l mean |F_l(a) − F_l(b)| through a network's layers (`features`: a
 * featureExtractor model). Style loss: G_VS's down blocks (L = M = 4); perceptual: D_DR's
 * blocks (L = K = 6). Gradients flow to `a` and `b` only if the caller's variable list has them.
 */
export function meanFeatureLoss(tf: Tf, features: tfTypes.LayersModel, a: Tensor4D, b: Tensor4D): Tensor {
  const f = (x: Tensor4D) => {
    const out = features.apply(x) as Tensor | Tensor[];
    return Array.isArray(out) ? out : [out];
  };
  const n = features.outputs.length;
  return featureLoss(tf, f, a, b, { norm: 'l1', layerWeights: Array.from({ length: n }, () => 1 / n) });
}
