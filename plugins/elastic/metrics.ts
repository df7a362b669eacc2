/**
 * Similarity metrics between a warped moving image m and the fixed image f over the
 * pixels where `valid` is 1, as costs to minimise, with their derivative with respect
 * to each warped moving value (∂E/∂mᵢ; the registration chains it with ∇M).
 *
 * - ssd: mean of (mᵢ − fᵢ)² (intensities already normalised by the caller).
 * - ncc: 1 − normalised cross-correlation (global, as elastix's AdvancedNormalizedCorrelation).
 * - mi:  −mutual information (nats), Mattes et al. 2003: joint histogram with a
 *        zero-order (box) Parzen window on the fixed image and a cubic B-spline Parzen
 *        window on the moving image, so the cost is differentiable in mᵢ.
 */
export type MetricName = 'ssd' | 'ncc' | 'mi';

export interface MetricResult {
  value: number;
  /** ∂E/∂mᵢ per pixel (0 where not valid); only filled when requested. */
  dEdm: Float64Array | null;
}

export interface MiSetup {
  bins: number;
  /** Fixed bin per pixel (precomputed, −1 where invalid). */
  fixedBin: Int32Array;
  movingMin: number;
  movingBinWidth: number;
}

/** Fixed-image bins for Mattes MI: `bins` bins over the fixed range. */
export function miSetup(fixed: Float32Array, moving: Float32Array, bins: number): MiSetup {
  let fmin = Infinity, fmax = -Infinity, mmin = Infinity, mmax = -Infinity;
  for (let i = 0; i < fixed.length; i++) {
    const v = fixed[i];
    if (v < fmin) fmin = v;
    if (v > fmax) fmax = v;
  }
  for (let i = 0; i < moving.length; i++) {
    const v = moving[i];
    if (v < mmin) mmin = v;
    if (v > mmax) mmax = v;
  }
  const fw = (fmax - fmin) / bins || 1;
  const fixedBin = new Int32Array(fixed.length);
  for (let i = 0; i < fixed.length; i++) fixedBin[i] = Math.min(bins - 1, Math.floor((fixed[i] - fmin) / fw));
  // moving bins: `bins` bins over the range, padded by 2 on each side for the cubic window
  const mw = (mmax - mmin) / (bins - 1) || 1;
  return { bins, fixedBin, movingMin: mmin, movingBinWidth: mw };
}

function cubicB(t: number): number {
  const a = Math.abs(t);
  if (a < 1) return (4 - 6 * a * a + 3 * a * a * a) / 6;
  if (a < 2) {
    const b = 2 - a;
    return (b * b * b) / 6;
  }
  return 0;
}

function cubicBDeriv(t: number): number {
  const a = Math.abs(t);
  const s = t < 0 ? -1 : 1;
  if (a < 1) return s * (-2 * a + 1.5 * a * a);
  if (a < 2) {
    const b = 2 - a;
    return s * (-0.5 * b * b);
  }
  return 0;
}

/**
 * Cost and (when `wantGradient`) ∂E/∂mᵢ; `out` (length n) is used for the derivative when
 * given, else a new array.
 */
export function evaluateMetric(metric: MetricName, m: Float64Array, f: Float32Array, valid: Uint8Array, wantGradient: boolean, mi?: MiSetup, out?: Float64Array): MetricResult {
  const n = m.length;
  let count = 0;
  for (let i = 0; i < n; i++) count += valid[i];
  const grad = (): Float64Array => {
    if (!out) return new Float64Array(n);
    out.fill(0);
    return out;
  };
  if (count === 0) return { value: Infinity, dEdm: wantGradient ? grad() : null };
  if (metric === 'ssd') {
    let s = 0;
    const d = wantGradient ? grad() : null;
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      const r = m[i] - f[i];
      s += r * r;
      if (d) d[i] = (2 * r) / count;
    }
    return { value: s / count, dEdm: d };
  }
  if (metric === 'ncc') {
    let sm = 0, sf = 0;
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      sm += m[i];
      sf += f[i];
    }
    const mm = sm / count, mf = sf / count;
    let smm = 0, sff = 0, smf = 0;
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      const a = m[i] - mm, b = f[i] - mf;
      smm += a * a;
      sff += b * b;
      smf += a * b;
    }
    const denom = Math.sqrt(smm * sff);
    if (!(denom > 0)) return { value: 1, dEdm: wantGradient ? grad() : null };
    const ncc = smf / denom;
    let d: Float64Array | null = null;
    if (wantGradient) {
      d = grad();
      const k = smf / smm;
      for (let i = 0; i < n; i++) {
        if (!valid[i]) continue;
        // ∂ncc/∂mᵢ = ((fᵢ − f̄) − (Smf/Smm)(mᵢ − m̄)) / √(Smm·Sff); E = 1 − ncc
        d[i] = -((f[i] - mf) - k * (m[i] - mm)) / denom;
      }
    }
    return { value: 1 - ncc, dEdm: d };
  }
  // Mattes mutual information
  const setup = mi!;
  const B = setup.bins;
  const MB = B + 4; // moving bins incl. 2 padding bins per side
  const joint = new Float64Array(B * MB);
  const pos = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    let t = (m[i] - setup.movingMin) / setup.movingBinWidth + 2;
    if (t < 1) t = 1;
    if (t > MB - 2) t = MB - 2;
    pos[i] = t;
    const fb = setup.fixedBin[i] * MB;
    const k0 = Math.floor(t) - 1;
    for (let k = k0; k < k0 + 4; k++) if (k >= 0 && k < MB) joint[fb + k] += cubicB(k - t);
  }
  let total = 0;
  for (let i = 0; i < joint.length; i++) total += joint[i];
  const pf = new Float64Array(B);
  const pm = new Float64Array(MB);
  for (let a = 0; a < B; a++) {
    for (let k = 0; k < MB; k++) {
      const p = joint[a * MB + k] / total;
      joint[a * MB + k] = p;
      pf[a] += p;
      pm[k] += p;
    }
  }
  let mival = 0;
  const logRatio = new Float64Array(B * MB); // log(p(a,k)/pm(k))
  for (let a = 0; a < B; a++) {
    for (let k = 0; k < MB; k++) {
      const p = joint[a * MB + k];
      if (p > 1e-16) {
        mival += p * Math.log(p / (pf[a] * pm[k]));
        logRatio[a * MB + k] = Math.log(p / pm[k]);
      }
    }
  }
  let d: Float64Array | null = null;
  if (wantGradient) {
    // ∂MI/∂mᵢ = Σ_k log(p(a,k)/pm(k)) · ∂p(a,k)/∂mᵢ with ∂p/∂mᵢ = −β3'(k − tᵢ)/(total·Δm)
    d = grad();
    const s = 1 / (total * setup.movingBinWidth);
    for (let i = 0; i < n; i++) {
      if (!valid[i]) continue;
      const t = pos[i];
      const fb = setup.fixedBin[i] * MB;
      const k0 = Math.floor(t) - 1;
      let g = 0;
      for (let k = k0; k < k0 + 4; k++) if (k >= 0 && k < MB) g += logRatio[fb + k] * cubicBDeriv(k - t);
      // ∂(k − t)/∂mᵢ = −1/Δm; E = −MI
      d[i] = g * s;
    }
  }
  return { value: -mival, dEdm: d };
}
