/**
 * Contrast normalisation as ImageJ's Process › Enhance Contrast with "Normalize".
 */
import { FocalError, dtypeOf, type PixelArray } from '../../core/index.js';
import { finiteRange } from './threshold.js';

export interface NormaliseContrastOptions {
  /** Percentage of pixels allowed to saturate, split equally between the dark and bright ends (ImageJ's default 0.35). */
  saturatedPercent: number;
}

/**
 * The limits ImageJ's Enhance Contrast picks: from each end of the histogram, the first grey
 * level where the running count exceeds ⌊N·saturated/200⌋ pixels. uint8 and uint16 use their
 * exact histograms (256 / 65536 levels, as ImageJ 1.53t does); float32 uses 256 equal bins over
 * [min, max] (NaNs ignored). Returns the limits in pixel units.
 */
export function saturatedLimits(data: PixelArray, saturatedPercent: number): { low: number; high: number } {
  const dtype = dtypeOf(data);
  let hist: Float64Array;
  let lo = 0;
  let binSize = 1;
  let n = 0;
  if (dtype !== 'float32') {
    hist = new Float64Array(dtype === 'uint8' ? 256 : 65536);
    for (let i = 0; i < data.length; i++) hist[data[i]]++;
    n = data.length;
  } else {
    hist = new Float64Array(256);
    const [min, max] = finiteRange(data);
    if (!(max > min)) return { low: min, high: max };
    lo = min;
    binSize = (max - min) / 256;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v !== v) continue;
      let b = Math.floor((v - min) / binSize);
      if (b > 255) b = 255;
      hist[b]++;
      n++;
    }
  }
  const last = hist.length - 1;
  const limit = Math.floor((n * saturatedPercent) / 200);
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
 * ImageJ's Enhance Contrast › Normalize: finds the limits with {@link saturatedLimits} and
 * stretches them linearly to the full range — uint8: ⌊(v − low)·255/(high − low)⌋ clamped to
 * 0…255; uint16: the same onto 0…65535; float32: onto 0…1 (unclamped). Returns a new array of
 * the same type. When high ≤ low (a flat image) the data is returned unchanged (a copy), as ImageJ
 * leaves such images alone.
 * @throws FocalError `E_ARGUMENT` when saturatedPercent is outside [0, 100).
 */
export function normaliseContrast(data: PixelArray, options: NormaliseContrastOptions): PixelArray {
  const sat = options.saturatedPercent;
  if (!(sat >= 0 && sat < 100)) throw new FocalError('E_ARGUMENT', `saturatedPercent: must be in [0, 100), got ${sat}`);
  const dtype = dtypeOf(data);
  const { low, high } = saturatedLimits(data, sat);
  const out = data.slice();
  if (!(high > low)) return out;
  if (dtype === 'float32') {
    const s = 1 / (high - low);
    for (let i = 0; i < data.length; i++) out[i] = (data[i] - low) * s;
    return out;
  }
  const top = dtype === 'uint8' ? 255 : 65535;
  const s = top / (high - low);
  for (let i = 0; i < data.length; i++) {
    const v = Math.floor((data[i] - low) * s);
    out[i] = v < 0 ? 0 : v > top ? top : v;
  }
  return out;
}
