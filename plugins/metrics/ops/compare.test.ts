import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createImage, createStack, runOp, type Table, testContext } from '../../../core/index.js';
import { gaussianBlur2d, msSsim, psnr, ssim } from '../../../core/imaging.js';
import { compare } from './compare.js';
import { compareColour } from './compare-colour.js';

const here = dirname(fileURLToPath(import.meta.url));

function pattern(w: number, h: number): Float32Array {
  return Float32Array.from({ length: w * h }, (_, i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    return 1000 + 500 * Math.sin(x / 3) * Math.cos(y / 4) + 300 * ((x * 7 + y * 13) % 5);
  });
}

describe('metrics.compare', () => {
  it('gives one row with every metric, equal to the plain functions, borderPx cropping first', async () => {
    const w = 200;
    const h = 190;
    const ref = pattern(w, h);
    const blurred = gaussianBlur2d(ref, w, h, 1.5, 1.5);
    const out = (await runOp(compare, { image: createImage({ width: w, height: h, data: blurred }), reference: createImage({ width: w, height: h, data: ref }) }, {})).metrics as Table;
    expect(out.columns).toEqual(['psnr', 'ssim', 'msssim', 'rmse', 'mae', 'berhu', 'pearson']);
    expect(out.rows).toHaveLength(1);
    const r = out.rows[0] as Record<string, number>;
    expect(r.psnr).toBeCloseTo(psnr(blurred, ref), 10);
    expect(r.ssim).toBeCloseTo(ssim(blurred, ref, w, h), 12);
    expect(r.msssim).toBeCloseTo(msSsim(blurred, ref, w, h), 12);
    for (const k of ['rmse', 'mae', 'berhu']) expect(r[k]).toBeGreaterThan(0);
    expect(r.pearson).toBeGreaterThan(0.5);
    expect(r.pearson).toBeLessThan(1);

    // 10 px border: the region is 180×170, so MS-SSIM (needs 161²) still applies
    const cropped = (await runOp(compare, { image: createImage({ width: w, height: h, data: blurred }), reference: createImage({ width: w, height: h, data: ref }) }, { borderPx: 10, dataRange: 4000 })).metrics as Table;
    const crop = (d: Float32Array) => Float64Array.from({ length: 180 * 170 }, (_, i) => d[(Math.floor(i / 180) + 10) * w + (i % 180) + 10]);
    expect(cropped.rows[0].ssim as number).toBeCloseTo(ssim(crop(blurred), crop(ref), 180, 170, { dataRange: 4000 }), 12);
    expect(cropped.rows[0].psnr as number).toBeCloseTo(psnr(crop(blurred), crop(ref), { dataRange: 4000 }), 10);
  });

  it('leaves msssim (and ssim) null with a warning when the image is too small', async () => {
    const ref = pattern(64, 64);
    const ctx = testContext();
    const out = (await runOp(compare, { image: createImage({ width: 64, height: 64, data: gaussianBlur2d(ref, 64, 64, 1, 1) }), reference: createImage({ width: 64, height: 64, data: ref }) }, {}, ctx)).metrics as Table;
    expect(out.rows[0].msssim).toBeNull();
    expect(out.rows[0].ssim).toEqual(expect.any(Number));
    expect(ctx.logs.some((l) => l.level === 'warn' && /msssim not computed: .*64×64 px, smaller than the 161×161/.test(l.message))).toBe(true);
    const tiny = createImage({ width: 8, height: 8, data: pattern(8, 8) });
    const ctx2 = testContext();
    const out2 = (await runOp(compare, { image: tiny, reference: tiny }, {}, ctx2)).metrics as Table;
    expect(out2.rows[0].ssim).toBeNull();
    expect(out2.rows[0].psnr).toBe(Infinity);
    expect(ctx2.logs.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('rejects size mismatch (E_PORT naming both sizes), NaN pixels, impossible borders and constant references', async () => {
    const a = createImage({ width: 20, height: 10, data: pattern(20, 10) });
    const b = createImage({ width: 10, height: 20, data: pattern(10, 20) });
    await expect(runOp(compare, { image: a, reference: b }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/image is 20×10 px but reference is 10×20 px/) });
    const nan = pattern(20, 10);
    nan[23] = NaN;
    await expect(runOp(compare, { image: createImage({ width: 20, height: 10, data: nan }), reference: a }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/image has NaN pixels \(first at x=3, y=1\)/) });
    await expect(runOp(compare, { image: a, reference: a }, { borderPx: 5 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'borderPx' } });
    const flat = createImage({ width: 20, height: 10, data: new Float32Array(200).fill(3) });
    await expect(runOp(compare, { image: a, reference: flat }, {})).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'dataRange' } });
    expect(compare.params.safeParse({ borderPx: -1 }).success).toBe(false);
    expect(compare.params.safeParse({ dataRange: 0 }).success).toBe(false);
  });
});

describe('metrics.compare-colour', () => {
  const fx = JSON.parse(readFileSync(join(here, '..', 'fixtures', 'metrics.json'), 'utf8')).colour as {
    width: number; height: number; image: string; reference: string; difference: { y: number; cb: number; cr: number };
  };
  const rgbStack = (b64: string) => {
    const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    const n = fx.width * fx.height;
    return createStack({ width: fx.width, height: fx.height, dtype: 'uint8', sizeC: 3, rgb: true, planes: [0, 1, 2].map((c) => bytes.slice(c * n, (c + 1) * n)) });
  };

  it('gives the mean absolute Y/Cb/Cr differences of scikit-image rgb2ycbcr, and Cb/Cr histograms', async () => {
    const out = await runOp(compareColour, { image: rgbStack(fx.image), reference: rgbStack(fx.reference) }, {});
    const d = (out.differences as Table).rows[0] as Record<string, number>;
    expect(Math.abs(d.y - fx.difference.y)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(d.cb - fx.difference.cb)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(d.cr - fx.difference.cr)).toBeLessThanOrEqual(1e-4);
    const h = out.histograms as Table;
    expect(h.rows).toHaveLength(256);
    for (const col of ['cbImage', 'crImage', 'cbReference', 'crReference']) {
      expect(h.rows.reduce((s, r) => s + (r[col] as number), 0)).toBe(fx.width * fx.height);
    }
    // studio range: nothing below 16 or above 240
    expect(h.rows.slice(0, 16).every((r) => r.cbImage === 0 && r.crReference === 0)).toBe(true);
    expect(h.rows.slice(241).every((r) => r.cbImage === 0 && r.crReference === 0)).toBe(true);
  });

  it('rejects non-RGB stacks and size mismatches', async () => {
    const grey = createStack({ width: 4, height: 4, dtype: 'uint8' });
    await expect(runOp(compareColour, { image: grey, reference: grey }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/image must be one RGB image/) });
    const a = createStack({ width: 4, height: 4, dtype: 'uint8', sizeC: 3 });
    const b = createStack({ width: 5, height: 4, dtype: 'uint8', sizeC: 3 });
    await expect(runOp(compareColour, { image: a, reference: b }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/4×4 px but reference is 5×4/) });
  });
});
