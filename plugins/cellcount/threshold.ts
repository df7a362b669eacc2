/**
 * ImageJ-compatible automatic thresholds (Image › Adjust › Threshold / `setAutoThreshold`).
 *
 * Every method takes a histogram (any number of bins, usually 256) and returns a bin index t:
 * the histogram is split into bins 0…t ("below") and t+1…n−1 ("above"). With a dark
 * background the objects are the bins above t, otherwise the bins 0…t — the same convention
 * as ImageJ's `setAutoThreshold(method)` / `setAutoThreshold(method + " dark")`.
 *
 * Written from the methods' papers and from the behaviour of ImageJ 1.53t (checked against
 * ImageJ's own output on the images in fixtures/threshold/; see docs/cellcount-threshold.md).
 * Methods that fail (Intermodes and Minimum when the smoothed histogram never becomes bimodal,
 * IsoData when no fixed point exists) return −1, as ImageJ does.
 */
import { FocalError, dtypeOf, type DType, type PixelArray } from '../../core/index.js';
import { valueRange } from '../../core/imaging.js';

export type ThresholdMethod =
  | 'Default'
  | 'Huang'
  | 'Intermodes'
  | 'IsoData'
  | 'Li'
  | 'MaxEntropy'
  | 'Mean'
  | 'MinError'
  | 'Minimum'
  | 'Moments'
  | 'Otsu'
  | 'Percentile'
  | 'RenyiEntropy'
  | 'Shanbhag'
  | 'Triangle'
  | 'Yen';

export const THRESHOLD_METHODS: readonly ThresholdMethod[] = [
  'Default', 'Huang', 'Intermodes', 'IsoData', 'Li', 'MaxEntropy', 'Mean', 'MinError',
  'Minimum', 'Moments', 'Otsu', 'Percentile', 'RenyiEntropy', 'Shanbhag', 'Triangle', 'Yen',
];

/** Maximum number of 3-point smoothing passes for Intermodes and Minimum before giving up. */
export const MAX_SMOOTHING_ITERATIONS = 10000;

function firstNonZero(h: ArrayLike<number>): number {
  for (let i = 0; i < h.length; i++) if (h[i] !== 0) return i;
  return -1;
}

function lastNonZero(h: ArrayLike<number>): number {
  for (let i = h.length - 1; i >= 0; i--) if (h[i] !== 0) return i;
  return -1;
}

function total(h: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < h.length; i++) s += h[i];
  return s;
}

/**
 * ImageJ's legacy "Default" (a variant of Ridler & Calvard's IsoData): the first and last bins
 * are ignored (saturated/erased pixels), then the split point moves up from the lowest occupied
 * bin until it passes the mean of the two class means; the result is that mean, rounded.
 */
function ijIsoData(hist: ArrayLike<number>): number {
  const n = hist.length;
  const h = Float64Array.from(hist);
  // the mode is damped when it towers over the rest (ImageJ's Default in the Threshold tool)
  let mode = 0;
  let maxCount = 0;
  for (let i = 0; i < n; i++) {
    if (h[i] > maxCount) {
      maxCount = h[i];
      mode = i;
    }
  }
  let second = 0;
  for (let i = 0; i < n; i++) if (i !== mode && h[i] > second) second = h[i];
  if (maxCount > second * 2 && second !== 0) h[mode] = Math.trunc(second * 1.5);
  const top = n - 1;
  h[0] = 0;
  h[top] = 0;
  let lo = 0;
  while (h[lo] === 0 && lo < top) lo++;
  let hi = top;
  while (h[hi] === 0 && hi > 0) hi--;
  if (lo >= hi) return Math.floor(n / 2);
  let split = lo;
  let result: number;
  for (;;) {
    let s1 = 0;
    let c1 = 0;
    let s2 = 0;
    let c2 = 0;
    for (let i = lo; i <= split; i++) {
      s1 += i * h[i];
      c1 += h[i];
    }
    for (let i = split + 1; i <= hi; i++) {
      s2 += i * h[i];
      c2 += h[i];
    }
    result = (s1 / c1 + s2 / c2) / 2;
    split++;
    if (!(split + 1 <= result && split < hi - 1)) break;
  }
  return Math.round(result);
}

/**
 * Huang & Wang (1995): minimum fuzzy entropy (Shannon function) of each grey level's membership
 * to the mean of its class, the membership being 1 / (1 + |g − μ| / (last − first)).
 * Memberships within 1e−6 of 0 or 1 add nothing; when every candidate is undefined (a single
 * occupied bin) the method fails (−1), as ImageJ's does.
 */
function huang(h: ArrayLike<number>): number {
  const n = h.length;
  const first = firstNonZero(h);
  const last = lastNonZero(h);
  if (first === last) return -1; // every membership is undefined (0/0), so ImageJ finds no minimum
  const c = 1 / (last - first);
  // class means for a split after bin t: below (bins ≤ t) and above (bins > t)
  const below = new Float64Array(n);
  const above = new Float64Array(n);
  let s = 0;
  let k = 0;
  for (let i = first; i < n; i++) {
    s += i * h[i];
    k += h[i];
    below[i] = s / k;
  }
  s = 0;
  k = 0;
  for (let i = last; i > 0; i--) {
    s += i * h[i];
    k += h[i];
    above[i - 1] = s / k;
  }
  const fuzzy = (g: number, mu: number): number => {
    const m = 1 / (1 + c * Math.abs(g - mu));
    return m < 1e-6 || m > 0.999999 ? 0 : -m * Math.log(m) - (1 - m) * Math.log(1 - m);
  };
  let best = -1;
  let bestEnt = Number.MAX_VALUE;
  for (let t = 0; t < n; t++) {
    let ent = 0;
    for (let g = first; g <= t; g++) if (h[g] !== 0) ent += h[g] * fuzzy(g, below[t]);
    for (let g = Math.max(t + 1, first); g <= last; g++) if (h[g] !== 0) ent += h[g] * fuzzy(g, above[t]);
    if (ent < bestEnt) {
      bestEnt = ent;
      best = t;
    }
  }
  return best;
}

/** One pass of the 3-point running mean of y over bins lo…hi into out (zeros outside; other bins copied). */
function smooth3(y: Float64Array, out: Float64Array, lo: number, hi: number): Float64Array {
  out.set(y);
  for (let i = lo; i <= hi; i++) {
    const a = i > lo ? y[i - 1] : 0;
    const c = i < hi ? y[i + 1] : 0;
    out[i] = (a + y[i] + c) / 3;
  }
  return out;
}

function isBimodal(y: Float64Array): boolean {
  let modes = 0;
  for (let k = 1; k < y.length - 1; k++) {
    if (y[k - 1] < y[k] && y[k + 1] < y[k]) {
      modes++;
      if (modes > 2) return false;
    }
  }
  return modes === 2;
}

/** Smooths bins lo…hi until exactly two local maxima remain; undefined when that never happens. */
function smoothUntilBimodal(h: ArrayLike<number>, lo: number, hi: number): Float64Array | undefined {
  let y: Float64Array = Float64Array.from(h);
  let spare: Float64Array = new Float64Array(y.length);
  let iter = 0;
  while (!isBimodal(y)) {
    const next = smooth3(y, spare, lo, hi);
    spare = y;
    y = next;
    iter++;
    if (iter > MAX_SMOOTHING_ITERATIONS) return undefined;
  }
  return y;
}

/**
 * Prewitt & Mendelsohn (1966): midpoint ⌊(j + k)/2⌋ of the two peaks j, k of the histogram,
 * smoothed (3-point running mean) until it is bimodal. ImageJ 1.53t smooths only the occupied
 * range (first to last non-empty bin) here, but the whole histogram in Minimum.
 */
function intermodes(h: ArrayLike<number>): number {
  const y = smoothUntilBimodal(h, firstNonZero(h), lastNonZero(h));
  if (!y) return -1;
  let sum = 0;
  for (let i = 1; i < y.length - 1; i++) if (y[i - 1] < y[i] && y[i + 1] < y[i]) sum += i;
  return Math.floor(sum / 2);
}

/** Prewitt & Mendelsohn (1966): the first valley of the histogram smoothed until bimodal (before the last occupied bin). */
function minimum(h: ArrayLike<number>): number {
  const last = lastNonZero(h);
  const y = smoothUntilBimodal(h, 0, h.length - 1);
  if (!y) return -1;
  for (let i = 1; i < last; i++) if (y[i - 1] > y[i] && y[i + 1] >= y[i]) return i;
  return -1;
}

/**
 * Ridler & Calvard (1978) as in ImageJ's IsoData: starting just above the lowest occupied bin
 * (bin 0 excluded), the first g with g = round((m₀ + m₁) / 2), where m₀ and m₁ are the means
 * of bins ≤ g and > g, each truncated to an integer (ImageJ's integer arithmetic); −1 when
 * there is none.
 */
function isoData(h: ArrayLike<number>): number {
  const n = h.length;
  let g = 0;
  for (let i = 1; i < n; i++) {
    if (h[i] > 0) {
      g = i + 1;
      break;
    }
  }
  for (;;) {
    let lo = 0;
    let cLo = 0;
    for (let i = 0; i <= g && i < n; i++) {
      cLo += h[i];
      lo += h[i] * i;
    }
    let hi = 0;
    let cHi = 0;
    for (let i = g + 1; i < n; i++) {
      cHi += h[i];
      hi += h[i] * i;
    }
    if (cLo > 0 && cHi > 0 && g === Math.round((Math.floor(lo / cLo) + Math.floor(hi / cHi)) / 2)) return g;
    g++;
    if (g > n - 2) return -1;
  }
}

/** Li & Tam (1998): iterative minimum cross entropy. */
function li(h: ArrayLike<number>): number {
  const n = h.length;
  const N = total(h);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += i * h[i];
  mean /= N;
  let next = mean;
  let prev: number;
  let t: number;
  do {
    prev = next;
    t = Math.trunc(prev + 0.5);
    let sb = 0;
    let nb = 0;
    for (let i = 0; i <= t; i++) {
      sb += i * h[i];
      nb += h[i];
    }
    let so = 0;
    let no = 0;
    for (let i = t + 1; i < n; i++) {
      so += i * h[i];
      no += h[i];
    }
    const mb = nb === 0 ? 0 : sb / nb;
    const mo = no === 0 ? 0 : so / no;
    const tmp = (mb - mo) / (Math.log(mb) - Math.log(mo));
    next = tmp < -2.220446049250313e-16 ? Math.trunc(tmp - 0.5) : Math.trunc(tmp + 0.5);
  } while (Math.abs(next - prev) > 0.5);
  return t;
}

interface Cumulative {
  norm: Float64Array;
  P1: Float64Array;
  P2: Float64Array;
  first: number;
  last: number;
}

function cumulative(h: ArrayLike<number>): Cumulative {
  const n = h.length;
  const N = total(h);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) norm[i] = h[i] / N;
  const P1 = new Float64Array(n);
  const P2 = new Float64Array(n);
  P1[0] = norm[0];
  P2[0] = 1 - P1[0];
  for (let i = 1; i < n; i++) {
    P1[i] = P1[i - 1] + norm[i];
    P2[i] = 1 - P1[i];
  }
  let first = 0;
  for (let i = 0; i < n; i++) {
    if (Math.abs(P1[i]) >= 2.220446049250313e-16) {
      first = i;
      break;
    }
  }
  let last = n - 1;
  for (let i = n - 1; i >= first; i--) {
    if (Math.abs(P2[i]) >= 2.220446049250313e-16) {
      last = i;
      break;
    }
  }
  return { norm, P1, P2, first, last };
}

/** Kapur, Sahoo & Wong (1985): maximum sum of the two classes' Shannon entropies. */
function maxEntropyOf(c: Cumulative, none = -1): number {
  const { norm, P1, P2, first, last } = c;
  const n = norm.length;
  let best = none;
  let bestEnt = Number.MIN_VALUE;
  for (let t = first; t <= last; t++) {
    let eb = 0;
    for (let i = 0; i <= t; i++) {
      if (norm[i] !== 0) {
        const p = norm[i] / P1[t];
        eb -= p * Math.log(p);
      }
    }
    let eo = 0;
    for (let i = t + 1; i < n; i++) {
      if (norm[i] !== 0) {
        const p = norm[i] / P2[t];
        eo -= p * Math.log(p);
      }
    }
    if (bestEnt < eb + eo) {
      bestEnt = eb + eo;
      best = t;
    }
  }
  return best;
}

/** Rényi entropy of order α ≠ 1 (Kapur, Sahoo & Wong 1985), maximised. */
function renyiOf(c: Cumulative, alpha: number): number {
  const { norm, P1, P2, first, last } = c;
  const n = norm.length;
  const term = 1 / (1 - alpha);
  let best = 0;
  let bestEnt = 0;
  for (let t = first; t <= last; t++) {
    let eb = 0;
    for (let i = 0; i <= t; i++) eb += Math.pow(norm[i] / P1[t], alpha);
    let eo = 0;
    for (let i = t + 1; i < n; i++) eo += Math.pow(norm[i] / P2[t], alpha);
    const e = eb * eo > 0 ? term * Math.log(eb * eo) : 0;
    if (e > bestEnt) {
      bestEnt = e;
      best = t;
    }
  }
  return best;
}

/** Sahoo, Wilkins & Yeager (1997): weighted combination of the Rényi thresholds for α = 0.5, 1, 2. */
function renyiEntropy(h: ArrayLike<number>): number {
  const c = cumulative(h);
  const ts = [maxEntropyOf(c, 0), renyiOf(c, 0.5), renyiOf(c, 2)].sort((a, b) => a - b);
  const [t1, t2, t3] = ts;
  let b1: number;
  let b2: number;
  let b3: number;
  if (Math.abs(t1 - t2) <= 5) {
    if (Math.abs(t2 - t3) <= 5) [b1, b2, b3] = [1, 2, 1];
    else [b1, b2, b3] = [0, 1, 3];
  } else if (Math.abs(t2 - t3) <= 5) [b1, b2, b3] = [3, 1, 0];
  else [b1, b2, b3] = [1, 2, 1];
  const omega = c.P1[t3] - c.P1[t1];
  return Math.trunc(t1 * (c.P1[t1] + 0.25 * omega * b1) + 0.25 * t2 * omega * b2 + t3 * (c.P2[t3] + 0.25 * omega * b3));
}

/** Mean grey level, truncated to a bin (Glasbey 1993). */
function mean(h: ArrayLike<number>): number {
  let s = 0;
  let N = 0;
  for (let i = 0; i < h.length; i++) {
    s += i * h[i];
    N += h[i];
  }
  return Math.floor(s / N);
}

/** Kittler & Illingworth (1986) minimum error thresholding, iterated from the mean. */
function minError(h: ArrayLike<number>): number {
  const n = h.length;
  const A = new Float64Array(n);
  const B = new Float64Array(n);
  const C = new Float64Array(n);
  let a = 0;
  let b = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    a += h[i];
    b += i * h[i];
    c += i * i * h[i];
    A[i] = a;
    B[i] = b;
    C[i] = c;
  }
  const end = n - 1;
  let t = mean(h);
  let prev = -2;
  while (t !== prev) {
    const mu = B[t] / A[t];
    const nu = (B[end] - B[t]) / (A[end] - A[t]);
    const p = A[t] / A[end];
    const q = (A[end] - A[t]) / A[end];
    const s2 = C[t] / A[t] - mu * mu;
    const t2 = (C[end] - C[t]) / (A[end] - A[t]) - nu * nu;
    const w0 = 1 / s2 - 1 / t2;
    const w1 = mu / s2 - nu / t2;
    const w2 = (mu * mu) / s2 - (nu * nu) / t2 + Math.log10((s2 * (q * q)) / (t2 * (p * p)));
    const sq = w1 * w1 - w0 * w2;
    if (sq < 0) break; // does not converge: ImageJ keeps the current estimate
    prev = t;
    const next = (w1 + Math.sqrt(sq)) / w0;
    t = Number.isNaN(next) ? prev : Math.floor(next);
  }
  return t;
}

/** Tsai (1985): the threshold that preserves the first three moments. */
function moments(h: ArrayLike<number>): number {
  const n = h.length;
  const N = total(h);
  let m1 = 0;
  let m2 = 0;
  let m3 = 0;
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = h[i] / N;
  for (let i = 0; i < n; i++) {
    m1 += i * p[i];
    m2 += i * i * p[i];
    m3 += i * i * i * p[i];
  }
  const m0 = 1;
  const cd = m0 * m2 - m1 * m1;
  const c0 = (-m2 * m2 + m1 * m3) / cd;
  const c1 = (m0 * -m3 + m2 * m1) / cd;
  const z0 = 0.5 * (-c1 - Math.sqrt(c1 * c1 - 4 * c0));
  const z1 = 0.5 * (-c1 + Math.sqrt(c1 * c1 - 4 * c0));
  const p0 = (z1 - m1) / (z1 - z0);
  let s = 0;
  for (let i = 0; i < n; i++) {
    s += p[i];
    if (s > p0) return i;
  }
  return -1;
}

/** Otsu (1979): maximum between-class variance over splits 0…n−2; ties go to the highest split, as in ImageJ 1.53. */
function otsu(h: ArrayLike<number>): number {
  const n = h.length;
  let N = 0;
  let S = 0;
  for (let i = 0; i < n; i++) {
    N += h[i];
    S += i * h[i];
  }
  let best = 0;
  let bestV = 0;
  let n1 = 0;
  let sk = 0;
  for (let k = 0; k < n - 1; k++) {
    n1 += h[k];
    sk += k * h[k];
    const denom = n1 * (N - n1);
    let v = 0;
    if (denom !== 0) {
      const num = (n1 / N) * S - sk;
      v = (num * num) / denom;
    }
    if (v >= bestV) {
      bestV = v;
      best = k;
    }
  }
  return best;
}

/** Doyle (1962): the bin where the cumulative fraction is closest to 50 %. */
function percentile(h: ArrayLike<number>): number {
  const N = total(h);
  let best = -1;
  let bestD = 1;
  let cum = 0;
  for (let i = 0; i < h.length; i++) {
    cum += h[i];
    const d = Math.abs(cum / N - 0.5);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Shanbhag (1994): fuzzy-membership entropy balance. */
function shanbhag(h: ArrayLike<number>): number {
  const { norm, P1, P2, first, last } = cumulative(h);
  const n = norm.length;
  let best = -1;
  let bestEnt = Number.MAX_VALUE;
  for (let t = first; t <= last; t++) {
    let eb = 0;
    let term = 0.5 / P1[t];
    for (let i = 1; i <= t; i++) eb -= norm[i] * Math.log(1 - term * P1[i - 1]);
    eb *= term;
    let eo = 0;
    term = 0.5 / P2[t];
    for (let i = t + 1; i < n; i++) eo -= norm[i] * Math.log(1 - term * P2[i]);
    eo *= term;
    const e = Math.abs(eb - eo);
    if (e < bestEnt) {
      bestEnt = e;
      best = t;
    }
  }
  return best;
}

/** Zack, Rogers & Latt (1977): the point farthest from the line joining the peak to the far end of the longer tail. */
function triangle(hist: ArrayLike<number>): number {
  const n = hist.length;
  let h = Float64Array.from(hist);
  let lo = firstNonZero(h);
  if (lo < 0) return 0;
  if (lo > 0) lo--;
  let hi = lastNonZero(h);
  if (hi < n - 1) hi++;
  let peak = 0;
  let peakCount = 0;
  for (let i = 0; i < n; i++) {
    if (h[i] > peakCount) {
      peakCount = h[i];
      peak = i;
    }
  }
  let flipped = false;
  if (peak - lo < hi - peak) {
    flipped = true;
    h = h.reverse();
    lo = n - 1 - hi;
    peak = n - 1 - peak;
  }
  if (lo === peak) return flipped ? n - 1 - lo : lo;
  let nx = h[peak];
  let ny = lo - peak;
  const len = Math.sqrt(nx * nx + ny * ny);
  nx /= len;
  ny /= len;
  const d = nx * lo + ny * h[lo];
  let split = lo;
  let splitD = 0;
  for (let i = lo + 1; i <= peak; i++) {
    const dist = nx * i + ny * h[i] - d;
    if (dist > splitD) {
      split = i;
      splitD = dist;
    }
  }
  split--;
  return flipped ? n - 1 - split : split;
}

/** Yen, Chang & Chang (1995): maximum correlation criterion. */
function yen(h: ArrayLike<number>): number {
  const n = h.length;
  const { norm, P1 } = cumulative(h);
  const P1sq = new Float64Array(n);
  const P2sq = new Float64Array(n);
  P1sq[0] = norm[0] * norm[0];
  for (let i = 1; i < n; i++) P1sq[i] = P1sq[i - 1] + norm[i] * norm[i];
  P2sq[n - 1] = 0;
  for (let i = n - 2; i >= 0; i--) P2sq[i] = P2sq[i + 1] + norm[i + 1] * norm[i + 1];
  let best = -1;
  let bestC = Number.MIN_VALUE;
  for (let t = 0; t < n; t++) {
    const a = P1sq[t] * P2sq[t];
    const b = P1[t] * (1 - P1[t]);
    const crit = -1 * (a > 0 ? Math.log(a) : 0) + 2 * (b > 0 ? Math.log(b) : 0);
    if (crit > bestC) {
      bestC = crit;
      best = t;
    }
  }
  return best;
}

/**
 * The bin index ImageJ's Auto Threshold returns for `method` on `histogram`: bins 0…t are
 * one class and t+1…n−1 the other. Returns −1 when the method fails (Intermodes/Minimum: the
 * histogram is not bimodal after {@link MAX_SMOOTHING_ITERATIONS} smoothings; IsoData: no
 * fixed point), like ImageJ. An empty histogram (all zero counts) gives 0.
 * @throws FocalError `E_ARGUMENT` for an unknown method, a histogram shorter than 2 bins or
 *   with negative / non-finite counts.
 */
export function autoThreshold(histogram: ArrayLike<number>, method: ThresholdMethod): number {
  if (!THRESHOLD_METHODS.includes(method)) {
    throw new FocalError('E_ARGUMENT', `method: unknown threshold method '${String(method)}'; use one of ${THRESHOLD_METHODS.join(', ')}`);
  }
  if (histogram.length < 2) throw new FocalError('E_ARGUMENT', `histogram: needs at least 2 bins, got ${histogram.length}`);
  for (let i = 0; i < histogram.length; i++) {
    if (!(histogram[i] >= 0) || !Number.isFinite(histogram[i])) {
      throw new FocalError('E_ARGUMENT', `histogram: bin ${i} holds ${histogram[i]}; counts must be finite and ≥ 0`);
    }
  }
  if (firstNonZero(histogram) < 0) return 0;
  switch (method) {
    case 'Default':
      return ijIsoData(histogram);
    case 'Huang':
      return huang(histogram);
    case 'Intermodes':
      return intermodes(histogram);
    case 'IsoData':
      return isoData(histogram);
    case 'Li':
      return li(histogram);
    case 'MaxEntropy':
      return maxEntropyOf(cumulative(histogram));
    case 'Mean':
      return mean(histogram);
    case 'MinError':
      return minError(histogram);
    case 'Minimum':
      return minimum(histogram);
    case 'Moments':
      return moments(histogram);
    case 'Otsu':
      return otsu(histogram);
    case 'Percentile':
      return percentile(histogram);
    case 'RenyiEntropy':
      return renyiEntropy(histogram);
    case 'Shanbhag':
      return shanbhag(histogram);
    case 'Triangle':
      return triangle(histogram);
    case 'Yen':
      return yen(histogram);
  }
}


/** ImageJ's stand-in for an unbounded 32-bit threshold limit (what `getThreshold` reports). */
export const FLOAT_LIMIT = 1e30;

/** Threshold limits in pixel units: pixels with lower ≤ value ≤ upper are foreground. */
export interface ThresholdLimits {
  lower: number;
  upper: number;
  /** The method's threshold in pixel units (the histogram bin mapped back to a pixel value); NaN for manual limits. */
  threshold: number;
}

export interface ThresholdLimitsOptions {
  /** True: objects are brighter than the background (ImageJ's "dark" flag). */
  darkBackground: boolean;
}

/** Smallest and largest non-NaN value of `data` ([NaN, NaN] when there is none). */
export function finiteRange(data: ArrayLike<number>): [number, number] {
  const { min, max } = valueRange(data);
  return min <= max ? [min, max] : [NaN, NaN];
}

/**
 * The 256-bin histogram ImageJ's auto-threshold works on: for uint8 the counts of 0…255; for
 * uint16 and float32 the data converted to 8 bits over its [min, max] the way ImageJ converts
 * ("scale when converting"): uint16 bin = round((v − min)·256 / (max − min + 1)), at most 255;
 * float32 bin = round((v − min)·255 / (max − min)), and NaN pixels land in bin 0 (as in ImageJ,
 * whose conversion turns NaN into 0). `min`/`max` are over the finite pixels.
 */
export function thresholdHistogram(data: PixelArray, dtype: DType): { histogram: Float64Array; min: number; max: number } {
  const hist = new Float64Array(256);
  if (dtype === 'uint8') {
    addToThresholdHistogram(hist, data, dtype, 0, 255);
    return { histogram: hist, min: 0, max: 255 };
  }
  const [min, max] = finiteRange(data);
  if (!(max > min)) {
    hist[0] = data.length;
    return { histogram: hist, min, max };
  }
  addToThresholdHistogram(hist, data, dtype, min, max);
  return { histogram: hist, min, max };
}

/**
 * Adds `data` (a plane or a piece of one) to `hist`, binned as {@link thresholdHistogram} bins a
 * plane whose finite range is [min, max] (min < max for uint16/float32): the histogram of a plane
 * read tile by tile, once its range is known from a first pass.
 */
export function addToThresholdHistogram(hist: Float64Array, data: ArrayLike<number>, dtype: DType, min: number, max: number): void {
  if (dtype === 'uint8') {
    for (let i = 0; i < data.length; i++) hist[data[i]]++;
  } else if (dtype === 'uint16') {
    const scale = 256 / (max - min + 1);
    for (let i = 0; i < data.length; i++) hist[Math.min(255, Math.floor((data[i] - min) * scale + 0.5))]++;
  } else {
    const scale = 255 / (max - min);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      hist[v === v ? Math.min(255, Math.round((v - min) * scale)) : 0]++;
    }
  }
}

/**
 * ImageJ's `setAutoThreshold(method[ + " dark"])` followed by `getThreshold(lower, upper)`.
 *
 * - uint8: the threshold t of the 0…255 histogram gives [t+1, 255] with a dark background and
 *   [0, t] otherwise.
 * - uint16: a 256-bin histogram over the data's [min, max] is thresholded and the bin mapped back
 *   as round(min + t·(max − min)/255); dark → [value(t+1), 65535], else [0, value(t)].
 * - float32: as uint16 but unrounded, and the open end is ∓1e30 ({@link FLOAT_LIMIT}, ImageJ's
 *   values); NaN pixels count in bin 0 of the histogram (as in ImageJ) and are never foreground.
 * A failed method (−1) counts as bin 0, as in ImageJ. A constant 16/32-bit image gives
 * lower = upper = its value (ImageJ's behaviour); a constant 8-bit image is thresholded like any
 * other histogram (as ImageJ does: e.g. Otsu gives [0, 254]).
 * @throws FocalError `E_ARGUMENT` for an unknown method, an empty or all-NaN image, or a
 *   `dtype` that is not the data's.
 */
export function thresholdLimits(data: PixelArray, dtype: DType, method: ThresholdMethod, options: ThresholdLimitsOptions): ThresholdLimits {
  if (!THRESHOLD_METHODS.includes(method)) {
    throw new FocalError('E_ARGUMENT', `method: unknown threshold method '${String(method)}'; use one of ${THRESHOLD_METHODS.join(', ')}`);
  }
  if (data.length === 0) throw new FocalError('E_ARGUMENT', 'data: the image is empty');
  if (dtypeOf(data) !== dtype) throw new FocalError('E_ARGUMENT', `dtype: '${dtype}' does not match the data (${dtypeOf(data)})`);
  const { histogram, min, max } = thresholdHistogram(data, dtype);
  return thresholdLimitsFromHistogram(histogram, min, max, dtype, method, options);
}

/**
 * {@link thresholdLimits} from the plane's {@link thresholdHistogram} and finite [min, max]
 * (made tile by tile with {@link addToThresholdHistogram} for a plane too large to hold).
 */
export function thresholdLimitsFromHistogram(histogram: Float64Array, min: number, max: number, dtype: DType, method: ThresholdMethod, options: ThresholdLimitsOptions): ThresholdLimits {
  const dark = options.darkBackground;
  if (dtype !== 'uint8') {
    if (Number.isNaN(min)) throw new FocalError('E_ARGUMENT', 'data: every pixel is NaN, there is nothing to threshold');
    if (min === max) return { lower: min, upper: max, threshold: min };
  }
  const t = Math.max(0, autoThreshold(histogram, method));
  if (dtype === 'uint8') {
    return dark ? { lower: Math.min(t + 1, 255), upper: 255, threshold: t } : { lower: 0, upper: t, threshold: t };
  }
  const step = (max - min) / 255;
  const value = (bin: number) => (dtype === 'uint16' ? Math.round(min + bin * step) : min + bin * step);
  const top = dtype === 'uint16' ? 65535 : FLOAT_LIMIT;
  const bottom = dtype === 'uint16' ? 0 : -FLOAT_LIMIT;
  return dark ? { lower: value(Math.min(t + 1, 255)), upper: top, threshold: value(t) } : { lower: bottom, upper: value(t), threshold: value(t) };
}

/**
 * Binary mask of `lower ≤ value ≤ upper`: 255 = foreground, 0 = background (NaN is background).
 * @throws FocalError `E_ARGUMENT` when lower > upper or a limit is NaN.
 */
export function applyThreshold(data: ArrayLike<number>, lower: number, upper: number): Uint8Array {
  if (Number.isNaN(lower) || Number.isNaN(upper)) throw new FocalError('E_ARGUMENT', 'lower/upper: threshold limits must be numbers, got NaN');
  if (lower > upper) throw new FocalError('E_ARGUMENT', `lower: the lower limit ${lower} is above the upper limit ${upper}`);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v >= lower && v <= upper) out[i] = 255;
  }
  return out;
}
