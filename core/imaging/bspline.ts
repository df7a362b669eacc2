/**
 * Cubic B-spline model of an image: interpolating coefficients by recursive filtering and
 * evaluation of the continuous model (value and gradient) anywhere in the image.
 *
 * Follows M. Unser, "Splines: a perfect fit for signal and image processing", IEEE Signal
 * Processing Magazine 16(6), 1999 (recursive prefilter, causal + anticausal first-order
 * sections with pole z₁ = √3 − 2, gain 6) and P. Thévenaz, T. Blu, M. Unser, "Interpolation
 * revisited", IEEE TMI 19(7), 2000 (mirror boundary conditions, evaluation with the
 * 4-tap cubic B-spline weights). Coordinates: x = column, y = row, origin at the centre of
 * pixel (0, 0).
 */
import { FocalError } from '../errors.js';

/** Pole of the cubic B-spline interpolation prefilter, √3 − 2. */
export const CUBIC_POLE = Math.sqrt(3) - 2;

/** Mirror (whole-sample symmetric) index: …, 2, 1, [0, 1, …, n−1], n−2, n−3, … */
export function mirrorIndex(k: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  let m = k % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

/**
 * In-place cubic B-spline interpolation prefilter of one line of `n` samples, read and written
 * at `data[offset + i·stride]`, with mirror boundary conditions (exact for any n).
 * After it, Σₖ c[k] β³(x − k) passes through the samples.
 */
export function prefilterLine(data: Float64Array, offset: number, stride: number, n: number): void {
  if (n === 1) return;
  const z = CUBIC_POLE;
  const gain = (1 - z) * (1 - 1 / z); // = 6
  for (let i = 0; i < n; i++) data[offset + i * stride] *= gain;
  // causal initialisation: c⁺[0] = Σₖ z^k s[k] over the mirror-extended signal
  const horizon = Math.ceil(Math.log(1e-12) / Math.log(Math.abs(z)));
  let c0: number;
  if (horizon < n) {
    let zk = z;
    c0 = data[offset];
    for (let k = 1; k < horizon; k++) {
      c0 += zk * data[offset + k * stride];
      zk *= z;
    }
  } else {
    // exact closed form for a short mirror-symmetric signal
    const zn = Math.pow(z, n - 1);
    const iz = 1 / z;
    let z2n = zn * zn * iz;
    let zk = z;
    c0 = data[offset] + zn * data[offset + (n - 1) * stride];
    for (let k = 1; k < n - 1; k++) {
      c0 += (zk + z2n) * data[offset + k * stride];
      zk *= z;
      z2n *= iz;
    }
    c0 /= 1 - zn * zn;
  }
  data[offset] = c0;
  for (let k = 1; k < n; k++) data[offset + k * stride] += z * data[offset + (k - 1) * stride];
  // anticausal initialisation (mirror boundary)
  const last = offset + (n - 1) * stride;
  data[last] = (z / (z * z - 1)) * (data[last] + z * data[last - stride]);
  for (let k = n - 2; k >= 0; k--) {
    const i = offset + k * stride;
    data[i] = z * (data[i + stride] - data[i]);
  }
}

/**
 * Cubic B-spline coefficients of a plane (separable prefilter along rows then columns).
 * @param data Row-major plane, width × height (not modified).
 * @returns Float64Array of width × height coefficients.
 * @throws FocalError `E_ARGUMENT` when data.length ≠ width·height.
 */
export function splineCoefficients(data: ArrayLike<number>, width: number, height: number): Float64Array {
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data has ${data.length} samples, expected width·height = ${width * height}`);
  const c = Float64Array.from(data as ArrayLike<number>);
  for (let y = 0; y < height; y++) prefilterLine(c, y * width, 1, width);
  for (let x = 0; x < width; x++) prefilterLine(c, x, width, height);
  return c;
}

/** Cubic B-spline weights for fractional offset t ∈ [0, 1) at taps i−1, i, i+1, i+2. */
export function cubicWeights(t: number, out: Float64Array): void {
  const s = 1 - t;
  const t2 = t * t;
  const s2 = s * s;
  out[0] = (s2 * s) / 6;
  out[1] = 2 / 3 - t2 + 0.5 * t2 * t;
  out[2] = 2 / 3 - s2 + 0.5 * s2 * s;
  out[3] = (t2 * t) / 6;
}

/** Derivatives of the cubic weights with respect to t. */
export function cubicWeightDerivatives(t: number, out: Float64Array): void {
  const s = 1 - t;
  out[0] = -0.5 * s * s;
  out[1] = -2 * t + 1.5 * t * t;
  out[2] = 2 * s - 1.5 * s * s;
  out[3] = 0.5 * t * t;
}

/**
 * A spline model of one plane: coefficients plus reusable scratch buffers. Evaluate with
 * {@link SplineImage.value} or {@link SplineImage.valueAndGradient}; the point must lie in
 * [0, width−1] × [0, height−1] (mirror extension handles the taps beyond the edge).
 */
export class SplineImage {
  readonly coefficients: Float64Array;
  readonly width: number;
  readonly height: number;
  private readonly wx = new Float64Array(4);
  private readonly wy = new Float64Array(4);
  private readonly dx = new Float64Array(4);
  private readonly dy = new Float64Array(4);
  private readonly ix = new Int32Array(4);
  private readonly iy = new Int32Array(4);
  /** Gradient of the last valueAndGradient call, in value units per px. */
  gx = 0;
  gy = 0;

  constructor(data: ArrayLike<number>, width: number, height: number, coefficients?: Float64Array) {
    this.width = width;
    this.height = height;
    this.coefficients = coefficients ?? splineCoefficients(data, width, height);
  }

  private taps(x: number, y: number): void {
    const i = Math.floor(x);
    const j = Math.floor(y);
    const w = this.width;
    const h = this.height;
    if (i >= 1 && i + 2 < w) {
      this.ix[0] = i - 1; this.ix[1] = i; this.ix[2] = i + 1; this.ix[3] = i + 2;
    } else {
      for (let k = 0; k < 4; k++) this.ix[k] = mirrorIndex(i - 1 + k, w);
    }
    if (j >= 1 && j + 2 < h) {
      this.iy[0] = (j - 1) * w; this.iy[1] = j * w; this.iy[2] = (j + 1) * w; this.iy[3] = (j + 2) * w;
    } else {
      for (let k = 0; k < 4; k++) this.iy[k] = mirrorIndex(j - 1 + k, h) * w;
    }
  }

  /** Value of the continuous model at (x, y). */
  value(x: number, y: number): number {
    this.taps(x, y);
    cubicWeights(x - Math.floor(x), this.wx);
    cubicWeights(y - Math.floor(y), this.wy);
    const c = this.coefficients;
    const ix = this.ix;
    const wx = this.wx;
    let v = 0;
    for (let l = 0; l < 4; l++) {
      const row = this.iy[l];
      v += this.wy[l] * (wx[0] * c[row + ix[0]] + wx[1] * c[row + ix[1]] + wx[2] * c[row + ix[2]] + wx[3] * c[row + ix[3]]);
    }
    return v;
  }

  /** Value at (x, y); the gradient (∂/∂x, ∂/∂y) is left in `gx`, `gy`. */
  valueAndGradient(x: number, y: number): number {
    this.taps(x, y);
    const tx = x - Math.floor(x);
    const ty = y - Math.floor(y);
    cubicWeights(tx, this.wx);
    cubicWeights(ty, this.wy);
    cubicWeightDerivatives(tx, this.dx);
    cubicWeightDerivatives(ty, this.dy);
    const c = this.coefficients;
    const ix = this.ix;
    const wx = this.wx;
    const dx = this.dx;
    let v = 0;
    let gx = 0;
    let gy = 0;
    for (let l = 0; l < 4; l++) {
      const row = this.iy[l];
      const c0 = c[row + ix[0]];
      const c1 = c[row + ix[1]];
      const c2 = c[row + ix[2]];
      const c3 = c[row + ix[3]];
      const sv = wx[0] * c0 + wx[1] * c1 + wx[2] * c2 + wx[3] * c3;
      const sd = dx[0] * c0 + dx[1] * c1 + dx[2] * c2 + dx[3] * c3;
      v += this.wy[l] * sv;
      gx += this.wy[l] * sd;
      gy += this.dy[l] * sv;
    }
    this.gx = gx;
    this.gy = gy;
    return v;
  }
}
