import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runPipeline, testContext, type Image, type Table } from '../../core/index.js';
import { focusPlugin } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('pipelines/best-focus.json', () => {
  it('picks the sharpest nuclei plane of samples/cells-zstack.tif within ±1 of the middle slice (z = 5)', async () => {
    const catalog = catalogFromPlugins([focusPlugin]);
    const { pipeline, inputDefaults } = await loadPipelineFile(join(root, 'pipelines', 'best-focus.json'), catalog);
    expect(inputDefaults.stack).toBe(join(root, 'samples', 'cells-zstack.tif'));
    if (!existsSync(inputDefaults.stack)) throw new Error(`${inputDefaults.stack} is missing: make it with \`npm run samples\` (scripts/make-samples.ts)`);
    const stack = await readTiff(inputDefaults.stack);
    const result = await runPipeline(pipeline, {
      catalog,
      inputs: { stack },
      services: { resolve() { throw new Error('no services'); } },
      logger: testContext().log,
    });
    const scores = result.outputs.scores.value as Table;
    const nuclei = result.outputs.nuclei.value as Image;
    expect(result.outputs.nuclei.type).toBe('image');
    expect(scores.rows).toHaveLength(11);
    const best = scores.rows.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a)).plane as number;
    expect(Math.abs(best - 5)).toBeLessThanOrEqual(1);
    expect(nuclei.metadata.focusPlane).toBe(best);
    expect([...nuclei.data]).toEqual([...stack.planes[0 + best * stack.sizeC]]);
    // the scores fall towards both ends of the stack (−5 and +5 µm)
    expect(scores.rows[0].score as number).toBeLessThan(scores.rows[best].score as number);
    expect(scores.rows[10].score as number).toBeLessThan(scores.rows[best].score as number);
  });
});
