/** What the pool (workers.ts) and the worker entry (worker-entry.ts) exchange. */

import type { MessagePort } from 'node:worker_threads';

/**
 * One task: call `exportName` of the module at `moduleUrl` (a file URL of JavaScript) with
 * `args`, and with a progress callback appended to them when `progressPort` is given.
 */
export interface WorkerTask {
  moduleUrl: string;
  exportName: string;
  args: unknown[];
  /** Where the worker posts {@link WorkerProgressMessage}s (moved with the task's transferList). */
  progressPort?: MessagePort;
}

/** Posted on a task's progress port: a progress report, or `done` once the task returned (after every report). */
export type WorkerProgressMessage = { fraction: number; label?: string } | { done: true };

/** The worker posts a report when the fraction moved by at least this much since the last one posted… */
export const PROGRESS_MIN_STEP = 0.01;
/** …or when this many ms passed since then (and the fraction or label changed); a fraction of 1 is always posted. */
export const PROGRESS_MIN_INTERVAL_MS = 100;

/** Marks an error thrown by a worker task, sent as plain data (structured clone drops an error's own fields). */
export const WORKER_ERROR_MARK = '__focalWorkerError';

export interface WorkerErrorPayload {
  [WORKER_ERROR_MARK]: true;
  /** Whether the error was a FocalError (then `code` and `details` are kept). */
  focal: boolean;
  name: string;
  message: string;
  code?: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/** An error as plain data (structured cloning keeps neither a FocalError's code nor its details). */
export function toErrorPayload(e: unknown): WorkerErrorPayload {
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
