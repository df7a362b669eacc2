import { describe, expect, it } from 'vitest';
import { FOCUS_CRITERIA, brenner, focusScore, normalizedVariance, stdDev, tenengrad, vollath4, vollath5 } from './criteria.js';
import { gaussianBlur2d } from '../../core/imaging.js';

/** Deterministic texture: sinusoids plus hashed speckle, offset so intensities stay positive. */
function texture(w: number, h: number): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: w * h }, (_, i) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = i % w;
    const y = Math.floor(i / w);
    return 200 + 60 * Math.sin(x / 2.5) * Math.cos(y / 3.5) + 80 * ((s >>> 16) / 65536) + (x > w / 2 ? 50 : 0);
  });
}

describe('focus criteria: known answers', () => {
  const ramp = [1, 2, 3, 4, 5, 6]; // 3 wide, 2 high
  it('vollath4 = Σ x·x(+1) − Σ x·x(+2) along rows', () => {
    expect(vollath4(ramp, 3, 2)).toBe(1 * 2 + 2 * 3 - 1 * 3 + (4 * 5 + 5 * 6 - 4 * 6)); // 31
  });
  it('vollath5 = Σ x·x(+1) − M·N·μ²', () => {
    expect(vollath5(ramp, 3, 2)).toBeCloseTo(2 + 6 + 20 + 30 - 6 * 3.5 * 3.5, 12); // −15.5
  });
  it('std and nvar', () => {
    expect(stdDev(ramp, 3, 2)).toBeCloseTo(Math.sqrt(17.5 / 6), 14);
    expect(normalizedVariance(ramp, 3, 2)).toBeCloseTo(17.5 / (6 * 3.5), 14);
    expect(normalizedVariance([7, 7, 7, 7], 2, 2)).toBe(0);
  });
  it('brenner = Σ (x(+2) − x)² along rows', () => {
    expect(brenner(ramp, 3, 2)).toBe(8);
  });
  it('tenengrad = Σ Sobel Gx² + Gy² over interior pixels', () => {
    // 3×3 ramp 1…9: the one interior pixel has Gx = 8, Gy = 24
    expect(tenengrad([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3)).toBe(640);
  });
  it('focusScore dispatches and rejects unknown criteria, bad sizes and NaN', () => {
    expect(focusScore(ramp, 3, 2, 'brenner')).toBe(8);
    expect(() => focusScore(ramp, 3, 2, 'toString' as never)).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT', details: { field: 'criterion' } }));
    expect(() => vollath4(ramp, 2, 3)).toThrow(/at least 3×1 px/);
    expect(() => brenner([1, NaN, 3], 3, 1)).toThrow(/NaN pixels \(first at x=1, y=0\)/);
    expect(() => stdDev(ramp, 4, 2)).toThrow(/expected 4×2 = 8/);
    expect(() => normalizedVariance([-1, 1], 2, 1)).toThrow(/positive mean/);
  });
});

describe('focus criteria on a synthetic defocus stack', () => {
  it('every criterion peaks at the in-focus plane and falls off on both sides', () => {
    const w = 64;
    const h = 64;
    const sharp = texture(w, h);
    const planes = Array.from({ length: 11 }, (_, z) => {
      const sigma = 0.4 + 0.7 * Math.abs(z - 5);
      return gaussianBlur2d(sharp, w, h, sigma, sigma);
    });
    for (const criterion of FOCUS_CRITERIA) {
      const scores = planes.map((p) => focusScore(p, w, h, criterion));
      expect(scores.indexOf(Math.max(...scores)), criterion).toBe(5);
      for (let z = 0; z < 5; z++) expect(scores[z], `${criterion} z=${z}`).toBeLessThan(scores[z + 1]);
      for (let z = 6; z < 11; z++) expect(scores[z], `${criterion} z=${z}`).toBeLessThan(scores[z - 1]);
    }
  });
});
