import { describe, expect, it } from 'vitest';
import { gaussianRandom, mulberry32 } from '../index.js';
import { applySafety, noiseVariance } from './consistency.js';

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
});
