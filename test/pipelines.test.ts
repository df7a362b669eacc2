/**
 * Every pipeline in pipelines/ validates and runs on its default sample inputs through the
 * real host (registry with the built-in plugins, DI container, PipelineRunner), writes every
 * declared output and run.json; and together the pipelines use every registered operation.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, MemoryLogger, PipelineRunner, planeCount, PluginRegistry, readTableFile, readTiff, TableJsonSchema } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT, tempDir } from './helpers.js';

/** Every pipeline a built-in plugin contributes (pipelines/ and plugins/<id>/pipelines/), relative to the package root. */
const PIPELINE_DIR = ROOT;
const files = builtinPlugins.flatMap((p) => (p.pipelines ?? []).map((x) => x.path)).sort();
const inPipelinesFolder = readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json'));

function host() {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
  const container = createContainer({ catalog: registry, logger: new MemoryLogger() });
  return { registry, runner: container.resolve(PipelineRunner) };
}

const { registry, runner } = host();
const outRoot = tempDir('focal-pipelines-');
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe('bundled pipelines', () => {
  it('finds pipeline files, and every file in pipelines/ is a plugin\'s contribution', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(inPipelinesFolder.filter((f) => !files.includes(`pipelines/${f}`))).toEqual([]);
  });

  it.each(files)('%s runs on its default inputs and writes every output', async (file) => {
    const pipelineFile = join(PIPELINE_DIR, file);
    const json = JSON.parse(readFileSync(pipelineFile, 'utf8')) as {
      name: string;
      description?: string;
      inputs: Record<string, { default?: string }>;
      outputs: Record<string, string>;
    };
    expect(json.name, `${file}: name`).toBe(basename(file).replace(/\.json$/, ''));
    expect(json.description?.length ?? 0, `${file}: description`).toBeGreaterThan(20);
    for (const [name, input] of Object.entries(json.inputs)) {
      expect(input.default, `${file}: input '${name}' needs a default sample`).toBeTypeOf('string');
    }

    const outDir = join(outRoot, file.replace(/\.json$/, ''));
    const summary = await runner.run({ pipelineFile, outDir });
    expect(summary.pipeline).toBe(json.name);
    expect(summary.outputs.map((o) => o.name).sort()).toEqual(Object.keys(json.outputs).sort());

    for (const output of summary.outputs) {
      const what = `${file}: output '${output.name}' (${output.type})`;
      expect(output.files.length, what).toBeGreaterThan(0);
      for (const f of output.files) expect(existsSync(f), `${what}: ${f}`).toBe(true);
      if (output.type === 'image' || output.type === 'stack') {
        const stack = await readTiff(output.files[0]);
        expect(stack.kind, what).toBe('stack');
        expect(stack.width * stack.height, what).toBeGreaterThan(0);
        expect(planeCount(stack), what).toBe(stack.sizeC * stack.sizeZ * stack.sizeT);
        if (output.type === 'image') expect(planeCount(stack), `${what}: an image is one plane`).toBe(1);
        // every pixel a number, and not every output blank
        let finite = 0;
        let nonZero = 0;
        for (const plane of stack.planes) {
          for (let i = 0; i < plane.length; i++) {
            if (Number.isFinite(plane[i])) finite++;
            if (plane[i] !== 0) nonZero++;
          }
        }
        expect(finite, `${what}: finite pixels`).toBe(stack.planes.length * stack.width * stack.height);
        expect(nonZero, `${what}: not all zero`).toBeGreaterThan(0);
      } else if (output.type === 'table') {
        const csv = output.files.find((f) => f.endsWith('.csv'))!;
        const table = await readTableFile(csv);
        expect(table.columns.length, `${what}: columns`).toBeGreaterThan(0);
        expect(table.rows.length, `${what}: rows`).toBeGreaterThan(0);
        const fromJson = TableJsonSchema.parse(JSON.parse(readFileSync(output.files.find((f) => f.endsWith('.json'))!, 'utf8')));
        expect(fromJson.columns, `${what}: JSON columns`).toEqual(table.columns);
        expect(fromJson.rows.length, `${what}: JSON rows`).toBe(table.rows.length);
      } else if (output.type === 'json') {
        const value = JSON.parse(readFileSync(output.files[0], 'utf8')) as unknown;
        expect(value, what).not.toBeNull();
        if (typeof value === 'object') expect(Object.keys(value as object).length, what).toBeGreaterThan(0);
      }
    }

    expect(summary.provenanceFile).toBe(join(outDir, 'run.json'));
    const run = JSON.parse(readFileSync(summary.provenanceFile, 'utf8')) as { pipeline: { name: string }; nodes: Record<string, unknown>; outputs: unknown[] };
    expect(run.pipeline.name).toBe(json.name);
    expect(Object.keys(run.nodes).length).toBeGreaterThan(0);
    expect(run.outputs.length).toBe(summary.outputs.length);
  });

  it('use every registered operation at least once', () => {
    const used = new Set<string>();
    for (const file of files) {
      const json = JSON.parse(readFileSync(join(PIPELINE_DIR, file), 'utf8')) as { nodes: Record<string, { op: string }> };
      for (const node of Object.values(json.nodes)) used.add(node.op);
    }
    const builtinOps = builtinPlugins.flatMap((p) => p.operations.map((op) => op.id));
    expect(registry.ids()).toEqual(expect.arrayContaining(builtinOps));
    const missing = registry.ids().filter((id) => !used.has(id));
    expect(missing, `operations without a bundled pipeline: ${missing.join(', ')}`).toEqual([]);
    const unknown = [...used].filter((id) => registry.get(id) === undefined);
    expect(unknown, `pipelines use unregistered operations: ${unknown.join(', ')}`).toEqual([]);
  });
});
