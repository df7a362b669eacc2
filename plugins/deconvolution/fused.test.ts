import { describe, expect, it } from 'vitest';
import { setSimdKernels } from './spectral.js';
import { landweber, richardsonLucy, type Boundary } from './deconvolve.js';

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

describe('PFFFT backend with and without the kernels', () => {
  it('RL (fused iteration) and Landweber agree with the JavaScript-loop fallback to 1e-5 of the maximum', () => {
    const w = 90;
    const h = 70;
    const img = values(w * h, 7).map((v, i) => 50 + 40 * v + 30 * Math.sin(i / 37));
    const k = 9;
    const psf = new Float32Array(k * k).map((_, i) => Math.exp(-(((i % k) - 4) ** 2 + (Math.floor(i / k) - 4) ** 2) / 6));
    const dims = { width: w, height: h };
    const pd = { width: k, height: k };
    const runs = (boundary: Boundary) => [
      richardsonLucy(img, dims, psf, pd, { iterations: 12, boundary, backend: 'pffft-wasm' }).image,
      landweber(img, dims, psf, pd, { iterations: 12, boundary, step: 1.5, backend: 'pffft-wasm' }).image,
    ];
    for (const boundary of ['reflect-taper', 'zero'] as const) {
      expect(setSimdKernels(true)).toBe(true);
      const fast = runs(boundary);
      setSimdKernels(false);
      try {
        const slow = runs(boundary);
        for (let r = 0; r < 2; r++) {
          let peak = 0;
          let diff = 0;
          for (let i = 0; i < fast[r].length; i++) {
            peak = Math.max(peak, Math.abs(slow[r][i]));
            diff = Math.max(diff, Math.abs(fast[r][i] - slow[r][i]));
          }
          expect(peak).toBeGreaterThan(0);
          expect(diff / peak).toBeLessThan(1e-5);
        }
      } finally {
        setSimdKernels(true);
      }
    }
  });
});
