import { describe, expect, it } from 'vitest';
import { isFocalError, Xoshiro128 } from '../index.js';
import { ImageConvolver, LayeredConvolver, convolveDirect } from '../numeric/fft/convolve.js';
import { defocus, defocusImage, defocusMap, defocusSeries } from './defocus.js';
import { bornWolfPsf } from './psf.js';

const optics = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.5, pixelSizeUm: 0.325 };
const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

/** Deterministic textured test image: random bright discs on a dim background. */
function cells(w: number, h: number, seed = 3): Float32Array {
  const rng = new Xoshiro128(seed);
  const img = new Float32Array(w * h).fill(10);
  for (let k = 0; k < 25; k++) {
    const cx = rng.uniform() * w;
    const cy = rng.uniform() * h;
    const r = 2 + rng.uniform() * 4;
    const v = 100 + rng.uniform() * 900;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) img[y * w + x] = v;
  }
  return img;
}

/** Sum of squared forward differences over rows y0…y1−1: a simple sharpness measure. */
function gradientEnergy(img: ArrayLike<number>, w: number, y0: number, y1: number): number {
  let s = 0;
  for (let y = y0; y < y1; y++) for (let x = 0; x < w - 1; x++) s += (img[y * w + x + 1] - img[y * w + x]) ** 2 + (img[(y + 1) * w + x] - img[y * w + x]) ** 2;
  return s;
}

describe("core's ImageConvolver / LayeredConvolver on Born & Wolf PSFs (what defocus uses)", () => {
  it('equal direct convolution with mirror boundaries', () => {
    const img = cells(23, 17);
    const psf = bornWolfPsf({ ...optics, defocusUm: 1.5, sizePx: 11 });
    const fft = new ImageConvolver(img, 23, 17, 5).convolve(psf, 11);
    const direct = convolveDirect(img, 23, 17, psf, 11, 11, { boundary: 'reflect' });
    for (let i = 0; i < fft.length; i++) expect(Math.abs(fft[i] - direct[i])).toBeLessThan(1e-7);
    // a larger radius than the PSF needs, and a second PSF on the same image spectrum
    const other = bornWolfPsf({ ...optics, defocusUm: 0.4, sizePx: 11 });
    const conv = new ImageConvolver(img, 23, 17, 7);
    const [p, q] = [conv.convolve(psf, 11), conv.convolve(other, 11)];
    const directOther = convolveDirect(img, 23, 17, other, 11);
    for (let i = 0; i < p.length; i++) {
      expect(Math.abs(p[i] - direct[i])).toBeLessThan(1e-7);
      expect(Math.abs(q[i] - directOther[i])).toBeLessThan(1e-7);
    }
    // layered: Σ layer_k ∗ psf_k, each layer with its own PSF
    const left = Float64Array.from(img, (v, i) => (i % 23 < 11 ? v : 0));
    const right = Float64Array.from(img, (v, i) => (i % 23 < 11 ? 0 : v));
    const layered = new LayeredConvolver(23, 17, 6);
    layered.add(left, psf, 11);
    layered.add(right, other, 11);
    const sumOf = layered.result();
    const a = convolveDirect(left, 23, 17, psf, 11);
    const b = convolveDirect(right, 23, 17, other, 11);
    for (let i = 0; i < sumOf.length; i++) expect(Math.abs(sumOf[i] - a[i] - b[i])).toBeLessThan(1e-7);
  });
});

describe('defocus', () => {
  it('preserves the image sum (uniform defocus: exactly, mirror boundaries) and blurs', () => {
    const img = cells(64, 48);
    for (const d of [0.5, 2, -3]) {
      const out = defocus(img, 64, 48, { ...optics, defocusUm: d });
      expect(Math.abs(sum(out) / sum(img) - 1)).toBeLessThan(1e-6);
      expect(gradientEnergy(out, 64, 0, 47)).toBeLessThan(gradientEnergy(img, 64, 0, 47));
    }
  });

  it('turns a point source into the PSF', () => {
    const w = 61;
    const img = new Float32Array(w * w);
    img[30 * w + 30] = 1000;
    const out = defocus(img, w, w, { ...optics, defocusUm: 2, psfSizePx: 41 });
    const psf = bornWolfPsf({ ...optics, defocusUm: 2, sizePx: 41 });
    for (let y = 0; y < 41; y++) for (let x = 0; x < 41; x++) expect(Math.abs(out[(y + 10) * w + x + 10] - 1000 * psf[y * 41 + x])).toBeLessThan(1e-4);
    expect(out[5 * w + 5]).toBeCloseTo(0, 4);
  });

  it('tilt: the side nearer focus stays sharper; energy preserved', () => {
    const w = 64;
    const h = 64;
    const img = cells(w, h, 5);
    // tilt axis along x: defocus = 0 at the centre row, grows with |y|, and tan(10°)·y·0.325 µm
    const out = defocus(img, w, h, { ...optics, defocusUm: 1.5, tiltDeg: 10, tiltAxisDeg: 0, binStepUm: 0.2 });
    const map = defocusMap(w, h, { defocusUm: 1.5, tiltDeg: 10, pixelSizeUm: 0.325 })!;
    expect(map[0]).toBeCloseTo(1.5 + Math.tan((10 * Math.PI) / 180) * -31.5 * 0.325, 9);
    const flat = defocus(img, w, h, { ...optics, defocusUm: 1.5 });
    const topRatio = gradientEnergy(out, w, 2, 20) / gradientEnergy(flat, w, 2, 20);
    const bottomRatio = gradientEnergy(out, w, 44, 62) / gradientEnergy(flat, w, 44, 62);
    expect(topRatio).toBeGreaterThan(1.2); // top rows: defocus ≈ 0…0.6 µm
    expect(bottomRatio).toBeLessThan(0.8); // bottom rows: ≈ 2.4…3.3 µm
    expect(Math.abs(sum(out) / sum(img) - 1)).toBeLessThan(1e-6);
  });

  it('height map: equals the uniform result where the local defocus is a bin centre', () => {
    const w = 40;
    const img = cells(w, w, 8);
    const hm = new Float32Array(w * w).fill(0.7);
    const a = defocus(img, w, w, { ...optics, defocusUm: 0.5, heightMapUm: hm });
    const b = defocus(img, w, w, { ...optics, defocusUm: 1.2 });
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-3);
  });

  it('noise: mean and variance ≈ photons on a flat image; read noise adds its variance; same seed → same output', () => {
    const w = 128;
    const flat = new Float32Array(w * w).fill(3);
    const stats = (a: Float32Array) => {
      const m = sum(a) / a.length;
      return { m, v: a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1) };
    };
    const photons = 200;
    const shot = defocusImage(flat, w, w, { ...optics, defocusUm: 1, photons, seed: 11 });
    expect(shot.electronsPerUnit).toBeCloseTo(photons / 3, 12);
    const s1 = stats(shot.image);
    // 16384 pixels: SE of the mean ≈ 0.11, of the variance ≈ 2.2
    expect(Math.abs(s1.m - photons)).toBeLessThan(0.6);
    expect(Math.abs(s1.v - photons)).toBeLessThan(12);
    expect(shot.image.every((v) => Number.isInteger(v))).toBe(true);
    const withRead = defocus(flat, w, w, { ...optics, defocusUm: 1, photons, readNoiseE: 10, seed: 11 });
    const s2 = stats(withRead);
    expect(Math.abs(s2.v - (photons + 100))).toBeLessThan(20);
    const bg = defocus(flat, w, w, { ...optics, defocusUm: 1, photons, backgroundPhotons: 50, seed: 11 });
    expect(Math.abs(stats(bg).m - 250)).toBeLessThan(0.8);
    expect([...defocus(flat, w, w, { ...optics, defocusUm: 1, photons, readNoiseE: 10, seed: 11 })]).toEqual([...withRead]);
    expect([...defocus(flat, w, w, { ...optics, defocusUm: 1, photons, readNoiseE: 10, seed: 12 })]).not.toEqual([...withRead]);
  });

  it('large photon counts (PTRS branch) have Poisson mean and variance', () => {
    const rng = new Xoshiro128(42);
    for (const lam of [3, 15, 400]) {
      let s = 0;
      let s2 = 0;
      const n = 20000;
      for (let i = 0; i < n; i++) {
        const k = rng.poisson(lam);
        s += k;
        s2 += k * k;
      }
      const m = s / n;
      const v = s2 / n - m * m;
      expect(Math.abs(m - lam)).toBeLessThan(5 * Math.sqrt(lam / n));
      expect(Math.abs(v / lam - 1)).toBeLessThan(0.05);
    }
  });

  it('series: planes share the image FFT and get independent noise streams', () => {
    const img = cells(32, 32);
    const planes = defocusSeries(img, 32, 32, { ...optics, defocusUm: [-1, 0, 1], photons: 100, seed: 1 });
    expect(planes).toHaveLength(3);
    expect([...planes[0].image]).not.toEqual([...planes[2].image]);
    const single = defocusImage(img, 32, 32, { ...optics, defocusUm: 1, photons: 100, seed: 1, noiseStream: 2 });
    expect([...single.image]).toEqual([...planes[2].image]);
  });

  it('errors name the field', () => {
    const img = cells(16, 16);
    const cases: [() => unknown, string][] = [
      [() => defocus(new Float32Array(0), 0, 0, { ...optics, defocusUm: 1 }), 'image'],
      [() => defocus(Float32Array.of(1, Number.NaN, 1, 1), 2, 2, { ...optics, defocusUm: 1 }), 'image'],
      [() => defocus(img, 16, 16, { ...optics, na: 1.1, defocusUm: 1 }), 'na'],
      [() => defocus(img, 16, 16, { ...optics, wavelengthUm: -1, defocusUm: 1 }), 'wavelengthUm'],
      [() => defocus(img, 16, 16, { ...optics, defocusUm: 1, psfSizePx: 8 }), 'psfSizePx'],
      [() => defocus(img, 16, 16, { ...optics, defocusUm: 1, readNoiseE: 2 }), 'readNoiseE'],
      [() => defocus(img, 16, 16, { ...optics, defocusUm: 1, tiltDeg: 90 }), 'tiltDeg'],
      [() => defocus(img, 16, 16, { ...optics, defocusUm: 1, heightMapUm: new Float32Array(3) }), 'heightMapUm'],
      [() => defocus(new Float32Array(256), 16, 16, { ...optics, defocusUm: 1, photons: 10 }), 'image'],
    ];
    for (const [fn, field] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(isFocalError(err), field).toBe(true);
      expect((err as { details: { field: string } }).details.field, field).toBe(field);
    }
  });
});

describe('defocusSeries memory estimate', () => {
  it('refuses, before allocating, a PSF window and plane count whose buffers exceed the budget, naming the op and the size', () => {
    const img = new Float32Array(64 * 64).fill(1);
    const planes = Array.from({ length: 2000 }, (_, i) => i * 0.01);
    expect(() => defocusSeries(img, 64, 64, { na: 1.4, refractiveIndex: 1.515, wavelengthUm: 0.5, pixelSizeUm: 0.1, defocusUm: planes, psfSizePx: 4001 }))
      .toThrow(/psfSizePx: optics\.defocus of a 64×64 image with a 4001-px PSF window and 2000 plane\(s\) would need about [\d.]+ GiB of memory, more than the budget/);
  });
});
