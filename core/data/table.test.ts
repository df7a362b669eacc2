import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { readTableFile } from '../io/table-file.js';
import { createTable, tableFromJson, TableJsonSchema, tableToJson } from './table.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('table JSON form', () => {
  const table = createTable(['id', 'area', 'ok', 'note'], [{ id: 1, area: 2.5, ok: true, note: 'a' }, { id: 2, area: -Infinity, ok: false, note: null }]);

  it('tableToJson writes {columns, rows} (TableJsonSchema) and tableFromJson reads it back', () => {
    const json = tableToJson(table);
    expect(json).toEqual({ columns: ['id', 'area', 'ok', 'note'], rows: [{ id: 1, area: 2.5, ok: true, note: 'a' }, { id: 2, area: null, ok: false, note: null }] });
    expect(TableJsonSchema.parse(JSON.parse(JSON.stringify(json)))).toEqual(json);
    const back = tableFromJson(JSON.parse(JSON.stringify(json)), 't.json');
    expect(back.kind).toBe('table');
    expect(back.columns).toEqual(table.columns);
    expect(back.rows[1]).toEqual({ id: 2, area: null, ok: false, note: null });
  });

  it('keeps the declared column order, also for columns no row fills; a row may leave out a column', () => {
    const t = tableFromJson({ columns: ['b', 'a', 'empty'], rows: [{ a: 1 }, { b: 'x', a: 2 }] });
    expect(t.columns).toEqual(['b', 'a', 'empty']);
    expect(t.rows).toEqual([{ b: null, a: 1, empty: null }, { b: 'x', a: 2, empty: null }]);
  });

  it('still reads a bare array of row objects (columns in order of appearance)', () => {
    const t = tableFromJson([{ a: 1 }, { a: 2, b: 'x' }]);
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.rows).toEqual([{ a: 1, b: null }, { a: 2, b: 'x' }]);
  });

  it('names the file and the field (JSON pointer) of a bad table', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ columns: ['a'] }, '/rows', /t\.json: \/rows: /],
      [{ columns: ['a'], rows: [{ a: 1 }, { a: 1, z: 2 }] }, '/rows/1/z', /column 'z' is not in columns/],
      [{ columns: ['a', 'a'], rows: [] }, '/columns', /unique/],
      [{ columns: ['a'], rows: [{ a: { nested: 1 } }] }, '/rows/0/a', /t\.json: \/rows\/0\/a/],
      [[{ a: 1 }, 7], '/1', /t\.json: \/1: /],
      ['text', '/', /expected an object with columns and rows/],
    ];
    for (const [value, field, message] of cases) {
      let err: unknown;
      try {
        tableFromJson(value, 't.json');
      } catch (e) {
        err = e;
      }
      expect(isFocalError(err) && err.code, JSON.stringify(value)).toBe('E_FORMAT');
      expect(isFocalError(err) && err.details, JSON.stringify(value)).toEqual({ file: 't.json', field });
      expect((err as Error).message, JSON.stringify(value)).toMatch(message);
    }
  });
});

describe('readTableFile', () => {
  it('reads {columns, rows} JSON, legacy row arrays and CSV to the same table; errors name the file and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'focal-table-'));
    dirs.push(dir);
    const rows = [{ x: 1, name: 'a' }, { x: 2.5, name: 'b' }];
    await writeFile(join(dir, 'new.json'), JSON.stringify({ columns: ['x', 'name'], rows }));
    await writeFile(join(dir, 'old.json'), JSON.stringify(rows));
    await writeFile(join(dir, 't.csv'), 'x,name\n1,a\n2.5,b\n');
    for (const f of ['new.json', 'old.json', 't.csv']) {
      const t = await readTableFile(join(dir, f));
      expect([t.columns, t.rows], f).toEqual([['x', 'name'], rows]);
    }
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ columns: ['x'], rows: [{ x: [1] }] }));
    const err = await readTableFile(join(dir, 'bad.json')).catch((e: unknown) => e);
    expect(isFocalError(err) && err.details).toEqual({ file: join(dir, 'bad.json'), field: '/rows/0/x' });
    expect((err as Error).message).toContain(join(dir, 'bad.json'));
  });
});
