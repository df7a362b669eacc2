import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rowSharpness, sobelSharpnessMap } from './sharpness.js';
import { gaussianBlur2d } from '../../core/imaging.js';

/** Deterministic texture (as in criteria.test.ts). */
function texture(w: number, h: number): Float32Array {
  let s = 12345;
  return Float32Array.from({ length: w * h }, (_, i) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const x = i % w;
    const y = Math.floor(i / w);
    return 200 + 60 * Math.sin(x / 2.5) * Math.cos(y / 3.5) + 80 * ((s >>> 16) / 65536) + (x > w / 2 ? 50 : 0);
  });
}

const here = dirname(fileURLToPath(import.meta.url));
const fx = JSON.parse(readFileSync(join(here, 'fixtures', 'sharpness.json'), 'utf8')) as {
  width: number; height: number; image: string; reference: string;
  sobelReferenceRow0: number[]; sobelReferenceRow3: number[]; coefficients: number[]; stdErrors: number[];
};
const f64 = (b64: string) => {
  const b = Buffer.from(b64, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

describe('Sobel sharpness map and row sharpness (fixtures: scipy.ndimage.sobel + NumPy OLS)', () => {
  it('sobelSharpnessMap equals hypot(ndimage.sobel(axis=1), ndimage.sobel(axis=0)), boundary rows included', () => {
    const s = sobelSharpnessMap(f64(fx.reference), fx.width, fx.height);
    for (const [row, values] of [[0, fx.sobelReferenceRow0], [3, fx.sobelReferenceRow3]] as const) {
      values.forEach((v, x) => expect(Math.abs(s[row * fx.width + x] - v)).toBeLessThan(1e-9));
    }
  });

  it('rowSharpness gives the per-row OLS coefficients and standard errors of Deep-R Eqs. 6–8', () => {
    const r = rowSharpness(f64(fx.image), f64(fx.reference), fx.width, fx.height);
    fx.coefficients.forEach((c, i) => expect(Math.abs(r.coefficients[i] - c)).toBeLessThan(1e-10));
    fx.stdErrors.forEach((c, i) => expect(Math.abs(r.stdErrors[i] - c)).toBeLessThan(1e-10));
    const mean = fx.coefficients.reduce((a, b) => a + b, 0) / fx.height;
    expect(r.meanCoefficient).toBeCloseTo(mean, 12);
    expect(r.rows).toBe(fx.height);
  });

  it('is exactly 1 (std error 0) for identical images and < 1 for a blurred copy', () => {
    const w = 48;
    const ref = texture(w, 40);
    const same = rowSharpness(ref, ref, w, 40);
    expect(same.coefficients.every((c) => Math.abs(c - 1) < 1e-12)).toBe(true);
    expect(same.meanStdError).toBeLessThan(1e-12);
    expect(same.coefficientStd).toBeLessThan(1e-12);
    const blurred = rowSharpness(gaussianBlur2d(ref, w, 40, 1.5, 1.5), ref, w, 40);
    expect(blurred.coefficients.every((c) => c < 1)).toBe(true);
    expect(blurred.meanCoefficient).toBeLessThan(0.8);
    // blurring only the top half lowers only the top rows (a tilted sample's profile)
    const half = Float32Array.from(ref);
    half.set(gaussianBlur2d(ref, w, 40, 2, 2).subarray(0, 20 * w));
    const tilt = rowSharpness(half, ref, w, 40);
    expect(Math.max(...tilt.coefficients.subarray(0, 18))).toBeLessThan(0.8);
    expect(Math.min(...tilt.coefficients.subarray(22))).toBeCloseTo(1, 12);
  });

  it('gives NaN for rows where the reference is flat, and rejects bad input', () => {
    const flat = new Float64Array(5 * 4).fill(3);
    const r = rowSharpness(flat, flat, 5, 4);
    expect(Number.isNaN(r.coefficients[0])).toBe(true);
    expect(r.rows).toBe(0);
    expect(() => rowSharpness([1, 2], [1, 2, 3], 2, 1)).toThrow(/reference has 3 pixels, expected 2×1/);
    expect(() => rowSharpness([1, NaN], [1, 2], 2, 1)).toThrow(/image has NaN/);
  });
});
