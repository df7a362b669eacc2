import { describe, expect, it } from 'vitest';
import { gaussianRandom, logFactorial, mulberry32, poissonRandom, Xoshiro128 } from './random.js';

function meanVar(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

describe('mulberry32', () => {
  it('gives the reference sequence for seed 1 (the samples in samples/ depend on it)', () => {
    const r = mulberry32(1);
    expect([r(), r(), r()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    const s = mulberry32(20261121); // scripts/make-samples.ts
    expect([s(), s()]).toEqual([0.6913962827529758, 0.3520768517628312]);
  });

  it('is deterministic, reduces the seed to 32 bits and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42 + 2 ** 32);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 10000; i++) {
      const v = a();
      expect(b()).toBe(v);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const { mean, variance } = meanVar(Array.from({ length: 20000 }, mulberry32(3)));
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / 20000));
    expect(variance).toBeCloseTo(1 / 12, 2);
  });
});

describe('gaussianRandom', () => {
  it('draws two uniforms per deviate and has mean 0, variance 1', () => {
    let calls = 0;
    const base = mulberry32(5);
    const counted = () => {
      calls++;
      return base();
    };
    gaussianRandom(counted);
    expect(calls).toBe(2);
    const n = 20000;
    const rand = mulberry32(11);
    const { mean, variance } = meanVar(Array.from({ length: n }, () => gaussianRandom(rand)));
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('stays finite when the uniform is exactly 0', () => {
    let i = 0;
    const v = gaussianRandom(() => (i++ === 0 ? 0 : 0.25));
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeCloseTo(0, 10); // cos(π/2) = 0
  });
});

describe('poissonRandom', () => {
  it.each([0.5, 4, 25, 100, 1000])('λ = %s: integer deviates with mean and variance λ', (lambda) => {
    const n = 20000;
    const rand = mulberry32(Math.round(lambda * 10));
    const xs = Array.from({ length: n }, () => poissonRandom(lambda, rand));
    expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
    const { mean, variance } = meanVar(xs);
    expect(Math.abs(mean - lambda)).toBeLessThan(4 * Math.sqrt(lambda / n));
    expect(Math.abs(variance / lambda - 1)).toBeLessThan(0.06);
  });

  it('gives 0 for λ ≤ 0', () => {
    const rand = mulberry32(1);
    expect(poissonRandom(0, rand)).toBe(0);
    expect(poissonRandom(-3, rand)).toBe(0);
  });
});

describe('Xoshiro128', () => {
  it('gives the reference sequence (samples/beads-zstack.tif depends on it); streams differ', () => {
    const x = new Xoshiro128(1);
    expect([x.nextU32(), x.nextU32(), x.uniform()]).toEqual([4015709042, 3165395162, 0.23693757404559046]);
    expect(new Xoshiro128(1, 3).nextU32()).toBe(2937140795);
  });

  it('normal and poisson (both branches) have the right mean and variance', () => {
    const n = 20000;
    const x = new Xoshiro128(9);
    const g = meanVar(Array.from({ length: n }, () => x.normal()));
    expect(Math.abs(g.mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(g.variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    for (const lambda of [3, 50]) {
      const p = meanVar(Array.from({ length: n }, () => x.poisson(lambda)));
      expect(Math.abs(p.mean - lambda)).toBeLessThan(4 * Math.sqrt(lambda / n));
      expect(Math.abs(p.variance / lambda - 1)).toBeLessThan(0.06);
    }
    expect(x.poisson(0)).toBe(0);
  });

  it('logFactorial matches the sum of logs on both sides of the table', () => {
    let s = 0;
    for (let k = 1; k <= 300; k++) {
      s += Math.log(k);
      if (k === 10 || k === 255 || k === 256 || k === 300) expect(logFactorial(k)).toBeCloseTo(s, 9);
    }
    expect(logFactorial(0)).toBe(0);
  });
});
