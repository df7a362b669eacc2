import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { container } from 'tsyringe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImage } from '../data/image.js';
import { createStack } from '../data/stack.js';
import { createTable, TableJsonSchema } from '../data/table.js';
import { isFocalError } from '../errors.js';
import type { IoService } from '../runtime/services.js';
import { DefaultIoService } from './io-service.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DefaultIoService', () => {
  const io: IoService = container.resolve(DefaultIoService);

  it('is resolvable from a tsyringe container', () => {
    expect(io).toBeInstanceOf(DefaultIoService);
  });

  it('writes and reads stacks; an Image becomes a one-plane stack', async () => {
    const stack = createStack({ width: 4, height: 3, dtype: 'uint16', sizeC: 2, sizeT: 2, calibration: { pixelWidthUm: 0.4, pixelHeightUm: 0.4 } });
    stack.planes.forEach((p, k) => p.fill(100 * k + 1));
    const path = join(dir, 'stack.tif');
    await io.writeStack(path, stack);
    const back = await io.readStack(path);
    expect([back.sizeC, back.sizeZ, back.sizeT]).toEqual([2, 1, 2]);
    expect(back.planes.map((p) => p[0])).toEqual([1, 101, 201, 301]);
    expect(back.calibration.pixelWidthUm).toBeCloseTo(0.4, 12);

    const img = createImage({ width: 2, height: 2, data: new Float32Array([0.5, -1, 2, 3]) });
    await io.writeStack(join(dir, 'image.tif'), img);
    const one = await io.readStack(join(dir, 'image.tif'));
    expect([one.sizeC, one.sizeZ, one.sizeT, one.dtype]).toEqual([1, 1, 1, 'float32']);
    expect(Array.from(one.planes[0])).toEqual([0.5, -1, 2, 3]);
  });

  it('passes warnings and errors of the reader through', async () => {
    const err = await io.readStack(join(dir, 'missing.tif')).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
  });

  it('writes a PNG preview, enlarged (nearest) to a readable size', async () => {
    const path = join(dir, 'preview.png');
    await io.writePreview(path, createImage({ width: 3, height: 1, data: new Uint16Array([0, 500, 1000]) }));
    const png = decode(await readFile(path));
    // 3 × 1 px enlarged by min(32, floor(256 / 3)) = 32, grey shown as equal RGB.
    expect([png.width, png.height, png.channels, png.depth]).toEqual([96, 32, 3, 8]);
    const at = (x: number) => Array.from(png.data.slice(x * 3, x * 3 + 3));
    expect([at(0), at(31), at(32), at(64), at(95)]).toEqual([[0, 0, 0], [0, 0, 0], [128, 128, 128], [255, 255, 255], [255, 255, 255]]);
  });

  it('writes tables as <base>.csv and <base>.json ({columns, rows})', async () => {
    const table = createTable(['label', 'area', 'note'], [
      { label: 1, area: 12.5, note: 'round, "bright"' },
      { label: 2, area: Infinity, note: null },
    ]);
    const base = join(dir, 'objects');
    await io.writeTable(base, table);
    expect(await readFile(`${base}.csv`, 'utf8')).toBe('label,area,note\n1,12.5,"round, ""bright"""\n2,Infinity,\n');
    const json = await readFile(`${base}.json`, 'utf8');
    // the table's JSON form (TableJsonSchema): columns in order, one object per row, ∞ → null
    expect(JSON.parse(json)).toEqual({ columns: ['label', 'area', 'note'], rows: [{ label: 1, area: 12.5, note: 'round, "bright"' }, { label: 2, area: null, note: null }] });
    expect(TableJsonSchema.safeParse(JSON.parse(json)).success).toBe(true);
    expect(json).toContain('\n  "rows": [\n    {\n      "label": 1,');
  });

  it('writes JSON with 2-space indentation', async () => {
    const path = join(dir, 'report.json');
    await io.writeJson(path, { ok: true, values: [1, 2], nested: { name: 'x' } });
    const text = await readFile(path, 'utf8');
    expect(JSON.parse(text)).toEqual({ ok: true, values: [1, 2], nested: { name: 'x' } });
    expect(text).toBe(JSON.stringify({ ok: true, values: [1, 2], nested: { name: 'x' } }, null, 2) + '\n');
  });

  it('fails with E_IO naming the file when the folder does not exist', async () => {
    const path = join(dir, 'nope', 'r.json');
    const err = await io.writeJson(path, 1).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
    expect(isFocalError(err) && err.details.file).toBe(path);
  });
});
