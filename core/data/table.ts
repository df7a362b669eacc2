import { z } from 'zod';
import { FocalError } from '../errors.js';

/** One table cell. */
export const CellSchema = z.union([z.number(), z.string(), z.boolean(), z.null()]);
export type Cell = z.infer<typeof CellSchema>;

/** A table of named columns; each row maps every column name to a cell. */
export interface Table {
  readonly kind: 'table';
  columns: string[];
  rows: Record<string, Cell>[];
}

/**
 * A table of `columns` and `rows`: a row's missing cells become null and its cells are put in
 * column order. A row that already is so is kept as it is, not copied (so do not change a row
 * after making a table of it).
 */
export function createTable(columns: string[], rows: Record<string, Cell>[] = []): Table {
  if (new Set(columns).size !== columns.length) throw new FocalError('E_ARGUMENT', `duplicate column names in [${columns.join(', ')}]`);
  const declared = new Set(columns);
  const kept = rows.map((row, i) => {
    const keys = Object.keys(row);
    for (const key of keys) {
      if (!declared.has(key)) throw new FocalError('E_ARGUMENT', `row ${i} has column '${key}' which the table does not declare`);
    }
    return inColumnOrder(row, keys, columns) ? row : Object.fromEntries(columns.map((c) => [c, cellOf(row, c)]));
  });
  return { kind: 'table', columns: [...columns], rows: kept };
}

/** Whether a row (its own keys `keys`) has every column, in order, and no undefined cell: then the table keeps the row object itself (a table of a slide's particles is not copied). */
function inColumnOrder(row: Record<string, Cell>, keys: readonly string[], columns: readonly string[]): boolean {
  if (keys.length !== columns.length) return false;
  for (let j = 0; j < keys.length; j++) if (keys[j] !== columns[j] || row[keys[j]] === undefined) return false;
  return true;
}

/**
 * A row's cell in column `c`: null when the row leaves it out. What every object inherits
 * (`constructor`, `toString`) is a function or an object, never a cell, so it reads as null too.
 */
function cellOf(row: Record<string, Cell>, c: string): Cell {
  const v: unknown = row[c];
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : null;
}

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'table';
}

function csvCell(v: Cell): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  if (v === null) return '';
  const s = String(v);
  return typeof v === 'string' && /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row. */
export function tableToCsv(table: Table): string {
  return [...tableCsvPieces(table)].join('');
}

/** Text pieces of about this many characters: a table of millions of rows is never one string (V8 caps those at 512 MiB). */
const PIECE_CHARS = 1 << 20;

/** {@link tableToCsv}'s text in pieces of about 1 MiB, each ending at a line's end. */
export function* tableCsvPieces(table: Table): Generator<string> {
  const { columns } = table;
  let piece = columns.map((c) => csvCell(c)).join(',') + '\n';
  for (const row of table.rows) {
    for (let j = 0; j < columns.length; j++) piece += (j > 0 ? ',' : '') + csvCell(cellOf(row, columns[j]));
    piece += '\n';
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = '';
    }
  }
  if (piece.length > 0) yield piece;
}

/**
 * The JSON form of a table, as Focal writes it (`<out>/<name>.json`) and reads it: the column
 * names in order and one object per row. A row may leave out a column (its cell is null) but
 * may not name one the table does not declare.
 */
export const TableJsonSchema = z
  .object({
    columns: z.array(z.string()).refine((c) => new Set(c).size === c.length, { message: 'column names must be unique' }),
    rows: z.array(z.record(z.string(), CellSchema)),
  })
  .superRefine((t, ctx) => {
    t.rows.forEach((row, i) => {
      for (const key of Object.keys(row)) {
        if (!t.columns.includes(key)) ctx.addIssue({ code: 'custom', path: ['rows', i, key], message: `column '${key}' is not in columns` });
      }
    });
  });
export type TableJson = z.infer<typeof TableJsonSchema>;

/** The table's JSON form (TableJsonSchema); non-finite numbers become null. */
export function tableToJson(table: Table): TableJson {
  return { columns: [...table.columns], rows: table.rows.map((row) => jsonRow(table.columns, row)) };
}

/** A row in the JSON form: every column, in order; non-finite numbers null. */
function jsonRow(columns: readonly string[], row: Record<string, Cell>): Record<string, Cell> {
  return Object.fromEntries(columns.map((c) => {
    const v = cellOf(row, c);
    return [c, typeof v === 'number' && !Number.isFinite(v) ? null : v];
  }));
}

/**
 * The text Focal writes as a table's .json file, `JSON.stringify(tableToJson(table), null, 2)`
 * and a newline, in pieces of about 1 MiB made row by row: neither the JSON form nor its text is
 * held whole (an objects table of a slide may have millions of rows).
 */
export function* tableJsonPieces(table: Table): Generator<string> {
  const { columns } = table;
  let piece = `{\n  "columns": ${indentJson(JSON.stringify([...columns], null, 2), '  ')},\n  "rows": `;
  if (table.rows.length === 0) {
    yield piece + '[]\n}\n';
    return;
  }
  piece += '[\n';
  // each row as JSON.stringify(row, null, 2) set 4 spaces deep, made from per-column prefixes
  const keys = columns.map((c, j) => `${j > 0 ? ',\n' : ''}      ${JSON.stringify(c)}: `);
  const last = table.rows.length - 1;
  for (let i = 0; i <= last; i++) {
    const row = table.rows[i];
    if (columns.length === 0) piece += '    {}';
    else {
      piece += '    {\n';
      for (let j = 0; j < columns.length; j++) piece += keys[j] + jsonCell(cellOf(row, columns[j]));
      piece += '\n    }';
    }
    piece += i < last ? ',\n' : '\n';
    if (piece.length >= PIECE_CHARS) {
      yield piece;
      piece = '';
    }
  }
  yield piece + '  ]\n}\n';
}

/** A cell's JSON text in the table's JSON form: non-finite numbers and missing cells are null. */
function jsonCell(v: Cell): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  return v === null ? 'null' : v ? 'true' : 'false';
}

/** Pretty-printed JSON text set `indent` deeper: after each line break (JSON text has no raw line breaks inside strings). */
function indentJson(text: string, indent: string): string {
  return text.replace(/\n/g, `\n${indent}`);
}

/** Legacy / hand-written form also read as a table: a bare array of row objects (columns in order of appearance). */
const RowArraySchema = z.array(z.record(z.string(), CellSchema));

/**
 * A table from its parsed JSON form: `{columns, rows}` (TableJsonSchema), or a bare array of
 * row objects (what Focal wrote before, and what users' own files often hold).
 * @throws FocalError `E_FORMAT` naming the file and the field (JSON pointer) of the first problem.
 */
export function tableFromJson(value: unknown, file = '<json>'): Table {
  const fail = (issue: { path: PropertyKey[]; message: string } | undefined): never => {
    const pointer = `/${(issue?.path ?? []).map(String).join('/')}`;
    throw new FocalError('E_FORMAT', `${file}: ${pointer}: ${issue?.message ?? 'invalid'} (a table's JSON is {"columns": [...], "rows": [{...}, ...]} or an array of row objects)`, { file, field: pointer });
  };
  if (Array.isArray(value)) {
    const parsed = RowArraySchema.safeParse(value);
    if (!parsed.success) return fail(parsed.error.issues[0]);
    const columns = [...new Set(parsed.data.flatMap((r) => Object.keys(r)))];
    return createTable(columns, parsed.data);
  }
  if (typeof value !== 'object' || value === null) {
    return fail({ path: [], message: `is ${value === null ? 'null' : typeof value}, expected an object with columns and rows` });
  }
  const parsed = TableJsonSchema.safeParse(value);
  if (!parsed.success) return fail(parsed.error.issues[0]);
  return createTable(parsed.data.columns, parsed.data.rows);
}
