/**
 * Stack alignment: registering every slice of a series to a reference, StackReg-style.
 */
import { FocalError } from '../../core/index.js';
import { type SplineImage } from '../../core/imaging.js';
import { compose, identity, type Affine } from './affine.js';
import { prepareImage, registerPrepared, type PreparedImage, type TransformType } from './register.js';
import { pyramidDepth } from './pyramid.js';

export const REFERENCE_MODES = ['first', 'previous', 'mean', 'moving-average'] as const;
/** A named reference mode or the 0-based index of the reference slice. */
export type ReferenceMode = (typeof REFERENCE_MODES)[number] | number;

export interface AlignOptions {
  transform: TransformType;
  reference: ReferenceMode;
  /** Slices averaged (centred window) for `moving-average`. Default 3. */
  movingAverageWindow?: number;
  /** Shorter side of the coarsest pyramid level, px. Default 24. */
  minLevelSizePx?: number;
  /** Called after each slice is registered (for progress and cancellation). */
  onSlice?: (done: number, total: number) => void;
}

/**
 * Registers a series of planes and returns one matrix per slice, each mapping a point of the
 * aligned output (the reference frame) to the same feature in that slice:
 *
 * - `first` or an index k: every slice is registered to slice k (k gets the identity); the
 *   search for slice i starts from the result of its neighbour nearer to k;
 * - `previous`: slice i is registered to the raw slice i−1 and the pairwise transforms are
 *   composed, so every matrix maps into the first slice's frame (StackReg's propagation,
 *   anchored at the first slice, without resampling error accumulating);
 * - `mean`: every slice is registered to the mean of all slices (the mean's frame), then
 *   once more to the mean of the slices so aligned (a sharper template, same frame);
 * - `moving-average`: as `previous`, on slices replaced by the mean of a centred window of
 *   `movingAverageWindow` slices (pystackreg's moving average, for noisy series).
 *
 * @param slices Row-major planes of width × height (not modified).
 * @throws FocalError `E_PARAMS` (field `reference` / `movingAverageWindow`) for an index
 *   outside the series or a window < 1; `E_ARGUMENT` for planes of the wrong size.
 */
export function alignSlices(slices: readonly ArrayLike<number>[], width: number, height: number, options: AlignOptions): Affine[] {
  const n = slices.length;
  slices.forEach((s, i) => {
    if (s.length !== width * height) throw new FocalError('E_ARGUMENT', `slice ${i} has ${s.length} pixels, expected ${width * height}`);
  });
  const { transform, reference } = options;
  if (typeof reference === 'number' && !(Number.isInteger(reference) && reference >= 0 && reference < n)) {
    throw new FocalError('E_PARAMS', `reference: slice index ${reference} is outside the series of ${n} slices (0…${n - 1})`, { field: 'reference' });
  }
  const window = options.movingAverageWindow ?? 3;
  if (!(Number.isInteger(window) && window >= 1)) throw new FocalError('E_PARAMS', `movingAverageWindow must be an integer ≥ 1, got ${window}`, { field: 'movingAverageWindow' });
  const out: Affine[] = Array.from({ length: n }, () => identity());
  if (n <= 1) {
    options.onSlice?.(n, n);
    return out;
  }
  const levels = pyramidDepth(width, height, options.minLevelSizePx ?? 24);
  const prep = (data: ArrayLike<number>, asMoving: boolean): PreparedImage => prepareImage(data, width, height, { levels, asMoving });
  let done = 0;
  const tick = () => options.onSlice?.(++done, n);

  if (reference === 'previous' || reference === 'moving-average') {
    const source = reference === 'previous' ? slices : movingAverage(slices, width * height, window);
    let prev = prep(source[0], false);
    tick();
    for (let i = 1; i < n; i++) {
      const cur = prep(source[i], true);
      const pair = registerPrepared(prev, cur, { transform }).matrix;
      out[i] = compose(pair, out[i - 1]);
      prev = cur;
      tick();
    }
    return out;
  }
  if (reference === 'mean') {
    // pass 1: register to the mean of the raw slices; pass 2: to the mean of the slices
    // aligned by pass 1 (a sharper template in the same frame), starting from pass 1.
    const mean = new Float64Array(width * height);
    for (const s of slices) for (let k = 0; k < mean.length; k++) mean[k] += s[k];
    for (let k = 0; k < mean.length; k++) mean[k] /= n;
    const moving = slices.map((s) => prep(s, true));
    let ref = prep(mean, false);
    for (let i = 0; i < n; i++) out[i] = registerPrepared(ref, moving[i], { transform }).matrix;
    ref = prep(alignedMean(moving.map((m) => m.splines[0]!), out, mean, width, height), false);
    for (let i = 0; i < n; i++) {
      out[i] = registerPrepared(ref, moving[i], { transform, initial: out[i] }).matrix;
      tick();
    }
    return out;
  }
  const k = reference === 'first' ? 0 : reference;
  const ref = prep(slices[k], false);
  tick();
  for (let i = k + 1; i < n; i++) {
    out[i] = registerPrepared(ref, prep(slices[i], true), { transform, initial: out[i - 1] }).matrix;
    tick();
  }
  for (let i = k - 1; i >= 0; i--) {
    out[i] = registerPrepared(ref, prep(slices[i], true), { transform, initial: out[i + 1] }).matrix;
    tick();
  }
  return out;
}

/** Mean of the slices resampled through `matrices` (spline models), where they cover the pixel; `fallback` elsewhere. */
function alignedMean(models: readonly SplineImage[], matrices: readonly Affine[], fallback: Float64Array, width: number, height: number): Float64Array {
  const sum = new Float64Array(width * height);
  const count = new Uint32Array(width * height);
  models.forEach((model, i) => {
    const m = matrices[i];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const qx = m[0] * x + m[1] * y + m[2];
        const qy = m[3] * x + m[4] * y + m[5];
        if (qx < 0 || qx > width - 1 || qy < 0 || qy > height - 1) continue;
        sum[y * width + x] += model.value(qx, qy);
        count[y * width + x]++;
      }
    }
  });
  for (let k = 0; k < sum.length; k++) sum[k] = count[k] > 0 ? sum[k] / count[k] : fallback[k];
  return sum;
}

/** Mean of a centred window of `window` slices around each slice (clipped at the ends). */
export function movingAverage(slices: readonly ArrayLike<number>[], length: number, window: number): Float64Array[] {
  const n = slices.length;
  const before = Math.floor((window - 1) / 2);
  const after = window - 1 - before;
  return slices.map((_, i) => {
    const a = Math.max(0, i - before);
    const b = Math.min(n - 1, i + after);
    const m = new Float64Array(length);
    for (let j = a; j <= b; j++) {
      const s = slices[j];
      for (let p = 0; p < length; p++) m[p] += s[p];
    }
    const inv = 1 / (b - a + 1);
    for (let p = 0; p < length; p++) m[p] *= inv;
    return m;
  });
}
