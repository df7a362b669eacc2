/**
 * Issue 14: the autofocus dataset that `focal run pipelines/prepare-autofocus-dataset.json`
 * writes is what `focal train deepr --dataset` reads. The pipeline runs through the real host
 * (registry with the built-in plugins, DI container, PipelineRunner) into a temp folder, and
 * the Deep-R dataset loader reads that folder back.
 */
import 'reflect-metadata';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, MemoryLogger, PipelineRunner, PluginRegistry, readTiff, TableJsonSchema } from '../core/index.js';
import { readAutofocusDataset, readDatasetFov } from '../plugins/deepr/data.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT, tempDir } from './helpers.js';

const outRoot = tempDir('focal-autofocus-roundtrip-');
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('prepare-autofocus-dataset → Deep-R dataset loader', () => {
  it('the pipeline writes pairs.json as {columns, rows} and the trainer loads every pair of it', async () => {
    const registry = new PluginRegistry();
    for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
    const runner = createContainer({ catalog: registry, logger: new MemoryLogger(), threads: 1 }).resolve(PipelineRunner);
    const fov = join(outRoot, 'data', 'fov-0001');
    await runner.run({ pipelineFile: join(ROOT, 'pipelines', 'prepare-autofocus-dataset.json'), outDir: fov });

    // what `focal train deepr --dataset data` loads (failed before with 'pairs.json: has no rows array')
    const fovs = await readAutofocusDataset(join(outRoot, 'data'));

    // the table's JSON form: one schema, columns in the CSV's order
    const json = TableJsonSchema.parse(JSON.parse(readFileSync(join(fov, 'pairs.json'), 'utf8')));
    expect(json.columns).toEqual(readFileSync(join(fov, 'pairs.csv'), 'utf8').split('\n')[0].split(','));
    expect(json.rows).toHaveLength(44);

    expect(fovs).toHaveLength(1);
    const [loaded] = fovs;
    const manifest = JSON.parse(readFileSync(join(fov, 'manifest.json'), 'utf8')) as { pairs: number; patchPx: number; pixelSizeUm: number; zStepUm: number };
    expect(loaded.pairs).toHaveLength(manifest.pairs);
    expect(loaded.pairs).toHaveLength(44);
    expect([loaded.patchPx, loaded.zStepUm]).toEqual([128, 1]);
    expect(loaded.pixelSizeUm).toBeCloseTo(0.325, 9);

    const inputs = await readTiff(join(fov, 'inputs.tif'));
    const targets = await readTiff(join(fov, 'targets.tif'));
    for (const [i, row] of json.rows.entries()) {
      const pair = loaded.pairs[i];
      expect(pair.sizePx).toBe(128);
      expect(pair.defocusUm).toBe(row.defocusUm);
      expect(pair.input).toHaveLength(128 * 128);
      expect(pair.input[128 * 64 + 64]).toBe(inputs.planes[row.pair as number][128 * 64 + 64]);
      expect(pair.target[128 * 64 + 64]).toBe(targets.planes[row.target as number][128 * 64 + 64]);
    }
    // the in-focus pairs have the target as input
    const inFocus = loaded.pairs.filter((p) => p.defocusUm === 0);
    expect(inFocus).toHaveLength(4);
    for (const p of inFocus) expect([...p.input]).toEqual([...p.target]);

    // the same folder read through pairs.csv gives the same pairs
    rmSync(join(fov, 'pairs.json'));
    const fromCsv = await readDatasetFov(fov);
    expect(fromCsv.pairs.map((p) => p.defocusUm)).toEqual(loaded.pairs.map((p) => p.defocusUm));
  }, 120_000);
});
