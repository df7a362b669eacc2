import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromFile } from 'geotiff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DType, PixelArray } from '../../data/dtype.js';
import { createImage } from '../../data/image.js';
import { createStack, planeIndex, type Stack } from '../../data/stack.js';
import { isFocalError } from '../../errors.js';
import { readStructure } from './ifd.js';
import { inspectTiff, readTiff } from './read.js';
import { FileSource } from './source.js';
import { encodeTiff, toRational, writeTiff } from './write.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-write-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeStack(dtype: DType, sizeC: number, sizeZ: number, sizeT: number, width = 33, height = 17, extra: Partial<Parameters<typeof createStack>[0]> = {}): Stack {
  const planes: PixelArray[] = [];
  for (let t = 0; t < sizeT; t++) {
    for (let z = 0; z < sizeZ; z++) {
      for (let c = 0; c < sizeC; c++) {
        const p = dtype === 'uint8' ? new Uint8Array(width * height) : dtype === 'uint16' ? new Uint16Array(width * height) : new Float32Array(width * height);
        for (let i = 0; i < p.length; i++) {
          const v = (i * 7 + c * 1000 + z * 100 + t * 10) % (dtype === 'uint8' ? 256 : 65536);
          p[i] = dtype === 'float32' ? v * 0.25 - 3.5 : v;
        }
        planes.push(p);
      }
    }
  }
  return createStack({ width, height, dtype, sizeC, sizeZ, sizeT, planes, ...extra });
}

function expectSamePlanes(a: Stack, b: Stack): void {
  expect([b.width, b.height, b.dtype, b.sizeC, b.sizeZ, b.sizeT, b.rgb]).toEqual([a.width, a.height, a.dtype, a.sizeC, a.sizeZ, a.sizeT, a.rgb]);
  for (let i = 0; i < a.planes.length; i++) expect(b.planes[i]).toEqual(a.planes[i]);
}

describe('write → read round trip', () => {
  it.each([
    ['uint8', 1, 1, 1],
    ['uint8', 2, 3, 1],
    ['uint16', 2, 3, 4],
    ['uint16', 1, 7, 1],
    ['uint16', 1, 1, 5],
    ['float32', 3, 1, 2],
    ['float32', 1, 2, 1],
  ] as const)('%s c=%i z=%i t=%i', async (dtype, c, z, t) => {
    const stack = makeStack(dtype, c, z, t, 33, 17, { calibration: { pixelWidthUm: 0.1625, pixelHeightUm: 0.1625, zStepUm: 0.3, timeStepS: 2.5 } });
    const path = join(dir, `rt-${dtype}-${c}${z}${t}.tif`);
    await writeTiff(path, stack);
    const back = await readTiff(path);
    expectSamePlanes(stack, back);
    expect(back.calibration.pixelWidthUm).toBeCloseTo(0.1625, 12);
    expect(back.calibration.pixelHeightUm).toBeCloseTo(0.1625, 12);
    expect(back.calibration.zStepUm).toBeCloseTo(0.3, 12);
    expect(back.calibration.timeStepS).toBeCloseTo(2.5, 12);
    expect(back.metadata.format).toBe('imagej');
    const info = await inspectTiff(path);
    expect(info.pageCount).toBe(c * z * t);
    expect(info.compression).toBe('none');
  });

  it('keeps float32 special values and anisotropic pixels', async () => {
    const stack = makeStack('float32', 1, 1, 1, 8, 4, { calibration: { pixelWidthUm: 0.2, pixelHeightUm: 0.35 } });
    stack.planes[0][0] = NaN;
    stack.planes[0][1] = -Infinity;
    stack.planes[0][2] = 3.4e38;
    stack.planes[0][3] = -1e-40;
    const path = join(dir, 'special.tif');
    await writeTiff(path, stack);
    const back = await readTiff(path);
    expect(Number.isNaN(back.planes[0][0])).toBe(true);
    expect(Array.from(back.planes[0].subarray(1, 4))).toEqual(Array.from(stack.planes[0].subarray(1, 4)));
    expect(back.calibration.pixelWidthUm).toBeCloseTo(0.2, 12);
    expect(back.calibration.pixelHeightUm).toBeCloseTo(0.35, 12);
    expect(back.calibration.zStepUm).toBeUndefined();
  });

  it('writes RGB as chunky samples, one IFD per z/t position', async () => {
    const stack = makeStack('uint8', 3, 2, 2, 20, 10, { rgb: true, calibration: { pixelWidthUm: 1.5 } });
    const path = join(dir, 'rgb.tif');
    await writeTiff(path, stack);
    const back = await readTiff(path);
    expectSamePlanes(stack, back);
    expect(back.calibration.pixelWidthUm).toBeCloseTo(1.5, 12);
    const src = await FileSource.open(path);
    try {
      const st = await readStructure(src);
      expect(st.pages).toHaveLength(4);
      expect(st.pages.every((p) => p.samplesPerPixel === 3 && p.photometric === 2 && p.planar === 1)).toBe(true);
    } finally {
      await src.close();
    }
  });

  it('writes an uncalibrated Image as one plane without resolution tags', async () => {
    const image = createImage({ width: 5, height: 3, data: new Uint16Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 65535]) });
    const path = join(dir, 'image.tif');
    await writeTiff(path, image);
    const back = await readTiff(path);
    expect([back.sizeC, back.sizeZ, back.sizeT]).toEqual([1, 1, 1]);
    expect(Array.from(back.planes[0])).toEqual(Array.from(image.data));
    expect(back.calibration).toEqual({});
    const src = await FileSource.open(path);
    try {
      const page = (await readStructure(src)).pages[0];
      expect(page.xResolution).toBeUndefined();
    } finally {
      await src.close();
    }
  });

  it('keeps channel-varies-fastest (XYCZT) plane order', async () => {
    const stack = makeStack('uint16', 2, 3, 2, 4, 4);
    stack.planes.forEach((p, i) => p.fill(i));
    const path = join(dir, 'order.tif');
    await writeTiff(path, stack);
    const back = await readTiff(path);
    expect(back.planes[planeIndex(back, 1, 2, 1)][0]).toBe(1 + 2 * 2 + 1 * 6);
  });
});

describe('file layout', () => {
  it('writes the ImageJ hyperstack description with only the fields that apply', () => {
    const text = (s: Stack): string => {
      const bytes = encodeTiff(s).toBytes();
      const all = Buffer.from(bytes).toString('latin1');
      const start = all.indexOf('ImageJ=');
      return all.slice(start, all.indexOf('\0', start));
    };
    const hyper = makeStack('uint16', 2, 3, 4, 4, 4, { calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5, zStepUm: 2, timeStepS: 1.5 } });
    hyper.planes.forEach((p) => p.fill(7));
    hyper.planes[5][0] = 900;
    expect(text(hyper)).toBe('ImageJ=1.53t\nimages=24\nchannels=2\nslices=3\nframes=4\nhyperstack=true\nmode=composite\nunit=micron\nspacing=2.0\nfinterval=1.5\nloop=false\nmin=7.0\nmax=900.0\n');
    expect(text(makeStack('uint8', 1, 5, 1, 4, 4))).toBe('ImageJ=1.53t\nimages=5\nslices=5\nloop=false\n');
    expect(text(makeStack('uint8', 3, 1, 1, 4, 4))).toBe('ImageJ=1.53t\nimages=3\nchannels=3\nmode=composite\nloop=false\n');
    expect(text(makeStack('uint8', 3, 1, 1, 4, 4, { rgb: true }))).toBe('ImageJ=1.53t\n');
    expect(text(makeStack('uint8', 3, 2, 3, 4, 4, { rgb: true }))).toBe('ImageJ=1.53t\nimages=6\nslices=2\nframes=3\nhyperstack=true\nloop=false\n');
  });

  it('stores pixel data contiguously after the first IFD, as ImageJ expects', async () => {
    const stack = makeStack('uint16', 2, 2, 2, 10, 6);
    const path = join(dir, 'layout.tif');
    await writeTiff(path, stack);
    const src = await FileSource.open(path);
    try {
      const st = await readStructure(src);
      const planeBytes = 10 * 6 * 2;
      expect(st.littleEndian).toBe(true);
      expect(st.pages.map((p) => p.offsets[0] - st.pages[0].offsets[0])).toEqual(st.pages.map((_, k) => k * planeBytes));
      expect(st.pages.map((p) => p.byteCounts![0])).toEqual(st.pages.map(() => planeBytes));
      expect(st.pages[1].offset).toBe(st.pages[0].offsets[0] + 8 * planeBytes);
    } finally {
      await src.close();
    }
  });

  it('streams pixel data without copying the planes', () => {
    const stack = makeStack('float32', 1, 3, 1, 16, 16);
    const chunks = [...encodeTiff(stack)];
    for (const p of stack.planes) expect(chunks.some((ch) => ch.buffer === p.buffer && ch.byteLength === p.byteLength)).toBe(true);
    expect(chunks.reduce((s, c) => s + c.byteLength, 0)).toBe(encodeTiff(stack).byteLength);
  });

  it('approximates resolutions by rationals of 32-bit integers', () => {
    for (const x of [2, 1 / 0.1625, 1 / 0.65, 6.02214076, 1e-3, 12345.678]) {
      const [n, d] = toRational(x);
      expect(n).toBeLessThanOrEqual(0xffffffff);
      expect(d).toBeLessThanOrEqual(0xffffffff);
      expect(n / d).toBeCloseTo(x, 9);
    }
    expect(toRational(2)).toEqual([2, 1]);
  });

  it('switches to BigTIFF automatically above 4 GiB', () => {
    // Nine planes of 512 MiB (one shared buffer, nothing is written).
    const plane = new Uint8Array(32768 * 16384);
    const stack = createStack({ width: 32768, height: 16384, dtype: 'uint8', sizeZ: 9, planes: Array(9).fill(plane) });
    const enc = encodeTiff(stack);
    expect(enc.bigTiff).toBe(true);
    expect(enc.byteLength).toBeGreaterThan(2 ** 32);
    const small = encodeTiff(createStack({ width: 32768, height: 16384, dtype: 'uint8', sizeZ: 7, planes: Array(7).fill(plane) }));
    expect(small.bigTiff).toBe(false);
  });
});

describe('BigTIFF output (bigTiff: true)', () => {
  it('is read back by Focal, geotiff and libtiff (tiffinfo)', async () => {
    const stack = makeStack('uint16', 2, 2, 1, 24, 16, { calibration: { pixelWidthUm: 0.5 } });
    const path = join(dir, 'big.tif');
    await writeTiff(path, stack, { bigTiff: true });
    const bytes = await readFile(path);
    expect(bytes.readUInt16LE(2)).toBe(43);
    const info = await inspectTiff(path);
    expect(info.bigTiff).toBe(true);
    expectSamePlanes(stack, await readTiff(path));

    const tiff = await fromFile(path);
    try {
      expect(await tiff.getImageCount()).toBe(4);
      for (let k = 0; k < 4; k++) {
        const img = await tiff.getImage(k);
        expect([img.getWidth(), img.getHeight()]).toEqual([24, 16]);
        const [band] = await img.readRasters();
        expect(Array.from(band as Uint16Array)).toEqual(Array.from(stack.planes[k]));
      }
    } finally {
      await tiff.close();
    }

    let out: { stdout: string; stderr: string } | undefined;
    try {
      out = await run('tiffinfo', [path]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !process.env.CI) return; // libtiff-tools not installed
      throw err;
    }
    expect(out.stdout.match(/TIFF Directory at offset/g)).toHaveLength(4);
    expect(out.stdout).toContain('Image Width: 24 Image Length: 16');
    expect(out.stdout).toContain('ImageJ=1.53t');
    expect(out.stderr).not.toMatch(/error/i);
  });
});

describe('tifffile reads what Focal writes', () => {
  it('sees the ImageJ hyperstack shape and calibration', async () => {
    const py = process.env.FOCAL_PYTHON ?? '/usr/bin/python3';
    try {
      await run(py, ['-c', 'import tifffile']);
    } catch {
      if (process.env.CI) throw new Error(`python3-tifffile is required in CI (${py})`);
      return; // tifffile not installed here
    }
    const stack = makeStack('uint16', 2, 3, 4, 12, 8, { calibration: { pixelWidthUm: 0.25, pixelHeightUm: 0.25, zStepUm: 1.5, timeStepS: 3 } });
    const path = join(dir, 'for-tifffile.tif');
    await writeTiff(path, stack);
    const script = [
      'import sys, json, tifffile',
      'with tifffile.TiffFile(sys.argv[1]) as t:',
      '    s = t.series[0]; m = t.imagej_metadata; a = s.asarray()',
      '    xr = t.pages[0].tags["XResolution"].value',
      '    print(json.dumps({"axes": s.axes, "shape": list(s.shape), "spacing": m.get("spacing"), "finterval": m.get("finterval"), "unit": m.get("unit"), "xres": xr[0] / xr[1], "v": int(a[3, 2, 1, 5, 7]), "is_imagej": t.is_imagej}))',
    ].join('\n');
    const { stdout } = await run(py, ['-c', script, path]);
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({ axes: 'TZCYX', shape: [4, 3, 2, 8, 12], spacing: 1.5, finterval: 3, unit: 'micron', is_imagej: true });
    expect(r.xres).toBeCloseTo(4, 9);
    expect(r.v).toBe(stack.planes[planeIndex(stack, 1, 2, 3)][5 * 12 + 7]);
  });
});

describe('atomic writes', () => {
  const noTemp = async (folder: string): Promise<void> => {
    expect((await readdir(folder)).filter((n) => n.includes('focal-tmp'))).toEqual([]);
  };

  it('fails with E_IO when the folder does not exist, leaving nothing behind', async () => {
    const err = await writeTiff(join(dir, 'no-such-folder', 'x.tif'), makeStack('uint8', 1, 1, 1)).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
    await noTemp(dir);
  });

  it('creates the folder with mkdir: true', async () => {
    const path = join(dir, 'made', 'deeper', 'x.tif');
    await writeTiff(path, makeStack('uint8', 1, 2, 1), { mkdir: true });
    expect((await readTiff(path)).sizeZ).toBe(2);
  });

  it('fails with E_IO in a read-only folder', async () => {
    let folder: string;
    if (process.getuid?.() === 0) {
      folder = '/sys'; // root ignores permission bits; sysfs refuses new files even for root
    } else {
      folder = join(dir, 'readonly');
      await mkdir(folder);
      await chmod(folder, 0o555);
    }
    const err = await writeTiff(join(folder, 'x.tif'), makeStack('uint8', 1, 1, 1)).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
    expect(isFocalError(err) && err.details.file).toBe(join(folder, 'x.tif'));
    if (folder !== '/sys') await noTemp(folder);
  });

  it('replaces an existing file only when the new one is complete', async () => {
    const path = join(dir, 'keep.tif');
    await writeFile(path, 'previous content');
    const stack = makeStack('uint16', 1, 4, 1);
    // A plane that fails while the file is being streamed out (after validation passed).
    const planes = [...stack.planes];
    let reads = 0;
    const failing = new Proxy(planes, {
      get(target, key, receiver) {
        if (key === '3' && ++reads > 2) throw new Error('simulated failure while writing');
        return Reflect.get(target, key, receiver);
      },
    });
    const bad = { ...stack, planes: failing };
    const err = await writeTiff(path, bad).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
    expect(await readFile(path, 'utf8')).toBe('previous content');
    await noTemp(dir);
    await writeTiff(path, stack);
    expectSamePlanes(stack, await readTiff(path));
  });
});
