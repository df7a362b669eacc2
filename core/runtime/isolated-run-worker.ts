/**
 * The thread side of runIsolated (isolated-run.ts): builds the runner with the host module,
 * runs the request, and sends events, log records, file writes and the outcome back. A
 * `cancel` message aborts the run's signal; the caller terminates the thread if that is not
 * enough.
 */
import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import type { LogRecord } from './logger.js';
import type { IsolatedRunHost, IsolatedRunMessage, IsolatedRunRequest } from './isolated-run.js';
import { toErrorPayload } from './worker-protocol.js';
import { shareNativeCalls } from './native-calls.js';

const { hostModule, hostConfig, request, nativeCalls } = workerData as { hostModule: string; hostConfig: unknown; request: IsolatedRunRequest; nativeCalls: SharedArrayBuffer };
// the host terminates this thread only when no onnxruntime call is in flight (native-calls.ts)
shareNativeCalls(nativeCalls);
const port = parentPort!;
const post = (m: IsolatedRunMessage) => port.postMessage(m);
const controller = new AbortController();
port.on('message', (m: { t?: string }) => {
  if (m?.t === 'cancel') controller.abort();
});

/** Log fields can hold anything; only what JSON keeps crosses the thread boundary. */
function plainRecord(r: LogRecord): LogRecord {
  try {
    return JSON.parse(JSON.stringify(r)) as LogRecord;
  } catch {
    return { level: r.level, message: r.message, fields: {} };
  }
}

try {
  const mod = (await import(hostModule)) as { createIsolatedRunner?: IsolatedRunHost };
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
