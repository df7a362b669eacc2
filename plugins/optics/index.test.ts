import { describe, expect, it } from 'vitest';
import { PluginManifestSchema, PluginRegistry, manifestFromPlugin } from '../../core/index.js';
import { opticsPlugin } from './index.js';

describe('opticsPlugin', () => {
  it('registers its four ops with valid manifests, described params and the documented ports', () => {
    const registry = new PluginRegistry();
    registry.registerPlugin(opticsPlugin);
    expect(registry.ids().sort()).toEqual(['optics.defocus', 'optics.psf-born-wolf', 'optics.psf-from-beads', 'optics.psf-gaussian']);
    const manifest = manifestFromPlugin(opticsPlugin);
    expect(PluginManifestSchema.safeParse(manifest).success).toBe(true);
    for (const op of manifest.operations) {
      expect(op.params.additionalProperties, op.id).toBe(false);
      for (const [name, schema] of Object.entries(op.params.properties as Record<string, { description?: string }>)) {
        expect(schema.description, `${op.id} ${name}`).toMatch(/\w{3,}/);
      }
    }
    const m = (id: string) => registry.get(id)!.manifest;
    expect(Object.keys(m('optics.psf-born-wolf').inputs)).toEqual([]);
    expect(m('optics.psf-born-wolf').outputs.psf.type).toBe('stack');
    expect(m('optics.defocus').inputs).toMatchObject({ stack: { type: 'stack' }, heightMap: { type: 'image', optional: true } });
    expect(m('optics.psf-from-beads').outputs).toMatchObject({ psf: { type: 'stack' }, beads: { type: 'table' } });
    // defocusUm takes a number or a list in JSON Schema too
    const defocus = (m('optics.psf-born-wolf').params.properties as Record<string, { anyOf?: unknown[] }>).defocusUm;
    expect(defocus.anyOf).toHaveLength(2);
  });
});
