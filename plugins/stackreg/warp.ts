/**
 * Resampling a plane through an affine map with the cubic B-spline model.
 */
import { allocate, dtypeOf, FocalError, type PixelArray } from '../../core/index.js';
import { SplineImage } from '../../core/imaging.js';
import type { Affine } from './affine.js';

/**
 * Output pixel p takes the value of the input's spline model at m(p) (m maps the output grid
 * into the input, x = column, y = row, origin at the centre of pixel (0, 0)). Points that fall
 * outside [0, width−1] × [0, height−1] get 0. Values are clamped to the [min, max] of the input
 * plane, so cubic overshoot never leaves its range (and never goes negative for a
 * non-negative plane); integer types are rounded to nearest.
 *
 * @param plane Row-major input plane (not modified).
 * @returns A new plane of the same type and size.
 * @throws FocalError `E_ARGUMENT` when plane.length ≠ width·height or m is not finite.
 */
export function warpPlane(plane: PixelArray, width: number, height: number, m: Readonly<Affine>): PixelArray {
  if (plane.length !== width * height) throw new FocalError('E_ARGUMENT', `plane has ${plane.length} pixels, expected ${width * height}`);
  if (!m.every(Number.isFinite)) throw new FocalError('E_ARGUMENT', `the transform has non-finite entries: [${m.join(', ')}]`);
  const dtype = dtypeOf(plane);
  const out = allocate(dtype, width * height);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return out; // empty or all-NaN plane
  const isIdentity = m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 0 && m[4] === 1 && m[5] === 0;
  if (isIdentity) {
    out.set(plane);
    return out;
  }
  const spline = new SplineImage(plane, width, height);
  const integer = dtype !== 'float32';
  const eps = 1e-6;
  const xmax = width - 1;
  const ymax = height - 1;
  for (let y = 0; y < height; y++) {
    let qx = m[1] * y + m[2];
    let qy = m[4] * y + m[5];
    const row = y * width;
    for (let x = 0; x < width; x++, qx += m[0], qy += m[3]) {
      if (!(qx >= -eps && qx <= xmax + eps && qy >= -eps && qy <= ymax + eps)) continue; // stays 0
      let v = spline.value(Math.min(Math.max(qx, 0), xmax), Math.min(Math.max(qy, 0), ymax));
      if (v < lo) v = lo;
      else if (v > hi) v = hi;
      out[row + x] = integer ? Math.round(v) : v;
    }
  }
  return out;
}
