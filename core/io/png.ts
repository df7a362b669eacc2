import { encodePngPixels } from './png-encode.js';
import type { PixelArray } from '../data/dtype.js';
import { isImage, type Image } from '../data/image.js';
import { planeIndex, stackFromImage, type Stack } from '../data/stack.js';
import { FocalError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export interface PngOptions {
  /**
   * Percentage of pixels allowed to saturate, split between the dark and the bright end
   * (ImageJ's Enhance Contrast convention); default 0.35. 0 maps min..max.
   */
  saturatedPercent?: number;
  /** Plane to show (0-based). Defaults: channel 0, middle z slice, time point 0. */
  c?: number;
  z?: number;
  t?: number;
  /** Create the output folder if it does not exist. */
  mkdir?: boolean;
}

/** An 8-bit preview: grey (1 channel) or RGB (3 channels, interleaved). */
export interface Preview {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
  /** The input values mapped to 0 and 255 (undefined for RGB, which is shown as is). */
  displayRange?: [number, number];
}

function checkIndex(name: string, v: number, size: number): number {
  if (!Number.isInteger(v) || v < 0 || v >= size) throw new FocalError('E_ARGUMENT', `${name}=${v} is outside 0..${size - 1}`, { field: name });
  return v;
}

/**
 * Value below which `k` of the finite values in [lo, hi] lie, by histogram refinement:
 * 65536 bins over the range, then 65536 bins over the bin holding rank k, then the data
 * value in that bin nearest the cut.
 */
/** Bins of each refinement pass of {@link rankValue}. */
const RANK_BINS = 65536;

/** Counts the values of `data` within [lo, hi] into RANK_BINS equal bins (one refinement pass). */
function addToRankHistogram(hist: Uint32Array, data: PixelArray, lo: number, hi: number): void {
  const scale = RANK_BINS / (hi - lo);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= lo && v <= hi)) continue;
    let b = Math.floor((v - lo) * scale);
    if (b >= RANK_BINS) b = RANK_BINS - 1;
    hist[b]++;
  }
}

/** The bin where the k-th value (from the bottom or the top) lies, after `below` values beyond [lo, hi]: the narrowed range and the new count beyond it. */
function narrowRank(hist: Uint32Array, k: number, lo: number, hi: number, below: number, fromTop: boolean): { lo: number; hi: number; below: number } {
  const scale = RANK_BINS / (hi - lo);
  let acc = below;
  let b = 0;
  if (fromTop) {
    for (b = RANK_BINS - 1; b > 0 && acc + hist[b] <= k; b--) acc += hist[b];
  } else {
    for (b = 0; b < RANK_BINS - 1 && acc + hist[b] <= k; b++) acc += hist[b];
  }
  return { lo: lo + b / scale, hi: b === RANK_BINS - 1 ? hi : Math.min(hi, lo + (b + 1) / scale), below: acc };
}

/** The data value in [lo, hi] nearest the cut (the lowest, or the highest from the top), folded into `best`. */
function snapRank(data: PixelArray, lo: number, hi: number, fromTop: boolean, best: number): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v >= lo && v <= hi && (fromTop ? v > best : v < best)) best = v;
  }
  return best;
}

/**
 * The k-th finite value from the bottom (or the top) of `data` within [lo, hi]: two passes of a
 * 65 536-bin histogram narrow the range, then the value nearest the cut is taken.
 */
function rankValue(data: PixelArray, k: number, lo: number, hi: number, fromTop: boolean): number {
  const hist = new Uint32Array(RANK_BINS);
  let below = 0;
  for (let pass = 0; pass < 2 && hi > lo; pass++) {
    hist.fill(0);
    addToRankHistogram(hist, data, lo, hi);
    ({ lo, hi, below } = narrowRank(hist, k, lo, hi, below, fromTop));
  }
  const best = snapRank(data, lo, hi, fromTop, fromTop ? -Infinity : Infinity);
  return Number.isFinite(best) ? best : fromTop ? hi : lo;
}

/** {@link rankValue} over a plane given as pieces: `each` calls its visitor on every piece once per pass. */
async function rankValueOf(each: (visit: (data: PixelArray) => void) => Promise<void>, k: number, lo: number, hi: number, fromTop: boolean): Promise<number> {
  const hist = new Uint32Array(RANK_BINS);
  let below = 0;
  for (let pass = 0; pass < 2 && hi > lo; pass++) {
    hist.fill(0);
    const [l, h] = [lo, hi];
    await each((data) => addToRankHistogram(hist, data, l, h));
    ({ lo, hi, below } = narrowRank(hist, k, lo, hi, below, fromTop));
  }
  let best = fromTop ? -Infinity : Infinity;
  const [l, h] = [lo, hi];
  await each((data) => {
    best = snapRank(data, l, h, fromTop, best);
  });
  return Number.isFinite(best) ? best : fromTop ? hi : lo;
}

/** Folds the finite values of `data` (not NaN, not ±Infinity) into a running min, max and count. */
function addFiniteRange(range: { lo: number; hi: number; n: number }, data: PixelArray): void {
  let { lo, hi, n } = range;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) continue; // NaN, ±Infinity
    n++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  range.lo = lo;
  range.hi = hi;
  range.n = n;
}

/**
 * {@link autoContrastRange} of a plane too large to hold, given as pieces (tiles read one at a
 * time): `each(visit)` must call `visit` on every piece of the plane, once per call (it is called
 * once for the range, then a few times per end, as the one-array version passes over its data).
 * The same range as `autoContrastRange` on the whole plane, for any pixel type.
 */
export async function autoContrastRangeOf(each: (visit: (data: PixelArray) => void) => Promise<void>, saturatedPercent = 0.35): Promise<[number, number]> {
  if (!(saturatedPercent >= 0 && saturatedPercent < 100)) throw new FocalError('E_ARGUMENT', `saturatedPercent must be in [0, 100), got ${saturatedPercent}`, { field: 'saturatedPercent' });
  const range = { lo: Infinity, hi: -Infinity, n: 0 };
  let integer = true;
  await each((data) => {
    if (!(data instanceof Uint8Array || data instanceof Uint16Array)) integer = false;
    addFiniteRange(range, data);
  });
  const { lo, hi, n } = range;
  if (n === 0) return [0, 0];
  if (lo === hi || saturatedPercent === 0) return [lo, hi];
  const k = Math.floor((n * saturatedPercent) / 200);
  if (integer) {
    const hist = new Uint32Array(hi - lo + 1);
    await each((data) => {
      for (let i = 0; i < data.length; i++) hist[data[i] - lo]++;
    });
    return integerCut(hist, k, lo);
  }
  const rlo = await rankValueOf(each, k, lo, hi, false);
  const rhi = await rankValueOf(each, k, lo, hi, true);
  return rhi >= rlo ? [rlo, rhi] : [rlo, rlo];
}

/** The display range from an exact histogram of integer values starting at `lo`: k values saturate at each end. */
function integerCut(hist: Uint32Array, k: number, lo: number): [number, number] {
  let acc = 0;
  let a = 0;
  for (; a < hist.length - 1 && acc + hist[a] <= k; a++) acc += hist[a];
  acc = 0;
  let b = hist.length - 1;
  for (; b > 0 && acc + hist[b] <= k; b--) acc += hist[b];
  return b >= a ? [lo + a, lo + b] : [lo + a, lo + a];
}

/**
 * Display range of one plane as ImageJ's Enhance Contrast chooses it: the values at which
 * saturated/2 % of the pixels lie below the minimum and saturated/2 % above the maximum
 * (counts rounded down). NaN and ±Infinity are ignored.
 */
export function autoContrastRange(data: PixelArray, saturatedPercent = 0.35): [number, number] {
  if (!(saturatedPercent >= 0 && saturatedPercent < 100)) throw new FocalError('E_ARGUMENT', `saturatedPercent must be in [0, 100), got ${saturatedPercent}`, { field: 'saturatedPercent' });
  const range = { lo: Infinity, hi: -Infinity, n: 0 };
  addFiniteRange(range, data);
  const { lo, hi, n } = range;
  if (n === 0) return [0, 0];
  if (lo === hi || saturatedPercent === 0) return [lo, hi];
  const k = Math.floor((n * saturatedPercent) / 200);
  if (data instanceof Uint8Array || data instanceof Uint16Array) {
    // Exact histogram of the integer values.
    const hist = new Uint32Array(hi - lo + 1);
    for (let i = 0; i < data.length; i++) hist[data[i] - lo]++;
    return integerCut(hist, k, lo);
  }
  const rlo = rankValue(data, k, lo, hi, false);
  const rhi = rankValue(data, k, lo, hi, true);
  return rhi >= rlo ? [rlo, rhi] : [rlo, rlo];
}

/** The 8-bit image writePng encodes. */
export function renderPreview(value: Stack | Image, options: PngOptions = {}): Preview {
  const stack = isImage(value) ? stackFromImage(value) : value;
  const z = checkIndex('z', options.z ?? Math.floor(stack.sizeZ / 2), stack.sizeZ);
  const t = checkIndex('t', options.t ?? 0, stack.sizeT);
  const n = stack.width * stack.height;
  if (stack.rgb) {
    const [r, g, b] = [0, 1, 2].map((c) => stack.planes[planeIndex(stack, c, z, t)]);
    const data = new Uint8Array(n * 3);
    for (let i = 0, j = 0; i < n; i++, j += 3) {
      data[j] = r[i];
      data[j + 1] = g[i];
      data[j + 2] = b[i];
    }
    return { width: stack.width, height: stack.height, channels: 3, data };
  }
  const c = checkIndex('c', options.c ?? 0, stack.sizeC);
  const plane = stack.planes[planeIndex(stack, c, z, t)];
  const [lo, hi] = autoContrastRange(plane, options.saturatedPercent ?? 0.35);
  const data = new Uint8Array(n);
  const f = hi > lo ? 255 / (hi - lo) : 0;
  for (let i = 0; i < n; i++) {
    const v = plane[i];
    if (f === 0) data[i] = v > lo ? 255 : 0;
    else {
      const o = (v - lo) * f;
      data[i] = o >= 255 ? 255 : o > 0 ? Math.round(o) : 0; // NaN → 0
    }
  }
  return { width: stack.width, height: stack.height, channels: 1, data, displayRange: [lo, hi] };
}

/** PNG bytes of renderPreview(value, options). */
export function encodePng(value: Stack | Image, options: PngOptions = {}): Uint8Array {
  const p = renderPreview(value, options);
  return encodePngPixels({ width: p.width, height: p.height, data: p.data, channels: p.channels, depth: 8 });
}

/**
 * Writes an 8-bit PNG preview, atomically: one plane (default: channel 0, middle z,
 * t 0) with ImageJ-style auto-contrast, or RGB colour for RGB stacks.
 */
export async function writePng(path: string, value: Stack | Image, options: PngOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodePng(value, options), { mkdir: options.mkdir });
}
