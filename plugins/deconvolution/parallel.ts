/**
 * Richardson–Lucy and Landweber on worker threads. Tiles are independent (each evolves
 * on its own, the engine only assembles owned ranges), so a large image is cut into
 * horizontal strips, one per worker, overlapping by the engine's tile margin
 * (TILE_MARGIN_FACTOR·(kh − 1) px on each side of a seam, kh = PSF height); each strip is
 * deconvolved by the ordinary synchronous function in a worker (with the whole image's
 * mean, so the padding and RL start match the untiled run) and the strips' owned rows
 * are assembled. 2D images and 3D volumes alike (strips cut along y through every z).
 *
 * Per-iteration callbacks and reference stats need the whole estimate after every
 * iteration: with `reference` or `onIteration` the run stays on the calling thread.
 * Progress (`onProgress`) comes from inside the workers: each strip reports its iterations
 * through the pool's progress channel, and the run's fraction is the strips' mean weighted
 * by their rows.
 */
import { FocalError, isFocalError, type WorkerPool, type WorkerProgress } from '../../core/index.js';
import {
  checkDeconvolution, landweber, richardsonLucy,
  type AlgorithmKind, type DeconvolutionResult, type Dims, type LandweberOptions, type RichardsonLucyOptions,
} from './deconvolve.js';
import { TILE_MARGIN_FACTOR } from './engine.js';

/** Planes (width × height) smaller than this stay on one thread: worker start-up and strip overlaps would cost more than they save. */
export const PARALLEL_MIN_PLANE_PX = 512 * 512;
/**
 * Less work than this (voxels × iterations) stays on one thread: starting the workers took
 * about 1 s (bench/deconvolution, 1024², 5 iterations: 1.5 s on 2 workers vs 0.5 s on one),
 * about what one thread needs for 512² × 100 RL iterations.
 */
export const PARALLEL_MIN_WORK = 512 * 512 * 100;

export interface WorkerOptions {
  /** The pool to run the strips on (an op gets it from `ComputeService.workers`). */
  pool: WorkerPool;
  /** Number of strips (default {@link parallelStrips} for the pool's size: 1 below the threshold). */
  strips?: number;
  /** Called as strips finish. */
  onStrip?: (done: number, total: number) => void;
  /**
   * Fraction of the run done, in (0, 1], non-decreasing, ending with 1: the strips' iterations
   * (reported from the workers, about every 1 % or 100 ms of each strip) weighted by their
   * rows; per iteration when the run stays on this thread.
   */
  onProgress?: (fraction: number) => void;
}

/** The options of the synchronous function (progress through `onProgress`, not `onIterationDone`) and {@link WorkerOptions}. */
export type InWorkersOptions<O> = Omit<O, 'onIterationDone'> & WorkerOptions;

/** One strip: rows [y0, y1) are deconvolved, rows [own0, own1) of the result are kept. */
export interface Strip {
  y0: number;
  y1: number;
  own0: number;
  own1: number;
}

/** Options that cross to a worker (structured-cloneable; no callbacks, signal or reference). */
export type StripOptions = Omit<RichardsonLucyOptions & LandweberOptions, 'reference' | 'onIteration' | 'onIterationDone' | 'signal'>;

/** Rows of overlap each strip gets on each inner side: the engine's tile margin. */
export function stripMargin(psfHeight: number): number {
  return TILE_MARGIN_FACTOR * (psfHeight - 1);
}

/**
 * How many strips to use for `threads` workers: 1 (stay on this thread) below
 * {@link PARALLEL_MIN_PLANE_PX} px per plane, below {@link PARALLEL_MIN_WORK} voxel-iterations
 * (when `iterations` is given) or with one thread; otherwise `threads`, fewer
 * when the image is not tall enough for each strip to own at least twice its margin.
 */
export function parallelStrips(dims: Dims, psfDims: Dims, threads: number, iterations?: number): number {
  if (!(threads >= 2) || dims.width * dims.height < PARALLEL_MIN_PLANE_PX) return 1;
  if (iterations !== undefined && dims.width * dims.height * (dims.depth ?? 1) * iterations < PARALLEL_MIN_WORK) return 1;
  const minOwn = Math.max(2 * stripMargin(psfDims.height), 16);
  return Math.max(1, Math.min(Math.floor(threads), Math.floor(dims.height / minOwn)));
}

/** Equal owned ranges, each extended by the margin on its inner sides (clipped to the image). */
export function planStrips(height: number, psfHeight: number, count: number): Strip[] {
  const n = Math.max(1, Math.min(height, Math.floor(count)));
  const margin = stripMargin(psfHeight);
  return Array.from({ length: n }, (_, i) => {
    const own0 = Math.round((i * height) / n);
    const own1 = Math.round(((i + 1) * height) / n);
    return { y0: Math.max(0, own0 - margin), y1: Math.min(height, own1 + margin), own0, own1 };
  });
}

/**
 * Worker side: deconvolves one strip with the synchronous function and returns its owned
 * rows (`own`, relative to the strip) of every z plane, plus the geometry. With `report`
 * (the pool's progress channel), reports iteration / iterations after every iteration.
 */
export function deconvolveStrip(
  kind: AlgorithmKind,
  image: Float32Array | Float64Array,
  dims: Dims,
  psf: Float32Array | Float64Array,
  psfDims: Dims,
  options: StripOptions,
  own: [number, number],
  report?: WorkerProgress,
): Pick<DeconvolutionResult, 'image' | 'box' | 'tiles' | 'backend'> {
  const opts = report ? { ...options, onIterationDone: (it: number) => report(it / options.iterations, `iteration ${it}/${options.iterations}`) } : options;
  const r = kind === 'rl' ? richardsonLucy(image, dims, psf, psfDims, opts) : landweber(image, dims, psf, psfDims, opts);
  const W = dims.width;
  const h = dims.height;
  const D = dims.depth ?? 1;
  const rows = own[1] - own[0];
  const out = new Float32Array(W * rows * D);
  for (let z = 0; z < D; z++) out.set(r.image.subarray((z * h + own[0]) * W, (z * h + own[1]) * W), z * rows * W);
  return { image: out, box: r.box, tiles: r.tiles, backend: r.backend };
}

/** float32 holds these exactly; anything else travels as float64. */
function exactInFloat32(a: ArrayLike<number>): boolean {
  return a instanceof Float32Array || a instanceof Uint16Array || a instanceof Int16Array || a instanceof Uint8Array || a instanceof Int8Array || a instanceof Uint8ClampedArray;
}

function copyRows(src: ArrayLike<number>, W: number, H: number, D: number, y0: number, y1: number, f32: boolean): Float32Array | Float64Array {
  const rows = y1 - y0;
  const out = f32 ? new Float32Array(W * rows * D) : new Float64Array(W * rows * D);
  for (let z = 0; z < D; z++) {
    const from = (z * H + y0) * W;
    const to = (z * H + y1) * W;
    if (ArrayBuffer.isView(src)) out.set((src as unknown as Float64Array).subarray(from, to), z * rows * W);
    else for (let i = from; i < to; i++) out[z * rows * W + i - from] = src[i];
  }
  return out;
}

async function inWorkers(
  kind: AlgorithmKind,
  image: ArrayLike<number>,
  dims: Dims,
  psf: ArrayLike<number>,
  psfDims: Dims,
  options: InWorkersOptions<RichardsonLucyOptions & LandweberOptions>,
): Promise<DeconvolutionResult> {
  // (onIterationDone is not an option here, but a function must never reach the structured clone)
  const { pool, strips: wanted, onStrip, onProgress, signal, reference, onIteration, onIterationDone: _, ...rest } = options as typeof options & { onIterationDone?: unknown };
  const sync = () => {
    const opts = onProgress ? { ...options, onIterationDone: (it: number) => onProgress(it / options.iterations) } : options;
    return kind === 'rl' ? richardsonLucy(image, dims, psf, psfDims, opts) : landweber(image, dims, psf, psfDims, opts);
  };
  if (reference !== undefined || onIteration !== undefined) return sync();
  // every check the synchronous function makes, with its errors, before anything is split
  const { dims: [W, H, D], mean } = checkDeconvolution(kind, image, dims, psf, psfDims, options);
  const count = wanted ?? parallelStrips(dims, psfDims, pool.size, options.iterations);
  const plan = planStrips(H, psfDims.height, count);
  if (plan.length < 2) return sync();
  if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled');

  const stripOptions: StripOptions = { ...rest, imageMean: mean };
  const psfCopy = exactInFloat32(psf) ? Float32Array.from(psf) : Float64Array.from(psf);
  const f32 = exactInFloat32(image);
  const out = new Float32Array(W * H * D);
  // one failure (or the caller's abort) cancels the other strips
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let done = 0;
  // progress: each strip's fraction, weighted by its rows (its share of the work)
  const stripFraction = new Float64Array(plan.length);
  const rowsTotal = plan.reduce((n, s) => n + s.y1 - s.y0, 0);
  let reported = 0;
  const progress = (i: number, f: number) => {
    stripFraction[i] = Math.max(stripFraction[i], f);
    let sum = 0;
    plan.forEach((s, k) => (sum += stripFraction[k] * (s.y1 - s.y0)));
    const fraction = stripFraction.every((x) => x >= 1) ? 1 : Math.min(1, sum / rowsTotal);
    if (fraction > reported) {
      reported = fraction;
      onProgress?.(fraction);
    }
  };
  const tasks = plan.map(async (s, i) => {
    const data = copyRows(image, W, H, D, s.y0, s.y1, f32);
    const r = await pool.run<ReturnType<typeof deconvolveStrip>>(
      import.meta.url,
      'deconvolveStrip',
      [kind, data, { width: W, height: s.y1 - s.y0, depth: D }, psfCopy, psfDims, stripOptions, [s.own0 - s.y0, s.own1 - s.y0]],
      { transferList: [data.buffer as ArrayBuffer], signal: controller.signal, ...(onProgress ? { onProgress: (f: number) => progress(i, f) } : {}) },
    );
    const rows = s.own1 - s.own0;
    for (let z = 0; z < D; z++) out.set(r.image.subarray(z * rows * W, (z + 1) * rows * W), (z * H + s.own0) * W);
    onStrip?.(++done, plan.length);
    if (onProgress) progress(i, 1);
    return r;
  });
  try {
    const results = await Promise.all(tasks);
    return { image: out, box: results[0].box, tiles: results[0].tiles, backend: results[0].backend, strips: plan.length };
  } catch (e) {
    controller.abort();
    await Promise.allSettled(tasks);
    if (signal?.aborted) throw isFocalError(e) && e.code === 'E_CANCELLED' ? e : new FocalError('E_CANCELLED', 'cancelled', {}, { cause: e });
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * {@link richardsonLucy} on worker threads: the image is cut into horizontal strips run
 * in parallel on `pool` (see the module comment). Runs on this thread instead when there
 * would be one strip (small image, one worker) or with `reference` / `onIteration`.
 * Results equal the single-threaded run to about 10⁻⁴ of the maximum (strip seams, as tiles).
 * @throws FocalError as richardsonLucy (`E_ARGUMENT` naming the field, `E_CANCELLED`), and the pool's errors.
 * @example
 * const { image, strips } = await richardsonLucyInWorkers(pixels, { width: 2048, height: 2048 }, psf, { width: 65, height: 65 }, { iterations: 100, pool: compute.workers });
 */
export function richardsonLucyInWorkers(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, options: InWorkersOptions<RichardsonLucyOptions>): Promise<DeconvolutionResult> {
  return inWorkers('rl', image, dims, psf, psfDims, options);
}

/** {@link landweber} on worker threads; as {@link richardsonLucyInWorkers}. */
export function landweberInWorkers(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, options: InWorkersOptions<LandweberOptions>): Promise<DeconvolutionResult> {
  return inWorkers('landweber', image, dims, psf, psfDims, options);
}
