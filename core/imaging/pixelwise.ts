import { FocalError } from '../errors.js';

/**
 * Checks that two pixel arrays can be compared: same, non-zero length and no NaN.
 * @throws FocalError `E_ARGUMENT` naming `image` or `reference`.
 */
export function assertComparable(image: ArrayLike<number>, reference: ArrayLike<number>): void {
  if (image.length !== reference.length) {
    throw new FocalError('E_ARGUMENT', `image has ${image.length} pixels but reference has ${reference.length}; they must be the same size`, { field: 'image' });
  }
  if (image.length === 0) throw new FocalError('E_ARGUMENT', 'image and reference are empty', { field: 'image' });
  assertNoNaN(image, 'image');
  assertNoNaN(reference, 'reference');
}

/** @throws FocalError `E_ARGUMENT` when `data` holds a NaN, naming `field` and the first such pixel index. */
export function assertNoNaN(data: ArrayLike<number>, field: string): void {
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) throw new FocalError('E_ARGUMENT', `${field} has NaN pixels (first at index ${i})`, { field, index: i });
  }
}

/** Checks a plane against its declared size. @throws FocalError `E_ARGUMENT`. */
export function assertSize(data: ArrayLike<number>, width: number, height: number, field: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width and height must be positive integers, got ${width}×${height}`, { field: 'width' });
  }
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `${field} has ${data.length} pixels, expected ${width}×${height} = ${width * height}`, { field });
}

/** Minimum and maximum of `data` (NaN-free). */
export function range(data: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/**
 * The data range used by PSNR and SSIM when none is given: the reference's max − min.
 * (scikit-image 0.19 instead defaults to the dtype's range, e.g. 255 for uint8 or 65535
 * for uint16, so give `dataRange` explicitly to reproduce its defaults.)
 * @throws FocalError `E_ARGUMENT` when the reference is constant (range 0) or the given range is not > 0.
 */
export function resolveDataRange(reference: ArrayLike<number>, dataRange?: number): number {
  if (dataRange !== undefined) {
    if (!Number.isFinite(dataRange) || dataRange <= 0) throw new FocalError('E_ARGUMENT', `dataRange must be a finite number > 0, got ${dataRange}`, { field: 'dataRange' });
    return dataRange;
  }
  const { min, max } = range(reference);
  const r = max - min;
  if (!(r > 0) || !Number.isFinite(r)) {
    throw new FocalError('E_ARGUMENT', 'dataRange: the reference is constant (max − min = 0), so no default data range exists; give dataRange explicitly', { field: 'dataRange' });
  }
  return r;
}

/**
 * Mean squared error, mean((image − reference)²) (scikit-image `mean_squared_error`).
 * @throws FocalError `E_ARGUMENT` for different lengths or NaN pixels.
 */
export function mse(image: ArrayLike<number>, reference: ArrayLike<number>): number {
  assertComparable(image, reference);
  let acc = 0;
  for (let i = 0; i < image.length; i++) {
    const d = image[i] - reference[i];
    acc += d * d;
  }
  return acc / image.length;
}

/** Root mean squared error, √mse, in the images' intensity units. @throws as {@link mse}. */
export function rmse(image: ArrayLike<number>, reference: ArrayLike<number>): number {
  return Math.sqrt(mse(image, reference));
}

/** Mean absolute error, mean(|image − reference|), in intensity units. @throws as {@link mse}. */
export function mae(image: ArrayLike<number>, reference: ArrayLike<number>): number {
  assertComparable(image, reference);
  let acc = 0;
  for (let i = 0; i < image.length; i++) acc += Math.abs(image[i] - reference[i]);
  return acc / image.length;
}

/**
 * Peak signal-to-noise ratio in dB: 10·log10(dataRange² / mse) (scikit-image
 * `peak_signal_noise_ratio` with an explicit `data_range`). Identical images give +Infinity.
 *
 * @param options.dataRange Intensity range R; default: the reference's max − min.
 * @throws FocalError `E_ARGUMENT` for different lengths, NaN pixels, a bad or undefined data range.
 */
export function psnr(image: ArrayLike<number>, reference: ArrayLike<number>, options: { dataRange?: number } = {}): number {
  const err = mse(image, reference);
  const r = resolveDataRange(reference, options.dataRange);
  return 10 * Math.log10((r * r) / err);
}

/**
 * Pearson correlation coefficient r between the pixel values of the two images
 * (numpy `corrcoef`). NaN when either image is constant.
 * @throws FocalError `E_ARGUMENT` for different lengths or NaN pixels.
 */
export function pearson(image: ArrayLike<number>, reference: ArrayLike<number>): number {
  assertComparable(image, reference);
  const n = image.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += image[i];
    mb += reference[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const a = image[i] - ma;
    const b = reference[i] - mb;
    sab += a * b;
    saa += a * a;
    sbb += b * b;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Population standard deviation of `data`. */
export function standardDeviation(data: ArrayLike<number>): number {
  const n = data.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += data[i];
  m /= n;
  let acc = 0;
  for (let i = 0; i < n; i++) acc += (data[i] - m) ** 2;
  return Math.sqrt(acc / n);
}

/**
 * Reverse Huber (BerHu) error as in Deep-R's Eq. 4, averaged over pixels: with d = |image − reference|,
 * each pixel contributes d when d ≤ c and (d² + c²)/(2c) otherwise. (Deep-R sums over the
 * M×N pixels; this is that sum divided by M·N, so that values do not depend on image size.)
 *
 * @param options.c Threshold in intensity units (> 0). Default: 0.1 × the reference's
 *   (population) standard deviation — Deep-R sets c to ~10 % of the standard deviation of the
 *   normalised ground truth, which is the same threshold expressed in raw units.
 * @throws FocalError `E_ARGUMENT` for different lengths, NaN pixels, c ≤ 0, or a constant
 *   reference when c is not given.
 */
export function berhu(image: ArrayLike<number>, reference: ArrayLike<number>, options: { c?: number } = {}): number {
  assertComparable(image, reference);
  const c = options.c ?? 0.1 * standardDeviation(reference);
  if (!Number.isFinite(c) || c <= 0) {
    throw new FocalError(
      'E_ARGUMENT',
      options.c === undefined ? 'c: the reference is constant (standard deviation 0), so the default BerHu threshold is 0; give c explicitly' : `c must be a finite number > 0, got ${c}`,
      { field: 'c' },
    );
  }
  let acc = 0;
  const twoC = 2 * c;
  const cc = c * c;
  for (let i = 0; i < image.length; i++) {
    const d = Math.abs(image[i] - reference[i]);
    acc += d <= c ? d : (d * d + cc) / twoC;
  }
  return acc / image.length;
}

/**
 * The plane without a border of `borderPx` pixels at each edge (Deep-R excludes 10 px when
 * comparing deconvolution results, whose edges carry boundary artefacts).
 *
 * @returns A new Float64Array of (width − 2·borderPx) × (height − 2·borderPx) pixels and its size.
 * @throws FocalError `E_ARGUMENT` (field `borderPx`) when nothing would be left, or for a bad size.
 */
export function cropBorder(data: ArrayLike<number>, width: number, height: number, borderPx: number): { data: Float64Array; width: number; height: number } {
  assertSize(data, width, height, 'data');
  if (!Number.isInteger(borderPx) || borderPx < 0) throw new FocalError('E_ARGUMENT', `borderPx must be an integer ≥ 0, got ${borderPx}`, { field: 'borderPx' });
  const w = width - 2 * borderPx;
  const h = height - 2 * borderPx;
  if (w < 1 || h < 1) {
    throw new FocalError('E_ARGUMENT', `borderPx = ${borderPx} leaves nothing of a ${width}×${height} image (at most ${Math.floor((Math.min(width, height) - 1) / 2)})`, { field: 'borderPx' });
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const src = (y + borderPx) * width + borderPx;
    for (let x = 0; x < w; x++) out[y * w + x] = data[src + x];
  }
  return { data: out, width: w, height: h };
}
