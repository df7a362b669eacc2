/**
 * The thread side of runIsolated (isolated-run.ts): builds the runner with the host module,
 * runs the request, and sends events, log records, file writes and the outcome back. A
 * `cancel` message aborts the run's signal; the caller terminates the thread if that is not
 * enough. It imports nothing heavy itself (the host module brings reflect-metadata, core and
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
const controller = new AbortController();

// The run arrives as a message: the thread may have been started before it was known
// (prestartIsolatedRun), and loads the host's modules meanwhile.
const started = new Promise<IsolatedRunStart>((resolve) => {
  port.on('message', (m: { t?: string }) => {
    if (m?.t === 'run') resolve(m as IsolatedRunStart);
    else if (m?.t === 'cancel') controller.abort();
  });
});
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

const { hostConfig, request, env } = await started;
adoptEnv(env);
try {
  const mod = await loaded;
  if (typeof mod.createIsolatedRunner !== 'function') throw new Error(`${hostModule} exports no createIsolatedRunner`);
  const runner = await mod.createIsolatedRunner(hostConfig, { log: (record) => post({ t: 'log', record: plainRecord(record) }) });
  const summary = await runner.run({
    ...request,
    signal: controller.signal,
    onEvent: (event) => post({ t: 'event', event }),
    onWrite: (file, state) => post({ t: 'write', file, state }),
  });
  post({ t: 'done', summary });
} catch (err) {
  post({ t: 'error', error: toErrorPayload(err) });
}
