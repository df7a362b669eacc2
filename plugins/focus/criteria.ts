import { FocalError } from '../../core/index.js';
import { brenner } from '../../core/imaging.js';

/** Focus criteria `focusScore` and `focus.best-plane` know; higher = sharper for every one. */
export const FOCUS_CRITERIA = ['vollath4', 'vollath5', 'std', 'nvar', 'brenner', 'tenengrad'] as const;
export type FocusCriterion = (typeof FOCUS_CRITERIA)[number];

function check(data: ArrayLike<number>, width: number, height: number, minWidth = 1, minHeight = 1, what = 'this criterion'): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width and height must be positive integers, got ${width}×${height}`, { field: 'width' });
  }
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data has ${data.length} pixels, expected ${width}×${height} = ${width * height}`, { field: 'data' });
  if (width < minWidth || height < minHeight) {
    throw new FocalError('E_ARGUMENT', `${what} needs an image of at least ${minWidth}×${minHeight} px, got ${width}×${height}`, { field: 'data' });
  }
  for (let i = 0; i < data.length; i++) {
    if (Number.isNaN(data[i])) throw new FocalError('E_ARGUMENT', `data has NaN pixels (first at x=${i % width}, y=${Math.floor(i / width)})`, { field: 'data', index: i });
  }
}

function mean(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i];
  return s / data.length;
}

function sumSquaredDeviation(data: ArrayLike<number>, mu: number): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) {
    const d = data[i] - mu;
    s += d * d;
  }
  return s;
}

/**
 * Vollath's F4 autocorrelation (Deep-R Eq. 9):
 * Σ x(m,n)·x(m+1,n) − Σ x(m,n)·x(m+2,n), with m running along image rows (x, horizontal neighbours,
 * as Vollath 1987 and Micro-Manager's OughtaFocus). Units: intensity². Higher = sharper.
 * @throws FocalError `E_ARGUMENT` for a bad size (width ≥ 3 needed) or NaN pixels.
 */
export function vollath4(data: ArrayLike<number>, width: number, height: number): number {
  check(data, width, height, 3, 1, 'vollath4');
  let s = 0;
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < width - 2; x++) s += data[r + x] * (data[r + x + 1] - data[r + x + 2]);
    s += data[r + width - 2] * data[r + width - 1];
  }
  return s;
}

/**
 * Vollath's F5 (Deep-R Eq. 10): Σ x(m,n)·x(m+1,n) − M·N·μ², neighbours along x as {@link vollath4},
 * μ the mean intensity (Eq. 13). Units: intensity². Higher = sharper.
 * @throws FocalError `E_ARGUMENT` for a bad size (width ≥ 2 needed) or NaN pixels.
 */
export function vollath5(data: ArrayLike<number>, width: number, height: number): number {
  check(data, width, height, 2, 1, 'vollath5');
  const mu = mean(data);
  let s = 0;
  for (let y = 0; y < height; y++) {
    const r = y * width;
    for (let x = 0; x < width - 1; x++) s += data[r + x] * data[r + x + 1];
  }
  return s - width * height * mu * mu;
}

/**
 * Standard-deviation criterion (Deep-R Eq. 11): √(1/(M·N) Σ (x − μ)²), the population standard
 * deviation, in intensity units. Higher = sharper.
 * @throws FocalError `E_ARGUMENT` for a bad size or NaN pixels.
 */
export function stdDev(data: ArrayLike<number>, width: number, height: number): number {
  check(data, width, height);
  return Math.sqrt(sumSquaredDeviation(data, mean(data)) / data.length);
}

/**
 * Normalised variance (Deep-R Eq. 12): 1/(M·N·μ) Σ (x − μ)² = variance / mean, in intensity units.
 * 0 for a constant image. Higher = sharper.
 * @throws FocalError `E_ARGUMENT` for a bad size, NaN pixels, or a mean ≤ 0 with non-zero variance
 *   (the criterion assumes non-negative intensities).
 */
export function normalizedVariance(data: ArrayLike<number>, width: number, height: number): number {
  check(data, width, height);
  const mu = mean(data);
  const ss = sumSquaredDeviation(data, mu);
  if (ss === 0) return 0;
  if (!(mu > 0)) throw new FocalError('E_ARGUMENT', `normalised variance needs a positive mean intensity, got ${mu}`, { field: 'data' });
  return ss / (data.length * mu);
}

/** Brenner gradient (TSVA's Y1 choice): core's imaging library, shared with plugins/tsva. */
export { brenner };

/**
 * Tenengrad: Σ (Gx² + Gy²) with the 3×3 Sobel operator over the interior pixels (the one-pixel
 * border, where the operator would need pixels outside the image, is left out), no threshold.
 * Units: intensity². Higher = sharper.
 * @throws FocalError `E_ARGUMENT` for a bad size (3×3 px at least) or NaN pixels.
 */
export function tenengrad(data: ArrayLike<number>, width: number, height: number): number {
  check(data, width, height, 3, 3, 'tenengrad');
  let s = 0;
  for (let y = 1; y < height - 1; y++) {
    const u = (y - 1) * width;
    const c = y * width;
    const d = (y + 1) * width;
    for (let x = 1; x < width - 1; x++) {
      const gx = data[u + x + 1] - data[u + x - 1] + 2 * (data[c + x + 1] - data[c + x - 1]) + data[d + x + 1] - data[d + x - 1];
      const gy = data[d + x - 1] - data[u + x - 1] + 2 * (data[d + x] - data[u + x]) + data[d + x + 1] - data[u + x + 1];
      s += gx * gx + gy * gy;
    }
  }
  return s;
}

const FUNCTIONS: Record<FocusCriterion, (data: ArrayLike<number>, width: number, height: number) => number> = {
  vollath4,
  vollath5,
  std: stdDev,
  nvar: normalizedVariance,
  brenner,
  tenengrad,
};

/**
 * Focus score of one plane with the named criterion (higher = sharper).
 * @throws FocalError `E_ARGUMENT` (field `criterion`) for an unknown criterion, or as the criterion does.
 */
export function focusScore(data: ArrayLike<number>, width: number, height: number, criterion: FocusCriterion): number {
  const f = Object.hasOwn(FUNCTIONS, criterion) ? FUNCTIONS[criterion] : undefined;
  if (f === undefined) throw new FocalError('E_ARGUMENT', `criterion must be one of ${FOCUS_CRITERIA.join(', ')}, got ${String(criterion)}`, { field: 'criterion' });
  return f(data, width, height);
}
