/**
 * Runs a pipeline in a worker thread of its own, so that the caller's thread stays free for
 * Ctrl-C, a progress bar or a terminal UI, and a cancelled run stops within a fixed time
 * whatever its operations do: a numeric loop that never looks at its abort signal (ours or a
 * third-party plugin's) is stopped by terminating the thread.
 *
 * Cancelling asks the run to stop (its `ctx.signal` is aborted, so cooperative operations and
 * worker-pool tasks stop cleanly); if the thread is still busy after `graceMs`, it is
 * terminated. Either way the output files the run wrote, the temporary files of writes it had
 * begun, and the output folder it created (when left empty) are removed, and the promise
 * rejects with `E_CANCELLED`.
 *
 * The thread composes its own host: `hostModule` is a JavaScript module (a `.ts` module of this
 * repository is mapped to its compiled `dist/` counterpart, as for worker-pool tasks) whose
 * export `createIsolatedRunner(config, hooks)` returns something with PipelineRunner's `run`.
 * `config` must survive structured cloning. core stays free of plugins: the CLI's host module
 * registers them.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FocalError, type FocalErrorCode } from '../errors.js';
import type { RunEvent } from '../pipeline/executor.js';
import type { LogRecord } from './logger.js';
import { closeNativeGate, nativeCallsBuffer } from './native-calls.js';
import { disableOnnxTelemetry } from './onnx-telemetry.js';
import { removeRunFiles } from './run-output.js';
import type { RunRequest, RunSummary } from './runner.js';
import { workerModulePath } from './workers.js';
import type { WorkerErrorPayload } from './worker-protocol.js';

/** Longest wait for an onnxruntime call in flight before a run thread is terminated anyway, ms. */
const NATIVE_WAIT_MS = 60_000;

/** A run request without its callbacks and signal (they stay on the caller's side). */
export type IsolatedRunRequest = Omit<RunRequest, 'signal' | 'onEvent' | 'onWrite'>;

export interface IsolatedRunOptions {
  /** File URL or path of the host module (see above). */
  hostModule: string;
  /** Handed to `createIsolatedRunner` in the thread (structured-cloned). */
  hostConfig?: unknown;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Log records of the run (the thread's logger forwards every record here). */
  onLog?: (record: LogRecord) => void;
  /** How long a cancelled run may take to stop by itself before its thread is terminated (ms, default 250). */
  graceMs?: number;
  /**
   * Longest one operation may run (ms); none by default, since training or a large
   * deconvolution can legitimately take hours. Past it the run fails with `E_NODE_FAILED`
   * naming the node and its thread is terminated (this also stops a loop that never yields).
   */
  opTimeoutMs?: number;
  /**
   * A thread started ahead with prestartIsolatedRun for this host module: the run takes it over
   * (its modules are loaded, or loading, by then). One that is gone, already used, or for another
   * host module is terminated and a new thread started, so passing one never changes the outcome.
   */
  prestarted?: PrestartedRun;
  /**
   * Keeps the thread after a successful run for the next run with the same host module, host
   * config and environment (see RunThreadPool). Without one, every run has a thread of its own.
   */
  pool?: RunThreadPool;
}

/**
 * A run thread started before its run is known (see prestartIsolatedRun). It does not keep the
 * process alive until a run takes it over.
 */
export interface PrestartedRun {
  readonly hostModule: string;
  /** Terminates the thread if no run has taken it (idempotent). */
  discard(): void;
}

interface PrestartedThread extends PrestartedRun {
  worker: Worker;
  nativeCalls: SharedArrayBuffer;
  used: boolean;
  exited: boolean;
}

/** What a host module's `createIsolatedRunner` receives besides its config. */
export interface IsolatedRunHooks {
  /** Sends a log record to the caller's thread. */
  log(record: LogRecord): void;
}

/** A host module's export. */
export type IsolatedRunHost = (config: unknown, hooks: IsolatedRunHooks) => Promise<{ run(request: RunRequest): Promise<RunSummary> }>;

/**
 * A host module's optional export `preloadIsolatedRunner()`: imports what createIsolatedRunner
 * will need, so that a prestarted thread loads its modules while the caller is still parsing its
 * command line. It must not depend on the run's config or environment.
 */
export type IsolatedRunPreload = () => Promise<void>;

/** The caller's message that starts the run in the thread. */
export interface IsolatedRunStart {
  t: 'run';
  hostConfig: unknown;
  request: IsolatedRunRequest;
  /** The caller's environment now (a thread copies it when created, which may be before the caller set FOCAL_BACKEND). */
  env: Record<string, string>;
}

/** Messages from the thread (isolated-run-worker.ts). */
export type IsolatedRunMessage =
  | { t: 'event'; event: RunEvent }
  | { t: 'log'; record: LogRecord }
  | { t: 'write'; file: string; state: 'start' | 'done' }
  | { t: 'done'; summary: RunSummary }
  | { t: 'error'; error: WorkerErrorPayload };

/** A FocalError (code and details kept) or a plain Error from its payload. */
export function fromErrorPayload(e: WorkerErrorPayload): Error {
  if (e.focal && e.code) {
    const err = new FocalError(e.code as FocalErrorCode, e.message, e.details ?? {});
    if (e.stack) err.stack = e.stack;
    return err;
  }
  const err = new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

const WORKER_ENTRY = new URL(`./isolated-run-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

function startThread(hostModuleUrl: string): { worker: Worker; nativeCalls: SharedArrayBuffer } {
  const nativeCalls = nativeCallsBuffer();
  disableOnnxTelemetry(); // before the thread starts: its process.env would not reach onnxruntime
  const worker = new Worker(workerModulePath(WORKER_ENTRY), {
    // `mod` must not be a key here: geotiff's web-worker shim reads workerData.mod in every thread.
    workerData: { hostModule: hostModuleUrl, nativeCalls },
    stdout: false,
    stderr: false,
  });
  return { worker, nativeCalls };
}

const hostModuleUrl = (hostModule: string) => pathToFileURL(workerModulePath(hostModule)).href;

/**
 * Starts a run thread for `hostModule` now, before the run is known, so that it loads its
 * modules (the host module's `preloadIsolatedRunner`) while the caller does other work, such as
 * parsing its command line; pass it to runIsolated as `prestarted`. The thread does not keep the
 * process alive and does nothing observable until a run takes it over.
 */
export function prestartIsolatedRun(hostModule: string): PrestartedRun {
  const url = hostModuleUrl(hostModule);
  const { worker, nativeCalls } = startThread(url);
  worker.unref();
  const thread: PrestartedThread = {
    hostModule: url,
    worker,
    nativeCalls,
    used: false,
    exited: false,
    discard() {
      if (thread.used) return;
      thread.used = true;
      void worker.terminate();
    },
  };
  worker.once('exit', () => {
    thread.exited = true;
  });
  worker.on('error', () => {
    /* reported by the run that takes the thread over, from the thread's own message, or as its exit */
  });
  return thread;
}

/** The prestarted thread when it can take this run, else a new thread (the unusable one terminated). */
function threadFor(hostModule: string, prestarted: PrestartedRun | undefined): { worker: Worker; nativeCalls: SharedArrayBuffer } {
  const p = prestarted as PrestartedThread | undefined;
  if (p && !p.used && !p.exited && p.hostModule === hostModule) {
    p.used = true;
    p.worker.removeAllListeners();
    p.worker.ref();
    return { worker: p.worker, nativeCalls: p.nativeCalls };
  }
  p?.discard();
  return startThread(hostModule);
}

/** A run thread and how many runs it has finished. */
interface RunThread {
  worker: Worker;
  nativeCalls: SharedArrayBuffer;
  runs: number;
}

export interface RunThreadPoolOptions {
  /** An idle thread is terminated after this long, giving its memory back (ms, default 60 000). */
  idleMs?: number;
  /**
   * A thread is retired after this many runs (default 100), which bounds what module-level state
   * of an operation's code can accumulate.
   */
  maxRunsPerThread?: number;
}

/**
 * Run threads kept between runs. Starting a thread and loading the host's modules into it costs
 * about 0.4 s of CPU on a 2-core machine, more than a small job takes; `focal watch`, `focal
 * submit`, `focal worker` and the TUI run many pipelines, each in a thread, and reuse one through
 * this pool. Only a thread whose run succeeded, was not cancelled and finished within its time
 * limits is kept; a failed, cancelled or stopped run's thread is terminated as before, so that
 * whatever went wrong in it does not reach the next run. A kept thread serves only runs with the
 * same host module, host config and environment (its host was built from them), never two at
 * once, and does not keep the process alive.
 */
export class RunThreadPool {
  private readonly idle = new Map<string, { thread: RunThread; timer: NodeJS.Timeout; onExit: () => void }[]>();
  readonly idleMs: number;
  readonly maxRunsPerThread: number;

  constructor(options: RunThreadPoolOptions = {}) {
    this.idleMs = options.idleMs ?? 60_000;
    this.maxRunsPerThread = options.maxRunsPerThread ?? 100;
    if (!(this.idleMs >= 0) || !Number.isInteger(this.maxRunsPerThread) || this.maxRunsPerThread < 1) {
      throw new FocalError('E_ARGUMENT', `RunThreadPool: idleMs must be ≥ 0 and maxRunsPerThread an integer ≥ 1 (got ${this.idleMs}, ${this.maxRunsPerThread})`);
    }
  }

  /** Idle threads kept now. */
  get size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** An idle thread for `key`, no longer idle, or undefined. */
  take(key: string): RunThread | undefined {
    const list = this.idle.get(key);
    const entry = list?.pop();
    if (!entry) return undefined;
    if (list!.length === 0) this.idle.delete(key);
    clearTimeout(entry.timer);
    entry.thread.worker.off('exit', entry.onExit);
    entry.thread.worker.removeAllListeners('error');
    entry.thread.worker.ref();
    return entry.thread;
  }

  /** Keeps a thread whose run just succeeded; false when it has served its runs (the caller terminates it). */
  keep(key: string, thread: RunThread): boolean {
    if (thread.runs >= this.maxRunsPerThread) return false;
    const { worker } = thread;
    worker.unref();
    const remove = () => {
      const list = this.idle.get(key);
      const i = list?.indexOf(entry) ?? -1;
      if (i >= 0) list!.splice(i, 1);
      if (list?.length === 0) this.idle.delete(key);
    };
    const entry = {
      thread,
      timer: setTimeout(() => {
        remove();
        void worker.terminate();
      }, this.idleMs),
      onExit: remove,
    };
    entry.timer.unref();
    worker.once('exit', entry.onExit);
    worker.on('error', () => {
      /* an idle thread that fails exits, and is dropped on 'exit' */
    });
    const list = this.idle.get(key) ?? [];
    list.push(entry);
    this.idle.set(key, list);
    return true;
  }

  /** Terminates every idle thread. */
  close(): void {
    for (const key of [...this.idle.keys()]) {
      for (let t = this.take(key); t; t = this.take(key)) void t.worker.terminate();
    }
  }
}

/** What a kept thread must share with a run to serve it. */
function poolKey(hostModule: string, hostConfig: unknown, env: Record<string, string>): string {
  return JSON.stringify([hostModule, hostConfig ?? null, Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * Runs `request` in a new worker thread (see the module comment).
 * @throws FocalError as PipelineRunner.run does; `E_CANCELLED` when cancelled; `E_PLUGIN` when the thread died.
 */
export async function runIsolated(request: IsolatedRunRequest, options: IsolatedRunOptions): Promise<RunSummary> {
  const { signal } = options;
  if (signal?.aborted) {
    options.prestarted?.discard();
    throw new FocalError('E_CANCELLED', 'cancelled');
  }
  const hostModule = hostModuleUrl(options.hostModule);
  const outDir = resolve(request.outDir);
  // The outermost folder of outDir that does not exist yet: what the run will create, and what
  // is removed again (when empty) if the run is stopped.
  let createdDir: string | undefined;
  for (let d = outDir; !existsSync(d); d = dirname(d)) {
    createdDir = d;
    if (dirname(d) === d) break;
  }
  const begun: string[] = [];
  const written: string[] = [];
  const graceMs = options.graceMs ?? 250;
  const watch = new RunningNodes(options.opTimeoutMs);

  disableOnnxTelemetry(); // as startThread does, before the environment is read: the same key before and after the first thread
  const env = plainEnv();
  const key = options.pool ? poolKey(hostModule, options.hostConfig, env) : '';
  const kept = options.pool?.take(key);
  if (kept) options.prestarted?.discard();
  const thread: RunThread = kept ?? { ...threadFor(hostModule, options.prestarted), runs: 0 };
  const { worker, nativeCalls } = thread;
  const start: IsolatedRunStart = { t: 'run', hostConfig: options.hostConfig ?? null, request, env };
  worker.postMessage(start);

  return new Promise<RunSummary>((resolvePromise, reject) => {
    let settled = false;
    let cancelRequested = false;
    let outcome: { ok: true; summary: RunSummary } | { ok: false; error: Error } | undefined;
    /** An uncaught error in the thread, blamed on the running nodes once the thread has exited. */
    let uncaught: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let stopping = false;
    /**
     * Terminates the thread, but never during an onnxruntime call (that aborts the whole
     * process): new calls are refused, one in flight is waited for (polled every 20 ms, at most
     * NATIVE_WAIT_MS, after which the thread is terminated anyway).
     */
    const stop = () => {
      if (stopping) return;
      stopping = true;
      const since = Date.now();
      const attempt = () => {
        if (!closeNativeGate(nativeCalls) || Date.now() - since > NATIVE_WAIT_MS) void worker.terminate();
        else setTimeout(attempt, 20);
      };
      attempt();
    };

    const finish = async () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      watch.clear();
      const result = cancelRequested ? { ok: false as const, error: new FocalError('E_CANCELLED', 'cancelled') } : outcome;
      if (!result || !result.ok) {
        // Only ever reached from 'exit' here: the thread is gone, and so is every file-system
        // call it had begun (Node emits 'exit' after the thread's own clean-up has waited for its
        // requests in flight; its messages, the 'write' records included, were delivered before
        // 'exit'), so nothing it did can land after this removal. Its own clean-up may have run
        // already, or stopped halfway; a thread terminated inside ensureWritableFolder leaves its
        // writability probe, which removeRunFiles removes too.
        await removeRunFiles({ written, started: begun }, createdDir, outDir);
      }
      if (result?.ok) resolvePromise(result.summary);
      else reject(result?.error ?? new FocalError('E_PLUGIN', 'the run thread stopped without a result (out of memory, or a native crash)'));
    };

    const onAbort = () => {
      if (cancelRequested || settled) {
        stop(); // a second request: stop now (after an onnxruntime call in flight)
        return;
      }
      cancelRequested = true;
      worker.postMessage({ t: 'cancel' });
      killTimer = setTimeout(stop, graceMs);
    };
    signal?.addEventListener('abort', onAbort);

    const onMessage = (m: IsolatedRunMessage) => {
      switch (m.t) {
        case 'event':
          watch.onEvent(m.event, (error) => {
            outcome ??= { ok: false, error };
            stop();
          });
          if (!cancelRequested) safely(() => options.onEvent?.(m.event));
          break;
        case 'log':
          safely(() => options.onLog?.(m.record));
          break;
        case 'write':
          (m.state === 'start' ? begun : written).push(m.file);
          break;
        case 'done':
          outcome = { ok: true, summary: m.summary };
          thread.runs++;
          // A thread that ran to its end by itself serves the pool's next run: this run lets go of it.
          if (options.pool && !cancelRequested && !stopping) {
            detach();
            if (options.pool.keep(key, thread)) {
              void finish();
              break;
            }
          }
          stop();
          // Cancelled, but the run finished first: what it wrote is removed on 'exit', once the
          // thread can no longer touch the folder (see finish).
          if (cancelRequested) break;
          // Everything is written: answer now, and let the thread's teardown (tens of ms for a
          // large heap) finish without holding up the caller or the process's exit.
          worker.unref();
          void finish();
          break;
        case 'error':
          outcome = { ok: false, error: fromErrorPayload(m.error) };
          stop();
          break;
      }
    };
    // 'error' can arrive before the thread's last messages (the node-start of the operation that
    // threw, on a loaded machine): which node to blame is decided on 'exit', after every message
    const onError = (e: Error) => {
      uncaught ??= e;
    };
    const onExit = (code: number) => {
      if (uncaught) outcome ??= { ok: false, error: watch.uncaught(uncaught) ?? new FocalError('E_PLUGIN', `the run thread failed: ${uncaught.message}`, {}, { cause: uncaught }) };
      if (!cancelRequested) outcome ??= watch.exited(code);
      void finish();
    };
    const detach = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/**
 * The operations running in the thread (from its node events), so that a fault the thread
 * cannot report itself is blamed on them: an uncaught exception or unhandled rejection in plugin
 * code, `process.exit()` (which ends a worker thread, not the process), an operation whose
 * promise never settles (the thread runs out of work and ends), or one past the time limit.
 */
class RunningNodes {
  private readonly running = new Map<string, { op: string; timer?: NodeJS.Timeout }>();
  constructor(private readonly timeoutMs?: number) {}

  onEvent(event: RunEvent, onTimeout: (error: FocalError) => void): void {
    if (event.type === 'node-start') {
      const entry: { op: string; timer?: NodeJS.Timeout } = { op: event.op };
      if (this.timeoutMs !== undefined && this.timeoutMs > 0) {
        const ms = this.timeoutMs;
        entry.timer = setTimeout(() => onTimeout(new FocalError('E_NODE_FAILED',
          `node '${event.node}' (${describeOp(event.op)}) did not finish within the operation time limit of ${formatMs(ms)}; the run was stopped`,
          { node: event.node, op: event.op })), ms);
      }
      this.running.set(event.node, entry);
    } else if (event.type === 'node-done' || event.type === 'node-error') {
      clearTimeout(this.running.get(event.node)?.timer);
      this.running.delete(event.node);
    }
  }

  /** The error for an uncaught exception in the thread while nodes ran, else undefined. */
  uncaught(e: Error): FocalError | undefined {
    const blame = this.blame();
    if (!blame) return undefined;
    return new FocalError('E_NODE_FAILED', `${blame.text} failed: unhandled error in the operation's code (an exception thrown outside its promise, or a rejected promise nobody awaited): ${e?.message ?? String(e)}`, blame.details, { cause: e });
  }

  /** The error for a thread that ended without a result while nodes ran, else undefined. */
  exited(code: number): { ok: false; error: FocalError } | undefined {
    const blame = this.blame();
    if (!blame) return undefined;
    const error = code !== 0
      ? new FocalError('E_NODE_FAILED', `${blame.text} ended the run thread with exit code ${code} (process.exit() in the operation's code?); no output was written`, { ...blame.details, exitCode: code })
      : new FocalError('E_NODE_FAILED', `${blame.text} never finished: its operation returned a promise that can no longer settle (nothing left to run), or called process.exit(0); no output was written`, blame.details);
    return { ok: false, error };
  }

  clear(): void {
    for (const e of this.running.values()) clearTimeout(e.timer);
    this.running.clear();
  }

  private blame(): { text: string; details: { node: string; op: string } } | undefined {
    const entries = [...this.running.entries()];
    if (entries.length === 0) return undefined;
    const text = entries.length === 1
      ? `node '${entries[0][0]}' (${describeOp(entries[0][1].op)})`
      : `one of the nodes ${entries.map(([n, e]) => `'${n}' (${describeOp(e.op)})`).join(', ')}`;
    return { text, details: { node: entries[0][0], op: entries[0][1].op } };
  }
}

/** process.env as plain strings (what structured cloning keeps). */
function plainEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

function describeOp(op: string): string {
  const dot = op.indexOf('.');
  return dot > 0 ? `op '${op}' of plugin '${op.slice(0, dot)}'` : `op '${op}'`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a listener's exception must not break the run */
  }
}
