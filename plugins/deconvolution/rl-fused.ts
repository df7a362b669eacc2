/**
 * The fused Richardson–Lucy iteration on core's PFFFT backend: the row and column phases
 * of one filtering pass with the pointwise RL steps done per row in the WebAssembly SIMD
 * kernels, so no scratch box is written between the two convolutions.
 */
import { PFFFT_BACKWARD, PFFFT_FORWARD, PffftBackend, simdKernels, type SpectralBackend, type SpectralFilter } from '../../core/spectral.js';

/** Whether {@link rlIterationFused} can run on this backend (PFFFT with the SIMD kernels). */
export function canFuseRl(b: SpectralBackend): b is PffftBackend {
  return b instanceof PffftBackend && b.fusedRl;
}

/**
 * One fused Richardson–Lucy iteration, est ← est · Kᵀ(obs / (K est + 10⁻¹²)), with the
 * same arithmetic as two filterPass calls with RowMath.ratio and RowMath.mul, but each
 * row's ratio is transformed forward right after it is computed (no scratch box), and
 * with `carry` the updated estimate's rows are transformed for the next call (which
 * must then get the same `est`, unchanged).
 */
export function rlIterationFused(b: PffftBackend, est: Float32Array, obs: Float32Array, f: SpectralFilter, carry: boolean): void {
  const k = simdKernels()!;
  const { mod, nx, ny, setupR, work } = b;
  if (b.carried !== est) b.rowsForward(est);
  b.carried = undefined;
  b.columnPhase(f, false);
  const tmp = b.tmpRow;
  const t4 = tmp >> 2;
  for (let y = 0, off = 0; y < ny; y++, off += nx) {
    const row = b.rows + 4 * off;
    mod._pffft_transform_ordered(setupR, row, row, work, PFFFT_BACKWARD);
    mod.HEAPF32.set(obs.subarray(off, off + nx), t4);
    k.ratio(row, tmp, nx);
    mod._pffft_transform_ordered(setupR, row, row, work, PFFFT_FORWARD);
  }
  b.columnPhase(f, true);
  const H = mod.HEAPF32;
  for (let y = 0, off = 0; y < ny; y++, off += nx) {
    const row = b.rows + 4 * off;
    mod._pffft_transform_ordered(setupR, row, row, work, PFFFT_BACKWARD);
    H.set(est.subarray(off, off + nx), t4);
    k.mul(tmp, row, nx);
    est.set(H.subarray(t4, t4 + nx), off);
    if (carry) {
      H.copyWithin(row >> 2, t4, t4 + nx);
      mod._pffft_transform_ordered(setupR, row, row, work, PFFFT_FORWARD);
    }
  }
  if (carry) b.carried = est;
}
