/**
 * The worker side of the pool (workers.ts): imports the task's module (cached by the
 * module loader), calls the named export with the arguments and returns its result,
 * moving typed arrays and ArrayBuffers found at the top level of the result or in the
 * top-level fields of a returned object. Errors go back as plain data (WorkerErrorPayload)
 * so that a FocalError keeps its code and details. Runs only inside a piscina worker.
 * Returned arrays must own their buffers (not views of WebAssembly memory, which cannot move).
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { FocalError } from '../errors.js';
import { WORKER_ERROR_MARK, type WorkerErrorPayload, type WorkerTask } from './worker-protocol.js';

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

function payload(e: unknown): WorkerErrorPayload {
  const err = e instanceof Error ? e : new Error(String(e));
  const focal = err.name === 'FocalError' && typeof (err as { code?: unknown }).code === 'string';
  let details: Record<string, unknown> | undefined;
  if (focal) {
    try {
      details = JSON.parse(JSON.stringify((err as { details?: unknown }).details ?? {})) as Record<string, unknown>;
    } catch {
      details = {};
    }
  }
  return {
    [WORKER_ERROR_MARK]: true,
    focal,
    name: err.name,
    message: err.message,
    ...(focal ? { code: (err as unknown as { code: string }).code, details } : {}),
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
  };
}

export default async function runTask(task: WorkerTask): Promise<unknown> {
  let result: unknown;
  try {
    const mod = (await import(task.moduleUrl)) as Record<string, unknown>;
    const fn = mod[task.exportName];
    if (typeof fn !== 'function') {
      throw new FocalError('E_ARGUMENT', `${task.moduleUrl} has no exported function ${task.exportName}`, { field: 'exportName' });
    }
    result = await (fn as (...args: unknown[]) => unknown)(...task.args);
  } catch (e) {
    // plain data: structured cloning keeps every field
    throw payload(e);
  }
  const list = transferables(result);
  if (list.length === 0) return result;
  return move({ [transferableSymbol]: list, [valueSymbol]: result } as unknown as ArrayBuffer);
}
