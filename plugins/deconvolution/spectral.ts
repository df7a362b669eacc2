/**
 * The spectral backends live in core (core/numeric/fft/spectral.ts); this module loads
 * PFFFT before the engine first runs (core does not load it on import), so that 'auto'
 * picks the WebAssembly backend from the first call on.
 */
import { loadPffft } from '../../core/spectral.js';

await loadPffft();

export {
  spectralBackendBytes as backendBytes, spectralBoxSizes as boxSizes, createSpectralBackend as createBackend, pffftStatus, setSimdKernels,
  type SpectralBackendChoice as BackendChoice, type SpectralFilter as Filter,
} from '../../core/spectral.js';
