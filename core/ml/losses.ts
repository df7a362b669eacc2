/**
 * Losses of the image-to-image learning kit, as plain functions over tfjs tensors (NHWC,
 * float). Per-image results are [N] tensors; the others are scalar batch means. Call them
 * inside `tf.tidy` / an optimizer's `minimize` (intermediates are not disposed here unless said).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError } from '../errors.js';
import type { Tf } from './backend.js';

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;

/** tf.image.ssim_multiscale's power factors (finest scale first). */
export const MS_SSIM_POWER_FACTORS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] as const;
const FILTER_SIZE = 11;
const FILTER_SIGMA = 1.5;
const K1 = 0.01;
const K2 = 0.03;

/** Largest number of MS-SSIM scales (≤ 5) an image of side `sizePx` supports: (11 − 1)·2^(s−1) + 1 ≤ side. */
export function msSsimScalesFor(sizePx: number): number {
  let s = 5;
  while (s > 1 && (FILTER_SIZE - 1) * 2 ** (s - 1) + 1 > sizePx) s--;
  return s;
}

/** The MS-SSIM power factors for `scales` scales: tf's first `scales` factors (not renormalised, as tf). */
export function msSsimWeights(scales: number): number[] {
  return MS_SSIM_POWER_FACTORS.slice(0, scales);
}

function gaussianTaps(): Float32Array {
  const k = new Float32Array(FILTER_SIZE);
  const c = (FILTER_SIZE - 1) / 2;
  let sum = 0;
  for (let i = 0; i < FILTER_SIZE; i++) sum += k[i] = Math.exp(-((i - c) ** 2) / (2 * FILTER_SIGMA * FILTER_SIGMA));
  for (let i = 0; i < FILTER_SIZE; i++) k[i] /= sum;
  return k;
}

/** Separable 11×11 Gaussian, 'VALID' (no padding), on an [N, H, W, 1] tensor. */
function blur(tf: Tf, x: Tensor4D, kx: tfTypes.Tensor4D, ky: tfTypes.Tensor4D): Tensor4D {
  return tf.conv2d(tf.conv2d(x, kx, 1, 'valid'), ky, 1, 'valid');
}

/** 2×2 average pooling; an odd last row / column is repeated first (tf pads 'SYMMETRIC'). */
function downsample(tf: Tf, x: Tensor4D): Tensor4D {
  let t = x;
  const [, h, w] = t.shape;
  if (h % 2 === 1) t = tf.concat([t, tf.slice(t, [0, h - 1, 0, 0], [-1, 1, -1, -1])], 1);
  if (w % 2 === 1) t = tf.concat([t, tf.slice(t, [0, 0, w - 1, 0], [-1, -1, 1, -1])], 2);
  return tf.avgPool(t, 2, 2, 'valid');
}

/**
 * Per-image multi-scale SSIM, following `tf.image.ssim_multiscale` (its default parameters,
 * as Deep-R): 11×11 Gaussian window σ = 1.5 ('VALID'), K1 = 0.01, K2 = 0.03, 2×2 average
 * pooling between scales, result Π_{j<M} relu(cs_j)^w_j · relu(ssim_M)^w_M (cs and SSIM
 * averaged over the image at each scale).
 *
 * Deviation for differentiability: the factors are clamped at 1e-6 rather than 0 before
 * the fractional power (d/dv v^w is infinite at 0); for values ≥ 1e-6 this is tf's result.
 *
 * @param y Reference, [N, H, W, 1].
 * @param x Distorted image, [N, H, W, 1].
 * @param dataRange Per-image data range R (C1 = (K1·R)², C2 = (K2·R)²): a [N] tensor or a number.
 * @param scales Number of scales (default 5; the side must be ≥ (11 − 1)·2^(scales−1) + 1).
 * @returns [N] tensor.
 */
export function msSsimTf(tf: Tf, y: Tensor4D, x: Tensor4D, dataRange: Tensor | number, scales = 5): Tensor {
  return tf.tidy(() => {
    const w = ssimWindow(tf, dataRange);
    const weights = msSsimWeights(scales);
    let a = x;
    let b = y;
    let result: Tensor = tf.onesLike(tf.mean(x, [1, 2, 3]));
    for (let s = 0; s < scales; s++) {
      if (s > 0) {
        a = downsample(tf, a);
        b = downsample(tf, b);
      }
      const { luminance, cs } = localSsimTerms(tf, a, b, w);
      const v = tf.mean(s < scales - 1 ? cs : tf.mul(luminance, cs), [1, 2, 3]);
      result = tf.mul(result, tf.pow(tf.maximum(v, 1e-6), weights[s]));
    }
    return result;
  });
}

/**
 * Per-image single-scale SSIM (Wang et al. 2004), the first scale of {@link msSsimTf}: 11×11
 * Gaussian window σ = 1.5 ('VALID'), K1 = 0.01, K2 = 0.03, mean of the local SSIM map. This is
 * the index the evaluation reports (plugins/metrics `ssim`, which also filters at the border).
 * @param dataRange Per-image data range: a [N] tensor or a number.
 * @returns [N] tensor.
 */
export function ssimTf(tf: Tf, y: Tensor4D, x: Tensor4D, dataRange: Tensor | number): Tensor {
  return tf.tidy(() => {
    const { luminance, cs } = localSsimTerms(tf, x, y, ssimWindow(tf, dataRange));
    return tf.mean(tf.mul(luminance, cs), [1, 2, 3]);
  });
}

interface SsimWindow {
  kx: tfTypes.Tensor4D;
  ky: tfTypes.Tensor4D;
  c1: Tensor;
  c2: Tensor;
}

/** The separable Gaussian window and C1 = (K1·R)², C2 = (K2·R)² (R per image or a number); call inside a tidy. */
function ssimWindow(tf: Tf, dataRange: Tensor | number): SsimWindow {
  const taps = gaussianTaps();
  const R = (typeof dataRange === 'number' ? tf.scalar(dataRange) : dataRange.reshape([-1, 1, 1, 1])) as Tensor4D;
  return { kx: tf.tensor4d(taps, [1, FILTER_SIZE, 1, 1]), ky: tf.tensor4d(taps, [FILTER_SIZE, 1, 1, 1]), c1: tf.square(tf.mul(R, K1)), c2: tf.square(tf.mul(R, K2)) };
}

/** Local luminance (2μxμy + C1)/(μx² + μy² + C1) and contrast-structure (2σxy + C2)/(σx² + σy² + C2) maps ('VALID'). */
function localSsimTerms(tf: Tf, x: Tensor4D, y: Tensor4D, w: SsimWindow): { luminance: Tensor; cs: Tensor } {
  const mx = blur(tf, x, w.kx, w.ky);
  const my = blur(tf, y, w.kx, w.ky);
  const exx = blur(tf, tf.mul(x, x), w.kx, w.ky);
  const eyy = blur(tf, tf.mul(y, y), w.kx, w.ky);
  const exy = blur(tf, tf.mul(x, y), w.kx, w.ky);
  const num0 = tf.mul(tf.mul(mx, my), 2);
  const den0 = tf.add(tf.square(mx), tf.square(my));
  const cs = tf.div(tf.add(tf.sub(tf.mul(exy, 2), num0), w.c2), tf.add(tf.sub(tf.add(exx, eyy), den0), w.c2));
  return { luminance: tf.div(tf.add(num0, w.c1), tf.add(den0, w.c1)), cs };
}

/** Per-image population standard deviation of an [N, H, W, C] tensor → [N]. */
export function stdPerImage(tf: Tf, y: Tensor4D): Tensor {
  return tf.tidy(() => tf.sqrt(tf.moments(y, [1, 2, 3]).variance));
}

/** Per-image max − min of an [N, H, W, C] tensor → [N]. */
export function rangePerImage(tf: Tf, y: Tensor4D): Tensor {
  return tf.tidy(() => tf.sub(tf.max(y, [1, 2, 3]), tf.min(y, [1, 2, 3])));
}

/**
 * Per-image reversed Huber loss (eq. 4, averaged over the pixels): |d| where |d| ≤ c,
 * (d² + c²)/(2c) above, with c = `cFraction` × the target's standard deviation, per image
 * (Deep-R: ~10 % of the normalised ground truth's σ). c depends on the target only (no gradient flows through it).
 * @returns [N] tensor.
 */
export function berhuTf(tf: Tf, y: Tensor4D, x: Tensor4D, cFraction = 0.1): Tensor {
  return tf.tidy(() => {
    const c = tf.maximum(tf.mul(stdPerImage(tf, y), cFraction), 1e-6).reshape([-1, 1, 1, 1]);
    const cc = c; // depends on the target only, so it carries no gradient to the generator
    const d = tf.abs(tf.sub(x, y));
    // (d² + c²)/(2c) = d + (d − c)²/(2c): one differentiable expression for both branches
    const excess = tf.relu(tf.sub(d, cc));
    return tf.mean(tf.add(d, tf.div(tf.square(excess), tf.mul(cc, 2))), [1, 2, 3]);
  });
}

/** Least-squares adversarial loss of the generator (Mao et al. 2017), batch mean: (1 − D(G(x)))². */
export function lsganGeneratorLoss(tf: Tf, dOfGx: Tensor): Tensor {
  return tf.mean(tf.square(tf.sub(1, dOfGx)));
}

/** Least-squares discriminator loss, batch mean: D(G(x))² + (1 − D(y))². */
export function lsganDiscriminatorLoss(tf: Tf, dOfGx: Tensor, dOfY: Tensor): Tensor {
  return tf.add(tf.mean(tf.square(dOfGx)), tf.mean(tf.square(tf.sub(1, dOfY))));
}

/** Mean absolute error over all elements. */
export function maeLoss(tf: Tf, y: Tensor, x: Tensor): Tensor {
  return tf.mean(tf.abs(tf.sub(x, y)));
}

/** Mean squared error over all elements. */
export function mseLoss(tf: Tf, y: Tensor, x: Tensor): Tensor {
  return tf.mean(tf.square(tf.sub(x, y)));
}

/**
 * Anisotropic total variation, per image: the mean over pixels of |x[i+1, j] − x[i, j]| plus the
 * mean of |x[i, j+1] − x[i, j]| (all channels). @returns [N] tensor.
 */
export function totalVariation(tf: Tf, x: Tensor4D): Tensor {
  const [, h, w] = x.shape;
  if (h < 2 || w < 2) throw new FocalError('E_ARGUMENT', `x: total variation needs at least 2×2 pixels, got ${w}×${h}`, { field: 'x' });
  const dy = tf.abs(tf.sub(tf.slice(x, [0, 1, 0, 0], [-1, -1, -1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, h - 1, -1, -1])));
  const dx = tf.abs(tf.sub(tf.slice(x, [0, 0, 1, 0], [-1, -1, -1, -1]), tf.slice(x, [0, 0, 0, 0], [-1, -1, w - 1, -1])));
  return tf.add(tf.mean(dy, [1, 2, 3]), tf.mean(dx, [1, 2, 3]));
}

/** L1 weight penalty: Σ |w| over the given weights (e.g. a model's kernels: `model.trainableWeights.map((v) => v.read())`). */
export function l1WeightPenalty(tf: Tf, weights: readonly Tensor[]): Tensor {
  if (weights.length === 0) return tf.scalar(0);
  return tf.addN(weights.map((w) => tf.sum(tf.abs(w))));
}

/**
 * Feature loss between two images through a frozen network's intermediate layers (perceptual
 * loss through a discriminator's blocks; style loss through a trained network's down blocks):
 * Σ_l w_l · mean |F_l(a) − F_l(b)| (`'l1'`) or mean (F_l(a) − F_l(b))² (`'l2'`), where
 * `features` maps an image batch to the layers' outputs (see core's `featureExtractor`).
 * Gradients flow to `a` and `b`; the network's weights are not variables of this loss unless
 * the caller's optimizer lists them.
 * @param layerWeights One weight per feature layer (default 1 each).
 */
export function featureLoss(tf: Tf, features: (x: Tensor4D) => Tensor[], a: Tensor4D, b: Tensor4D, options: { norm?: 'l1' | 'l2'; layerWeights?: readonly number[] } = {}): Tensor {
  const fa = features(a);
  const fb = features(b);
  if (fa.length !== fb.length || fa.length === 0) throw new FocalError('E_ARGUMENT', 'features: must return the same, non-zero number of tensors for both images', { field: 'features' });
  const lw = options.layerWeights ?? fa.map(() => 1);
  if (lw.length !== fa.length) throw new FocalError('E_ARGUMENT', `layerWeights: ${lw.length} weights for ${fa.length} feature layers`, { field: 'layerWeights' });
  const terms = fa.map((f, i) => {
    const d = tf.sub(f, fb[i]);
    return tf.mul(tf.mean(options.norm === 'l2' ? tf.square(d) : tf.abs(d)), lw[i]);
  });
  return tf.addN(terms);
}

/** Σ weight·term over the terms whose weight is non-zero (a missing weight counts as 0). @throws FocalError when no term has a weight. */
export function weightedLoss(tf: Tf, terms: Record<string, Tensor>, weights: Record<string, number>): Tensor {
  const parts = Object.entries(terms).filter(([k]) => (weights[k] ?? 0) !== 0).map(([k, t]) => tf.mul(t, weights[k]));
  if (parts.length === 0) throw new FocalError('E_ARGUMENT', `weights: no term of ${Object.keys(terms).join(', ')} has a non-zero weight`, { field: 'weights' });
  return tf.addN(parts);
}
