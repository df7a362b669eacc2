import { describe, expect, it } from 'vitest';
import { FftPlan, RealFft3d, fftComplex, isFastSize, nextFastSize } from './plan.js';
import { mulberry32 } from '../random.js';

/** Uniform in [−0.5, 0.5): core's mulberry32, centred. */
function rng(seed: number): () => number {
  const u = mulberry32(seed);
  return () => u() - 0.5;
}

/** Naive DFT along one axis of a batched layout (element j of sequence b at j·batch + b). */
function naiveDft(re: Float64Array, im: Float64Array, n: number, batch: number, sign = -1): { re: Float64Array; im: Float64Array } {
  const or = new Float64Array(n * batch);
  const oi = new Float64Array(n * batch);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < n; k++) {
      let sr = 0;
      let si = 0;
      for (let j = 0; j < n; j++) {
        const a = (sign * 2 * Math.PI * ((j * k) % n)) / n;
        const c = Math.cos(a);
        const s = Math.sin(a);
        sr += re[j * batch + b] * c - im[j * batch + b] * s;
        si += re[j * batch + b] * s + im[j * batch + b] * c;
      }
      or[k * batch + b] = sr;
      oi[k * batch + b] = si;
    }
  }
  return { re: or, im: oi };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('fast sizes', () => {
  it('recognises and finds 2^a·3^b·5^c sizes', () => {
    expect([1, 2, 3, 5, 8, 45, 1152, 1125].every(isFastSize)).toBe(true);
    expect([7, 14, 1088, 0, -4, 2.5].some(isFastSize)).toBe(false);
    expect(nextFastSize(1088)).toBe(1125);
    expect(nextFastSize(1088, true)).toBe(1152);
    expect(nextFastSize(7)).toBe(8);
    expect(nextFastSize(11, true)).toBe(12);
    expect(nextFastSize(1)).toBe(1);
  });
});

describe('FftPlan (complex, batched)', () => {
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 25, 27, 30, 45, 49, 60, 64, 77, 81, 100, 105, 121, 125, 128, 11 * 13];
  it('matches a naive DFT for 2-, 3-, 5-, 7-smooth, prime and odd sizes, batched and not', () => {
    const rand = rng(1);
    for (const n of sizes) {
      for (const batch of [1, 3]) {
        const re = Float64Array.from({ length: n * batch }, rand);
        const im = Float64Array.from({ length: n * batch }, rand);
        const ref = naiveDft(re, im, n, batch);
        const r = re.slice();
        const i = im.slice();
        new FftPlan(n).transform(r, i, batch, new Float64Array(n * batch), new Float64Array(n * batch));
        const err = Math.max(maxAbsDiff(r, ref.re), maxAbsDiff(i, ref.im));
        expect(err, `n=${n} batch=${batch}`).toBeLessThan(1e-12 * n * Math.log2(n + 1) + 1e-13);
      }
    }
  });

  it('round-trips (inverse normalised by 1/n) and satisfies Parseval', () => {
    const rand = rng(2);
    for (const n of [60, 77, 96, 125]) {
      const re = Float64Array.from({ length: n }, rand);
      const im = Float64Array.from({ length: n }, rand);
      const f = fftComplex(re, im);
      const back = fftComplex(f.re, f.im, true);
      expect(maxAbsDiff(back.re, re)).toBeLessThan(1e-14 * n);
      expect(maxAbsDiff(back.im, im)).toBeLessThan(1e-14 * n);
      let e1 = 0;
      let e2 = 0;
      for (let k = 0; k < n; k++) {
        e1 += re[k] ** 2 + im[k] ** 2;
        e2 += f.re[k] ** 2 + f.im[k] ** 2;
      }
      expect(e2 / n).toBeCloseTo(e1, 10);
    }
  });
});

describe('RealFft3d', () => {
  it('equals the naive 2D/3D DFT of real data (half spectrum) and round-trips', () => {
    const rand = rng(3);
    for (const [nx, ny, nz] of [[2, 1, 1], [6, 5, 1], [10, 9, 1], [16, 15, 1], [14, 7, 1], [8, 6, 5], [12, 3, 9]] as const) {
      const n = nx * ny * nz;
      const data = Float64Array.from({ length: n }, rand);
      // naive full DFT: x axis (batch 1 per row), then y, then z
      let cur: { re: Float64Array; im: Float64Array } = { re: data.slice(), im: new Float64Array(n) };
      // along x: sequences are rows; use naiveDft per row
      const ax = { re: new Float64Array(n), im: new Float64Array(n) };
      for (let row = 0; row < ny * nz; row++) {
        const r = naiveDft(cur.re.subarray(row * nx, row * nx + nx), cur.im.subarray(row * nx, row * nx + nx), nx, 1);
        ax.re.set(r.re, row * nx);
        ax.im.set(r.im, row * nx);
      }
      cur = ax;
      const ay = { re: new Float64Array(n), im: new Float64Array(n) };
      for (let z = 0; z < nz; z++) {
        const o = z * nx * ny;
        const r = naiveDft(cur.re.subarray(o, o + nx * ny), cur.im.subarray(o, o + nx * ny), ny, nx);
        ay.re.set(r.re, o);
        ay.im.set(r.im, o);
      }
      cur = nz > 1 ? naiveDft(ay.re, ay.im, nz, nx * ny) : ay;
      const fft = new RealFft3d(nx, ny, nz);
      fft.forward(data);
      const hx = nx / 2 + 1;
      let err = 0;
      for (let z = 0; z < nz; z++) {
        for (let y = 0; y < ny; y++) {
          for (let k = 0; k < hx; k++) {
            const s = (z * ny + y) * hx + k;
            const f = (z * ny + y) * nx + k;
            err = Math.max(err, Math.abs(fft.specRe[s] - cur.re[f]), Math.abs(fft.specIm[s] - cur.im[f]));
          }
        }
      }
      expect(err, `${nx}×${ny}×${nz}`).toBeLessThan(1e-11);
      const out = new Float64Array(n);
      fft.inverse(out);
      for (let i = 0; i < n; i++) out[i] /= n;
      expect(maxAbsDiff(out, data), `${nx}×${ny}×${nz} round trip`).toBeLessThan(1e-14 * n + 1e-15);
    }
  });

  it('Parseval on a 2D real transform (half spectrum counted twice except kx = 0 and nx/2)', () => {
    const rand = rng(4);
    const nx = 30;
    const ny = 18;
    const data = Float64Array.from({ length: nx * ny }, rand);
    const fft = new RealFft3d(nx, ny);
    fft.forward(data);
    let spec = 0;
    for (let y = 0; y < ny; y++) {
      for (let k = 0; k <= nx / 2; k++) {
        const s = y * (nx / 2 + 1) + k;
        const w = k === 0 || k === nx / 2 ? 1 : 2;
        spec += w * (fft.specRe[s] ** 2 + fft.specIm[s] ** 2);
      }
    }
    const energy = data.reduce((a, v) => a + v * v, 0);
    expect(spec / (nx * ny)).toBeCloseTo(energy, 9);
  });

  it('rejects odd nx', () => {
    expect(() => new RealFft3d(7, 4)).toThrow(/even/);
  });
});
