/**
 * The worker side of the pool (workers.ts): imports the task's module (cached by the
 * module loader), calls the named export with the arguments and returns its result,
 * moving typed arrays and ArrayBuffers found at the top level of the result or in the
 * top-level fields of a returned object. Errors go back as plain data (WorkerErrorPayload)
 * so that a FocalError keeps its code and details. Runs only inside a piscina worker.
 * Returned arrays must own their buffers (not views of WebAssembly memory, which cannot move).
 *
 * With a progress port (the caller gave `onProgress`), the export is called with one more
 * argument after `args`: `report(fraction, label?)`. Reports are clamped to [0, 1], a fraction
 * below the last one is ignored (progress never goes back), and they are throttled (posted
 * when the fraction moved by PROGRESS_MIN_STEP or PROGRESS_MIN_INTERVAL_MS passed; 1 always);
 * the last one held back is posted when the export returns, then `done`.
 */
import type { MessagePort } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { FocalError } from '../errors.js';
import { PROGRESS_MIN_INTERVAL_MS, PROGRESS_MIN_STEP, toErrorPayload, type WorkerProgressMessage, type WorkerTask } from './worker-protocol.js';

function transferables(value: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (v: unknown) => {
    if (v instanceof ArrayBuffer) out.add(v);
    else if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
  };
  add(value);
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof ArrayBuffer)) {
    for (const v of Object.values(value)) add(v);
  }
  return [...out];
}

/** The `report` callback given to a task, posting throttled reports on `port`; `flush` posts the one held back. */
function progressReporter(port: MessagePort): { report: (fraction: number, label?: string) => void; flush: () => void } {
  let last = 0; // last fraction reported (posted or not)
  let posted: { fraction: number; label?: string } | undefined;
  let postedAt = 0;
  let held: { fraction: number; label?: string } | undefined;
  const post = (m: { fraction: number; label?: string }) => {
    port.postMessage(m satisfies WorkerProgressMessage);
    posted = m;
    postedAt = performance.now();
    held = undefined;
  };
  return {
    report(fraction, label) {
      if (typeof fraction !== 'number' || Number.isNaN(fraction)) return;
      const f = Math.min(1, Math.max(0, fraction));
      if (f < last) return;
      last = f;
      const m = label === undefined ? { fraction: f } : { fraction: f, label: String(label) };
      const now = performance.now();
      // a step of 1 % is taken as 0.01 even where floating point makes it 0.00999…
      const stepped = !posted || f - posted.fraction >= PROGRESS_MIN_STEP - 1e-9;
      const changed = !posted || f !== posted.fraction || m.label !== posted.label;
      if (f === 1 ? changed : stepped || (changed && now - postedAt >= PROGRESS_MIN_INTERVAL_MS)) post(m);
      else if (changed) held = m;
    },
    flush() {
      if (held) post(held);
    },
  };
}

export default async function runTask(task: WorkerTask): Promise<unknown> {
  let result: unknown;
  const port = task.progressPort;
  const progress = port ? progressReporter(port) : undefined;
  try {
    const mod = (await import(task.moduleUrl)) as Record<string, unknown>;
    const fn = mod[task.exportName];
    if (typeof fn !== 'function') {
      throw new FocalError('E_ARGUMENT', `${task.moduleUrl} has no exported function ${task.exportName}`, { field: 'exportName' });
    }
    const args = progress ? [...task.args, progress.report] : task.args;
    result = await (fn as (...args: unknown[]) => unknown)(...args);
  } catch (e) {
    port?.close();
    // plain data: structured cloning keeps every field
    throw toErrorPayload(e);
  }
  if (port && progress) {
    progress.flush();
    // after every report (one port keeps its order): the caller waits for it before resolving
    port.postMessage({ done: true } satisfies WorkerProgressMessage);
    port.close();
  }
  const list = transferables(result);
  if (list.length === 0) return result;
  return move({ [transferableSymbol]: list, [valueSymbol]: result } as unknown as ArrayBuffer);
}
