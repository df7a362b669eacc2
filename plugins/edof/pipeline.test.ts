import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runOp, runPipeline, testContext, type Image, type Stack, type Table, writePng } from '../../core/index.js';
import { focusPlugin } from '../index.js';
import { edofPlugin } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('pipelines/edof-fuse.json', () => {
  it('fuses samples/cells-zstack.tif: both channels, sharper than every plane, height map around the focus', async () => {
    const catalog = catalogFromPlugins([edofPlugin]);
    const { pipeline, inputDefaults } = await loadPipelineFile(join(root, 'pipelines', 'edof-fuse.json'), catalog);
    if (!existsSync(inputDefaults.stack)) throw new Error(`${inputDefaults.stack} is missing: make it with \`npm run samples\` (scripts/make-samples.ts)`);
    const stack = await readTiff(inputDefaults.stack);
    const result = await runPipeline(pipeline, { catalog, inputs: { stack }, services: { resolve() { throw new Error('no services'); } }, logger: testContext().log });
    const fused = result.outputs.fused.value as Stack;
    const heightmap = result.outputs.heightmap.value as Image;
    expect([fused.width, fused.height, fused.sizeC, fused.sizeZ, fused.dtype]).toEqual([stack.width, stack.height, 2, 1, 'float32']);
    expect(fused.channelNames).toEqual(stack.channelNames);
    await writePng('/tmp/edof-sample-fused-dapi.png', fused, { c: 0 });
    await writePng('/tmp/edof-sample-fused-fitc.png', fused, { c: 1 });
    await writePng('/tmp/edof-sample-heightmap.png', heightmap, { saturatedPercent: 0 });
    // the nuclei channel of the fused image is at least as sharp as the sharpest plane (Vollath F4)
    // scored by the focus plugin's focus.best-plane, as a pipeline would (loaded through the built-in list)
    const bestPlane = focusPlugin.operations.find((op) => op.id === 'focus.best-plane')!;
    const vollath4 = async (s: Stack): Promise<number[]> => {
      const { scores } = (await runOp(bestPlane, { stack: s }, { criterion: 'vollath4', channel: 0 })) as { scores: Table };
      return scores.rows.map((r) => r.score as number);
    };
    const planeScores = await vollath4(stack);
    const [fusedScore] = await vollath4(fused);
    expect(fusedScore).toBeGreaterThan(1.05 * Math.max(...planeScores));
    // the sample's focus is the middle slice (z = 0 µm, 5 µm from the first plane); 1 µm z step
    expect(heightmap.metadata.unit).toBe('um');
    const sorted = Float32Array.from(heightmap.data).sort();
    const median = sorted[sorted.length >> 1];
    console.log('sample: fused F4', fusedScore, 'planes', planeScores.map((s) => s.toPrecision(3)).join(' '), 'median height', median);
    expect(Math.abs(median - 5)).toBeLessThanOrEqual(1.5);
    // scripts/make-samples.ts puts the cells in four layers at −1.5, −0.5, +0.5, +1.5 µm, i.e.
    // 3.5, 4.5, 5.5, 6.5 µm from the first plane: on nuclei (bright in the fused image) the
    // height map lands near one of them
    const layers = [3.5, 4.5, 5.5, 6.5];
    let max = 0;
    for (const v of fused.planes[0]) max = Math.max(max, v);
    let nuclei = 0;
    let near = 0;
    for (let i = 0; i < heightmap.data.length; i++) {
      if (fused.planes[0][i] < 0.5 * max) continue;
      nuclei++;
      if (Math.min(...layers.map((l) => Math.abs(heightmap.data[i] - l))) <= 0.3) near++;
    }
    console.log('nuclei pixels', nuclei, 'within 0.3 µm of a layer', near / nuclei);
    expect(nuclei).toBeGreaterThan(1000);
    expect(near / nuclei).toBeGreaterThan(0.85); // measured 0.92; chance (uniform heights over 3–7 µm) would give ~0.6
  });
});
