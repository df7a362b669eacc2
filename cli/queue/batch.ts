/**
 * A batch of jobs from the command line: `--input name=<file or glob>` (one input may be a glob:
 * one job per matching file) or `--csv bindings.csv` (one job per row, columns named after the
 * pipeline's inputs, an optional `out` column; CellProfiler's LoadData idea).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { FocalError, makeJobSpec, parseCsv, type JobSpec } from '../../core/index.js';

const GLOB_CHARS = /[*?[\]{}]/;

/** Static folder part of a glob (the part before the first segment with a glob character). */
function globBase(pattern: string): string {
  const parts = pattern.split(/[\\/]/);
  const i = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, i < 0 ? parts.length : i).join(sep);
  return base === '' ? '.' : base;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Files matching a glob, sorted; the error names the pattern when none match. */
export function expandGlob(pattern: string, flag: string): { base: string; files: string[] } {
  const base = globBase(pattern);
  let files: string[];
  try {
    if (!statSync(base).isDirectory()) throw new Error('not a folder');
    const match = picomatch(relative(base, pattern).split(sep).join('/'), { dot: false });
    files = walk(base).filter((f) => match(relative(base, f).split(sep).join('/'))).sort();
  } catch (err) {
    throw new FocalError('E_USAGE', `${flag}: cannot list ${base}: ${(err as Error).message}`, { file: base });
  }
  if (files.length === 0) throw new FocalError('E_USAGE', `${flag}: no file matches ${pattern}`, { file: pattern });
  return { base, files };
}

function stem(file: string): string {
  return file.slice(0, file.length - extname(file).length);
}

/** Output folder of each job: `<out>/<relative path without extension>`; duplicates are an error. */
function checkDistinct(specs: { out: string; label: string }[]): void {
  const seen = new Map<string, string>();
  for (const s of specs) {
    const prior = seen.get(s.out);
    if (prior) throw new FocalError('E_USAGE', `two jobs would write the same output folder ${s.out} (${prior} and ${s.label}); give them distinct names`);
    seen.set(s.out, s.label);
  }
}

/** Jobs from `--input` bindings (at most one of them a glob). */
export async function jobsFromBindings(pipeline: string, bindings: Record<string, string>, outDir: string): Promise<JobSpec[]> {
  const globbed = Object.entries(bindings).filter(([, v]) => GLOB_CHARS.test(v));
  if (globbed.length > 1) throw new FocalError('E_USAGE', `--input: only one input may be a glob (${globbed.map(([n]) => n).join(', ')} are); use --csv for other combinations`);
  if (globbed.length === 0) {
    const first = Object.values(bindings)[0];
    const label = first ? stem(first.split(/[\\/]/).pop() ?? 'job') : 'job';
    return [await makeJobSpec(pipeline, bindings, join(outDir, label), label)];
  }
  const [name, pattern] = globbed[0];
  const { base, files } = expandGlob(pattern, `--input ${name}`);
  const plan = files.map((f) => ({ file: f, label: stem(relative(base, f)), out: resolve(outDir, stem(relative(base, f))) }));
  checkDistinct(plan);
  const specs: JobSpec[] = [];
  for (const p of plan) specs.push(await makeJobSpec(pipeline, { ...bindings, [name]: p.file }, p.out, p.label));
  return specs;
}

/** Jobs from a CSV of bindings: a header row of input names (and optionally `out`), one row per job. */
export async function jobsFromCsv(pipeline: string, csvFile: string, outDir: string, inputNames: string[]): Promise<JobSpec[]> {
  let text: string;
  try {
    text = readFileSync(csvFile, 'utf8');
  } catch (err) {
    throw new FocalError('E_IO', `--csv ${csvFile}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`, { file: csvFile });
  }
  const table = parseCsv(text, csvFile);
  const unknown = table.columns.filter((c) => c !== 'out' && !inputNames.includes(c));
  if (unknown.length) throw new FocalError('E_USAGE', `${csvFile}: column(s) ${unknown.join(', ')} name no input of the pipeline (inputs: ${inputNames.join(', ')}; plus an optional 'out')`, { file: csvFile });
  const folder = dirname(resolve(csvFile));
  const plan = table.rows.map((row, i) => {
    const inputs: Record<string, string> = {};
    for (const c of table.columns) {
      if (c === 'out') continue;
      const v = row[c];
      if (v === null || v === undefined || String(v) === '') throw new FocalError('E_USAGE', `${csvFile}: row ${i + 2}: column '${c}' is empty`, { file: csvFile, field: c });
      inputs[c] = isAbsolute(String(v)) ? String(v) : resolve(folder, String(v));
    }
    const first = Object.values(inputs)[0] ?? `row${i + 2}`;
    const label = row.out !== null && row.out !== undefined && String(row.out) !== '' ? String(row.out) : stem(first.split(/[\\/]/).pop() ?? `row${i + 2}`);
    return { inputs, label, out: resolve(outDir, label) };
  });
  checkDistinct(plan);
  const specs: JobSpec[] = [];
  for (const p of plan) specs.push(await makeJobSpec(pipeline, p.inputs, p.out, p.label));
  return specs;
}
