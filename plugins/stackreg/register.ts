/**
 * Intensity-based registration of one image to a reference, after P. Thévenaz, U. E.
 * Ruttimann, M. Unser, "A pyramid approach to subpixel registration based on intensity",
 * IEEE Trans. Image Processing 7(1), 1998:
 *
 * - criterion: mean squared difference E(θ) = (1/N) Σₚ (f(g_θ(p)) − r(p))² over the reference
 *   pixels p whose image g_θ(p) falls inside the moving image, where f is the cubic B-spline
 *   model of the moving image and g_θ the geometric transform;
 * - optimiser: Marquardt–Levenberg, with the exact gradient ∂E/∂θ from the spline model
 *   (∇f from the derivative of the B-spline) and the Gauss–Newton Hessian Σ JJᵀ;
 * - coarse to fine on a B-spline pyramid of both images; the result of a level, rescaled,
 *   starts the next finer one; at the coarsest level a translation is found first.
 *
 * Transforms are affine maps from the reference grid to the moving image (see affine.ts).
 */
import { FocalError } from '../../core/index.js';
import { SplineImage, solveLinear } from '../../core/imaging.js';
import { cornerError, type Affine } from './affine.js';
import { buildPyramid, pyramidDepth, smoothBinomial, type PyramidLevel } from './pyramid.js';

export const TRANSFORM_TYPES = ['translation', 'rigid', 'scaled-rotation', 'affine'] as const;
export type TransformType = (typeof TRANSFORM_TYPES)[number];

const PARAM_COUNT: Record<TransformType, number> = { translation: 2, rigid: 3, 'scaled-rotation': 4, affine: 6 };

/** An image prepared for registration: its pyramid, and (lazily) the spline model of each level. */
export interface PreparedImage {
  width: number;
  height: number;
  levels: PyramidLevel[];
  splines: (SplineImage | undefined)[];
}

export interface RegisterOptions {
  /** Transform family. Default 'rigid'. */
  transform?: TransformType;
  /** Start value (reference grid → moving image). Default: identity. */
  initial?: Readonly<Affine>;
  /** Shorter side of the coarsest pyramid level, px. Default 24. */
  minLevelSizePx?: number;
  /** Marquardt–Levenberg iterations per level at most. Default 40 (coarse), 12 (finest). */
  maxIterations?: number;
  /** Smooth both images with [1 2 1]/4 before building the pyramids (see smoothBinomial). Default true. */
  presmooth?: boolean;
}

export interface RegistrationResult {
  /** Maps a reference-grid point to the same feature in the moving image. */
  matrix: Affine;
  /** Final mean squared difference over the overlap. */
  mse: number;
  /** Fraction of reference pixels that fell inside the moving image at the end. */
  overlap: number;
  /** Criterion evaluations (passes over the finest-level image count as one each). */
  evaluations: number;
}

/** Pyramid (and, when `asMoving`, spline models) of a plane for {@link registerPrepared}. */
export function prepareImage(
  data: ArrayLike<number>,
  width: number,
  height: number,
  options: { levels?: number; minLevelSizePx?: number; asMoving?: boolean; presmooth?: boolean } = {},
): PreparedImage {
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data has ${data.length} samples, expected ${width * height}`);
  if (width < 4 || height < 4) throw new FocalError('E_ARGUMENT', `registration needs images of at least 4×4 pixels, got ${width}×${height}`);
  const base = options.presmooth === false ? data : smoothBinomial(data, width, height);
  const levels = buildPyramid(base, width, height, options.levels ?? pyramidDepth(width, height, options.minLevelSizePx ?? 24));
  const prepared: PreparedImage = { width, height, levels, splines: levels.map(() => undefined) };
  if (options.asMoving) for (let l = 0; l < levels.length; l++) splineAt(prepared, l);
  return prepared;
}

function splineAt(p: PreparedImage, l: number): SplineImage {
  let s = p.splines[l];
  if (!s) {
    const lv = p.levels[l];
    s = new SplineImage(lv.data, lv.width, lv.height);
    p.splines[l] = s;
  }
  return s;
}

/** Scales the translation of a matrix between pyramid levels (x_fine = 2^k · x_coarse). */
function rescale(m: Readonly<Affine>, factor: number): Affine {
  return [m[0], m[1], m[2] * factor, m[3], m[4], m[5] * factor];
}

function toParams(m: Readonly<Affine>, type: TransformType, cx: number, cy: number): { params: Float64Array; base: Affine } {
  const d0 = m[0] * cx + m[1] * cy + m[2];
  const d1 = m[3] * cx + m[4] * cy + m[5];
  switch (type) {
    case 'translation':
      return { params: Float64Array.of(d0, d1), base: [...m] as Affine };
    case 'rigid':
      return { params: Float64Array.of(Math.atan2(m[3] - m[1], m[0] + m[4]), d0, d1), base: [...m] as Affine };
    case 'scaled-rotation':
      return { params: Float64Array.of((m[0] + m[4]) / 2, (m[3] - m[1]) / 2, d0, d1), base: [...m] as Affine };
    case 'affine':
      return { params: Float64Array.of(m[0], m[1], d0, m[3], m[4], d1), base: [...m] as Affine };
  }
}

function fromParams(p: Float64Array, type: TransformType, base: Readonly<Affine>, cx: number, cy: number): Affine {
  let a00: number, a01: number, a10: number, a11: number, d0: number, d1: number;
  switch (type) {
    case 'translation':
      [a00, a01, a10, a11, d0, d1] = [base[0], base[1], base[3], base[4], p[0], p[1]];
      break;
    case 'rigid': {
      const c = Math.cos(p[0]);
      const s = Math.sin(p[0]);
      [a00, a01, a10, a11, d0, d1] = [c, -s, s, c, p[1], p[2]];
      break;
    }
    case 'scaled-rotation':
      [a00, a01, a10, a11, d0, d1] = [p[0], -p[1], p[1], p[0], p[2], p[3]];
      break;
    case 'affine':
      [a00, a01, a10, a11, d0, d1] = [p[0], p[1], p[3], p[4], p[2], p[5]];
      break;
  }
  return [a00, a01, d0 - a00 * cx - a01 * cy, a10, a11, d1 - a10 * cx - a11 * cy];
}

interface Evaluation {
  mse: number;
  count: number;
  /** Gradient of E/2: (1/N) Σ e·J. */
  g: Float64Array;
  /** (1/N) Σ J Jᵀ, row-major np × np. */
  H: Float64Array;
}

/** One pass over the reference grid: criterion, gradient and Gauss–Newton Hessian. */
function evaluate(ref: PyramidLevel, mov: SplineImage, m: Readonly<Affine>, type: TransformType, params: Float64Array, cx: number, cy: number): Evaluation {
  const np = params.length;
  const g = new Float64Array(np);
  const H = new Float64Array(np * np);
  const J = new Float64Array(np);
  const { width: w, height: h, data: r } = ref;
  const xmax = mov.width - 1;
  const ymax = mov.height - 1;
  // d(A·u)/dθ for the rigid angle: A' = [[−s, −c], [c, −s]]
  const sr = type === 'rigid' ? Math.sin(params[0]) : 0;
  const cr = type === 'rigid' ? Math.cos(params[0]) : 0;
  let sse = 0;
  let count = 0;
  for (let y = 0; y < h; y++) {
    const uy = y - cy;
    let qx = m[1] * y + m[2];
    let qy = m[4] * y + m[5];
    for (let x = 0; x < w; x++, qx += m[0], qy += m[3]) {
      if (!(qx >= 0 && qx <= xmax && qy >= 0 && qy <= ymax)) continue;
      const v = mov.valueAndGradient(qx, qy);
      const e = v - r[y * w + x];
      const gx = mov.gx;
      const gy = mov.gy;
      const ux = x - cx;
      switch (type) {
        case 'translation':
          J[0] = gx; J[1] = gy;
          break;
        case 'rigid':
          J[0] = gx * (-sr * ux - cr * uy) + gy * (cr * ux - sr * uy); J[1] = gx; J[2] = gy;
          break;
        case 'scaled-rotation':
          J[0] = gx * ux + gy * uy; J[1] = -gx * uy + gy * ux; J[2] = gx; J[3] = gy;
          break;
        case 'affine':
          J[0] = gx * ux; J[1] = gx * uy; J[2] = gx; J[3] = gy * ux; J[4] = gy * uy; J[5] = gy;
          break;
      }
      sse += e * e;
      count++;
      for (let i = 0; i < np; i++) {
        const ji = J[i];
        g[i] += e * ji;
        const row = i * np;
        for (let k = i; k < np; k++) H[row + k] += ji * J[k];
      }
    }
  }
  for (let i = 0; i < np; i++) for (let k = 0; k < i; k++) H[i * np + k] = H[k * np + i];
  if (count > 0) {
    for (let i = 0; i < np; i++) g[i] /= count;
    for (let i = 0; i < H.length; i++) H[i] /= count;
  }
  return { mse: count > 0 ? sse / count : Infinity, count, g, H };
}

/**
 * Marquardt–Levenberg on one pyramid level, from `start`. Returns the best matrix found.
 */
function optimiseLevel(ref: PyramidLevel, mov: SplineImage, start: Readonly<Affine>, type: TransformType, maxIterations: number, tolerancePx: number): { matrix: Affine; mse: number; count: number; evaluations: number } {
  const cx = (ref.width - 1) / 2;
  const cy = (ref.height - 1) / 2;
  const { params: p0, base } = toParams(start, type, cx, cy);
  let params = p0;
  let matrix = fromParams(params, type, base, cx, cy);
  let cur = evaluate(ref, mov, matrix, type, params, cx, cy);
  let evaluations = 1;
  const minCount = Math.max(16, Math.floor(0.05 * ref.width * ref.height));
  if (cur.count < minCount) return { matrix, mse: cur.mse, count: cur.count, evaluations };
  const np = params.length;
  let lambda = 1e-3;
  for (let it = 0; it < maxIterations; it++) {
    const A = Float64Array.from(cur.H);
    for (let i = 0; i < np; i++) A[i * np + i] *= 1 + lambda;
    const neg = cur.g.map((v) => -v);
    const delta = solveLinear(A, neg, np);
    if (!delta) break;
    const cand = params.map((v, i) => v + delta[i]);
    const candMatrix = fromParams(cand, type, base, cx, cy);
    const moved = cornerError(candMatrix, matrix, ref.width, ref.height);
    if (moved < tolerancePx / 10) break; // the step is negligible: converged
    const ev = evaluate(ref, mov, candMatrix, type, cand, cx, cy);
    evaluations++;
    if (ev.count >= minCount && ev.mse < cur.mse) {
      params = cand;
      matrix = candMatrix;
      cur = ev;
      lambda = Math.max(lambda / 10, 1e-9);
      if (moved < tolerancePx) break;
    } else {
      lambda *= 10;
      if (lambda > 1e8) break;
    }
  }
  return { matrix, mse: cur.mse, count: cur.count, evaluations };
}

/**
 * Registers a prepared moving image to a prepared reference (same size and pyramid depth).
 * @throws FocalError `E_ARGUMENT` when the two were prepared with different sizes or depths.
 */
export function registerPrepared(ref: PreparedImage, mov: PreparedImage, options: RegisterOptions = {}): RegistrationResult {
  if (ref.width !== mov.width || ref.height !== mov.height || ref.levels.length !== mov.levels.length) {
    throw new FocalError('E_ARGUMENT', `reference (${ref.width}×${ref.height}, ${ref.levels.length} levels) and moving image (${mov.width}×${mov.height}, ${mov.levels.length} levels) must match`);
  }
  const type = options.transform ?? 'rigid';
  if (!(type in PARAM_COUNT)) throw new FocalError('E_ARGUMENT', `transform must be one of ${TRANSFORM_TYPES.join(', ')}, got ${String(type)}`);
  const top = ref.levels.length - 1;
  let m = rescale(options.initial ?? [1, 0, 0, 0, 1, 0], 1 / 2 ** top);
  let evaluations = 0;
  let last = { mse: Infinity, count: 0 };
  for (let l = top; l >= 0; l--) {
    const spline = splineAt(mov, l);
    const maxIt = options.maxIterations ?? (l === 0 ? 12 : 40);
    const tol = l === 0 ? 0.002 : 0.01;
    if (l === top && type !== 'translation') {
      const t = optimiseLevel(ref.levels[l], spline, m, 'translation', maxIt, tol);
      m = t.matrix;
      evaluations += t.evaluations;
    }
    const r = optimiseLevel(ref.levels[l], spline, m, type, maxIt, tol);
    m = r.matrix;
    evaluations += r.evaluations;
    last = r;
    if (l > 0) m = rescale(m, 2);
  }
  return { matrix: m, mse: last.mse, overlap: last.count / (ref.width * ref.height), evaluations };
}

/**
 * Registers `moving` to `reference` (both row-major planes of width × height).
 * @returns the matrix mapping reference-grid points to the moving image, and the fit.
 * @throws FocalError `E_ARGUMENT` for mismatched sizes or images smaller than 4×4.
 */
export function registerImages(reference: ArrayLike<number>, moving: ArrayLike<number>, width: number, height: number, options: RegisterOptions = {}): RegistrationResult {
  const levels = pyramidDepth(width, height, options.minLevelSizePx ?? 24);
  const presmooth = options.presmooth ?? true;
  const ref = prepareImage(reference, width, height, { levels, presmooth });
  const mov = prepareImage(moving, width, height, { levels, asMoving: true, presmooth });
  return registerPrepared(ref, mov, options);
}
