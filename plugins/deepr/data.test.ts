import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack, isFocalError, writeTiff, type FocalError, SeededRandom } from '../../core/index.js';
import { readAutofocusDataset, readDatasetFov, splitByFov, syntheticPair } from './data.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

/** One FOV folder in the docs/autofocus-dataset.md format: 3 pairs, 2 targets, 8-px patches. */
async function writeFov(dir: string, offset: number, csvOnly = false): Promise<void> {
  await mkdir(dir, { recursive: true });
  const P = 8;
  const plane = (v: number) => Uint16Array.from({ length: P * P }, (_, i) => v + i);
  await writeTiff(join(dir, 'inputs.tif'), createStack({ width: P, height: P, dtype: 'uint16', sizeT: 3, planes: [plane(offset), plane(offset + 100), plane(offset + 200)] }));
  await writeTiff(join(dir, 'targets.tif'), createStack({ width: P, height: P, dtype: 'uint16', sizeT: 2, planes: [plane(offset + 1000), plane(offset + 2000)] }));
  const rows = [
    { pair: 0, target: 0, patch: 0, x: 0, y: 0, patchPx: P, sourceZ: 0, focusZ: 2, defocusUm: -2, ssimToFused: 0.5, focusSsimToFused: 0.9, channel: 0 },
    { pair: 1, target: 0, patch: 0, x: 0, y: 0, patchPx: P, sourceZ: 1, focusZ: 2, defocusUm: -1, ssimToFused: 0.6, focusSsimToFused: 0.9, channel: 0 },
    { pair: 2, target: 1, patch: 1, x: P, y: 0, patchPx: P, sourceZ: 3, focusZ: 2, defocusUm: 1, ssimToFused: 0.7, focusSsimToFused: 0.8, channel: 0 },
  ];
  const columns = Object.keys(rows[0]);
  await writeFile(join(dir, 'pairs.csv'), `${columns.join(',')}\n${rows.map((r) => columns.map((c) => (r as Record<string, number>)[c]).join(',')).join('\n')}\n`);
  if (!csvOnly) await writeFile(join(dir, 'pairs.json'), JSON.stringify({ columns, rows }));
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({
    format: 'focal-autofocus-pairs', version: 1, files: { inputs: 'inputs.tif', targets: 'targets.tif', pairs: 'pairs.csv' },
    pairs: 3, targets: 2, patches: 2, droppedPatches: [], patchPx: P, dtype: 'uint16', channel: 0,
    pixelSizeUm: 0.32499999999999996, zStepUm: 1, defocusRangeUm: [-2, 1], focusSelection: 'patch',
  }));
}

describe('autofocus dataset reader', () => {
  it('reads FOV folders (pairs.json or pairs.csv), pairs planes by index and splits by FOV', async () => {
    const root = await mkdtemp(join(tmpdir(), 'deepr-data-'));
    dirs.push(root);
    await writeFov(join(root, 'fov-0001'), 0);
    await writeFov(join(root, 'fov-0002'), 10, true);
    const fovs = await readAutofocusDataset(root);
    expect(fovs.map((f) => f.pairs.length)).toEqual([3, 3]);
    const p = fovs[1].pairs[2];
    expect(p.sizePx).toBe(8);
    expect(p.defocusUm).toBe(1);
    expect(p.input[0]).toBe(210);
    expect(p.target[5]).toBe(2015);
    expect(fovs[0].pixelSizeUm).toBeCloseTo(0.325, 9);
    const split = splitByFov(fovs);
    expect(split.train).toHaveLength(3);
    expect(split.validation).toHaveLength(3);
    expect(split.validation[0].input[0]).toBe(10);
    expect((await readAutofocusDataset(root, { maxDefocusUm: 1 }))[0].pairs.map((q) => q.defocusUm)).toEqual([-1, 1]);
  });

  it('names the file and field of a bad dataset', async () => {
    const root = await mkdtemp(join(tmpdir(), 'deepr-bad-'));
    dirs.push(root);
    await writeFov(join(root, 'a'), 0);
    await writeFile(join(root, 'a', 'manifest.json'), JSON.stringify({ format: 'focal-autofocus-pairs', version: 2, patchPx: 8 }));
    const err = await readAutofocusDataset(root).catch((e: unknown) => e);
    expect(isFocalError(err) && err.details.field).toBe('version');
    expect((err as Error).message).toMatch(/manifest\.json: version 2 is not supported/);
    // the rest of the manifest through the format's one schema (core's AutofocusDatasetManifestSchema, the writer's too)
    await writeFile(join(root, 'a', 'manifest.json'), JSON.stringify({ format: 'focal-autofocus-pairs', version: 1, patchPx: 8, zStepUm: -1 }));
    const step = await readAutofocusDataset(root).catch((e: unknown) => e);
    expect(isFocalError(step) && step.details.field).toBe('zStepUm');
    expect((step as Error).message).toMatch(/manifest\.json: zStepUm is -1/);
    const none = await readAutofocusDataset(join(root, 'missing')).catch((e: unknown) => e);
    expect(isFocalError(none) && none.details.field).toBe('dataset');
  });

  it('reads pairs.json with core\'s table reader: a bare row array too; bad tables and rows name the file and field', async () => {
    const root = await mkdtemp(join(tmpdir(), 'deepr-rows-'));
    dirs.push(root);
    const fov = join(root, 'fov');
    await writeFov(fov, 0);
    const json = join(fov, 'pairs.json');
    const table = JSON.parse(await readFile(json, 'utf8')) as { columns: string[]; rows: Record<string, unknown>[] };
    await writeFile(json, JSON.stringify(table.rows));
    expect((await readDatasetFov(fov)).pairs.map((p) => p.defocusUm)).toEqual([-2, -1, 1]);
    const failure = async (content: unknown) => {
      await writeFile(json, JSON.stringify(content));
      const err = await readDatasetFov(fov).catch((e: unknown) => e);
      expect(isFocalError(err), String(err)).toBe(true);
      expect((err as FocalError).details.file).toBe(json);
      expect((err as Error).message).toContain(json);
      return err as FocalError;
    };
    expect((await failure({ columns: table.columns })).details.field).toBe('/rows');
    const noTarget = await failure({ columns: ['pair', 'defocusUm'], rows: [{ pair: 0, defocusUm: 1 }] });
    expect([noTarget.details.field, noTarget.message]).toEqual(['columns', expect.stringMatching(/has no column 'target'/)]);
    const text = await failure({ columns: table.columns, rows: [table.rows[0], { ...table.rows[1], defocusUm: 'far' }] });
    expect([text.details.field, text.message]).toEqual(['/rows/1/defocusUm', expect.stringMatching(/row 1: column defocusUm is "far", expected a number/)]);
    const outside = await failure({ columns: table.columns, rows: [{ ...table.rows[0], pair: 3 }] });
    expect([outside.details.field, outside.message]).toEqual(['/rows/0/pair', expect.stringMatching(/pair 3 is outside inputs\.tif \(3 planes\)/)]);
  });
});

describe('syntheticPair', () => {
  it('makes a defocused input and an in-focus target of the same crop, deterministic per RNG state', () => {
    const W = 96;
    const src = new Float32Array(W * W);
    for (let i = 0; i < 40; i++) src[((i * 37) % 80 + 8) * W + ((i * 53) % 80) + 8] = 100; // point sources
    const a = syntheticPair([{ data: src, width: W, height: W }], 32, new SeededRandom(3), {}, 4);
    const b = syntheticPair([{ data: src, width: W, height: W }], 32, new SeededRandom(3), {}, 4);
    expect(a.sizePx).toBe(32);
    expect(a.defocusUm).toBe(4);
    expect([...a.input]).toEqual([...b.input]);
    // defocus spreads the points: the input's peak is far lower than the target's
    const max = (x: Float32Array) => x.reduce((m, v) => Math.max(m, v), -Infinity);
    expect(max(a.target)).toBeGreaterThan(3 * max(a.input));
    const r = syntheticPair([{ data: src, width: W, height: W }], 32, new SeededRandom(9));
    expect(r.defocusUm).toBeGreaterThanOrEqual(-5);
    expect(r.defocusUm).toBeLessThanOrEqual(5);
    expect(() => syntheticPair([{ data: src, width: W, height: W }], 128, new SeededRandom(1))).toThrow(/smaller than the 128-px patch/);
  });
});
