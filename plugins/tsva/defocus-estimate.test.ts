/**
 * The two-shot focus-error estimate (depth from defocus, defocus-estimate.ts) on simulated shots
 * whose ΔD is known, and through tsva.slide: its table's deltaDUm, and the warning that names
 * tiles beyond the model's trained range; and the focus gate built on it.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStack, readTableFile, readTiff, runOp, testContext, type Stack, type Table } from '../../core/index.js';
import { bundledModelsDir, createInferenceEngine } from '../../core/ml.js';
import { TwoShotDefocus } from './defocus-estimate.js';
import { loadTsvaPackage } from './package.js';
import { focusGateToleranceUm, focusGateWeight, refocusPair } from './refocus.js';
import { slide } from './ops/slide.js';
import { DEFAULT_OPTICS, simulateDataset, type TsvaPatch } from './simulate.js';

const sample = (name: string): string => fileURLToPath(new URL(`./samples/${name}`, import.meta.url));
const lowHigh = (p: TsvaPatch): [Float32Array, Float32Array] => (p.y1OffsetUm < 0 ? [p.y1, p.y2] : [p.y2, p.y1]);

describe('TwoShotDefocus', () => {
  it('recovers ΔD with its sign from the two shots of sections it never saw (within 0.6 µm at −2.5 and +1 µm)', () => {
    const est = new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0.5 });
    const patches = simulateDataset({ family: 'he-skin', tiles: 1, patchPx: 256, patchesPerSide: 1, seed: 41, deltaD: [-2.5, 1], noise: 'independent', focus: 'brenner' });
    for (const p of patches) {
      const [low, high] = lowHigh(p);
      const e = est.estimate(low, high, 256, 256);
      expect(Math.abs(e.deltaDUm - p.deltaDUm)).toBeLessThan(0.6);
      expect(e.bins).toBeGreaterThan(10);
      expect(e.mismatch).toBeLessThan(0.01);
      // the shots swapped: the same size, the other sign
      expect(est.estimate(high, low, 256, 256).deltaDUm).toBeCloseTo(-e.deltaDUm, 6);
    }
  }, 60_000);

  it('says nothing (NaN) for a field without structure, refuses a window larger than the shots or a bad window, and stops when cancelled', () => {
    const est = new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0.5, windowPx: 64 });
    const flat = new Float32Array(128 * 128 * 3).fill(0.8);
    const e = est.estimate(flat, flat, 128, 128);
    expect(e.deltaDUm).toBeNaN();
    expect(() => est.estimate(flat, flat, 32, 32 * 4 * 3)).toThrow(/smaller than one 64-px analysis window/);
    expect(() => new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0.5, windowPx: 63 })).toThrow(/windowPx/);
    expect(() => new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0 })).toThrow(/shotOffsetUm/);
    // a cancelled run stops it (checked between the shots and between rows of windows)
    const stopped = new AbortController();
    stopped.abort();
    expect(() => est.estimate(flat, flat, 128, 128, 3, stopped.signal)).toThrow(expect.objectContaining({ code: 'E_CANCELLED' }));
  });
});

describe('tsva.slide: the focus error per tile', () => {
  it("the bundled slide's table gives each tile's ΔD within 0.4 µm of the truth it was made with, signs right, and no range warning", async () => {
    const shots = await readTiff(sample('tsva-slide-shots.tif'));
    const positions = await readTableFile(sample('tsva-slide-positions.csv'));
    const truth = await readTableFile(sample('tsva-slide-truth.csv'));
    const c = testContext();
    const { tiles } = (await runOp(slide, { shots, positions }, {}, c)) as { tiles: Table };
    expect(tiles.columns).toContain('deltaDUm');
    tiles.rows.forEach((r, k) => {
      const t = Number(truth.rows[k].deltaDUm);
      expect(Math.abs((r.deltaDUm as number) - t)).toBeLessThan(0.4);
      expect(Math.sign(r.deltaDUm as number)).toBe(Math.sign(t));
    });
    expect(c.logs.filter((l) => l.level === 'warn')).toEqual([]);
  }, 60_000);

  it('names the tiles estimated beyond the range the model was trained on (±3 µm) in one warning', async () => {
    const patches = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 128, patchesPerSide: 1, seed: 43, deltaD: [0.5, 4.5], noise: 'independent', focus: 'brenner' });
    const u8 = (hwc: Float32Array, ch: number) => Uint8Array.from({ length: 128 * 128 }, (_, i) => Math.round(255 * hwc[i * 3 + ch]));
    const planes = patches.flatMap((p) => lowHigh(p).flatMap((shot) => [0, 1, 2].map((ch) => u8(shot, ch))));
    const shots: Stack = createStack({ width: 128, height: 128, dtype: 'uint8', sizeC: 3, sizeZ: 4, rgb: true, planes, calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325 } });
    const positions: Table = { kind: 'table', columns: ['xPx', 'yPx'], rows: [0, 1].map((k) => ({ xPx: 128 * k, yPx: 0 })) };
    const c = testContext();
    const { tiles } = (await runOp(slide, { shots, positions }, {}, c)) as { tiles: Table };
    expect(tiles.rows[1].deltaDUm as number).toBeGreaterThan(3);
    expect(Math.abs(tiles.rows[0].deltaDUm as number)).toBeLessThan(3);
    expect(c.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/^1 of 2 tiles are estimated more than 3 µm from focus.*tsva-demo.*tile 1 \(\+\d\.\d µm\).*acquire them again nearer focus/)]);
  }, 60_000);
});

describe('the focus gate (gate: focus)', () => {
  it('keeps Y1 within a quarter of the depth of field, the network beyond half of it, linear between (0.24 µm for the demo optics)', () => {
    expect(focusGateToleranceUm(DEFAULT_OPTICS)).toBeCloseTo(0.54 / (4 * 0.75 * 0.75), 12);
    expect(focusGateWeight(0, 0.24)).toBe(0);
    expect(focusGateWeight(-0.2, 0.24)).toBe(0);
    expect(focusGateWeight(0.36, 0.24)).toBeCloseTo(0.5, 12);
    expect(focusGateWeight(-0.48, 0.24)).toBe(1);
    expect(focusGateWeight(3, 0.24)).toBe(1);
    expect(focusGateWeight(Number.NaN, 0.24)).toBe(1); // no estimate: the network's output
  });

  it('refocusPair returns Y1 itself when the estimate puts it in focus, and the network\'s output when far from it', async () => {
    const { pkg, meta } = await loadTsvaPackage(join(bundledModelsDir(), 'tsva-demo'));
    const engine = await createInferenceEngine(pkg, { engine: 'onnxruntime' });
    try {
      const [p] = simulateDataset({ family: 'he-skin', tiles: 1, patchPx: 64, patchesPerSide: 1, seed: 47, deltaD: [1.5], noise: 'independent', focus: 'brenner' });
      const shot = (hwc: Float32Array) => ({ hwc, width: 64, height: 64 });
      const o = { tilePx: pkg.manifest.tilePx, haloPx: pkg.manifest.haloPx, multipleOf: pkg.manifest.multipleOf ?? 1, arch: meta.arch, order: 'as-given' as const };
      const plain = await refocusPair(shot(p.y1), shot(p.y2), engine, o);
      // the first shot (Y1, as given) taken at F − s: ΔD = s puts it in focus
      const inFocus = await refocusPair(shot(p.y1), shot(p.y2), engine, { ...o, gate: { deltaDUm: 0.5, shotOffsetUm: 0.5, toleranceUm: 0.24 } });
      expect(inFocus.gateWeight).toBe(0);
      expect(Array.from(inFocus.hwc)).toEqual(Array.from(p.y1));
      const far = await refocusPair(shot(p.y1), shot(p.y2), engine, { ...o, gate: { deltaDUm: 2, shotOffsetUm: 0.5, toleranceUm: 0.24 } });
      expect(far.gateWeight).toBe(1);
      expect(Array.from(far.hwc)).toEqual(Array.from(plain.hwc));
      expect(plain.gateWeight).toBeUndefined();
    } finally {
      await engine.dispose();
    }
  }, 60_000);

  it('tsva.slide with gate focus reports each tile\'s gate weight: the tiles near focus gated, those 1.75 µm and more away not', async () => {
    const shots = await readTiff(sample('tsva-slide-shots.tif'));
    const positions = await readTableFile(sample('tsva-slide-positions.csv'));
    const truth = await readTableFile(sample('tsva-slide-truth.csv'));
    const { tiles } = (await runOp(slide, { shots, positions }, { gate: 'focus' })) as { tiles: Table };
    expect(tiles.columns).toContain('gateWeight');
    const weights = tiles.rows.map((r) => r.gateWeight as number);
    for (const w of weights) expect(w >= 0 && w <= 1).toBe(true);
    truth.rows.forEach((t, k) => { if (Math.abs(Number(t.deltaDUm)) >= 1.75) expect(weights[k]).toBe(1); });
    expect(weights.some((w) => w < 1)).toBe(true);
  }, 60_000);
});
