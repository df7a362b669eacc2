import { describe, expect, it } from 'vitest';
import { estimateRate, formatDuration, mulberry32, RateEstimator, type ProgressSample } from '../index.js';

/** Samples of `total` units done at `perSecond` from `t0`, one every `stepMs` (synthetic time). */
function steady(count: number, perSecond: number, stepMs: number, total: number, t0 = 0, done0 = 0): ProgressSample[] {
  return Array.from({ length: count }, (_, i) => ({ done: done0 + (perSecond * i * stepMs) / 1000, total, timeMs: t0 + i * stepMs }));
}

describe('rate and ETA estimator', () => {
  it('needs two samples that span time for a rate; then rate = units per second and ETA = units left / rate', () => {
    expect(estimateRate([])).toEqual({ done: 0, total: 0, ratePerSecond: undefined, etaMs: undefined });
    expect(estimateRate([{ done: 3, total: 10, timeMs: 500 }])).toEqual({ done: 3, total: 10, ratePerSecond: undefined, etaMs: undefined });
    expect(estimateRate([{ done: 3, total: 10, timeMs: 500 }, { done: 4, total: 10, timeMs: 500 }]).ratePerSecond).toBeUndefined();
    const e = estimateRate([{ done: 0, total: 100, timeMs: 0 }, { done: 10, total: 100, timeMs: 5000 }]);
    expect(e).toEqual({ done: 10, total: 100, ratePerSecond: 2, etaMs: 45_000 });
    // 100 000 iterations at 4 it/s after 1000: 24 750 s left
    const t = estimateRate(steady(11, 4, 250, 100_000, 1_000_000, 1000));
    expect(t.ratePerSecond).toBeCloseTo(4, 12);
    expect(t.etaMs).toBeCloseTo(((100_000 - 1010) / 4) * 1000, 6);
  });

  it('measures over the moving window: a change of speed shows once the window has passed it', () => {
    // 60 s at 1 unit/s, then 20 s at 5 units/s
    const slow = steady(61, 1, 1000, 1000);
    const fast = steady(21, 5, 1000, 1000, 60_000, 60).slice(1);
    const samples = [...slow, ...fast];
    expect(estimateRate(samples, { windowMs: 10_000 }).ratePerSecond).toBeCloseTo(5, 12);
    // a window reaching back 40 s mixes both: (160 − 40) units in 40 s
    expect(estimateRate(samples, { windowMs: 40_000 }).ratePerSecond).toBeCloseTo(3, 12);
    // the default window is 30 s: (160 − 50) units in 30 s
    expect(estimateRate(samples).ratePerSecond).toBeCloseTo(110 / 30, 12);
    const e = estimateRate(samples, { windowMs: 10_000 });
    expect(e.done).toBe(160);
    expect(e.etaMs).toBeCloseTo(((1000 - 160) / 5) * 1000, 6);
  });

  it('holds at least minSamples samples, however old they are', () => {
    // one sample every 100 s; a 1 s window would hold only the last two
    const samples: ProgressSample[] = [
      { done: 0, total: 10, timeMs: 0 },
      { done: 1, total: 10, timeMs: 100_000 },
      { done: 2, total: 10, timeMs: 200_000 },
      { done: 6, total: 10, timeMs: 300_000 },
    ];
    expect(estimateRate(samples, { windowMs: 1000 }).ratePerSecond).toBeCloseTo(4 / 100, 12);
    expect(estimateRate(samples, { windowMs: 1000, minSamples: 4 }).ratePerSecond).toBeCloseTo(6 / 300, 12);
  });

  it('minSpanMs holds the rate back until the window spans that long (fractions as units: total 1)', () => {
    const early = [{ done: 0, total: 1, timeMs: 0 }, { done: 0.1, total: 1, timeMs: 200 }];
    expect(estimateRate(early, { minSpanMs: 500 })).toEqual({ done: 0.1, total: 1, ratePerSecond: undefined, etaMs: undefined });
    const later = [...early, { done: 0.25, total: 1, timeMs: 500 }];
    const e = estimateRate(later, { minSpanMs: 500 });
    expect(e.ratePerSecond).toBeCloseTo(0.5, 12);
    expect(e.etaMs).toBeCloseTo(1500, 9);
  });

  it('ETA is 0 once done reaches total, undefined while nothing moves; a step back in done or time starts afresh', () => {
    expect(estimateRate([{ done: 0, total: 5, timeMs: 0 }, { done: 5, total: 5, timeMs: 1000 }]).etaMs).toBe(0);
    expect(estimateRate([{ done: 5, total: 5, timeMs: 0 }]).etaMs).toBe(0);
    const stalled = estimateRate([{ done: 2, total: 5, timeMs: 0 }, { done: 2, total: 5, timeMs: 9000 }]);
    expect(stalled.ratePerSecond).toBe(0);
    expect(stalled.etaMs).toBeUndefined();
    // a restart (done back to 0): only the new series counts
    const restarted = estimateRate([
      { done: 0, total: 100, timeMs: 0 },
      { done: 50, total: 100, timeMs: 1000 },
      { done: 0, total: 100, timeMs: 2000 },
      { done: 1, total: 100, timeMs: 3000 },
    ]);
    expect(restarted.ratePerSecond).toBe(1);
    expect(restarted.etaMs).toBe(99_000);
    expect(estimateRate([{ done: 0, total: 100, timeMs: 0 }, { done: 50, total: 100, timeMs: 1000 }, { done: 0, total: 100, timeMs: 2000 }]).ratePerSecond).toBeUndefined();
    // time going back (a new time base) too
    expect(estimateRate([{ done: 0, total: 10, timeMs: 5000 }, { done: 1, total: 10, timeMs: 0 }]).ratePerSecond).toBeUndefined();
  });

  it('RateEstimator gives estimateRate of everything fed so far, keeping only what the window needs', () => {
    const r = mulberry32(7);
    const fed: ProgressSample[] = [];
    const est = new RateEstimator({ windowMs: 5000, minSamples: 3 });
    expect(est.estimate.ratePerSecond).toBeUndefined();
    let done = 0;
    let t = 0;
    for (let i = 0; i < 300; i++) {
      done += Math.floor(r() * 4);
      t += Math.floor(r() * 900);
      const s = { done, total: 1000, timeMs: t };
      fed.push(s);
      expect(est.add(s.done, s.total, s.timeMs)).toEqual(estimateRate(fed, { windowMs: 5000, minSamples: 3 }));
    }
    expect(est.estimate).toEqual(estimateRate(fed, { windowMs: 5000, minSamples: 3 }));
    expect((est as unknown as { samples: ProgressSample[] }).samples.length).toBeLessThan(30);
    est.add(0, 10, t + 1); // a restart
    expect(est.estimate).toEqual({ done: 0, total: 10, ratePerSecond: undefined, etaMs: undefined });
    est.add(2, 10, t + 1001);
    expect(est.estimate.ratePerSecond).toBe(2);
    est.reset();
    expect(est.estimate.done).toBe(0);
  });

  it('formatDuration writes h:mm:ss, rounded to seconds, hours not capped', () => {
    expect(formatDuration(0)).toBe('0:00:00');
    expect(formatDuration(1499)).toBe('0:00:01');
    expect(formatDuration(61_000)).toBe('0:01:01');
    expect(formatDuration(3_600_000)).toBe('1:00:00');
    expect(formatDuration(100_000_000)).toBe('27:46:40');
    expect(formatDuration(undefined)).toBe('-:--:--');
    expect(formatDuration(Number.NaN)).toBe('-:--:--');
    expect(formatDuration(-5)).toBe('-:--:--');
  });
});
