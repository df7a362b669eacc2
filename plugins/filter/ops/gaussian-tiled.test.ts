import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, createWorkerPool, isFocalError, openTiffImage, runOp, stackRegionSource, tiledOperation, writePyramidalTiff, type DType, type PixelArray, type Stack } from '../../../core/index.js';
import { gaussian } from './gaussian.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-tiled-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function noisy(dtype: DType, w: number, h: number, planes = 1): Stack {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const ps: PixelArray[] = [];
  for (let p = 0; p < planes; p++) {
    const a = dtype === 'uint8' ? new Uint8Array(w * h) : dtype === 'uint16' ? new Uint16Array(w * h) : new Float32Array(w * h);
    for (let i = 0; i < a.length; i++) a[i] = dtype === 'float32' ? rnd() * 1000 - 500 : Math.floor(rnd() * (dtype === 'uint8' ? 256 : 65536));
    ps.push(a);
  }
  return createStack({ width: w, height: h, dtype, sizeZ: planes, planes: ps, calibration: { pixelWidthUm: 0.25, pixelHeightUm: 0.5 } });
}

describe('filter.gaussian tile by tile (issue 21)', () => {
  for (const [dtype, params, tile] of [
    ['uint16', { sigmaPx: 2 }, 37],
    ['float32', { sigmaPx: 3.3, truncate: 3 }, 64],
    ['uint8', { sigmaUm: 1 }, 16], // σx = 4 px, σy = 2 px: the halo is the larger radius
  ] as const) {
    it(`${dtype}, ${JSON.stringify(params)}, tiles of ${tile}: equals the whole-plane result exactly`, async () => {
      const stack = noisy(dtype, 203, 131, 2);
      const whole = (await runOp(gaussian, { stack }, params)).stack as Stack;
      const src = tiledOperation(gaussian, stackRegionSource(stack), params, { tileSize: tile });
      expect(src.dtype).toBe(dtype);
      for (const z of [0, 1]) {
        const all = await src.readRegion({ z, x: 0, y: 0, w: 203, h: 131 });
        expect(Array.from(all)).toEqual(Array.from(whole.planes[z]));
        // an inner region away from every edge, and one touching the right and bottom edges
        for (const [x, y, w, h] of [[50, 40, 61, 33], [150, 100, 53, 31]]) {
          const part = await src.readRegion({ z, x, y, w, h });
          const want: number[] = [];
          for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) want.push(whole.planes[z][yy * 203 + xx]);
          expect(Array.from(part)).toEqual(want);
        }
      }
    });
  }

  it('streams a lazy slide through the filter into a pyramid that equals the whole-image result', async () => {
    const stack = noisy('uint16', 700, 450);
    const input = join(dir, 'in.ome.tif');
    await writePyramidalTiff(input, stackRegionSource(stack), { tileSize: 128, levels: 1 });
    const lazy = await openTiffImage(input);
    const out = join(dir, 'blurred.ome.tif');
    const res = await writePyramidalTiff(out, tiledOperation(gaussian, lazy, { sigmaPx: 2 }, { tileSize: 96 }), { tileSize: 64 });
    await lazy.close();
    expect(res.levels.length).toBe(5);
    const whole = (await runOp(gaussian, { stack }, { sigmaPx: 2 })).stack as Stack;
    const back = await openTiffImage(out);
    expect(Array.from(await back.readRegion({ x: 0, y: 0, w: 700, h: 450 }))).toEqual(Array.from(whole.planes[0]));
    await back.close();
  });

  describe('on the worker pool', () => {
    // the workers import the compiled op (dist/plugins/filter/ops/gaussian.js): build first
    const pool = createWorkerPool({ threads: 2 });
    afterAll(() => pool.destroy());
    const module = new URL('./gaussian.ts', import.meta.url).href;

    it('pieces on worker threads (op export and plugin export) equal the whole-plane result, band after band with read-ahead', async () => {
      const stack = noisy('uint16', 257, 389, 2);
      const whole = (await runOp(gaussian, { stack }, { sigmaPx: 2 })).stack as Stack;
      for (const [mod, exportName, maxInFlight] of [[module, 'gaussian', 3], [new URL('../index.ts', import.meta.url).href, 'filterPlugin', 1]] as const) {
        const src = tiledOperation(gaussian, stackRegionSource(stack), { sigmaPx: 2 }, { tileSize: 64, workers: { pool, module: mod, exportName, maxInFlight } });
        for (const z of [0, 1]) {
          // bands as a writer asks for them (the next band is computed ahead), then a region out of turn
          const got = new Uint16Array(257 * 389);
          for (let y = 0; y < 389; y += 64) got.set(await src.readRegion({ z, x: 0, y, w: 257, h: Math.min(64, 389 - y) }), y * 257);
          expect(Array.from(got)).toEqual(Array.from(whole.planes[z]));
          const part = await src.readRegion({ z, x: 100, y: 300, w: 157, h: 89 });
          const want: number[] = [];
          for (let yy = 300; yy < 389; yy++) for (let xx = 100; xx < 257; xx++) want.push(whole.planes[z][yy * 257 + xx]);
          expect(Array.from(part)).toEqual(want);
        }
      }
    });

    it('cancellation stops a region read with E_CANCELLED; a wrong export is named', async () => {
      const stack = noisy('float32', 600, 600);
      const controller = new AbortController();
      const src = tiledOperation(gaussian, stackRegionSource(stack), { sigmaPx: 20 }, { tileSize: 64, workers: { pool, module, exportName: 'gaussian' } });
      const reading = src.readRegion({ x: 0, y: 0, w: 600, h: 600 }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      const err = await reading.then(() => undefined, (e: unknown) => e);
      expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
      const wrong = tiledOperation(gaussian, stackRegionSource(stack), { sigmaPx: 2 }, { tileSize: 64, workers: { pool, module, exportName: 'gaussianParams' } });
      await expect(wrong.readRegion({ x: 0, y: 0, w: 10, h: 10 })).rejects.toThrow(/export gaussianParams holds no operation filter.gaussian/);
    });
  });

  it('an op without a tiling declaration, or bad params, is refused naming the op or field', () => {
    const src = stackRegionSource(noisy('uint8', 10, 10));
    const noTiling = { ...gaussian, tiling: undefined };
    expect(() => tiledOperation(noTiling, src, { sigmaPx: 1 })).toThrow(/filter.gaussian needs whole planes/);
    expect(() => tiledOperation(gaussian, src, { sigmaPx: -1 })).toThrow(expect.objectContaining({ code: 'E_PARAMS', details: expect.objectContaining({ field: 'sigmaPx' }) }));
  });
});
