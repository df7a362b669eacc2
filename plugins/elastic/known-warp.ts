/**
 * A known warp for registration exercises: a random affine (rotation, isotropic scale, shift
 * about the image centre) plus a smooth elastic field (a sum of Gaussian bumps), both analytic,
 * so the mapping and its inverse are known at any point; and the error of a recovered field
 * against a known mapping (mean, 95th percentile and maximum endpoint error).
 *
 * Convention (as the elastic plugin's fields): a warp w maps a position X of the *warped*
 * image to the position in the *source* image it is drawn from, so warped(X) = source(w(X)).
 */
import { FocalError, mulberry32 } from '../../core/index.js';

export interface KnownWarpOptions {
  /** Largest rotation magnitude, degrees (drawn uniformly in ±). Default 2. */
  maxRotationDeg?: number;
  /** Largest relative scale change (drawn uniformly in ±). Default 0.02. */
  maxScale?: number;
  /** Largest shift per axis, px (drawn uniformly in ±). Default 3. */
  maxShiftPx?: number;
  /** Largest elastic displacement magnitude over the image, px. Default 3. */
  maxElasticPx?: number;
  /** Gaussian bumps of the elastic part. Default 6. */
  bumps?: number;
  /** σ of the bumps, px. Default min(width, height) / 5. */
  sigmaPx?: number;
}

export interface KnownWarp {
  width: number;
  height: number;
  rotationDeg: number;
  scale: number;
  shiftPx: [number, number];
  /** Largest elastic displacement magnitude over the pixel grid, px. */
  elasticMaxPx: number;
  /** Source position of warped position (x, y): A·(p − c) + c + shift + e(p). */
  map(x: number, y: number): [number, number];
  /** Warped position whose source is (sx, sy) (fixed-point iteration; |error| < 1e-9 px). */
  inverse(sx: number, sy: number): [number, number];
}

interface Bump { cx: number; cy: number; ax: number; ay: number }

/** A random affine + elastic warp on a width × height image, deterministic in `seed`. */
export function knownWarp(width: number, height: number, seed: number, o: KnownWarpOptions = {}): KnownWarp {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new FocalError('E_ARGUMENT', `knownWarp: size must be positive integers, got ${width}×${height}`, { field: 'size' });
  }
  const rand = mulberry32(seed);
  const u = (m: number) => (2 * rand() - 1) * m;
  const rotationDeg = u(o.maxRotationDeg ?? 2);
  const scale = 1 + u(o.maxScale ?? 0.02);
  const shift: [number, number] = [u(o.maxShiftPx ?? 3), u(o.maxShiftPx ?? 3)];
  const th = (rotationDeg * Math.PI) / 180;
  const a = [scale * Math.cos(th), -scale * Math.sin(th), scale * Math.sin(th), scale * Math.cos(th)];
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  const sigma = o.sigmaPx ?? Math.min(width, height) / 5;
  const k = -1 / (2 * sigma * sigma);
  const bumps: Bump[] = [];
  for (let b = 0; b < (o.bumps ?? 6); b++) {
    const angle = rand() * 2 * Math.PI, amp = 0.5 + rand();
    bumps.push({ cx: rand() * width, cy: rand() * height, ax: amp * Math.cos(angle), ay: amp * Math.sin(angle) });
  }
  const raw = (x: number, y: number): [number, number] => {
    let ex = 0, ey = 0;
    for (const q of bumps) {
      const g = Math.exp(k * ((x - q.cx) ** 2 + (y - q.cy) ** 2));
      ex += q.ax * g;
      ey += q.ay * g;
    }
    return [ex, ey];
  };
  let m = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) m = Math.max(m, Math.hypot(...raw(x, y)));
  const maxE = o.maxElasticPx ?? 3;
  const s = m > 0 ? maxE / m : 0;
  const elastic = (x: number, y: number): [number, number] => {
    const [ex, ey] = raw(x, y);
    return [s * ex, s * ey];
  };
  const map = (x: number, y: number): [number, number] => {
    const [ex, ey] = elastic(x, y);
    const dx = x - cx, dy = y - cy;
    return [a[0] * dx + a[1] * dy + cx + shift[0] + ex, a[2] * dx + a[3] * dy + cy + shift[1] + ey];
  };
  const det = a[0] * a[3] - a[1] * a[2];
  const inv = [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det];
  const inverse = (sx: number, sy: number): [number, number] => {
    // p = A⁻¹(s − c − shift − e(p)) + c: a contraction (|∇e| ≪ 1 for smooth bumps)
    let x = sx, y = sy;
    for (let it = 0; it < 100; it++) {
      const [ex, ey] = elastic(x, y);
      const bx = sx - cx - shift[0] - ex, by = sy - cy - shift[1] - ey;
      const nx = inv[0] * bx + inv[1] * by + cx, ny = inv[2] * bx + inv[3] * by + cy;
      const d = Math.abs(nx - x) + Math.abs(ny - y);
      x = nx;
      y = ny;
      if (d < 1e-10) break;
    }
    return [x, y];
  };
  return { width, height, rotationDeg, scale, shiftPx: shift, elasticMaxPx: s * m, map, inverse };
}

/** The pull-back field of a warp on its own grid: u(X) = w(X) − X (for warpImage: warped = warpImage(source, ux, uy, …)). */
export function warpField(w: KnownWarp): { ux: Float32Array; uy: Float32Array } {
  const ux = new Float32Array(w.width * w.height), uy = new Float32Array(w.width * w.height);
  for (let y = 0; y < w.height; y++) {
    for (let x = 0; x < w.width; x++) {
      const [sx, sy] = w.map(x, y);
      ux[y * w.width + x] = sx - x;
      uy[y * w.width + x] = sy - y;
    }
  }
  return { ux, uy };
}

export interface DisplacementError {
  /** Mean endpoint error, px. */
  mean: number;
  /** 95th percentile, px. */
  p95: number;
  max: number;
  /** Pixels counted. */
  count: number;
}

/**
 * Endpoint error |(x + u(x)) − t(x)| of a recovered field u (width × height) against the true
 * mapped positions t (tx, ty: absolute positions, same grid), over pixels at least `marginPx`
 * from the border and, if `mask` is given (width × height), only where it is non-zero.
 * `perPixel` (optional, width × height) receives the error map (NaN where not counted).
 */
export function displacementError(
  ux: ArrayLike<number>, uy: ArrayLike<number>, tx: ArrayLike<number>, ty: ArrayLike<number>, width: number, height: number,
  o: { marginPx?: number; mask?: ArrayLike<number>; perPixel?: Float32Array } = {},
): DisplacementError {
  const n = width * height;
  const marginPx = o.marginPx ?? 0;
  for (const [name, a] of [['ux', ux], ['uy', uy], ['tx', tx], ['ty', ty], ['mask', o.mask], ['perPixel', o.perPixel]] as const) {
    if (a && a.length !== n) throw new FocalError('E_ARGUMENT', `displacementError: ${name} has ${a.length} values, expected ${width}×${height}`, { field: name });
  }
  o.perPixel?.fill(NaN);
  const e: number[] = [];
  for (let y = marginPx; y < height - marginPx; y++) {
    for (let x = marginPx; x < width - marginPx; x++) {
      const i = y * width + x;
      if (o.mask && !o.mask[i]) continue;
      const v = Math.hypot(x + ux[i] - tx[i], y + uy[i] - ty[i]);
      e.push(v);
      if (o.perPixel) o.perPixel[i] = v;
    }
  }
  if (e.length === 0) throw new FocalError('E_ARGUMENT', `displacementError: marginPx ${marginPx} and the mask leave no pixel of ${width}×${height}`, { field: 'marginPx' });
  e.sort((p, q) => p - q);
  const mean = e.reduce((s, v) => s + v, 0) / e.length;
  return { mean, p95: e[Math.min(e.length - 1, Math.ceil(0.95 * e.length) - 1)], max: e[e.length - 1], count: e.length };
}
