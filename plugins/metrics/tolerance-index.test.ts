import { describe, expect, it } from 'vitest';
import { createImage, mulberry32, plotsOf, runOp, testContext, type Stack, type Table, type Image } from '../../core/index.js';
import { toleranceIndexOp } from './ops/tolerance-index.js';
import { otsuThreshold, toleranceIndex } from './tolerance-index.js';

// A hand-made 4×2 pair (8-bit). Ground truth: 4 background pixels (0) and 4 signal pixels (200).
// |O − G| = [0, 0, 10, 10, 40, 40, 100, 200], MAE = 400 / 8 = 50.
const G = Uint8Array.from([0, 0, 0, 0, 200, 200, 200, 200]);
const O = Uint8Array.from([0, 0, 10, 10, 240, 160, 100, 0]);
const img = (data: Uint8Array | Uint16Array | Float32Array) => createImage({ width: 4, height: 2, data });

describe('toleranceIndex (hand-computed)', () => {
  it('literal: IE = mean |D| within / 255, SE = fraction beyond; minimum MAE/255 at the first tolerance above max |D|', () => {
    const r = toleranceIndex(O, G, { fullScale: 255 });
    expect(r.levelPercent).toHaveLength(100);
    // level 0, t = 0: within {0, 0}, beyond 6 of 8
    expect(r.ie[0]).toBe(0);
    expect(r.se[0]).toBe(0.75);
    // level 4, t = 10.2: within {0, 0, 10, 10} (mean 5), beyond 4
    expect(r.tolerance[4]).toBeCloseTo(10.2, 12);
    expect(r.ie[4]).toBeCloseTo(5 / 255, 14);
    expect(r.se[4]).toBe(0.5);
    // level 78, t = 198.9: all but 200 within (sum 200 over 7)
    expect(r.ie[78]).toBeCloseTo(200 / 7 / 255, 14);
    expect(r.se[78]).toBe(0.125);
    expect(r.sum[78]).toBeCloseTo(200 / 7 / 255 + 0.125, 14);
    // level 79, t = 201.45: everything within: S = MAE / 255
    expect(r.argmin).toBe(79);
    expect(r.levelAtMinPercent).toBe(79);
    expect(r.indexValue).toBeCloseTo(50 / 255, 14);
    expect(r.mae).toBe(50);
    expect(r.maxError).toBe(200);
    // the property that makes the literal reading degenerate: S(t) ≥ MAE / fullScale everywhere
    for (const s of r.sum) expect(s).toBeGreaterThanOrEqual(50 / 255 - 1e-15);
  });

  it('signal-normalised: IE / mean signal (200), SE / signal area (4 px); still no interior minimum here', () => {
    const r = toleranceIndex(O, G, { fullScale: 255, variant: 'signal-normalised', signalThreshold: 100 });
    expect(r.signalPx).toBe(4);
    expect(r.signalFraction).toBe(0.5);
    expect(r.signalMean).toBe(200);
    expect(r.ie[16]).toBeCloseTo(100 / 6 / 200, 14); // t = 40.8: within {0,0,10,10,40,40}
    expect(r.se[16]).toBe(0.5); // 2 beyond / 4 signal px
    expect(r.sum[40]).toBeCloseTo(200 / 7 / 200 + 0.25, 14);
    expect(r.argmin).toBe(79);
    expect(r.indexValue).toBeCloseTo(0.25, 14);
  });

  it('signal-tolerance: S = t / 200 + |D > t| / 4 has its minimum inside, at t = 40.8 (16 %)', () => {
    const r = toleranceIndex(O, G, { fullScale: 255, variant: 'signal-tolerance', signalThreshold: 100 });
    expect(r.ie[16]).toBeCloseTo(40.8 / 200, 14);
    expect(r.se[16]).toBe(0.5);
    expect(r.argmin).toBe(16);
    expect(r.indexValue).toBeCloseTo(0.204 + 0.5, 14);
    expect(r.sum[15]).toBeCloseTo(38.25 / 200 + 1, 14);
    expect(r.sum[40]).toBeCloseTo(102 / 200 + 0.25, 14);
  });

  it('weights β1, β2 scale the terms; 16-bit data with fullScale 65535 gives the same curves as 8-bit', () => {
    const w = toleranceIndex(O, G, { fullScale: 255, weightIntensity: 2, weightArea: 0.5 });
    expect(w.sum[4]).toBeCloseTo(2 * (5 / 255) + 0.5 * 0.5, 14);
    const r8 = toleranceIndex(O, G, { fullScale: 255 });
    const r16 = toleranceIndex(Uint16Array.from(O, (v) => v * 257), Uint16Array.from(G, (v) => v * 257), { fullScale: 65535 });
    expect(r16.argmin).toBe(r8.argmin);
    for (let i = 0; i < 100; i++) {
      expect(r16.ie[i]).toBeCloseTo(r8.ie[i], 12);
      expect(r16.se[i]).toBe(r8.se[i]);
    }
  });

  it('literal minimum equals MAE / fullScale on random images (the derivation in docs/metrics.md)', () => {
    const rng = mulberry32(7);
    const n = 4096;
    const g = Float64Array.from({ length: n }, () => (rng() < 0.1 ? 150 + 100 * rng() : 10 * rng()));
    const o = Float64Array.from(g, (v) => Math.min(255, Math.max(0, v + 60 * (rng() - 0.5) * (rng() < 0.2 ? 4 : 1))));
    const r = toleranceIndex(o, g, { fullScale: 255 });
    for (const s of r.sum) expect(s).toBeGreaterThanOrEqual(r.mae / 255 - 1e-12);
    expect(r.indexValue).toBeCloseTo(r.mae / 255, 12);
    expect(r.tolerance[r.argmin]).toBeGreaterThanOrEqual(r.maxError);
    expect(r.tolerance[r.argmin - 1]).toBeLessThan(r.maxError);
  });

  it('refuses a signal variant without signal, a bad full scale, different lengths', () => {
    expect(() => toleranceIndex(O, G, { fullScale: 255, variant: 'signal-tolerance' })).toThrow(/signalThreshold: the signal-tolerance variant needs/);
    expect(() => toleranceIndex(O, G, { fullScale: 255, variant: 'signal-normalised', signalThreshold: 250 })).toThrow(/signalThreshold: no ground-truth pixel is above 250/);
    expect(() => toleranceIndex(O, G, { fullScale: 0 })).toThrow(/fullScale: must be a positive number/);
    expect(() => toleranceIndex(O, G.subarray(0, 4), { fullScale: 255 })).toThrow(/reference: has 4 pixels but image has 8/);
  });

  it("Otsu's threshold splits two clusters in the middle", () => {
    expect(otsuThreshold(G)).toBe(100);
    expect(otsuThreshold([5, 5, 5])).toBe(5);
  });
});

describe('metrics.tolerance-index', () => {
  it('writes the summary, the curves, the mask at 50/255 and the green overlay', async () => {
    const out = await runOp(toleranceIndexOp, { image: img(O), reference: img(G) }, {});
    const summary = out.summary as Table;
    const s = summary.rows[0] as Record<string, number | string>;
    expect(s.variant).toBe('literal');
    expect(s.fullScale).toBe(255);
    expect(s.levelPercent).toBe(79);
    expect(s.indexValue as number).toBeCloseTo(50 / 255, 14);
    expect(s.fixedTolerance).toBe(50);
    expect(s.errorAreaPx).toBe(2); // |D| = 100 and 200 are beyond 50
    expect(s.errorAreaFraction).toBe(0.25);
    expect(s.ieAtFixed as number).toBeCloseTo(100 / 6 / 255, 14);
    expect(s.signalThreshold).toBe(100); // Otsu of the ground truth
    expect(s.signalFraction).toBe(0.5);
    expect(s.signalMean).toBe(200);
    const curves = out.curves as Table;
    expect(curves.columns).toEqual(['level', 'tolerance', 'ie', 'se', 'sum', 'errorPx']);
    expect(curves.rows).toHaveLength(100);
    expect(curves.rows[4]).toMatchObject({ level: 4, errorPx: 4, se: 0.5 });
    // the run report plots the curves against `level`
    const plots = plotsOf('curves', curves);
    expect(plots.map((p) => p.yLabel)).toEqual(expect.arrayContaining(['ie', 'se', 'sum']));
    expect(plots[0].xLabel).toBe('level');
    const error = out.error as Image;
    expect(Array.from(error.data)).toEqual([0, 0, 10, 10, 40, 40, 100, 200]);
    expect(error.metadata.valueMap).toMatchObject({ quantity: expect.stringContaining('error') }); // previews: viridis + colour bar
    const mask = out.mask as Image;
    expect(Array.from(mask.data)).toEqual([0, 0, 0, 0, 0, 0, 255, 255]);
    const overlay = out.overlay as Stack;
    expect(overlay.rgb).toBe(true);
    expect([overlay.planes[0][7], overlay.planes[1][7], overlay.planes[2][7]]).toEqual([0, 255, 0]);
    expect([overlay.planes[0][4], overlay.planes[1][4], overlay.planes[2][4]]).toEqual([255, 255, 255]);
  });

  it('computes the images only when an output takes them (ctx.wants)', async () => {
    const ctx = { ...testContext(), wants: (port: string) => port === 'mask' };
    const out = await runOp(toleranceIndexOp, { image: img(O), reference: img(G) }, {}, ctx);
    expect(out.summary).toBeDefined();
    expect(out.mask).toBeDefined();
    expect(out.error).toBeUndefined();
    expect(out.overlay).toBeUndefined();
  });

  it('signal-tolerance through the op finds the interior level; errors name the field', async () => {
    const out = await runOp(toleranceIndexOp, { image: img(O), reference: img(G) }, { variant: 'signal-tolerance' });
    expect((out.summary as Table).rows[0].levelPercent).toBe(16);
    await expect(runOp(toleranceIndexOp, { image: img(Float32Array.from(O)), reference: img(Float32Array.from(G)) }, {})).rejects.toThrow(/fullScale: the reference is float32/);
    await expect(runOp(toleranceIndexOp, { image: img(O), reference: img(G) }, { variant: 'signal-normalised', signalThreshold: 250 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'signalThreshold' } });
    await expect(runOp(toleranceIndexOp, { image: createImage({ width: 2, height: 4, data: O }), reference: img(G) }, {})).rejects.toThrow(/image is 2×4 px but reference is 4×2 px/);
    const f = await runOp(toleranceIndexOp, { image: img(Float32Array.from(O, (v) => v / 255)), reference: img(Float32Array.from(G, (v) => v / 255)) }, { fullScale: 1 });
    expect((f.summary as Table).rows[0].errorAreaPx).toBe(2);
  });
});
