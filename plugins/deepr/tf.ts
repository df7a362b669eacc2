/**
 * The one place plugins/deepr obtains TensorFlow.js: core's `loadTf` (best backend first,
 * FOCAL_BACKEND / `--backend` override). Loaded lazily, so `focal run` on non-DL pipelines
 * never loads tfjs.
 */
import { type BackendName } from '../../core/index.js';
import { loadTf, type Tf } from '../../core/ml.js';

export type { Tf };
export type TfBackendName = BackendName;

/** tfjs with a ready backend (one instance per process; see core's loadTf). */
export async function getTf(options: { backend?: BackendName } = {}): Promise<{ tf: Tf; backend: BackendName }> {
  const { tf, backend } = await loadTf(options);
  return { tf, backend };
}
