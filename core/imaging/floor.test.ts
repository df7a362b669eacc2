import { describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { floodFillFromBorder } from './flood-fill.js';
import { levenbergMarquardt, solveLinear } from './linalg.js';
import { standardise } from './normalise.js';

describe('floodFillFromBorder', () => {
  it('marks the background reachable from the border through 4-connected pixels, not the enclosed hole', () => {
    // 7×6: a closed ring of 1s around a 2×1 hole, and a diagonal gap a 4-connected fill cannot pass
    const rows = [
      '0000000',
      '0111110',
      '0100010',
      '0111110',
      '0000010',
      '0000100',
    ];
    const labels = Uint8Array.from(rows.join('').split('').map(Number));
    const marked = floodFillFromBorder(labels, 7, 6, 2);
    const out = Array.from({ length: 6 }, (_, y) => Array.from(labels.subarray(y * 7, y * 7 + 7)).join(''));
    expect(out).toEqual([
      '2222222',
      '2111112',
      '2100012',
      '2111112',
      '2222212',
      '2222122',
    ]);
    expect(marked).toBe(labels.filter((v) => v === 2).length);
  });

  it('reuses a given stack buffer and leaves walls untouched', () => {
    const labels = new Uint8Array(9).fill(1);
    expect(floodFillFromBorder(labels, 3, 3, 2, new Int32Array(9))).toBe(0);
    expect(Array.from(labels)).toEqual(new Array(9).fill(1));
  });
});

describe('standardise', () => {
  it('removes the mean and divides by the population standard deviation', () => {
    const { data, mean, std } = standardise([1, 2, 3, 4]);
    expect(mean).toBe(2.5);
    expect(std).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(Array.from(data).map((v) => Number(v.toFixed(5)))).toEqual([-1.34164, -0.44721, 0.44721, 1.34164]);
  });

  it('only centres a constant image (σ reported as 1) and names the field for bad input', () => {
    expect(standardise([5, 5, 5])).toEqual({ data: new Float32Array(3), mean: 5, std: 1 });
    const err = (() => { try { standardise([1, NaN]); } catch (e) { return e; } })();
    expect(isFocalError(err) && err.code === 'E_ARGUMENT' && err.details.field === 'image').toBe(true);
    expect(() => standardise([])).toThrow(/empty/);
  });
});

describe('solveLinear', () => {
  it('solves a system that needs pivoting, leaving A and b unchanged', () => {
    const A = Float64Array.from([0, 2, 1, 1, 1, 1, 2, 1, 3]);
    const b = new Float64Array(3);
    const x0 = [1.5, -2, 4];
    for (let r = 0; r < 3; r++) b[r] = A[r * 3] * x0[0] + A[r * 3 + 1] * x0[1] + A[r * 3 + 2] * x0[2];
    const copyA = Float64Array.from(A);
    const copyB = Float64Array.from(b);
    const x = solveLinear(A, b, 3)!;
    x0.forEach((v, i) => expect(x[i]).toBeCloseTo(v, 12));
    expect(A).toEqual(copyA);
    expect(b).toEqual(copyB);
  });

  it('returns undefined for a singular matrix', () => {
    expect(solveLinear([1, 2, 2, 4], [1, 2], 2)).toBeUndefined();
  });
});

describe('levenbergMarquardt', () => {
  it('fits y = a·exp(−b·x) to exact samples from a poor start', () => {
    const xs = Array.from({ length: 20 }, (_, i) => i * 0.25);
    const data = xs.map((x) => 3 * Math.exp(-0.7 * x));
    const fit = levenbergMarquardt((p, i, g) => {
      const e = Math.exp(-p[1] * xs[i]);
      g[0] = e;
      g[1] = -p[0] * xs[i] * e;
      return p[0] * e;
    }, data, [1, 0.1]);
    expect(fit.converged).toBe(true);
    expect(fit.params[0]).toBeCloseTo(3, 6);
    expect(fit.params[1]).toBeCloseTo(0.7, 6);
    expect(fit.rms).toBeLessThan(1e-8);
  });
});
