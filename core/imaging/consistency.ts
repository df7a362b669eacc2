/**
 * Consistency check of a restoration network's output against its own input (the library floor of
 * Deep-R's and TSVA's safety checks): a network trained on some specimens can invent structure
 * (rings, texture, colour) on others, or blur or re-sharpen an image that was already sharp. The check asks whether the output, blurred by the best-fitting defocus (a Gaussian
 * stand-in for the PSF, σ from 0 to 8 px), explains the input:
 *
 * - best σ ≤ `inFocusSigmaPx`: the input is already (nearly) in focus → the input is returned;
 * - otherwise the residual of that fit, relative to the input's noise variance, gives the
 *   output's weight: 1 when the residual is noise-like (ratio ≤ `trustRatio`), falling linearly
 *   to 0 at `rejectRatio`; the result is the blend w·output + (1 − w)·input.
 *
 * Plain functions over one plane; the output must already be on the input's scale.
 */

export interface SafetyOptions {
  /** Best-fit blur (px) at or below which the input counts as in focus. Default 0.5. */
  inFocusSigmaPx?: number;
  /** Residual / noise variance up to which the output is fully trusted. Default 4. */
  trustRatio?: number;
  /** Residual / noise variance at which the input is returned. Default 40. */
  rejectRatio?: number;
}

export interface SafetyResult {
  image: Float32Array;
  /** Weight given to the network output (0: the input was returned). */
  weight: number;
  /** Best-fitting Gaussian blur of the output towards the input, px. */
  sigmaPx: number;
  /** Residual of that fit / the input's noise variance. */
  residualRatio: number;
}

export const SAFETY_SIGMAS_PX = [0, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8];

function blurred(src: ArrayLike<number>, w: number, h: number, sigma: number): Float32Array {
  const out = Float32Array.from(src);
  if (sigma <= 0) return out;
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(w * h);
  const clamp = (v: number, n: number) => (v < 0 ? -v - 1 < n ? -v - 1 : 0 : v >= n ? Math.max(0, 2 * n - v - 1) : v);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let a = 0;
    for (let i = -r; i <= r; i++) a += k[i + r] * out[y * w + clamp(x + i, w)];
    tmp[y * w + x] = a / s;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let a = 0;
    for (let i = -r; i <= r; i++) a += k[i + r] * tmp[clamp(y + i, h) * w + x];
    out[y * w + x] = a / s;
  }
  return out;
}

/** Robust noise variance of an image: from the median absolute horizontal pixel difference. */
export function noiseVariance(img: ArrayLike<number>, w: number, h: number): number {
  const d: number[] = [];
  for (let y = 0; y < h; y += 2) for (let x = 0; x + 1 < w; x += 2) d.push(Math.abs(img[y * w + x + 1] - img[y * w + x]));
  d.sort((a, b) => a - b);
  const mad = d[Math.floor(d.length / 2)] ?? 0;
  return (mad / 0.6745) ** 2 / 2;
}

export function applySafety(input: ArrayLike<number>, output: ArrayLike<number>, width: number, height: number, options: SafetyOptions = {}): SafetyResult {
  const inFocus = options.inFocusSigmaPx ?? 0.5;
  const trust = options.trustRatio ?? 4;
  const reject = options.rejectRatio ?? 40;
  const n = width * height;
  let best = { sigma: 0, r: Infinity };
  for (const sigma of SAFETY_SIGMAS_PX) {
    const b = blurred(output, width, height, sigma);
    let r = 0;
    for (let i = 0; i < n; i++) r += (b[i] - input[i]) ** 2;
    r /= n;
    if (r < best.r) best = { sigma, r };
  }
  let varIn = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += input[i] / n;
  for (let i = 0; i < n; i++) varIn += (input[i] - mean) ** 2 / n;
  // noise floor: the robust estimate, but at least 0.1 % of the signal variance
  const noise = Math.max(noiseVariance(input, width, height), 1e-3 * varIn, 1e-12);
  const ratio = best.r / noise;
  const weight = best.sigma <= inFocus ? 0 : Math.min(1, Math.max(0, (reject - ratio) / (reject - trust)));
  const image = new Float32Array(n);
  for (let i = 0; i < n; i++) image[i] = weight * output[i] + (1 - weight) * input[i];
  return { image, weight, sigmaPx: best.sigma, residualRatio: ratio };
}
