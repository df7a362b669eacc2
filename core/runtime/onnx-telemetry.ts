/**
 * onnxruntime-node (1.30 on Linux, measured) records usage telemetry by default: every session's
 * model file name, graph and producer names, the host's OS and CPU, run times. It queues these
 * events in ~/.cache/Microsoft/DeveloperTools/.onnxruntime (a device id and an SQLite file that
 * grows with every session), writes an empty `mat-debug-<pid>.log` in the temporary folder per
 * process, and uploads the queue over HTTPS when it can. (It stays off where `CI` is set, so a
 * CI run does not show it.)
 *
 * Focal runs next to microscopes and slide scanners, on data a lab may not let leave the
 * building, and promises to work offline; so it switches that off before onnxruntime loads,
 * unless the user has set `ORT_DISABLE_TELEMETRY` themselves (`0` keeps it on).
 *
 * The switch is read by native code from the process environment. A worker thread's
 * `process.env` is its own copy and never reaches native code, so the main thread sets it
 * before it starts any worker (isolated runs, training workers, the worker pool) as well as
 * before its own first import of onnxruntime-node.
 */

/** The environment variable onnxruntime reads. */
export const ONNX_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

/** Turns onnxruntime's telemetry off in `env` (the process's own by default) unless it is already set; returns whether it is off. */
export function disableOnnxTelemetry(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[ONNX_TELEMETRY_VARIABLE] === undefined) env[ONNX_TELEMETRY_VARIABLE] = '1';
  return onnxTelemetryOff(env);
}

/** Whether `env` turns onnxruntime's telemetry off: 1.30 keeps it on for unset, empty, `0` and `false`, and turns it off for `1`, `true`, `yes` (measured). */
export function onnxTelemetryOff(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[ONNX_TELEMETRY_VARIABLE];
  return value !== undefined && !['', '0', 'false'].includes(value.trim().toLowerCase());
}
