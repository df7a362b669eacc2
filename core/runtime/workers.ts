/**
 * A small worker-thread pool on piscina, for CPU-heavy pure functions over typed arrays
 * (deconvolution strips, …). A task names a module URL and one of its exports; the worker
 * (worker-entry.ts) imports the module and calls the export with the arguments, so no
 * callback crosses the thread boundary. Typed arrays in the result (top level, or the
 * top-level fields of a returned object) are moved back, not copied; move arguments with
 * `transferList`.
 *
 * Progress: with `onProgress`, the export is called with one more argument after `args`, a
 * {@link WorkerProgress} `report(fraction, label?)` (posted on a MessagePort moved with the
 * task; throttled to steps of 1 % or 100 ms, never going back, 1 always delivered). Every
 * report reaches `onProgress` before `run` resolves. Without `onProgress` nothing is added,
 * so existing task functions are called as before.
 *
 * Workers start lazily (none until the first task; piscina itself is imported then) and
 * exit after a short idle time; idle workers do not keep the process alive.
 *
 * Worker threads run plain Node, which cannot import TypeScript: a module URL ending in
 * `.ts` under this repository (vitest runs the sources) is mapped to its compiled
 * counterpart under `dist/` (same relative path, `.js`), and so is the worker entry itself.
 * The compiled files must be up to date (`npm run build`; `npm test` builds first).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { FocalError, isFocalError } from '../errors.js';
import { disableOnnxTelemetry } from './onnx-telemetry.js';
import { WORKER_ERROR_MARK, type WorkerErrorPayload, type WorkerProgressMessage, type WorkerTask } from './worker-protocol.js';

/** What can be moved to a worker instead of copied (ArrayBuffer, MessagePort, …). */
export type Transferable = TransferListItem;

/**
 * Progress of a task, fraction in [0, 1] (a smaller value than the last is ignored), with an
 * optional label. A task function receives one as its last argument, after the arguments the
 * caller gave, when the caller passed `onProgress` (declare it optional: without `onProgress`
 * it is absent, and the same function may be called on the main thread with any callback).
 * @example
 * export function work(data: Float32Array, steps: number, report?: WorkerProgress) {
 *   for (let i = 1; i <= steps; i++) { step(data); report?.(i / steps, `step ${i}/${steps}`); }
 * }
 * await pool.run(url, 'work', [data, 100], { onProgress: (f, label) => ctx.progress(f, label) });
 */
export type WorkerProgress = (fraction: number, label?: string) => void;

export interface WorkerPoolOptions {
  /** Most workers running at once (≥ 1). */
  threads: number;
  /** An idle worker exits after this many ms (default 2000). */
  idleTimeoutMs?: number;
}

export interface WorkerRunOptions {
  /** Buffers moved to the worker (the caller's views become empty). */
  transferList?: Transferable[];
  /** Aborting rejects with FocalError `E_CANCELLED` (a running task's worker is terminated). */
  signal?: AbortSignal;
  /**
   * Receives the task's progress reports, on this thread, in order, non-decreasing: the task
   * function gets a {@link WorkerProgress} as an extra last argument. All reports arrive
   * before `run` resolves. An exception thrown here rejects `run` (after the task finished).
   */
  onProgress?: WorkerProgress;
}

export interface WorkerPool {
  /** Most tasks running at once. */
  readonly size: number;
  /**
   * Runs `exportName` of the module at `moduleUrl` (an `import.meta.url`, a file URL or a
   * path) in a worker with `args` (structured-cloned; functions cannot cross) and resolves
   * with its (awaited) result.
   * @throws FocalError: the function's own FocalError (code, message and details kept),
   *   `E_PLUGIN` for any other error it throws or a worker that crashed, `E_CANCELLED`,
   *   `E_IO` when the compiled module is missing, `E_ARGUMENT` for a TypeScript module
   *   outside this repository or a missing export.
   */
  run<T>(moduleUrl: string, exportName: string, args: unknown[], options?: WorkerRunOptions): Promise<T>;
  /** Terminates the workers; pending tasks are rejected. The pool can be used again afterwards. */
  destroy(): Promise<void>;
}

const here = fileURLToPath(import.meta.url);
const runningSources = here.endsWith('.ts');
/** Repository root (sources) and the compiled tree. From dist/core/runtime/workers.js the root is three levels up. */
const sourceRoot = resolve(dirname(here), runningSources ? '../..' : '../../..');
const distRoot = runningSources ? join(sourceRoot, 'dist') : resolve(dirname(here), '../..');

/**
 * The file a worker can import for `moduleUrl`: itself for JavaScript, the compiled
 * `dist/<same path>.js` for a `.ts` file of this repository.
 * @throws FocalError `E_IO` (compiled file missing: run npm run build), `E_ARGUMENT`.
 */
export function workerModulePath(moduleUrl: string): string {
  const path = moduleUrl.startsWith('file:') ? fileURLToPath(moduleUrl) : resolve(moduleUrl);
  if (!/\.[cm]?tsx?$/.test(path) || path.endsWith('.d.ts')) {
    if (!existsSync(path)) throw new FocalError('E_IO', `worker module ${path} does not exist`, { file: path });
    return path;
  }
  const rel = relative(sourceRoot, path);
  if (rel.startsWith('..') || rel.startsWith(`dist${sep}`)) {
    throw new FocalError('E_ARGUMENT', `worker module ${path}: a worker thread cannot import TypeScript; give a compiled JavaScript module`, { file: path });
  }
  const compiled = join(distRoot, rel.replace(/\.([cm]?)tsx?$/, '.$1js'));
  if (!existsSync(compiled)) {
    throw new FocalError('E_IO', `worker module ${rel} is not compiled (${relative(sourceRoot, compiled)} is missing): run npm run build`, { file: compiled });
  }
  return compiled;
}

function fromWorkerError(e: unknown, exportName: string, module: string): FocalError {
  if (typeof e === 'object' && e !== null && (e as { [WORKER_ERROR_MARK]?: unknown })[WORKER_ERROR_MARK] === true) {
    const p = e as WorkerErrorPayload;
    if (p.focal && p.code) {
      const err = new FocalError(p.code as FocalError['code'], p.message, p.details ?? {});
      if (p.stack) err.stack = p.stack;
      return err;
    }
    return new FocalError('E_PLUGIN', `worker task ${exportName} (${module}) failed: ${p.name}: ${p.message}`, { module, export: exportName }, { cause: p });
  }
  if (isFocalError(e)) return e;
  if (e instanceof Error && e.name === 'AbortError') return new FocalError('E_CANCELLED', 'cancelled', {}, { cause: e });
  const message = e instanceof Error ? e.message : String(e);
  return new FocalError('E_PLUGIN', `worker task ${exportName} (${module}) failed: ${message}`, { module, export: exportName }, { cause: e });
}

/**
 * A pool of up to `threads` worker threads (piscina), started lazily.
 * @example
 * const pool = createWorkerPool({ threads: 2 });
 * const out = await pool.run<Float32Array>(import.meta.url, 'blurStrip', [strip, 3], { transferList: [strip.buffer] });
 */
export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const size = options.threads;
  if (!Number.isInteger(size) || size < 1) throw new FocalError('E_ARGUMENT', `threads: must be an integer ≥ 1, got ${size}`, { field: 'threads' });
  const idleTimeout = options.idleTimeoutMs ?? 2000;
  let piscina: Promise<Piscina> | undefined;
  const start = async (): Promise<Piscina> => {
    const { Piscina } = await import('piscina');
    const entry = workerModulePath(new URL(`./worker-entry${runningSources ? '.ts' : '.js'}`, import.meta.url).href);
    // workerData must be an object: geotiff's `web-worker` dependency, imported with core,
    // reads `workerData.mod` in any worker thread and throws on `undefined`
    disableOnnxTelemetry(); // before the threads start: their process.env would not reach onnxruntime
    return new Piscina({ filename: entry, minThreads: 0, maxThreads: size, idleTimeout, workerData: {} });
  };
  return {
    size,
    async run<T>(moduleUrl: string, exportName: string, args: unknown[], runOptions: WorkerRunOptions = {}): Promise<T> {
      const signal = runOptions.signal;
      if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled');
      const module = workerModulePath(moduleUrl);
      const p = (piscina ??= start());
      let pool: Piscina;
      try {
        pool = await p;
      } catch (e) {
        if (piscina === p) piscina = undefined;
        throw isFocalError(e) ? e : new FocalError('E_PLUGIN', `could not start the worker pool: ${(e as Error).message}`, {}, { cause: e });
      }
      const task: WorkerTask = { moduleUrl: pathToFileURL(module).href, exportName, args };
      const onProgress = runOptions.onProgress;
      let transferList = runOptions.transferList;
      let channel: MessageChannel | undefined;
      let reported: Promise<void> = Promise.resolve();
      let progressError: { error: unknown } | undefined;
      if (onProgress) {
        channel = new MessageChannel();
        const port = channel.port1;
        task.progressPort = channel.port2;
        transferList = [...(transferList ?? []), channel.port2];
        // resolved by `done` (posted after the last report) or by the worker's side closing
        reported = new Promise<void>((resolve) => {
          port.on('message', (m: WorkerProgressMessage) => {
            if ('done' in m) return resolve();
            if (progressError) return;
            try {
              onProgress(m.fraction, m.label);
            } catch (e) {
              progressError = { error: e };
            }
          });
          port.once('close', () => resolve());
        });
      }
      try {
        const result = (await pool.run(task, { transferList, signal: signal ?? null })) as T;
        await reported;
        if (progressError) throw progressError.error;
        return result;
      } catch (e) {
        if (progressError && e === progressError.error) throw e;
        if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled', {}, { cause: e });
        throw fromWorkerError(e, exportName, module);
      } finally {
        channel?.port1.close();
      }
    },
    async destroy() {
      const p = piscina;
      piscina = undefined;
      if (p) await (await p).destroy();
    },
  };
}
