import { describe, expect, it } from 'vitest';
import { createKernels, kernelModuleBytes, wasmApi } from './wasm-kernels.js';
import { loadPffft } from './spectral.js';

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

describe('WebAssembly SIMD kernels', () => {
  const memory = new wasmApi.Memory({ initial: 4 });
  const k = createKernels(memory);
  const F = () => new Float32Array(memory.buffer);
  const n = 64; // floats per operand
  const A = 0;
  const B = 4 * 1024;
  const a = values(n, 1);
  const b = values(n, 2);

  it('assembles to a valid module and loads with PFFFT', () => {
    expect(kernelModuleBytes().length).toBeGreaterThan(100);
    return expect(loadPffft()).resolves.toMatchObject({ available: true, simdKernels: true });
  });

  it('cmul (interleaved) and cmulSplit (4 re, 4 im) match complex products, with and without conjugation', () => {
    for (const conj of [0, 1]) {
      const s = conj ? -1 : 1;
      F().set(a, A / 4);
      F().set(b, B / 4);
      k.cmul(A, B, n / 2, conj);
      let err = 0;
      for (let j = 0; j < n / 2; j++) {
        const [ar, ai, br, bi] = [a[2 * j], a[2 * j + 1], b[2 * j], s * b[2 * j + 1]];
        err = Math.max(err, Math.abs(F()[2 * j] - (ar * br - ai * bi)), Math.abs(F()[2 * j + 1] - (ar * bi + ai * br)));
      }
      expect(err).toBeLessThan(1e-6);
      F().set(a, A / 4);
      k.cmulSplit(A, B, n / 2, conj);
      err = 0;
      for (let blk = 0; blk < n; blk += 8) {
        for (let l = 0; l < 4; l++) {
          const [ar, ai, br, bi] = [a[blk + l], a[blk + 4 + l], b[blk + l], s * b[blk + 4 + l]];
          err = Math.max(err, Math.abs(F()[blk + l] - (ar * br - ai * bi)), Math.abs(F()[blk + 4 + l] - (ar * bi + ai * br)));
        }
      }
      expect(err).toBeLessThan(1e-6);
    }
  });

  it('ratio, mul and clamp0 match their JavaScript definitions', () => {
    const row = a.map((v) => v * 10 + 5); // mostly positive denominators, some ≤ 0
    row[3] = 0;
    F().set(row, A / 4);
    F().set(b, B / 4);
    k.ratio(A, B, n);
    for (let i = 0; i < n; i++) {
      const c = Math.fround(row[i] + Math.fround(1e-12));
      const want = c > 0 ? Math.fround(b[i] / c) : 0;
      expect(F()[i]).toBeCloseTo(want, 5);
    }
    F().set(a, A / 4);
    k.mul(A, B, n);
    for (let i = 0; i < n; i++) expect(F()[i]).toBe(Math.fround(a[i] * b[i]));
    F().set(a, A / 4);
    k.clamp0(A, n);
    for (let i = 0; i < n; i++) expect(F()[i]).toBe(a[i] < 0 ? 0 : a[i]);
  });

  it('gather8 / scatter8 move 8 complex columns between rows and a panel', () => {
    const rows = 6;
    const stride = 24; // complex values per row
    const D = new Float64Array(memory.buffer);
    for (let i = 0; i < rows * stride; i++) D[i] = i;
    const panel = 8 * rows * stride;
    k.gather8(8 * 8, panel, rows, stride, rows);
    for (let y = 0; y < rows; y++) for (let p = 0; p < 8; p++) expect(D[panel / 8 + p * rows + y]).toBe(y * stride + 8 + p);
    for (let i = 0; i < 8 * rows; i++) D[panel / 8 + i] = -1 - i;
    k.scatter8(panel, 8 * 16, rows, stride, rows);
    for (let y = 0; y < rows; y++) for (let p = 0; p < 8; p++) expect(D[y * stride + 16 + p]).toBe(-1 - (p * rows + y));
  });
});
