/**
 * The two-shot focus-error estimate (depth from defocus, defocus-estimate.ts) on simulated shots
 * whose ΔD is known, and through tsva.slide: its table's deltaDUm, and the warning that names
 * tiles beyond the model's trained range.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createStack, readTableFile, readTiff, runOp, testContext, type Stack, type Table } from '../../core/index.js';
import { TwoShotDefocus } from './defocus-estimate.js';
import { slide } from './ops/slide.js';
import { DEFAULT_OPTICS, simulateDataset, type TsvaPatch } from './simulate.js';

const sample = (name: string): string => fileURLToPath(new URL(`./samples/${name}`, import.meta.url));
const lowHigh = (p: TsvaPatch): [Float32Array, Float32Array] => (p.y1OffsetUm < 0 ? [p.y1, p.y2] : [p.y2, p.y1]);

describe('TwoShotDefocus', () => {
  it('recovers ΔD with its sign from the two shots of sections it never saw (within 0.6 µm at −2.5…+2.5 µm)', () => {
    const est = new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0.5 });
    const patches = simulateDataset({ family: 'he-skin', tiles: 1, patchPx: 256, patchesPerSide: 1, seed: 41, deltaD: [-2.5, -1, 0.5, 2], noise: 'independent', focus: 'brenner' });
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

  it('says nothing (NaN) for a field without structure, and refuses a window larger than the shots or a bad window', () => {
    const est = new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0.5, windowPx: 64 });
    const flat = new Float32Array(128 * 128 * 3).fill(0.8);
    const e = est.estimate(flat, flat, 128, 128);
    expect(e.deltaDUm).toBeNaN();
    expect(() => est.estimate(flat, flat, 32, 32 * 4 * 3)).toThrow(/smaller than one 64-px analysis window/);
    expect(() => new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0.5, windowPx: 63 })).toThrow(/windowPx/);
    expect(() => new TwoShotDefocus({ optics: DEFAULT_OPTICS, shotOffsetUm: 0 })).toThrow(/shotOffsetUm/);
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
    const patches = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 128, patchesPerSide: 1, seed: 43, deltaD: [0.5, 4.5, -1], noise: 'independent', focus: 'brenner' });
    const u8 = (hwc: Float32Array, ch: number) => Uint8Array.from({ length: 128 * 128 }, (_, i) => Math.round(255 * hwc[i * 3 + ch]));
    const planes = patches.flatMap((p) => lowHigh(p).flatMap((shot) => [0, 1, 2].map((ch) => u8(shot, ch))));
    const shots: Stack = createStack({ width: 128, height: 128, dtype: 'uint8', sizeC: 3, sizeZ: 6, rgb: true, planes, calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325 } });
    const positions: Table = { kind: 'table', columns: ['xPx', 'yPx'], rows: [0, 1, 2].map((k) => ({ xPx: 128 * k, yPx: 0 })) };
    const c = testContext();
    const { tiles } = (await runOp(slide, { shots, positions }, {}, c)) as { tiles: Table };
    expect(tiles.rows[1].deltaDUm as number).toBeGreaterThan(3);
    expect(Math.abs(tiles.rows[0].deltaDUm as number)).toBeLessThan(3);
    expect(c.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/^1 of 3 tiles are estimated more than 3 µm from focus.*tsva-demo.*tile 1 \(\+\d\.\d µm\).*acquire them again nearer focus/)]);
  }, 60_000);
});
