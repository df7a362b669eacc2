/**
 * Deep-R's data preparation (Luo et al., "Single-shot autofocusing of microscopy images
 * using deep learning", Methods, "Data pre-processing"): crop an aligned z-stack and its
 * EDOF image into non-overlapping patches, take as in-focus (z = 0 µm) plane of each patch
 * the one with the highest SSIM to the EDOF image, and pair every other plane (within a
 * defocus range) with it, labelled with its defocus distance.
 */
import { FocalError } from '../../core/index.js';
import { ssim } from '../../core/imaging.js';

export type FocusSelection = 'patch' | 'stack';
export const FOCUS_SELECTIONS: readonly FocusSelection[] = ['patch', 'stack'];

/** Options of {@link planAutofocusPairs}. */
export interface AutofocusPairsOptions {
  /** Patch side, px. */
  patchPx: number;
  /** Distance between z planes, µm (> 0). */
  zStepUm: number;
  /** Keep only planes with |z − z_focus|·zStepUm ≤ this, µm. Default: all planes. */
  maxDefocusUm?: number;
  /** In-focus plane chosen per patch (default, as Deep-R) or once for the whole field of view. */
  focusSelection?: FocusSelection;
  /** Pair the in-focus plane with itself (defocus 0). Default true. */
  includeInFocus?: boolean;
  /** Drop patches whose in-focus plane is the first or last plane (the focus may lie outside the stack). Default true. */
  dropEdgeFocus?: boolean;
  /** Called after each patch (progress, cancellation: may throw). */
  onPatch?: (done: number, total: number) => void;
}

/** One patch of the grid. */
export interface PatchPlan {
  patch: number;
  /** Top-left corner, px. */
  x: number;
  y: number;
  /** 0-based z index of the in-focus plane. */
  focusZ: number;
  /** SSIM of each plane's patch to the EDOF patch. */
  ssimToFused: number[];
  /** True when dropped because the focus is the first or last plane. */
  dropped: boolean;
}

/** One input/target pair. */
export interface PairPlan {
  pair: number;
  patch: number;
  /** Index of the patch's target among the kept patches (the `t` index in the targets stack). */
  target: number;
  x: number;
  y: number;
  sourceZ: number;
  focusZ: number;
  /** (sourceZ − focusZ)·zStepUm, µm: positive for planes after the in-focus plane in stack order. */
  defocusUm: number;
  ssimToFused: number;
}

function arg(field: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${field}: ${message}`, { field });
}

/** Copies the patchPx² window at (x0, y0) of a row-major plane into a Float64Array. */
export function cropPatch(plane: ArrayLike<number>, width: number, x0: number, y0: number, patchPx: number, out = new Float64Array(patchPx * patchPx)): Float64Array {
  for (let y = 0; y < patchPx; y++) {
    const src = (y0 + y) * width + x0;
    const dst = y * patchPx;
    for (let x = 0; x < patchPx; x++) out[dst + x] = plane[src + x];
  }
  return out;
}

function rangeOf(data: Float64Array): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi > lo ? hi - lo : 1;
}

/**
 * Plans the pairs: patch grid (non-overlapping, from the top-left corner; a remainder
 * narrower than patchPx at the right / bottom is not used), in-focus plane per patch (or per
 * stack) by the highest SSIM to the EDOF image (data range: the EDOF patch's max − min),
 * pairs within the defocus range.
 *
 * @param planes One plane per z (one channel), width × height each; not modified.
 * @param fused The EDOF image of that channel.
 * @throws FocalError `E_ARGUMENT` naming the field (planes, fused, patchPx, zStepUm, maxDefocusUm, focusSelection).
 */
export function planAutofocusPairs(planes: readonly ArrayLike<number>[], fused: ArrayLike<number>, width: number, height: number, options: AutofocusPairsOptions): { patches: PatchPlan[]; pairs: PairPlan[] } {
  const n = width * height;
  if (planes.length < 1) throw arg('planes', 'give at least one z plane');
  planes.forEach((p, z) => {
    if (p.length !== n) throw arg('planes', `plane z=${z} has ${p.length} pixels, expected ${width}×${height} = ${n}`);
  });
  if (fused.length !== n) throw arg('fused', `has ${fused.length} pixels, expected ${width}×${height} = ${n}`);
  const { patchPx, zStepUm } = options;
  if (!Number.isInteger(patchPx) || patchPx < 16) throw arg('patchPx', `must be an integer ≥ 16, got ${patchPx}`);
  if (patchPx > width || patchPx > height) throw arg('patchPx', `${patchPx} px patches do not fit in a ${width}×${height} image`);
  if (!Number.isFinite(zStepUm) || zStepUm <= 0) throw arg('zStepUm', `must be a finite number > 0 (µm), got ${zStepUm}`);
  const maxDefocus = options.maxDefocusUm ?? Infinity;
  if (!(maxDefocus >= 0)) throw arg('maxDefocusUm', `must be ≥ 0 (µm), got ${options.maxDefocusUm}`);
  const selection = options.focusSelection ?? 'patch';
  if (!FOCUS_SELECTIONS.includes(selection)) throw arg('focusSelection', `must be one of ${FOCUS_SELECTIONS.join(', ')}, got ${String(selection)}`);
  const includeInFocus = options.includeInFocus ?? true;
  const dropEdge = options.dropEdgeFocus ?? true;
  const sizeZ = planes.length;

  const nx = Math.floor(width / patchPx);
  const ny = Math.floor(height / patchPx);
  const total = nx * ny;
  const ref = new Float64Array(patchPx * patchPx);
  const buf = new Float64Array(patchPx * patchPx);
  const patches: PatchPlan[] = [];
  for (let py = 0; py < ny; py++) {
    for (let px = 0; px < nx; px++) {
      const x = px * patchPx;
      const y = py * patchPx;
      cropPatch(fused, width, x, y, patchPx, ref);
      const dataRange = rangeOf(ref);
      const scores = planes.map((p) => ssim(cropPatch(p, width, x, y, patchPx, buf), ref, patchPx, patchPx, { dataRange }));
      patches.push({ patch: patches.length, x, y, focusZ: argmax(scores), ssimToFused: scores, dropped: false });
      options.onPatch?.(patches.length, total);
    }
  }
  if (selection === 'stack') {
    // the whole field of view: mean SSIM over the patches (the patches tile the used area equally)
    const mean = new Array<number>(sizeZ).fill(0);
    for (const p of patches) p.ssimToFused.forEach((s, z) => (mean[z] += s / patches.length));
    const focusZ = argmax(mean);
    for (const p of patches) p.focusZ = focusZ;
  }
  const pairs: PairPlan[] = [];
  let target = 0;
  for (const p of patches) {
    if (dropEdge && sizeZ > 2 && (p.focusZ === 0 || p.focusZ === sizeZ - 1)) {
      p.dropped = true;
      continue;
    }
    for (let z = 0; z < sizeZ; z++) {
      const defocusUm = (z - p.focusZ) * zStepUm;
      if (Math.abs(defocusUm) > maxDefocus + 1e-9) continue;
      if (z === p.focusZ && !includeInFocus) continue;
      pairs.push({ pair: pairs.length, patch: p.patch, target, x: p.x, y: p.y, sourceZ: z, focusZ: p.focusZ, defocusUm, ssimToFused: p.ssimToFused[z] });
    }
    target++;
  }
  return { patches, pairs };
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
