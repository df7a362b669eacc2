/**
 * Jobs: one pipeline run over given inputs into one output folder, described by references
 * only (paths and hashes, never pixels), so a job is a few hundred bytes whether it runs in this
 * process or is handed to a queue (cli/queue, BullMQ on Redis) and run by a worker on another
 * machine that sees the same storage.
 *
 * The one implementation of "run a job" is {@link runJob}; `focal submit` without a queue, and
 * every queue worker, call it. Its guarantees:
 * - the output folder appears complete or not at all: the run writes into a hidden sibling
 *   (`.focal-job-<id>-<host>-<pid>`) that is renamed into place at the end;
 * - a job whose output folder already holds this job's `run.json` is not run again (a
 *   resubmitted or retried job does no work twice); a folder holding anything else is refused;
 * - leftovers of an earlier attempt of the same job (a worker killed mid-job) are removed
 *   before it runs: only one attempt holds a job at a time (the queue's lock; in-process, the
 *   caller);
 * - every path is checked against the allowed folders before anything is read or written;
 * - a failure writes `<parent>/failed/<name>.json` and `.txt`, the report `focal watch` writes.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { FocalError, isFocalError, type FocalErrorCode } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { sha256File, sha256Folder } from '../io/hash.js';
import type { RunRequest, RunSummary } from '../runtime/runner.js';

/** A job as it travels: references and hashes only. */
export const JobSpecSchema = z
  .object({
    v: z.literal(1),
    /** Absolute path of the pipeline file. */
    pipeline: z.string().min(1),
    pipelineSha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Pipeline input name → absolute path of the file bound to it. */
    inputs: z.record(z.string(), z.string().min(1)),
    /** Input name → sha256 of that file when the job was made. */
    inputSha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
    /** Absolute path of the job's output folder (created by the job; must not exist or hold this job's run.json). */
    out: z.string().min(1),
    /** Free text naming the job for people (e.g. the input's file name). */
    label: z.string().optional(),
    /** Write `<parent>/failed/<name>.json` when the job fails for good (default true; focal watch writes its own). */
    reportFailures: z.boolean().optional(),
  })
  .strict();
export type JobSpec = z.infer<typeof JobSpecSchema>;

/** Parses a job received from a queue or a file; the error names the field. */
export function parseJobSpec(value: unknown, source = 'job'): JobSpec {
  const r = JobSpecSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = `/${issue.path.join('/')}`;
    throw new FocalError('E_USAGE', `${source}: ${field}: ${issue.message}`, { field });
  }
  for (const p of [r.data.pipeline, r.data.out, ...Object.values(r.data.inputs)]) {
    if (!isAbsolute(p)) throw new FocalError('E_USAGE', `${source}: path '${p}' is not absolute; a job must name files every worker can find`, { field: '/inputs' });
  }
  return r.data;
}

/**
 * The job's id: derived from content (the pipeline's bytes, each input's name and bytes, and the
 * output folder), so submitting the same work twice gives the same id.
 */
export function jobIdOf(spec: Pick<JobSpec, 'pipelineSha256' | 'inputSha256' | 'out'>): string {
  const h = createHash('sha256');
  h.update(`focal-job-v1\0${spec.pipelineSha256}\0`);
  for (const name of Object.keys(spec.inputSha256).sort()) h.update(`${name}=${spec.inputSha256[name]}\0`);
  h.update(resolve(spec.out));
  return h.digest('hex').slice(0, 32);
}

/** Makes a job from paths, hashing the pipeline and every input. */
export async function makeJobSpec(pipeline: string, inputs: Record<string, string>, out: string, label?: string): Promise<JobSpec> {
  const abs = (p: string) => resolve(p);
  const inputSha256: Record<string, string> = {};
  const absInputs: Record<string, string> = {};
  for (const [name, file] of Object.entries(inputs)) {
    absInputs[name] = abs(file);
    inputSha256[name] = await hashOrExplain(absInputs[name], `input '${name}'`, true);
  }
  return {
    v: 1,
    pipeline: abs(pipeline),
    pipelineSha256: await hashOrExplain(abs(pipeline), 'pipeline'),
    inputs: absInputs,
    inputSha256,
    out: abs(out),
    ...(label ? { label } : {}),
  };
}

/**
 * sha256 of a file; with `folders`, a folder (a dataset folder a reader opens: OME-Zarr, NDTiff,
 * img_*) is hashed as run.json records it (core/io/hash.ts sha256Folder).
 */
async function hashOrExplain(file: string, what: string, folders = false): Promise<string> {
  try {
    if (folders && (await stat(file).catch(() => undefined))?.isDirectory()) return (await sha256Folder(file)).sha256;
    return await sha256File(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : (err as Error).message;
    throw new FocalError('E_IO', `${what} ${file}: ${reason}`, { file });
  }
}

/** Whether `path` (real path) is one of `roots` or inside one. An empty list allows everything. */
export async function insideAllowed(path: string, roots: readonly string[]): Promise<boolean> {
  if (roots.length === 0) return true;
  const real = await realOrNearest(path);
  for (const root of roots) {
    const r = await realOrNearest(root);
    if (real === r || real.startsWith(r.endsWith(sep) ? r : r + sep)) return true;
  }
  return false;
}

/** Real path of `p`, or of its nearest existing ancestor joined with the rest (for outputs not yet made). */
async function realOrNearest(p: string): Promise<string> {
  const abs = resolve(p);
  try {
    return await realpath(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(await realOrNearest(parent), basename(abs));
  }
}

/** Runs a pipeline (PipelineRunner.run or an isolated-thread equivalent). */
export type JobPipelineRunner = (request: Omit<RunRequest, 'onWrite'>) => Promise<RunSummary>;

export interface RunJobOptions {
  runner: JobPipelineRunner;
  signal?: AbortSignal;
  /** Folders the job may read from and write to (real paths compared); empty: anywhere. */
  allowPaths?: readonly string[];
  onEvent?: RunRequest['onEvent'];
  /** Write the failure report (default true; a queue writes it only on the last attempt). */
  writeFailureReport?: boolean;
}

export type JobOutcome =
  | { state: 'done'; id: string; out: string; ms: number; outputs: string[] }
  | { state: 'already-done'; id: string; out: string };

/** Codes of failures that another attempt would not change (bad job, bad input, bad pipeline). */
export const PERMANENT_FAILURE_CODES: ReadonlySet<FocalErrorCode> = new Set([
  'E_USAGE', 'E_PIPELINE', 'E_PARAMS', 'E_OP_NOT_FOUND', 'E_MANIFEST', 'E_FORMAT', 'E_UNSUPPORTED', 'E_PORT', 'E_ARGUMENT', 'E_IO',
]);

/** Whether retrying a failure is pointless. I/O errors count as permanent unless they are transient system errors. */
export function isPermanentFailure(err: unknown): boolean {
  if (!isFocalError(err)) return false;
  if (err.code === 'E_IO') {
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    return !(cause && ['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ECONNRESET'].includes(cause.code ?? ''));
  }
  if (err.code === 'E_NODE_FAILED') return false;
  return PERMANENT_FAILURE_CODES.has(err.code);
}

const JOB_TEMP_PREFIX = '.focal-job-';

/** Runs one job (see the module comment for its guarantees). */
export async function runJob(spec: JobSpec, options: RunJobOptions): Promise<JobOutcome> {
  const id = jobIdOf(spec);
  const started = Date.now();
  try {
    await checkPaths(spec, options.allowPaths ?? []);
    if (await alreadyDone(spec, id)) return { state: 'already-done', id, out: spec.out };
    await checkUnchanged(spec);
    const parent = dirname(spec.out);
    await mkdir(parent, { recursive: true });
    await removeEarlierAttempts(parent, id);
    const tmp = join(parent, `${JOB_TEMP_PREFIX}${id}-${safeHost()}-${process.pid}`);
    try {
      await options.runner({ pipelineFile: spec.pipeline, inputs: spec.inputs, outDir: tmp, signal: options.signal, onEvent: options.onEvent });
      await writeFileAtomic(join(tmp, JOB_FILE), `${JSON.stringify({ id, spec, date: new Date().toISOString(), host: hostname(), pid: process.pid }, null, 2)}\n`);
      if (options.signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled before its outputs were committed');
      if (existsSync(spec.out)) {
        if (await alreadyDone(spec, id)) return { state: 'already-done', id, out: spec.out };
        throw new FocalError('E_IO', `output folder ${spec.out} appeared while the job ran; not overwritten`, { file: spec.out });
      }
      await rename(tmp, spec.out);
      return { state: 'done', id, out: spec.out, ms: Date.now() - started, outputs: (await readdir(spec.out)).sort().map((f) => join(spec.out, f)) };
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  } catch (err) {
    const refused = isFocalError(err) && err.details.reason === 'path-not-allowed'; // nothing may be written there
    if (options.writeFailureReport !== false && spec.reportFailures !== false && !refused && !(isFocalError(err) && err.code === 'E_CANCELLED')) await writeJobFailure(spec, id, err);
    throw err;
  }
}

/** The record a finished job leaves in its output folder (beside run.json). */
export const JOB_FILE = 'job.json';

async function alreadyDone(spec: JobSpec, id: string): Promise<boolean> {
  if (!existsSync(spec.out)) return false;
  try {
    const rec = JSON.parse(await readFile(join(spec.out, JOB_FILE), 'utf8')) as { id?: string };
    if (rec.id === id) return true;
  } catch {
    // no job record: someone else's folder
  }
  throw new FocalError('E_IO', `output folder ${spec.out} exists and was not written by this job; not overwritten (remove it or choose another --out)`, { file: spec.out });
}

async function checkPaths(spec: JobSpec, allow: readonly string[]): Promise<void> {
  const named: [string, string][] = [['pipeline', spec.pipeline], ['out', spec.out], ...Object.entries(spec.inputs).map(([n, p]) => [`input '${n}'`, p] as [string, string])];
  for (const [what, p] of named) {
    if (!(await insideAllowed(p, allow))) {
      throw new FocalError('E_USAGE', `job refused: ${what} ${p} is outside the allowed folders (${allow.join(', ')})`, { file: p, reason: 'path-not-allowed' });
    }
  }
}

async function checkUnchanged(spec: JobSpec): Promise<void> {
  const now = await hashOrExplain(spec.pipeline, 'pipeline');
  if (now !== spec.pipelineSha256) throw new FocalError('E_IO', `pipeline ${spec.pipeline} changed since the job was submitted (sha256 differs); resubmit it`, { file: spec.pipeline });
  for (const [name, file] of Object.entries(spec.inputs)) {
    const h = await hashOrExplain(file, `input '${name}'`, true);
    if (h !== spec.inputSha256[name]) throw new FocalError('E_IO', `input '${name}' ${file} changed since the job was submitted (sha256 differs); resubmit it`, { file, field: `/inputs/${name}` });
  }
}

async function removeEarlierAttempts(parent: string, id: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${JOB_TEMP_PREFIX}${id}-`)).map((n) => rm(join(parent, n), { recursive: true, force: true })));
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 40) || 'host';
}

/** Failure report paths of a job: `<parent>/failed/<name of out>.json|.txt`. */
export function jobFailureReport(spec: Pick<JobSpec, 'out'>): string {
  return join(dirname(spec.out), 'failed', `${basename(spec.out)}.json`);
}

/** Writes the failure report of a job (the same shape as focal watch's). */
export async function writeJobFailure(spec: JobSpec, id: string, err: unknown): Promise<string> {
  const file = jobFailureReport(spec);
  const code = isFocalError(err) ? err.code : 'E_INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  const node = isFocalError(err) && typeof err.details.node === 'string' ? err.details.node : undefined;
  const op = isFocalError(err) && typeof err.details.op === 'string' ? err.details.op : undefined;
  await writeFailureFiles(file.slice(0, -'.json'.length), {
    job: id,
    input: Object.values(spec.inputs)[0] ?? '',
    inputs: spec.inputs,
    pipeline: spec.pipeline,
    date: new Date().toISOString(),
    error: { code, message, ...(node ? { node } : {}), ...(op ? { op } : {}), ...(isFocalError(err) ? { details: err.details } : {}) },
  });
  return file;
}

/** A failure report as `focal watch` and jobs write it. */
export interface FailureReport {
  input: string;
  date: string;
  pipeline: string;
  error: { code: string; message: string; node?: string; op?: string; details?: unknown };
  [extra: string]: unknown;
}

/** Writes `<base>.json` (the report) and `<base>.txt` (one line), each atomically. */
export async function writeFailureFiles(base: string, report: FailureReport): Promise<void> {
  const { code, message, node, op } = report.error;
  await writeFileAtomic(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`, { mkdir: true });
  await writeFileAtomic(`${base}.txt`, `${code}: ${message}${node ? ` (node ${node}${op ? `, op ${op}` : ''})` : ''}\n`, { mkdir: true });
}
