import { describe, expect, it } from 'vitest';
import { gaussianRandom, mulberry32 } from '../index.js';
import { applySafety, fitSafety, noiseVariance, SAFETY_SIGMAS_PX } from './consistency.js';

const N = 96;

/** A bright square on a dark background, blurred by a Gaussian of σ px, with optional noise. */
function scene(sigma: number, noiseSd: number, seed = 1): Float32Array {
  const img = new Float32Array(N * N);
  for (let y = 30; y < 66; y++) for (let x = 30; x < 66; x++) img[y * N + x] = 1000;
  const r = Math.ceil(3 * sigma);
  let out = img;
  if (sigma > 0) {
    const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
    const s = k.reduce((a, b) => a + b, 0);
    const tmp = new Float32Array(N * N);
    out = new Float32Array(N * N);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) { let a = 0; for (let i = -r; i <= r; i++) a += k[i + r] * img[y * N + Math.min(N - 1, Math.max(0, x + i))]; tmp[y * N + x] = a / s; }
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) { let a = 0; for (let i = -r; i <= r; i++) a += k[i + r] * tmp[Math.min(N - 1, Math.max(0, y + i)) * N + x]; out[y * N + x] = a / s; }
  }
  const rand = mulberry32(seed);
  return out.map((v) => v + noiseSd * gaussianRandom(rand));
}

describe('consistency check (Deep-R and TSVA safety)', () => {
  it('estimates the noise variance of an image', () => {
    expect(noiseVariance(scene(0, 10), N, N)).toBeGreaterThan(70);
    expect(noiseVariance(scene(0, 10), N, N)).toBeLessThan(130);
  });

  it('returns an in-focus input unchanged when the output adds nothing the input lacks', () => {
    const input = scene(0, 5);
    const output = input.map((v, i) => v + (i % 7 === 0 ? 3 : 0));
    const r = applySafety(input, output, N, N);
    expect(r.sigmaPx).toBe(0);
    expect(r.weight).toBe(0);
    expect(Array.from(r.image)).toEqual(Array.from(input));
  });

  it('trusts an output that, re-blurred, explains a defocused input', () => {
    const input = scene(3, 5, 2);
    const output = scene(0, 0);
    const r = applySafety(input, output, N, N);
    expect(r.sigmaPx).toBe(3);
    expect(r.weight).toBe(1);
    expect(r.residualRatio).toBeLessThan(4);
  });

  it('falls back to the input when the output invents coarse structure (rings ~30 px apart) the input cannot hold', () => {
    const input = scene(3, 5, 3);
    const sharp = scene(0, 0);
    const output = sharp.map((v, i) => v + 300 * Math.cos(Math.hypot((i % N) - 48, Math.floor(i / N) - 48) / 5));
    const r = applySafety(input, output, N, N);
    expect(r.weight).toBeLessThan(0.2);
    // never brighter than the in-focus object by more than 5 % inside it
    for (let y = 36; y < 60; y++) for (let x = 36; x < 60; x++) expect(r.image[y * N + x]).toBeLessThan(1000 * 1.05 + 4 * 5 + 300 * r.weight);
  });

  it('gives, bit for bit, what its direct form gave (the published Deep-R numbers use it): every σ of the grid, small planes, other array types', () => {
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let checked = 0;
    const sigmas = new Set<number>();
    for (const [w, h] of [[1, 1], [3, 1], [1, 9], [5, 4], [13, 9], [17, 49], [49, 17], [61, 40]]) {
      const sharp = Float32Array.from({ length: w * h }, () => (rand() < 0.15 ? 1000 : 0) + 20 * rand());
      for (const sigma of SAFETY_SIGMAS_PX) {
        const input = directBlur(sharp, w, h, sigma).map((v) => v + 5 * (rand() - 0.5));
        for (const [inp, out] of [[input, sharp], [input, sharp.map((v, i) => v + 300 * Math.cos(i / 5))], [Array.from(input), Uint16Array.from(sharp)]] as [ArrayLike<number>, ArrayLike<number>][]) {
          const want = directSafety(inp, out, w, h);
          const got = applySafety(inp, out, w, h);
          expect([got.sigmaPx, got.residualRatio, got.weight]).toEqual([want.sigmaPx, want.residualRatio, want.weight]);
          expect(Object.is(got.residualRatio, want.residualRatio)).toBe(true);
          expect(Buffer.from(got.image.buffer).equals(Buffer.from(want.image.buffer))).toBe(true);
          expect(fitSafety(inp, out, w, h)).toEqual({ weight: want.weight, sigmaPx: want.sigmaPx, residualRatio: want.residualRatio });
          sigmas.add(got.sigmaPx);
          checked++;
        }
      }
    }
    expect(checked).toBe(8 * SAFETY_SIGMAS_PX.length * 3);
    expect(sigmas.size).toBeGreaterThanOrEqual(6); // the best fit ran through most of the grid's blurs
  });
});

/** The check's blur as it was first written (direct per-pixel sums, an intermediate float32 plane): the reference for the faster one. */
function directBlur(src: ArrayLike<number>, w: number, h: number, sigma: number): Float32Array {
  const out = Float32Array.from(src);
  if (sigma <= 0) return out;
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  const tmp = new Float32Array(w * h);
  const clamp = (v: number, n: number) => (v < 0 ? -v - 1 < n ? -v - 1 : 0 : v >= n ? Math.max(0, 2 * n - v - 1) : v);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let a = 0;
    for (let i = -r; i <= r; i++) a += k[i + r] * out[y * w + clamp(x + i, w)];
    tmp[y * w + x] = a / s;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let a = 0;
    for (let i = -r; i <= r; i++) a += k[i + r] * tmp[clamp(y + i, h) * w + x];
    out[y * w + x] = a / s;
  }
  return out;
}

/** applySafety as it was first written, over {@link directBlur}. */
function directSafety(input: ArrayLike<number>, output: ArrayLike<number>, width: number, height: number): { image: Float32Array; weight: number; sigmaPx: number; residualRatio: number } {
  const n = width * height;
  let best = { sigma: 0, r: Infinity };
  for (const sigma of SAFETY_SIGMAS_PX) {
    const b = directBlur(output, width, height, sigma);
    let r = 0;
    for (let i = 0; i < n; i++) r += (b[i] - input[i]) ** 2;
    r /= n;
    if (r < best.r) best = { sigma, r };
  }
  let varIn = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += input[i] / n;
  for (let i = 0; i < n; i++) varIn += (input[i] - mean) ** 2 / n;
  const d: number[] = [];
  for (let y = 0; y < height; y += 2) for (let x = 0; x + 1 < width; x += 2) d.push(Math.abs(input[y * width + x + 1] - input[y * width + x]));
  d.sort((a, b) => a - b);
  const mad = d[Math.floor(d.length / 2)] ?? 0;
  const noise = Math.max((mad / 0.6745) ** 2 / 2, 1e-3 * varIn, 1e-12);
  const ratio = best.r / noise;
  const weight = best.sigma <= 0.5 ? 0 : Math.min(1, Math.max(0, (40 - ratio) / (40 - 4)));
  const image = new Float32Array(n);
  for (let i = 0; i < n; i++) image[i] = weight * output[i] + (1 - weight) * input[i];
  return { image, weight, sigmaPx: best.sigma, residualRatio: ratio };
}
