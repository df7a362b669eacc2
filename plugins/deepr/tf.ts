/**
 * The one place plugins/deepr obtains TensorFlow.js: core's `loadTf` (best backend first,
 * FOCAL_BACKEND / `--backend` override). Loaded lazily, so `focal run` on non-DL pipelines
 * never loads tfjs.
 */
import { loadTf, type BackendName, type Tf } from '../../core/index.js';

export type { Tf };
export type TfBackendName = BackendName;

/** tfjs with a ready backend (one instance per process; see core's loadTf). */
export async function getTf(options: { backend?: BackendName } = {}): Promise<{ tf: Tf; backend: BackendName }> {
  const { tf, backend } = await loadTf(options);
  return { tf, backend };
}
