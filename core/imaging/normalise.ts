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
