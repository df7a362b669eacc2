import { describe, expect, it } from 'vitest';
import { PluginManifestSchema, PluginRegistry } from '../core/index.js';
import { renderBuiltinManifests } from '../scripts/make-builtin-manifests.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinLoaders, registerBuiltins } from '../plugins/builtins.js';
import { builtinManifests } from '../plugins/builtin-manifests.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT } from './helpers.js';

describe('built-in plugins through the manifest path (plugins/builtins.ts)', () => {
  it('plugins/builtin-manifests.ts is what the code generates (run npm run manifests after changing an op)', () => {
    expect(readFileSync(join(ROOT, 'plugins', 'builtin-manifests.ts'), 'utf8')).toBe(renderBuiltinManifests());
  });

  it('every generated manifest is already what PluginManifestSchema makes of it (so the host registers them unparsed)', () => {
    for (const m of builtinManifests) expect(PluginManifestSchema.parse(structuredClone(m))).toStrictEqual(m);
  });

  it('has a manifest and a loader for every built-in, and each loader gives the code its manifest describes', async () => {
    expect(builtinManifests.map((m) => m.id).sort()).toEqual(builtinPlugins.map((p) => p.id).sort());
    expect(Object.keys(builtinLoaders).sort()).toEqual(builtinPlugins.map((p) => p.id).sort());
    const registry = new PluginRegistry();
    registerBuiltins(registry);
    expect(registry.plugins().every((p) => !p.loaded && p.source === 'builtin')).toBe(true);
    for (const m of builtinManifests) {
      const def = await registry.loadPlugin(m.id); // checks the code against the manifest (ids, ports, params)
      expect(def.operations.map((o) => o.id)).toEqual(m.operations.map((o) => o.id));
    }
    expect(registry.plugins().every((p) => p.loaded)).toBe(true);
  });

  it('loads only the plugins a pipeline names before validating it, so their own schemas check the params', async () => {
    const registry = new PluginRegistry();
    registerBuiltins(registry);
    await registry.prepare(['filter.gaussian', 'stack.project', 'no.such-op']);
    const loaded = registry.plugins().filter((p) => p.loaded).map((p) => p.id);
    expect(loaded.sort()).toEqual(['filter', 'stack']);
    // the code's schema (with its refinements), not one rebuilt from JSON Schema
    const schema = registry.get('filter.gaussian')!.paramsSchema();
    expect(schema).toBe(builtinPlugins.find((p) => p.id === 'filter')!.operations.find((o) => o.id === 'filter.gaussian')!.params);
  });

  it('every bundled model, sample and pipeline is a contribution of exactly one built-in, at a path that exists', () => {
    const owners = new Map<string, string[]>();
    for (const m of builtinManifests) {
      for (const point of ['models', 'sampleData', 'pipelines'] as const) {
        for (const c of m[point] ?? []) {
          expect(existsSync(join(ROOT, c.path)), `${m.id} ${point} ${c.id}: ${c.path}`).toBe(true);
          owners.set(c.path, [...(owners.get(c.path) ?? []), m.id]);
        }
      }
    }
    const bundled = [
      ...readdirSync(join(ROOT, 'models')).map((f) => `models/${f}`),
      ...readdirSync(join(ROOT, 'samples')).filter((f) => /\.tiff?$/.test(f)).map((f) => `samples/${f}`),
      ...readdirSync(join(ROOT, 'pipelines')).filter((f) => f.endsWith('.json')).map((f) => `pipelines/${f}`),
    ];
    for (const path of bundled) expect(owners.get(path), path).toHaveLength(1);
  });
});
