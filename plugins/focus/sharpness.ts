import { FocalError } from '../../core/index.js';

function reflect(i: number, n: number): number {
  const period = 2 * n;
  let j = i % period;
  if (j < 0) j += period;
  return j < n ? j : period - 1 - j;
}

function checkPlane(data: ArrayLike<number>, width: number, height: number, field: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width and height must be positive integers, got ${width}×${height}`, { field: 'width' });
  }
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `${field} has ${data.length} pixels, expected ${width}×${height} = ${width * height}`, { field });
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) throw new FocalError('E_ARGUMENT', `${field} has NaN pixels (first at x=${i % width}, y=${Math.floor(i / width)})`, { field, index: i });
  }
}

/**
 * Sobel sharpness map S(I) = √(I_X² + I_Y²) (Deep-R Eq. 5), where I_X, I_Y are the 3×3 Sobel
 * derivatives ([−1 0 1] across, [1 2 1] along; unnormalised, as scipy.ndimage.sobel and MATLAB's
 * fspecial('sobel')), with the 'reflect' boundary (d c b a | a b c d) so the map has the image's size.
 *
 * @returns Float64Array of width × height gradient magnitudes, intensity units.
 * @throws FocalError `E_ARGUMENT` for a bad size or NaN pixels.
 */
export function sobelSharpnessMap(data: ArrayLike<number>, width: number, height: number): Float64Array {
  checkPlane(data, width, height, 'data');
  const out = new Float64Array(width * height);
  const xm = Int32Array.from({ length: width }, (_, x) => reflect(x - 1, width));
  const xp = Int32Array.from({ length: width }, (_, x) => reflect(x + 1, width));
  for (let y = 0; y < height; y++) {
    const u = reflect(y - 1, height) * width;
    const c = y * width;
    const d = reflect(y + 1, height) * width;
    for (let x = 0; x < width; x++) {
      const l = xm[x];
      const r = xp[x];
      const gx = data[u + r] - data[u + l] + 2 * (data[c + r] - data[c + l]) + data[d + r] - data[d + l];
      const gy = data[d + l] - data[u + l] + 2 * (data[d + x] - data[u + x]) + data[d + r] - data[u + r];
      out[c + x] = Math.sqrt(gx * gx + gy * gy);
    }
  }
  return out;
}

export interface RowSharpness {
  /** β̂_i per row (Deep-R Eq. 6); NaN for a row where the reference has no gradient at all. */
  coefficients: Float64Array;
  /** Std(β̂_i) per row (Deep-R Eqs. 7–8), the OLS standard error; NaN where β̂_i is. */
  stdErrors: Float64Array;
  /** Mean of the defined β̂_i over rows. */
  meanCoefficient: number;
  /** Population standard deviation of the defined β̂_i across rows. */
  coefficientStd: number;
  /** Mean of the defined per-row standard errors. */
  meanStdError: number;
  /** Number of rows with a defined coefficient. */
  rows: number;
}

/**
 * Deep-R's row-wise relative sharpness coefficient of `image` against `reference` (Methods,
 * "Image sharpness coefficient for tilted sample images"): with S = {@link sobelSharpnessMap},
 * each row i is an ordinary least-squares fit without intercept of S(image)_i on S(reference)_i:
 * β̂_i = S(x)_i·S(y)_iᵀ / S(y)_i·S(y)_iᵀ, RSS_i = Σ_j (S(x)_ij − β̂_i S(y)_ij)²,
 * Std(β̂_i) = √(RSS_i / ((n − 1)·S(y)_i·S(y)_iᵀ)), where n is the number of pixels in the row
 * (the regression's observations; the paper writes N, which equals it for its square images).
 * β̂ = 1 for identical images; < 1 where the image is blurrier than the reference.
 *
 * @throws FocalError `E_ARGUMENT` for different sizes, NaN pixels, or width < 2.
 */
export function rowSharpness(image: ArrayLike<number>, reference: ArrayLike<number>, width: number, height: number): RowSharpness {
  checkPlane(image, width, height, 'image');
  checkPlane(reference, width, height, 'reference');
  if (width < 2) throw new FocalError('E_ARGUMENT', `row sharpness needs rows of at least 2 px, got width ${width}`, { field: 'image' });
  const sx = sobelSharpnessMap(image, width, height);
  const sy = sobelSharpnessMap(reference, width, height);
  const coefficients = new Float64Array(height);
  const stdErrors = new Float64Array(height);
  let sum = 0;
  let sumSe = 0;
  let count = 0;
  for (let y = 0; y < height; y++) {
    const r = y * width;
    let xy = 0;
    let yy = 0;
    for (let x = 0; x < width; x++) {
      xy += sx[r + x] * sy[r + x];
      yy += sy[r + x] * sy[r + x];
    }
    if (!(yy > 0)) {
      coefficients[y] = NaN;
      stdErrors[y] = NaN;
      continue;
    }
    const beta = xy / yy;
    let rss = 0;
    for (let x = 0; x < width; x++) {
      const e = sx[r + x] - beta * sy[r + x];
      rss += e * e;
    }
    const se = Math.sqrt(rss / ((width - 1) * yy));
    coefficients[y] = beta;
    stdErrors[y] = se;
    sum += beta;
    sumSe += se;
    count++;
  }
  const meanCoefficient = count > 0 ? sum / count : NaN;
  let dev = 0;
  for (const b of coefficients) if (!Number.isNaN(b)) dev += (b - meanCoefficient) ** 2;
  return {
    coefficients,
    stdErrors,
    meanCoefficient,
    coefficientStd: count > 0 ? Math.sqrt(dev / count) : NaN,
    meanStdError: count > 0 ? sumSe / count : NaN,
    rows: count,
  };
}
