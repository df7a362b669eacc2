import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogFromPlugins, loadPipelineFile, readTiff, runPipeline, testContext, type Stack, type Table } from '../../core/index.js';
import { metricsPlugin, stackPlugin, virfluonetPlugin } from '../index.js';

const catalog = catalogFromPlugins([virfluonetPlugin, stackPlugin, metricsPlugin]);
const services = { resolve(): never { throw new Error('no services') } };

async function runFile(name: string) {
  const file = fileURLToPath(new URL(`./pipelines/${name}.json`, import.meta.url));
  const { pipeline, inputDefaults } = await loadPipelineFile(file, catalog);
  const inputs: Record<string, unknown> = {};
  for (const [k, path] of Object.entries(inputDefaults)) inputs[k] = await readTiff(path as string);
  const result = await runPipeline(pipeline, { catalog, inputs, services, logger: testContext().log });
  return Object.fromEntries(Object.entries(result.outputs).map(([k, o]) => [k, o.value]));
}

describe('virfluonet pipelines on the bundled Cell Painting field', () => {
  it('virfluonet-mitochondria: a uint16 Cy5 plane of the field\'s size, correlated with the real Cy5', async () => {
    const out = await runFile('virfluonet-mitochondria');
    const img = out.mitochondria as Stack;
    expect([img.width, img.height, img.sizeC, img.dtype, img.channelNames[0]]).toEqual([192, 192, 1, 'uint16', 'Cy5']);
    const row = (out.metrics as Table).rows[0];
    expect(row.pearson as number).toBeGreaterThan(0.3);
  }, 60_000);

  it('virfluonet-cell-painting: three virtual channels, the nucleus predicted best (Pearson r, free of the channels\' brightness)', async () => {
    const out = await runFile('virfluonet-cell-painting');
    for (const k of ['nucleus', 'er', 'mitochondria']) expect((out[k] as Stack).width).toBe(192);
    const r = (k: string) => (out[k] as Table).rows[0].pearson as number;
    expect(r('nucleusMetrics')).toBeGreaterThan(r('erMetrics'));
    expect(r('nucleusMetrics')).toBeGreaterThan(r('mitochondriaMetrics'));
  }, 90_000);
});
