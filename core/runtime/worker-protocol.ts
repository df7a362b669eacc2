/** What the pool (workers.ts) and the worker entry (worker-entry.ts) exchange. */

/** One task: call `exportName` of the module at `moduleUrl` (a file URL of JavaScript) with `args`. */
export interface WorkerTask {
  moduleUrl: string;
  exportName: string;
  args: unknown[];
}

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
