import { FocalError } from '../../core/index.js';
import { assertNoNaN } from '../../core/imaging.js';

/** Three planes R, G, B of the same length, row-major. */
export type RgbPlanes = readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>];

export interface YCbCrOptions {
  /**
   * Value of full intensity in the input planes (255 for uint8, 65535 for uint16, 1 for
   * float images in [0, 1]). Default 255.
   */
  maxValue?: number;
  /**
   * `studio` (default): ITU-R BT.601 with headroom, Y in [16, 235], Cb and Cr in [16, 240] —
   * MATLAB's `rgb2ycbcr` and scikit-image's `rgb2ycbcr`. `full`: BT.601 full range as in
   * JPEG/JFIF, all three in [0, 255].
   */
  range?: 'studio' | 'full';
}

/** Y, Cb, Cr planes on an 8-bit scale (not rounded). */
export interface YCbCrPlanes {
  y: Float64Array;
  cb: Float64Array;
  cr: Float64Array;
}

// BT.601 rows for R, G, B in [0, 1]; offsets added after.
const STUDIO = [
  [65.481, 128.553, 24.966, 16],
  [-37.797, -74.203, 112.0, 128],
  [112.0, -93.786, -18.214, 128],
];
const FULL = [
  [0.299 * 255, 0.587 * 255, 0.114 * 255, 0],
  [-0.168736 * 255, -0.331264 * 255, 0.5 * 255, 128],
  [0.5 * 255, -0.418688 * 255, -0.081312 * 255, 128],
];

function checkRgb(rgb: RgbPlanes, field: string): number {
  if (!Array.isArray(rgb) || rgb.length !== 3) throw new FocalError('E_ARGUMENT', `${field} must be three planes [R, G, B]`, { field });
  const n = rgb[0].length;
  if (rgb[1].length !== n || rgb[2].length !== n) {
    throw new FocalError('E_ARGUMENT', `${field}: the R, G, B planes have different lengths (${rgb[0].length}, ${rgb[1].length}, ${rgb[2].length})`, { field });
  }
  rgb.forEach((p, i) => assertNoNaN(p, `${field}[${'RGB'[i]}]`));
  return n;
}

/**
 * RGB → YCbCr (ITU-R BT.601), plane by plane. The virtual-staining paper compares H&E colour
 * in YCbCr without naming the variant; Focal defaults to MATLAB's `rgb2ycbcr` (studio range),
 * which scikit-image's `rgb2ycbcr` reproduces — the tests check against the latter.
 *
 * @param r Red plane, values in [0, maxValue].
 * @returns Y, Cb, Cr on the 8-bit scale (e.g. Y ∈ [16, 235] in studio range), float64, not rounded.
 * @throws FocalError `E_ARGUMENT` for planes of different lengths, NaN, or maxValue ≤ 0.
 */
export function rgbToYCbCr(r: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, options: YCbCrOptions = {}): YCbCrPlanes {
  const n = checkRgb([r, g, b], 'rgb');
  const maxValue = options.maxValue ?? 255;
  if (!Number.isFinite(maxValue) || maxValue <= 0) throw new FocalError('E_ARGUMENT', `maxValue must be a finite number > 0, got ${maxValue}`, { field: 'maxValue' });
  const range = options.range ?? 'studio';
  if (range !== 'studio' && range !== 'full') throw new FocalError('E_ARGUMENT', `range must be 'studio' or 'full', got ${String(range)}`, { field: 'range' });
  const m = range === 'studio' ? STUDIO : FULL;
  const out: YCbCrPlanes = { y: new Float64Array(n), cb: new Float64Array(n), cr: new Float64Array(n) };
  const planes = [out.y, out.cb, out.cr];
  for (let i = 0; i < n; i++) {
    const R = r[i] / maxValue;
    const G = g[i] / maxValue;
    const B = b[i] / maxValue;
    for (let k = 0; k < 3; k++) planes[k][i] = m[k][0] * R + m[k][1] * G + m[k][2] * B + m[k][3];
  }
  return out;
}

/**
 * Mean absolute Y, Cb and Cr differences between two RGB images (virtual-staining paper, Fig. 4),
 * on the 8-bit YCbCr scale.
 * @throws FocalError `E_ARGUMENT` for images of different sizes, NaN, or bad options.
 */
export function ycbcrDifference(imageRgb: RgbPlanes, referenceRgb: RgbPlanes, options: YCbCrOptions = {}): { y: number; cb: number; cr: number } {
  const n = checkRgb(imageRgb, 'image');
  const m = checkRgb(referenceRgb, 'reference');
  if (n !== m) throw new FocalError('E_ARGUMENT', `image has ${n} pixels but reference has ${m}; they must be the same size`, { field: 'image' });
  if (n === 0) throw new FocalError('E_ARGUMENT', 'image and reference are empty', { field: 'image' });
  const a = rgbToYCbCr(imageRgb[0], imageRgb[1], imageRgb[2], options);
  const b = rgbToYCbCr(referenceRgb[0], referenceRgb[1], referenceRgb[2], options);
  const mad = (p: Float64Array, q: Float64Array) => {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += Math.abs(p[i] - q[i]);
    return acc / n;
  };
  return { y: mad(a.y, b.y), cb: mad(a.cb, b.cb), cr: mad(a.cr, b.cr) };
}

/**
 * Histograms of the Cb and Cr channels (virtual-staining paper, Fig. 3 p–t): `bins` equal bins
 * over [0, 256) on the 8-bit scale (default 256 bins, i.e. one per integer level); values
 * outside are clamped into the first/last bin.
 *
 * @returns Pixel counts per bin and the bins' lower edges.
 * @throws FocalError `E_ARGUMENT` for bad planes, options or bins (integer 1…4096).
 */
export function cbcrHistograms(rgb: RgbPlanes, options: YCbCrOptions & { bins?: number } = {}): { binStart: Float64Array; cb: Uint32Array; cr: Uint32Array } {
  const bins = options.bins ?? 256;
  if (!Number.isInteger(bins) || bins < 1 || bins > 4096) throw new FocalError('E_ARGUMENT', `bins must be an integer in 1…4096, got ${bins}`, { field: 'bins' });
  const { cb, cr } = rgbToYCbCr(rgb[0], rgb[1], rgb[2], options);
  const width = 256 / bins;
  const count = (p: Float64Array) => {
    const h = new Uint32Array(bins);
    for (let i = 0; i < p.length; i++) h[Math.min(bins - 1, Math.max(0, Math.floor(p[i] / width)))]++;
    return h;
  };
  return { binStart: Float64Array.from({ length: bins }, (_, i) => i * width), cb: count(cb), cr: count(cr) };
}
