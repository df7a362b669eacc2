/**
 * Every command's options, declared once as zod schemas (flags and help in each field's meta,
 * see cli/options.ts). main.ts turns them into commander options; each command receives
 * `z.output` of its schema, so an option's type, default handling and refusal message live
 * here and nowhere else. This module loads zod and commander only: the commands themselves
 * (and core) are imported when one runs.
 */
import { z } from 'zod';
import { BACKEND_NAMES, FocalError } from '../core/startup.js';
import { backendName, flag, jsonOnly, positiveInt } from './options.js';

/** Options of the root program, given before or after the command. */
export const globalOptions = z.object({
  plugin: flag(z.array(z.string()).optional(), '--plugin <path>', 'load a plugin package from this folder (repeatable)'),
  config: flag(z.string().optional(), '--config <file>', 'focal.config.json to read (default: ./focal.config.json when present)'),
  verbose: flag(z.boolean().optional(), '--verbose', 'print stack traces and debug logs'),
  /** TensorFlow.js backend for deep-learning ops; exported as FOCAL_BACKEND before the command runs. */
  backend: flag(backendName().optional(), '--backend <name>', `TensorFlow.js backend for deep learning: auto, ${BACKEND_NAMES.join(', ')} (default: FOCAL_BACKEND, else the best available)`),
});
export type GlobalOptions = z.output<typeof globalOptions>;

const freshThread = () => flag(z.boolean().optional(), '--fresh-thread', "run every job in a new thread (about 0.4 s more a job) instead of the thread of the last job that succeeded: for plugins that keep state between runs");
/** `--fresh-thread` chooses how this process runs jobs; with `--queue` the workers run them (focal watch, focal submit). */
export function refuseFreshThreadWithQueue(opts: { queue?: string; freshThread?: boolean }): void {
  if (opts.queue && opts.freshThread) throw new FocalError('E_USAGE', '--fresh-thread with --queue: the workers run the jobs; give --fresh-thread to focal worker', { field: '--fresh-thread' });
}
const opTimeoutS = () => flag(positiveInt().optional(), '--op-timeout-s <s>', 'fail the run when one operation runs longer than this (default: no limit)');

/**
 * The streaming flags (issue 21, core/pipeline/stream.ts), shared by `focal run` and `focal watch`
 * (which passes them to each job's run): one declaration, so both parse them alike.
 */
const streamShape = {
  stream: flag(z.enum(['auto', 'always', 'never']).optional(), '--stream <when>', 'stream image inputs region by region through the pipeline into tiled pyramids (whole slides): auto (default: when an input opened lazily takes more than a quarter of --memory-mb), always, never'),
  memoryMb: flag(positiveInt().optional(), '--memory-mb <MB>', "memory a streamed run may use, MB; tiles and bands are sized from it, and a node that needs whole planes larger than a quarter of it is refused (default: half the machine's memory)"),
  streamFormat: flag(z.enum(['ome-tiff', 'ome-zarr']).optional(), '--stream-format <format>', 'image outputs of a streamed run: ome-tiff (<name>.ome.tif, tiled pyramidal, default) or ome-zarr (<name>.ome.zarr)'),
  tileSize: flag(positiveInt().refine((v) => v % 16 === 0 && v <= 4096, { error: 'must be a multiple of 16 from 16 to 4096 (256 or 512 are usual)' }).optional(), '--tile-size <px>', 'streamed run: tile (chunk) edge of the outputs and band height, a multiple of 16 (default 512, smaller when --memory-mb needs it)'),
  zarrFormat: flag(z.enum(['2', '3']).optional().transform((v) => (v === undefined ? undefined : (Number(v) as 2 | 3))), '--zarr-format <2|3>', 'streamed OME-Zarr output: 3 = Zarr v3 / NGFF 0.5 (default), 2 = Zarr v2 / NGFF 0.4'),
};

/** The RunRequest fields of the streaming flags (only those given). */
export function streamRequest(opts: Partial<z.output<z.ZodObject<typeof streamShape>>>): { stream?: 'auto' | 'always' | 'never'; memoryMb?: number; streamFormat?: 'ome-tiff' | 'ome-zarr'; tileSize?: number; zarrFormat?: 2 | 3 } {
  return {
    ...(opts.stream ? { stream: opts.stream } : {}),
    ...(opts.memoryMb ? { memoryMb: opts.memoryMb } : {}),
    ...(opts.streamFormat ? { streamFormat: opts.streamFormat } : {}),
    ...(opts.tileSize ? { tileSize: opts.tileSize } : {}),
    ...(opts.zarrFormat ? { zarrFormat: opts.zarrFormat } : {}),
  };
}

export const runOptions = z.object({
  input: flag(z.array(z.string()).optional(), '-i, --input <name=file>', 'bind a pipeline input to a file (repeatable); a lone file binds the only input'),
  out: flag(z.string(), '-o, --out <dir>', 'output folder (created if needed)'),
  preview: flag(z.boolean().optional(), '--preview', 'also write an 8-bit PNG preview of every image output'),
  report: flag(z.boolean().optional(), '--no-report', 'do not write report.html (by default a run writes it: pipeline graph, previews, tables with plots, node times, provenance, in one offline page)'),
  /** `--report` from before the report became the default: accepted, changes nothing (commander sets `report`). */
  reportFlag: flag(z.boolean().optional(), '--report', 'write report.html (the default; accepted for scripts written before it was)'),
  omeTiff: flag(z.boolean().optional(), '--ome-tiff', 'write image outputs as OME-TIFF (<name>.ome.tif: OME-XML with channel names and calibration) instead of ImageJ TIFF'),
  json: flag(z.boolean().optional(), '--json', 'print progress and the result as JSON lines on stdout'),
  quiet: flag(z.boolean().optional(), '-q, --quiet', 'no progress output'),
  concurrency: flag(positiveInt().optional(), '--concurrency <n>', 'nodes run at once (default: cores)'),
  opTimeoutS: opTimeoutS(),
  ...streamShape,
});
export type RunOptions = z.output<typeof runOptions>;

export const reportOptions = jsonOnly('print the result as JSON');
export type ReportOptions = z.output<typeof reportOptions>;

export const validateOptions = jsonOnly('print the result as JSON');
export const pluginsOptions = jsonOnly('print as JSON');
export const infoOptions = jsonOnly('print as JSON');
export const doctorOptions = jsonOnly('print as JSON');

const TILE_SIZE = 'must be a multiple of 16 from 16 to 4096 (256 or 512 are usual)';
const WHOLE = 'must be a whole number ≥ 0';
const wholeNumber = () => z.coerce.number({ error: WHOLE }).int({ error: WHOLE }).min(0, { error: WHOLE });
export const convertOptions = z.object({
  /** Checked against the output format in convert.ts: TIFF and OME-Zarr need multiples of 16, Deep Zoom does not. */
  tileSize: flag(positiveInt().max(4096, { error: TILE_SIZE }).optional(), '--tile-size <px>', 'tile edge in pixels: a multiple of 16 for OME-TIFF/OME-Zarr (default 512); Deep Zoom default 254'),
  levels: flag(positiveInt().max(32, { error: 'must be at most 32' }).optional(), '--levels <n>', 'resolution levels including the full one (default: halve until a level fits one tile)'),
  compression: flag(z.enum(['deflate', 'none']).default('deflate'), '--compression <codec>', 'deflate or none (default deflate)'),
  bigtiff: flag(z.boolean().optional(), '--bigtiff', 'always write BigTIFF (default: only when the file could pass 4 GiB)'),
  zarrFormat: flag(z.enum(['2', '3']).default('3').transform(Number), '--zarr-format <2|3>', 'OME-Zarr output: 3 = Zarr v3 / OME-NGFF 0.5, 2 = Zarr v2 / NGFF 0.4 (default 3); tiles are the x/y chunks'),
  overlap: flag(wholeNumber().max(64, { error: 'must be at most 64' }).optional(), '--overlap <px>', 'Deep Zoom (.dzi) output: pixels each tile shares with its neighbours (default 1)'),
  window: flag(z.string().optional(), '--window <lo:hi[,lo:hi…]>', 'Deep Zoom output: display range per channel (default: 0.35 % saturated, from the data); an empty entry keeps the automatic range'),
  z: flag(wholeNumber().optional(), '--z <index>', 'Deep Zoom output: the z plane shown (default: the middle one)'),
  t: flag(wholeNumber().optional(), '--t <index>', 'Deep Zoom output: the time point shown (default 0)'),
  json: flag(z.boolean().optional(), '--json', 'print progress and the result as JSON lines'),
  quiet: flag(z.boolean().optional(), '-q, --quiet', 'no progress output'),
});
export type ConvertOptions = z.output<typeof convertOptions>;

export const trustOptions = z.object({
  list: flag(z.boolean().optional(), '--list', 'list the trusted folders'),
  remove: flag(z.boolean().optional(), '--remove', 'forget a trusted folder'),
  json: flag(z.boolean().optional(), '--json', 'print as JSON'),
});
export type TrustOptions = z.output<typeof trustOptions>;

export const schemaOptions = z.object({
  out: flag(z.string().optional(), '--out <file>', 'write to a file instead of stdout'),
  core: flag(z.boolean().optional(), '--core', 'only the document shape, without per-op params'),
});
export type SchemaOptions = z.output<typeof schemaOptions>;

export const tuiOptions = z.object({
  out: flag(z.string().optional(), '-o, --out <dir>', 'output folder of runs (default: out/<pipeline name>)'),
});
export type TuiOptions = z.output<typeof tuiOptions>;

const QUEUE_URL_HELP = 'Redis of the job queue: redis://[user:password@]host:port[/db], rediss:// for TLS';
const queueName = () => flag(z.string().optional(), '--queue-name <name>', 'queue name in that Redis (default focal)');

export const watchOptions = z.object({
  pipeline: flag(z.string(), '-p, --pipeline <file>', 'pipeline JSON file'),
  out: flag(z.string(), '-o, --out <dir>', 'output folder: one subfolder per input, failed/ reports, the ledger'),
  inputName: flag(z.string().optional(), '--input-name <name>', 'pipeline input that receives each file (default: the only input)'),
  pattern: flag(z.string().optional(), '--pattern <glob>', 'which files (and OME-Zarr folders) to take, relative to <dir> (default: **/*.{tif,tiff,ome.zarr}, case-insensitive)'),
  concurrency: flag(positiveInt().optional(), '--concurrency <n>', 'jobs at once (default 1)'),
  maxQueue: flag(positiveInt().optional(), '--max-queue <n>', 'most jobs queued or running; more complete files wait (default 64)'),
  once: flag(z.boolean().optional(), '--once', 'process what is there (waiting for it to be complete), then exit'),
  polling: flag(z.boolean().optional(), '--polling', 'poll the folder (every 0.5 s) instead of file-system events, for network shares'),
  followSymlinks: flag(z.boolean().optional(), '--follow-symlinks', 'follow symbolic links to files and folders (default: skip them); each real file is processed once and a folder loop is entered once'),
  json: flag(z.boolean().optional(), '--json', 'print one JSON event per line on stdout'),
  queue: flag(z.string().optional(), '--queue <url>', 'hand each job to this Redis job queue (focal worker runs them) instead of running it here; raise --concurrency to keep workers busy'),
  queueName: queueName(),
  settleMs: flag(positiveInt().optional(), '--settle-ms <ms>', 'size and mtime must be unchanged this long (default 2000)'),
  acquisitionTimeoutS: flag(positiveInt().optional(), '--acquisition-timeout-s <s>', 'process a dataset still incomplete this long after its last change, with a warning (default 120)'),
  opTimeoutS: opTimeoutS(),
  freshThread: freshThread(),
  graceS: flag(positiveInt().optional(), '--grace-s <s>', 'on SIGINT/SIGTERM, wait this long for running jobs before aborting them (default 30)'),
  ...streamShape,
});
export type WatchOptions = z.output<typeof watchOptions>;

export const submitOptions = z.object({
  input: flag(z.array(z.string()).optional(), '-i, --input <name=file|glob>', 'bind an input to a file, or to a glob (one job per file; repeatable, one glob at most)'),
  csv: flag(z.string().optional(), '--csv <file>', 'one job per row: columns named after the pipeline inputs, optional out column (relative to --out)'),
  out: flag(z.string(), '-o, --out <dir>', 'parent folder: one output folder per job, failed/ reports'),
  attempts: flag(positiveInt().optional(), '--attempts <n>', 'attempts for runtime failures (bad input or pipeline: 1) (default 3 on a queue, 1 here)'),
  wait: flag(z.boolean().optional(), '--wait', 'with --queue: wait until every job is done or failed (exit 1 if any failed)'),
  concurrency: flag(positiveInt().optional(), '--concurrency <n>', 'without --queue: jobs at once (default 1)'),
  allowPath: flag(z.array(z.string()).optional(), '--allow-path <dir>', 'without --queue: refuse jobs whose files leave these folders (repeatable)'),
  json: flag(z.boolean().optional(), '--json', 'print one JSON event per line'),
  queue: flag(z.string().optional(), '--queue <url>', `${QUEUE_URL_HELP} (default: run the jobs in this process)`),
  queueName: queueName(),
  freshThread: freshThread(),
});
export type SubmitOptions = z.output<typeof submitOptions>;

export const workerOptions = z.object({
  queue: flag(z.string(), '--queue <url>', QUEUE_URL_HELP),
  queueName: queueName(),
  concurrency: flag(positiveInt().optional(), '--concurrency <n>', 'jobs at once (default 1)'),
  name: flag(z.string().optional(), '--name <name>', 'worker name shown by focal queue status (default: host-pid)'),
  lockS: flag(positiveInt().optional(), '--lock-s <s>', "seconds a job's lock lasts without renewal: a killed worker's job runs elsewhere after it (default 30)"),
  allowPath: flag(z.array(z.string()).optional(), '--allow-path <dir>', 'only run jobs whose files are inside these folders (repeatable; default: any)'),
  json: flag(z.boolean().optional(), '--json', 'print one JSON event per line'),
  freshThread: freshThread(),
});
export type WorkerOptions = z.output<typeof workerOptions>;

export const queueCommandOptions = z.object({
  queue: flag(z.string(), '--queue <url>', QUEUE_URL_HELP),
  queueName: queueName(),
  json: flag(z.boolean().optional(), '--json', 'print as JSON'),
});
export type QueueCommandOptions = z.output<typeof queueCommandOptions>;
