/**
 * Resampling a plane to another pixel grid (scikit-image's `transform.resize` with `order=3`
 * and `anti_aliasing=True`, re-derived): pixel centres map as x_in = (x_out + ½)·(w_in / w_out) − ½;
 * a shrinking axis is first smoothed by a Gaussian of σ = (w_in / w_out − 1) / 2 px (its
 * default), then the plane's cubic B-spline (the interpolating prefilter of core's bspline) is
 * evaluated at the mapped points, points beyond the outer centres clamped to them.
 */
import { FocalError } from '../errors.js';
import { SplineImage } from './bspline.js';
import { gaussianBlur2d } from './gaussian.js';

/** The anti-aliasing σ (px of the input) before shrinking by `inPx / outPx` along an axis; 0 when it grows. */
export function antiAliasSigmaPx(inPx: number, outPx: number): number {
  return Math.max(0, (inPx / outPx - 1) / 2);
}

/**
 * `plane` (`width` × `height`, row-major) resampled to `outWidth` × `outHeight` px covering the
 * same field: cubic B-spline interpolation, with Gaussian anti-aliasing along an axis that shrinks.
 */
export function resamplePlane(plane: ArrayLike<number>, width: number, height: number, outWidth: number, outHeight: number): Float32Array {
  for (const [name, v] of [['width', width], ['height', height], ['outWidth', outWidth], ['outHeight', outHeight]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new FocalError('E_ARGUMENT', `${name} must be a positive integer, got ${v}`, { field: name });
  }
  if (plane.length !== width * height) throw new FocalError('E_ARGUMENT', `the plane has ${plane.length} values, not ${width}×${height}`, { field: 'plane' });
  if (outWidth === width && outHeight === height) return Float32Array.from(plane);
  const sx = antiAliasSigmaPx(width, outWidth);
  const sy = antiAliasSigmaPx(height, outHeight);
  const smooth = sx > 0 || sy > 0 ? gaussianBlur2d(plane, width, height, sx, sy) : plane;
  const spline = new SplineImage(smooth, width, height);
  const fx = width / outWidth;
  const fy = height / outHeight;
  const xs = new Float64Array(outWidth);
  for (let x = 0; x < outWidth; x++) xs[x] = Math.min(width - 1, Math.max(0, (x + 0.5) * fx - 0.5));
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const yy = Math.min(height - 1, Math.max(0, (y + 0.5) * fy - 0.5));
    for (let x = 0; x < outWidth; x++) out[y * outWidth + x] = spline.value(xs[x], yy);
  }
  return out;
}

/** {@link resamplePlane} on each channel of interleaved pixels (HWC, `channels` per pixel). */
export function resampleInterleaved(hwc: ArrayLike<number>, width: number, height: number, channels: number, outWidth: number, outHeight: number): Float32Array {
  if (!Number.isInteger(channels) || channels < 1 || hwc.length !== width * height * channels) {
    throw new FocalError('E_ARGUMENT', `the pixels are not ${width}×${height}×${channels} values (got ${hwc.length})`, { field: 'hwc' });
  }
  const n = width * height;
  const out = new Float32Array(outWidth * outHeight * channels);
  const plane = new Float32Array(n);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) plane[i] = hwc[i * channels + c];
    const r = resamplePlane(plane, width, height, outWidth, outHeight);
    for (let i = 0; i < r.length; i++) out[i * channels + c] = r[i];
  }
  return out;
}
