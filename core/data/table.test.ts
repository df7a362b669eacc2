import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { readTableFile } from '../io/table-file.js';
import { createTable, tableCsvPieces, tableFromJson, tableJsonPieces, TableJsonSchema, tableToCsv, tableToJson } from './table.js';

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

describe('table text written piece by piece', () => {
  // what the writer wrote before it wrote in pieces: the whole JSON form, stringified at once
  const wholeJson = (t: ReturnType<typeof createTable>) => JSON.stringify(tableToJson(t), null, 2) + '\n';
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const t = typeof v === 'number' && !Number.isFinite(v) ? (v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN') : String(v);
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  const wholeCsv = (t: ReturnType<typeof createTable>) => [t.columns.map(cell).join(','), ...t.rows.map((r) => t.columns.map((c) => cell(r[c])).join(','))].join('\n') + '\n';

  const cases = {
    'no rows': createTable(['a', 'b']),
    'no columns': createTable([], [{}, {}]),
    'awkward cells': createTable(['id', 'name "x"', 'v', 'ok', 'constructor'], [
      { id: 1, 'name "x"': 'comma, "quote"\nline\r\nbreak', v: NaN, ok: true, constructor: 'c' },
      { id: 2, v: -Infinity, ok: false },
      { id: 3, 'name "x"': 'ünïcode ✓ 𝔸', v: Infinity, ok: null },
      { id: -0, 'name "x"': '', v: 1e-300, ok: true },
    ]),
  };

  for (const [name, table] of Object.entries(cases)) {
    it(`equal the whole text: ${name}`, () => {
      expect([...tableJsonPieces(table)].join('')).toBe(wholeJson(table));
      expect(tableToCsv(table)).toBe(wholeCsv(table));
      expect([...tableCsvPieces(table)].join('')).toBe(wholeCsv(table));
      expect(tableFromJson(JSON.parse([...tableJsonPieces(table)].join('')), 't.json').rows).toHaveLength(table.rows.length);
    });
  }

  it("a row that leaves out a column named like an object's own property has null there, not what every object inherits", () => {
    const t = createTable(['id', 'constructor', 'toString'], [{ id: 1 }]);
    expect(t.rows[0]).toEqual({ id: 1, constructor: null, toString: null });
    expect(tableToCsv(t)).toBe('id,constructor,toString\n1,,\n');
    expect(JSON.parse([...tableJsonPieces(t)].join('')).rows).toEqual([{ id: 1, constructor: null, toString: null }]);
  });

  it('a long table comes in pieces of about 1 MiB that end at a row, and their sum is the whole text', () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => ({ plane: 0, label: i + 1, areaPx: 12 + (i % 7), mean: i / 3, note: i % 5 === 0 ? 'a, b' : null }));
    const table = createTable(['plane', 'label', 'areaPx', 'mean', 'note'], rows);
    const json = [...tableJsonPieces(table)];
    const csv = [...tableCsvPieces(table)];
    expect(json.length).toBeGreaterThan(2);
    expect(csv.length).toBeGreaterThan(1);
    for (const p of json.slice(0, -1)) {
      expect(p.length).toBeGreaterThanOrEqual(1 << 20);
      expect(p.length).toBeLessThan((1 << 20) + 4096);
      expect(p.endsWith('},\n')).toBe(true);
    }
    for (const p of csv.slice(0, -1)) expect(p.endsWith('\n')).toBe(true);
    expect(json.join('')).toBe(wholeJson(table));
    expect(csv.join('')).toBe(wholeCsv(table));
  });
});
