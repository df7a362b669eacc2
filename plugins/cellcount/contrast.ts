/**
 * Contrast normalisation as ImageJ's Process › Enhance Contrast with "Normalize".
 */
import { FocalError, dtypeOf, type DType, type PixelArray } from '../../core/index.js';
import { finiteRange } from './threshold.js';

export interface NormaliseContrastOptions {
  /** Percentage of pixels allowed to saturate, split equally between the dark and bright ends (ImageJ's default 0.35). */
  saturatedPercent: number;
}

/**
 * The histogram ImageJ's Enhance Contrast reads: uint8 and uint16 their exact levels (256 /
 * 65536, as ImageJ 1.53t does), float32 256 equal bins over the plane's finite [min, max]
 * (NaNs not counted). `n` is the number of pixels counted.
 */
export interface ContrastHistogram {
  counts: Float64Array;
  /** Value of bin 0's lower edge, and each bin's width, in pixel units. */
  low: number;
  binSize: number;
  n: number;
}

/** An empty histogram for a plane of `dtype`; float32 needs the plane's finite `range` (its bins span it). */
export function contrastHistogram(dtype: DType, range?: readonly [number, number]): ContrastHistogram {
  if (dtype === 'uint8' || dtype === 'uint16') return { counts: new Float64Array(dtype === 'uint8' ? 256 : 65536), low: 0, binSize: 1, n: 0 };
  if (!range) throw new FocalError('E_ARGUMENT', 'range: a float32 contrast histogram needs the plane\'s finite [min, max]', { field: 'range' });
  return { counts: new Float64Array(256), low: range[0], binSize: (range[1] - range[0]) / 256, n: 0 };
}

/** Counts `data` (a plane, or any piece of it) into `h`. */
export function addToContrastHistogram(h: ContrastHistogram, data: PixelArray): void {
  const { counts, low, binSize } = h;
  if (dtypeOf(data) !== 'float32') {
    for (let i = 0; i < data.length; i++) counts[data[i]]++;
    h.n += data.length;
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v !== v) continue;
    let b = Math.floor((v - low) / binSize);
    if (b > 255) b = 255;
    counts[b]++;
    h.n++;
  }
}

/**
 * The limits ImageJ's Enhance Contrast picks from a histogram: from each end, the first level
 * where the running count exceeds ⌊N·saturated/200⌋ pixels; in pixel units.
 */
export function saturatedLimitsOf(h: ContrastHistogram, saturatedPercent: number): { low: number; high: number } {
  const { counts: hist, low: lo, binSize } = h;
  const last = hist.length - 1;
  const limit = Math.floor((h.n * saturatedPercent) / 200);
  let hmin = 0;
  let count = 0;
  for (hmin = 0; hmin < last; hmin++) {
    count += hist[hmin];
    if (count > limit) break;
  }
  let hmax = last;
  count = 0;
  for (hmax = last; hmax > 0; hmax--) {
    count += hist[hmax];
    if (count > limit) break;
  }
  return { low: lo + hmin * binSize, high: lo + hmax * binSize };
}

/**
 * The limits ImageJ's Enhance Contrast picks on a plane ({@link contrastHistogram},
 * {@link saturatedLimitsOf}). A float32 plane with no spread returns its [min, max] (NaN for
 * an all-NaN plane).
 */
export function saturatedLimits(data: PixelArray, saturatedPercent: number): { low: number; high: number } {
  const dtype = dtypeOf(data);
  let range: [number, number] | undefined;
  if (dtype === 'float32') {
    range = finiteRange(data);
    if (!(range[1] > range[0])) return { low: range[0], high: range[1] };
  }
  const h = contrastHistogram(dtype, range);
  addToContrastHistogram(h, data);
  return saturatedLimitsOf(h, saturatedPercent);
}

/**
 * Stretches [low, high] linearly to the full range, as ImageJ's Normalize: uint8
 * ⌊(v − low)·255/(high − low)⌋ clamped to 0…255; uint16 the same onto 0…65535; float32 onto
 * 0…1 (unclamped). A new array of the same type; when high ≤ low (a flat image, or NaN
 * limits) a copy of the data, as ImageJ leaves such images alone.
 */
export function stretchContrast(data: PixelArray, low: number, high: number): PixelArray {
  const out = data.slice();
  if (!(high > low)) return out;
  if (dtypeOf(data) === 'float32') {
    const s = 1 / (high - low);
    for (let i = 0; i < data.length; i++) out[i] = (data[i] - low) * s;
    return out;
  }
  const top = dtypeOf(data) === 'uint8' ? 255 : 65535;
  const s = top / (high - low);
  for (let i = 0; i < data.length; i++) {
    const v = Math.floor((data[i] - low) * s);
    out[i] = v < 0 ? 0 : v > top ? top : v;
  }
  return out;
}

/**
 * ImageJ's Enhance Contrast › Normalize: finds the limits with {@link saturatedLimits} and
 * stretches them to the full range ({@link stretchContrast}).
 * @throws FocalError `E_ARGUMENT` when saturatedPercent is outside [0, 100).
 */
export function normaliseContrast(data: PixelArray, options: NormaliseContrastOptions): PixelArray {
  const sat = options.saturatedPercent;
  if (!(sat >= 0 && sat < 100)) throw new FocalError('E_ARGUMENT', `saturatedPercent: must be in [0, 100), got ${sat}`);
  const { low, high } = saturatedLimits(data, sat);
  return stretchContrast(data, low, high);
}
