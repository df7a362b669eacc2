/**
 * RGB ↔ YCbCr, ITU-R BT.601 studio range (MATLAB's and scikit-image's `rgb2ycbcr` /
 * `ycbcr2rgb`): Y = 16 + 65.481 R + 128.553 G + 24.966 B, Cb = 128 − 37.797 R − 74.203 G +
 * 112 B, Cr = 128 + 112 R − 93.786 G − 18.214 B for R, G, B in [0, 1], on the 8-bit scale.
 * Here the YCbCr values are divided by 255 (`/255` scale, Y ∈ [16, 235]/255), the scale the
 * virtual-staining network predicts. Plain functions over planes; inputs are not modified.
 */
import { FocalError } from '../errors.js';

const FWD = [
  [65.481, 128.553, 24.966, 16],
  [-37.797, -74.203, 112.0, 128],
  [112.0, -93.786, -18.214, 128],
] as const;

/** The inverse of the 3×3 part of {@link FWD} (computed once, exact to float64). */
const INV: number[][] = (() => {
  const m = FWD.map((r) => [r[0], r[1], r[2]]);
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
})();

function planes(p: readonly ArrayLike<number>[], field: string): number {
  if (p.length !== 3) throw new FocalError('E_ARGUMENT', `${field}: give three planes, got ${p.length}`, { field });
  const n = p[0].length;
  if (p[1].length !== n || p[2].length !== n) throw new FocalError('E_ARGUMENT', `${field}: planes differ in length (${p[0].length}, ${p[1].length}, ${p[2].length})`, { field });
  return n;
}

/** RGB in [0, 1] → [Y, Cb, Cr] / 255 (BT.601 studio range). */
export function rgbToYcbcr601(rgb: readonly ArrayLike<number>[]): [Float32Array, Float32Array, Float32Array] {
  const n = planes(rgb, 'rgb');
  const out = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    const r = rgb[0][i];
    const g = rgb[1][i];
    const b = rgb[2][i];
    for (let k = 0; k < 3; k++) out[k][i] = (FWD[k][0] * r + FWD[k][1] * g + FWD[k][2] * b + FWD[k][3]) / 255;
  }
  return out;
}

/** [Y, Cb, Cr] / 255 (BT.601 studio range) → RGB, clipped to [0, 1] unless `clip` is false. */
export function ycbcr601ToRgb(ycc: readonly ArrayLike<number>[], clip = true): [Float32Array, Float32Array, Float32Array] {
  const n = planes(ycc, 'ycbcr');
  const out = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    const v = [ycc[0][i] * 255 - FWD[0][3], ycc[1][i] * 255 - FWD[1][3], ycc[2][i] * 255 - FWD[2][3]];
    for (let k = 0; k < 3; k++) {
      const x = INV[k][0] * v[0] + INV[k][1] * v[1] + INV[k][2] * v[2];
      out[k][i] = clip ? Math.min(1, Math.max(0, x)) : x;
    }
  }
  return out;
}
