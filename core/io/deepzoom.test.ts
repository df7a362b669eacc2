import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode, encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocate, type DType, type PixelArray } from '../data/dtype.js';
import { createStack, type Stack } from '../data/stack.js';
import { deepZoomDescriptor, deepZoomLevels, deepZoomTileRect, encodeRgbPng, readDeepZoomLevel, writeDeepZoom, type DeepZoomSource } from './deepzoom.js';
import { stackRegionSource, type RegionRequest } from './lazy-image.js';
import { openTiffImage } from './tiff/lazy.js';
import { writePyramidalTiff } from './tiff/pyramid.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-deepzoom-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeStack(dtype: DType, w: number, h: number, sizeC = 1): Stack {
  const planes: PixelArray[] = [];
  for (let c = 0; c < sizeC; c++) {
    const a = allocate(dtype, w * h);
    for (let i = 0; i < a.length; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      a[i] = (x * 7 + y * 13 + c * 101 + ((x * y) % 17)) % (dtype === 'uint8' ? 256 : 4000);
    }
    planes.push(a);
  }
  return createStack({ width: w, height: h, dtype, sizeC, planes });
}

/** A source that records the largest region it was asked for. */
function watched(src: DeepZoomSource): DeepZoomSource & { maxPx: number; reads: RegionRequest[] } {
  const w = Object.assign(Object.create(src) as DeepZoomSource, { maxPx: 0, reads: [] as RegionRequest[] });
  w.readRegion = async (r: RegionRequest, o?: { signal?: AbortSignal }) => {
    w.maxPx = Math.max(w.maxPx, r.w * r.h);
    w.reads.push(r);
    return src.readRegion(r, o);
  };
  return w;
}

const tile = async (filesDir: string, level: number, col: number, row: number) => decode(await readFile(join(filesDir, String(level), `${col}_${row}.png`)));

describe('Deep Zoom geometry (the Deep Zoom spec)', () => {
  it('level L is ⌈W / 2^(top − L)⌉ × ⌈H / 2^(top − L)⌉ from 1 × 1 up, with ⌈size / tile⌉ tiles', () => {
    const lv = deepZoomLevels(1000, 600, 254);
    expect(lv).toHaveLength(11); // top = ⌈log₂ 1000⌉ = 10
    expect(lv[10]).toEqual({ level: 10, width: 1000, height: 600, columns: 4, rows: 3 });
    expect(lv[9]).toEqual({ level: 9, width: 500, height: 300, columns: 2, rows: 2 });
    expect(lv[8]).toEqual({ level: 8, width: 250, height: 150, columns: 1, rows: 1 });
    expect(lv[1]).toEqual({ level: 1, width: 2, height: 2, columns: 1, rows: 1 });
    expect(lv[0]).toEqual({ level: 0, width: 1, height: 1, columns: 1, rows: 1 });
    expect(deepZoomLevels(1024, 1024, 256)).toHaveLength(11);
    expect(deepZoomLevels(1025, 3, 256).at(-1)).toMatchObject({ level: 11, width: 1025, height: 3, columns: 5, rows: 1 });
    expect(deepZoomLevels(1, 1, 254)).toEqual([{ level: 0, width: 1, height: 1, columns: 1, rows: 1 }]);
  });

  it('tiles carry the overlap on each side that has a neighbour', () => {
    const L = { width: 1000, height: 600 };
    expect(deepZoomTileRect(L, 0, 0, 254, 1)).toEqual({ x: 0, y: 0, w: 255, h: 255 });
    expect(deepZoomTileRect(L, 1, 1, 254, 1)).toEqual({ x: 253, y: 253, w: 256, h: 256 });
    expect(deepZoomTileRect(L, 3, 2, 254, 1)).toEqual({ x: 761, y: 507, w: 239, h: 93 });
    expect(deepZoomTileRect(L, 1, 0, 256, 0)).toEqual({ x: 256, y: 0, w: 256, h: 256 });
    expect(deepZoomDescriptor({ width: 1000, height: 600, tileSize: 254, overlap: 1, format: 'png' })).toContain('<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="png" Overlap="1" TileSize="254">\n  <Size Width="1000" Height="600"/>');
  });

  it.skipIf(!existsSync('/usr/bin/vips'))('the same levels, tile names, tile sizes and pixels as libvips dzsave', async () => {
    const s = makeStack('uint8', 531, 300);
    const png = join(dir, 'vips-in.png');
    await writeFile(png, encode({ width: 531, height: 300, data: s.planes[0] as Uint8Array, channels: 1, depth: 8 }));
    await run('vips', ['dzsave', png, join(dir, 'vips'), '--tile-size', '254', '--overlap', '1', '--suffix', '.png']);
    const ours = await writeDeepZoom(join(dir, 'ours.dzi'), stackRegionSource(s), { window: [[0, 255]] });
    const vipsLevels = (await readdir(join(dir, 'vips_files'))).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
    expect(vipsLevels).toEqual(ours.levels.map((l) => l.level));
    for (const L of ours.levels) {
      const names = (await readdir(join(dir, 'vips_files', String(L.level)))).sort();
      expect((await readdir(join(ours.filesDir, String(L.level)))).sort(), `level ${L.level}`).toEqual(names);
      for (const n of names) {
        const [a, b] = [decode(await readFile(join(dir, 'vips_files', String(L.level), n))), decode(await readFile(join(ours.filesDir, String(L.level), n)))];
        expect([b.width, b.height], `level ${L.level} tile ${n}`).toEqual([a.width, a.height]);
        if (L.level >= ours.levels.length - 2) {
          // full resolution equal; one level down (2 × 2 means) within rounding
          let worst = 0;
          for (let i = 0; i < a.width * a.height; i++) worst = Math.max(worst, Math.abs(a.data[i * a.channels] - b.data[i * 3]));
          expect(worst, `level ${L.level} tile ${n}`).toBeLessThanOrEqual(L.level === ours.levels.length - 1 ? 0 : 1);
        }
      }
    }
    const xml = await readFile(join(dir, 'vips.dzi'), 'utf8');
    expect(xml).toMatch(/TileSize="254"/);
    expect(xml).toMatch(/Width="531"/);
    expect(xml).toMatch(/Height="300"/);
  });
});

describe('writeDeepZoom', () => {
  it('its PNG encoder (zlib, Sub filter) decodes to the same RGB, any width', async () => {
    for (const [w, h] of [[1, 1], [2, 3], [255, 7]]) {
      const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37 + (i >> 3)) & 255);
      const png = decode(await encodeRgbPng(w, h, rgb));
      expect([png.width, png.height, png.channels, png.depth]).toEqual([w, h, 3, 8]);
      expect(Array.from(png.data)).toEqual(Array.from(rgb));
    }
  });

  it('a tile equals the source region through the display window; a level down is the 2 × 2 mean', async () => {
    const s = makeStack('uint16', 700, 500, 2);
    const win: [number, number][] = [[500, 3500], [0, 4000]];
    const r = await writeDeepZoom(join(dir, 'two.dzi'), stackRegionSource(s), { window: win });
    expect(r.display.mode).toBe('composite');
    expect(r.display.colours).toEqual([[255, 0, 0], [0, 255, 0]]);
    expect(r.tiles).toBe(r.levels.reduce((n, l) => n + l.columns * l.rows, 0));
    expect(await readFile(join(dir, 'two.dzi'), 'utf8')).toContain('<Size Width="700" Height="500"/>');
    const top = r.levels.at(-1)!;
    const map = (v: number, [lo, hi]: [number, number]) => Math.min(255, Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo)))));
    const rect = deepZoomTileRect(top, 1, 1, 254, 1);
    const t = await tile(r.filesDir, top.level, 1, 1);
    expect([t.width, t.height, t.channels]).toEqual([rect.w, rect.h, 3]);
    for (let y = 0; y < rect.h; y += 7) {
      for (let x = 0; x < rect.w; x += 5) {
        const i = (rect.y + y) * 700 + rect.x + x;
        const o = (y * rect.w + x) * 3;
        expect([t.data[o], t.data[o + 1], t.data[o + 2]], `pixel ${rect.x + x},${rect.y + y}`).toEqual([map(s.planes[0][i], win[0]), map(s.planes[1][i], win[1]), 0]);
      }
    }
    const whole = await readDeepZoomLevel(r.filesDir, top, 254, 1); // the level put back together without overlaps
    const at = ((rect.y + 9) * 700 + rect.x + 11) * 3;
    expect(Array.from(whole.subarray(at, at + 3))).toEqual(Array.from(t.data.subarray((9 * rect.w + 11) * 3, (9 * rect.w + 11) * 3 + 3)));
    const down = r.levels.at(-2)!;
    const d = await tile(r.filesDir, down.level, 0, 0);
    for (const [x, y] of [[0, 0], [10, 3], [100, 200], [253, 249]]) {
      const mean = (c: number) => (s.planes[c][2 * y * 700 + 2 * x] + s.planes[c][2 * y * 700 + 2 * x + 1] + s.planes[c][(2 * y + 1) * 700 + 2 * x] + s.planes[c][(2 * y + 1) * 700 + 2 * x + 1]) / 4;
      const o = (y * d.width + x) * 3;
      expect([d.data[o], d.data[o + 1]]).toEqual([map(mean(0), win[0]), map(mean(1), win[1])]);
    }
  });

  it('the automatic range is ImageJ’s 0.35 % saturated; one channel is grey', async () => {
    const s = makeStack('uint16', 300, 200);
    s.planes[0][0] = 65535; // one hot pixel does not set the range
    const r = await writeDeepZoom(join(dir, 'grey.dzi'), stackRegionSource(s));
    expect(r.display.mode).toBe('grey');
    expect(r.display.ranges[0][1]).toBeLessThan(4000);
    const t = await tile(r.filesDir, r.levels.at(-1)!.level, 0, 0);
    expect(t.data[0]).toBe(255);
    expect(t.data[3 * 5]).toBe(t.data[3 * 5 + 1]); // grey
  });

  it('reads each level from the nearest pyramid level, never a large region', async () => {
    const s = makeStack('uint16', 1500, 1100, 1);
    const tif = join(dir, 'pyr.ome.tif');
    await writePyramidalTiff(tif, stackRegionSource(s), { tileSize: 256 });
    const img = await openTiffImage(tif);
    try {
      expect(img.levels.length).toBeGreaterThanOrEqual(3);
      const src = watched(img);
      const r = await writeDeepZoom(join(dir, 'pyr.dzi'), src, { window: [[0, 4000]] });
      // source levels 1500, 750, 375, 188 px wide: Deep Zoom levels down to 4× coarser than the last are read from them
      const top = r.levels.length - 1;
      expect(r.fromSource).toEqual([top - 4, top - 3, top - 2, top - 1, top]);
      const tileReads = src.reads.filter((q) => q.h > 1); // rows read for the range are none here (window given)
      expect(tileReads.length).toBe(src.reads.length);
      expect(src.maxPx).toBeLessThanOrEqual((2 * 256) ** 2); // a tile plus overlap at ≤ 2× its resolution
      expect(new Set(src.reads.map((q) => q.level ?? 0)).size).toBe(img.levels.length);
    } finally {
      await img.close();
    }
  });

  it('without a pyramid, coarse levels come from the finer Deep Zoom level, and look the same', async () => {
    const s = makeStack('uint8', 1300, 900);
    const src = watched(stackRegionSource(s));
    const r = await writeDeepZoom(join(dir, 'flat.dzi'), src, { window: [[0, 255]] });
    const top = r.levels.length - 1;
    expect(r.fromSource).toEqual([top - 2, top - 1, top]);
    expect(src.maxPx).toBeLessThanOrEqual((4 * 256) ** 2);
    // level top − 3 (8× coarser) made from level top − 2: close to the 8 × 8 mean of the source
    const L = r.levels[top - 3];
    const t = await tile(r.filesDir, L.level, 0, 0);
    let worst = 0;
    for (let y = 0; y < L.height - 1; y += 9) {
      for (let x = 0; x < L.width - 1; x += 11) {
        let sum = 0;
        for (let yy = 0; yy < 8; yy++) for (let xx = 0; xx < 8; xx++) sum += s.planes[0][(8 * y + yy) * 1300 + 8 * x + xx];
        worst = Math.max(worst, Math.abs(t.data[(y * t.width + x) * 3] - sum / 64));
      }
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('labels keep their colours (nearest), value maps are in their LUT, RGB is shown as stored', async () => {
    const lab = createStack({ width: 40, height: 30, dtype: 'uint16', planes: [Uint16Array.from({ length: 1200 }, (_, i) => ((i % 40) < 20 ? 1 : 2))] });
    const r = await writeDeepZoom(join(dir, 'lab.dzi'), stackRegionSource(lab), { labels: true });
    const t = await tile(r.filesDir, r.levels.at(-1)!.level, 0, 0);
    const { labelColour } = await import('./preview.js');
    expect(Array.from(t.data.subarray(0, 3))).toEqual(labelColour(1));
    expect(Array.from(t.data.subarray(39 * 3, 40 * 3))).toEqual(labelColour(2));
    // a value map: one channel in viridis over the window, as its preview shows it
    const { lutColour } = await import('./preview.js');
    const hm = createStack({ width: 10, height: 4, dtype: 'float32', planes: [Float32Array.from({ length: 40 }, (_, i) => (i % 10) / 9)] });
    const v = await writeDeepZoom(join(dir, 'values.dzi'), stackRegionSource(hm), { lut: 'viridis', window: [[0, 1]] });
    expect(v.display).toMatchObject({ mode: 'values', lut: 'viridis' });
    const vt = await tile(v.filesDir, v.levels.at(-1)!.level, 0, 0);
    for (const x of [0, 4, 9]) expect(Array.from(vt.data.subarray(x * 3, x * 3 + 3)), `x ${x}`).toEqual(lutColour('viridis', x / 9));
    const rgb = createStack({ width: 8, height: 8, dtype: 'uint8', sizeC: 3, rgb: true, planes: [new Uint8Array(64).fill(10), new Uint8Array(64).fill(20), new Uint8Array(64).fill(30)] });
    const q = await writeDeepZoom(join(dir, 'rgb.dzi'), stackRegionSource(rgb), { rgb: true });
    expect(Array.from((await tile(q.filesDir, 3, 0, 0)).data.subarray(0, 3))).toEqual([10, 20, 30]);
    // varied 8-bit RGB: the full-size level's tiles are its samples (the direct path), as a float copy's are (the general one)
    const W = 45;
    const H = 31;
    const planes = [0, 1, 2].map((c) => Uint8Array.from({ length: W * H }, (_, i) => (i * (7 + c) + c * 50 + (i >> 4)) & 255));
    const rgb8 = createStack({ width: W, height: H, dtype: 'uint8', sizeC: 3, rgb: true, planes });
    const rgbF = createStack({ width: W, height: H, dtype: 'float32', sizeC: 3, planes: planes.map((p) => Float32Array.from(p)) });
    const d8 = await writeDeepZoom(join(dir, 'rgb8.dzi'), stackRegionSource(rgb8), { rgb: true, tileSize: 16, overlap: 1 });
    const dF = await writeDeepZoom(join(dir, 'rgbf.dzi'), stackRegionSource(rgbF), { rgb: true, tileSize: 16, overlap: 1 });
    const top = d8.levels.at(-1)!;
    for (let row = 0; row < top.rows; row++) {
      for (let col = 0; col < top.columns; col++) {
        const a = await tile(d8.filesDir, top.level, col, row);
        expect(Array.from(a.data), `tile ${col}_${row}`).toEqual(Array.from((await tile(dF.filesDir, top.level, col, row)).data));
        const r = deepZoomTileRect(top, col, row, 16, 1);
        const want: number[] = [];
        for (let y = r.y; y < r.y + r.h; y++) for (let x = r.x; x < r.x + r.w; x++) for (const p of planes) want.push(p[y * W + x]);
        expect(Array.from(a.data), `tile ${col}_${row}`).toEqual(want);
      }
    }
  });

  it('refuses an existing target, and a cancelled write leaves nothing', async () => {
    const s = makeStack('uint8', 600, 600);
    await expect(writeDeepZoom(join(dir, 'grey.dzi'), stackRegionSource(s))).rejects.toMatchObject({ code: 'E_IO', message: expect.stringContaining('grey.dzi exists') });
    const sub = await mkdtemp(join(dir, 'cancel-'));
    const ac = new AbortController();
    await expect(writeDeepZoom(join(sub, 'c.dzi'), stackRegionSource(s), { signal: ac.signal, onProgress: (f) => f > 0.2 && ac.abort() })).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(await readdir(sub)).toEqual([]);
    await expect(writeDeepZoom(join(sub, 'c.png'), stackRegionSource(s))).rejects.toMatchObject({ code: 'E_ARGUMENT' });
    await expect(writeDeepZoom(join(sub, 'c.dzi'), stackRegionSource(s), { z: 3 })).rejects.toThrow(/z must be an integer in 0…0/);
  });
});
