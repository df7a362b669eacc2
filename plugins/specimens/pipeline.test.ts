import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, runPipeline, testContext, type Stack } from '../../core/index.js';
import { opticsPlugin } from '../index.js';
import { specimensPlugin } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('pipelines/specimen-defocus-stack.json', () => {
  it('renders cells and images them as a 7-plane noisy z-stack whose total signal matches the object', async () => {
    const catalog = catalogFromPlugins([specimensPlugin, opticsPlugin]);
    const { pipeline } = await loadPipelineFile(join(here, '..', '..', 'pipelines', 'specimen-defocus-stack.json'), catalog);
    const result = await runPipeline(pipeline, { catalog, inputs: {}, services: { resolve() { throw new Error('no services'); } }, logger: testContext().log });
    const inFocus = result.outputs.inFocus.value as Stack;
    const z = result.outputs.zstack.value as Stack;
    expect([z.width, z.height, z.sizeZ]).toEqual([256, 256, 7]);
    let max = 0;
    let signal = 0;
    for (const v of inFocus.planes[0]) [max, signal] = [Math.max(max, v), signal + v];
    expect(max).toBeCloseTo(2020, 3);
    // photons = brightest input pixel, so e⁻ per unit is 1: each plane's sum ≈ the object's (noise averages out)
    for (const p of z.planes) {
      let s = 0;
      for (let i = 0; i < p.length; i++) s += p[i];
      expect(Math.abs(s / signal - 1)).toBeLessThan(0.01);
    }
  });
});
