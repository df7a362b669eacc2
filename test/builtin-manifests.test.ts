import { describe, expect, it } from 'vitest';
import { PluginRegistry } from '../core/index.js';
import { renderBuiltinManifests } from '../scripts/make-builtin-manifests.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinLoaders, registerBuiltins } from '../plugins/builtins.js';
import { builtinManifests } from '../plugins/builtin-manifests.js';
import { builtinPlugins } from '../plugins/index.js';
import { ROOT } from './helpers.js';

describe('built-in plugins through the manifest path (plugins/builtins.ts)', () => {
  it('plugins/builtin-manifests.ts is what the code generates (run npm run manifests after changing an op)', () => {
    expect(readFileSync(join(ROOT, 'plugins', 'builtin-manifests.ts'), 'utf8')).toBe(renderBuiltinManifests());
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
});
