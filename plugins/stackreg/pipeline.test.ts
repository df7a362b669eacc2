import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, createStack, loadPipelineFile, readTiff, runPipeline, testContext, type PixelArray, type Stack, type Table } from '../../core/index.js';
import { makeCellsZStack } from '../../scripts/make-samples.js';
import { cornerError, invert, similarityAbout, type Affine } from './affine.js';
import { stackregPlugin } from './index.js';
import { warpPlane } from './warp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const file = join(root, 'pipelines', 'stackreg-align.json');
const catalog = catalogFromPlugins([stackregPlugin]);
const services = { resolve(): never { throw new Error('no services') } };

async function sample(path: string): Promise<Stack> {
  // the bundled sample; made on the fly when samples/ has not been generated in this checkout
  return existsSync(path) ? readTiff(path) : makeCellsZStack();
}

function matrices(table: Table): Affine[] {
  return table.rows.map((r) => ['m00', 'm01', 'm02', 'm10', 'm11', 'm12'].map((c) => r[c] as number) as Affine);
}

describe('pipelines/stackreg-align.json', () => {
  it('runs on the bundled z-stack (no drift: near-identity transforms) and recovers a known drift added to a copy', async () => {
    const { pipeline, inputDefaults } = await loadPipelineFile(file, catalog);
    const original = await sample(inputDefaults.stack);
    const run = (stack: Stack) => runPipeline(pipeline, { catalog, inputs: { stack }, services, logger: testContext().log });

    const plain = await run(original);
    const aligned = plain.outputs.aligned.value as Stack;
    expect([aligned.width, aligned.height, aligned.sizeC, aligned.sizeZ, aligned.dtype]).toEqual([original.width, original.height, 2, original.sizeZ, 'uint16']);
    for (const m of matrices(plain.outputs.transforms.value as Table)) expect(cornerError(m, [1, 0, 0, 0, 1, 0], original.width, original.height)).toBeLessThan(0.25);

    // drifted copy: slice z moved by a known rigid transform, cropped so no empty border enters
    const margin = 16;
    const w = original.width - 2 * margin;
    const h = original.height - 2 * margin;
    const c = (original.width - 1) / 2;
    const truth: Affine[] = Array.from({ length: original.sizeZ }, (_, z) =>
      z === 0 ? [1, 0, 0, 0, 1, 0] : similarityAbout(c, c, 0.01 * Math.sin(z), 1, 3 * Math.sin(1.3 * z), 2.5 * Math.cos(0.9 * z) - 2.5),
    );
    const planes: PixelArray[] = original.planes.map((p, i) => {
      const z = Math.floor(i / original.sizeC);
      const moved = warpPlane(p, original.width, original.height, invert(truth[z]));
      const out = new Uint16Array(w * h);
      for (let y = 0; y < h; y++) out.set(moved.subarray((y + margin) * original.width + margin, (y + margin) * original.width + margin + w), y * w);
      return out;
    });
    const drifted = createStack({ width: w, height: h, dtype: 'uint16', sizeC: original.sizeC, sizeZ: original.sizeZ, planes, channelNames: original.channelNames });
    const res = await run(drifted);
    const found = matrices(res.outputs.transforms.value as Table);
    const shift = (m: Affine): Affine => [m[0], m[1], m[2] + margin * (m[0] + m[1] - 1), m[3], m[4], m[5] + margin * (m[3] + m[4] - 1)]; // full-image → cropped coordinates
    const errors = found.map((m, z) => cornerError(m, shift(truth[z]), w, h));
    console.log('stackreg-align on drifted sample: corner errors px', errors.map((e) => e.toFixed(3)).join(' '));
    expect(errors.reduce((a, b) => a + b, 0) / errors.length).toBeLessThan(0.12); // measured 0.091 (pairwise errors compose along the 10 steps)
    expect(Math.max(...errors)).toBeLessThan(0.25);
    expect((res.outputs.matrices.value as { matrices: unknown[] }).matrices).toHaveLength(original.sizeZ);
  });
});
