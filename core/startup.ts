/**
 * Core's second, deliberately small public entry: what the CLI needs before it knows which
 * command will run (the error class, the deep-learning backend names for --backend, the host's
 * version). It imports nothing heavy, so `focal --help` does not load the readers, the pipeline code or any
 * plugin; everything else comes from core/index.ts, imported when a command runs.
 */
export { FocalError, isFocalError, USAGE_ERROR_CODES, type FocalErrorCode } from './errors.js';
export { BACKEND_NAMES, parseBackendName, type BackendName } from './ml/backend-names.js';
export { hostFocalVersion } from './plugin/version.js';
export { formatDuration } from './runtime/eta.js';
export { prestartIsolatedRun, runIsolated, RunThreadPool, type RunThreadPoolOptions, type IsolatedRunOptions, type PrestartedRun, type IsolatedRunPreload, type IsolatedRunHost, type IsolatedRunHooks, type IsolatedRunRequest } from './runtime/isolated-run.js';
export type { RunSummary, RunRequest } from './runtime/runner.js';
export type { RunEvent } from './pipeline/executor.js';
export type { LogRecord } from './runtime/logger.js';
