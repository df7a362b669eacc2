import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { berhu, cropBorder, gaussianBlur2d, mae, msSsim, msSsimMinSize, pearson, psnr, rmse, ssim, ssimMap } from '../../core/imaging.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Case {
  name: string;
  width: number;
  height: number;
  dtype: 'uint8' | 'uint16' | 'float32';
  image: string;
  reference: string;
  dataRange: number | null;
  effectiveDataRange: number;
  psnr: number;
  ssim: number;
  ssimMapRows: Record<string, number[]>;
  rmse: number;
  mae: number;
  pearson: number;
  berhuC: number;
  berhu: number;
  border10: { psnr: number; ssim: number; rmse: number };
  msssim?: number;
  msssimSelf?: number;
}

const fixtures = JSON.parse(readFileSync(join(here, 'fixtures', 'metrics.json'), 'utf8')) as { cases: Case[] };

function decode(b64: string, dtype: Case['dtype']): ArrayLike<number> {
  const buf = Buffer.from(b64, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return dtype === 'uint8' ? new Uint8Array(ab) : dtype === 'uint16' ? new Uint16Array(ab) : new Float32Array(ab);
}

const TOL = 1e-4;

describe('metrics against scikit-image 0.19 (fixtures from scripts/make-metrics-fixtures.py)', () => {
  for (const c of fixtures.cases) {
    it(`${c.name}: psnr, ssim, rmse, mae, pearson, berhu`, () => {
      const img = decode(c.image, c.dtype);
      const ref = decode(c.reference, c.dtype);
      const opts = c.dataRange === null ? {} : { dataRange: c.dataRange };
      expect(Math.abs(psnr(img, ref, opts) - c.psnr)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(ssim(img, ref, c.width, c.height, opts) - c.ssim)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(rmse(img, ref) - c.rmse)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(mae(img, ref) - c.mae)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(pearson(img, ref) - c.pearson)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(berhu(img, ref) - c.berhu)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(berhu(img, ref, { c: c.berhuC }) - c.berhu)).toBeLessThanOrEqual(TOL);
      // the SSIM map, boundary rows included (scipy 'reflect' mode)
      const map = ssimMap(img, ref, c.width, c.height, { dataRange: c.effectiveDataRange });
      for (const [row, values] of Object.entries(c.ssimMapRows)) {
        const r = Number(row);
        const err = Math.max(...values.map((v, x) => Math.abs(map[r * c.width + x] - v)));
        expect(err).toBeLessThanOrEqual(1e-9);
      }
    });

    it(`${c.name}: with a 10 px border excluded`, () => {
      const a = cropBorder(decode(c.image, c.dtype), c.width, c.height, 10);
      const b = cropBorder(decode(c.reference, c.dtype), c.width, c.height, 10);
      const opts = c.dataRange === null ? {} : { dataRange: c.dataRange };
      expect(Math.abs(psnr(a.data, b.data, opts) - c.border10.psnr)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(ssim(a.data, b.data, a.width, a.height, opts) - c.border10.ssim)).toBeLessThanOrEqual(TOL);
      expect(Math.abs(rmse(a.data, b.data) - c.border10.rmse)).toBeLessThanOrEqual(TOL);
    });

    if (c.msssim !== undefined) {
      it(`${c.name}: MS-SSIM equals the NumPy re-implementation of tf.image.ssim_multiscale`, () => {
        const img = decode(c.image, c.dtype);
        const ref = decode(c.reference, c.dtype);
        const opts = c.dataRange === null ? {} : { dataRange: c.dataRange };
        expect(Math.abs(msSsim(img, ref, c.width, c.height, opts) - c.msssim!)).toBeLessThanOrEqual(TOL);
        expect(msSsim(ref, ref, c.width, c.height, opts)).toBeCloseTo(c.msssimSelf!, 12);
      });
    }
  }
});

function pattern(w: number, h: number): Float64Array {
  return Float64Array.from({ length: w * h }, (_, i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    return 100 + 50 * Math.sin(x / 3) * Math.cos(y / 4) + 30 * ((x * 7 + y * 13) % 5) + (x > w / 2 ? 40 : 0);
  });
}

describe('metric properties', () => {
  it('identical images: psnr = Infinity, ssim = ms-ssim = pearson = 1, errors 0', () => {
    const a = pattern(170, 165);
    expect(psnr(a, a)).toBe(Infinity);
    expect(ssim(a, a, 170, 165)).toBeCloseTo(1, 12);
    expect(msSsim(a, a, 170, 165)).toBeCloseTo(1, 12);
    expect(pearson(a, a)).toBeCloseTo(1, 12);
    expect(rmse(a, a)).toBe(0);
    expect(mae(a, a)).toBe(0);
    expect(berhu(a, a)).toBe(0);
  });

  it('ssim and ms-ssim fall monotonically as the blur grows', () => {
    const w = 176;
    const a = Float32Array.from(pattern(w, w));
    const ss: number[] = [];
    const ms: number[] = [];
    for (const sigma of [0.5, 1, 2, 4]) {
      const b = gaussianBlur2d(a, w, w, sigma, sigma);
      ss.push(ssim(b, a, w, w));
      ms.push(msSsim(b, a, w, w));
    }
    for (let i = 1; i < 4; i++) {
      expect(ss[i]).toBeLessThan(ss[i - 1]);
      expect(ms[i]).toBeLessThan(ms[i - 1]);
    }
    expect(ms[3]).toBeGreaterThan(0);
  });

  it('berhu: |d| below c, (d² + c²)/(2c) above, mean over pixels (known answer)', () => {
    // d = 0.5 (≤ c = 1) → 0.5; d = 3 → (9 + 1)/2 = 5; d = 1 (= c) → 1
    expect(berhu([0.5, 3, 1, 0], [0, 0, 0, 0], { c: 1 })).toBeCloseTo((0.5 + 5 + 1 + 0) / 4, 14);
    // default c = 0.1 · population std of the reference: ref [0, 2] has std 1 → c = 0.1
    expect(berhu([0.05, 3], [0, 2], {})).toBeCloseTo((0.05 + (1 + 0.01) / 0.2) / 2, 12);
  });

  it('psnr known answer: R = 10, mse = 1 → 20 dB; default R is the reference max − min', () => {
    expect(psnr([1, 1, 1, 1], [0, 0, 0, 0], { dataRange: 10 })).toBeCloseTo(20, 12);
    expect(psnr([1, 3, 11, 1], [0, 2, 10, 0])).toBeCloseTo(20, 12);
  });

  it('rejects mismatched sizes, NaN, small images and constant references with E_ARGUMENT naming the field', () => {
    expect(() => psnr([1, 2], [1, 2, 3])).toThrow(/image has 2 pixels but reference has 3/);
    expect(() => rmse([1, NaN], [1, 2])).toThrowError(expect.objectContaining({ code: 'E_ARGUMENT', details: expect.objectContaining({ field: 'image', index: 1 }) }));
    expect(() => mae([1, 2], [NaN, 2])).toThrow(/reference has NaN pixels/);
    expect(() => ssim(new Float64Array(100), new Float64Array(100), 10, 10, { dataRange: 1 })).toThrow(/at least 11×11/);
    expect(() => msSsim(new Float64Array(160 * 200), new Float64Array(160 * 200), 160, 200, { dataRange: 1 })).toThrow(/at least 161×161/);
    expect(msSsimMinSize()).toBe(161);
    expect(() => psnr([1, 2], [3, 3])).toThrowError(expect.objectContaining({ details: { field: 'dataRange' } }));
    expect(() => berhu([1, 2], [3, 3])).toThrowError(expect.objectContaining({ details: { field: 'c' } }));
    expect(() => cropBorder([1, 2, 3, 4], 2, 2, 1)).toThrowError(expect.objectContaining({ details: { field: 'borderPx' } }));
  });
});
