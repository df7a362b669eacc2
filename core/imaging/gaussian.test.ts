import { describe, expect, it } from 'vitest';
import { gaussianBlur2d, gaussianKernel1d } from './gaussian.js';

/** Direct (non-separable) 2D convolution with a sampled, normalised 2D Gaussian, edges replicated. */
function directBlur(data: ArrayLike<number>, w: number, h: number, sx: number, sy: number, truncate = 4): Float64Array {
  const rx = Math.floor(truncate * sx + 0.5);
  const ry = Math.floor(truncate * sy + 0.5);
  let norm = 0;
  const kernel: number[][] = [];
  for (let dy = -ry; dy <= ry; dy++) {
    const row: number[] = [];
    for (let dx = -rx; dx <= rx; dx++) {
      const v = Math.exp(-(dx * dx) / (2 * sx * sx) - (dy * dy) / (2 * sy * sy));
      row.push(v);
      norm += v;
    }
    kernel.push(row);
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let dy = -ry; dy <= ry; dy++) {
        for (let dx = -rx; dx <= rx; dx++) {
          const cx = Math.min(w - 1, Math.max(0, x + dx));
          const cy = Math.min(h - 1, Math.max(0, y + dy));
          acc += kernel[dy + ry][dx + rx] * data[cy * w + cx];
        }
      }
      out[y * w + x] = acc / norm;
    }
  }
  return out;
}

/** Deterministic pseudo-random plane. */
function noise(n: number, seed = 7): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 1000;
  });
}

describe('gaussianKernel1d', () => {
  it('has radius floor(truncate·σ + 0.5), sums to 1 and is symmetric', () => {
    const k = gaussianKernel1d(1.5, 4);
    expect(k.length).toBe(2 * 6 + 1);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    for (let i = 0; i < 6; i++) expect(k[i]).toBeCloseTo(k[12 - i], 15);
    expect(k[6] / k[7]).toBeCloseTo(Math.exp(1 / (2 * 1.5 * 1.5)), 12);
    expect(gaussianKernel1d(2, 1).length).toBe(5);
  });

  it('is the identity for σ = 0', () => {
    expect([...gaussianKernel1d(0)]).toEqual([1]);
  });

  it('rejects negative σ and non-positive truncate', () => {
    expect(() => gaussianKernel1d(-1)).toThrow(/sigmaPx/);
    expect(() => gaussianKernel1d(1, 0)).toThrow(/truncate/);
  });
});

describe('gaussianBlur2d', () => {
  it('matches a direct 2D convolution, edges included (anisotropic σ)', () => {
    const w = 17;
    const h = 11;
    const data = noise(w * h);
    const fast = gaussianBlur2d(data, w, h, 1.7, 0.8);
    const slow = directBlur(data, w, h, 1.7, 0.8);
    for (let i = 0; i < w * h; i++) expect(fast[i]).toBeCloseTo(slow[i], 2);
    const maxErr = Math.max(...Array.from(fast, (v, i) => Math.abs(v - slow[i])));
    expect(maxErr).toBeLessThan(1e-3); // float32 rounding of values up to 1000
  });

  it('matches the direct convolution when the kernel is wider than the image', () => {
    const data = noise(4 * 3, 3);
    const fast = gaussianBlur2d(data, 4, 3, 3, 2, { truncate: 3 });
    const slow = directBlur(data, 4, 3, 3, 2, 3);
    for (let i = 0; i < 12; i++) expect(fast[i]).toBeCloseTo(slow[i], 3);
  });

  it('impulse response is the normalised sampled Gaussian (outer product of 1D kernels)', () => {
    const w = 31;
    const h = 31;
    const data = new Float32Array(w * h);
    data[15 * w + 15] = 1;
    const out = gaussianBlur2d(data, w, h, 2, 3);
    const kx = gaussianKernel1d(2);
    const ky = gaussianKernel1d(3);
    expect(kx.length).toBe(17);
    expect(ky.length).toBe(25);
    for (let dy = -12; dy <= 12; dy++) {
      for (let dx = -8; dx <= 8; dx++) expect(out[(15 + dy) * w + 15 + dx]).toBeCloseTo(kx[dx + 8] * ky[dy + 12], 7);
    }
    // nothing beyond the truncation radius
    expect(out[15 * w + 15 + 9]).toBe(0);
    expect(out[15 * w + 15 + 8]).toBeGreaterThan(0);
    // peak value of a unit-sum 2D Gaussian ≈ 1 / (2π σx σy)
    expect(out[15 * w + 15]).toBeCloseTo(1 / (2 * Math.PI * 2 * 3), 4);
  });

  it('preserves the sum away from the edges and keeps constant images constant', () => {
    const w = 40;
    const h = 40;
    const data = new Float32Array(w * h);
    data[20 * w + 18] = 500;
    data[17 * w + 21] = 250;
    const out = gaussianBlur2d(data, w, h, 1.5, 1.5);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(750, 2);
    const flat = gaussianBlur2d(new Float32Array(7 * 5).fill(42), 7, 5, 2, 2);
    for (const v of flat) expect(v).toBeCloseTo(42, 4);
  });

  it('σ = 0 along an axis leaves that axis untouched; both 0 is the identity', () => {
    const data = noise(6 * 4, 11);
    expect([...gaussianBlur2d(data, 6, 4, 0, 0)]).toEqual([...data]);
    const onlyX = gaussianBlur2d(data, 6, 4, 1, 0);
    const direct = directBlur(data, 6, 4, 1, 1e-9); // σy → 0: a 1-row kernel
    for (let i = 0; i < 24; i++) expect(onlyX[i]).toBeCloseTo(direct[i], 2);
  });

  it('does not modify its input and validates its arguments', () => {
    const data = Uint16Array.of(1, 2, 3, 4, 5, 6);
    gaussianBlur2d(data, 3, 2, 1, 1);
    expect([...data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => gaussianBlur2d(data, 4, 2, 1, 1)).toThrow(/expected 4×2 = 8/);
    expect(() => gaussianBlur2d(data, 0, 2, 1, 1)).toThrow(/positive integers/);
    expect(() => gaussianBlur2d(data, 3, 2, NaN, 1)).toThrow(/sigmaPx/);
  });
});
