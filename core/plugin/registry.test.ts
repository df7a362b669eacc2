import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStack, type Stack } from '../index.js';
import { FocalError } from '../errors.js';
import { defineOperation, definePlugin, type OpContext } from './contract.js';
import { manifestFromPlugin, type PluginManifest } from './manifest.js';
import { PluginRegistry, importPluginEntry, manifestForPackage, type FocalApi } from './registry.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'focal-registry-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const ctx: OpContext = {
  log: { debug() {}, info() {}, warn() {}, error() {} },
  progress() {},
  signal: new AbortController().signal,
  services: { resolve: () => { throw new Error('no services'); } },
};

const builtin = definePlugin({
  id: 'blur',
  version: '1.2.3',
  description: 'test built-in',
  operations: [
    defineOperation({
      id: 'blur.box',
      title: 'Box blur',
      description: 'd',
      inputs: { stack: { type: 'stack' } },
      outputs: { stack: { type: 'stack' } },
      params: z.strictObject({ radiusPx: z.number().int().min(1).default(1) }),
      run: (_ctx, { stack }) => ({ stack }),
    }),
  ],
});

/** The manifest of the fixture plugin `scale` (written by hand, as a plugin author would). */
function scaleManifest(overrides: Partial<PluginManifest> = {}): PluginManifest {
  return {
    id: 'scale',
    version: '2.0.0',
    description: 'multiplies pixel values',
    operations: [
      {
        id: 'scale.mul',
        title: 'Multiply',
        description: 'multiplies every pixel by factor',
        inputs: { stack: { type: 'stack' } },
        outputs: { stack: { type: 'stack' } },
        params: {
          type: 'object',
          properties: { factor: { type: 'number', exclusiveMinimum: 0, default: 2 }, label: { type: 'string' } },
          additionalProperties: false,
        },
      },
    ],
    ...overrides,
  };
}

/** Factory-form entry of `scale`; counts factory calls in globalThis.__scaleFactoryCalls. */
const SCALE_FACTORY = `
export default (focal) => {
  globalThis.__scaleFactoryCalls = (globalThis.__scaleFactoryCalls ?? 0) + 1;
  return focal.definePlugin({
    id: 'scale', version: '2.0.0', description: 'multiplies pixel values',
    operations: [focal.defineOperation({
      id: 'scale.mul', title: 'Multiply', description: 'multiplies every pixel by factor',
      inputs: { stack: { type: 'stack' } }, outputs: { stack: { type: 'stack' } },
      params: focal.z.strictObject({ factor: focal.z.number().positive().default(2), label: focal.z.string().optional() }),
      run(ctx, { stack }, { factor }) {
        return { stack: focal.withPlanes(stack, stack.planes.map((p) => Float32Array.from(p, (v) => v * factor))) };
      },
    })],
  });
};
`;

function writePackage(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function registerScale(registry: PluginRegistry, entrySource: string, manifest = scaleManifest(), name = 'focal-plugin-scale'): string {
  const dir = writePackage(join(root, 'node_modules', name), { 'index.js': entrySource, 'package.json': JSON.stringify({ name, version: '2.0.0', type: 'module' }) });
  registry.registerManifest(manifest, { packageDir: dir, entry: 'index.js', source: 'package', packageName: name });
  return dir;
}

function stack(values: number[]): Stack {
  return createStack({ width: values.length, height: 1, dtype: 'uint8', planes: [Uint8Array.from(values)] });
}

describe('PluginRegistry with built-in plugins', () => {
  it('lists plugins and serves their ops as catalog entries', async () => {
    const registry = new PluginRegistry();
    registry.registerPlugin(builtin);
    expect(registry.ids()).toEqual(['blur.box']);
    const [info] = registry.plugins();
    expect(info).toMatchObject({ id: 'blur', version: '1.2.3', description: 'test built-in', source: 'builtin', loaded: true });
    expect(info.location).toBeUndefined();
    expect(info.operations.map((o) => o.id)).toEqual(['blur.box']);
    const entry = registry.get('blur.box')!;
    expect(entry.pluginId).toBe('blur');
    expect(entry.pluginVersion).toBe('1.2.3');
    expect(entry.manifest.params).toMatchObject({ type: 'object', properties: { radiusPx: { type: 'integer', default: 1 } } });
    expect(entry.paramsSchema()).toBe(builtin.operations[0].params);
    expect(await entry.load()).toBe(builtin.operations[0]);
    expect(registry.get('blur.nope')).toBeUndefined();
  });

  it('rejects a second plugin with the same id, naming both sources', () => {
    const registry = new PluginRegistry();
    registry.registerPlugin(builtin);
    const dir = join(root, 'elsewhere');
    let err: unknown;
    try {
      registry.registerManifest({ ...manifestFromPlugin(builtin), version: '9.9.9' }, { packageDir: dir, entry: 'index.js', source: 'path' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FocalError);
    expect((err as FocalError).code).toBe('E_MANIFEST');
    expect((err as FocalError).message).toBe(`plugin id 'blur' from --plugin path ${dir} is already registered by built-in plugin 'blur'`);
    expect(() => registry.registerPlugin(builtin)).toThrow(/plugin id 'blur' from built-in plugin 'blur' is already registered/);
    expect(registry.plugins()).toHaveLength(1);
  });

  it('rejects invalid plugins: op id without the plugin prefix, duplicate op ids, missing run', () => {
    const registry = new PluginRegistry();
    const bad = { ...builtin, id: 'other' };
    expect(() => registry.registerPlugin(bad)).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/must start with 'other\.'/) }));
    const twice = { ...builtin, operations: [builtin.operations[0], builtin.operations[0]] };
    expect(() => registry.registerPlugin(twice)).toThrow(/operation 'blur.box' from built-in plugin 'blur' is already registered/);
    const noRun = { ...builtin, operations: [{ ...builtin.operations[0], run: undefined }] } as unknown as typeof builtin;
    expect(() => registry.registerPlugin(noRun)).toThrow(expect.objectContaining({ code: 'E_PLUGIN', message: expect.stringMatching(/has no run function/) }));
    expect(registry.ids()).toEqual([]);
  });
});

describe('PluginRegistry with third-party manifests', () => {
  it('validates params from the manifest JSON Schema without importing the code', async () => {
    const registry = new PluginRegistry();
    const marker = join(root, 'imported.txt');
    const dir = registerScale(registry, `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x');\n${SCALE_FACTORY}`);
    const [info] = registry.plugins();
    expect(info).toMatchObject({ id: 'scale', version: '2.0.0', source: 'package', loaded: false, location: { packageDir: dir, entry: join(dir, 'index.js'), packageName: 'focal-plugin-scale' } });
    const entry = registry.get('scale.mul')!;
    expect(entry.manifest.title).toBe('Multiply');
    const schema = entry.paramsSchema();
    expect(entry.paramsSchema()).toBe(schema); // cached
    // z.fromJSONSchema fills JSON Schema `default`s, enforces bounds, types and additionalProperties
    expect(schema.parse({})).toEqual({ factor: 2 });
    expect(schema.parse({ factor: 3, label: 'x' })).toEqual({ factor: 3, label: 'x' });
    expect(schema.safeParse({ factor: 0 }).success).toBe(false);
    expect(schema.safeParse({ factor: 'big' }).success).toBe(false);
    expect(schema.safeParse({ factr: 3 }).success).toBe(false);
    expect(existsSync(marker)).toBe(false);

    const op = await entry.load();
    expect(existsSync(marker)).toBe(true);
    expect(op.id).toBe('scale.mul');
    expect(registry.plugin('scale')!.loaded).toBe(true);
    // after loading, the op's own zod schema is used
    expect(entry.paramsSchema()).toBe(op.params);
    const out = (await op.run(ctx, { stack: stack([1, 2, 3]) }, op.params.parse({ factor: 1.5 }))) as { stack: Stack };
    expect([...out.stack.planes[0]]).toEqual([1.5, 3, 4.5]);
  });

  it('imports a factory plugin once, even for concurrent loads', async () => {
    const registry = new PluginRegistry();
    (globalThis as { __scaleFactoryCalls?: number }).__scaleFactoryCalls = 0;
    registerScale(registry, SCALE_FACTORY);
    const [a, b] = await Promise.all([registry.get('scale.mul')!.load(), registry.get('scale.mul')!.load()]);
    expect(a).toBe(b);
    await registry.loadPlugin('scale');
    expect((globalThis as { __scaleFactoryCalls?: number }).__scaleFactoryCalls).toBe(1);
  });

  it('passes the host API from the hostApi option to factories', async () => {
    const calls: string[] = [];
    const api = (await import('../index.js')) as FocalApi;
    const registry = new PluginRegistry({
      hostApi: async () => {
        calls.push('hostApi');
        return api;
      },
    });
    registerScale(registry, SCALE_FACTORY);
    const op = await registry.get('scale.mul')!.load();
    expect(calls).toEqual(['hostApi']);
    // the factory built its schema with the host's zod
    expect(op.params).toBeInstanceOf(z.ZodObject);
  });

  it("gives factories the library floors through the API's floors, loaded on first call", async () => {
    const api = (await import('../index.js')) as FocalApi;
    expect('gaussianBlur2d' in api).toBe(false);
    const imaging = await api.floors.imaging();
    expect(imaging).toBe(await import('../imaging.js'));
    const blurred = imaging.gaussianBlur2d(new Float32Array([0, 0, 0, 0, 9, 0, 0, 0, 0]), 3, 3, 1, 1);
    expect(blurred[4]).toBeGreaterThan(0);
    expect(blurred[4]).toBeLessThan(9);
    expect(typeof (await api.floors.ml()).train).toBe('function');
    expect(typeof (await api.floors.specimens()).renderSpecimen).toBe('function');
    expect(typeof (await api.floors.spectral()).nextFastSize).toBe('function');
  });

  it('accepts a plugin object as default export (a plugin that brings its own zod)', async () => {
    const registry = new PluginRegistry();
    mkdirSync(join(root, 'node_modules'), { recursive: true });
    symlinkSync(join(process.cwd(), 'node_modules', 'zod'), join(root, 'node_modules', 'zod'), 'dir');
    registerScale(
      registry,
      `import { z } from 'zod';
export default {
  id: 'scale', version: '2.0.0', description: 'object form',
  operations: [{ id: 'scale.mul', title: 'Multiply', description: '', inputs: { stack: { type: 'stack' } }, outputs: { stack: { type: 'stack' } },
    params: z.strictObject({ factor: z.number().positive().default(2), label: z.string().optional() }),
    run: (ctx, { stack }, { factor }) => ({ factor }) }],
};`,
    );
    const op = await registry.get('scale.mul')!.load();
    expect(op.params.parse({})).toEqual({ factor: 2 });
    expect(await op.run(ctx, { stack: stack([1]) }, { factor: 4 })).toEqual({ factor: 4 });
  });

  it('lists a plugin whose entry throws on import, and fails only when it is loaded (E_PLUGIN)', async () => {
    const registry = new PluginRegistry();
    const marker = join(root, 'ran.txt');
    const dir = registerScale(
      registry,
      `import { appendFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(marker)}, 'ran\\n');
throw new Error('native addon missing');
${SCALE_FACTORY}`,
      scaleManifest(),
      'focal-plugin-broken',
    );
    expect(registry.plugins().map((p) => p.id)).toEqual(['scale']);
    expect(registry.get('scale.mul')!.paramsSchema().parse({ factor: 5 })).toEqual({ factor: 5 });
    expect(existsSync(marker)).toBe(false);

    const err = (await registry.get('scale.mul')!.load().catch((e: unknown) => e)) as FocalError;
    expect(err).toBeInstanceOf(FocalError);
    expect(err.code).toBe('E_PLUGIN');
    expect(err.message).toContain('focal-plugin-broken');
    expect(err.message).toContain(join(dir, 'index.js'));
    expect(err.message).toContain('native addon missing');
    expect(err.details).toMatchObject({ package: 'focal-plugin-broken', file: join(dir, 'index.js') });
    expect((err.cause as Error).message).toBe('native addon missing');
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
    // the failure is remembered; the listing and the manifest schema still work
    await expect(registry.loadPlugin('scale')).rejects.toMatchObject({ code: 'E_PLUGIN' });
    expect(registry.plugin('scale')!.loaded).toBe(false);
    expect(registry.get('scale.mul')!.paramsSchema().parse({})).toEqual({ factor: 2 });
  });

  it('reports a factory that throws, a missing default export and a non-plugin export as E_PLUGIN', async () => {
    const cases: [string, RegExp][] = [
      [`export default () => { throw new Error('boom'); };`, /the plugin factory exported by .*index\.js threw: boom/],
      [`export const plugin = {};`, /has no default export/],
      [`export default 42;`, /the default export is not a plugin/],
      [`export default (focal) => ({ id: 'scale', version: '1', description: '', operations: [{ id: 'scale.mul' }] });`, /operation 'scale.mul' has no run function/],
    ];
    for (const [i, [source, message]] of cases.entries()) {
      const registry = new PluginRegistry();
      registerScale(registry, source, scaleManifest(), `focal-plugin-bad${i}`);
      await expect(registry.get('scale.mul')!.load()).rejects.toMatchObject({ code: 'E_PLUGIN', message: expect.stringMatching(message) });
    }
  });

  it('rejects code that does not match its manifest (E_MANIFEST naming the package and the op)', async () => {
    const cases: [Partial<PluginManifest>, RegExp, string | undefined][] = [
      [{ id: 'scaler', operations: scaleManifest().operations.map((o) => ({ ...o, id: 'scaler.mul' })) }, /the code's plugin id is 'scale' but the manifest says 'scaler'/, undefined],
      [{ operations: [...scaleManifest().operations, { ...scaleManifest().operations[0], id: 'scale.div' }] }, /operation 'scale.div': the manifest lists operation\(s\) the code does not define: scale.div/, 'scale.div'],
      [{ operations: [{ ...scaleManifest().operations[0], inputs: { image: { type: 'image' } } }] }, /operation 'scale.mul': inputs differ: port 'image' is in the manifest but not in the code/, 'scale.mul'],
      [{ operations: [{ ...scaleManifest().operations[0], outputs: { stack: { type: 'table' } } }] }, /operation 'scale.mul': outputs differ: port 'stack' is table in the manifest but stack in the code/, 'scale.mul'],
      [{ operations: [{ ...scaleManifest().operations[0], outputs: { stack: { type: 'stack', optional: true } } }] }, /port 'stack' is optional in the manifest but required in the code/, 'scale.mul'],
      [{ operations: [{ ...scaleManifest().operations[0], params: { type: 'object', properties: { factor: { type: 'number' } } } }] }, /params differ: the manifest has \[factor\], the code has \[factor, label\]/, 'scale.mul'],
    ];
    for (const [i, [overrides, message, op]] of cases.entries()) {
      const registry = new PluginRegistry();
      const name = `focal-plugin-mismatch${i}`;
      registerScale(registry, SCALE_FACTORY, scaleManifest(overrides), name);
      const opId = registry.ids()[0];
      const err = (await registry.get(opId)!.load().catch((e: unknown) => e)) as FocalError;
      expect(err.code).toBe('E_MANIFEST');
      expect(err.message).toMatch(message);
      expect(err.message).toContain(`package ${name}`);
      expect(err.message).toContain('regenerate it with manifestForPackage');
      if (op) expect(err.details.op).toBe(op);
    }
  });

  it('rejects an invalid manifest and an op id clash with a built-in', () => {
    const registry = new PluginRegistry();
    registry.registerPlugin(builtin);
    expect(() => registry.registerManifest(scaleManifest({ id: 'Scale' }), { packageDir: root, entry: 'index.js', source: 'config' })).toThrow(
      expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/^plugin manifest of .* is invalid: id: plugin ids are lower-case/) }),
    );
    expect(() =>
      registry.registerManifest({ ...manifestFromPlugin(builtin), id: 'blur' }, { packageDir: root, entry: 'index.js', source: 'config', packageName: 'focal-plugin-blur' }),
    ).toThrow(`plugin id 'blur' from focal.config.json plugin focal-plugin-blur (${root}) is already registered by built-in plugin 'blur'`);
  });

  it('reports a params JSON Schema that zod cannot use when the schema is first needed', () => {
    const registry = new PluginRegistry();
    registerScale(registry, SCALE_FACTORY, scaleManifest({ operations: [{ ...scaleManifest().operations[0], params: { type: 'object', properties: { factor: { $ref: '#/$defs/nope' } } } }] }));
    expect(() => registry.get('scale.mul')!.paramsSchema()).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/operation 'scale.mul': params is not a usable JSON Schema/) }));
  });

  it('loadPlugin of an unknown id is E_OP_NOT_FOUND', async () => {
    await expect(new PluginRegistry().loadPlugin('nope')).rejects.toMatchObject({ code: 'E_OP_NOT_FOUND' });
  });
});

describe('manifestForPackage and importPluginEntry', () => {
  it('generates the package.json focal field from code; it registers and loads cleanly', async () => {
    const dir = writePackage(join(root, 'gen'), { 'index.js': SCALE_FACTORY });
    const def = await importPluginEntry(join(dir, 'index.js'), { packageName: 'gen' });
    const focal = manifestForPackage(def, 'index.js', { engine: '^0.1.0' });
    expect(focal).not.toHaveProperty('version');
    expect(focal).toMatchObject({ id: 'scale', engine: '^0.1.0', entry: 'index.js', description: 'multiplies pixel values' });
    expect(focal.operations[0].params).toMatchObject({ type: 'object', properties: { factor: { type: 'number', exclusiveMinimum: 0, default: 2 } }, additionalProperties: false });
    // JSON round trip, as it would be stored in package.json
    const stored = JSON.parse(JSON.stringify(focal)) as Omit<PluginManifest, 'version'>;
    const registry = new PluginRegistry();
    registry.registerManifest({ ...stored, version: '2.0.0' }, { packageDir: dir, entry: stored.entry!, source: 'path' });
    expect(registry.get('scale.mul')!.paramsSchema().parse({})).toEqual({ factor: 2 });
    await expect(registry.loadPlugin('scale')).resolves.toMatchObject({ id: 'scale' });
  });

  it('importPluginEntry names the file when it cannot be imported', async () => {
    const missing = join(root, 'missing.js');
    await expect(importPluginEntry(missing, { packageName: 'pkg' })).rejects.toMatchObject({ code: 'E_PLUGIN', details: { package: 'pkg', file: missing } });
  });
});

describe('PluginRegistry.discover', () => {
  it('registers what discovery finds and turns duplicates into problems', async () => {
    const manifest = JSON.parse(JSON.stringify(scaleManifest())) as Record<string, unknown>;
    delete manifest.version;
    for (const name of ['focal-plugin-scale', 'focal-plugin-scale-copy']) {
      writePackage(join(root, 'node_modules', name), {
        'index.js': SCALE_FACTORY,
        'package.json': JSON.stringify({ name, version: '2.0.0', type: 'module', focal: manifest }),
      });
    }
    const registry = new PluginRegistry();
    registry.registerPlugin(builtin);
    const { registered, problems } = await registry.discover({ cwd: root, focalVersion: '0.1.0' });
    expect(registered.map((p) => [p.id, p.location?.packageName])).toEqual([['scale', 'focal-plugin-scale']]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ source: 'package', package: 'focal-plugin-scale-copy', field: 'focal.id' });
    expect(problems[0].message).toMatch(/plugin id 'scale' from package focal-plugin-scale-copy .* is already registered by package focal-plugin-scale/);
    expect(registry.plugins().map((p) => p.id)).toEqual(['blur', 'scale']);
    expect(registry.ids()).toEqual(['blur.box', 'scale.mul']);
  });
});

describe('reader contributions', () => {
  const plane = (v: number) => createStack({ width: 1, height: 1, dtype: 'uint8', planes: [Uint8Array.of(v)] });
  const formats = definePlugin({
    id: 'formats',
    version: '1.0.0',
    description: 'readers only',
    operations: [],
    readers: [
      { id: 'raw', description: 'one byte', extensions: ['.raw', '.r8'], open: async () => plane(7) },
      { id: 'acq', description: 'acquisition folder', folder: { contains: ['acq.index', 'frame_*.bin'] }, open: async () => plane(9) },
    ],
  });

  it('chooses a reader by extension (any case) or by a folder\'s entries, loading only the chosen plugin', async () => {
    let loads = 0;
    const registry = new PluginRegistry();
    registry.registerLazyPlugin(manifestFromPlugin(formats), async () => (loads++, formats));
    expect(registry.plugin('formats')!.contributions.readers.map((r) => r.id)).toEqual(['raw', 'acq']);
    writeFileSync(join(root, 'a.RAW'), 'x');
    writeFileSync(join(root, 'a.tif'), 'x');
    mkdirSync(join(root, 'run1'));
    writeFileSync(join(root, 'run1', 'acq.index'), '');
    writeFileSync(join(root, 'run1', 'frame_000.bin'), '');
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'other', 'acq.index'), '');

    expect(await registry.readerFor(join(root, 'a.tif'))).toBeUndefined();
    expect(await registry.readerFor(join(root, 'other'))).toBeUndefined();
    expect(await registry.readerFor(join(root, 'missing.raw'))).toBeUndefined();
    expect(loads).toBe(0);
    const file = (await registry.readerFor(join(root, 'a.RAW')))!;
    expect([file.pluginId, file.reader.id, (await file.reader.open(join(root, 'a.RAW'))).planes[0]![0]]).toEqual(['formats', 'raw', 7]);
    const folder = (await registry.readerFor(join(root, 'run1')))!;
    expect([folder.reader.id, (await folder.reader.open(join(root, 'run1'))).planes[0]![0]]).toEqual(['acq', 9]);
    expect(loads).toBe(1);
  });

  it('refuses a reader with neither extensions nor folder, bad extensions, duplicate ids and paths outside the package, naming the field', () => {
    const bad = (extra: Record<string, unknown>) => {
      const registry = new PluginRegistry();
      try {
        registry.registerLazyPlugin({ ...manifestFromPlugin(builtin), ...extra } as PluginManifest, async () => builtin);
      } catch (err) {
        return (err as FocalError).message;
      }
      return 'accepted';
    };
    expect(bad({ readers: [{ id: 'x', description: '' }] })).toMatch(/readers\.0\.extensions: a reader needs "extensions", "folder" or both/);
    expect(bad({ readers: [{ id: 'x', description: '', extensions: ['PGM'] }] })).toMatch(/readers\.0\.extensions\.0: extensions are lower-case and start with a dot/);
    expect(bad({ pipelines: [{ id: 'p', description: '', path: 'a.json' }, { id: 'p', description: '', path: 'b.json' }] })).toMatch(/pipelines\.1\.id: pipelines id 'p' appears twice/);
    expect(bad({ models: [{ id: 'm', description: '', path: '../elsewhere' }] })).toMatch(/models\.0\.path: paths are relative to the plugin package folder/);
    expect(bad({ sampleData: [{ id: 's', description: '', path: '/abs/s.tif' }] })).toMatch(/sampleData\.0\.path/);
  });

  it('rejects code whose readers differ from the manifest, and a reader without open', async () => {
    const registry = new PluginRegistry();
    registry.registerLazyPlugin({ ...manifestFromPlugin(formats), readers: [{ id: 'raw', description: '', extensions: ['.raw'] }] }, async () => formats);
    await expect(registry.loadPlugin('formats')).rejects.toThrow(/readers differ: the manifest has \[raw \(\.raw\)\], the code has \[acq \(acq\.index frame_\*\.bin\), raw \(\.raw \.r8\)\]/);
    const noOpen = { ...formats, readers: [{ id: 'raw', description: '', extensions: ['.raw'] }] } as unknown as typeof formats;
    expect(() => new PluginRegistry().registerPlugin(noOpen)).toThrow(/reader 'raw' has no open\(path\) function/);
  });
});
