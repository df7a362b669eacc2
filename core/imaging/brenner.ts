/**
 * Brenner's gradient focus measure, shared by the focus plugin (a focus criterion) and TSVA
 * (which of two shots is the sharper, Y1).
 */
import { FocalError } from '../errors.js';

/**
 * Brenner gradient: Σ (x(m+2,n) − x(m,n))² over horizontal pixel pairs two apart, without a threshold.
 * Units: intensity². Higher = sharper.
 * @throws FocalError `E_ARGUMENT` for a bad size (width ≥ 3 needed) or NaN pixels.
 */
export function brenner(data: ArrayLike<number>, width: number, height: number): number {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width and height must be positive integers, got ${width}×${height}`, { field: 'width' });
  }
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data has ${data.length} pixels, expected ${width}×${height} = ${width * height}`, { field: 'data' });
  if (width < 3) throw new FocalError('E_ARGUMENT', `brenner needs an image of at least 3×1 px, got ${width}×${height}`, { field: 'data' });
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) throw new FocalError('E_ARGUMENT', `data has NaN pixels (first at x=${i % width}, y=${Math.floor(i / width)})`, { field: 'data', index: i });
  }
  let s = 0;
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < width - 2; x++) {
      const d = data[r + x + 2] - data[r + x];
      s += d * d;
    }
  }
  return s;
}
