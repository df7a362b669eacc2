import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage } from '../data/image.js';
import { createStack, planeIndex } from '../data/stack.js';
import { isFocalError } from '../errors.js';
import { autoContrastRange, autoContrastRangeOf, encodePng, renderPreview, writePng } from './png.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-png-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('auto-contrast (ImageJ Enhance Contrast, saturated=0.35)', () => {
  it('saturates 0.175 % at each end of a 16-bit ramp', () => {
    const ramp = Uint16Array.from({ length: 10000 }, (_, i) => i);
    // 10000 × 0.35 / 200 = 17.5 → 17 pixels may saturate on each side.
    expect(autoContrastRange(ramp)).toEqual([17, 9982]);
    expect(autoContrastRange(ramp, 0)).toEqual([0, 9999]);
    expect(autoContrastRange(ramp, 10)).toEqual([500, 9499]);
  });

  it('ignores rare outliers, NaN and infinities in float data', () => {
    const data = new Float32Array(10000);
    for (let i = 0; i < data.length; i++) data[i] = 100 + (i % 101);
    data[0] = -1e6;
    data[1] = 1e6;
    data[2] = NaN;
    data[3] = Infinity;
    const [lo, hi] = autoContrastRange(data);
    // 9996 finite values; 17 may saturate per side: the 17 smallest are -1e6 and 16 × 100.
    expect(lo).toBe(100);
    expect(hi).toBe(200);
    const ramp = Float32Array.from({ length: 10000 }, (_, i) => i / 4);
    expect(autoContrastRange(ramp)).toEqual([17 / 4, 9982 / 4]);
  });

  it('handles constant planes', () => {
    expect(autoContrastRange(new Uint8Array(50).fill(7))).toEqual([7, 7]);
    expect(Array.from(renderPreview(createImage({ width: 5, height: 10, data: new Uint8Array(50).fill(7) })).data.slice(0, 3))).toEqual([0, 0, 0]);
  });

  it('rejects a bad saturation', () => {
    expect(() => autoContrastRange(new Uint8Array(4), -1)).toThrow(/saturatedPercent/);
  });
});

describe('writePng', () => {
  it('writes an 8-bit grey PNG of the middle z slice, stretched to 0–255', async () => {
    const width = 40;
    const height = 30;
    const planes = Array.from({ length: 5 }, (_, z) => Uint16Array.from({ length: width * height }, (_, i) => 1000 * z + (i % width) * 10));
    const stack = createStack({ width, height, dtype: 'uint16', sizeZ: 5, planes });
    const path = join(dir, 'grey.png');
    await writePng(path, stack);
    const png = decode(await readFile(path));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([width, height, 1, 8]);
    // Middle slice z=2: values 2000 + 10x; the darkest column maps to 0, the brightest to 255.
    expect(png.data[0]).toBe(0);
    expect(png.data[width - 1]).toBe(255);
    const mid = renderPreview(stack);
    expect(mid.displayRange).toEqual([2000, 2390]);
    expect(Array.from(png.data)).toEqual(Array.from(mid.data));
    expect((await readdir(dir)).filter((n) => n.includes('focal-tmp'))).toEqual([]);
  });

  it('shows the requested channel, slice and frame', () => {
    const planes = Array.from({ length: 2 * 3 * 2 }, (_, k) => new Float32Array([k, k + 0.5, k + 1, k + 2]));
    const stack = createStack({ width: 2, height: 2, dtype: 'float32', sizeC: 2, sizeZ: 3, sizeT: 2, planes });
    const p = renderPreview(stack, { c: 1, z: 2, t: 1, saturatedPercent: 0 });
    const k = planeIndex(stack, 1, 2, 1);
    expect(p.displayRange).toEqual([k, k + 2]);
    expect(Array.from(p.data)).toEqual([0, 64, 128, 255]);
    expect(() => renderPreview(stack, { c: 2 })).toThrow(/c=2 is outside 0..1/);
  });

  it('writes RGB stacks in colour, unchanged', async () => {
    const n = 6;
    const planes = [0, 1, 2].map((c) => Uint8Array.from({ length: n }, (_, i) => i * 40 + c));
    const stack = createStack({ width: 3, height: 2, dtype: 'uint8', sizeC: 3, planes, rgb: true });
    const png = decode(encodePng(stack));
    expect([png.width, png.height, png.channels]).toEqual([3, 2, 3]);
    expect(Array.from(png.data.slice(0, 6))).toEqual([0, 1, 2, 40, 41, 42]);
  });

  it('accepts an Image', () => {
    const png = decode(encodePng(createImage({ width: 2, height: 1, data: new Uint8Array([10, 20]) })));
    expect(Array.from(png.data)).toEqual([0, 255]);
  });

  it('fails with E_IO when the folder is missing', async () => {
    const err = await writePng(join(dir, 'none', 'x.png'), createImage({ width: 1, height: 1, dtype: 'uint8' })).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
  });
});

describe('autoContrastRangeOf: the same range from a plane given in pieces', () => {
  it('equals autoContrastRange on float32 (NaN, ±Infinity, ties), uint16 and uint8, for pieces of any size', async () => {
    let s = 11;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const f = Float32Array.from({ length: 40_000 }, (_, i) => (i % 101 === 0 ? NaN : i % 997 === 0 ? Infinity : Math.round(rnd() ** 4 * 5000) / 7));
    const u16 = Uint16Array.from({ length: 40_000 }, () => Math.floor(rnd() ** 3 * 60_000));
    const u8 = Uint8Array.from(u16, (v) => v >> 8);
    for (const data of [f, u16, u8, new Float32Array(100).fill(3), new Float32Array(10).fill(NaN)]) {
      for (const piece of [1000, 4096, 40_000]) {
        for (const sat of [0, 0.35, 5]) {
          const each = async (visit: (d: typeof data) => void) => {
            for (let i = 0; i < data.length; i += piece) visit(data.subarray(i, i + piece) as typeof data);
          };
          expect(await autoContrastRangeOf(each as never, sat)).toEqual(autoContrastRange(data, sat));
        }
      }
    }
    await expect(autoContrastRangeOf(async () => undefined, 100)).rejects.toThrow(/saturatedPercent/);
  });
});
