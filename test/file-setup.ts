/**
 * Runs around every test file (vitest `setupFiles`). The suite runs with `isolate: false`: the
 * files of one worker share its module cache, so Focal, TensorFlow.js and onnxruntime are
 * imported once per worker rather than once per file (vitest's import time 139 s → 16–20 s of a
 * 1 020 s CPU suite; docs/contributing.md). What a file changes in the process must therefore not
 * reach the next file. After each file this puts back:
 *
 * - `process.env` as it was before the file (keys added removed, keys changed restored), except
 *   `ORT_DISABLE_TELEMETRY`, which core sets once a process, before onnxruntime loads, for its life;
 * - `process.exitCode`;
 * - TensorFlow.js's backend: a file that chose one (`tf.setBackend('cpu')`, `loadTf({ backend })`)
 *   leaves the process on it, and `loadTf()` keeps an active backend, so the next file would run
 *   on the CPU kernels instead of the default a user gets. It is set back to the best available
 *   one, as a fresh process picks.
 */
import { afterAll } from 'vitest';

const env = { ...process.env };
const exitCode = process.exitCode;

afterAll(async () => {
  for (const key of Object.keys(process.env)) if (!(key in env) && key !== 'ORT_DISABLE_TELEMETRY') delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (process.env[key] !== value) process.env[key] = value;
  process.exitCode = exitCode;
  // TensorFlow.js keeps its engine on the global object once it is imported: not imported, nothing to put back
  if ((globalThis as { _tfengine?: unknown })._tfengine === undefined) return;
  const { detectBackends, loadTf } = await import('../core/ml/backend.js');
  const best = (await detectBackends()).find((r) => r.available)?.name;
  if (best) await loadTf({ backend: best });
});
