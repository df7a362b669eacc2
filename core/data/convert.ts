import { FocalError } from '../errors.js';
import { allocate, integerRange, type ArrayFor, type DType, type PixelArray } from './dtype.js';
import { withPlanes, type Stack } from './stack.js';

/**
 * How values are mapped when converting between dtypes.
 *
 * - `none`: values are kept. Converting to an integer type rounds to the nearest
 *   integer (halves up) and clamps to the type's range; NaN becomes 0.
 * - `minmax`: the data's [min, max] (over all planes, or the given `range`) is mapped
 *   linearly onto the target's full range: 0–255, 0–65535, or 0–1 for float32.
 *   This is what ImageJ does when "Scale when converting" is on.
 * - `dtype-range`: the source type's full range is mapped onto the target's
 *   (uint8 → uint16 multiplies by 257; integer → float32 gives 0–1; float32 is taken as 0–1).
 */
export type ScaleMode = 'none' | 'minmax' | 'dtype-range';
export const SCALE_MODES: readonly ScaleMode[] = ['none', 'minmax', 'dtype-range'];

export interface ConvertOptions {
  scale?: ScaleMode;
  /** For `minmax`: the source interval to map instead of the data's own min and max. */
  range?: [number, number];
}

/** Minimum and maximum over arrays, ignoring NaN. Returns [0, 0] when there are no finite values. */
export function minMax(arrays: readonly PixelArray[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

function fullRange(dtype: DType): [number, number] {
  return integerRange(dtype) ?? [0, 1];
}

/** Converts planes to `target` with one mapping shared by all planes. */
export function convertPlanes<D extends DType>(planes: readonly PixelArray[], source: DType, target: D, options: ConvertOptions = {}): ArrayFor<D>[] {
  const scale = options.scale ?? 'none';
  let offset = 0;
  let factor = 1;
  if (scale === 'minmax') {
    const [lo, hi] = options.range ?? minMax(planes);
    const [tlo, thi] = fullRange(target);
    factor = hi > lo ? (thi - tlo) / (hi - lo) : 0;
    offset = tlo - lo * factor;
  } else if (scale === 'dtype-range') {
    const [slo, shi] = fullRange(source);
    const [tlo, thi] = fullRange(target);
    factor = (thi - tlo) / (shi - slo);
    offset = tlo - slo * factor;
  } else if (scale !== 'none') {
    throw new FocalError('E_ARGUMENT', `unknown scale mode '${String(scale)}'`);
  }
  const range = integerRange(target);
  return planes.map((p) => {
    const out = allocate(target, p.length);
    if (range) {
      const [lo, hi] = range;
      for (let i = 0; i < p.length; i++) {
        const v = p[i] * factor + offset;
        out[i] = v !== v ? 0 : v <= lo ? lo : v >= hi ? hi : Math.floor(v + 0.5);
      }
    } else {
      for (let i = 0; i < p.length; i++) out[i] = p[i] * factor + offset;
    }
    return out;
  });
}

/** A new stack of `dtype`; the input is not changed. RGB survives only uint8 → uint8. */
export function convertStack(stack: Stack, dtype: DType, options: ConvertOptions = {}): Stack {
  return withPlanes(stack, convertPlanes(stack.planes, stack.dtype, dtype, options));
}
