import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTable, type Cell, type Table } from '../data/table.js';
import { isFocalError } from '../errors.js';
import { mulberry32 } from '../numeric/random.js';
import { parseCsv, parseCsvPieces, readTableFile } from './table-file.js';

/** The CSV reader as it was before it read in pieces (one character at a time over the whole text): the oracle. */
function parseCsvWhole(text: string, file = '<csv>'): Table {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error(`${file}: unterminated quoted field`);
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  if (records.length === 0) throw new Error(`${file} is empty: a table needs a header row`);
  const [header, ...body] = records;
  const value = (s: string): Cell => (s === '' ? null : s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
  const rows = body
    .filter((r) => !(r.length === 1 && r[0] === ''))
    .map((r, i) => {
      if (r.length !== header.length) throw new Error(`${file}: row ${i + 2} has ${r.length} fields, the header has ${header.length}`);
      return Object.fromEntries(header.map((h, j) => [h, value(r[j])]));
    });
  return createTable(header, rows);
}

const outcome = (f: () => Table): { table?: Table; error?: string } => {
  try {
    return { table: f() };
  } catch (e) {
    return { error: (e as Error).message };
  }
};

/** A random CSV-like text from the characters that matter to the parser, in runs, with a fixed number of fields most of the time. */
function randomCsv(r: () => number): string {
  const atoms = ['a', 'bc', '12', '-3.5', ' 7', '"', '""', ',', '\n', '\r', '\r\n', '"x,y"', '"p\nq"', '"r""s"', '', 'é', '1e3'];
  const lines: string[] = [];
  const fields = 1 + Math.floor(r() * 4);
  const rowsN = Math.floor(r() * 6);
  for (let k = 0; k <= rowsN; k++) {
    const cells: string[] = [];
    for (let j = 0; j < fields; j++) {
      let cell = '';
      const parts = Math.floor(r() * 3);
      for (let q = 0; q < parts; q++) cell += atoms[Math.floor(r() * (r() < 0.8 ? 5 : atoms.length))];
      cells.push(cell);
    }
    lines.push(cells.join(','));
  }
  return lines.join(r() < 0.5 ? '\n' : '\r\n') + (r() < 0.5 ? '\n' : '');
}

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('CSV tables read in pieces', () => {
  it('equal the whole-text reading on 2 000 random texts, split at random places, errors included (the first in reading order)', () => {
    const r = mulberry32(11);
    let errors = 0;
    for (let k = 0; k < 2000; k++) {
      const text = randomCsv(r);
      const want = outcome(() => parseCsvWhole(text, 't.csv'));
      if (want.error) errors++;
      // the one difference: text read in order meets a ragged row before it can know a quote at the end is never closed
      const same = (got: { table?: Table; error?: string }, what: string) => {
        if (want.error === 't.csv: unterminated quoted field' && got.error !== want.error) expect(got.error, what).toMatch(/^t\.csv: row \d+ has \d+ fields, the header has \d+$/);
        else expect(got, what).toEqual(want);
      };
      same(outcome(() => parseCsv(text, 't.csv')), JSON.stringify(text));
      // split into pieces at random places, one character pieces included
      const pieces: string[] = [];
      for (let i = 0; i < text.length; ) {
        const n = r() < 0.3 ? 1 : 1 + Math.floor(r() * 6);
        pieces.push(text.slice(i, i + n));
        i += n;
      }
      same(outcome(() => parseCsvPieces(pieces, 't.csv')), JSON.stringify(pieces));
    }
    expect(errors).toBeGreaterThan(50); // the texts reach the errors too (unterminated quotes, ragged rows)
    expect(errors).toBeLessThan(1900);
  });

  it('a quote or a CR at the end of a piece waits for the next', () => {
    const want = parseCsvWhole('a,b\r\n"x""y",2\r\n');
    expect(parseCsvPieces(['a,b\r', '\n"x"', '"y",2\r', '\n'])).toEqual(want);
    expect(want.rows).toEqual([{ a: 'x"y', b: 2 }]);
  });

  it('a column named __proto__ is a cell', () => {
    const t = parseCsv('__proto__,b\n1,2\n');
    expect(Object.keys(t.rows[0])).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(t.rows[0])).toBe(Object.prototype);
  });

  it('readTableFile reads a CSV of many pieces as parseCsv reads its text, and names the file of a ragged row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'focal-csv-'));
    dirs.push(dir);
    const lines = ['label,areaPx,note'];
    for (let i = 1; i <= 100_000; i++) lines.push(`${i},${(i * 7) % 31},${i % 9 === 0 ? '"a, ""b""\nc"' : 'n'}`);
    const text = lines.join('\n') + '\n';
    expect(text.length).toBeGreaterThan(1 << 20); // more than one piece of the reader
    await writeFile(join(dir, 'big.csv'), text);
    const t = await readTableFile(join(dir, 'big.csv'));
    expect(t.rows).toHaveLength(100_000);
    expect(t).toEqual(parseCsvWhole(text));
    await writeFile(join(dir, 'ragged.csv'), 'a,b\n1,2\n3\n');
    const err = await readTableFile(join(dir, 'ragged.csv')).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_FORMAT');
    expect((err as Error).message).toBe(`${join(dir, 'ragged.csv')}: row 3 has 1 fields, the header has 2`);
    const missing = await readTableFile(join(dir, 'none.csv')).catch((e: unknown) => e);
    expect(isFocalError(missing) && missing.code).toBe('E_IO');
    expect((missing as Error).message).toMatch(/none\.csv: no such file/);
  });
});

describe('JSON tables too large to parse', () => {
  it('are refused by name, pointing to the CSV, before any reading', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'focal-json-'));
    dirs.push(dir);
    const file = join(dir, 'objects.json');
    // a sparse file of 600 MiB: its size is all that is looked at
    await writeFile(file, '');
    await truncate(file, 600 * 1048576);
    const err = await readTableFile(file).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_FORMAT');
    expect((err as Error).message).toBe(`${file}: a JSON table of 600 MiB is more than can be read as one JSON text (512 MiB); read the table's CSV (Focal writes both: ${join(dir, 'objects.csv')})`);
  });
});
