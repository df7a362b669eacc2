/**
 * Model-manifest extras registered by the owning plugin (core/ml/model-extras.ts, the
 * `modelExtras` contribution point): the host resolves a package's task to its plugin's schema,
 * validates `extra` with it and types it; a task nobody declares keeps a free-form `extra`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFocalError, PluginRegistry, z } from '../core/index.js';
import { defineModelExtras, loadModelPackage, ModelExtrasRegistry } from '../core/ml.js';
import { registerBuiltins } from '../plugins/builtins.js';
import { loadDeepRPackage } from '../plugins/deepr/package.js';
import { deeprAutofocusExtras } from '../plugins/deepr/extras.js';
import { checkCascadeLink } from '../plugins/staining/package.js';
import { ROOT } from './helpers.js';

let dir: string;
const demo = join(ROOT, 'models', 'deepr-demo');

/** A copy of the Deep-R demo package (tfjs weights only) with its manifest edited. */
async function demoCopy(name: string, edit: (m: { task: string; extra: Record<string, unknown> }) => void): Promise<string> {
  const pkg = join(dir, name);
  await cp(demo, pkg, { recursive: true, filter: (src) => !src.endsWith('.onnx') && !src.endsWith('.png') && !src.endsWith('.csv') });
  const path = join(pkg, 'manifest.json');
  const m = JSON.parse(await readFile(path, 'utf8')) as { task: string; weights: { format: string }[]; extra: Record<string, unknown> };
  m.weights = m.weights.filter((w) => w.format !== 'onnx');
  edit(m);
  await writeFile(path, JSON.stringify(m));
  return pkg;
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(isFocalError(e)).toBe(true);
  return e as { code: string; message: string; details: Record<string, unknown> };
}

function builtinRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registerBuiltins(registry);
  return registry;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-model-extras-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('model extras declared by the owning plugin', () => {
  it('the built-ins declare their tasks in their manifests; resolving one imports only its plugin', async () => {
    const registry = builtinRegistry();
    expect(registry.modelExtrasTasks()).toEqual([
      { pluginId: 'deepr', task: 'autofocus' },
      { pluginId: 'deepr', task: 'defocus-map' },
      { pluginId: 'staining', task: 'staining-cascade' },
    ]);
    expect(registry.plugins().some((p) => p.loaded)).toBe(false);
    expect((await registry.extrasFor('autofocus'))?.schema).toBe(deeprAutofocusExtras.schema);
    expect(await registry.extrasFor('virtual-staining')).toBeUndefined();
    expect(registry.plugins().filter((p) => p.loaded).map((p) => p.id)).toEqual(['deepr']);
  });

  it('every bundled model package (and the demo DPM) loads with its extras validated', async () => {
    const registry = builtinRegistry();
    const folders = readdirSync(join(ROOT, 'models')).map((f) => join(ROOT, 'models', f)).filter((f) => existsSync(join(f, 'manifest.json')));
    folders.push(join(demo, 'dpm'));
    expect(folders.length).toBeGreaterThanOrEqual(12);
    for (const f of folders) {
      const pkg = await loadModelPackage(f, { extras: registry });
      const raw = JSON.parse(await readFile(join(f, 'manifest.json'), 'utf8')) as { extra?: unknown };
      expect(pkg.manifest.extra, f).toEqual(raw.extra); // validated, nothing dropped or added
    }
    const { autofocus, dpm } = await loadDeepRPackage(demo, { dpm: true });
    expect(autofocus.manifest.extra.ensemble).toBe('dihedral8');
    expect(autofocus.manifest.extra.heldOutFamilies).toContain('disc');
    expect(dpm!.manifest.extra.dpmTarget).toBe('absolute');
  });

  it('refuses a package whose extra breaks its task schema, naming extra.<field> and the manifest file', async () => {
    const registry = builtinRegistry();
    const bad = await demoCopy('bad-channels', (m) => { m.extra.baseChannels = 'eight'; });
    for (const load of [() => loadModelPackage(bad, { extras: registry }), () => loadDeepRPackage(bad)]) {
      const e = await errorOf(load());
      expect(e.code).toBe('E_MANIFEST');
      expect(e.details).toMatchObject({ field: 'extra.baseChannels', file: join(bad, 'manifest.json'), task: 'autofocus' });
      expect(e.message).toMatch(/extra\.baseChannels: .*\(extra of task 'autofocus'\)/);
    }
    const ensemble = await demoCopy('bad-ensemble', (m) => { m.extra.ensemble = 'dihedral9'; });
    expect((await errorOf(loadDeepRPackage(ensemble))).details.field).toBe('extra.ensemble');
    const family = await demoCopy('bad-family', (m) => { m.extra.heldOutFamilies = ['disc', 'Points X']; });
    expect((await errorOf(loadModelPackage(family, { extras: registry }))).details.field).toBe('extra.heldOutFamilies.1');
    // keys the schema does not name are kept
    const more = await demoCopy('more', (m) => { m.extra.note = 'added by a tool'; });
    expect((await loadDeepRPackage(more)).autofocus.manifest.extra.note).toBe('added by a tool');
    // without extras the loader stays free-form (core alone knows no task)
    expect((await loadModelPackage(bad)).manifest.extra?.baseChannels).toBe('eight');
  });

  it("an unknown task's extra stays free-form; a declaration refuses another task", async () => {
    const registry = builtinRegistry();
    const other = await demoCopy('other-task', (m) => { m.task = 'my-task'; m.extra = { baseChannels: 'eight', anything: [1, 2] }; });
    const pkg = await loadModelPackage(other, { extras: registry });
    expect(pkg.manifest.extra).toEqual({ baseChannels: 'eight', anything: [1, 2] });
    const e = await errorOf(loadDeepRPackage(other));
    expect(e).toMatchObject({ code: 'E_MANIFEST', details: { field: 'task', expected: 'autofocus', got: 'my-task' } });
  });

  it('one plugin owns a task: a second declaration is refused (host registry and explicit registry)', async () => {
    const registry = builtinRegistry();
    const clash = { id: 'clash', version: '1.0.0', description: 'declares autofocus extras too', operations: [], modelExtras: [defineModelExtras({ task: 'autofocus', description: 'x', schema: z.object({}) })] };
    expect(() => registry.registerPlugin(clash, 'path')).toThrow(/model extras of task 'autofocus' .* already declared by built-in plugin 'deepr'/);
    expect(registry.plugin('clash')).toBeUndefined();
    const explicit = new ModelExtrasRegistry([deeprAutofocusExtras], 'deepr');
    expect(explicit.tasks()).toEqual(['autofocus']);
    expect(() => explicit.register(clash.modelExtras[0], 'clash')).toThrow(/declared by deepr and by clash/);
    // an explicit registry resolves like the host's
    const bad = await demoCopy('bad-levels', (m) => { m.extra.levels = 0; });
    expect((await errorOf(loadModelPackage(bad, { extras: explicit }))).details.field).toBe('extra.levels');
  });

  it("a cascade's staining link is checked with the staining plugin's schema", async () => {
    const cascade = await loadModelPackage(join(ROOT, 'models', 'staining-cascade-demo'));
    const staining = await loadModelPackage(join(ROOT, 'models', 'staining-demo'));
    expect(() => checkCascadeLink(cascade, staining)).not.toThrow();
    const link = cascade.manifest.extra!.stainingPackage as Record<string, unknown>;
    const broken = { ...cascade, manifest: { ...cascade.manifest, extra: { ...cascade.manifest.extra, stainingPackage: { ...link, weightsSha256: 'xyz' } } } };
    expect(() => checkCascadeLink(broken, staining)).toThrow(expect.objectContaining({ code: 'E_MANIFEST', details: expect.objectContaining({ field: 'extra.stainingPackage.weightsSha256' }) }));
  });
});
