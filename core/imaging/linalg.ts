/**
 * Small dense linear algebra and least squares shared by plugins: Gaussian elimination with
 * partial pivoting (`solveLinear`) and Levenberg–Marquardt for models with a handful of
 * parameters (`levenbergMarquardt`; optics' bead fits). StackReg's Marquardt–Levenberg loop
 * (plugins/stackreg/register.ts) keeps its own damping and stopping rule and uses `solveLinear`.
 */

/**
 * Solves A·x = b for a small n×n system (A row-major; neither is modified) by Gaussian
 * elimination with partial pivoting.
 * @returns x, or undefined when A is singular (pivot ≤ 1e-300) or x is not finite.
 */
export function solveLinear(A: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array | undefined {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[piv * n + c])) piv = r;
    if (!(Math.abs(M[piv * n + c]) > 1e-300)) return undefined;
    if (piv !== c) {
      for (let k = 0; k < n; k++) [M[c * n + k], M[piv * n + k]] = [M[piv * n + k], M[c * n + k]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] / M[c * n + c];
      if (f === 0) continue;
      for (let k = c; k < n; k++) M[r * n + k] -= f * M[c * n + k];
      x[r] -= f * x[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let s = x[c];
    for (let k = c + 1; k < n; k++) s -= M[c * n + k] * x[k];
    x[c] = s / M[c * n + c];
  }
  return x.every(Number.isFinite) ? x : undefined;
}

/** Least-squares model: value and gradient (∂value/∂p) at sample i for parameters p. */
export type LeastSquaresModel = (p: Float64Array, i: number, grad: Float64Array) => number;

export interface LeastSquaresResult {
  params: Float64Array;
  /** Root-mean-square residual at the solution. */
  rms: number;
  iterations: number;
  converged: boolean;
}

/**
 * Minimises Σ (model(p, i) − data[i])² from p0 by Levenberg–Marquardt (Marquardt's diagonal
 * scaling, λ ×10 / ÷10). `constrain` may clamp parameters after each step (e.g. σ > 0).
 */
export function levenbergMarquardt(model: LeastSquaresModel, data: ArrayLike<number>, p0: ArrayLike<number>, options: { maxIterations?: number; constrain?: (p: Float64Array) => void } = {}): LeastSquaresResult {
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
      const step = solveLinear(damped, jtr, n);
      if (step === undefined) {
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
