/**
 * Richardson–Lucy (with optional total-variation regularisation) and Landweber
 * deconvolution of 2D images and 3D volumes, FFT-based, with per-iteration PSNR/SSIM
 * against an optional reference (DeconvolutionLab2's `-stats`).
 */
import { FocalError } from '../../core/index.js';
import { psnr, ssim } from '../../core/imaging.js';
import { nextFastSize, RealFft3d } from '../../core/spectral.js';
import type { BackendChoice } from './spectral.js';
import { MAX_TV_LAMBDA, BOUNDARIES, imageMean, runDeconvolution, type Algorithm, type Boundary, type Dims } from './engine.js';

export type { Boundary, Dims } from './engine.js';

export interface DeconvolutionOptions {
  /** Number of iterations (integer ≥ 1). */
  iterations: number;
  /** Ground truth of the same size: per-iteration PSNR and SSIM go to `stats`. */
  reference?: ArrayLike<number>;
  /** Called after every iteration with the current estimate (a view that is overwritten next iteration; copy to keep). */
  onIteration?: (iteration: number, estimate: Float32Array) => void;
  /** Called after every iteration with its number only: no estimate is assembled, so cheaper than `onIteration` (for progress). */
  onIterationDone?: (iteration: number) => void;
  /** Checked between iterations (and tiles); aborting throws FocalError `E_CANCELLED`. */
  signal?: AbortSignal;
  /** Working-set budget of one FFT box, MiB (default 1024); larger images are processed in overlapping tiles. */
  memoryBudgetMb?: number;
  /** 'reflect-taper' (default: mirrored, tapered padding, no edge artefacts) or 'zero' (scikit-image's zero padding). */
  boundary?: Boundary;
  /** Tile extent in px (x and y), overriding the budget; for tests and experiments. */
  tileSizePx?: number;
  /** FFT backend: 'auto' (default: PFFFT WebAssembly for 2D, this plugin's JS FFT for 3D), 'js' or 'pffft-wasm'. */
  backend?: BackendChoice;
  /**
   * Taper target of the padding and Richardson–Lucy's start value (default: the image's
   * mean). When deconvolving a part of a larger image, give the whole image's mean so the
   * part agrees with the whole (as the strips run in workers do).
   */
  imageMean?: number;
}

export interface RichardsonLucyOptions extends DeconvolutionOptions {
  /** Total-variation weight λ (Dey et al. 2006), 0 ≤ λ ≤ 0.1; 0 = plain RL (default). */
  tvLambda?: number;
}

export interface LandweberOptions extends DeconvolutionOptions {
  /** Step γ relative to 1/max|OTF|² (= 1 for a non-negative unit-sum PSF), 0 < γ < 2. Default 1. */
  step?: number;
  /** Project onto x ≥ 0 after each iteration (default true). */
  nonNegative?: boolean;
}

export interface StatsRow {
  iteration: number;
  psnr: number;
  ssim: number;
}

export interface DeconvolutionResult {
  /** The estimate, width·height·depth float32 values. */
  image: Float32Array;
  /** Per-iteration PSNR/SSIM when a reference was given. */
  stats?: StatsRow[];
  /** FFT box of one tile (nx, ny, nz). */
  box: [number, number, number];
  /** Tiles along x and y. */
  tiles: [number, number];
  /** FFT backend used. */
  backend: 'pffft-wasm' | 'js';
  /** Horizontal strips run on worker threads (parallel.ts; `box` and `tiles` are then those of the first strip); absent when run on one thread. */
  strips?: number;
}

function fieldError(field: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${field}: ${message}`, { field });
}

function checkedDims(dims: Dims, field: string): [number, number, number] {
  const d = [dims.width, dims.height, dims.depth ?? 1] as [number, number, number];
  if (!d.every((v) => Number.isInteger(v) && v >= 1)) throw fieldError(field, `dimensions must be positive integers, got ${d.join('×')}`);
  return d;
}

/** Float64 copy of the pixels; rejects a wrong length and non-finite values. */
function toFloat(data: ArrayLike<number>, count: number, field: string): Float64Array {
  if (data.length !== count) throw fieldError(field, `has ${data.length} values, expected ${count}`);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw fieldError(field, `value ${i} is ${v}; NaN or infinite pixels cannot be deconvolved`);
    out[i] = v;
  }
  return out;
}

/** Validates the PSF and returns it normalised to unit sum. */
function unitPsf(image: [number, number, number], psf: ArrayLike<number>, psfDims: Dims): { psf: Float64Array; dims: [number, number, number] } {
  const pd = checkedDims(psfDims, 'psf');
  const names = ['width', 'height', 'depth'];
  for (let a = 0; a < 3; a++) {
    if (pd[a] > image[a]) throw fieldError('psf', `PSF ${names[a]} ${pd[a]} px is larger than the image ${names[a]} ${image[a]} px`);
  }
  const p = toFloat(psf, pd[0] * pd[1] * pd[2], 'psf');
  let sum = 0;
  for (const v of p) sum += v;
  if (!(sum > 0)) throw fieldError('psf', `the PSF sums to ${sum}; it must have a positive sum (it is normalised to 1)`);
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return { psf: p, dims: pd };
}

function common(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, options: DeconvolutionOptions) {
  const d = checkedDims(dims, 'image');
  const count = d[0] * d[1] * d[2];
  if (!Number.isInteger(options.iterations) || options.iterations < 1) {
    throw fieldError('iterations', `must be an integer ≥ 1, got ${options.iterations}`);
  }
  if (options.boundary !== undefined && !BOUNDARIES.includes(options.boundary)) {
    throw fieldError('boundary', `must be one of ${BOUNDARIES.join(', ')}, got ${String(options.boundary)}`);
  }
  if (options.memoryBudgetMb !== undefined && !(options.memoryBudgetMb > 0)) {
    throw fieldError('memoryBudgetMb', `must be > 0, got ${options.memoryBudgetMb}`);
  }
  if (options.imageMean !== undefined && !Number.isFinite(options.imageMean)) {
    throw fieldError('imageMean', `must be a finite number, got ${options.imageMean}`);
  }
  const img = toFloat(image, count, 'image');
  const p = unitPsf(d, psf, psfDims);
  const reference = options.reference !== undefined ? toFloat(options.reference, count, 'reference') : undefined;
  return { d, img, p, reference };
}

function referenceRange(reference: Float64Array | undefined): number {
  if (!reference) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of reference) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const dataRange = hi - lo;
  if (!(dataRange > 0)) throw fieldError('reference', 'the reference is constant; PSNR and SSIM need a data range > 0');
  return dataRange;
}

export type AlgorithmKind = 'rl' | 'landweber';

/** The engine's algorithm for richardsonLucy ('rl') or landweber options; checks tvLambda / step. */
function algorithmFor(kind: AlgorithmKind, options: RichardsonLucyOptions & LandweberOptions): Algorithm {
  if (kind === 'rl') {
    const tvLambda = options.tvLambda ?? 0;
    if (!(tvLambda >= 0 && tvLambda <= MAX_TV_LAMBDA)) throw fieldError('tvLambda', `must be in [0, ${MAX_TV_LAMBDA}], got ${tvLambda}`);
    return { kind: 'rl', tvLambda };
  }
  const step = options.step ?? 1;
  if (!(step > 0 && step < 2)) throw fieldError('step', `must be in (0, 2), got ${step}`);
  return { kind: 'landweber', step, nonNegative: options.nonNegative ?? true };
}

/**
 * Checks everything {@link richardsonLucy} ('rl') or {@link landweber} would check, with the
 * same errors, without deconvolving; returns the image size and the mean the run would use.
 * (For callers that split the work, e.g. into strips run in workers.)
 */
export function checkDeconvolution(
  kind: AlgorithmKind,
  image: ArrayLike<number>,
  dims: Dims,
  psf: ArrayLike<number>,
  psfDims: Dims,
  options: RichardsonLucyOptions & LandweberOptions,
): { dims: [number, number, number]; mean: number } {
  algorithmFor(kind, options);
  const { d, img, reference } = common(image, dims, psf, psfDims, options);
  referenceRange(reference);
  return { dims: d, mean: options.imageMean ?? imageMean(img) };
}

function run(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, algorithm: Algorithm, options: DeconvolutionOptions): DeconvolutionResult {
  const { d, img, p, reference } = common(image, dims, psf, psfDims, options);
  const stats: StatsRow[] | undefined = reference ? [] : undefined;
  const dataRange = referenceRange(reference);
  const plane = d[0] * d[1];
  const needEstimate = reference !== undefined || options.onIteration !== undefined;
  const onIteration =
    needEstimate || options.onIterationDone
      ? (it: number, est: Float32Array) => {
          if (reference && stats) {
            let s = 0;
            for (let z = 0; z < d[2]; z++) {
              s += ssim(est.subarray(z * plane, (z + 1) * plane), reference.subarray(z * plane, (z + 1) * plane), d[0], d[1], { dataRange });
            }
            stats.push({ iteration: it, psnr: psnr(est, reference, { dataRange }), ssim: s / d[2] });
          }
          options.onIteration?.(it, est);
          options.onIterationDone?.(it);
        }
      : undefined;
  const result = runDeconvolution(img, { width: d[0], height: d[1], depth: d[2] }, p.psf, { width: p.dims[0], height: p.dims[1], depth: p.dims[2] }, algorithm, {
    iterations: options.iterations,
    boundary: options.boundary,
    memoryBudgetMb: options.memoryBudgetMb,
    onIteration,
    needEstimate,
    signal: options.signal,
    tileSizePx: options.tileSizePx,
    backend: options.backend,
    mean: options.imageMean,
  });
  return { image: result.image, ...(stats ? { stats } : {}), box: result.box, tiles: result.tiles, backend: result.backend };
}

/**
 * Richardson–Lucy deconvolution (Richardson 1972, Lucy 1974): u ← u · Kᵀ(y / K u), with
 * K the convolution with the unit-sum PSF; with `tvLambda` > 0, the RL-TV update of Dey
 * et al. (2006), u ← u / (1 − λ div(∇u/|∇u|)) · Kᵀ(y / K u). Starts from a constant
 * (the image mean); FFT-based, the OTF computed once.
 *
 * @param image width·height·depth pixels, x fastest, then y, then z (any numeric array; not modified).
 * @param dims Image size in px (depth 1 or absent = 2D).
 * @param psf PSF pixels (normalised to unit sum here), centred at index ⌊(k−1)/2⌋ along each axis.
 * @param psfDims PSF size, px; not larger than the image along any axis.
 * @returns The float32 estimate, per-iteration stats when `reference` is given, and the FFT geometry.
 * @throws FocalError `E_ARGUMENT` naming the field (image, psf, reference, iterations, tvLambda,
 *   boundary, memoryBudgetMb), `E_PARAMS` (memoryBudgetMb too small), `E_CANCELLED`.
 * @example
 * const { image } = richardsonLucy(pixels, { width: 512, height: 512 }, psf, { width: 33, height: 33 }, { iterations: 50 });
 */
export function richardsonLucy(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, options: RichardsonLucyOptions): DeconvolutionResult {
  return run(image, dims, psf, psfDims, algorithmFor('rl', options), options);
}

/**
 * Landweber deconvolution (Landweber 1951): u ← P(u + γ Kᵀ(y − K u)), P the projection onto
 * u ≥ 0 when `nonNegative` (default). γ = step / max|OTF|², so 0 < step < 2 converges (for
 * a non-negative unit-sum PSF max|OTF| = 1 and γ = step). Starts from the image. With the
 * default boundary one iteration is two real FFTs: U ← (1 − γ|H|²)U + γ H̄ Y.
 *
 * Parameters and errors as {@link richardsonLucy}; `step` outside (0, 2) → `E_ARGUMENT` (field step).
 */
export function landweber(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, options: LandweberOptions): DeconvolutionResult {
  return run(image, dims, psf, psfDims, algorithmFor('landweber', options), options);
}

/**
 * Convolution with a PSF normalised to unit sum, by FFT, with the same boundary handling
 * as the deconvolutions ('reflect-taper': mirrored neighbours; 'zero': scipy's
 * `convolve(mode='same')`). Float32 out. Useful for residuals and simulations.
 * @throws FocalError `E_ARGUMENT` as {@link richardsonLucy}.
 */
export function convolve(image: ArrayLike<number>, dims: Dims, psf: ArrayLike<number>, psfDims: Dims, options: { boundary?: Boundary } = {}): Float32Array {
  const { d, img, p } = common(image, dims, psf, psfDims, { iterations: 1, boundary: options.boundary });
  return convolveUnit(img, d, p.psf, p.dims, options.boundary ?? 'reflect-taper');
}


function convolveUnit(img: Float64Array, d: [number, number, number], psf: Float64Array, pd: [number, number, number], boundary: Boundary): Float32Array {
  const [W, H, D] = d;
  const len = (size: number, k: number, even: boolean) =>
    size === 1 && k === 1 ? (even ? 2 : 1) : nextFastSize(boundary === 'zero' ? size + k - 1 : size + 2 * (k - 1), even);
  const nx = len(W, pd[0], true);
  const ny = len(H, pd[1], false);
  const nz = len(D, pd[2], false);
  const fft = new RealFft3d(nx, ny, nz);
  const n = nx * ny * nz;
  const box = new Float64Array(n);
  const reflect = (i: number, size: number) => {
    const period = 2 * size;
    let r = ((i % period) + period) % period;
    if (r >= size) r = period - 1 - r;
    return r;
  };
  // source index for a box position: inside, or (reflect) mirrored from the nearer edge
  const src = (b: number, size: number, nb: number) => {
    if (b < size) return b;
    if (boundary === 'zero') return -1;
    const g = b - size;
    return g + 1 <= nb - size - g ? reflect(size - 1 + g + 1, size) : reflect(-(nb - size - g), size);
  };
  for (let z = 0; z < nz; z++) {
    const sz = src(z, D, nz);
    for (let y = 0; y < ny; y++) {
      const sy = src(y, H, ny);
      for (let x = 0; x < nx; x++) {
        const sx = src(x, W, nx);
        box[(z * ny + y) * nx + x] = sx < 0 || sy < 0 || sz < 0 ? 0 : img[(sz * H + sy) * W + sx];
      }
    }
  }
  const psfBox = new Float64Array(n);
  const c = pd.map((k) => (k - 1) >> 1);
  for (let z = 0; z < pd[2]; z++) {
    for (let y = 0; y < pd[1]; y++) {
      for (let x = 0; x < pd[0]; x++) {
        psfBox[(((z - c[2] + nz) % nz) * ny + ((y - c[1] + ny) % ny)) * nx + ((x - c[0] + nx) % nx)] += psf[(z * pd[1] + y) * pd[0] + x];
      }
    }
  }
  fft.forward(psfBox);
  const hr = Float64Array.from(fft.specRe);
  const hi = Float64Array.from(fft.specIm);
  fft.forward(box);
  for (let i = 0; i < hr.length; i++) {
    const ar = fft.specRe[i], ai = fft.specIm[i];
    fft.specRe[i] = (ar * hr[i] - ai * hi[i]) / n;
    fft.specIm[i] = (ar * hi[i] + ai * hr[i]) / n;
  }
  fft.inverse(box);
  const out = new Float32Array(W * H * D);
  for (let z = 0; z < D; z++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[(z * H + y) * W + x] = box[(z * ny + y) * nx + x];
  return out;
}
