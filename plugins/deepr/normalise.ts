import { FocalError } from '../../core/index.js';

/**
 * Per-image zero-mean, unit-variance normalisation (Deep-R, Methods, "Data pre-processing":
 * each input and each ground-truth image separately). Population standard deviation
 * (divide by N). A constant image (σ = 0) is only centred (σ reported as 1 so that
 * {@link denormalise} inverts it).
 *
 * @returns The normalised pixels (float32) and the mean and σ that were removed.
 * @throws FocalError `E_ARGUMENT` (field `image`) for an empty image or non-finite pixels.
 */
export function normalise(image: ArrayLike<number>): { data: Float32Array; mean: number; std: number } {
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

/** Inverse of {@link normalise}: `x · std + mean`. */
export function denormalise(data: ArrayLike<number>, mean: number, std: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * std + mean;
  return out;
}
