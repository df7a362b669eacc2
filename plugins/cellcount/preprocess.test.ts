import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readTiff, type PixelArray } from '../../core/index.js';
import { colourDeconvolution, normaliseContrast, rgbToGrey, rollingBallGeometry, saturatedLimits, stainMatrix, subtractBackground } from './preprocess.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'preprocess');
const load = (f: string) => readTiff(join(dir, f));

/** Largest absolute difference and the number of differing pixels. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; count: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    if (d) count++;
  }
  return { max, count };
}

describe('rgbToGrey equals ImageJ 1.53t (Image › Type › 8-bit)', () => {
  it.each([false, true])('weighted = %s, every pixel', async (weighted) => {
    const rgb = await load('rgb.tif');
    expect(rgb.rgb).toBe(true);
    const ij = await load(`ij-grey-${weighted ? 'weighted' : 'unweighted'}.tif`);
    const [r, g, b] = rgb.planes;
    expect(diff(rgbToGrey(r, g, b, { weighted }), ij.planes[0])).toEqual({ max: 0, count: 0 });
  });

  it('known values and rounding', () => {
    expect([...rgbToGrey([255, 1, 0], [255, 1, 0], [255, 0, 3], { weighted: false })]).toEqual([255, 1, 1]);
    expect([...rgbToGrey([100], [200], [50], { weighted: true })]).toEqual([Math.round(0.299 * 100 + 0.587 * 200 + 0.114 * 50)]);
    expect(() => rgbToGrey([1, 2], [1], [1, 2], { weighted: true })).toThrow(/r\/g\/b/);
  });
});

describe('normaliseContrast equals ImageJ (Enhance Contrast › Normalize)', () => {
  it.each([
    ['blobs-8bit.tif', 0.35, 'ij-normalize-0.35-8bit.tif'],
    ['blobs-8bit.tif', 2, 'ij-normalize-2-8bit.tif'],
    ['blobs-16bit.tif', 0.35, 'ij-normalize-0.35-16bit.tif'],
  ])('%s, saturated %s %%', async (src, sat, ref) => {
    const s = await load(src);
    const ij = await load(ref);
    const out = normaliseContrast(s.planes[0], { saturatedPercent: sat });
    expect(out.constructor).toBe(s.planes[0].constructor);
    expect(diff(out, ij.planes[0])).toEqual({ max: 0, count: 0 });
  });

  it('limits, float32 range and flat images', () => {
    const ramp = Uint8Array.from({ length: 200 }, (_, i) => 20 + (i % 100));
    expect(saturatedLimits(ramp, 0)).toEqual({ low: 20, high: 119 });
    const f = normaliseContrast(new Float32Array([2, 4, 6, NaN]), { saturatedPercent: 0 }) as Float32Array;
    expect(f[0]).toBe(0);
    expect(f[2]).toBeCloseTo(1, 2);
    expect(Number.isNaN(f[3])).toBe(true);
    expect([...normaliseContrast(new Uint8Array([7, 7, 7]), { saturatedPercent: 0.35 })]).toEqual([7, 7, 7]);
    expect(() => normaliseContrast(new Uint8Array(3), { saturatedPercent: -1 })).toThrow(/saturatedPercent/);
  });
});

describe('subtractBackground equals ImageJ (Process › Subtract Background, rolling ball)', () => {
  it.each([5, 20, 50])('8-bit, radius %i px (shrink factor 1, 2, 4 and their ball trimming): every pixel equal', async (radius) => {
    const s = await load('blobs-8bit.tif');
    const ij = await load(`ij-rolling-${radius}-8bit.tif`);
    const out = subtractBackground(s.planes[0], s.width, s.height, { radiusPx: radius, lightBackground: false });
    expect(diff(out, ij.planes[0])).toEqual({ max: 0, count: 0 });
  });

  it('8-bit, radius 150 px (shrink factor 8): within ±1, on 1 pixel of 19200 (float32 interpolation rounding)', async () => {
    const s = await load('blobs-8bit.tif');
    const out = subtractBackground(s.planes[0], s.width, s.height, { radiusPx: 150, lightBackground: false });
    expect(diff(out, (await load('ij-rolling-150-8bit.tif')).planes[0])).toEqual({ max: 1, count: 1 });
  });

  it('8-bit without smoothing, and light background', async () => {
    const s = await load('blobs-8bit.tif');
    const noSmooth = subtractBackground(s.planes[0], s.width, s.height, { radiusPx: 20, lightBackground: false, smooth: false });
    expect(diff(noSmooth, (await load('ij-rolling-20-nosmooth-8bit.tif')).planes[0])).toEqual({ max: 0, count: 0 });
    const light = await load('blobs-light-8bit.tif');
    const out = subtractBackground(light.planes[0], light.width, light.height, { radiusPx: 20, lightBackground: true });
    expect(diff(out, (await load('ij-rolling-20-light-8bit.tif')).planes[0])).toEqual({ max: 0, count: 0 });
  });

  it('16-bit within ±1 of ImageJ, on ≤ 19 pixels (float32 rounding where value − background is a half-integer)', async () => {
    const s = await load('blobs-16bit.tif');
    const d = diff(subtractBackground(s.planes[0], s.width, s.height, { radiusPx: 20, lightBackground: false }), (await load('ij-rolling-20-16bit.tif')).planes[0]);
    expect(d.max).toBeLessThanOrEqual(1);
    expect(d.count).toBeLessThanOrEqual(19); // of 19200 pixels (0.1 %)
  });

  it('geometry, float32, background output and errors', () => {
    expect(rollingBallGeometry(10)).toEqual({ shrinkFactor: 1, arcTrimPercent: 24 });
    expect(rollingBallGeometry(31).shrinkFactor).toBe(4);
    expect(rollingBallGeometry(101)).toEqual({ shrinkFactor: 8, arcTrimPercent: 40 });
    // a flat float image with one bright pixel: the background stays flat except that the ball
    // centred on the spot rests on its 4 neighbours (height √(5²−1) below its top), so there
    // the background is 10 − √24 + 5
    const w = 32;
    const img = new Float32Array(w * w).fill(10);
    img[16 * w + 16] = 50;
    const spotBg = 10 - Math.sqrt(24) + 5;
    const out = subtractBackground(img, w, w, { radiusPx: 5, lightBackground: false, smooth: false }) as Float32Array;
    expect(out[16 * w + 16]).toBeCloseTo(50 - spotBg, 4);
    expect(out[3 * w + 3]).toBeCloseTo(0, 4);
    const bg = subtractBackground(img, w, w, { radiusPx: 5, lightBackground: false, smooth: false, createBackground: true });
    expect(bg[16 * w + 16]).toBeCloseTo(spotBg, 4);
    expect(bg[3 * w + 3]).toBeCloseTo(10, 4);
    expect(() => subtractBackground(img, w, w, { radiusPx: 0, lightBackground: false })).toThrow(/radiusPx/);
    expect(() => subtractBackground(img, w, 3, { radiusPx: 2, lightBackground: false })).toThrow(/data/);
  });
});

describe('colourDeconvolution', () => {
  it('recovers the stain densities that made a Beer–Lambert mixture', () => {
    const m = stainMatrix('H&E');
    const cases = [
      [0.8, 0.1, 0],
      [0.2, 0.6, 0],
      [0, 0, 0],
      [1.2, 0.4, 0.05],
    ];
    const r: number[] = [];
    const g: number[] = [];
    const b: number[] = [];
    for (const c of cases) {
      const od = [0, 1, 2].map((k) => c[0] * m[0][k] + c[1] * m[1][k] + c[2] * m[2][k]);
      r.push(255 * 10 ** -od[0]);
      g.push(255 * 10 ** -od[1]);
      b.push(255 * 10 ** -od[2]);
    }
    const out = colourDeconvolution(Float32Array.from(r), Float32Array.from(g), Float32Array.from(b), 'H&E');
    cases.forEach((c, i) => {
      for (let s = 0; s < 3; s++) expect(out.density[s][i]).toBeCloseTo(c[s], 4);
    });
    expect(out.transmittance[0][0]).toBe(Math.round(255 * 10 ** -0.8));
    expect(out.transmittance[0][2]).toBe(255);
  });

  it('uses Ruifrok & Johnston\'s vectors; the third is orthogonal to both; errors name the field', () => {
    const m = stainMatrix('H-DAB');
    const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    expect(m[0][0]).toBeCloseTo(0.65 / Math.hypot(0.65, 0.7, 0.29), 10);
    expect(m[1][2]).toBeCloseTo(0.78 / Math.hypot(0.27, 0.57, 0.78), 10);
    expect(dot(m[2], m[0])).toBeCloseTo(0, 10);
    expect(dot(m[2], m[1])).toBeCloseTo(0, 10);
    expect(() => stainMatrix([[1, 0, 0]])).toThrow(/vectors/);
    expect(() => stainMatrix([[1, 0, 0], [2, 0, 0]])).toThrow(/parallel/);
    expect(() => stainMatrix('XYZ' as 'H&E')).toThrow(/unknown stain set/);
    expect(() => colourDeconvolution(new Uint8Array(2), new Uint8Array(2), new Uint8Array(1), 'H&E')).toThrow(/r\/g\/b/);
  });

  it('haematoxylin is dark on purple nuclei and light on pink eosin', () => {
    const px = (rgb: number[]): PixelArray[] => rgb.map((v) => Uint8Array.of(v));
    const [r1, g1, b1] = px([90, 60, 160]); // purple-blue nucleus
    const [r2, g2, b2] = px([235, 160, 200]); // pink eosin
    const nucleus = colourDeconvolution(r1, g1, b1, 'H&E');
    const stroma = colourDeconvolution(r2, g2, b2, 'H&E');
    expect(nucleus.transmittance[0][0]).toBeLessThan(130);
    expect(stroma.transmittance[0][0]).toBeGreaterThan(200);
    expect(stroma.density[1][0]).toBeGreaterThan(stroma.density[0][0]);
  });
});
