/**
 * Small statistics for evaluation harnesses: the Student-t distribution function (through the
 * regularised incomplete beta function, evaluated by its continued fraction) and paired t-tests.
 */
import { FocalError } from '../errors.js';
import { SeededRandom } from './random.js';

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ~1e-15). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * Student-t cumulative distribution P(T ≤ t) with `df` degrees of freedom (df > 0, not
 * necessarily an integer): 1 − ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0, by symmetry below.
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new FocalError('E_ARGUMENT', `df: must be > 0, got ${df}`, { field: 'df' });
  if (Number.isNaN(t)) return NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Result of {@link pairedTTest}. */
export interface TTestResult {
  /** Pairs used. */
  n: number;
  /** Mean of the differences a − b. */
  meanDifference: number;
  /** Sample standard deviation of the differences (n − 1). */
  sdDifference: number;
  /** t = mean / (sd / √n). */
  t: number;
  /** Degrees of freedom, n − 1. */
  df: number;
  /** p-value of the chosen alternative. */
  p: number;
  alternative: 'two-sided' | 'greater' | 'less';
}

/**
 * Paired t-test of the differences a[i] − b[i]: H0 mean difference 0 against `alternative`
 * ('greater': a > b on average; 'less'; 'two-sided', the default).
 * @throws FocalError `E_ARGUMENT` for arrays of different lengths, fewer than 2 pairs, a
 * non-finite value, or differences with zero spread (t undefined).
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>, alternative: TTestResult['alternative'] = 'two-sided'): TTestResult {
  const n = a.length;
  if (b.length !== n) throw new FocalError('E_ARGUMENT', `b: has ${b.length} values, a has ${n}; a paired test needs equal lengths`, { field: 'b' });
  if (n < 2) throw new FocalError('E_ARGUMENT', `a: a paired t-test needs at least 2 pairs, got ${n}`, { field: 'a' });
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    d[i] = a[i] - b[i];
    if (!Number.isFinite(d[i])) throw new FocalError('E_ARGUMENT', `a, b: pair ${i} is not finite (${a[i]}, ${b[i]})`, { field: 'a' });
  }
  let mean = 0;
  for (const v of d) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of d) ss += (v - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  if (!(sd > 0)) throw new FocalError('E_ARGUMENT', 'a, b: the differences are all equal; t is undefined', { field: 'a' });
  const t = mean / (sd / Math.sqrt(n));
  const df = n - 1;
  const p = alternative === 'greater' ? 1 - studentTCdf(t, df) : alternative === 'less' ? studentTCdf(t, df) : 2 * studentTCdf(-Math.abs(t), df);
  return { n, meanDifference: mean, sdDifference: sd, t, df, p, alternative };
}

/**
 * Mean of the paired differences a[i] − b[i] with a percentile bootstrap confidence interval
 * (pairs resampled with replacement, `reps` times, seeded): whether one method beats another on
 * the same images by more than the spread between images. One pair has no spread to resample:
 * its interval is NaN (unknown), not the zero-width [d, d] a bootstrap of one value would give.
 */
export function pairedDifference(a: readonly number[], b: readonly number[], options: { reps?: number; level?: number; seed?: number } = {}): { mean: number; lo: number; hi: number; n: number } {
  if (a.length !== b.length || a.length === 0) throw new FocalError('E_ARGUMENT', `pairedDifference: need two equally long, non-empty score lists, got ${a.length} and ${b.length}`, { field: 'scores' });
  const d = a.map((v, i) => v - b[i]);
  const n = d.length;
  const mean = d.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, lo: NaN, hi: NaN, n };
  const reps = options.reps ?? 2000;
  const rng = new SeededRandom(options.seed ?? 1);
  const means = new Float64Array(reps);
  for (let r = 0; r < reps; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const q = (p: number) => means[Math.min(reps - 1, Math.max(0, Math.round(p * (reps - 1))))];
  return { mean, lo: q(alpha), hi: q(1 - alpha), n };
}
