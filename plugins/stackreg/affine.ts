/**
 * 2×3 affine matrices in pixel units, stored row-major as [m00, m01, m02, m10, m11, m12]:
 * q = (m00·x + m01·y + m02, m10·x + m11·y + m12), x = column, y = row, origin at the centre
 * of pixel (0, 0). In stackreg a matrix maps a point of the aligned output (the reference
 * frame) to the same feature in the input slice.
 */
import { FocalError } from '../../core/index.js';

export type Affine = [number, number, number, number, number, number];

export const IDENTITY: Readonly<Affine> = [1, 0, 0, 0, 1, 0];

export function identity(): Affine {
  return [1, 0, 0, 0, 1, 0];
}

/** Applies `m` to the point (x, y). */
export function applyAffine(m: Readonly<Affine>, x: number, y: number): [number, number] {
  return [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];
}

/** The composition a ∘ b: first b, then a (q = a(b(p))). */
export function compose(a: Readonly<Affine>, b: Readonly<Affine>): Affine {
  return [
    a[0] * b[0] + a[1] * b[3], a[0] * b[1] + a[1] * b[4], a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3], a[3] * b[1] + a[4] * b[4], a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

/** Inverse of an affine map. @throws FocalError `E_ARGUMENT` when singular. */
export function invert(m: Readonly<Affine>): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new FocalError('E_ARGUMENT', 'the affine matrix is singular and cannot be inverted');
  const a = m[4] / det;
  const b = -m[1] / det;
  const c = -m[3] / det;
  const d = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), c, d, -(c * m[2] + d * m[5])];
}

/** Row-major 3×3 form [[m00, m01, m02], [m10, m11, m12], [0, 0, 1]]. */
export function toMatrix3(m: Readonly<Affine>): number[][] {
  return [[m[0], m[1], m[2]], [m[3], m[4], m[5]], [0, 0, 1]];
}

/**
 * 2×3 part of a 3×3 matrix given as [[…], […], [0, 0, 1]] (or as 2 rows).
 * @throws FocalError `E_ARGUMENT` when the shape or the last row is wrong.
 */
export function fromMatrix3(rows: unknown, what = 'matrix'): Affine {
  if (!Array.isArray(rows) || (rows.length !== 3 && rows.length !== 2) || !rows.every((r) => Array.isArray(r) && r.length === 3 && r.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new FocalError('E_ARGUMENT', `${what} must be a 3×3 array of finite numbers [[m00, m01, m02], [m10, m11, m12], [0, 0, 1]]`);
  }
  const r = rows as number[][];
  if (r.length === 3 && (Math.abs(r[2][0]) > 1e-9 || Math.abs(r[2][1]) > 1e-9 || Math.abs(r[2][2] - 1) > 1e-9)) {
    throw new FocalError('E_ARGUMENT', `${what}: the last row must be [0, 0, 1] (an affine transform)`);
  }
  return [r[0][0], r[0][1], r[0][2], r[1][0], r[1][1], r[1][2]];
}

/**
 * Mean distance, px, between where two transforms send the four corner pixel centres
 * (0, 0), (w−1, 0), (0, h−1), (w−1, h−1): TurboReg's way of comparing transforms.
 */
export function cornerError(a: Readonly<Affine>, b: Readonly<Affine>, width: number, height: number): number {
  let sum = 0;
  for (const [x, y] of [[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]]) {
    const [ax, ay] = applyAffine(a, x, y);
    const [bx, by] = applyAffine(b, x, y);
    sum += Math.hypot(ax - bx, ay - by);
  }
  return sum / 4;
}

/** Rotation by `angleRad` (counter-clockwise in x-right/y-down pixel axes means clockwise on screen) and scale about (cx, cy), then translation (tx, ty). */
export function similarityAbout(cx: number, cy: number, angleRad: number, scale: number, tx: number, ty: number): Affine {
  const c = Math.cos(angleRad) * scale;
  const s = Math.sin(angleRad) * scale;
  return [c, -s, cx - c * cx + s * cy + tx, s, c, cy - s * cx - c * cy + ty];
}
