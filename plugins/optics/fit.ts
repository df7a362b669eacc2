/**
 * Levenberg–Marquardt least squares for small models (a handful of parameters), with the
 * Gaussian models used for bead analysis.
 */

/** Model: value and gradient (∂value/∂p) at sample i for parameters p. */
export type Model = (p: Float64Array, i: number, grad: Float64Array) => number;

export interface FitResult {
  params: Float64Array;
  /** Root-mean-square residual at the solution. */
  rms: number;
  iterations: number;
  converged: boolean;
}

function solve(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  // Gaussian elimination with partial pivoting on an n×n system (a, b copied)
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]) > Math.abs(m[piv * n + c])) piv = r;
    if (!(Math.abs(m[piv * n + c]) > 1e-300)) return null;
    if (piv !== c) {
      for (let k = 0; k < n; k++) [m[c * n + k], m[piv * n + k]] = [m[piv * n + k], m[c * n + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c] / m[c * n + c];
      if (f === 0) continue;
      for (let k = c; k < n; k++) m[r * n + k] -= f * m[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= m[r * n + k] * x[k];
    x[r] = s / m[r * n + r];
  }
  return x;
}

/**
 * Minimises Σ (model(p, i) − data[i])² from p0 by Levenberg–Marquardt (Marquardt's diagonal
 * scaling, λ ×10 / ÷10). `constrain` may clamp parameters after each step (e.g. σ > 0).
 */
export function levenbergMarquardt(model: Model, data: ArrayLike<number>, p0: ArrayLike<number>, options: { maxIterations?: number; constrain?: (p: Float64Array) => void } = {}): FitResult {
  const n = p0.length;
  const m = data.length;
  let p = Float64Array.from(p0);
  const grad = new Float64Array(n);
  const cost = (q: Float64Array) => {
    let s = 0;
    for (let i = 0; i < m; i++) {
      const r = model(q, i, grad) - data[i];
      s += r * r;
    }
    return s;
  };
  let c = cost(p);
  let lambda = 1e-3;
  const maxIt = options.maxIterations ?? 200;
  let converged = false;
  let it = 0;
  const jtj = new Float64Array(n * n);
  const jtr = new Float64Array(n);
  for (; it < maxIt && !converged; it++) {
    jtj.fill(0);
    jtr.fill(0);
    for (let i = 0; i < m; i++) {
      const r = model(p, i, grad) - data[i];
      for (let a = 0; a < n; a++) {
        jtr[a] -= grad[a] * r;
        for (let b = 0; b <= a; b++) jtj[a * n + b] += grad[a] * grad[b];
      }
    }
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) jtj[b * n + a] = jtj[a * n + b];
    let improved = false;
    for (let tries = 0; tries < 30; tries++) {
      const damped = Float64Array.from(jtj);
      for (let a = 0; a < n; a++) damped[a * n + a] += lambda * Math.max(jtj[a * n + a], 1e-12);
      const step = solve(damped, jtr, n);
      if (step === null) {
        lambda *= 10;
        continue;
      }
      const q = new Float64Array(n);
      for (let a = 0; a < n; a++) q[a] = p[a] + step[a];
      options.constrain?.(q);
      const cq = cost(q);
      if (Number.isFinite(cq) && cq <= c) {
        let small = true;
        for (let a = 0; a < n; a++) if (Math.abs(q[a] - p[a]) > 1e-9 * (Math.abs(p[a]) + 1e-9)) small = false;
        const rel = (c - cq) / Math.max(c, 1e-300);
        p = q;
        c = cq;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = true;
        if (small || rel < 1e-12) converged = true;
        break;
      }
      lambda *= 10;
    }
    if (!improved) {
      converged = true; // no downhill step left at any damping: a (local) minimum
      break;
    }
  }
  return { params: p, rms: Math.sqrt(c / Math.max(1, m)), iterations: it, converged };
}

/** Parameters of a 2D elliptical (axis-aligned) Gaussian on a constant offset. */
export interface Gaussian2d {
  amplitude: number;
  x0: number;
  y0: number;
  sigmaX: number;
  sigmaY: number;
  offset: number;
  rms: number;
  converged: boolean;
}

/**
 * Least-squares fit of offset + A·exp(−(x−x0)²/(2σx²) − (y−y0)²/(2σy²)) to the pixels of a
 * box (x from bx, y from by, w × h pixels, values at pixel centres, coordinates in image px).
 * Start values: the box minimum as offset, the intensity-weighted centroid and second moments.
 */
export function fitGaussian2d(image: ArrayLike<number>, width: number, bx: number, by: number, w: number, h: number): Gaussian2d {
  const data = new Float64Array(w * h);
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = image[(by + j) * width + bx + i];
      data[j * w + i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = data[j * w + i] - min;
      s += v;
      sx += v * i;
      sy += v * j;
    }
  }
  const cx = s > 0 ? sx / s : (w - 1) / 2;
  const cy = s > 0 ? sy / s : (h - 1) / 2;
  let vx = 0;
  let vy = 0;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = data[j * w + i] - min;
      vx += v * (i - cx) ** 2;
      vy += v * (j - cy) ** 2;
    }
  }
  const clampSigma = (v: number) => Math.min(Math.max(v, 0.5), Math.max(w, h) / 2);
  const p0 = [max - min, cx, cy, clampSigma(Math.sqrt(s > 0 ? vx / s : 1)), clampSigma(Math.sqrt(s > 0 ? vy / s : 1)), min];
  const model: Model = (p, k, g) => {
    const i = k % w;
    const j = (k - i) / w;
    const dx = i - p[1];
    const dy = j - p[2];
    const ex = (dx * dx) / (p[3] * p[3]);
    const ey = (dy * dy) / (p[4] * p[4]);
    const e = Math.exp(-0.5 * (ex + ey));
    g[0] = e;
    g[1] = (p[0] * e * dx) / (p[3] * p[3]);
    g[2] = (p[0] * e * dy) / (p[4] * p[4]);
    g[3] = (p[0] * e * ex) / p[3];
    g[4] = (p[0] * e * ey) / p[4];
    g[5] = 1;
    return p[5] + p[0] * e;
  };
  const fit = levenbergMarquardt(model, data, p0, {
    constrain: (p) => {
      p[3] = Math.max(Math.abs(p[3]), 0.05);
      p[4] = Math.max(Math.abs(p[4]), 0.05);
    },
  });
  const p = fit.params;
  return { amplitude: p[0], x0: bx + p[1], y0: by + p[2], sigmaX: p[3], sigmaY: p[4], offset: p[5], rms: fit.rms, converged: fit.converged };
}

/** Least-squares fit of offset + A·exp(−(t−t0)²/(2σ²)) to values at t = 0…n−1. */
export function fitGaussian1d(values: ArrayLike<number>): { amplitude: number; center: number; sigma: number; offset: number; rms: number; converged: boolean } {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < n; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) {
      max = values[i];
      arg = i;
    }
  }
  // half-maximum width of the peak for the start value of σ
  const half = min + (max - min) / 2;
  let lo = arg;
  let hi = arg;
  while (lo > 0 && values[lo - 1] > half) lo--;
  while (hi < n - 1 && values[hi + 1] > half) hi++;
  const sigma0 = Math.max(0.5, (hi - lo + 1) / 2.3548);
  const model: Model = (p, i, g) => {
    const d = i - p[1];
    const q = (d * d) / (p[2] * p[2]);
    const e = Math.exp(-0.5 * q);
    g[0] = e;
    g[1] = (p[0] * e * d) / (p[2] * p[2]);
    g[2] = (p[0] * e * q) / p[2];
    g[3] = 1;
    return p[3] + p[0] * e;
  };
  const fit = levenbergMarquardt(model, values, [max - min, arg, sigma0, min], {
    constrain: (p) => {
      p[2] = Math.max(Math.abs(p[2]), 0.05);
    },
  });
  const p = fit.params;
  return { amplitude: p[0], center: p[1], sigma: p[2], offset: p[3], rms: fit.rms, converged: fit.converged };
}
