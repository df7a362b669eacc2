/**
 * The thread side of runIsolated (isolated-run.ts): builds the runner with the host module,
 * runs each request it is sent, one at a time, and sends events, log records, file writes and
 * the outcome back. A `cancel` message aborts the run's signal; the caller terminates the thread
 * if that is not enough. The runner is built once, by the first run: a RunThreadPool sends a
 * thread only runs with the same host config and environment. It imports nothing heavy itself (the host module brings reflect-metadata, core and
 * its plugins), so that a prestarted thread reaches its host module's preload at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogRecord } from './logger.js';
import type { IsolatedRunHost, IsolatedRunMessage, IsolatedRunPreload, IsolatedRunStart } from './isolated-run.js';
import { toErrorPayload } from './worker-protocol.js';
import { shareNativeCalls } from './native-calls.js';

const { hostModule, nativeCalls } = workerData as { hostModule: string; nativeCalls: SharedArrayBuffer };
// the host terminates this thread only when no onnxruntime call is in flight (native-calls.ts)
shareNativeCalls(nativeCalls);
const port = parentPort!;
const post = (m: IsolatedRunMessage) => port.postMessage(m);
/** The controller of the last run received, the one in progress or about to start (a cancel message aborts it). */
let controller: AbortController | undefined;

// Runs arrive as messages, one at a time: the thread may have been started before its first run
// was known (prestartIsolatedRun), and loads the host's modules meanwhile; a RunThreadPool hands
// it the next run once one has finished.
const pending: { start: IsolatedRunStart; signal: AbortSignal }[] = [];
let wake: (() => void) | undefined;
port.on('message', (m: { t?: string }) => {
  if (m?.t === 'run') {
    controller = new AbortController();
    pending.push({ start: m as IsolatedRunStart, signal: controller.signal });
    wake?.();
  } else if (m?.t === 'cancel') controller?.abort();
});
async function nextRun(): Promise<{ start: IsolatedRunStart; signal: AbortSignal }> {
  while (pending.length === 0) await new Promise<void>((r) => (wake = r));
  wake = undefined;
  return pending.shift()!;
}
type HostModule = { createIsolatedRunner?: IsolatedRunHost; preloadIsolatedRunner?: IsolatedRunPreload };
const loaded: Promise<HostModule> = import(hostModule).then(async (mod: HostModule) => {
  await mod.preloadIsolatedRunner?.();
  return mod;
});
loaded.catch(() => {
  /* reported when the run starts */
});

/** Log fields can hold anything; only what JSON keeps crosses the thread boundary. */
function plainRecord(r: LogRecord): LogRecord {
  try {
    return JSON.parse(JSON.stringify(r)) as LogRecord;
  } catch {
    return { level: r.level, message: r.message, fields: {} };
  }
}

/** This thread's environment made the caller's (a thread copies it when created). */
function adoptEnv(env: Record<string, string>): void {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
}

/** The runner, built by the first run (a kept thread only serves runs with the same host config). */
let runner: ReturnType<IsolatedRunHost> | undefined;

for (;;) {
  const { start: { hostConfig, request, env }, signal } = await nextRun();
  adoptEnv(env);
  try {
    runner ??= loaded.then((mod) => {
      if (typeof mod.createIsolatedRunner !== 'function') throw new Error(`${hostModule} exports no createIsolatedRunner`);
      return mod.createIsolatedRunner(hostConfig, { log: (record) => post({ t: 'log', record: plainRecord(record) }) });
    });
    const summary = await (await runner).run({
      ...request,
      signal,
      onEvent: (event) => post({ t: 'event', event }),
      onWrite: (file, state) => post({ t: 'write', file, state }),
    });
    post({ t: 'done', summary });
  } catch (err) {
    post({ t: 'error', error: toErrorPayload(err) });
  }
}
