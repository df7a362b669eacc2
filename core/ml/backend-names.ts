/**
 * The deep-learning backends' names, apart from the backends themselves (core/ml/backend.ts),
 * so that the CLI can parse --backend without loading TensorFlow.js (core/startup.ts).
 */
import { FocalError } from '../errors.js';

export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** All backends, best first. */
export const BACKEND_NAMES: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** Parses a backend name (FOCAL_BACKEND, --backend); `auto` or empty means "best available". */
export function parseBackendName(value: string | undefined, field = 'FOCAL_BACKEND'): BackendName | undefined {
  if (value === undefined) return undefined;
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'auto') return undefined;
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new FocalError('E_USAGE', `${field}: unknown backend '${value}' (expected one of auto, ${BACKEND_NAMES.join(', ')})`, { field });
}
