/**
 * Core's one table reader: CSV (RFC 4180, header row) and JSON tables from files, as the
 * pipeline runner reads table inputs and as tools read the tables Focal writes.
 */
import { readFile } from 'node:fs/promises';
import { createTable, tableFromJson, type Cell, type Table } from '../data/table.js';
import type { JsonValue } from '../data/model.js';
import { FocalError } from '../errors.js';

/** A UTF-8 text file; `E_IO` naming the file when it cannot be read. */
export async function readTextFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FocalError('E_IO', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`, { file }, { cause: err });
  }
}

/** A JSON file; `E_IO` when unreadable, `E_FORMAT` naming the file when it is not JSON. */
export async function readJsonFile(file: string): Promise<JsonValue> {
  const text = await readTextFile(file);
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new FocalError('E_FORMAT', `${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
}

/**
 * A table from a CSV file with a header row, or a JSON file in the table's JSON form
 * (`{columns, rows}`, TableJsonSchema: what Focal writes) or a bare array of row objects.
 * @throws FocalError `E_IO` when the file cannot be read, `E_FORMAT` naming the file and field.
 */
export async function readTableFile(file: string): Promise<Table> {
  if (file.toLowerCase().endsWith('.json')) return tableFromJson(await readJsonFile(file), file);
  return parseCsv(await readTextFile(file), file);
}

/** RFC 4180 CSV with a header row; numeric-looking cells become numbers, empty cells null. */
export function parseCsv(text: string, file = '<csv>'): Table {
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
  if (quoted) throw new FocalError('E_FORMAT', `${file}: unterminated quoted field`, { file });
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  if (records.length === 0) throw new FocalError('E_FORMAT', `${file} is empty: a table needs a header row`, { file });
  const [header, ...body] = records;
  const rows = body
    .filter((r) => !(r.length === 1 && r[0] === ''))
    .map((r, i) => {
      if (r.length !== header.length) throw new FocalError('E_FORMAT', `${file}: row ${i + 2} has ${r.length} fields, the header has ${header.length}`, { file });
      return Object.fromEntries(header.map((h, j) => [h, csvValue(r[j])]));
    });
  return createTable(header, rows);
}

function csvValue(s: string): Cell {
  if (s === '') return null;
  const n = Number(s);
  return s.trim() !== '' && Number.isFinite(n) ? n : s;
}
