/**
 * How a hyperstack is read as a series of slices to align, and the transform table / JSON
 * formats of stackreg.align and stackreg.apply.
 */
import { FocalError, createTable, planeIndex, type Cell, type JsonValue, type Stack, type Table } from '../../core/index.js';
import { fromMatrix3, toMatrix3, type Affine } from './affine.js';

export const MATRIX_COLUMNS = ['m00', 'm01', 'm02', 'm10', 'm11', 'm12'] as const;

/**
 * The series of a stack: along z when sizeZ > 1 (each time point aligned on its own), else
 * along t. `plane(c, slice, group)` is the index in `stack.planes`.
 */
export interface Series {
  axis: 'z' | 't';
  /** Slices per series (sizeZ, or sizeT when aligning along t). */
  slices: number;
  /** Independent series (sizeT when aligning along z, else 1). */
  groups: number;
  plane(c: number, slice: number, group: number): number;
}

export function seriesOf(stack: Pick<Stack, 'sizeC' | 'sizeZ' | 'sizeT'>): Series {
  if (stack.sizeZ > 1 || stack.sizeT === 1) {
    return { axis: 'z', slices: stack.sizeZ, groups: stack.sizeT, plane: (c, s, g) => planeIndex(stack, c, s, g) };
  }
  return { axis: 't', slices: stack.sizeT, groups: 1, plane: (c, s) => planeIndex(stack, c, 0, s) };
}

/** Transform table: one row per (group, slice), columns slice, [t,] m00 … m12. */
export function transformsTable(series: Series, matrices: readonly Affine[][]): Table {
  const withT = series.axis === 'z' && series.groups > 1;
  const columns = withT ? ['slice', 't', ...MATRIX_COLUMNS] : ['slice', ...MATRIX_COLUMNS];
  const rows: Record<string, Cell>[] = [];
  matrices.forEach((group, g) =>
    group.forEach((m, s) => {
      const row: Record<string, Cell> = { slice: s };
      if (withT) row.t = g;
      MATRIX_COLUMNS.forEach((c, k) => (row[c] = m[k]));
      rows.push(row);
    }),
  );
  return createTable(columns, rows);
}

/** JSON form: { axis, convention, matrices: [3×3 …] } in the table's row order. */
export function transformsJson(series: Series, matrices: readonly Affine[][]): JsonValue {
  return {
    axis: series.axis,
    convention: 'pixel units; x = column, y = row, origin at the centre of pixel (0,0); maps a point of the aligned output to the same feature in the input slice',
    matrices: matrices.flatMap((group) => group.map((m) => toMatrix3(m))),
  };
}

function expand(list: Affine[], series: Series, field: string): Affine[][] {
  const { slices, groups } = series;
  if (list.length === slices) return Array.from({ length: groups }, () => list);
  if (list.length === slices * groups) return Array.from({ length: groups }, (_, g) => list.slice(g * slices, (g + 1) * slices));
  throw new FocalError(
    'E_PORT',
    `${field}: got ${list.length} transforms, expected one per slice along ${series.axis} (${slices})${groups > 1 ? ` or one per slice and time point (${slices * groups})` : ''}`,
    { field },
  );
}

function cellNumber(v: Cell | undefined, what: string, field: string): number {
  const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(x)) throw new FocalError('E_PORT', `${field}: ${what} is not a finite number (${String(v)})`, { field });
  return x;
}

/**
 * Matrices per group from a transform table (columns m00 … m12; optional `slice` and `t`
 * place each row, otherwise rows are taken in order).
 * @throws FocalError `E_PORT` naming the field for missing columns, bad cells, wrong counts.
 */
export function matricesFromTable(table: Table, series: Series, field = 'transforms'): Affine[][] {
  const missing = MATRIX_COLUMNS.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) throw new FocalError('E_PORT', `${field}: the table lacks column(s) ${missing.join(', ')}`, { field });
  const list = table.rows.map((row, i) => MATRIX_COLUMNS.map((c) => cellNumber(row[c], `row ${i} column ${c}`, field)) as Affine);
  if (!table.columns.includes('slice')) return expand(list, series, field);
  const hasT = table.columns.includes('t');
  const groups = hasT ? series.groups : 1;
  const grid: (Affine | undefined)[][] = Array.from({ length: groups }, () => new Array<Affine | undefined>(series.slices));
  table.rows.forEach((row, i) => {
    const s = cellNumber(row.slice, `row ${i} column slice`, field);
    const g = hasT ? cellNumber(row.t, `row ${i} column t`, field) : 0;
    if (!Number.isInteger(s) || s < 0 || s >= series.slices) throw new FocalError('E_PORT', `${field}: row ${i} has slice ${s}, outside 0…${series.slices - 1}`, { field });
    if (!Number.isInteger(g) || g < 0 || g >= groups) throw new FocalError('E_PORT', `${field}: row ${i} has t ${g}, outside 0…${groups - 1}`, { field });
    if (grid[g][s]) throw new FocalError('E_PORT', `${field}: slice ${s}${hasT ? ` at t ${g}` : ''} appears twice`, { field });
    grid[g][s] = list[i];
  });
  grid.forEach((group, g) =>
    group.forEach((m, s) => {
      if (!m) throw new FocalError('E_PORT', `${field}: no transform for slice ${s}${hasT ? ` at t ${g}` : ''}`, { field });
    }),
  );
  return hasT ? (grid as Affine[][]) : Array.from({ length: series.groups }, () => grid[0] as Affine[]);
}

/**
 * Matrices per group from JSON: an array of 3×3 matrices, or an object with such an array in
 * `matrices` (the `matrices` output of stackreg.align).
 */
export function matricesFromJson(json: JsonValue, series: Series, field = 'matrices'): Affine[][] {
  const arr = Array.isArray(json) ? json : json !== null && typeof json === 'object' && Array.isArray((json as { matrices?: unknown }).matrices) ? (json as { matrices: JsonValue[] }).matrices : undefined;
  if (!arr) throw new FocalError('E_PORT', `${field}: expected an array of 3×3 matrices or an object with a "matrices" array`, { field });
  const list = arr.map((m, i) => {
    try {
      return fromMatrix3(m, `${field}[${i}]`);
    } catch (err) {
      throw new FocalError('E_PORT', (err as Error).message, { field });
    }
  });
  return expand(list, series, field);
}
