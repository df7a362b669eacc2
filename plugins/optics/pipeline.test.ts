import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runPipeline, testContext, type Stack } from '../../core/index.js';
import { stackPlugin } from '../index.js';
import { opticsPlugin } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Sum of squared forward differences: a simple sharpness measure. */
function gradientEnergy(img: ArrayLike<number>, w: number, h: number): number {
  let s = 0;
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) s += (img[y * w + x + 1] - img[y * w + x]) ** 2 + (img[(y + 1) * w + x] - img[y * w + x]) ** 2;
  return s;
}

describe('pipelines/simulate-defocus.json', () => {
  it('makes a −3…+3 µm z-stack in photo-electrons from the sample\'s sharpest nuclei slice', async () => {
    const catalog = catalogFromPlugins([stackPlugin, opticsPlugin]);
    const { pipeline, inputDefaults } = await loadPipelineFile(join(root, 'pipelines', 'simulate-defocus.json'), catalog);
    expect(inputDefaults.stack).toBe(join(root, 'samples', 'cells-zstack.tif'));
    const stack = await readTiff(inputDefaults.stack);
    const result = await runPipeline(pipeline, { catalog, inputs: { stack }, services: { resolve() { throw new Error('no services'); } }, logger: testContext().log });
    const inFocus = result.outputs.inFocus.value as Stack;
    const z = result.outputs.zstack.value as Stack;
    expect([z.width, z.height, z.sizeC, z.sizeZ, z.dtype]).toEqual([256, 256, 1, 13, 'float32']);
    expect(z.calibration.pixelWidthUm).toBeCloseTo(0.325, 9);
    expect(z.calibration.zStepUm).toBe(0.5);
    const meta = z.metadata.defocus as { units: string; electronsPerInputUnit: number[]; defocusUm: number[] };
    expect(meta.units).toBe('photo-electrons');
    expect(meta.defocusUm[0]).toBe(-3);
    expect(meta.defocusUm[12]).toBe(3);
    // energy: every plane holds the in-focus signal (minus the 100 ADU offset) × e⁻ per unit, within 1 %
    let signal = 0;
    for (const v of inFocus.planes[0]) signal += Math.max(0, v - 100);
    const expected = signal * meta.electronsPerInputUnit[0];
    const energy = z.planes.map((p) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) s += p[i];
      return s / expected;
    });
    for (const e of energy) expect(Math.abs(e - 1)).toBeLessThan(0.01);
    // sharpness peaks at 0 µm (plane 6) and falls off symmetrically
    const sharp = z.planes.map((p) => gradientEnergy(p, 256, 256));
    expect(sharp.indexOf(Math.max(...sharp))).toBe(6);
    for (let k = 1; k <= 6; k++) {
      expect(sharp[6 - k]).toBeLessThan(sharp[6 - k + 1]);
      expect(sharp[6 + k]).toBeLessThan(sharp[6 + k - 1]);
    }
  });
});
