import { describe, expect, it } from 'vitest';
import { PluginManifestSchema, PluginRegistry, manifestFromPlugin } from '../core/index.js';
import { builtinPlugins } from './index.js';

describe('builtinPlugins', () => {
  it('register into one registry with the documented ids, ports and params', () => {
    const registry = new PluginRegistry();
    for (const p of builtinPlugins) registry.registerPlugin(p);
    const pluginIds = registry.plugins().map((p) => p.id);
    expect(new Set(pluginIds).size).toBe(builtinPlugins.length);
    for (const id of ['filter', 'math', 'stack']) expect(pluginIds).toContain(id);
    for (const id of ['filter.gaussian', 'math.binary', 'stack.convert', 'stack.crop', 'stack.project', 'stack.substack']) expect(registry.ids()).toContain(id);
    const ports = (id: string) => {
      const m = registry.get(id)!.manifest;
      return [Object.fromEntries(Object.entries(m.inputs).map(([k, v]) => [k, v.type + (v.optional ? '?' : '')])), Object.fromEntries(Object.entries(m.outputs).map(([k, v]) => [k, v.type + (v.optional ? '?' : '')]))];
    };
    expect(ports('stack.project')).toEqual([{ stack: 'stack' }, { image: 'image?', stack: 'stack' }]);
    expect(ports('stack.substack')).toEqual([{ stack: 'stack' }, { stack: 'stack' }]);
    expect(ports('stack.crop')).toEqual([{ stack: 'stack' }, { stack: 'stack' }]);
    expect(ports('stack.convert')).toEqual([{ stack: 'stack' }, { stack: 'stack' }]);
    expect(ports('filter.gaussian')).toEqual([{ stack: 'stack' }, { stack: 'stack' }]);
    expect(ports('math.binary')).toEqual([{ a: 'stack', b: 'stack' }, { stack: 'stack' }]);
    const paramNames = (id: string) => Object.keys((registry.get(id)!.manifest.params as { properties: object }).properties).sort();
    expect(paramNames('stack.project')).toEqual(['axis', 'method']);
    expect(paramNames('stack.substack')).toEqual(['c', 't', 'z']);
    expect(paramNames('stack.crop')).toEqual(['height', 'width', 'x', 'y']);
    expect(paramNames('stack.convert')).toEqual(['dtype', 'scale']);
    expect(paramNames('filter.gaussian')).toEqual(['sigmaPx', 'sigmaUm', 'truncate']);
    expect(paramNames('math.binary')).toEqual(['op', 'outputDtype']);
  });

  it('have valid manifests in which every param is described and unknown params are rejected', () => {
    for (const plugin of builtinPlugins) {
      const manifest = manifestFromPlugin(plugin);
      expect(PluginManifestSchema.safeParse(manifest).success).toBe(true);
      for (const op of manifest.operations) {
        expect(op.params.additionalProperties, op.id).toBe(false);
        for (const [name, schema] of Object.entries(op.params.properties as Record<string, { description?: string }>)) {
          expect(schema.description, `${op.id} ${name}`).toMatch(/\w{3,}/);
        }
      }
    }
  });
});
