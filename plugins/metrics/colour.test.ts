import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cbcrHistograms, rgbToYCbCr, ycbcrDifference, type RgbPlanes } from './colour.js';

const here = dirname(fileURLToPath(import.meta.url));
const fx = JSON.parse(readFileSync(join(here, 'fixtures', 'metrics.json'), 'utf8')).colour as {
  width: number; height: number; image: string; reference: string; referenceYCbCr: string; difference: { y: number; cb: number; cr: number };
};
const n = fx.width * fx.height;
const planes = (b64: string): RgbPlanes => {
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  return [bytes.subarray(0, n), bytes.subarray(n, 2 * n), bytes.subarray(2 * n)];
};

describe('YCbCr', () => {
  it('rgbToYCbCr equals scikit-image rgb2ycbcr (MATLAB convention) pixel by pixel', () => {
    const [r, g, b] = planes(fx.reference);
    const ycc = rgbToYCbCr(r, g, b);
    const buf = Buffer.from(fx.referenceYCbCr, 'base64');
    const expected = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    let err = 0;
    for (let i = 0; i < n; i++) {
      err = Math.max(err, Math.abs(ycc.y[i] - expected[i]), Math.abs(ycc.cb[i] - expected[n + i]), Math.abs(ycc.cr[i] - expected[2 * n + i]));
    }
    expect(err).toBeLessThan(1e-9);
  });

  it('known answers: white, black and pure red in studio and full range; other bit depths', () => {
    const s = rgbToYCbCr([255, 0, 255], [255, 0, 0], [255, 0, 0]);
    expect([s.y[0], s.cb[0], s.cr[0]].map((v) => +v.toFixed(3))).toEqual([235, 128, 128]);
    expect([s.y[1], s.cb[1], s.cr[1]]).toEqual([16, 128, 128]);
    expect(s.cr[2]).toBeCloseTo(240, 10);
    const f = rgbToYCbCr([255, 255], [255, 0], [255, 0], { range: 'full' });
    expect(f.y[0]).toBeCloseTo(255, 10);
    expect(f.cb[0]).toBeCloseTo(128, 10);
    expect(f.y[1]).toBeCloseTo(0.299 * 255, 10);
    expect(f.cr[1]).toBeCloseTo(255.5, 10);
    const u16 = rgbToYCbCr([65535], [65535], [65535], { maxValue: 65535 });
    expect(u16.y[0]).toBeCloseTo(235, 10);
  });

  it('ycbcrDifference is 0 for identical images; histograms count every pixel once', () => {
    const ref = planes(fx.reference);
    expect(ycbcrDifference(ref, ref)).toEqual({ y: 0, cb: 0, cr: 0 });
    const d = ycbcrDifference(planes(fx.image), ref);
    expect(d.y).toBeCloseTo(fx.difference.y, 10);
    const h = cbcrHistograms(ref, { bins: 16 });
    expect(h.binStart[1]).toBe(16);
    expect(h.cb.reduce((a, b) => a + b, 0)).toBe(n);
    expect(h.cr.reduce((a, b) => a + b, 0)).toBe(n);
    expect(() => cbcrHistograms(ref, { bins: 0 })).toThrow(/bins/);
    expect(() => ycbcrDifference([[1], [1], [1, 2]], ref)).toThrow(/different lengths/);
  });
});
