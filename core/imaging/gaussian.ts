import { FocalError } from '../errors.js';

export interface GaussianOptions {
  /** Kernel half-width in standard deviations: radius = floor(truncate·σ + 0.5) px (as SciPy / scikit-image). Default 4. */
  truncate?: number;
}

/**
 * Sampled, normalised 1D Gaussian kernel: w[k] ∝ exp(−(k − r)² / (2σ²)) for k = 0…2r,
 * r = floor(truncate·σ + 0.5), scaled to sum to 1. σ = 0 gives the identity kernel [1].
 *
 * @param sigmaPx Standard deviation, px (≥ 0).
 * @param truncate Half-width in standard deviations (> 0). Default 4.
 * @returns Kernel of length 2r + 1 (its centre is index r).
 * @throws FocalError `E_ARGUMENT` for a negative or non-finite σ or truncate.
 */
export function gaussianKernel1d(sigmaPx: number, truncate = 4): Float64Array {
  if (!Number.isFinite(sigmaPx) || sigmaPx < 0) throw new FocalError('E_ARGUMENT', `sigmaPx must be a finite number ≥ 0, got ${sigmaPx}`);
  if (!Number.isFinite(truncate) || truncate <= 0) throw new FocalError('E_ARGUMENT', `truncate must be a finite number > 0, got ${truncate}`);
  const r = Math.floor(truncate * sigmaPx + 0.5);
  if (sigmaPx === 0 || r === 0) return Float64Array.of(1);
  const w = new Float64Array(2 * r + 1);
  const denom = 2 * sigmaPx * sigmaPx;
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += w[k + r] = Math.exp(-(k * k) / denom);
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/**
 * 2D Gaussian blur of one plane (scikit-image `gaussian` with `mode='nearest'`):
 * separable, a horizontal pass with σx then a vertical pass with σy, each a sampled
 * normalised Gaussian truncated at `truncate`·σ. Pixels beyond the edge take the value
 * of the nearest edge pixel, so a constant image stays constant. Accumulation is in
 * float64; the result is float32 (callers round and clamp for integer types).
 *
 * @param data Row-major plane of width × height pixels (any numeric array; not modified).
 * @param width Plane width, px.
 * @param height Plane height, px.
 * @param sigmaXPx Standard deviation along x (columns), px; 0 = no blur along x.
 * @param sigmaYPx Standard deviation along y (rows), px; 0 = no blur along y.
 * @param options `truncate` (default 4 σ).
 * @returns A new Float32Array of width × height pixels.
 * @throws FocalError `E_ARGUMENT` for bad dimensions, data length, σ or truncate.
 * @example
 * const blurred = gaussianBlur2d(plane, 512, 512, 2, 2); // σ = 2 px
 */
export function gaussianBlur2d(data: ArrayLike<number>, width: number, height: number, sigmaXPx: number, sigmaYPx: number, options: GaussianOptions = {}): Float32Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width and height must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data has ${data.length} pixels, expected ${width}×${height} = ${width * height}`);
  const truncate = options.truncate ?? 4;
  const kx = gaussianKernel1d(sigmaXPx, truncate);
  const ky = gaussianKernel1d(sigmaYPx, truncate);
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;

  // horizontal pass into a float64 buffer, through an edge-replicated row
  const tmp = new Float64Array(width * height);
  const padded = new Float64Array(width + 2 * rx);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const first = data[row];
    const last = data[row + width - 1];
    for (let i = 0; i < rx; i++) {
      padded[i] = first;
      padded[rx + width + i] = last;
    }
    for (let x = 0; x < width; x++) padded[rx + x] = data[row + x];
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = 0; k < kx.length; k++) acc += kx[k] * padded[x + k];
      tmp[row + x] = acc;
    }
  }

  // vertical pass, row by row (cache-friendly); source rows clamped to the edges
  const out = new Float32Array(width * height);
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < ky.length; k++) {
      const sy = Math.min(height - 1, Math.max(0, y + k - ry));
      const w = ky[k];
      const src = sy * width;
      for (let x = 0; x < width; x++) acc[x] += w * tmp[src + x];
    }
    out.set(acc, y * width);
  }
  return out;
}
