/**
 * The deconvolution engine: geometry (padding, FFT box, tiles), the OTF, and the
 * Richardson–Lucy (optionally with total-variation regularisation) and Landweber
 * iterations on real FFTs. Plain functions over typed arrays; the public wrappers with
 * per-iteration statistics are in deconvolve.ts.
 *
 * Boundaries. 'reflect-taper' (default): each block is placed at the origin of an FFT box
 * at least 2·(k − 1) px larger along every blurred axis (k = PSF size), and the gap
 * (which the circular convolution wraps around) holds the mirror image of the data (edge
 * pixel repeated) for ⌊k/2⌋ px on each side, blended with a raised cosine into the image
 * mean over the next px up to k − 1, and the mean beyond; so the periodic extension has no
 * jump anywhere, the image edges see mirrored neighbours, and the neighbourhood does not
 * depend on the box size. 'zero': the image is surrounded by zeros and the estimate lives
 * only on the image (a box ≥ size + k − 1, no wrap-around); this is scikit-image's
 * `richardson_lucy` (scipy `convolve(mode='same')`), reproduced for testing.
 */
import { FocalError, throwIfAborted } from '../../core/index.js';
import { canFuseRl, rlIterationFused } from './rl-fused.js';
import { backendBytes, boxSizes, createBackend, type BackendChoice, type Filter } from './spectral.js';

/** Image dimensions in pixels (depth 1 or absent = 2D). */
export interface Dims {
  width: number;
  height: number;
  depth?: number;
}

export type Boundary = 'reflect-taper' | 'zero';
export const BOUNDARIES: readonly Boundary[] = ['reflect-taper', 'zero'];

export type Algorithm =
  | { kind: 'rl'; tvLambda: number }
  | { kind: 'landweber'; step: number; nonNegative: boolean };

export interface EngineOptions {
  iterations: number;
  boundary?: Boundary;
  /** Working-set budget per FFT box, MiB (default 1024). Above it the image is cut into overlapping tiles. */
  memoryBudgetMb?: number;
  /** Called after each iteration with the current estimate (the full image, width·height·depth). */
  onIteration?: (iteration: number, estimate: Float32Array) => void;
  /** Whether onIteration needs the assembled estimate (false: called with an empty array, cheaper). */
  needEstimate?: boolean;
  signal?: AbortSignal;
  /** Force a tile extent (px, x and y) instead of deriving it from the budget; for tests. */
  tileSizePx?: number;
  /** FFT backend: 'auto' (PFFFT WebAssembly for 2D when it loaded, else the JS FFT), 'js' or 'pffft-wasm'. */
  backend?: BackendChoice;
  /**
   * Taper target of the padding and RL start value (default: the mean of `image`). A part
   * of a larger image (a strip run in a worker) gets the whole image's mean, so that it
   * agrees with the untiled run.
   */
  mean?: number;
}

export interface EngineResult {
  image: Float32Array;
  /** FFT box (nx, ny, nz) of one tile. */
  box: [number, number, number];
  /** Tiles along x and y (1 × 1 when untiled). */
  tiles: [number, number];
  /** Estimated working set of one box, bytes. */
  workingSetBytes: number;
  /** FFT backend used. */
  backend: 'pffft-wasm' | 'js';
}

/** Tile overlap each side of a seam, in units of (PSF size − 1) = 2 × PSF half-size. */
export const TILE_MARGIN_FACTOR = 2;

/** Largest tvLambda accepted: keeps 1 − λ·div(∇u/|∇u|) ≥ 1 − 6λ > 0 in 3D. */
export const MAX_TV_LAMBDA = 0.1;

interface Axis {
  /** image extent along the axis */
  size: number;
  /** PSF extent along the axis */
  k: number;
  /** PSF centre index, (k − 1) >> 1 as scipy's 'same' mode */
  c: number;
}

function argError(field: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${field}: ${message}`, { field });
}

/** Validates dims and returns [width, height, depth]. */
function dims3(dims: Dims, field: string): [number, number, number] {
  const w = dims.width;
  const h = dims.height;
  const d = dims.depth ?? 1;
  for (const [name, v] of [['width', w], ['height', h], ['depth', d]] as const) {
    if (!Number.isInteger(v) || v < 1) throw argError(field, `${name} must be a positive integer, got ${v}`);
  }
  return [w, h, d];
}

/** Box extent needed along one axis for a block of `size` px and a PSF of k px. */
function boxNeed(size: number, k: number, boundary: Boundary): number {
  if (size === 1 && k === 1) return 1;
  return boundary === 'zero' ? size + k - 1 : size + 2 * (k - 1);
}

/** Bytes of one box's working set: FFT backend, OTF, float32 scratch and state, TV / Landweber extras. */
export function workingSetBytes(nx: number, ny: number, nz: number, algorithm: Algorithm, backend: BackendChoice = 'auto'): number {
  const n = nx * ny * nz;
  const ns = (nx / 2 + 1) * ny * nz;
  let bytes = backendBytes(backend, nx, ny, nz) + 2 * 8 * ns + 3 * 4 * n;
  if (algorithm.kind === 'rl' && algorithm.tvLambda > 0) bytes += 8 * n;
  if (algorithm.kind === 'landweber') bytes += 2 * 8 * ns + 2 * 4 * ns;
  return bytes;
}

/**
 * Per-axis mirror source index and taper weight for box positions 0…n−1 of a block of
 * `size` px followed by a gap of n − size px that wraps around to its start. Within
 * k − 1 px of either edge the gap holds the mirrored data, weight 1 for the first
 * ⌊k/2⌋ px then a raised cosine down to 0; beyond that the weight is 0 (the mean). So the
 * neighbourhood of the block does not depend on the box size (tiles see what the whole
 * image sees).
 */
function axisMaps(size: number, n: number, k: number, taper: boolean): { src: Int32Array; weight: Float64Array } {
  const src = new Int32Array(n);
  const weight = new Float64Array(n);
  const G = n - size;
  const half = k >> 1;
  const reach = k - 1;
  const reflect = (i: number) => {
    const period = 2 * size;
    let r = ((i % period) + period) % period;
    if (r >= size) r = period - 1 - r;
    return r;
  };
  for (let x = 0; x < n; x++) {
    if (x < size) {
      src[x] = x;
      weight[x] = 1;
      continue;
    }
    const g = x - size;
    const dRight = g + 1;
    const dLeft = G - g;
    src[x] = dRight <= dLeft ? reflect(size - 1 + dRight) : reflect(-dLeft);
    const d = Math.min(dRight, dLeft);
    if (!taper || d > reach) weight[x] = 0;
    else if (d <= half) weight[x] = 1;
    else weight[x] = 0.5 * (1 + Math.cos((Math.PI * (d - half)) / (reach - half + 1)));
  }
  return { src, weight };
}

/** Tile starts along one axis: equal tiles of `tile` px, overlapping by ≥ 2·margin. */
function tileStarts(size: number, tile: number, margin: number): number[] {
  if (tile >= size) return [0];
  const step = tile - 2 * margin;
  const count = Math.ceil((size - tile) / step) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (size - tile)) / (count - 1)));
}

/** Owned range [from, to) of tile i (crop the centre: seams halfway through each overlap). */
function ownedRange(starts: number[], i: number, tile: number, size: number): [number, number] {
  const from = i === 0 ? 0 : Math.floor((starts[i - 1] + tile + starts[i]) / 2);
  const to = i === starts.length - 1 ? size : Math.floor((starts[i] + tile + starts[i + 1]) / 2);
  return [from, to];
}

interface TileState {
  x0: number;
  y0: number;
  /** current estimate on the box */
  est: Float32Array;
  /** observed data on the box (RL; Landweber with zero boundary) */
  obs?: Float32Array;
  /** Landweber (box boundary): γ·conj(H)·Y / N, as a backend snapshot */
  lwB?: Float32Array;
}

/** The FFT backend one run works with. */
type SpectralBackend = ReturnType<typeof createBackend>;

/** Where the image is cut into tiles and the FFT box each tile is padded to. */
interface TileGrid {
  /** tile extent, px */
  tw: number;
  th: number;
  startsX: number[];
  startsY: number[];
  /** FFT box of one tile */
  nx: number;
  ny: number;
  nz: number;
}

/**
 * The tile size: the whole image when its FFT box fits the memory budget (or `tileSizePx`
 * when given), else tiles shrunk by 15 % along their longer side until it fits; overlapping
 * by TILE_MARGIN_FACTOR PSF extents.
 * @throws FocalError `E_PARAMS` (field memoryBudgetMb) when even the smallest tile is over the budget or too small for the overlap.
 */
function tileGrid(W: number, H: number, D: number, kw: number, kh: number, kd: number, boundary: Boundary, algorithm: Algorithm, options: EngineOptions): TileGrid {
  const budget = (options.memoryBudgetMb ?? 1024) * 1024 * 1024;
  const choice = options.backend ?? 'auto';
  const boxFor = (tw: number, th: number): [number, number, number] =>
    boxSizes(choice, [boxNeed(tw, kw, boundary), boxNeed(th, kh, boundary), boxNeed(D, kd, boundary)]);
  const marginX = TILE_MARGIN_FACTOR * (kw - 1);
  const marginY = TILE_MARGIN_FACTOR * (kh - 1);
  let tw = W;
  let th = H;
  if (options.tileSizePx !== undefined) {
    tw = Math.min(W, options.tileSizePx);
    th = Math.min(H, options.tileSizePx);
  } else {
    let [nx, ny, nz] = boxFor(tw, th);
    while (workingSetBytes(nx, ny, nz, algorithm, choice) > budget) {
      const minW = Math.min(W, 2 * marginX + Math.max(16, kw));
      const minH = Math.min(H, 2 * marginY + Math.max(16, kh));
      if (tw <= minW && th <= minH) {
        throw new FocalError(
          'E_PARAMS',
          `memoryBudgetMb: ${options.memoryBudgetMb} MiB is too small even for the smallest tile (${minW}×${minH}×${D} px needs ${Math.ceil(workingSetBytes(nx, ny, nz, algorithm, choice) / 2 ** 20)} MiB)`,
          { field: 'memoryBudgetMb' },
        );
      }
      if (tw >= th) tw = Math.max(minW, Math.floor(tw * 0.85));
      else th = Math.max(minH, Math.floor(th * 0.85));
      [nx, ny, nz] = boxFor(tw, th);
    }
  }
  if ((tw < W && tw <= 2 * marginX) || (th < H && th <= 2 * marginY)) {
    throw new FocalError('E_PARAMS', `tile of ${tw}×${th} px is too small for the overlap of ${marginX}×${marginY} px each side`, { field: 'memoryBudgetMb' });
  }
  const [nx, ny, nz] = boxFor(tw, th);
  return { tw, th, startsX: tileStarts(W, tw, marginX), startsY: tileStarts(H, th, marginY), nx, ny, nz };
}

/**
 * OTF of the unit-sum PSF, centre moved to the origin; scaled by 1/N so that the
 * unnormalised inverse FFT comes out right. `maxH2` is max |H|² of the unscaled OTF.
 */
function transferFunction(fft: SpectralBackend, psf: Float64Array, axes: Axis[], grid: TileGrid): { otf: Filter; maxH2: number } {
  const { nx, ny, nz } = grid;
  const n = nx * ny * nz;
  const [kw, kh, kd] = [axes[0].k, axes[1].k, axes[2].k];
  const psfBox = new Float32Array(n);
  for (let z = 0; z < kd; z++) {
    const bz = (z - axes[2].c + nz) % nz;
    for (let y = 0; y < kh; y++) {
      const by = (y - axes[1].c + ny) % ny;
      for (let x = 0; x < kw; x++) {
        const bx = (x - axes[0].c + nx) % nx;
        psfBox[(bz * ny + by) * nx + bx] += psf[(z * kh + y) * kw + x];
      }
    }
  }
  fft.forward(psfBox);
  const otf: Filter = fft.toFilter(1 / n);
  let maxH2 = 0;
  for (let i = 0; i < otf.re.length; i++) maxH2 = Math.max(maxH2, (otf.re[i] * otf.re[i] + otf.im[i] * otf.im[i]) * n * n);
  return { otf, maxH2 };
}

/** What every tile's iteration uses: the FFT, the OTF, scratch space and the algorithm's constants. */
interface Solver {
  algorithm: Algorithm;
  boundary: Boundary;
  fft: SpectralBackend;
  otf: Filter;
  /** float32 like the state, so the FFT's pack/unpack loops see one array type */
  scratch: Float32Array;
  tvLambda: number;
  tvDenom?: Float64Array;
  /** Landweber step γ / max|H|² */
  gamma: number;
  /** Landweber with a box boundary: A = (1 − γ|H|²)/N of x ← IFFT(A·X + B) */
  lwA?: Filter;
}

function solverFor(algorithm: Algorithm, boundary: Boundary, fft: SpectralBackend, otf: Filter, maxH2: number, n: number): Solver {
  const tvLambda = algorithm.kind === 'rl' ? algorithm.tvLambda : 0;
  const gamma = algorithm.kind === 'landweber' ? algorithm.step / maxH2 : 0;
  let lwA: Filter | undefined;
  if (algorithm.kind === 'landweber' && boundary !== 'zero') {
    const invN = 1 / n;
    const re = new Float64Array(otf.re.length);
    for (let i = 0; i < re.length; i++) re[i] = (1 - gamma * (otf.re[i] * otf.re[i] + otf.im[i] * otf.im[i]) * n * n) * invN;
    lwA = { re, im: new Float64Array(re.length) };
  }
  return {
    algorithm, boundary, fft, otf, tvLambda, gamma, lwA,
    scratch: new Float32Array(n),
    ...(tvLambda > 0 ? { tvDenom: new Float64Array(n) } : {}),
  };
}

/**
 * Every tile's starting state: the observed data on its box (zero-padded, or mirrored and
 * tapered to `mean`), and the start estimate (RL: a constant; Landweber: the data, clipped
 * when non-negative; with a box boundary Landweber keeps B = γ conj(H) Y / N instead of the data).
 */
function initialTiles(image: Float64Array, W: number, H: number, D: number, axes: Axis[], grid: TileGrid, solver: Solver, mean: number): TileState[] {
  const { tw, th, nx, ny, nz } = grid;
  const { algorithm, boundary, fft, otf } = solver;
  const n = nx * ny * nz;
  const taper = boundary === 'reflect-taper';
  const mapX = axisMaps(tw, nx, axes[0].k, taper);
  const mapY = axisMaps(th, ny, axes[1].k, taper);
  const mapZ = axisMaps(D, nz, axes[2].k, taper);
  const tiles: TileState[] = [];
  const wX = mapX.weight;
  const sX = mapX.src;
  for (const y0 of grid.startsY) {
    for (const x0 of grid.startsX) {
      const obs = new Float32Array(n);
      for (let bz = 0; bz < nz; bz++) {
        const sz = mapZ.src[bz];
        const wz = mapZ.weight[bz];
        for (let by = 0; by < ny; by++) {
          const sy = mapY.src[by];
          const wzy = wz * mapY.weight[by];
          const srow = (sz * H + y0 + sy) * W + x0;
          const drow = (bz * ny + by) * nx;
          if (boundary === 'zero') {
            if (bz < D && by < th) for (let bx = 0; bx < tw; bx++) obs[drow + bx] = image[srow + bx];
            continue;
          }
          // the image part of the row (weight 1) is a plain copy; the gap is mirrored and tapered
          let bx = 0;
          if (wzy === 1) {
            obs.set(image.subarray(srow, srow + tw), drow);
            bx = tw;
          }
          for (; bx < nx; bx++) {
            const w = wzy * wX[bx];
            obs[drow + bx] = w === 1 ? image[srow + sX[bx]] : mean + w * (image[srow + sX[bx]] - mean);
          }
        }
      }
      const est = new Float32Array(n);
      const state: TileState = { x0, y0, est };
      if (algorithm.kind === 'rl') {
        // constant start (as scikit-image); after one iteration the result does not depend on the constant
        const start = mean > 0 ? mean : 1;
        if (boundary === 'zero') forRegion(nx, ny, nz, tw, th, D, (i) => (est[i] = start));
        else est.fill(start);
        state.obs = obs;
      } else {
        est.set(obs);
        if (algorithm.nonNegative) for (let i = 0; i < n; i++) if (est[i] < 0) est[i] = 0;
        if (solver.lwA) {
          fft.forward(obs);
          fft.multiply(otf, true);
          fft.scale(solver.gamma);
          state.lwB = fft.snapshot();
        } else state.obs = obs;
      }
      tiles.push(state);
    }
  }
  return tiles;
}

/**
 * One iteration on one tile: one or two fused filter passes (forward FFT, filter, inverse
 * FFT), with the pointwise steps done on each output row as it comes out of the inverse FFT.
 * `fuseNext`: with one tile, the fused RL pass also does the next iteration's forward
 * transform while the rows are in cache.
 */
function stepTile(t: TileState, solver: Solver, grid: TileGrid, D: number, fuseNext: boolean): void {
  const { algorithm, boundary, fft, otf, scratch, tvDenom, gamma } = solver;
  const { tw, th, nx, ny, nz } = grid;
  const inRegion = (r: number) => r % ny < th && Math.floor(r / ny) < D;
  const est = t.est;
  if (algorithm.kind === 'rl' && !tvDenom && boundary !== 'zero' && canFuseRl(fft)) {
    rlIterationFused(fft, est, t.obs!, otf, fuseNext);
  } else if (algorithm.kind === 'rl') {
    const obs = t.obs!;
    if (tvDenom) tvDenominators(est, nx, ny, nz, boundary === 'zero' ? [tw, th, D] : [nx, ny, nz], solver.tvLambda, tvDenom);
    // scratch ← y / (K u + 1e-12) (scikit-image's regularised ratio); zero boundary: 0 outside the image
    if (boundary === 'zero') {
      fft.filterPass(est, otf, false, (r, d, o) => {
        const b = r * nx;
        if (!inRegion(r)) {
          scratch.fill(0, b, b + nx);
          return;
        }
        for (let x = 0; x < tw; x++) {
          const c = d[o + x] + 1e-12;
          scratch[b + x] = c > 0 ? obs[b + x] / c : 0;
        }
        scratch.fill(0, b + tw, b + nx);
      });
    } else {
      fft.filterPass(est, otf, false, (r, d, o, math) => math.ratio(d, o, obs, scratch, r * nx, nx));
    }
    // u ← u · Kᵀ(ratio) (RL-TV: / (1 − λ div(∇u/|∇u|)))
    if (tvDenom) {
      fft.filterPass(scratch, otf, true, (r, d, o) => {
        for (let x = 0, b = r * nx; x < nx; x++) est[b + x] = (est[b + x] * d[o + x]) / tvDenom[b + x];
      });
    } else {
      fft.filterPass(scratch, otf, true, (r, d, o, math) => math.mul(d, o, est, r * nx, nx));
    }
  } else if (t.lwB) {
    // U ← A·U + B in Fourier space, then the projection
    const nn = algorithm.nonNegative;
    fft.filterPass(est, solver.lwA!, false, (r, d, o, math) => {
      if (nn) math.clampTo(d, o, est, r * nx, nx);
      else est.set(d.subarray(o, o + nx), r * nx);
    }, t.lwB);
  } else {
    // zero boundary: x ← x + γ Kᵀ M (y − K x), x kept on the image region
    const obs = t.obs!;
    fft.filterPass(est, otf, false, (r, d, o) => {
      const b = r * nx;
      if (!inRegion(r)) {
        scratch.fill(0, b, b + nx);
        return;
      }
      for (let x = 0; x < tw; x++) scratch[b + x] = obs[b + x] - d[o + x];
      scratch.fill(0, b + tw, b + nx);
    });
    const nn = algorithm.nonNegative;
    fft.filterPass(scratch, otf, true, (r, d, o) => {
      if (!inRegion(r)) return;
      for (let x = 0, b = r * nx; x < tw; x++) {
        const v = est[b + x] + gamma * d[o + x];
        est[b + x] = nn && v < 0 ? 0 : v;
      }
    });
  }
}

/** Writes the part of each tile's estimate that the tile owns into `out` (W·H·D). */
function assembleTiles(out: Float32Array, tiles: TileState[], grid: TileGrid, W: number, H: number, D: number): void {
  const { tw, th, nx, ny, startsX, startsY } = grid;
  let ti = 0;
  for (let iy = 0; iy < startsY.length; iy++) {
    const [fy, ty] = ownedRange(startsY, iy, th, H);
    for (let ix = 0; ix < startsX.length; ix++, ti++) {
      const [fx, tx] = ownedRange(startsX, ix, tw, W);
      const t = tiles[ti];
      const est = t.est;
      for (let z = 0; z < D; z++) {
        for (let y = fy; y < ty; y++) {
          const src = (z * ny + (y - t.y0)) * nx - t.x0;
          const dst = (z * H + y) * W;
          out.set(est.subarray(src + fx, src + tx), dst + fx);
        }
      }
    }
  }
}

/**
 * Runs `iterations` of RL or Landweber on a whole image (2D or 3D), tiled when needed.
 * Inputs are validated by the caller except where noted.
 */
export function runDeconvolution(
  image: Float64Array,
  dims: Dims,
  psf: Float64Array,
  psfDims: Dims,
  algorithm: Algorithm,
  options: EngineOptions,
): EngineResult {
  const [W, H, D] = dims3(dims, 'image');
  const [kw, kh, kd] = dims3(psfDims, 'psf');
  const boundary = options.boundary ?? 'reflect-taper';
  const axes: Axis[] = [
    { size: W, k: kw, c: (kw - 1) >> 1 },
    { size: H, k: kh, c: (kh - 1) >> 1 },
    { size: D, k: kd, c: (kd - 1) >> 1 },
  ];
  const choice = options.backend ?? 'auto';
  const grid = tileGrid(W, H, D, kw, kh, kd, boundary, algorithm, options);
  const { nx, ny, nz } = grid;
  const n = nx * ny * nz;
  const fft = createBackend(choice, nx, ny, nz);
  try {
    const { otf, maxH2 } = transferFunction(fft, psf, axes, grid);
    const solver = solverFor(algorithm, boundary, fft, otf, maxH2, n);
    // one mean for all tiles (taper target and RL start), so tiles agree with the whole image
    const tiles = initialTiles(image, W, H, D, axes, grid, solver, options.mean ?? imageMean(image));
    const out = new Float32Array(W * H * D);
    const empty = new Float32Array(0);
    for (let it = 1; it <= options.iterations; it++) {
      const last = it === options.iterations;
      for (const t of tiles) {
        throwIfAborted(options.signal);
        stepTile(t, solver, grid, D, tiles.length === 1 && !last);
      }
      if (options.onIteration) {
        if (options.needEstimate !== false) {
          assembleTiles(out, tiles, grid, W, H, D);
          options.onIteration(it, out);
        } else options.onIteration(it, empty);
      }
    }
    assembleTiles(out, tiles, grid, W, H, D);
    return { image: out, box: [nx, ny, nz], tiles: [grid.startsX.length, grid.startsY.length], workingSetBytes: workingSetBytes(nx, ny, nz, algorithm, choice), backend: fft.name };
  } finally {
    fft.dispose();
  }
}

/** Mean of the pixels, summed in order in float64 (the taper target and RL start). */
export function imageMean(image: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < image.length; i++) sum += image[i];
  return sum / image.length;
}

function forRegion(nx: number, ny: number, _nz: number, w: number, h: number, d: number, f: (i: number) => void): void {
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const row = (z * ny + y) * nx;
      for (let x = 0; x < w; x++) f(row + x);
    }
  }
}

/**
 * Dey et al. (2006) RL-TV denominator 1 − λ·div(∇u/|∇u|) on the region [0,rw)×[0,rh)×[0,rd)
 * of the box: forward differences for ∇u (zero across the region's far edge), the
 * divergence as their adjoint (backward differences), |∇u| regularised by ε = 1e-6 ×
 * the largest |u| (so flat areas give 0 instead of 0/0). Outside the region the
 * denominator is 1.
 */
export function tvDenominators(u: Float32Array, nx: number, ny: number, nz: number, region: [number, number, number], lambda: number, out: Float64Array): void {
  const [rw, rh, rd] = region;
  let maxAbs = 0;
  for (let i = 0; i < u.length; i++) maxAbs = Math.max(maxAbs, Math.abs(u[i]));
  const eps = 1e-6 * maxAbs + 1e-30;
  const sx = 1;
  const sy = nx;
  const sz = nx * ny;
  out.fill(1);
  // normalised gradient component a at voxel (x, y, z)
  const p = (x: number, y: number, z: number, axis: number): number => {
    const i = z * sz + y * sy + x * sx;
    const v = u[i];
    const gx = x + 1 < rw ? u[i + sx] - v : 0;
    const gy = y + 1 < rh ? u[i + sy] - v : 0;
    const gz = z + 1 < rd ? u[i + sz] - v : 0;
    const norm = Math.sqrt(gx * gx + gy * gy + gz * gz + eps * eps);
    return (axis === 0 ? gx : axis === 1 ? gy : gz) / norm;
  };
  for (let z = 0; z < rd; z++) {
    for (let y = 0; y < rh; y++) {
      for (let x = 0; x < rw; x++) {
        let div = p(x, y, z, 0) + p(x, y, z, 1) + (rd > 1 ? p(x, y, z, 2) : 0);
        if (x > 0) div -= p(x - 1, y, z, 0);
        if (y > 0) div -= p(x, y - 1, z, 1);
        if (z > 0 && rd > 1) div -= p(x, y, z - 1, 2);
        out[z * sz + y * sy + x] = 1 - lambda * div;
      }
    }
  }
}
