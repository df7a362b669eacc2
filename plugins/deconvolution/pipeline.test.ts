import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runPipeline, type Stack, type Table, testContext } from '../../core/index.js';
import { ssim } from '../../core/imaging.js';
import { opticsPlugin, stackPlugin } from '../index.js';
import { deconvolutionPlugin } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Sum of squared forward differences: a simple sharpness measure. */
function gradientEnergy(img: ArrayLike<number>, w: number, h: number): number {
  let s = 0;
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) s += (img[y * w + x + 1] - img[y * w + x]) ** 2 + (img[(y + 1) * w + x] - img[y * w + x]) ** 2;
  return s;
}

describe.each(['deconvolve-rl', 'deconvolve-landweber'])('pipelines/%s.json', (name) => {
  it('round trip on the sample: float32 out, SSIM to the in-focus slice above the defocused input\'s, stats per iteration, total intensity kept within 2 %', async () => {
    const catalog = catalogFromPlugins([stackPlugin, opticsPlugin, deconvolutionPlugin]);
    const { pipeline, inputDefaults } = await loadPipelineFile(join(root, 'pipelines', `${name}.json`), catalog);
    expect(inputDefaults.stack).toBe(join(root, 'samples', 'cells-zstack.tif'));
    const stack = await readTiff(inputDefaults.stack as string);
    const result = await runPipeline(pipeline, { catalog, inputs: { stack }, services: { resolve() { throw new Error('no services'); } }, logger: testContext().log });
    const input = result.outputs.defocused.value as Stack;
    const out = result.outputs.deconvolved.value as Stack;
    expect([out.width, out.height, out.sizeC, out.sizeZ, out.dtype]).toEqual([256, 256, 1, 1, 'float32']);
    expect(out.calibration.pixelWidthUm).toBeCloseTo(0.325, 9);
    const gIn = gradientEnergy(input.planes[0], 256, 256);
    const gOut = gradientEnergy(out.planes[0], 256, 256);
    expect(gOut).toBeGreaterThan(1.5 * gIn);
    const sum = (p: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < p.length; i++) s += p[i];
      return s;
    };
    expect(Math.abs(sum(out.planes[0]) / sum(input.planes[0]) - 1)).toBeLessThan(0.02);
    expect(Math.min(...out.planes[0])).toBeGreaterThanOrEqual(0);
    const inFocus = result.outputs.inFocus.value as Stack;
    const stats = result.outputs.stats.value as Table;
    const iterations = name === 'deconvolve-rl' ? 50 : 100;
    expect(stats.rows).toHaveLength(iterations);
    const ssimIn = ssim(input.planes[0], inFocus.planes[0], 256, 256);
    const last = stats.rows.at(-1)!;
    // eslint-disable-next-line no-console
    console.log(`${name} on the sample: SSIM to the in-focus slice ${ssimIn.toFixed(4)} (defocused) → ${(last.ssim as number).toFixed(4)} after ${iterations} iterations; PSNR ${(stats.rows[0].psnr as number).toFixed(2)} dB at iteration 1 → ${(last.psnr as number).toFixed(2)} dB`);
    expect(last.ssim as number).toBeGreaterThan(ssimIn);
    expect(last.ssim as number).toBeCloseTo(ssim(out.planes[0], inFocus.planes[0], 256, 256), 9);
  });
});
