/**
 * The example third-party plugin (examples/focal-plugin-invert), installed into a
 * temporary project's node_modules as `npm install` would, discovered, loaded and run.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, createStack, manifestForPackage, readTiff, type OpContext, type Stack } from '../core/index.js';
import { focal, tempDir } from './helpers.js';

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

  it('contributes a PGM reader: listed from its manifest, its code imported only to read, used by focal run and focal info', async () => {
    const registry = await discovered();
    expect(registry.plugin('invert')!.contributions.readers).toEqual([{ id: 'pgm', description: expect.any(String), extensions: ['.pgm'] }]);

    // a 3×2 16-bit PGM with a comment in its header, and an 8-bit one
    const pixels = [0, 1, 300, 65535, 4096, 7];
    const body = Buffer.alloc(12);
    pixels.forEach((v, i) => body.writeUInt16BE(v, 2 * i));
    const pgm = join(project, 'tiny.pgm');
    writeFileSync(pgm, Buffer.concat([Buffer.from('P5\n# made by a test\n3 2\n65535\n', 'latin1'), body]));
    writeFileSync(join(project, 'small.PGM'), Buffer.concat([Buffer.from('P5 2 1 255\n', 'latin1'), Buffer.from([9, 250])]));
    expect(await registry.readerFor(join(project, 'other.tif'))).toBeUndefined();
    expect(registry.plugin('invert')!.loaded).toBe(false);
    const { pluginId, reader } = (await registry.readerFor(pgm))!;
    expect([pluginId, reader.id]).toEqual(['invert', 'pgm']);
    const stack = await reader.open(pgm);
    expect([stack.width, stack.height, stack.dtype, stack.sizeZ]).toEqual([3, 2, 'uint16', 1]);
    expect([...stack.planes[0]!]).toEqual(pixels);
    const small = await (await registry.readerFor(join(project, 'small.PGM')))!.reader.open(join(project, 'small.PGM'));
    expect([small.dtype, ...small.planes[0]!]).toEqual(['uint8', 9, 250]);
    writeFileSync(join(project, 'ascii.pgm'), 'P2 3 2 255\n1 2 3 4 5 6\n');
    await expect(reader.open(join(project, 'ascii.pgm'))).rejects.toThrow(/ascii\.pgm: not a binary PGM file/);
    writeFileSync(join(project, 'short.pgm'), 'P5 3 2 255\n123');
    await expect(reader.open(join(project, 'short.pgm'))).rejects.toThrow(/short\.pgm: a 3×2 PGM needs 6 bytes of pixels, the file has 3/);

    // the whole third-party path: the folder trusted, the package found in node_modules, the .pgm input read by its reader
    const home = tempDir('focal-home-');
    mkdirSync(join(home, 'focal'), { recursive: true });
    const env = { XDG_CONFIG_HOME: home, HOME: home };
    expect(focal(['trust', project], { env }).code).toBe(0);
    writeFileSync(join(project, 'invert.json'), JSON.stringify({
      name: 'invert-pgm',
      inputs: { stack: { type: 'stack' } },
      nodes: { inv: { op: 'invert.apply', in: { stack: 'stack' } } },
      outputs: { inverted: 'inv.stack' },
    }));
    const r = focal(['run', 'invert.json', '--input', 'tiny.pgm', '--out', 'out', '--quiet'], { cwd: project, env });
    expect(r.code, r.stderr).toBe(0);
    const out = await readTiff(join(project, 'out', 'inverted.tif'));
    expect([...out.planes[0]!]).toEqual(pixels.map((v) => 65535 - v));
    const bad = focal(['run', 'invert.json', '--input', 'ascii.pgm', '--out', 'out-bad', '--quiet'], { cwd: project, env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ascii\.pgm: not a binary PGM file/);

    const info = focal(['info', 'tiny.pgm', '--json'], { cwd: project, env });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ reader: 'invert.pgm', width: 3, height: 2, sizeC: 1, sizeZ: 1, sizeT: 1, dtype: 'uint16' });
    const text = focal(['info', 'tiny.pgm'], { cwd: project, env });
    expect(text.stdout).toMatch(/reader:\s+invert\.pgm/);
    expect(text.stdout).toMatch(/3 × 2 px, c=1 z=1 t=1/);
  }, 120_000);
});
