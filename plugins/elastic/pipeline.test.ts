import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runPipeline, testContext, type Stack, type Table } from '../../core/index.js';
import { deformedSampleField } from '../../scripts/make-sample-elastic.js';
import { stackPlugin } from '../index.js';
import { elasticPlugin } from './index.js';
import { endpointError } from './synthetic.js';

const file = fileURLToPath(new URL('../../pipelines/elastic-register.json', import.meta.url));

describe('pipelines/elastic-register.json', () => {
  it('recovers the known deformation of the bundled deformed sample', async () => {
    const catalog = catalogFromPlugins([stackPlugin, elasticPlugin]);
    const { pipeline, inputDefaults } = await loadPipelineFile(file, catalog);
    const inputs = { fixed: await readTiff(inputDefaults.fixed), moving: await readTiff(inputDefaults.moving) };
    const result = await runPipeline(pipeline, { catalog, inputs, services: { resolve() { throw new Error('no services'); } }, logger: testContext().log });
    const field = result.outputs.field.value as Stack;
    const aligned = result.outputs.aligned.value as Stack;
    expect(field.sizeC).toBe(2);
    expect(field.channelNames).toEqual(['ux', 'uy']);
    expect(aligned.sizeC).toBe(2);
    expect(aligned.dtype).toBe('float32');
    expect((result.outputs.levels.value as Table).rows).toHaveLength(3);
    const truth = deformedSampleField(field.width, field.height);
    const before = endpointError(new Float32Array(truth.ux.length), new Float32Array(truth.ux.length), truth.ux, truth.uy, field.width, field.height, 8);
    const after = endpointError(field.planes[0], field.planes[1], truth.ux, truth.uy, field.width, field.height, 8);
    expect(before.mean).toBeGreaterThan(1);
    console.log(`elastic-register pipeline: mean endpoint error ${after.mean.toFixed(3)} px (max ${after.max.toFixed(2)}), before ${before.mean.toFixed(2)} px; register node ${result.timings.register?.toFixed(0)} ms`);
    expect(after.mean).toBeLessThan(0.3);
  }, 30000);
});
