import { describe, expect, it } from 'vitest';
import { isFocalError } from '../../errors.js';
import { Xoshiro128 } from '../random.js';
import { CONVOLVE_BOUNDARIES, FftConvolver, ImageConvolver, KernelConvolver, LayeredConvolver, convolveDirect, extendIndex, fftConvolve, mirrorIndex } from './convolve.js';

function noise(n: number, seed: number, scale = 1000): Float64Array {
  const rng = new Xoshiro128(seed);
  return Float64Array.from({ length: n }, () => scale * rng.uniform());
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

describe('boundary extension', () => {
  it('mirrors half-sample (SciPy reflect), clamps, wraps, zeroes', () => {
    // n = 3: … c b a | a b c | c b a …
    expect([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((i) => mirrorIndex(i, 3))).toEqual([2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]);
    expect([-2, -1, 3, 4].map((i) => extendIndex(i, 3, 'nearest'))).toEqual([0, 0, 2, 2]);
    expect([-4, -1, 3, 7].map((i) => extendIndex(i, 3, 'wrap'))).toEqual([2, 2, 0, 1]);
    expect([-1, 3, 1].map((i) => extendIndex(i, 3, 'zero'))).toEqual([-1, -1, 1]);
  });
});

describe('fftConvolve', () => {
  it('equals direct convolution for every boundary, odd and even image sizes, non-square asymmetric kernels', () => {
    for (const [w, h] of [[23, 17], [16, 9]]) {
      const img = noise(w * h, w);
      const k = noise(7 * 5, 9, 1); // 7 wide, 5 high, asymmetric: checks convolution (not correlation) and orientation
      for (const boundary of CONVOLVE_BOUNDARIES) {
        const fft = fftConvolve(img, w, h, k, 7, 5, { boundary });
        const direct = convolveDirect(img, w, h, k, 7, 5, { boundary });
        expect(maxDiff(fft, direct)).toBeLessThan(1e-8);
      }
    }
  });

  it('is a true convolution: a shifted delta kernel shifts the image the same way', () => {
    const w = 12, h = 10;
    const img = noise(w * h, 4);
    const k = new Float64Array(9);
    k[2 * 3 + 2] = 1; // (i, j) = (2, 2): +1 in x and y from the centre
    const out = fftConvolve(img, w, h, k, 3, 3, { boundary: 'zero' });
    expect(out[5 * w + 6]).toBeCloseTo(img[4 * w + 5], 9);
    expect(out[0]).toBeCloseTo(0, 9);
  });

  it("keeps the sum exactly with 'reflect' and a symmetric kernel (mirror boundaries)", () => {
    const w = 40, h = 31;
    const img = noise(w * h, 2);
    const k = Float64Array.from({ length: 15 * 15 }, (_, i) => Math.exp(-(((i % 15) - 7) ** 2 + (Math.floor(i / 15) - 7) ** 2) / 20));
    const s = sum(k);
    for (let i = 0; i < k.length; i++) k[i] /= s;
    const out = fftConvolve(img, w, h, k, 15, 15, { boundary: 'reflect' });
    expect(Math.abs(sum(out) / sum(img) - 1)).toBeLessThan(1e-12);
  });

  it('pads to 5-smooth sizes, not powers of two', () => {
    const c = new FftConvolver(512, 512, 32);
    expect([c.nx, c.ny]).toEqual([576, 576]);
  });

  it('rejects bad input with a FocalError naming the field', () => {
    const img = noise(20, 1);
    const bad = (fn: () => unknown, field: string) => {
      try {
        fn();
      } catch (e) {
        expect(isFocalError(e)).toBe(true);
        expect((e as { details: { field?: string } }).details.field).toBe(field);
        return;
      }
      throw new Error(`no error for ${field}`);
    };
    bad(() => fftConvolve(img, 5, 4, [1, 1], 2, 1), 'kernelWidth');
    bad(() => fftConvolve(img, 5, 5, [1], 1, 1), 'image');
    bad(() => fftConvolve(img, 5, 4, [1, 2], 1, 1), 'kernel');
    bad(() => fftConvolve(img, 5, 4, [1], 1, 1, { boundary: 'mirror' as never }), 'boundary');
    bad(() => new ImageConvolver(img, 5, 4, 1).convolve(new Float64Array(25), 5), 'kernelWidth');
  });
});

describe('reusable convolvers', () => {
  it('ImageConvolver, KernelConvolver and LayeredConvolver equal direct convolution', () => {
    const w = 21, h = 14;
    const a = noise(w * h, 5);
    const b = noise(w * h, 6);
    const k1 = noise(9 * 9, 7, 1);
    const k2 = noise(5 * 3, 8, 1);
    const ic = new ImageConvolver(a, w, h, 4, 4, { boundary: 'nearest' });
    expect(maxDiff(ic.convolve(k1, 9), convolveDirect(a, w, h, k1, 9, 9, { boundary: 'nearest' }))).toBeLessThan(1e-8);
    expect(maxDiff(ic.convolve(k2, 5, 3), convolveDirect(a, w, h, k2, 5, 3, { boundary: 'nearest' }))).toBeLessThan(1e-8);
    const kc = new KernelConvolver(k1, 9, 9, w, h, { boundary: 'wrap' });
    expect(maxDiff(kc.convolve(a), convolveDirect(a, w, h, k1, 9, 9, { boundary: 'wrap' }))).toBeLessThan(1e-8);
    expect(maxDiff(kc.convolve(b), convolveDirect(b, w, h, k1, 9, 9, { boundary: 'wrap' }))).toBeLessThan(1e-8);
    const lc = new LayeredConvolver(w, h, 4);
    lc.add(a, k1, 9);
    lc.add(b, k2, 5, 3);
    const second = convolveDirect(b, w, h, k2, 5, 3);
    const want = convolveDirect(a, w, h, k1, 9, 9).map((v, i) => v + second[i]);
    expect(maxDiff(lc.result(), want)).toBeLessThan(1e-8);
  });
});
