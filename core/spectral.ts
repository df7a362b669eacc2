/**
 * Focal's second public entry, `focal/spectral`: FFT plans, the PFFFT WebAssembly spectral
 * backends, their SIMD kernel switch and the image convolvers. Internals of core's numeric
 * floor that only FFT-heavy code needs: today plugins/deconvolution (its RL/Landweber engine
 * and the fused WebAssembly RL loop) and bench/optics. Everything else uses `focal`
 * (core/index.ts); this entry may change between minor versions.
 */
export { RealFft3d, nextFastSize } from './numeric/fft/plan.js';
export { convolveDirect, ImageConvolver, FftConvolver, LayeredConvolver, type ConvolveBoundary, type ConvolveOptions } from './numeric/fft/convolve.js';
export {
  loadPffft, pffftStatus, setSimdKernels, simdKernels, createBackend as createSpectralBackend, boxSizes as spectralBoxSizes, backendBytes as spectralBackendBytes,
  PffftBackend, PFFFT_FORWARD, PFFFT_BACKWARD,
  type SpectralBackend, type Filter as SpectralFilter, type BackendChoice as SpectralBackendChoice, type RowMath,
} from './numeric/fft/spectral.js';
