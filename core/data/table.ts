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

export function createTable(columns: string[], rows: Record<string, Cell>[] = []): Table {
  if (new Set(columns).size !== columns.length) throw new FocalError('E_ARGUMENT', `duplicate column names in [${columns.join(', ')}]`);
  rows.forEach((row, i) => {
    for (const key of Object.keys(row)) {
      if (!columns.includes(key)) throw new FocalError('E_ARGUMENT', `row ${i} has column '${key}' which the table does not declare`);
    }
  });
  return { kind: 'table', columns: [...columns], rows: rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))) };
}

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'table';
}

function csvCell(v: Cell): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row. */
export function tableToCsv(table: Table): string {
  const lines = [table.columns.map((c) => csvCell(c)).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvCell(row[c] ?? null)).join(','));
  return lines.join('\n') + '\n';
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
  return {
    columns: [...table.columns],
    rows: table.rows.map((row) =>
      Object.fromEntries(table.columns.map((c) => {
        const v = row[c] ?? null;
        return [c, typeof v === 'number' && !Number.isFinite(v) ? null : v];
      })),
    ),
  };
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
