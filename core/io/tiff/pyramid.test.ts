import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allocate, type DType, type PixelArray } from '../../data/dtype.js';
import { createStack, type Stack } from '../../data/stack.js';
import { stackRegionSource } from '../lazy-image.js';
import { readStructure, readSubIfds } from './ifd.js';
import { openTiffImage } from './lazy.js';
import { horizontalDifferences, pyramidLevels, writePyramidalTiff } from './pyramid.js';
import { readTiff } from './read.js';
import { FileSource } from './source.js';

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-pyramid-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeStack(dtype: DType, w: number, h: number, sizeC = 1, sizeT = 1): Stack {
  const planes: PixelArray[] = [];
  for (let p = 0; p < sizeC * sizeT; p++) {
    const a = allocate(dtype, w * h);
    for (let i = 0; i < a.length; i++) {
      const x = i % w;
      const y = Math.floor(i / w);
      const v = (x * 7 + y * 13 + p * 101 + ((x * y) % 17)) % (dtype === 'uint8' ? 256 : 65536);
      a[i] = dtype === 'float32' ? v / 3 - 50 : v;
    }
    planes.push(a);
  }
  return createStack({ width: w, height: h, dtype, sizeC, sizeZ: 1, sizeT, planes, calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5, timeStepS: 2 }, channelNames: sizeC === 2 ? ['DAPI', 'GFP'] : [] });
}

/** The writer's 2×2 mean (integers rounded half up), as a reference. */
function halveRef(a: ArrayLike<number>, w: number, h: number, int: boolean): { data: number[]; w: number; h: number } {
  const ow = Math.ceil(w / 2);
  const oh = Math.ceil(h / 2);
  const data: number[] = [];
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const xs = [2 * x, Math.min(2 * x + 1, w - 1)];
      const ys = [2 * y, Math.min(2 * y + 1, h - 1)];
      const s = a[ys[0] * w + xs[0]] + a[ys[0] * w + xs[1]] + a[ys[1] * w + xs[0]] + a[ys[1] * w + xs[1]];
      data.push(int ? Math.floor((s + 2) / 4) : Math.fround(s / 4));
    }
  }
  return { data, w: ow, h: oh };
}

describe('pyramidal OME-TIFF writer and lazy reader', () => {
  it('level sizes halve until one tile holds the level', () => {
    expect(pyramidLevels(300, 200, 64)).toEqual([{ width: 300, height: 200 }, { width: 150, height: 100 }, { width: 75, height: 50 }, { width: 38, height: 25 }]);
    expect(pyramidLevels(300, 200, 64, 2)).toHaveLength(2);
    expect(pyramidLevels(20000, 20000, 512).map((l) => l.width)).toEqual([20000, 10000, 5000, 2500, 1250, 625, 313]);
  });

  for (const dtype of ['uint16', 'uint8', 'float32'] as const) {
    it(`${dtype}: levels, regions, calibration and channels survive the round trip`, async () => {
      const stack = makeStack(dtype, 300, 200, 2, 2);
      const path = join(dir, `rt-${dtype}.ome.tif`);
      const progress: number[] = [];
      const res = await writePyramidalTiff(path, stackRegionSource(stack), { tileSize: 64, onProgress: (f) => progress.push(f) });
      expect(res.levels).toHaveLength(4);
      expect(progress.at(-1)).toBe(1);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      // whole-stack reader: same planes (SubIFDs are not planes)
      const back = await readTiff(path);
      expect(back).toMatchObject({ width: 300, height: 200, sizeC: 2, sizeZ: 1, sizeT: 2, dtype, channelNames: ['DAPI', 'GFP'] });
      expect(back.calibration).toMatchObject({ pixelWidthUm: 0.5, pixelHeightUm: 0.5, timeStepS: 2 });
      back.planes.forEach((p, i) => expect(Array.from(p)).toEqual(Array.from(stack.planes[i])));
      // lazy reader: levels and regions at each level
      const img = await openTiffImage(path);
      try {
        expect(img.levels.map((l) => [l.width, l.height, l.blockWidth, l.tiled])).toEqual([[300, 200, 64, true], [150, 100, 64, true], [75, 50, 64, true], [38, 25, 64, true]]);
        const plane = stack.planes[1 + 1 * 2]; // c=1, t=1
        const r = await img.readRegion({ c: 1, t: 1, x: 50, y: 60, w: 100, h: 70 });
        const want: number[] = [];
        for (let y = 60; y < 130; y++) for (let x = 50; x < 150; x++) want.push(plane[y * 300 + x]);
        expect(Array.from(r)).toEqual(want);
        let ref = halveRef(plane, 300, 200, dtype !== 'float32');
        const l1 = await img.readRegion({ level: 1, c: 1, t: 1, x: 0, y: 0, w: 150, h: 100 });
        expect(Array.from(l1)).toEqual(ref.data);
        ref = halveRef(ref.data, ref.w, ref.h, dtype !== 'float32');
        const l2 = await img.readRegion({ level: 2, c: 1, t: 1, x: 0, y: 0, w: 75, h: 50 });
        expect(Array.from(l2)).toEqual(ref.data);
      } finally {
        await img.close();
      }
    });
  }

  it('integer tiles are stored with the horizontal predictor (smaller, same pixels); predictor: false stores them as they are', async () => {
    // a smooth 16-bit image, as microscopy images are
    const w = 256;
    const h = 192;
    const smooth = Uint16Array.from({ length: w * h }, (_, i) => Math.round(20000 + 15000 * Math.sin((i % w) / 17) * Math.cos(Math.floor(i / w) / 23)));
    const stack = createStack({ width: w, height: h, dtype: 'uint16', planes: [smooth] });
    const [withP, without] = [join(dir, 'pred.ome.tif'), join(dir, 'nopred.ome.tif')];
    await writePyramidalTiff(withP, stackRegionSource(stack), { tileSize: 64 });
    await writePyramidalTiff(without, stackRegionSource(stack), { tileSize: 64, predictor: false });
    expect(statSync(withP).size).toBeLessThan(0.9 * statSync(without).size);
    for (const f of [withP, without]) {
      const img = await openTiffImage(f);
      expect(Array.from(await img.readRegion({ x: 0, y: 0, w, h }))).toEqual(Array.from(smooth));
      await img.close();
    }
    expect(horizontalDifferencesRoundTrip()).toBe(true);
  });

  it('writes BigTIFF when asked, and the lazy reader opens it', async () => {
    const stack = makeStack('uint16', 130, 70);
    const path = join(dir, 'big.ome.tif');
    const res = await writePyramidalTiff(path, stackRegionSource(stack), { tileSize: 32, bigTiff: true, compression: 'none' });
    expect(res.bigTiff).toBe(true);
    const img = await openTiffImage(path);
    expect(img.levels.map((l) => l.width)).toEqual([130, 65, 33, 17]);
    expect(Array.from(await img.readRegion({ x: 100, y: 40, w: 30, h: 30 }))).toEqual(Array.from({ length: 900 }, (_, i) => stack.planes[0][(40 + Math.floor(i / 30)) * 130 + 100 + (i % 30)]));
    await img.close();
  });

  it('region reads decode only the tiles or strips the region touches', async () => {
    for (const [name, blocks] of [['tiffcp_tiled.tif', 1], ['tiffcp_strips5.tif', 2], ['tiffcp_bigtiff_tiled_lzw.tif', 1]] as const) {
      const path = join(FIXTURES, name);
      const whole = await readTiff(path);
      const img = await openTiffImage(path);
      const spy = vi.spyOn(FileSource.prototype, 'readNew');
      const r = await img.readRegion({ z: 2, x: 17, y: 3, w: 10, h: 6 });
      expect(spy.mock.calls.length, name).toBe(blocks);
      spy.mockRestore();
      const want: number[] = [];
      for (let y = 3; y < 9; y++) for (let x = 17; x < 27; x++) want.push(whole.planes[2][y * whole.width + x]);
      expect(Array.from(r), name).toEqual(want);
      await img.close();
    }
  });

  it('an RGB tiled file gives each channel', async () => {
    const path = join(FIXTURES, 'tiffcp_rgb_tiled_lzw.tif');
    const whole = await readTiff(path);
    const img = await openTiffImage(path);
    expect(img.rgb).toBe(true);
    const g = await img.readRegion({ c: 1, x: 5, y: 10, w: 20, h: 10 });
    expect(g[0]).toBe(whole.planes[1][10 * whole.width + 5]);
    expect(g[199]).toBe(whole.planes[1][19 * whole.width + 24]);
    await img.close();
  });

  it('bad regions are E_ARGUMENT naming the field', async () => {
    const img = await openTiffImage(join(FIXTURES, 'tiffcp_tiled.tif'));
    await expect(img.readRegion({ x: 30, y: 0, w: 10, h: 1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'x' } });
    await expect(img.readRegion({ level: 1, x: 0, y: 0, w: 1, h: 1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'level' } });
    await expect(img.readRegion({ z: 9, x: 0, y: 0, w: 1, h: 1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'z' } });
    await img.close();
  });

  it('a corrupt tile is E_FORMAT naming the file, the tile and its level; the others still read', async () => {
    const stack = makeStack('uint16', 200, 130);
    const path = join(dir, 'corrupt.ome.tif');
    await writePyramidalTiff(path, stackRegionSource(stack), { tileSize: 64 });
    const src = await FileSource.open(path);
    const st = await readStructure(src);
    const [level1] = await readSubIfds(src, st, st.pages[0]);
    await src.close();
    const bytes = new Uint8Array(await readFile(path));
    const t = 3; // level 1 is 100×65: tiles 2 across, so tile 3 is column 1, row 1
    bytes.fill(0xff, level1.offsets[t], level1.offsets[t] + level1.byteCounts![t]);
    const bad = join(dir, 'corrupt-tile.ome.tif');
    await writeFile(bad, bytes);
    const img = await openTiffImage(bad);
    await expect(img.readRegion({ x: 0, y: 0, w: 200, h: 130 })).resolves.toHaveLength(200 * 130);
    const err = await img.readRegion({ level: 1, x: 70, y: 60, w: 10, h: 5 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'E_FORMAT', details: { file: bad } });
    expect(err.message).toContain(bad);
    expect(err.message).toContain('tile 3 (column 1, row 1) of IFD 0 SubIFD 0');
    await img.close();
    // truncated inside a level's tiles: refused at open, naming the file
    const cut = join(dir, 'truncated.ome.tif');
    await writeFile(cut, bytes.subarray(0, level1.offsets[t] + 4));
    await expect(openTiffImage(cut)).rejects.toMatchObject({ code: 'E_FORMAT', details: { file: cut } });
  });

  it('SubIFDs that loop back or point outside the file are E_FORMAT naming the file', async () => {
    const path = join(dir, 'subifd.ome.tif');
    await writePyramidalTiff(path, stackRegionSource(makeStack('uint8', 40, 40)), { tileSize: 16, levels: 2, compression: 'none' });
    const bytes = new Uint8Array(await readFile(path));
    const dv = new DataView(bytes.buffer);
    const ifd0 = dv.getUint32(4, true);
    const n = dv.getUint16(ifd0, true);
    let entry = -1;
    for (let i = 0; i < n; i++) if (dv.getUint16(ifd0 + 2 + 12 * i, true) === 330) entry = ifd0 + 2 + 12 * i;
    expect(entry).toBeGreaterThan(0);
    for (const [value, message] of [[ifd0, /SubIFD 0 points back to byte/], [bytes.length + 100, /outside the file/]] as const) {
      dv.setUint32(entry + 8, value, true);
      const bad = join(dir, `subifd-${value}.tif`);
      await writeFile(bad, bytes);
      const err = await openTiffImage(bad).catch((e) => e);
      expect(err).toMatchObject({ code: 'E_FORMAT', details: { file: bad } });
      expect(err.message).toMatch(message);
    }
  });

  it('a cancelled write leaves no file and no temporary file', async () => {
    const stack = makeStack('uint16', 256, 256);
    const path = join(dir, 'cancelled', 'x.ome.tif');
    const ac = new AbortController();
    const p = writePyramidalTiff(path, stackRegionSource(stack), { tileSize: 32, mkdir: true, signal: ac.signal, onProgress: (f) => f > 0.3 && ac.abort() });
    await expect(p).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(await readdir(join(dir, 'cancelled'))).toEqual([]);
  });

  it('bad options are E_ARGUMENT naming the option', async () => {
    const src = stackRegionSource(makeStack('uint8', 20, 20));
    await expect(writePyramidalTiff(join(dir, 'bad.tif'), src, { tileSize: 100 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'tileSize' } });
    await expect(writePyramidalTiff(join(dir, 'bad.tif'), src, { levels: 0 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'levels' } });
  });

  it('tifffile opens the pyramid: OME series, shape, levels, tiles and pixels', async (ctx) => {
    const py = process.env.FOCAL_PYTHON ?? '/usr/bin/python3';
    try {
      await run(py, ['-c', 'import tifffile']);
    } catch {
      if (process.env.CI) throw new Error(`python3-tifffile is required in CI (${py})`);
      ctx.skip('python3-tifffile is not installed (scripts/install-system-deps.sh installs it)');
    }
    const stack = makeStack('uint16', 300, 200, 2, 1);
    const path = join(dir, 'tifffile.ome.tif');
    await writePyramidalTiff(path, stackRegionSource(stack), { tileSize: 64 });
    const script = [
      'import sys, json, tifffile',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '    s = t.series[0]',
      '    a = s.levels[0].asarray(); b = s.levels[1].asarray()',
      '    print(json.dumps({"ome": t.is_ome, "axes": s.axes, "shapes": [list(l.shape) for l in s.levels], "tile": list(t.pages[0].tile), "v": int(a[1, 150, 250]), "v1": int(b[0, 10, 20]), "compression": int(t.pages[0].compression), "predictor": int(t.pages[0].predictor), "sum": int(a.astype("int64").sum())}))',
    ].join('\n');
    const { stdout } = await run(py, ['-c', script, path]);
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ ome: true, axes: 'CYX', shapes: [[2, 200, 300], [2, 100, 150], [2, 50, 75], [2, 25, 38]], tile: [64, 64], compression: 8, predictor: 2 });
    // every pixel of both channels, through libtiff's own predictor decoding
    expect(r.sum).toBe(stack.planes.reduce((a, p) => a + Array.from(p).reduce((b, v) => b + v, 0), 0));
    expect(r.v).toBe(stack.planes[1][150 * 300 + 250]);
    expect(r.v1).toBe(halveRef(stack.planes[0], 300, 200, true).data[10 * 150 + 20]);
  });
  it('a one-plane pyramid chains its levels in the main IFD chain too: OpenSlide and tifffile both see every level', async (ctx) => {
    const py = process.env.FOCAL_PYTHON ?? '/usr/bin/python3';
    try {
      await run(py, ['-c', 'import openslide, tifffile']);
    } catch {
      ctx.skip('python3-openslide or python3-tifffile is not installed (apt-get install python3-openslide python3-tifffile)');
    }
    const stack = makeStack('uint16', 300, 200);
    const path = join(dir, 'openslide.ome.tif');
    await writePyramidalTiff(path, stackRegionSource(stack), { tileSize: 64 });
    const script = [
      'import sys, json, openslide, tifffile',
      's = openslide.OpenSlide(sys.argv[1])',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '    print(json.dumps({"openslide": [list(d) for d in s.level_dimensions], "series": len(t.series), "tifffile": [list(l.shape) for l in t.series[0].levels]}))',
    ].join('\n');
    const r = JSON.parse((await run(py, ['-c', script, path])).stdout);
    expect(r).toEqual({ openslide: [[300, 200], [150, 100], [75, 50], [38, 25]], series: 1, tifffile: [[200, 300], [100, 150], [50, 75], [25, 38]] });
    // Focal's readers: one plane, the SubIFD levels
    const img = await openTiffImage(path);
    expect(img.levels.map((l) => l.width)).toEqual([300, 150, 75, 38]);
    await img.close();
    expect((await readTiff(path)).planes.length).toBe(1);
  });
});

/** horizontalDifferences wraps like the TIFF predictor: undoing it by running sums gives the row back (uint8 and uint16). */
function horizontalDifferencesRoundTrip(): boolean {
  for (const a of [Uint8Array.of(250, 3, 0, 255, 7, 7), Uint16Array.of(65535, 0, 1, 40000, 2, 65534)]) {
    const d = a.slice();
    horizontalDifferences(d, 3, 2);
    const back = d.slice();
    for (let r = 0; r < 2; r++) for (let x = 1; x < 3; x++) back[r * 3 + x] = back[r * 3 + x] + back[r * 3 + x - 1];
    if (Array.from(back).join() !== Array.from(a).join()) return false;
  }
  return true;
}
