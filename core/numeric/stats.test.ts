import { describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { pairedDifference, pairedTTest, studentTCdf } from './stats.js';

describe('studentTCdf', () => {
  it('matches tabulated critical values of the t distribution', () => {
    // (df, t, upper-tail probability) from standard t tables
    const table: [number, number, number][] = [
      [1, 12.706, 0.025], [2, 4.303, 0.025], [5, 2.571, 0.025], [10, 2.228, 0.025], [30, 2.042, 0.025],
      [10, 1.812, 0.05], [20, 2.528, 0.01], [3, 5.841, 0.005], [60, 1.296, 0.1],
    ];
    for (const [df, t, tail] of table) expect(1 - studentTCdf(t, df), `df ${df}, t ${t}`).toBeCloseTo(tail, 4);
  });
  it('is the Cauchy distribution at df 1, symmetric, ½ at 0, and tends to the normal for large df', () => {
    for (const t of [-7, -1.3, 0.4, 2, 30]) expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
    expect(studentTCdf(0, 7)).toBe(0.5);
    expect(studentTCdf(-1.7, 4) + studentTCdf(1.7, 4)).toBeCloseTo(1, 14);
    expect(studentTCdf(1.959964, 1e7)).toBeCloseTo(0.975, 6);
  });
  it('refuses df ≤ 0', () => {
    expect(() => studentTCdf(1, 0)).toThrow(/df/);
  });
});

describe('pairedTTest', () => {
  // differences 1, 2.5, 2.5, 5, 4: mean 3, sd √(9.5/4), t = 4.3529 with 4 df
  const a = [11, 12.5, 12.5, 15, 14];
  const b = [10, 10, 10, 10, 10];
  it('computes t from the differences and the one- and two-sided p-values', () => {
    const d = a.map((v, i) => v - b[i]);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (d.length - 1));
    const r = pairedTTest(a, b);
    expect(r.meanDifference).toBeCloseTo(mean, 12);
    expect(r.sdDifference).toBeCloseTo(sd, 12);
    expect(r.t).toBeCloseTo(mean / (sd / Math.sqrt(5)), 12);
    expect(r.df).toBe(4);
    const greater = pairedTTest(a, b, 'greater').p;
    const less = pairedTTest(a, b, 'less').p;
    expect(greater + less).toBeCloseTo(1, 12);
    expect(r.p).toBeCloseTo(2 * Math.min(greater, less), 12);
    expect(r.t).toBeCloseTo(4.3529, 4);
    // two-sided p between the table's 0.02 (t 3.747) and 0.01 (t 4.604) for 4 df
    expect(r.p).toBeGreaterThan(0.01);
    expect(r.p).toBeLessThan(0.02);
  });
  it('refuses unequal lengths, too few pairs and constant differences, naming the field', () => {
    for (const f of [() => pairedTTest([1, 2], [1]), () => pairedTTest([1], [2]), () => pairedTTest([2, 3, 4], [1, 2, 3])]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isFocalError(e) && e.code === 'E_ARGUMENT').toBe(true);
      }
    }
  });
});

describe('pairedDifference', () => {
  it('gives the mean paired difference with a bootstrap interval that shrinks to it for a constant shift', () => {
    const b = [0.5, 0.7, 0.2, 0.9, 0.4];
    const shift = pairedDifference(b.map((v) => v + 0.1), b);
    expect(shift.mean).toBeCloseTo(0.1, 12);
    expect(shift.lo).toBeCloseTo(0.1, 12);
    expect(shift.hi).toBeCloseTo(0.1, 12);
    expect(shift.n).toBe(5);
    // differences of ±1 around 0: the interval straddles 0 and lies within [−1, 1]
    const a = Array.from({ length: 40 }, (_, i) => (i % 2 ? 1 : -1));
    const d = pairedDifference(a, a.map(() => 0), { seed: 3 });
    expect(d.mean).toBe(0);
    expect(d.lo).toBeLessThan(0);
    expect(d.hi).toBeGreaterThan(0);
    expect(d.lo).toBeGreaterThan(-1);
    expect(d.hi).toBeLessThan(1);
    expect(() => pairedDifference([1, 2], [1])).toThrow(/equally long/);
  });
  it('gives one pair its difference and no interval (NaN), not a zero-width one', () => {
    const one = pairedDifference([0.75], [0.5]);
    expect(one).toMatchObject({ mean: 0.25, n: 1 });
    expect(Number.isNaN(one.lo) && Number.isNaN(one.hi)).toBe(true);
  });
});
