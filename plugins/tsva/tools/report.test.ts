import { describe, expect, it } from 'vitest';
import { flagValue, flagValues, fmt, labelledPath, mean, pairDiff, towardTarget, trainingSeconds, withInterval } from './report.js';

describe('TSVA report helpers', () => {
  it('reads repeatable flags, the first value, and a fallback', () => {
    const argv = ['--model', 'a=x', '--ckpt', '/c', '--model', 'b=y', '--model'];
    expect(flagValues(argv, 'model')).toEqual(['a=x', 'b=y']);
    expect(flagValue(argv, 'ckpt', '/d')).toBe('/c');
    expect(flagValue(argv, 'out', 'docs')).toBe('docs');
  });

  it('splits <label>=<path> at the first = and names the flag when it cannot', () => {
    expect(labelledPath('tsva=/p/a=b', 'model')).toEqual({ label: 'tsva', path: '/p/a=b' });
    expect(() => labelledPath('/p/model', 'model')).toThrow('--model /p/model: expected <label>=<package folder>');
    expect(() => labelledPath('=/p', 'tsva')).toThrow(/--tsva =\/p/);
    expect(() => labelledPath('tsva=', 'tsva')).toThrow(/expected <label>=<package folder>/);
  });

  it('writes a paired difference with its interval, and one pair without one', () => {
    const d = pairDiff([1.5, 2.5, 3.5, 4.5], [1, 2, 3, 4]);
    expect(d.mean).toBeCloseTo(0.5, 12);
    expect(withInterval(d)).toBe('0.50 [0.50, 0.50]');
    const one = pairDiff([3], [1]);
    expect(one.mean).toBe(2);
    expect(withInterval(one)).toBe('2.00 [–, –]');
    expect(fmt(Number.POSITIVE_INFINITY)).toBe('–');
    expect(fmt(1234.5678, 0)).toBe('1235');
    expect(Number.isNaN(mean([]))).toBe(true);
    expect(mean([1, 2, 6])).toBe(3);
  });

  it('adds up the legs of a resumed run (each leg\'s clock restarts)', () => {
    const row = (iteration: number, seconds: number) => ({ iteration, trainMse: null, valMse: 1e-3, seconds });
    // leg 1 to 200 iterations in 100 s, then a resume to 400 in 120 s
    expect(trainingSeconds([row(100, 50), row(200, 100), row(300, 60), row(400, 120)])).toBe(220);
    expect(trainingSeconds([row(100, 50), row(200, 100)])).toBe(100);
    expect(trainingSeconds([])).toBe(0);
  });

  it('splits an output\'s change from Y1 into the part toward the target and the rest', () => {
    const y1 = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
    const x = Float32Array.from([0.6, 0.4, 0.5, 0.5]); // n = (0.1, −0.1, 0, 0)
    // halfway to the target: β = 0.5, nothing off it
    const half = towardTarget([Float32Array.from([0.55, 0.45, 0.5, 0.5])], [{ x, y1 }]);
    expect(half.beta).toBeCloseTo(0.5, 6);
    expect(half.off).toBeCloseTo(0, 6);
    // a change orthogonal to n: β = 0, off = |e|² / |n|² = 0.02 / 0.02
    const aside = towardTarget([Float32Array.from([0.5, 0.5, 0.6, 0.4])], [{ x, y1 }]);
    expect(aside.beta).toBeCloseTo(0, 6);
    expect(aside.off).toBeCloseTo(1, 5);
    // the pooled squared error against the target, relative to Y1's, is (1 − β)² + off
    const out = Float32Array.from([0.58, 0.47, 0.53, 0.5]);
    const t = towardTarget([out], [{ x, y1 }]);
    const se = (a: Float32Array) => a.reduce((s, v, i) => s + (v - x[i]) ** 2, 0);
    expect((1 - t.beta) ** 2 + t.off).toBeCloseTo(se(out) / se(y1), 5);
    // no difference between Y1 and the target (z-stack noise at |ΔD| = s): undefined
    expect(Number.isNaN(towardTarget([out], [{ x: y1, y1 }]).beta)).toBe(true);
  });
});
