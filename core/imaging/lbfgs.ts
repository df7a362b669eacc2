/**
 * Limited-memory BFGS (Nocedal 1980; Nocedal & Wright, Numerical Optimization, alg. 7.4/7.5)
 * with a backtracking line search on the Armijo condition. Written here: the npm
 * optimisation packages found (fmin, optimization-js) are small unmaintained projects.
 */

export interface LbfgsOptions {
  /** Maximum iterations (accepted steps). */
  maxIterations: number;
  /** History length. */
  memory?: number;
  /** Stop when f decreased by less than relTolerance·|f| over the last `window` steps. Default 1e-4. */
  relTolerance?: number;
  /** Window (steps) of the relative-decrease test. Default 5. */
  window?: number;
  /** Length (in parameter units, max norm) of the first trial step. */
  initialStep?: number;
  /** Called after every accepted step; return false to stop. Throwing aborts. */
  onIteration?: (iteration: number, value: number) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  evaluations: number;
}

/** Minimises f (which returns the value and fills `grad`) from x0 (not modified). */
export function lbfgs(f: (x: Float64Array, grad: Float64Array) => number, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const m = options.memory ?? 7;
  const relTol = options.relTolerance ?? 1e-4;
  const window = options.window ?? 5;

  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let fx = f(x, g);
  let evaluations = 1;
  const history: number[] = [fx];
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  let iterations = 0;
  while (iterations < options.maxIterations) {
    // two-loop recursion: dir = −H·g
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let h = S.length - 1; h >= 0; h--) {
      let a = 0;
      const s = S[h], y = Y[h];
      for (let i = 0; i < n; i++) a += s[i] * dir[i];
      a *= rho[h];
      alpha[h] = a;
      for (let i = 0; i < n; i++) dir[i] -= a * y[i];
    }
    if (S.length > 0) {
      const s = S[S.length - 1], y = Y[Y.length - 1];
      let sy = 0, yy = 0;
      for (let i = 0; i < n; i++) {
        sy += s[i] * y[i];
        yy += y[i] * y[i];
      }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) dir[i] *= gamma;
    } else {
      let gmax = 0;
      for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]));
      if (gmax === 0) break;
      const scale = (options.initialStep ?? 1) / gmax;
      for (let i = 0; i < n; i++) dir[i] *= scale;
    }
    for (let h = 0; h < S.length; h++) {
      let b = 0;
      const s = S[h], y = Y[h];
      for (let i = 0; i < n; i++) b += y[i] * dir[i];
      b *= rho[h];
      for (let i = 0; i < n; i++) dir[i] += (alpha[h] - b) * s[i];
    }
    let slope = 0;
    for (let i = 0; i < n; i++) slope += g[i] * dir[i];
    if (!(slope < 0)) {
      // not a descent direction: restart from steepest descent
      S.length = 0; Y.length = 0; rho.length = 0;
      let gmax = 0;
      for (let i = 0; i < n; i++) gmax = Math.max(gmax, Math.abs(g[i]));
      if (gmax === 0) break;
      const scale = (options.initialStep ?? 1) / gmax;
      slope = 0;
      for (let i = 0; i < n; i++) {
        dir[i] = -g[i] * scale;
        slope += g[i] * dir[i];
      }
      if (!(slope < 0)) break;
    }
    // backtracking on Armijo (c1 = 1e-4)
    let step = 1;
    let fNew = Infinity;
    let accepted = false;
    for (let tries = 0; tries < 20; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * dir[i];
      fNew = f(xNew, gNew);
      evaluations++;
      if (Number.isFinite(fNew) && fNew <= fx + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      // quadratic interpolation of the step, kept within [0.1, 0.5]·step
      const denom = 2 * (fNew - fx - step * slope);
      let next = Number.isFinite(fNew) && denom > 0 ? (-slope * step * step) / denom : step / 2;
      next = Math.min(Math.max(next, 0.1 * step), 0.5 * step);
      step = next;
    }
    if (!accepted) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
      sy += s[i] * y[i];
    }
    x.set(xNew);
    g.set(gNew);
    const fPrev = fx;
    fx = fNew;
    iterations++;
    if (sy > 1e-12 * Math.abs(fPrev + 1e-30)) {
      S.push(s); Y.push(y); rho.push(1 / sy);
      if (S.length > m) { S.shift(); Y.shift(); rho.shift(); }
    }
    options.onIteration?.(iterations, fx);
    history.push(fx);
    if (history.length > window) {
      const old = history[history.length - 1 - window];
      if (old - fx <= relTol * Math.max(Math.abs(old), 1e-12)) break;
    }
  }
  return { x, value: fx, iterations, evaluations };
}
