import { FocalError } from '../errors.js';
import { gaussianKernel1d } from './gaussian.js';
import { assertComparable, assertSize, resolveDataRange } from './pixelwise.js';

export interface SsimOptions {
  /** Intensity range R (C1 = (k1·R)², C2 = (k2·R)²); default: the reference's max − min. */
  dataRange?: number;
  /** Standard deviation of the Gaussian window, px. Default 1.5. */
  sigma?: number;
  /** Default 0.01. */
  k1?: number;
  /** Default 0.03. */
  k2?: number;
  /** Accepted for symmetry with scikit-image's `full=False`; `ssim` always returns the mean (use {@link ssimMap} for the map). */
  map?: false;
}

/** scikit-image fixes the Gaussian window's truncation at 3.5 σ (11 taps for σ = 1.5). */
const SSIM_TRUNCATE = 3.5;

/** Index into [0, n) with scipy.ndimage's 'reflect' boundary (d c b a | a b c d | d c b a). */
function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

/**
 * The five Gaussian-filtered moments SSIM needs (μx, μy, E[x²], E[y²], E[xy]) in one fused pass:
 * separable correlation with a symmetric 1D kernel along x then y, boundary 'reflect' (as
 * scipy.ndimage.gaussian_filter with mode='reflect'), float64 throughout. The kernel's symmetry
 * halves the multiplications; fusing the five maps reads each pixel once per pass.
 */
function filteredMoments(
  image: Float64Array, reference: Float64Array, width: number, height: number, kernel: Float64Array,
): { ux: Float64Array; uy: Float64Array; uxx: Float64Array; uyy: Float64Array; uxy: Float64Array } {
  const r = (kernel.length - 1) / 2;
  const kc = kernel[r];
  const n = width * height;
  const hx = new Float64Array(n);
  const hy = new Float64Array(n);
  const hxx = new Float64Array(n);
  const hyy = new Float64Array(n);
  const hxy = new Float64Array(n);
  const px = new Float64Array(width + 2 * r);
  const py = new Float64Array(width + 2 * r);
  const xIndex = Int32Array.from({ length: width + 2 * r }, (_, i) => reflectIndex(i - r, width));
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let i = 0; i < px.length; i++) {
      px[i] = image[row + xIndex[i]];
      py[i] = reference[row + xIndex[i]];
    }
    for (let x = 0; x < width; x++) {
      const a0 = px[x + r];
      const b0 = py[x + r];
      let sx = kc * a0;
      let sy = kc * b0;
      let sxx = kc * a0 * a0;
      let syy = kc * b0 * b0;
      let sxy = kc * a0 * b0;
      for (let j = 0; j < r; j++) {
        const w = kernel[j];
        const a1 = px[x + j];
        const a2 = px[x + 2 * r - j];
        const b1 = py[x + j];
        const b2 = py[x + 2 * r - j];
        sx += w * (a1 + a2);
        sy += w * (b1 + b2);
        sxx += w * (a1 * a1 + a2 * a2);
        syy += w * (b1 * b1 + b2 * b2);
        sxy += w * (a1 * b1 + a2 * b2);
      }
      const o = row + x;
      hx[o] = sx;
      hy[o] = sy;
      hxx[o] = sxx;
      hyy[o] = syy;
      hxy[o] = sxy;
    }
  }
  const vertical = (src: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    for (let y = 0; y < height; y++) {
      const o = y * width;
      const c = y * width;
      for (let x = 0; x < width; x++) out[o + x] = kc * src[c + x];
      for (let j = 0; j < r; j++) {
        const w = kernel[j];
        const s1 = reflectIndex(y + j - r, height) * width;
        const s2 = reflectIndex(y + r - j, height) * width;
        for (let x = 0; x < width; x++) out[o + x] += w * (src[s1 + x] + src[s2 + x]);
      }
    }
    return out;
  };
  return { ux: vertical(hx), uy: vertical(hy), uxx: vertical(hxx), uyy: vertical(hyy), uxy: vertical(hxy) };
}

function checkConstants(options: SsimOptions): { sigma: number; k1: number; k2: number } {
  const sigma = options.sigma ?? 1.5;
  const k1 = options.k1 ?? 0.01;
  const k2 = options.k2 ?? 0.03;
  if (!Number.isFinite(sigma) || sigma <= 0) throw new FocalError('E_ARGUMENT', `sigma must be a finite number > 0, got ${sigma}`, { field: 'sigma' });
  if (!Number.isFinite(k1) || k1 <= 0) throw new FocalError('E_ARGUMENT', `k1 must be a finite number > 0, got ${k1}`, { field: 'k1' });
  if (!Number.isFinite(k2) || k2 <= 0) throw new FocalError('E_ARGUMENT', `k2 must be a finite number > 0, got ${k2}`, { field: 'k2' });
  return { sigma, k1, k2 };
}

/** Side of the Gaussian SSIM window for σ, px: 2·floor(3.5σ + 0.5) + 1 (11 for σ = 1.5). */
export function ssimWindowSize(sigma = 1.5): number {
  return 2 * Math.floor(SSIM_TRUNCATE * sigma + 0.5) + 1;
}

/**
 * Local SSIM map (same size as the images), as scikit-image 0.19
 * `structural_similarity(gaussian_weights=True, sigma, use_sample_covariance=False, full=True)`:
 * local means, variances and covariance from a Gaussian window (truncated at 3.5 σ,
 * boundary 'reflect'), S = (2μxμy + C1)(2σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)).
 *
 * @param image Test image, row-major width × height (not modified).
 * @param reference Ground truth, same size.
 * @returns Float64Array of width × height local SSIM values.
 * @throws FocalError `E_ARGUMENT` for mismatched sizes, NaN pixels, an image smaller than the
 *   window (11 px for σ = 1.5), or bad constants.
 */
export function ssimMap(image: ArrayLike<number>, reference: ArrayLike<number>, width: number, height: number, options: SsimOptions = {}): Float64Array {
  assertSize(image, width, height, 'image');
  assertSize(reference, width, height, 'reference');
  assertComparable(image, reference);
  const { sigma, k1, k2 } = checkConstants(options);
  const win = ssimWindowSize(sigma);
  if (width < win || height < win) {
    throw new FocalError('E_ARGUMENT', `SSIM needs images of at least ${win}×${win} px (the Gaussian window for σ = ${sigma}), got ${width}×${height}`, { field: 'image' });
  }
  const R = resolveDataRange(reference, options.dataRange);
  const n = width * height;
  // one monomorphic array type for the hot loops
  const x = image instanceof Float64Array ? image : Float64Array.from(image);
  const y = reference instanceof Float64Array ? reference : Float64Array.from(reference);
  const { ux, uy, uxx, uyy, uxy } = filteredMoments(x, y, width, height, gaussianKernel1d(sigma, SSIM_TRUNCATE));
  const C1 = (k1 * R) ** 2;
  const C2 = (k2 * R) ** 2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mx = ux[i];
    const my = uy[i];
    const vx = uxx[i] - mx * mx;
    const vy = uyy[i] - my * my;
    const vxy = uxy[i] - mx * my;
    out[i] = ((2 * mx * my + C1) * (2 * vxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
  }
  return out;
}

/**
 * Mean structural similarity index, as scikit-image 0.19
 * `structural_similarity(im, ref, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=R)`:
 * the mean of {@link ssimMap} over the map without a border of (window − 1)/2 px (5 px for σ = 1.5).
 *
 * @param options.dataRange Default: the reference's max − min (scikit-image 0.19 defaults to the dtype range).
 * @returns SSIM in [−1, 1]; 1 for identical images.
 * @throws FocalError `E_ARGUMENT` as {@link ssimMap}.
 * @example ssim(restored, groundTruth, 512, 512, { dataRange: 65535 })
 */
export function ssim(image: ArrayLike<number>, reference: ArrayLike<number>, width: number, height: number, options: SsimOptions = {}): number {
  const map = ssimMap(image, reference, width, height, options);
  const pad = (ssimWindowSize(options.sigma ?? 1.5) - 1) / 2;
  let acc = 0;
  for (let yy = pad; yy < height - pad; yy++) {
    const row = yy * width;
    for (let xx = pad; xx < width - pad; xx++) acc += map[row + xx];
  }
  return acc / ((width - 2 * pad) * (height - 2 * pad));
}

// --- MS-SSIM as tf.image.ssim_multiscale ------------------------------------------------

/** tf.image.ssim_multiscale's default power factors (Wang et al. 2003), finest scale first. */
export const MS_SSIM_WEIGHTS: readonly number[] = Object.freeze([0.0448, 0.2856, 0.3001, 0.2363, 0.1333]);
const MS_FILTER_SIZE = 11;
const MS_SIGMA = 1.5;

/**
 * Smallest image side MS-SSIM accepts with `scales` scales: the coarsest scale, after
 * `scales − 1` halvings (odd sizes rounded up), must still hold the 11-px window:
 * 10·2^(scales−1) + 1 px (161 px for 5 scales).
 */
export function msSsimMinSize(scales = MS_SSIM_WEIGHTS.length): number {
  return (MS_FILTER_SIZE - 1) * 2 ** (scales - 1) + 1;
}

/** 11-tap Gaussian with σ = 1.5 centred at 5, normalised (tf's `_fspecial_gauss` is its outer product). */
function msKernel(): Float64Array {
  const k = new Float64Array(MS_FILTER_SIZE);
  const c = (MS_FILTER_SIZE - 1) / 2;
  let sum = 0;
  for (let i = 0; i < MS_FILTER_SIZE; i++) sum += k[i] = Math.exp(-((i - c) ** 2) / (2 * MS_SIGMA * MS_SIGMA));
  for (let i = 0; i < MS_FILTER_SIZE; i++) k[i] /= sum;
  return k;
}

/**
 * 'VALID' separable correlation (output (w − k + 1) × (h − k + 1)) of x, y, x·y and x² + y² in one
 * fused pass, with a symmetric kernel (tf filters the same four quantities).
 */
function validMoments(x: Float64Array, y: Float64Array, width: number, height: number, kernel: Float64Array): { mx: Float64Array; my: Float64Array; mxy: Float64Array; msq: Float64Array } {
  const k = kernel.length;
  const r = (k - 1) / 2;
  const kc = kernel[r];
  const ow = width - k + 1;
  const oh = height - k + 1;
  const tx = new Float64Array(ow * height);
  const ty = new Float64Array(ow * height);
  const txy = new Float64Array(ow * height);
  const tsq = new Float64Array(ow * height);
  for (let yy = 0; yy < height; yy++) {
    const s = yy * width;
    const o = yy * ow;
    for (let xx = 0; xx < ow; xx++) {
      const c = s + xx + r;
      const a0 = x[c];
      const b0 = y[c];
      let sx = kc * a0;
      let sy = kc * b0;
      let sxy = kc * a0 * b0;
      let ssq = kc * (a0 * a0 + b0 * b0);
      for (let j = 0; j < r; j++) {
        const w = kernel[j];
        const i1 = s + xx + j;
        const i2 = s + xx + k - 1 - j;
        const a1 = x[i1];
        const a2 = x[i2];
        const b1 = y[i1];
        const b2 = y[i2];
        sx += w * (a1 + a2);
        sy += w * (b1 + b2);
        sxy += w * (a1 * b1 + a2 * b2);
        ssq += w * (a1 * a1 + a2 * a2 + b1 * b1 + b2 * b2);
      }
      tx[o + xx] = sx;
      ty[o + xx] = sy;
      txy[o + xx] = sxy;
      tsq[o + xx] = ssq;
    }
  }
  const vertical = (src: Float64Array): Float64Array => {
    const out = new Float64Array(ow * oh);
    for (let yy = 0; yy < oh; yy++) {
      const o = yy * ow;
      const c = (yy + r) * ow;
      for (let xx = 0; xx < ow; xx++) out[o + xx] = kc * src[c + xx];
      for (let j = 0; j < r; j++) {
        const w = kernel[j];
        const s1 = (yy + j) * ow;
        const s2 = (yy + k - 1 - j) * ow;
        for (let xx = 0; xx < ow; xx++) out[o + xx] += w * (src[s1 + xx] + src[s2 + xx]);
      }
    }
    return out;
  };
  return { mx: vertical(tx), my: vertical(ty), mxy: vertical(txy), msq: vertical(tsq) };
}

/** 2×2 average pooling; an odd last row/column is first repeated (tf pads with 'SYMMETRIC'). */
function downsample(src: Float64Array, width: number, height: number): { data: Float64Array; width: number; height: number } {
  const ow = Math.ceil(width / 2);
  const oh = Math.ceil(height / 2);
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    const y0 = 2 * y;
    const y1 = Math.min(y0 + 1, height - 1);
    for (let x = 0; x < ow; x++) {
      const x0 = 2 * x;
      const x1 = Math.min(x0 + 1, width - 1);
      out[y * ow + x] = 0.25 * (src[y0 * width + x0] + src[y0 * width + x1] + src[y1 * width + x0] + src[y1 * width + x1]);
    }
  }
  return { data: out, width: ow, height: oh };
}

/** Mean SSIM and mean contrast-structure term of one scale ('VALID' Gaussian filtering, as tf). */
function scaleTerms(x: Float64Array, y: Float64Array, width: number, height: number, C1: number, C2: number, kernel: Float64Array): { ssim: number; cs: number } {
  const { mx, my, mxy, msq } = validMoments(x, y, width, height, kernel);
  let sumSsim = 0;
  let sumCs = 0;
  for (let i = 0; i < mx.length; i++) {
    const num0 = 2 * mx[i] * my[i];
    const den0 = mx[i] * mx[i] + my[i] * my[i];
    const lum = (num0 + C1) / (den0 + C1);
    const cs = (2 * mxy[i] - num0 + C2) / (msq[i] - den0 + C2);
    sumSsim += lum * cs;
    sumCs += cs;
  }
  return { ssim: sumSsim / mx.length, cs: sumCs / mx.length };
}

/**
 * Multi-scale SSIM as `tf.image.ssim_multiscale(img, ref, max_val=R)` with its defaults
 * (what Deep-R used): 5 scales, power factors {@link MS_SSIM_WEIGHTS}, 11×11 Gaussian window
 * with σ = 1.5, K1 = 0.01, K2 = 0.03, 'VALID' filtering (no padding), and between scales a
 * 2×2 average pool (an odd row/column repeated first). The result is
 * Π_{j<M} max(cs_j, 0)^w_j · max(ssim_M, 0)^w_M, where cs_j is the mean contrast-structure term
 * at scale j and ssim_M the mean SSIM at the coarsest scale. Computed in float64 (tf uses float32).
 *
 * @param options.dataRange R; default: the reference's max − min.
 * @param options.weights Power factors, finest scale first (their count sets the number of scales).
 * @throws FocalError `E_ARGUMENT` when a side is smaller than {@link msSsimMinSize} (161 px for
 *   5 scales; tf fails the same way), for mismatched sizes, NaN pixels or bad weights.
 */
export function msSsim(image: ArrayLike<number>, reference: ArrayLike<number>, width: number, height: number, options: { dataRange?: number; weights?: number[] } = {}): number {
  assertSize(image, width, height, 'image');
  assertSize(reference, width, height, 'reference');
  assertComparable(image, reference);
  const weights = options.weights ?? [...MS_SSIM_WEIGHTS];
  if (weights.length < 1 || weights.some((w) => !Number.isFinite(w) || w < 0)) {
    throw new FocalError('E_ARGUMENT', `weights must be a non-empty list of finite numbers ≥ 0, got [${weights.join(', ')}]`, { field: 'weights' });
  }
  const min = msSsimMinSize(weights.length);
  if (width < min || height < min) {
    throw new FocalError('E_ARGUMENT', `MS-SSIM with ${weights.length} scales needs images of at least ${min}×${min} px (the 11-px window at the coarsest scale), got ${width}×${height}`, { field: 'image' });
  }
  const R = resolveDataRange(reference, options.dataRange);
  const C1 = (0.01 * R) ** 2;
  const C2 = (0.03 * R) ** 2;
  const kernel = msKernel();
  let x: { data: Float64Array; width: number; height: number } = { data: Float64Array.from(image), width, height };
  let y: { data: Float64Array; width: number; height: number } = { data: Float64Array.from(reference), width, height };
  let result = 1;
  for (let s = 0; s < weights.length; s++) {
    if (s > 0) {
      x = downsample(x.data, x.width, x.height);
      y = downsample(y.data, y.width, y.height);
    }
    const t = scaleTerms(x.data, y.data, x.width, x.height, C1, C2, kernel);
    const v = s < weights.length - 1 ? t.cs : t.ssim;
    result *= Math.max(v, 0) ** weights[s];
  }
  return result;
}
