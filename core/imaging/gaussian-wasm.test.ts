import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleWat, GENERATED_PATH, loadWabt, renderWasmModule, repoRoot, WAT_PATH } from '../../scripts/make-gaussian-wasm.js';
import { convertPlanes } from '../data/convert.js';
import { gaussianBlur2d, gaussianBlur2dInteger, gaussianBlur2dJs, gaussianBlur2dWasm } from './gaussian.js';

/** Deterministic pseudo-random values in [0, 1). */
function uniform(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** The float32 bit patterns, so that equality is bitwise (and -0 ≠ +0). */
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

function expectBitwiseEqual(a: Float32Array, b: Float32Array): void {
  expect(a.length).toBe(b.length);
  const [x, y] = [bits(a), bits(b)];
  let first = -1;
  for (let i = 0; i < x.length && first < 0; i++) if (x[i] !== y[i]) first = i;
  expect(first, first < 0 ? '' : `first difference at ${first}: ${a[first]} vs ${b[first]}`).toBe(-1);
}

const cases: [w: number, h: number, sx: number, sy: number, truncate?: number][] = [
  [1, 1, 2, 2],
  [1, 9, 2, 2],
  [9, 1, 2, 2],
  [3, 5, 2, 2], // narrower and shorter than the radius (8)
  [7, 6, 2, 3],
  [17, 23, 1.3, 0],
  [31, 2, 0, 2.5],
  [64, 33, 2, 2],
  [129, 67, 0.6, 4.2],
  [5, 5, 0, 0],
  [100, 40, 3, 1, 2.5],
  [3000, 20, 2, 2], // ring of rows beyond the initial 64 KiB page: memory grows
];

describe('gaussianBlur2d on WebAssembly SIMD', () => {
  it('is available in this Node (WebAssembly SIMD validates)', () => {
    expect(gaussianBlur2dWasm(new Uint16Array(4), 2, 2, 1, 1)).toBeInstanceOf(Float32Array);
  });

  it.each(cases)('equals the JavaScript reference bitwise: %i×%i, σ = (%f, %f), truncate %s', (w, h, sx, sy, truncate) => {
    const opts = truncate === undefined ? {} : { truncate };
    const u = uniform(w * h, w * 7919 + h);
    const u16 = Uint16Array.from(u, (v) => Math.floor(v * 65536));
    const f32 = Float32Array.from(u, (v) => (v - 0.3) * 1e4); // negative values too
    const u8 = Uint8Array.from(u, (v) => Math.floor(v * 256));
    for (const data of [u16, f32, u8]) {
      const js = gaussianBlur2dJs(data, w, h, sx, sy, opts);
      expectBitwiseEqual(gaussianBlur2dWasm(data, w, h, sx, sy, opts)!, js);
      expectBitwiseEqual(gaussianBlur2d(data, w, h, sx, sy, opts), js);
    }
  });

  it.each(cases)('rounds to uint16 / uint8 as convertPlanes does, bitwise: %i×%i, σ = (%f, %f), truncate %s', (w, h, sx, sy, truncate) => {
    const opts = truncate === undefined ? {} : { truncate };
    const u = uniform(w * h, w * 104729 + h);
    // beyond both types' ranges, negative, exact halves, and NaN / ±Infinity
    const f32 = Float32Array.from(u, (v, i) => (i % 97 === 5 ? NaN : i % 89 === 3 ? Infinity : i % 83 === 2 ? -Infinity : i % 7 === 0 ? Math.round(v * 600) / 2 - 20 : (v - 0.2) * 80000));
    const u16 = Uint16Array.from(u, (v) => Math.floor(v * 65536));
    for (const data of [f32, u16]) {
      for (const dtype of ['uint16', 'uint8'] as const) {
        const want = convertPlanes([gaussianBlur2dJs(data, w, h, sx, sy, opts)], 'float32', dtype, { scale: 'none' })[0];
        const got = gaussianBlur2dInteger(data, w, h, sx, sy, dtype, opts);
        expect(got).toBeInstanceOf(dtype === 'uint16' ? Uint16Array : Uint8Array);
        expect(got.length).toBe(want.length);
        let first = -1;
        for (let i = 0; i < got.length && first < 0; i++) if (got[i] !== want[i]) first = i;
        expect(first, first < 0 ? '' : `${dtype}: first difference at ${first}: ${got[first]} vs ${want[first]}`).toBe(-1);
      }
    }
  });

  it('takes plain arrays and float64 input, and a small plane after a large one', () => {
    const w = 37;
    const h = 11;
    const arr = Array.from(uniform(w * h, 3), (v) => v * 1000 - 200);
    expectBitwiseEqual(gaussianBlur2dWasm(arr, w, h, 2, 1.5)!, gaussianBlur2dJs(arr, w, h, 2, 1.5));
    const f64 = Float64Array.from(arr);
    expectBitwiseEqual(gaussianBlur2dWasm(f64, w, h, 2, 1.5)!, gaussianBlur2dJs(f64, w, h, 2, 1.5));
  });

  it('runs a plane whose row ring passes the kept 64 MiB, then small planes again', () => {
    const w = 500_000; // 17 rows × 500 000 px × 8 bytes = 68 MB of ring
    const h = 17;
    const big = gaussianBlur2dInteger(new Uint16Array(w * h).fill(777), w, h, 2, 2, 'uint16');
    let bad = 0;
    for (let i = 0; i < big.length; i++) if (big[i] !== 777) bad++;
    expect(bad).toBe(0);
    const data = Uint16Array.from(uniform(40 * 30, 11), (v) => v * 65535);
    expectBitwiseEqual(gaussianBlur2dWasm(data, 40, 30, 2, 2)!, gaussianBlur2dJs(data, 40, 30, 2, 2));
  });

  it('keeps a constant image constant and validates its arguments like the reference', () => {
    expect([...gaussianBlur2dWasm(new Uint16Array(9 * 4).fill(1234), 9, 4, 2, 2)!]).toEqual(new Array(36).fill(1234));
    expect(() => gaussianBlur2dWasm(new Uint16Array(8), 3, 2, 1, 1)).toThrow(/expected 3×2 = 6/);
    expect(() => gaussianBlur2dWasm(new Uint16Array(8), 4, 2, -1, 1)).toThrow(/sigmaPx/);
  });
});

describe('gaussian-kernels-wasm.ts', () => {
  it('holds the bytes wabt assembles from gaussian-kernels.wat', async (ctx) => {
    const wabt = await loadWabt();
    if (typeof wabt === 'string') {
      ctx.skip(wabt);
      return;
    }
    const root = repoRoot();
    const text = renderWasmModule(assembleWat(wabt, readFileSync(join(root, ...WAT_PATH), 'utf8')));
    expect(readFileSync(join(root, ...GENERATED_PATH), 'utf8') === text, 'out of date: run npx tsc -p tsconfig.build.json && node dist/scripts/make-gaussian-wasm.js').toBe(true);
  });
});
