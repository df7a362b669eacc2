import { FocalError } from '../errors.js';

export type Cell = number | string | boolean | null;

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

/** Array of row objects with the table's column names (non-finite numbers become null). */
export function tableToJson(table: Table): Record<string, Cell>[] {
  return table.rows.map((row) =>
    Object.fromEntries(table.columns.map((c) => {
      const v = row[c] ?? null;
      return [c, typeof v === 'number' && !Number.isFinite(v) ? null : v];
    })),
  );
}
