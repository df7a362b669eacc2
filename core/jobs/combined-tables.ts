/**
 * Batch tables (CellProfiler's per-image / per-object spreadsheets): after each job of a batch
 * (`focal submit` here, `focal watch`), every table output of the job's run is appended to one
 * combined CSV per table in the batch's output folder, `<out>/<table>.csv`, with the job's input
 * path(s) and job id as the first columns. Each append rewrites the file atomically (a reader
 * sees the rows of whole jobs, never half a file), replacing rows of the same job id (a job run
 * again, or a crash between the job and its append, never leaves duplicates). Appends to one
 * folder are serialised within the process. `<out>/index.html` (with `index.json`, the job list)
 * is the batch's page: every job and the combined tables, sortable, with plots.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { createTable, tableCsvPieces, type Cell, type Table } from '../data/table.js';
import { FocalError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readTableFile } from '../io/table-file.js';
import { BATCH_INDEX_FILE, renderBatchIndex } from '../runtime/report.js';
import { readRunRecord } from '../runtime/run-record.js';

/** Column of the job id in a combined table. */
export const JOB_COLUMN = 'job';

/** The input column(s): `input` for a one-input pipeline, `input.<name>` for each input otherwise. */
export function inputColumns(inputs: Record<string, string>): string[] {
  const names = Object.keys(inputs);
  return names.length === 1 ? ['input'] : names.map((n) => `input.${n}`);
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `task` after the earlier tasks for `key` (errors do not block the queue). */
function serial<T>(key: string, task: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const next = before.then(task, task);
  const tail = next.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return next;
}

export interface CombinedJob {
  id: string;
  /** Pipeline input name → the file it read (the path shown in the table). */
  inputs: Record<string, string>;
  /** The job's output folder (holds run.json and the tables' .csv files). */
  out: string;
}

/**
 * Appends the table outputs of a finished job (read from `job.out`: run.json, then each table's
 * .csv) to `<batchOut>/<table>.csv`. Returns the combined files written.
 * @throws FocalError E_IO when a combined file's path is a folder or a CSV that is not a combined
 *   table (its first columns are not the input and job columns), E_FORMAT for an unreadable table.
 */
export function appendJobTables(batchOut: string, job: CombinedJob): Promise<string[]> {
  const dir = resolve(batchOut);
  return serial(dir, async () => {
    const record = await readRunRecord(job.out);
    const front = [...inputColumns(job.inputs), JOB_COLUMN];
    const frontValues: Record<string, Cell> = { [JOB_COLUMN]: job.id };
    const names = Object.keys(job.inputs);
    names.forEach((n, i) => (frontValues[front[i]] = job.inputs[n]));
    const written: string[] = [];
    for (const o of record.outputs) {
      if (o.type !== 'table') continue;
      const csv = o.files.map((f) => basename(f)).find((f) => f.toLowerCase().endsWith('.csv'));
      if (!csv) continue;
      const table = await readTableFile(join(job.out, csv));
      const target = join(dir, `${o.name}.csv`);
      const existing = await readCombined(target, front);
      // the table's own columns keep their names unless they clash with the front ones
      const own = table.columns.map((c) => (front.includes(c) ? `${o.name}.${c}` : c));
      const columns = [...front, ...(existing?.columns.slice(front.length) ?? [])];
      for (const c of own) if (!columns.includes(c)) columns.push(c);
      const rows = (existing?.rows ?? []).filter((r) => String(r[JOB_COLUMN]) !== job.id);
      for (const r of table.rows) {
        const row: Record<string, Cell> = { ...frontValues };
        table.columns.forEach((c, i) => (row[own[i]] = r[c] ?? null));
        rows.push(row);
      }
      await writeFileAtomic(target, tableCsvPieces(createTable(columns, rows)));
      written.push(target);
    }
    // the batch page comes with the combined tables: a batch without tables keeps its folder as it was
    if (written.length) await writeBatchIndex(dir, job, record.outputs.filter((o) => o.type === 'table').map((o) => o.name), record.report);
    return written;
  });
}

/** `<batch out>/index.json`: the jobs done and the combined tables, for index.html. */
const BatchIndexSchema = z.object({
  jobs: z.array(z.object({ input: z.string(), job: z.string(), folder: z.string(), report: z.string().optional() })),
  tables: z.array(z.string()),
});
export const BATCH_INDEX_JSON = 'index.json';

/**
 * Records the job in `<dir>/index.json` (its earlier entry replaced) and rewrites
 * `<dir>/index.html` (renderBatchIndex: the jobs and the combined tables with plots), atomically.
 */
async function writeBatchIndex(dir: string, job: CombinedJob, tables: string[], report: string | undefined): Promise<void> {
  const file = join(dir, BATCH_INDEX_JSON);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  let index: z.infer<typeof BatchIndexSchema> = { jobs: [], tables: [] };
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new FocalError('E_FORMAT', `${file}: not JSON (${(err as Error).message}); it is the batch's job list: move it away to start a new one`, { file }, { cause: err });
    }
    const parsed = BatchIndexSchema.safeParse(json);
    if (!parsed.success) {
      const field = `/${parsed.error.issues[0].path.join('/')}`;
      throw new FocalError('E_FORMAT', `${file}: ${field}: ${parsed.error.issues[0].message} (not a Focal batch index; move it away or choose another --out)`, { file, field });
    }
    index = parsed.data;
  }
  const folder = relative(dir, resolve(job.out)) || '.';
  index.jobs = [...index.jobs.filter((j) => j.job !== job.id), { input: Object.values(job.inputs).join(', '), job: job.id, folder, ...(report ? { report: `${folder}/${report}` } : {}) }];
  for (const t of tables) if (!index.tables.includes(t)) index.tables.push(t);
  await writeFileAtomic(file, `${JSON.stringify(index, null, 2)}\n`);
  const combined: { name: string; file: string; table: Table }[] = [];
  for (const name of index.tables) {
    const table = await readTableFile(join(dir, `${name}.csv`)).catch(() => undefined);
    if (table) combined.push({ name, file: `${name}.csv`, table });
  }
  await writeFileAtomic(join(dir, BATCH_INDEX_FILE), renderBatchIndex({ out: dir, jobs: index.jobs, tables: combined, date: new Date().toISOString() }));
}

async function readCombined(file: string, front: string[]): Promise<Table | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isFile()) throw new FocalError('E_IO', `${file}: the combined table's path is taken by a folder; rename it`, { file });
  const table = await readTableFile(file);
  if (front.some((c, i) => table.columns[i] !== c)) {
    throw new FocalError('E_IO', `${file} exists and is not a combined table of this batch (its first columns are ${table.columns.slice(0, front.length).join(', ') || 'none'}, expected ${front.join(', ')}); not overwritten: move it or choose another --out`, { file });
  }
  return table;
}
