/**
 * Intensity normalisation shared by plugins.
 */
import { FocalError } from '../errors.js';

/**
 * Zero-mean, unit-variance standardisation of one image: (x − mean) / σ with the population
 * standard deviation (divide by N). A constant image (σ = 0) is only centred and σ is reported
 * as 1, so `x · std + mean` always inverts it.
 *
 * @returns the standardised pixels (float32) and the mean and σ removed.
 * @throws FocalError `E_ARGUMENT` (field `image`) for an empty image or a non-finite pixel.
 */
export function standardise(image: ArrayLike<number>): { data: Float32Array; mean: number; std: number } {
  const n = image.length;
  if (n === 0) throw new FocalError('E_ARGUMENT', 'image: is empty', { field: 'image' });
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = image[i];
    if (!Number.isFinite(v)) throw new FocalError('E_ARGUMENT', `image: pixel ${i} is ${v}; all pixels must be finite`, { field: 'image' });
    sum += v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (image[i] - mean) ** 2;
  let std = Math.sqrt(ss / n);
  if (!(std > 0)) std = 1;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (image[i] - mean) / std;
  return { data, mean, std };
}

/** Inverse of {@link standardise}: `x · std + mean`. */
export function destandardise(data: ArrayLike<number>, mean: number, std: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * std + mean;
  return out;
}

/**
 * Per-image normalisation modes of the learning kit (core/ml): `zero-mean-unit-variance`
 * ({@link standardise}), `minmax-symmetric` (min → −1, max → +1; a constant image → 0) and
 * `unit-8bit` (x / 255, for 8-bit RGB targets such as stained images).
 */
export type NormalisationMode = 'zero-mean-unit-variance' | 'minmax-symmetric' | 'unit-8bit';

/**
 * Normalises one image (or one channel) by `mode`; returns the affine map removed, so
 * `x = data · scale + offset` inverts it ({@link destandardise}(data, offset, scale)).
 * @throws FocalError `E_ARGUMENT` (field `image`) for an empty image or a non-finite pixel.
 */
export function normaliseImage(image: ArrayLike<number>, mode: NormalisationMode): { data: Float32Array; offset: number; scale: number } {
  if (mode === 'zero-mean-unit-variance') {
    const r = standardise(image);
    return { data: r.data, offset: r.mean, scale: r.std };
  }
  const n = image.length;
  if (n === 0) throw new FocalError('E_ARGUMENT', 'image: is empty', { field: 'image' });
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = image[i];
    if (!Number.isFinite(v)) throw new FocalError('E_ARGUMENT', `image: pixel ${i} is ${v}; all pixels must be finite`, { field: 'image' });
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let offset: number;
  let scale: number;
  if (mode === 'unit-8bit') {
    offset = 0;
    scale = 255;
  } else if (mode === 'minmax-symmetric') {
    offset = (lo + hi) / 2;
    scale = hi > lo ? (hi - lo) / 2 : 1;
  } else {
    throw new FocalError('E_ARGUMENT', `mode: unknown normalisation '${String(mode)}'`, { field: 'mode' });
  }
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (image[i] - offset) / scale;
  return { data, offset, scale };
}
