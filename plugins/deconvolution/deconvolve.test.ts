import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isFocalError, mulberry32 } from '../../core/index.js';
import { bornWolfPsf, psnr, ssim } from '../../core/imaging.js';
import { convolve, landweber, richardsonLucy } from './deconvolve.js';
import { pffftStatus } from './spectral.js';

interface FixtureCase {
  name: string;
  shape: number[];
  psfShape: number[];
  iterations: number;
  image: string;
  psf: string;
  expected: string;
}

const fixtures = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/skimage-rl.json', import.meta.url)), 'utf8')) as { skimage: string; cases: FixtureCase[] };

function decode(b64: string, type: 'f32' | 'f64'): Float32Array | Float64Array {
  const buf = Buffer.from(b64, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return type === 'f32' ? new Float32Array(ab) : new Float64Array(ab);
}

/** numpy shape (z?, y, x) → dims */
function dimsOf(shape: number[]) {
  return shape.length === 2 ? { width: shape[1], height: shape[0] } : { width: shape[2], height: shape[1], depth: shape[0] };
}

const rng = mulberry32;

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

/** Synthetic "nuclei" image: elliptical blobs with sharp edges and texture on a dim background. */
function cells(w: number, h: number, seed = 5): Float32Array {
  const rand = rng(seed);
  const img = new Float32Array(w * h).fill(30);
  for (let k = 0; k < 18; k++) {
    const cx = rand() * w;
    const cy = rand() * h;
    const r = 4 + rand() * 6;
    const a = 300 + rand() * 500;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const d = Math.hypot((x - cx) / r, ((y - cy) / r) * 1.3);
        if (d < 1) img[y * w + x] += a * (0.7 + 0.3 * Math.cos(x * 1.3 + y * 0.7)) * (1 - d * d * 0.5);
      }
    }
  }
  return img;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let peak = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) peak = Math.max(peak, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / peak;
}

describe('richardsonLucy vs scikit-image', () => {
  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s equals skimage.restoration.richardson_lucy(clip=False) with boundary zero', (_name, c) => {
    const image = decode(c.image, 'f32');
    const psf = decode(c.psf, 'f32');
    const expected = decode(c.expected, 'f64');
    const { image: out } = richardsonLucy(image, dimsOf(c.shape), psf, dimsOf(c.psfShape), { iterations: c.iterations, boundary: 'zero' });
    const err = maxRelDiff(out, expected);
    // eslint-disable-next-line no-console
    console.log(`${c.name}: max |Focal − skimage| / max = ${err.toExponential(2)}`);
    // achieved ≈ 1e-7 (float32 output and state); asserted 1e-5 (the brief's bound is 1e-4)
    expect(err).toBeLessThan(1e-5);
  });
});

describe('round trip with a Born & Wolf PSF', () => {
  it('RL raises the SSIM to the original above the defocused input (numbers printed)', () => {
    const w = 128;
    const h = 128;
    const truth = cells(w, h);
    const k = 33;
    const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 2, sizePx: k });
    const blurred = convolve(truth, { width: w, height: h }, psf, { width: k, height: k });
    const rand = rng(9);
    const noisy = blurred.map((v) => v + 2 * gauss(rand)); // mild Gaussian noise (σ = 2 on a ~300–800 signal)
    const dataRange = 800;
    const ssimIn = ssim(noisy, truth, w, h, { dataRange });
    const psnrIn = psnr(noisy, truth, { dataRange });
    const res = richardsonLucy(noisy, { width: w, height: h }, psf, { width: k, height: k }, { iterations: 50, reference: truth });
    const ssimOut = ssim(res.image, truth, w, h, { dataRange });
    const last = res.stats!.at(-1)!;
    // eslint-disable-next-line no-console
    console.log(`round trip (128², Born & Wolf NA 0.75, λ 0.53 µm, 0.325 µm px, defocus 2 µm, 33 px, noise σ 2): ` +
      `defocused SSIM ${ssimIn.toFixed(4)} PSNR ${psnrIn.toFixed(2)} dB → RL 50 it SSIM ${last.ssim.toFixed(4)} PSNR ${last.psnr.toFixed(2)} dB`);
    expect(res.stats).toHaveLength(50);
    expect(last.ssim).toBeGreaterThan(ssimIn + 0.05);
    expect(last.psnr).toBeGreaterThan(psnrIn);
    expect(ssimOut).toBeGreaterThan(ssimIn);
    // the stats rise over the first iterations
    expect(res.stats![9].ssim).toBeGreaterThan(res.stats![0].ssim);
  });
});

describe('landweber', () => {
  it('converges: the data residual |y − K x| decreases over iterations and stays non-negative', () => {
    const w = 64;
    const h = 64;
    const truth = cells(w, h, 3);
    const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1.5, sizePx: 17 });
    const y = convolve(truth, { width: w, height: h }, psf, { width: 17, height: 17 });
    const residuals: number[] = [];
    let minValue = Infinity;
    landweber(y, { width: w, height: h }, psf, { width: 17, height: 17 }, {
      iterations: 30,
      step: 1.5,
      onIteration: (i, est) => {
        if (i % 10 !== 0) return;
        const kx = convolve(est, { width: w, height: h }, psf, { width: 17, height: 17 });
        let r = 0;
        for (let j = 0; j < y.length; j++) r += (y[j] - kx[j]) ** 2;
        residuals.push(Math.sqrt(r));
        for (const v of est) minValue = Math.min(minValue, v);
      },
    });
    expect(residuals).toHaveLength(3);
    expect(residuals[1]).toBeLessThan(residuals[0]);
    expect(residuals[2]).toBeLessThan(residuals[1]);
    expect(minValue).toBeGreaterThanOrEqual(0);
  });

  it('zero boundary (4-FFT path) agrees with the shortcut in the image interior', () => {
    const w = 48;
    const h = 40;
    const truth = cells(w, h, 4);
    const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1, sizePx: 9 });
    const y = convolve(truth, { width: w, height: h }, psf, { width: 9, height: 9 });
    const a = landweber(y, { width: w, height: h }, psf, { width: 9, height: 9 }, { iterations: 5, nonNegative: false }).image;
    const b = landweber(y, { width: w, height: h }, psf, { width: 9, height: 9 }, { iterations: 5, nonNegative: false, boundary: 'zero' }).image;
    let m = 0;
    for (let yy = 20; yy < h - 20; yy++) for (let x = 20; x < w - 20; x++) m = Math.max(m, Math.abs(a[yy * w + x] - b[yy * w + x]));
    expect(m).toBeLessThan(1e-2 * 800);
  });
});

describe('FFT backends', () => {
  it('PFFFT (WebAssembly, float32) and the JS FFT (float64) give the same RL and Landweber results', () => {
    expect(pffftStatus().available).toBe(true);
    const w = 70;
    const h = 50;
    const truth = cells(w, h, 21);
    const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1.5, sizePx: 15 });
    const y = convolve(truth, { width: w, height: h }, psf, { width: 15, height: 15 });
    const dims = { width: w, height: h };
    const pd = { width: 15, height: 15 };
    for (const boundary of ['reflect-taper', 'zero'] as const) {
      const a = richardsonLucy(y, dims, psf, pd, { iterations: 15, boundary, backend: 'pffft-wasm' });
      const b = richardsonLucy(y, dims, psf, pd, { iterations: 15, boundary, backend: 'js' });
      expect([a.backend, b.backend]).toEqual(['pffft-wasm', 'js']);
      expect(a.box[0] % 32).toBe(0);
      const rl = maxRelDiff(a.image, b.image);
      const lwA = landweber(y, dims, psf, pd, { iterations: 15, boundary, step: 1.5, backend: 'pffft-wasm' }).image;
      const lwB = landweber(y, dims, psf, pd, { iterations: 15, boundary, step: 1.5, backend: 'js' }).image;
      const lw = maxRelDiff(lwA, lwB);
      // different box sizes (PFFFT needs multiples of 32 / 16) and float32 vs float64 transforms
      expect(rl, `RL ${boundary}`).toBeLessThan(1e-4);
      expect(lw, `Landweber ${boundary}`).toBeLessThan(1e-4);
    }
  });
});

describe('tiling', () => {
  it('tiled = untiled away from tile seams (RL, 20 iterations)', () => {
    const w = 160;
    const h = 120;
    const truth = cells(w, h, 7);
    const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1, sizePx: 9 });
    const y = convolve(truth, { width: w, height: h }, psf, { width: 9, height: 9 });
    const full = richardsonLucy(y, { width: w, height: h }, psf, { width: 9, height: 9 }, { iterations: 20 });
    const tiled = richardsonLucy(y, { width: w, height: h }, psf, { width: 9, height: 9 }, { iterations: 20, tileSizePx: 80 });
    expect(full.tiles).toEqual([1, 1]);
    expect(tiled.tiles[0] * tiled.tiles[1]).toBeGreaterThan(2);
    const err = maxRelDiff(tiled.image, full.image);
    // eslint-disable-next-line no-console
    console.log(`tiled ${tiled.tiles.join('×')} vs untiled: max |Δ| / max = ${err.toExponential(2)}`);
    // measured 6.8e-5 (3×2 tiles of 80 px, overlap 2·(k − 1) = 16 px each side of a seam): stated tolerance 2e-4 of the peak, seams included
    expect(err).toBeLessThan(2e-4);
  });

  it('derives tiles from memoryBudgetMb and rejects a budget too small for any tile', () => {
    const w = 200;
    const h = 200;
    const y = cells(w, h, 8);
    const psf = new Float32Array(25).fill(1);
    const res = richardsonLucy(y, { width: w, height: h }, psf, { width: 5, height: 5 }, { iterations: 1, memoryBudgetMb: 1 });
    expect(res.tiles[0] * res.tiles[1]).toBeGreaterThan(1);
    expect(() => richardsonLucy(y, { width: w, height: h }, psf, { width: 5, height: 5 }, { iterations: 1, memoryBudgetMb: 0.01 })).toThrow(/memoryBudgetMb/);
  });
});

describe('RL-TV', () => {
  it('reduces noise in flat areas compared with plain RL', () => {
    const w = 96;
    const h = 96;
    const truth = cells(w, h, 11);
    const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1.5, sizePx: 17 });
    const y = convolve(truth, { width: w, height: h }, psf, { width: 17, height: 17 });
    const rand = rng(12);
    const noisy = y.map((v) => v + 8 * gauss(rand));
    const plain = richardsonLucy(noisy, { width: w, height: h }, psf, { width: 17, height: 17 }, { iterations: 30 }).image;
    const tv = richardsonLucy(noisy, { width: w, height: h }, psf, { width: 17, height: 17 }, { iterations: 30, tvLambda: 0.03 }).image;
    // noise = std of the estimate where the truth is flat background
    const flatStd = (img: Float32Array) => {
      let s = 0;
      let s2 = 0;
      let n = 0;
      for (let i = 0; i < truth.length; i++) {
        if (truth[i] === 30) {
          s += img[i];
          s2 += img[i] * img[i];
          n++;
        }
      }
      return Math.sqrt(s2 / n - (s / n) ** 2);
    };
    // eslint-disable-next-line no-console
    console.log(`RL-TV: background std plain RL ${flatStd(plain).toFixed(2)}, λ = 0.03 ${flatStd(tv).toFixed(2)} (input noise σ 8)`);
    expect(flatStd(tv)).toBeLessThan(0.9 * flatStd(plain));
  });
});

describe('3D', () => {
  it('deconvolves a small volume with a 3D PSF: closer to the truth than the blurred input', () => {
    const w = 24;
    const h = 20;
    const d = 12;
    const truth = new Float32Array(w * h * d).fill(10);
    for (const [cx, cy, cz] of [[6, 6, 4], [16, 12, 7], [10, 15, 9]]) {
      for (let z = 0; z < d; z++) for (let yy = 0; yy < h; yy++) for (let x = 0; x < w; x++) {
        if ((x - cx) ** 2 + (yy - cy) ** 2 + 2 * (z - cz) ** 2 < 6) truth[(z * h + yy) * w + x] = 500;
      }
    }
    const psf = new Float32Array(5 * 5 * 5);
    for (let z = 0; z < 5; z++) for (let yy = 0; yy < 5; yy++) for (let x = 0; x < 5; x++) psf[(z * 5 + yy) * 5 + x] = Math.exp(-((x - 2) ** 2 + (yy - 2) ** 2) / 2 - (z - 2) ** 2 / 1.5);
    const dims = { width: w, height: h, depth: d };
    const pd = { width: 5, height: 5, depth: 5 };
    const y = convolve(truth, dims, psf, pd);
    const out = richardsonLucy(y, dims, psf, pd, { iterations: 40 });
    expect(out.box[2]).toBeGreaterThanOrEqual(d + 8);
    expect(out.image).toHaveLength(w * h * d);
    expect(psnr(out.image, truth, { dataRange: 490 })).toBeGreaterThan(psnr(y, truth, { dataRange: 490 }) + 2);
    const lw = landweber(y, dims, psf, pd, { iterations: 40, step: 1.5 });
    expect(psnr(lw.image, truth, { dataRange: 490 })).toBeGreaterThan(psnr(y, truth, { dataRange: 490 }));
  });
});

describe('inputs', () => {
  const w = 32;
  const h = 32;
  const img = cells(w, h, 13);
  const psf = new Float32Array(9).fill(1 / 9);
  const dims = { width: w, height: h };
  const pd = { width: 3, height: 3 };
  const fieldOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return isFocalError(e) ? `${e.code}:${String(e.details.field)}` : `other:${String(e)}`;
    }
    return 'no error';
  };

  it('integer input gives float32 output, never clipped or empty', () => {
    const u16 = Uint16Array.from(img, (v) => Math.round(v * 50)); // up to ~40000
    const out = richardsonLucy(u16, dims, psf, pd, { iterations: 5 }).image;
    expect(out).toBeInstanceOf(Float32Array);
    expect(Math.max(...out)).toBeGreaterThan(30000);
    expect(Math.max(...out)).toBeGreaterThan(0);
  });

  it('rejects bad input with a FocalError naming the field', () => {
    expect(fieldOf(() => richardsonLucy(img, dims, new Float32Array(33 * 33).fill(1), { width: 33, height: 33 }, { iterations: 1 }))).toBe('E_ARGUMENT:psf');
    expect(fieldOf(() => richardsonLucy(img, dims, new Float32Array(9), pd, { iterations: 1 }))).toBe('E_ARGUMENT:psf');
    expect(fieldOf(() => richardsonLucy(img, dims, psf.map((v) => -v), pd, { iterations: 1 }))).toBe('E_ARGUMENT:psf');
    const nan = img.slice();
    nan[100] = NaN;
    expect(fieldOf(() => richardsonLucy(nan, dims, psf, pd, { iterations: 1 }))).toBe('E_ARGUMENT:image');
    expect(fieldOf(() => richardsonLucy(img, dims, psf, pd, { iterations: 0 }))).toBe('E_ARGUMENT:iterations');
    expect(fieldOf(() => landweber(img, dims, psf, pd, { iterations: -3 }))).toBe('E_ARGUMENT:iterations');
    expect(fieldOf(() => landweber(img, dims, psf, pd, { iterations: 1, step: 2 }))).toBe('E_ARGUMENT:step');
    expect(fieldOf(() => richardsonLucy(img, dims, psf, pd, { iterations: 1, tvLambda: 0.5 }))).toBe('E_ARGUMENT:tvLambda');
    expect(fieldOf(() => richardsonLucy(img, dims, psf, pd, { iterations: 1, reference: new Float32Array(10) }))).toBe('E_ARGUMENT:reference');
    expect(fieldOf(() => richardsonLucy(img.subarray(1), dims, psf, pd, { iterations: 1 }))).toBe('E_ARGUMENT:image');
  });

  it('is cancellable between iterations', () => {
    const controller = new AbortController();
    let seen = 0;
    expect(fieldOf(() => richardsonLucy(img, dims, psf, pd, {
      iterations: 50,
      signal: controller.signal,
      onIteration: (i) => {
        seen = i;
        if (i === 3) controller.abort();
      },
    }))).toBe('E_CANCELLED:undefined');
    expect(seen).toBe(3);
  });
});
