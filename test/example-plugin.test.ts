/**
 * The example third-party plugin (examples/focal-plugin-invert), installed into a
 * temporary project's node_modules as `npm install` would, discovered, loaded and run.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, createStack, manifestForPackage, type OpContext, type Stack } from '../core/index.js';

const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples', 'focal-plugin-invert');
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'focal-example-'));
  mkdirSync(join(project, 'node_modules'));
  cpSync(exampleDir, join(project, 'node_modules', 'focal-plugin-invert'), { recursive: true });
});
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

function context(progress: number[] = []): OpContext {
  return {
    log: { debug() {}, info() {}, warn() {}, error() {} },
    progress: (f) => void progress.push(f),
    signal: new AbortController().signal,
    services: { resolve: () => { throw new Error('no services'); } },
  };
}

async function discovered(): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  const { registered, problems } = await registry.discover({ cwd: project });
  expect(problems).toEqual([]);
  expect(registered.map((p) => p.id)).toEqual(['invert']);
  return registry;
}

describe('examples/focal-plugin-invert', () => {
  it('is discovered from node_modules and listed before its code is loaded', async () => {
    const registry = await discovered();
    const [info] = registry.plugins();
    expect(info).toMatchObject({ id: 'invert', version: '0.1.0', engine: '^0.1.0', source: 'package', loaded: false, location: { packageName: 'focal-plugin-invert' } });
    expect(registry.ids()).toEqual(['invert.apply']);
    const schema = registry.get('invert.apply')!.paramsSchema();
    expect(schema.parse({ maxValue: 100 })).toEqual({ maxValue: 100 });
    expect(schema.safeParse({ maxValue: 'high' }).success).toBe(false);
    expect(schema.safeParse({ max: 1 }).success).toBe(false);
    expect(registry.plugin('invert')!.loaded).toBe(false);
  });

  it('inverts uint8 with 255, uint16 with 65535 and float32 with the data maximum', async () => {
    const registry = await discovered();
    const op = await registry.get('invert.apply')!.load();
    const run = async (stack: Stack, params: Record<string, unknown> = {}) => ((await op.run(context(), { stack }, op.params.parse(params))) as { stack: Stack }).stack;

    const u8 = createStack({ width: 3, height: 1, dtype: 'uint8', sizeZ: 2, planes: [Uint8Array.of(0, 10, 255), Uint8Array.of(100, 200, 1)], channelNames: ['DAPI'], calibration: { pixelWidthUm: 0.2 } });
    const out8 = await run(u8);
    expect(out8.dtype).toBe('uint8');
    expect(out8.planes.map((p) => [...p])).toEqual([[255, 245, 0], [155, 55, 254]]);
    expect(out8.channelNames).toEqual(['DAPI']);
    expect(out8.calibration).toEqual({ pixelWidthUm: 0.2 });
    expect([...u8.planes[0]]).toEqual([0, 10, 255]); // input untouched

    const u16 = createStack({ width: 2, height: 1, dtype: 'uint16', planes: [Uint16Array.of(0, 65000)] });
    expect([...(await run(u16)).planes[0]]).toEqual([65535, 535]);
    // explicit maxValue; results below 0 clamp to 0
    expect([...(await run(u16, { maxValue: 1000 })).planes[0]]).toEqual([1000, 0]);

    const f32 = createStack({ width: 3, height: 1, dtype: 'float32', sizeT: 2, planes: [Float32Array.of(0.5, 2, -1), Float32Array.of(4, 0, 1.25)] });
    const outF = await run(f32);
    expect(outF.planes.map((p) => [...p])).toEqual([[3.5, 2, 5], [0, 4, 2.75]]);
  });

  it('reports progress per plane', async () => {
    const registry = await discovered();
    const op = await registry.get('invert.apply')!.load();
    const progress: number[] = [];
    const stack = createStack({ width: 1, height: 1, dtype: 'uint8', sizeZ: 4 });
    await op.run(context(progress), { stack }, {});
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it("package.json's focal field is what manifestForPackage generates from the code", async () => {
    const registry = await discovered();
    const def = await registry.loadPlugin('invert');
    const pkg = JSON.parse(readFileSync(join(exampleDir, 'package.json'), 'utf8')) as { version: string; focal: unknown };
    expect(pkg.focal).toEqual(manifestForPackage(def, 'index.js', { engine: '^0.1.0' }));
    expect(def.version).toBe(pkg.version);
  });
});
