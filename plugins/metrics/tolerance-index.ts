/**
 * The tolerance-level (TL) index of predicted-image error (VirFluoNet, Methods "Quantitative index",
 * Eq. 7; docs/metrics.md "metrics.tolerance-index"): intensity error IE(t) and segmented-area
 * error SE(t) of a prediction O against its ground truth G over tolerances t = 0 … 99 % of the bit
 * depth, their weighted sum S(t), its argmin (the tolerance level) and minimum (the index value).
 *
 * The paper's definition is ambiguous; three named readings (`ToleranceVariant`):
 * - `literal` (Methods, word for word): IE = mean of D = |O − G| over the pixels within tolerance
 *   (D ≤ t) divided by the full scale, SE = fraction of all pixels beyond tolerance (D > t).
 *   S(t) ≥ MAE / fullScale for every t (equality once t ≥ max D), so it has no interior minimum.
 * - `signal-normalised` (Discussion): IE divided by the ground truth's mean signal intensity μ_s
 *   instead of the full scale, SE divided by the signal area fraction f_s (= |D > t| / |Ω_s|),
 *   Ω_s = {G > signalThreshold}.
 * - `signal-tolerance`: IE = the tolerance itself over μ_s, SE as in `signal-normalised`
 *   (S = t/μ_s + |D > t|/|Ω_s|), the one reading with an interior minimum.
 *
 * Plain functions over typed arrays, float64 throughout.
 */
import { FocalError, type PixelArray } from '../../core/index.js';

export const TOLERANCE_VARIANTS = ['literal', 'signal-normalised', 'signal-tolerance'] as const;
export type ToleranceVariant = (typeof TOLERANCE_VARIANTS)[number];

export interface ToleranceIndexOptions {
  /** The bit depth's full scale in intensity units (255 for 8-bit data, 4095 for a 12-bit camera). Tolerances are fractions of it. */
  fullScale: number;
  variant?: ToleranceVariant;
  /** Number of tolerance levels, level i at t = i/levels · fullScale (default 100: 0 … 99 %). */
  levels?: number;
  /** β1, the weight of IE (default 1: "weighting each equally"). */
  weightIntensity?: number;
  /** β2, the weight of SE (default 1). */
  weightArea?: number;
  /** Ground-truth pixels above it are signal (Ω_s); needed by the signal variants, reported by all when given. */
  signalThreshold?: number;
}

export interface ToleranceIndexResult {
  variant: ToleranceVariant;
  fullScale: number;
  /** Level i in % of the bit depth (0 … levels−1 when levels = 100). */
  levelPercent: Float64Array;
  /** Tolerance of each level in intensity units, i/levels · fullScale. */
  tolerance: Float64Array;
  ie: Float64Array;
  se: Float64Array;
  /** β1·IE + β2·SE. */
  sum: Float64Array;
  /** Pixels beyond tolerance (D > t) per level. */
  errorPx: Float64Array;
  /** Index of the first level where `sum` is smallest (the tolerance level TL). */
  argmin: number;
  /** TL in % of the bit depth. */
  levelAtMinPercent: number;
  /** S at TL (the index value; Eq. 7 writes TL = min(…), the minimum itself). */
  indexValue: number;
  /** mean |O − G|, intensity units. */
  mae: number;
  maxError: number;
  pixels: number;
  /** Signal region Ω_s = {G > signalThreshold}: its size, fraction of the image and the ground truth's mean there. */
  signalThreshold?: number;
  signalPx?: number;
  signalFraction?: number;
  signalMean?: number;
}

function check(cond: boolean, field: string, message: string): void {
  if (!cond) throw new FocalError('E_ARGUMENT', `${field}: ${message}`, { field });
}

/** |O − G| per pixel, float64. */
export function absoluteDifference(image: ArrayLike<number>, reference: ArrayLike<number>): Float64Array {
  check(image.length === reference.length, 'reference', `has ${reference.length} pixels but image has ${image.length}`);
  const d = new Float64Array(image.length);
  for (let i = 0; i < d.length; i++) d[i] = Math.abs(image[i] - reference[i]);
  return d;
}

/** Within-tolerance count and sum of D for t: D sorted ascending with prefix sums; binary search for the last D ≤ t. */
function withinTolerance(sorted: Float64Array, prefix: Float64Array, t: number): { count: number; sum: number } {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return { count: lo, sum: prefix[lo] };
}

/**
 * The curves and the index. `image` is the prediction O, `reference` the ground truth G (same
 * length). Ties in the minimum go to the smallest tolerance.
 * @throws FocalError `E_ARGUMENT` naming the option (bad full scale, a signal variant without a
 *   threshold or with no signal above it, NaN pixels).
 */
export function toleranceIndex(image: ArrayLike<number>, reference: ArrayLike<number>, options: ToleranceIndexOptions): ToleranceIndexResult {
  const variant = options.variant ?? 'literal';
  const levels = options.levels ?? 100;
  const b1 = options.weightIntensity ?? 1;
  const b2 = options.weightArea ?? 1;
  const { fullScale } = options;
  check(TOLERANCE_VARIANTS.includes(variant), 'variant', `must be one of ${TOLERANCE_VARIANTS.join(', ')}, got ${String(variant)}`);
  check(Number.isFinite(fullScale) && fullScale > 0, 'fullScale', `must be a positive number, got ${fullScale}`);
  check(Number.isInteger(levels) && levels >= 1 && levels <= 100000, 'levels', `must be an integer 1 … 100000, got ${levels}`);
  check(Number.isFinite(b1) && b1 >= 0 && Number.isFinite(b2) && b2 >= 0, 'weightIntensity', `weights must be finite and ≥ 0, got β1 = ${b1}, β2 = ${b2}`);
  check(image.length > 0, 'image', 'has no pixels');
  const d = absoluteDifference(image, reference);
  for (let i = 0; i < d.length; i++) if (Number.isNaN(d[i])) check(false, Number.isNaN(image[i]) ? 'image' : 'reference', `pixel ${i} is NaN`);
  const n = d.length;
  const sorted = Float64Array.from(d).sort();
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + sorted[i];
  const mae = prefix[n] / n;

  let signalPx: number | undefined;
  let signalMean: number | undefined;
  const thr = options.signalThreshold;
  if (thr !== undefined) {
    check(Number.isFinite(thr), 'signalThreshold', `must be a finite number, got ${thr}`);
    let count = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      if (reference[i] > thr) {
        count++;
        sum += reference[i];
      }
    }
    signalPx = count;
    signalMean = count > 0 ? sum / count : undefined;
  }
  if (variant !== 'literal') {
    check(thr !== undefined, 'signalThreshold', `the ${variant} variant needs the ground truth's signal region; give a threshold`);
    check(signalPx! > 0, 'signalThreshold', `no ground-truth pixel is above ${thr}, so the signal area and mean are undefined`);
    check(signalMean! > 0, 'signalThreshold', `the ground truth's mean signal above ${thr} is ${signalMean}, not positive`);
  }

  const levelPercent = new Float64Array(levels);
  const tolerance = new Float64Array(levels);
  const ie = new Float64Array(levels);
  const se = new Float64Array(levels);
  const sum = new Float64Array(levels);
  const errorPx = new Float64Array(levels);
  let argmin = 0;
  for (let i = 0; i < levels; i++) {
    const t = (i / levels) * fullScale;
    const w = withinTolerance(sorted, prefix, t);
    const beyond = n - w.count;
    const meanWithin = w.count > 0 ? w.sum / w.count : 0;
    levelPercent[i] = (100 * i) / levels;
    tolerance[i] = t;
    errorPx[i] = beyond;
    if (variant === 'literal') {
      ie[i] = meanWithin / fullScale;
      se[i] = beyond / n;
    } else {
      ie[i] = (variant === 'signal-normalised' ? meanWithin : t) / signalMean!;
      se[i] = beyond / signalPx!;
    }
    sum[i] = b1 * ie[i] + b2 * se[i];
    if (sum[i] < sum[argmin]) argmin = i;
  }
  return {
    variant,
    fullScale,
    levelPercent,
    tolerance,
    ie,
    se,
    sum,
    errorPx,
    argmin,
    levelAtMinPercent: levelPercent[argmin],
    indexValue: sum[argmin],
    mae,
    maxError: sorted[n - 1],
    pixels: n,
    ...(thr !== undefined ? { signalThreshold: thr, signalPx, signalFraction: signalPx! / n, signalMean } : {}),
  };
}

/**
 * The error area at one fixed tolerance (the paper's green mask at 50/255): pixels with D > t,
 * their count and fraction, and the literal IE there (mean D of the pixels within, over the full scale).
 */
export function fixedToleranceError(image: ArrayLike<number>, reference: ArrayLike<number>, tolerance: number, fullScale: number): { mask: Uint8Array; errorPx: number; errorFraction: number; ie: number } {
  check(Number.isFinite(tolerance) && tolerance >= 0, 'tolerance', `must be a finite number ≥ 0, got ${tolerance}`);
  check(Number.isFinite(fullScale) && fullScale > 0, 'fullScale', `must be a positive number, got ${fullScale}`);
  const d = absoluteDifference(image, reference);
  const mask = new Uint8Array(d.length);
  let errorPx = 0;
  let within = 0;
  let sumWithin = 0;
  for (let i = 0; i < d.length; i++) {
    if (d[i] > tolerance) {
      mask[i] = 255;
      errorPx++;
    } else {
      within++;
      sumWithin += d[i];
    }
  }
  return { mask, errorPx, errorFraction: errorPx / d.length, ie: within > 0 ? sumWithin / within / fullScale : 0 };
}

/**
 * Otsu's threshold of `values` on a 256-bin histogram between their min and max (maximum
 * between-class variance; a plateau of equal maxima, as between two clusters with empty bins
 * between them, gives its middle split): the value at the upper edge of the last background bin,
 * so pixels `> threshold` are foreground. A constant input gives its value.
 */
export function otsuThreshold(values: ArrayLike<number>): number {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  check(Number.isFinite(min) && Number.isFinite(max), 'reference', 'has no finite pixels');
  if (!(max > min)) return min;
  const bins = 256;
  const h = new Float64Array(bins);
  const scale = bins / (max - min);
  for (let i = 0; i < values.length; i++) h[Math.min(bins - 1, Math.floor((values[i] - min) * scale))]++;
  let total = 0;
  let weighted = 0;
  for (let k = 0; k < bins; k++) {
    total += h[k];
    weighted += k * h[k];
  }
  let first = 0;
  let last = 0;
  let bestV = -1;
  let n1 = 0;
  let s1 = 0;
  for (let k = 0; k < bins - 1; k++) {
    n1 += h[k];
    s1 += k * h[k];
    const denom = n1 * (total - n1);
    const num = (n1 / total) * weighted - s1;
    const v = denom === 0 ? 0 : (num * num) / denom;
    if (v > bestV * (1 + 1e-12)) {
      bestV = v;
      first = k;
      last = k;
    } else if (v >= bestV * (1 - 1e-12)) last = k;
  }
  return min + (Math.floor((first + last) / 2) + 1) / scale;
}

/** The full scale of a pixel type's bit depth (uint8 255, uint16 65535); undefined for float data. */
export function dtypeFullScale(data: PixelArray): number | undefined {
  if (data instanceof Uint8Array) return 255;
  if (data instanceof Uint16Array) return 65535;
  return undefined;
}
