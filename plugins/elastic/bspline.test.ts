import { describe, expect, it } from 'vitest';
import { axisTable, bendingEnergy, createGrid, cubicCoefficients, evaluateGrid, gridAdjoint, refineGrid, sampleCubic, sampleCubic3 } from './bspline.js';
import { evaluateMetric, miSetup, type MetricName } from './metrics.js';
import { mulberry32 } from '../../core/index.js';
import { lbfgs } from '../../core/imaging.js';

function randomGrid(w: number, h: number, s: number, seed: number) {
  const g = createGrid(w, h, s);
  const r = mulberry32(seed);
  for (let i = 0; i < g.cx.length; i++) {
    g.cx[i] = 4 * r() - 2;
    g.cy[i] = 4 * r() - 2;
  }
  return g;
}

function dense(g: ReturnType<typeof createGrid>, factor = 1) {
  const w = Math.ceil(g.width / factor), h = Math.ceil(g.height / factor);
  const ux = new Float32Array(w * h), uy = new Float32Array(w * h);
  evaluateGrid(g, axisTable(w, factor, g.spacingPx, g.nx), axisTable(h, factor, g.spacingPx, g.ny), ux, uy);
  return { ux, uy };
}

describe('cubic B-spline FFD grid', () => {
  it('dyadic refinement represents exactly the same field', () => {
    const g = randomGrid(61, 47, 16, 1); // (W − 1)/S = 3.75 and 2.875: non-integer grid ends
    const fine = refineGrid(g);
    expect(fine.spacingPx).toBe(8);
    const a = dense(g), b = dense(fine);
    for (let i = 0; i < a.ux.length; i++) {
      expect(b.ux[i]).toBeCloseTo(a.ux[i], 4);
      expect(b.uy[i]).toBeCloseTo(a.uy[i], 4);
    }
    // integer (W − 1)/S: the last pixel sits on a knot
    const g2 = randomGrid(33, 33, 8, 2);
    const c = dense(g2), d = dense(refineGrid(g2));
    for (let i = 0; i < c.ux.length; i++) expect(d.ux[i]).toBeCloseTo(c.ux[i], 4);
  });

  it('the adjoint is the transpose of the evaluation (⟨Ac, g⟩ = ⟨c, Aᵀg⟩), also on a decimated level', () => {
    const g = randomGrid(50, 37, 12, 3);
    const factor = 2;
    const w = 25, h = 19;
    const tx = axisTable(w, factor, g.spacingPx, g.nx), ty = axisTable(h, factor, g.spacingPx, g.ny);
    const ux = new Float32Array(w * h), uy = new Float32Array(w * h);
    evaluateGrid(g, tx, ty, ux, uy);
    const r = mulberry32(9);
    const gx = Float64Array.from({ length: w * h }, () => r() - 0.5), gy = Float64Array.from({ length: w * h }, () => r() - 0.5);
    let lhs = 0;
    for (let i = 0; i < w * h; i++) lhs += ux[i] * gx[i] + uy[i] * gy[i];
    const ax = new Float64Array(g.cx.length), ay = new Float64Array(g.cx.length);
    gridAdjoint(g, tx, ty, gx, gy, ax, ay);
    let rhs = 0;
    for (let i = 0; i < g.cx.length; i++) rhs += g.cx[i] * ax[i] + g.cy[i] * ay[i];
    expect(rhs).toBeCloseTo(lhs, 3);
  });

  it('bending energy: zero for an affine field, analytic gradient matches finite differences', () => {
    const g = createGrid(64, 64, 16);
    for (let j = 0; j < g.ny; j++) {
      for (let i = 0; i < g.nx; i++) {
        // an affine field: the coefficients of a linear function are the function at the knots
        g.cx[j * g.nx + i] = 0.3 + 0.01 * (i - 1) * 16 - 0.02 * (j - 1) * 16;
        g.cy[j * g.nx + i] = -1 + 0.005 * (i - 1) * 16;
      }
    }
    expect(bendingEnergy(g, 1, null, null)).toBeCloseTo(0, 12);
    const h = randomGrid(64, 48, 16, 5);
    const gx = new Float64Array(h.cx.length), gy = new Float64Array(h.cx.length);
    const e0 = bendingEnergy(h, 3, gx, gy);
    expect(e0).toBeGreaterThan(0);
    for (const k of [0, 7, 13, h.cx.length - 1]) {
      const eps = 1e-4;
      h.cx[k] += eps;
      const e1 = bendingEnergy(h, 3, null, null);
      h.cx[k] -= 2 * eps;
      const e2 = bendingEnergy(h, 3, null, null);
      h.cx[k] += eps;
      expect(gx[k]).toBeCloseTo((e1 - e2) / (2 * eps), 6);
    }
  });

  it('cubic interpolation reproduces the pixels; its gradient matches finite differences', () => {
    const W = 9, H = 7;
    const r = mulberry32(4);
    const img = Float32Array.from({ length: W * H }, () => r());
    const c = cubicCoefficients(img, W, H);
    const wx = new Float64Array(4), wy = new Float64Array(4);
    const out = new Float64Array(3);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect(sampleCubic(c, W, H, x, y, wx, wy)).toBeCloseTo(img[y * W + x], 4);
    for (const [x, y] of [[0.3, 0.2], [4.5, 3.7], [7.9, 5.99], [2.25, 0.5]]) {
      sampleCubic3(c, W, H, x, y, out);
      const eps = 1e-3;
      expect(out[0]).toBeCloseTo(sampleCubic(c, W, H, x, y, wx, wy), 5);
      expect(out[1]).toBeCloseTo((sampleCubic(c, W, H, x + eps, y, wx, wy) - sampleCubic(c, W, H, x - eps, y, wx, wy)) / (2 * eps), 3);
      expect(out[2]).toBeCloseTo((sampleCubic(c, W, H, x, y + eps, wx, wy) - sampleCubic(c, W, H, x, y - eps, wx, wy)) / (2 * eps), 3);
    }
  });
});

describe('metrics', () => {
  it.each(['ssd', 'ncc', 'mi'] as MetricName[])('%s: ∂E/∂m matches finite differences', (metric) => {
    const n = 400;
    const r = mulberry32(21);
    const f = Float32Array.from({ length: n }, () => r() * 10);
    const m = Float64Array.from(f, (v, i) => 100 - 3 * v + 2 * Math.sin(i)); // remapped + perturbed
    const valid = new Uint8Array(n).fill(1);
    const mi = miSetup(f, Float32Array.from(m), 16);
    const res = evaluateMetric(metric, m, f, valid, true, mi);
    for (const k of [3, 77, 250]) {
      const eps = 1e-4;
      m[k] += eps;
      const a = evaluateMetric(metric, m, f, valid, false, mi).value;
      m[k] -= 2 * eps;
      const b = evaluateMetric(metric, m, f, valid, false, mi).value;
      m[k] += eps;
      expect(res.dEdm![k]).toBeCloseTo((a - b) / (2 * eps), 5);
    }
  });

  it('ncc is 0 for a linear remap; mi is higher for a dependent pair than for a shuffled one', () => {
    const n = 2000;
    const r = mulberry32(8);
    const f = Float32Array.from({ length: n }, () => r());
    const valid = new Uint8Array(n).fill(1);
    expect(evaluateMetric('ncc', Float64Array.from(f, (v) => 5 - 2 * v), f, valid, false).value).toBeCloseTo(2, 6); // anti-correlated: 1 − (−1)
    expect(evaluateMetric('ncc', Float64Array.from(f, (v) => 5 + 2 * v), f, valid, false).value).toBeCloseTo(0, 6);
    const dep = Float64Array.from(f, (v) => Math.sqrt(1 - v));
    const indep = Float64Array.from(f, () => r());
    const setup = miSetup(f, Float32Array.from(dep), 32);
    expect(evaluateMetric('mi', dep, f, valid, false, setup).value).toBeLessThan(evaluateMetric('mi', indep, f, valid, false, miSetup(f, Float32Array.from(indep), 32)).value - 1);
  });
});

describe('lbfgs', () => {
  it('minimises the Rosenbrock function', () => {
    const res = lbfgs(
      (x, g) => {
        const a = 1 - x[0], b = x[1] - x[0] * x[0];
        g[0] = -2 * a - 400 * x[0] * b;
        g[1] = 200 * b;
        return a * a + 100 * b * b;
      },
      new Float64Array([-1.2, 1]),
      { maxIterations: 200, relTolerance: 1e-12 },
    );
    expect(res.x[0]).toBeCloseTo(1, 4);
    expect(res.x[1]).toBeCloseTo(1, 4);
  });
});
