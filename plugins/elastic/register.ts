/**
 * 2D non-rigid registration: multi-resolution cubic B-spline free-form deformation
 * (Rueckert et al. 1999; elastix / bUnwarpJ style), optional affine initialisation,
 * SSD / NCC / Mattes mutual information, bending-energy regularisation, L-BFGS.
 *
 * Field convention (as elastix's `transformix -def all`): for every pixel x of the
 * fixed image, u(x) is the displacement in pixels such that moving(x + u(x)) ≈ fixed(x).
 */
import { FocalError, throwIfAborted } from '../../core/index.js';
import { gaussianBlur2d, lbfgs, standardise } from '../../core/imaging.js';
import {
  axisTable, bendingEnergy, createGrid, cubicCoefficients, evaluateGrid, sampleCubic3, gradientImages, gridAdjoint, refineGrid, sampleCubic, sampleLinear3,
  type AxisTable, type BSplineGrid,
} from './bspline.js';
import { evaluateMetric, miSetup, type MetricName, type MiSetup } from './metrics.js';
import { locateTemplate, type LocateResult } from './locate.js';
import { ELASTIC_DEFAULTS, defaultBendingWeight } from './params.js';

export { ELASTIC_DEFAULTS, BENDING_WEIGHT_DEFAULTS } from './params.js';

/** A plain 2D plane: row-major, x = column. */
export interface Plane {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

export interface ElasticOptions {
  /** Similarity: `ssd` (same modality), `ncc` (linear intensity change), `mi` (multimodal). */
  metric?: MetricName;
  /** Control-point spacing of the finest B-spline grid, pixels (doubles per coarser level). Default: ELASTIC_DEFAULTS (params.ts, the op's schema), as every option here. */
  gridSpacingPx?: number;
  /** Pyramid levels (1 = full resolution only). */
  levels?: number;
  /** Weight of the bending energy (mean over knots of uxx² + 2uxy² + uyy², px⁻²). Default by metric: BENDING_WEIGHT_DEFAULTS. */
  bendingWeight?: number;
  /** L-BFGS iterations per level (B-spline stage; the affine stage uses the same). */
  iterations?: number;
  /**
   * Most fixed pixels the metric uses per level: a level with more pixels is evaluated on a
   * regular subgrid (every s-th pixel along x and y, the smallest s that fits), which is faster
   * and somewhat less accurate. 0: every pixel.
   */
  maxSamples?: number;
  /** Convergence: a level stops when the cost fell by less than this fraction over 5 iterations. */
  tolerance?: number;
  /** Optimise an affine transform first (over the same pyramid). Default false. */
  affineInit?: boolean;
  /** Skip the B-spline stage (affine only). Default false. */
  affineOnly?: boolean;
  /**
   * Interpolation of the moving image during optimisation: `cubic` B-spline (exact gradient,
   * default) or `linear` (bilinear value, bilinear-interpolated central-difference gradient).
   */
  interpolation?: 'linear' | 'cubic';
  /** Histogram bins for MI. */
  bins?: number;
  /**
   * Initial affine map from fixed to moving pixel coordinates, [a00, a01, a02, a10, a11, a12]:
   * X = a00·x + a01·y + a02, Y = a10·x + a11·y + a12. Default identity.
   */
  initialAffine?: number[];
  signal?: AbortSignal;
  /** Progress in [0, 1] with a label. */
  onProgress?: (fraction: number, label: string) => void;
}

export interface LevelRecord {
  stage: 'affine' | 'bspline';
  /** Pyramid level, 0 = full resolution. */
  level: number;
  /** Downsampling factor of the level. */
  factor: number;
  /** Control-point spacing at this level in full-resolution pixels (0 for affine). */
  gridSpacingPx: number;
  metricBefore: number;
  metricAfter: number;
  iterations: number;
  evaluations: number;
  timeMs: number;
}

export interface ElasticResult {
  /** Displacement on the fixed grid (fixed.width × fixed.height), pixels: moving(x + u) ≈ fixed(x). */
  ux: Float32Array;
  uy: Float32Array;
  /** The affine part (fixed → moving), [a00, a01, a02, a10, a11, a12]; identity without affineInit/initialAffine. */
  affine: number[];
  /** The final B-spline grid (full-resolution pixels), null for affineOnly. */
  grid: BSplineGrid | null;
  levels: LevelRecord[];
}

function checkPlane(p: Plane, name: string): void {
  if (!Number.isInteger(p.width) || !Number.isInteger(p.height) || p.width < 1 || p.height < 1 || p.data.length !== p.width * p.height) {
    throw new FocalError('E_ARGUMENT', `${name}: expected ${p.width}×${p.height} pixels, got ${p.data.length}`, { field: name });
  }
  for (let i = 0; i < p.data.length; i++) {
    if (!Number.isFinite(p.data[i])) {
      throw new FocalError('E_ARGUMENT', `${name}: pixel (${i % p.width}, ${Math.floor(i / p.width)}) is ${p.data[i]}; registration needs finite values (replace NaN/Inf first)`, { field: name });
    }
  }
}

interface LevelImage {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * Gaussian pyramid: level l has the smoothing of σ = 0.5·2^l full-resolution px (elastix's
 * default schedule) and is decimated by 2^l. Built recursively: level l is level l − 1 blurred
 * by √(1 − 0.25) = 0.866 of its own pixels (0.5² + 0.866² = 1² in those units), then every
 * second pixel is kept.
 */
function pyramid(img: Float32Array, W: number, H: number, levels: number): LevelImage[] {
  const out: LevelImage[] = [{ data: gaussianBlur2d(img, W, H, 0.5, 0.5, { truncate: 3 }), width: W, height: H }];
  const extra = Math.sqrt(1 - 0.25);
  for (let l = 1; l < levels; l++) {
    const prev = out[l - 1];
    const blurred = gaussianBlur2d(prev.data, prev.width, prev.height, extra, extra, { truncate: 3 });
    const w = Math.ceil(prev.width / 2);
    const h = Math.ceil(prev.height / 2);
    const d = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = blurred[2 * y * prev.width + 2 * x];
    out.push({ data: d, width: w, height: h });
  }
  return out;
}

/** Every `step`-th pixel of a level image (step 1: the image itself). */
function subsample(img: LevelImage, step: number): LevelImage {
  if (step === 1) return img;
  const w = Math.ceil(img.width / step), h = Math.ceil(img.height / step);
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = img.data[y * step * img.width + x * step];
  return { data: d, width: w, height: h };
}

/** Smallest sampling step whose regular subgrid of a w×h level has at most `maxSamples` pixels. */
function samplingStep(w: number, h: number, maxSamples: number): number {
  let s = 1;
  while (Math.ceil(w / s) * Math.ceil(h / s) > maxSamples) s++;
  return s;
}

/** Largest number of levels whose coarsest image is still ≥ 16 px on its short side. */
export function maxLevels(width: number, height: number): number {
  let l = 1;
  while (Math.ceil(Math.min(width, height) / 2 ** l) >= 16) l++;
  return l;
}

interface Affine6 {
  /** X = x + D·(x − c) + t + c − c: stored as D (2×2, row-major) and t (2); c = fixed centre. */
  d: [number, number, number, number];
  t: [number, number];
}

function affineToMatrix(a: Affine6, cx: number, cy: number): number[] {
  const a00 = 1 + a.d[0], a01 = a.d[1], a10 = a.d[2], a11 = 1 + a.d[3];
  // X = A(x − c) + c + t
  return [a00, a01, cx + a.t[0] - a00 * cx - a01 * cy, a10, a11, cy + a.t[1] - a10 * cx - a11 * cy];
}

function matrixToAffine(m: number[], cx: number, cy: number): Affine6 {
  const [a00, a01, a02, a10, a11, a12] = m;
  return { d: [a00 - 1, a01, a10, a11 - 1], t: [a00 * cx + a01 * cy + a02 - cx, a10 * cx + a11 * cy + a12 - cy] };
}

/** Dense affine displacement at the pixels of a level (full-resolution units), fixed grid. */
function affineField(m: number[], w: number, h: number, factor: number): { bx: Float32Array; by: Float32Array } {
  const bx = new Float32Array(w * h);
  const by = new Float32Array(w * h);
  for (let q = 0; q < h; q++) {
    const y = q * factor;
    for (let p = 0; p < w; p++) {
      const x = p * factor;
      bx[q * w + p] = m[0] * x + m[1] * y + m[2] - x;
      by[q * w + p] = m[3] * x + m[4] * y + m[5] - y;
    }
  }
  return { bx, by };
}

/** Shared state to evaluate the cost at one pyramid level. */
class LevelProblem {
  readonly n: number;
  readonly m: Float64Array;
  readonly gxm: Float64Array;
  readonly gym: Float64Array;
  /** All 1: positions outside the moving image are clamped, every fixed pixel counts. */
  readonly valid: Uint8Array;
  private readonly dEdm: Float64Array;
  readonly mi: MiSetup | undefined;
  private readonly s = new Float64Array(3);
  private readonly movingGrad: { gx: Float32Array; gy: Float32Array } | null;
  private readonly coef: Float32Array | null;

  constructor(
    readonly metric: MetricName,
    readonly fixed: LevelImage,
    readonly moving: LevelImage,
    readonly factor: number,
    bins: number,
    readonly interpolation: 'linear' | 'cubic',
    /** The fixed samples are every `step`-th pixel of the level (fixed is already subsampled). */
    readonly step: number,
  ) {
    this.n = fixed.width * fixed.height;
    this.m = new Float64Array(this.n);
    this.gxm = new Float64Array(this.n);
    this.gym = new Float64Array(this.n);
    this.valid = new Uint8Array(this.n).fill(1);
    this.dEdm = new Float64Array(this.n);
    this.movingGrad = interpolation === 'linear' ? gradientImages(moving.data, moving.width, moving.height) : null;
    this.coef = interpolation === 'cubic' ? cubicCoefficients(moving.data, moving.width, moving.height) : null;
    this.mi = metric === 'mi' ? miSetup(fixed.data, moving.data, bins) : undefined;
  }

  /**
   * Cost for total displacement (ux, uy) (full-res px) at the level's fixed pixels; when
   * `gx`/`gy` are given, fills them with ∂E/∂u per pixel (full-res px⁻¹).
   */
  cost(ux: Float32Array, uy: Float32Array, gx: Float64Array | null, gy: Float64Array | null): number {
    const { width: W } = this.fixed;
    const mv = this.moving;
    const inv = 1 / this.factor;
    const H = this.fixed.height;
    const Wm = mv.width, Hm = mv.height;
    const s = this.s;
    for (let q = 0; q < H; q++) {
      for (let p = 0; p < W; p++) {
        const i = q * W + p;
        // Positions outside the moving image are clamped to its border (edge replication, zero
        // derivative across the border), so border control points stay constrained.
        let X = p * this.step + ux[i] * inv;
        let Y = q * this.step + uy[i] * inv;
        let outX = false, outY = false;
        if (X < 0) { X = 0; outX = true; } else if (X > Wm - 1) { X = Wm - 1; outX = true; }
        if (Y < 0) { Y = 0; outY = true; } else if (Y > Hm - 1) { Y = Hm - 1; outY = true; }
        if (this.coef) sampleCubic3(this.coef, Wm, Hm, X, Y, s);
        else sampleLinear3(mv.data, this.movingGrad!.gx, this.movingGrad!.gy, Wm, Hm, X, Y, s);
        this.m[i] = s[0];
        this.gxm[i] = outX ? 0 : s[1];
        this.gym[i] = outY ? 0 : s[2];
      }
    }
    const r = evaluateMetric(this.metric, this.m, this.fixed.data, this.valid, gx !== null, this.mi, this.dEdm);
    if (gx && gy && r.dEdm) {
      const d = r.dEdm;
      for (let i = 0; i < this.n; i++) {
        gx[i] = d[i] * this.gxm[i] * inv;
        gy[i] = d[i] * this.gym[i] * inv;
      }
    }
    return r.value;
  }
}

/** The options with their defaults, checked. */
interface ResolvedElasticOptions {
  metric: MetricName;
  spacing: number;
  levels: number;
  bendingWeight: number;
  iterations: number;
  bins: number;
  interpolation: 'linear' | 'cubic';
  tolerance: number;
  maxSamples: number;
  init: number[];
}

/** @throws FocalError `E_ARGUMENT` naming the option. */
function resolveElasticOptions(moving: Plane, fixed: Plane, options: ElasticOptions): ResolvedElasticOptions {
  // every default comes from the op's params schema (params.ts)
  const d = ELASTIC_DEFAULTS;
  const metric = options.metric ?? d.metric;
  const spacing = options.gridSpacingPx ?? d.gridSpacingPx;
  const levels = options.levels ?? d.levels;
  const bendingWeight = options.bendingWeight ?? (['ssd', 'ncc', 'mi'].includes(metric) ? defaultBendingWeight(metric) : NaN);
  const iterations = options.iterations ?? d.iterations;
  const bins = options.bins ?? d.bins;
  const interpolation = options.interpolation ?? 'cubic';
  const tolerance = options.tolerance ?? d.tolerance;
  const maxSamples = (options.maxSamples ?? d.maxSamples) || Infinity;
  if (!(maxSamples >= 256)) throw new FocalError('E_ARGUMENT', `maxSamples must be 0 (every pixel) or ≥ 256, got ${maxSamples}`, { field: 'maxSamples' });
  if (!['ssd', 'ncc', 'mi'].includes(metric)) throw new FocalError('E_ARGUMENT', `metric must be ssd, ncc or mi, got ${metric}`, { field: 'metric' });
  if (!(spacing >= 2) || !Number.isFinite(spacing)) throw new FocalError('E_ARGUMENT', `gridSpacingPx must be ≥ 2, got ${spacing}`, { field: 'gridSpacingPx' });
  if (!Number.isInteger(levels) || levels < 1) throw new FocalError('E_ARGUMENT', `levels must be a positive integer, got ${levels}`, { field: 'levels' });
  const maxL = Math.min(maxLevels(fixed.width, fixed.height), maxLevels(moving.width, moving.height));
  if (levels > maxL) {
    throw new FocalError('E_ARGUMENT', `levels: ${levels} pyramid levels would shrink the ${fixed.width}×${fixed.height} / ${moving.width}×${moving.height} images below 16 px; at most ${maxL}`, { field: 'levels' });
  }
  if (!(tolerance >= 0)) throw new FocalError('E_ARGUMENT', `tolerance must be ≥ 0, got ${tolerance}`, { field: 'tolerance' });
  if (!(bendingWeight >= 0)) throw new FocalError('E_ARGUMENT', `bendingWeight must be ≥ 0, got ${bendingWeight}`, { field: 'bendingWeight' });
  if (!Number.isInteger(iterations) || iterations < 0) throw new FocalError('E_ARGUMENT', `iterations must be an integer ≥ 0, got ${iterations}`, { field: 'iterations' });
  if (!Number.isInteger(bins) || bins < 4) throw new FocalError('E_ARGUMENT', `bins must be an integer ≥ 4, got ${bins}`, { field: 'bins' });
  const init = options.initialAffine ?? [1, 0, 0, 0, 1, 0];
  if (init.length !== 6 || !init.every(Number.isFinite)) throw new FocalError('E_ARGUMENT', 'initialAffine must be 6 finite numbers', { field: 'initialAffine' });
  return { metric, spacing, levels, bendingWeight, iterations, bins, interpolation, tolerance, maxSamples, init };
}

/** What both stages share: the pyramids, the fixed image's centre, the level records and the progress count. */
interface Registration {
  o: ResolvedElasticOptions;
  signal?: AbortSignal;
  fixedPyr: LevelImage[];
  movingPyr: LevelImage[];
  W: number;
  H: number;
  cxF: number;
  cyF: number;
  records: LevelRecord[];
  /** L-BFGS iterations done (or skipped by convergence) so far */
  done: number;
  report(label: string): void;
}

/** The cost problem of level `l`: the fixed level subsampled to at most maxSamples pixels, and the moving level. */
function levelProblem(r: Registration, l: number): { prob: LevelProblem; w: number; h: number; factor: number; spf: number } {
  const { o } = r;
  const factor = 2 ** l;
  const step = samplingStep(r.fixedPyr[l].width, r.fixedPyr[l].height, o.maxSamples);
  const fixedSamples = subsample(r.fixedPyr[l], step);
  const prob = new LevelProblem(o.metric, fixedSamples, r.movingPyr[l], factor, o.bins, o.interpolation, step);
  // spf: full-resolution pixels between samples
  return { prob, w: fixedSamples.width, h: fixedSamples.height, factor, spf: factor * step };
}

/** L-BFGS on one level from `x0`, counting progress; records the level and returns the solution. */
function optimiseLevel(r: Registration, f: (x: Float64Array, grad: Float64Array | null) => number, x0: Float64Array, record: Omit<LevelRecord, 'metricBefore' | 'metricAfter' | 'iterations' | 'evaluations' | 'timeMs'>, label: string): Float64Array {
  const { o } = r;
  const t0 = performance.now();
  const before = f(x0, null);
  const res = lbfgs((x, g) => f(x, g), x0, {
    maxIterations: o.iterations,
    initialStep: record.factor,
    relTolerance: o.tolerance,
    onIteration: () => {
      throwIfAborted(r.signal);
      r.done++;
      r.report(label);
    },
  });
  r.done += o.iterations - res.iterations;
  r.records.push({ ...record, metricBefore: before, metricAfter: res.value, iterations: res.iterations, evaluations: res.evaluations, timeMs: performance.now() - t0 });
  return res.x;
}

/** The affine stage, coarse to fine, from `affine`; parameters scaled by the half-size R so that all are of similar size. */
function affineStage(r: Registration, affine: Affine6): Affine6 {
  const { W, H, cxF, cyF } = r;
  const R = Math.max(W, H) / 2;
  for (let l = r.o.levels - 1; l >= 0; l--) {
    throwIfAborted(r.signal);
    const { prob, w, h, factor, spf } = levelProblem(r, l);
    const ux = new Float32Array(w * h), uy = new Float32Array(w * h);
    const gx = new Float64Array(w * h), gy = new Float64Array(w * h);
    const toAffine = (q: Float64Array): Affine6 => ({ d: [q[0] / R, q[1] / R, q[2] / R, q[3] / R], t: [q[4], q[5]] });
    const f = (q: Float64Array, grad: Float64Array | null): number => {
      const mat = affineToMatrix(toAffine(q), cxF, cyF);
      const { bx, by } = affineField(mat, w, h, spf);
      ux.set(bx);
      uy.set(by);
      const v = prob.cost(ux, uy, grad ? gx : null, grad ? gy : null);
      if (grad) {
        grad.fill(0);
        for (let qq = 0; qq < h; qq++) {
          const yc = qq * spf - cyF;
          for (let p = 0; p < w; p++) {
            const i = qq * w + p;
            const xc = p * spf - cxF;
            grad[0] += gx[i] * xc; grad[1] += gx[i] * yc; grad[2] += gy[i] * xc; grad[3] += gy[i] * yc;
            grad[4] += gx[i]; grad[5] += gy[i];
          }
        }
        for (let k = 0; k < 4; k++) grad[k] /= R;
      }
      return v;
    };
    const q0 = new Float64Array([affine.d[0] * R, affine.d[1] * R, affine.d[2] * R, affine.d[3] * R, affine.t[0], affine.t[1]]);
    affine = toAffine(optimiseLevel(r, f, q0, { stage: 'affine', level: l, factor, gridSpacingPx: 0 }, `affine level ${l}`));
  }
  return affine;
}

/** The B-spline stage, coarse to fine (the grid refined at each level), on top of the affine map. */
function bsplineStage(r: Registration, affineMatrix: number[]): BSplineGrid | null {
  const { o } = r;
  let grid: BSplineGrid | null = null;
  for (let l = o.levels - 1; l >= 0; l--) {
    throwIfAborted(r.signal);
    const spacingL = o.spacing * 2 ** l;
    grid = grid === null ? createGrid(r.W, r.H, spacingL) : refineGrid(grid);
    const g = grid;
    const { prob, w, h, factor, spf } = levelProblem(r, l);
    const tx: AxisTable = axisTable(w, spf, g.spacingPx, g.nx);
    const ty: AxisTable = axisTable(h, spf, g.spacingPx, g.ny);
    const { bx, by } = affineField(affineMatrix, w, h, spf);
    const ux = new Float32Array(w * h), uy = new Float32Array(w * h);
    const gx = new Float64Array(w * h), gy = new Float64Array(w * h);
    const nc = g.nx * g.ny;
    const gcx = new Float64Array(nc), gcy = new Float64Array(nc);
    const f = (c: Float64Array, grad: Float64Array | null): number => {
      g.cx.set(c.subarray(0, nc));
      g.cy.set(c.subarray(nc));
      evaluateGrid(g, tx, ty, ux, uy);
      for (let i = 0; i < ux.length; i++) {
        ux[i] += bx[i];
        uy[i] += by[i];
      }
      let v = prob.cost(ux, uy, grad ? gx : null, grad ? gy : null);
      if (grad) {
        gcx.fill(0);
        gcy.fill(0);
        gridAdjoint(g, tx, ty, gx, gy, gcx, gcy);
        v += bendingEnergy(g, o.bendingWeight, gcx, gcy);
        grad.set(gcx, 0);
        grad.set(gcy, nc);
      } else v += bendingEnergy(g, o.bendingWeight, null, null);
      return v;
    };
    const c0 = new Float64Array(2 * nc);
    c0.set(g.cx, 0);
    c0.set(g.cy, nc);
    const x = optimiseLevel(r, f, c0, { stage: 'bspline', level: l, factor, gridSpacingPx: spacingL }, `B-spline level ${l}`);
    g.cx.set(x.subarray(0, nc));
    g.cy.set(x.subarray(nc));
  }
  return grid;
}

/** The displacement at every fixed pixel: the affine map plus the B-spline field when there is one. */
function fullResolutionField(affineMatrix: number[], grid: BSplineGrid | null, W: number, H: number): { ux: Float32Array; uy: Float32Array } {
  const { bx, by } = affineField(affineMatrix, W, H, 1);
  const ux = bx, uy = by;
  if (grid) {
    const ex = new Float32Array(W * H), ey = new Float32Array(W * H);
    evaluateGrid(grid, axisTable(W, 1, grid.spacingPx, grid.nx), axisTable(H, 1, grid.spacingPx, grid.ny), ex, ey);
    for (let i = 0; i < W * H; i++) {
      ux[i] += ex[i];
      uy[i] += ey[i];
    }
  }
  return { ux, uy };
}

/**
 * Registers `moving` onto `fixed` (they may differ in size: the field lives on the fixed grid
 * and points into the moving image).
 * @throws FocalError `E_ARGUMENT` for non-finite pixels, bad sizes or options (field named).
 */
export function registerElastic(moving: Plane, fixed: Plane, options: ElasticOptions = {}): ElasticResult {
  checkPlane(moving, 'moving');
  checkPlane(fixed, 'fixed');
  const o = resolveElasticOptions(moving, fixed, options);
  const W = fixed.width, H = fixed.height;
  const cxF = (W - 1) / 2, cyF = (H - 1) / 2;
  const stages = (options.affineInit ? 1 : 0) + (options.affineOnly ? 0 : 1);
  const totalSteps = Math.max(1, stages * o.levels * Math.max(1, o.iterations));
  const r: Registration = {
    o, signal: options.signal, W, H, cxF, cyF, records: [], done: 0,
    fixedPyr: pyramid(standardise(fixed.data).data, W, H, o.levels),
    movingPyr: pyramid(standardise(moving.data).data, moving.width, moving.height, o.levels),
    report: (label) => options.onProgress?.(Math.min(1, r.done / totalSteps), label),
  };
  let affine = matrixToAffine(o.init, cxF, cyF);
  if (options.affineInit) affine = affineStage(r, affine);
  const affineMatrix = affineToMatrix(affine, cxF, cyF);
  const grid = options.affineOnly ? null : bsplineStage(r, affineMatrix);
  const { ux, uy } = fullResolutionField(affineMatrix, grid, W, H);
  options.onProgress?.(1, 'done');
  return { ux, uy, affine: affineMatrix, grid, levels: r.records };
}

/**
 * Warps `image` with a displacement field defined on a `width`×`height` grid:
 * out(x) = image(x + u(x)), cubic B-spline (default) or linear interpolation; pixels mapped
 * outside the image get `fill` (default 0). Returns float32.
 * @throws FocalError `E_ARGUMENT` when the field sizes do not match.
 */
export function warpImage(image: Plane, ux: ArrayLike<number>, uy: ArrayLike<number>, width: number, height: number, options: { interpolation?: 'cubic' | 'linear'; fill?: number } = {}): Float32Array {
  const n = width * height;
  if (ux.length !== n || uy.length !== n) throw new FocalError('E_ARGUMENT', `field must have ${width}×${height} = ${n} values per component, got ${ux.length} and ${uy.length}`, { field: 'field' });
  const { width: Wm, height: Hm } = image;
  const fill = options.fill ?? 0;
  const out = new Float32Array(n);
  if ((options.interpolation ?? 'cubic') === 'cubic') {
    const coef = cubicCoefficients(image.data, Wm, Hm);
    const wx = new Float64Array(4), wy = new Float64Array(4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const X = x + ux[i], Y = y + uy[i];
        // accept up to half a pixel beyond the outer pixel centres (its area)
        out[i] = X >= -0.5 && Y >= -0.5 && X <= Wm - 0.5 && Y <= Hm - 0.5 ? sampleCubic(coef, Wm, Hm, X, Y, wx, wy) : fill;
      }
    }
    return out;
  }
  const img = Float32Array.from(image.data as ArrayLike<number>);
  const zero = new Float32Array(img.length);
  const s = new Float64Array(3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const X = Math.min(Math.max(x + ux[i], 0), Wm - 1), Y = Math.min(Math.max(y + uy[i], 0), Hm - 1);
      const inside = x + ux[i] >= -0.5 && y + uy[i] >= -0.5 && x + ux[i] <= Wm - 0.5 && y + uy[i] <= Hm - 0.5;
      out[i] = inside && sampleLinear3(img, zero, zero, Wm, Hm, X, Y, s) ? s[0] : fill;
    }
  }
  return out;
}

export interface CoregisterOptions extends ElasticOptions {
  /** Margin (px) around the cross-correlation match kept for the affine/elastic steps. Default 32. */
  marginPx?: number;
}

export interface CoregisterResult extends ElasticResult {
  /** The cross-correlation match: top-left corner of the fixed image in the moving image, and its NCC. */
  match: LocateResult;
}

/**
 * The virtual-staining paper's co-registration chain: normalised cross-correlation finds the
 * region of the (larger) moving image that matches `fixed`, then an affine and an elastic
 * (B-spline) registration refine it. The returned field points into the whole moving image:
 * moving(x + u(x)) ≈ fixed(x).
 * @throws FocalError `E_ARGUMENT` (field `moving`) when the moving image is smaller than the fixed one.
 */
export function coregisterElastic(moving: Plane, fixed: Plane, options: CoregisterOptions = {}): CoregisterResult {
  checkPlane(moving, 'moving');
  checkPlane(fixed, 'fixed');
  const margin = options.marginPx ?? 32;
  if (!(margin >= 0) || !Number.isInteger(margin)) throw new FocalError('E_ARGUMENT', `marginPx must be an integer ≥ 0, got ${margin}`, { field: 'marginPx' });
  options.onProgress?.(0, 'cross-correlation');
  const match = locateTemplate(moving, fixed);
  throwIfAborted(options.signal);
  const x0 = Math.max(0, match.x - margin), y0 = Math.max(0, match.y - margin);
  const x1 = Math.min(moving.width, match.x + fixed.width + margin), y1 = Math.min(moving.height, match.y + fixed.height + margin);
  const cw = x1 - x0, ch = y1 - y0;
  const crop = new Float32Array(cw * ch);
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[y * cw + x] = moving.data[(y + y0) * moving.width + x + x0];
  const r = registerElastic({ data: crop, width: cw, height: ch }, fixed, {
    ...options,
    affineInit: options.affineInit ?? true,
    initialAffine: [1, 0, match.x - x0, 0, 1, match.y - y0],
    onProgress: options.onProgress ? (f, label) => options.onProgress!(0.05 + 0.95 * f, label) : undefined,
  });
  for (let i = 0; i < r.ux.length; i++) {
    r.ux[i] += x0;
    r.uy[i] += y0;
  }
  r.affine[2] += x0;
  r.affine[5] += y0;
  return { ...r, match };
}
