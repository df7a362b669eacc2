/**
 * OME-Zarr: the writer's folders read back by Focal's lazy reader (zarrita) for Zarr v3 / NGFF 0.5
 * and Zarr v2 / NGFF 0.4, by zarr-python (Debian python3-zarr, Zarr v2) with the NGFF metadata,
 * and images zarr-python writes (blosc, 3-D z y x, bioformats2raw layout) read by Focal; levels,
 * calibration, channels, z/t kept; atomic writes; corrupt chunks and hostile metadata named.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import { createStack, planeIndex, type Stack } from '../data/stack.js';
import { stackRegionSource } from './lazy-image.js';
import { openOmeZarr, readOmeZarr, writeOmeZarr } from './ome-zarr.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const pyZarr = await run(PYTHON, ['-c', 'import zarr, numpy']).then(() => true, () => false);
if (!pyZarr && !process.env.CI) console.warn('ome-zarr: zarr-python checks skipped: needs /usr/bin/python3 with zarr (Debian python3-zarr)');
const d = mkdtempSync(join(tmpdir(), 'focal-ome-zarr-'));
afterAll(() => rmSync(d, { recursive: true, force: true }));

/** 2 channels × 3 z × 2 t of 70 × 45 px uint16, every pixel distinct per plane. */
function sample(dtype: 'uint16' | 'float32' | 'uint8' = 'uint16'): Stack {
  const w = 70;
  const h = 45;
  const planes = Array.from({ length: 12 }, (_, p) => {
    const a = dtype === 'uint16' ? new Uint16Array(w * h) : dtype === 'uint8' ? new Uint8Array(w * h) : new Float32Array(w * h);
    for (let i = 0; i < a.length; i++) a[i] = dtype === 'float32' ? i * 0.5 - 7 + p * 1000 : dtype === 'uint8' ? (i + 13 * p) % 256 : (i * 3 + p * 5000) % 65536;
    return a;
  });
  return createStack({ width: w, height: h, dtype, sizeC: 2, sizeZ: 3, sizeT: 2, planes, channelNames: ['DAPI', 'GFP'], calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 1.5, timeStepS: 30 } });
}

/** The 2 × 2 mean (integers rounded) the writer's level 1 must hold at (x, y). */
function mean2(s: Stack, plane: number, x: number, y: number): number {
  const p = s.planes[plane];
  const at = (xx: number, yy: number) => p[Math.min(yy, s.height - 1) * s.width + Math.min(xx, s.width - 1)];
  const sum = at(2 * x, 2 * y) + at(2 * x + 1, 2 * y) + at(2 * x, 2 * y + 1) + at(2 * x + 1, 2 * y + 1);
  return s.dtype === 'float32' ? sum / 4 : Math.floor((sum + 2) / 4);
}

describe('OME-Zarr writer and lazy reader', () => {
  for (const zarrFormat of [3, 2] as const) {
    it(`Zarr v${zarrFormat}: levels, chunks, calibration, channels, z and t survive the round trip`, async () => {
      const s = sample();
      const out = join(d, `v${zarrFormat}.ome.zarr`);
      const progress: number[] = [];
      const r = await writeOmeZarr(out, stackRegionSource(s), { chunkSize: 16, zarrFormat, onProgress: (f) => progress.push(f) });
      expect(r.levels).toEqual([{ width: 70, height: 45 }, { width: 35, height: 23 }, { width: 18, height: 12 }, { width: 9, height: 6 }]); // until a level fits one chunk
      expect(r.ngffVersion).toBe(zarrFormat === 3 ? '0.5' : '0.4');
      expect(progress.at(-1)).toBe(1);
      expect(readdirSync(d).filter((f) => f.includes('focal-tmp'))).toEqual([]);
      const img = await openOmeZarr(out);
      expect([img.width, img.height, img.sizeC, img.sizeZ, img.sizeT, img.dtype]).toEqual([70, 45, 2, 3, 2, 'uint16']);
      expect(img.channelNames).toEqual(['DAPI', 'GFP']);
      expect(img.calibration).toEqual({ pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 1.5, timeStepS: 30 });
      expect(img.levels.map((l) => [l.width, l.height, l.blockWidth, l.blockHeight])).toEqual([[70, 45, 16, 16], [35, 23, 16, 16], [18, 12, 16, 16], [9, 6, 16, 16]]);
      expect(img.layout).toMatchObject({ zarrFormat, ngffVersion: zarrFormat === 3 ? '0.5' : '0.4', axes: ['t', 'c', 'z', 'y', 'x'] });
      expect(img.layout.levels[1]).toMatchObject({ path: '1', shape: [2, 2, 3, 23, 35], chunks: [1, 1, 1, 16, 16], scale: [30, 1, 1.5, 0.65, 0.65] });
      // a region across chunk borders, c = 1, z = 2, t = 1
      const p = planeIndex(s, 1, 2, 1);
      const region = await img.readRegion({ c: 1, z: 2, t: 1, x: 10, y: 12, w: 30, h: 20 });
      expect(region[0]).toBe(s.planes[p][12 * 70 + 10]);
      expect(region[19 * 30 + 29]).toBe(s.planes[p][31 * 70 + 39]);
      // level 1: 2 × 2 means, also at the odd last row
      const l1 = await img.readRegion({ level: 1, c: 1, z: 2, t: 1, x: 0, y: 0, w: 35, h: 23 });
      expect(l1[5 * 35 + 7]).toBe(mean2(s, p, 7, 5));
      expect(l1[22 * 35 + 34]).toBe(mean2(s, p, 34, 22));
      // the whole image as a stack
      const back = await readOmeZarr(out);
      expect(back.planes.map((q) => Array.from(q))).toEqual(s.planes.map((q) => Array.from(q)));
      expect(back.metadata).toMatchObject({ format: 'ome-zarr', omeZarr: { zarrFormat, axes: ['t', 'c', 'z', 'y', 'x'], levels: 4 } });
    });
  }

  it('float32 and uint8, uncompressed, one level; zarrita opens the arrays the writer made', async () => {
    for (const dtype of ['float32', 'uint8'] as const) {
      const s = sample(dtype);
      const out = join(d, `${dtype}.ome.zarr`);
      await writeOmeZarr(out, stackRegionSource(s), { chunkSize: 32, levels: 1, compression: 'none' });
      const back = await readOmeZarr(out);
      expect(back.dtype).toBe(dtype);
      expect(Array.from(back.planes[7])).toEqual(Array.from(s.planes[7]));
      const arr = await zarr.open(zarr.root(new FileSystemStore(out)).resolve('0'), { kind: 'array' });
      expect(arr.shape).toEqual([2, 2, 3, 45, 70]);
      expect(String(arr.dtype)).toBe(dtype);
    }
  });

  it('refuses an existing output, cleans up on failure and cancellation, checks its options', async () => {
    const s = sample();
    const out = join(d, 'exists.ome.zarr');
    await mkdir(out);
    await expect(writeOmeZarr(out, stackRegionSource(s))).rejects.toThrow(/exists; Focal does not replace it/);
    const ac = new AbortController();
    const out2 = join(d, 'cancelled.ome.zarr');
    await expect(writeOmeZarr(out2, stackRegionSource(s), { chunkSize: 16, signal: ac.signal, onProgress: (f) => f > 0.3 && ac.abort() })).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(readdirSync(d).filter((f) => f.startsWith('.cancelled') || f === 'cancelled.ome.zarr')).toEqual([]);
    await expect(writeOmeZarr(join(d, 'x.ome.zarr'), stackRegionSource(s), { chunkSize: 8 })).rejects.toThrow(/chunkSize must be an integer from 16 to 4096/);
    await expect(writeOmeZarr(join(d, 'no', 'such', 'x.ome.zarr'), stackRegionSource(s))).rejects.toThrow(/does not exist/);
  });

  it('a corrupt chunk names the file, the level and the chunk; a dataset path outside the image is refused', async () => {
    const s = sample();
    const out = join(d, 'corrupt.ome.zarr');
    await writeOmeZarr(out, stackRegionSource(s), { chunkSize: 16, zarrFormat: 3 });
    writeFileSync(join(out, '0', 'c', '0', '1', '0', '1', '2'), Buffer.from('not gzip at all'));
    const img = await openOmeZarr(out);
    await expect(img.readRegion({ c: 1, x: 32, y: 16, w: 8, h: 8 })).rejects.toThrow(/corrupt\.ome\.zarr: level 0 \(0\): chunks y 1…1, x 2…2 of c 1 z 0 t 0 cannot be read/);
    // the other chunks still read
    expect((await img.readRegion({ c: 1, x: 0, y: 0, w: 8, h: 8 }))[0]).toBe(s.planes[1][0]);
    const meta = JSON.parse(readFileSync(join(out, 'zarr.json'), 'utf8'));
    meta.attributes.ome.multiscales[0].datasets[0].path = '../../etc';
    writeFileSync(join(out, 'zarr.json'), JSON.stringify(meta));
    await expect(openOmeZarr(out)).rejects.toThrow(/datasets\/0\/path is "\.\.\/\.\.\/etc": a dataset path must be a relative path inside the image/);
    const plain = join(d, 'plain');
    await mkdir(plain);
    writeFileSync(join(plain, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }));
    await expect(openOmeZarr(plain)).rejects.toThrow(/no OME-NGFF multiscales .*not an OME-Zarr image/);
  });

  it.skipIf(!pyZarr && !process.env.CI)('zarr-python reads the Zarr v2 / NGFF 0.4 image; Focal reads what zarr-python writes (blosc, z y x, bioformats2raw)', async () => {
    const s = sample();
    const out = join(d, 'for-python.ome.zarr');
    await writeOmeZarr(out, stackRegionSource(s), { chunkSize: 16, zarrFormat: 2 });
    const py = join(d, 'py.ome.zarr');
    const script = [
      'import sys, json, zarr, numpy, numcodecs',
      'g = zarr.open_group(sys.argv[1], mode="r")',
      'ms = g.attrs["multiscales"][0]',
      'a0 = g[ms["datasets"][0]["path"]]; a1 = g[ms["datasets"][1]["path"]]',
      'print(json.dumps({"version": ms["version"], "axes": [a["name"] for a in ms["axes"]], "units": [a.get("unit") for a in ms["axes"]],',
      '  "scale1": ms["datasets"][1]["coordinateTransformations"][0]["scale"], "shape0": list(a0.shape), "shape1": list(a1.shape), "chunks": list(a0.chunks),',
      '  "dtype": str(a0.dtype), "labels": [c["label"] for c in g.attrs["omero"]["channels"]], "px": int(a0[1, 1, 2, 31, 39]), "px1": int(a1[1, 1, 2, 22, 34])}))',
      // an image zarr-python writes: 3-D z y x, blosc, NGFF 0.4, in the bioformats2raw layout
      'root = zarr.open_group(sys.argv[2], mode="w"); root.attrs["bioformats2raw.layout"] = 3',
      'img = root.create_group("0")',
      'data = (numpy.arange(4 * 40 * 50, dtype=numpy.uint16).reshape(4, 40, 50) * 7) % 60000',
      'img.create_dataset("0", data=data, chunks=(1, 16, 16), compressor=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.SHUFFLE), dimension_separator="/")',
      'img.create_dataset("1", data=data[:, ::2, ::2], chunks=(1, 16, 16), compressor=numcodecs.Blosc(cname="lz4"))',
      'img.attrs["multiscales"] = [{"version": "0.4", "axes": [{"name": "z", "type": "space", "unit": "micrometer"}, {"name": "y", "type": "space", "unit": "nanometer"}, {"name": "x", "type": "space", "unit": "nanometer"}],',
      '  "datasets": [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 250.0, 250.0]}]}, {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 500.0, 500.0]}]}]}]',
    ].join('\n');
    const { stdout } = await run(PYTHON, ['-c', script, out, py]);
    const r = JSON.parse(stdout);
    const p = planeIndex(s, 1, 2, 1);
    expect(r).toEqual({
      version: '0.4', axes: ['t', 'c', 'z', 'y', 'x'], units: ['second', null, 'micrometer', 'micrometer', 'micrometer'],
      scale1: [30, 1, 1.5, 0.65, 0.65], shape0: [2, 2, 3, 45, 70], shape1: [2, 2, 3, 23, 35], chunks: [1, 1, 1, 16, 16],
      dtype: 'uint16', labels: ['DAPI', 'GFP'], px: s.planes[p][31 * 70 + 39], px1: mean2(s, p, 34, 22),
    });
    const warnings: string[] = [];
    const img = await openOmeZarr(py, { onWarning: (w) => warnings.push(w) });
    expect(warnings.join()).toMatch(/bioformats2raw layout/);
    expect([img.width, img.height, img.sizeC, img.sizeZ, img.sizeT, img.levels.length]).toEqual([50, 40, 1, 4, 1, 2]);
    expect(img.calibration).toEqual({ pixelWidthUm: 0.25, pixelHeightUm: 0.25, zStepUm: 2 });
    const region = await img.readRegion({ z: 3, x: 20, y: 10, w: 20, h: 20 });
    expect(region[5 * 20 + 7]).toBe(((3 * 2000 + 15 * 50 + 27) * 7) % 60000);
    const l1 = await img.readRegion({ level: 1, z: 1, x: 0, y: 0, w: 25, h: 20 });
    expect(l1[3 * 25 + 4]).toBe(((1 * 2000 + 6 * 50 + 8) * 7) % 60000);
  });
});
