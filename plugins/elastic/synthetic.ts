/**
 * Deterministic synthetic data for testing and benchmarking registration: a textured
 * image, a smooth displacement field (sum of Gaussian bumps), and the endpoint error.
 */
import { gaussianRandom, mulberry32 } from '../../core/index.js';
import { gaussianBlur2d } from '../../core/imaging.js';
import { warpImage } from './register.js';

/** Standard normal deviates (Box–Muller, core's {@link gaussianRandom}) from a uniform generator. */
export function gaussianNoise(rand: () => number): () => number {
  return () => gaussianRandom(rand);
}

/**
 * A tissue-like texture in [0, 1000]: blurred noise at three scales (σ = 1.5, 4 and 12 px)
 * plus a few bright blobs.
 */
export function texturedImage(width: number, height: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const normal = gaussianNoise(rand);
  const n = width * height;
  const acc = new Float32Array(n);
  for (const [sigma, weight] of [[1.5, 0.6], [4, 1], [12, 1.2]] as const) {
    const noise = new Float32Array(n);
    for (let i = 0; i < n; i++) noise[i] = normal();
    const b = gaussianBlur2d(noise, width, height, sigma, sigma, { truncate: 3 });
    let sd = 0;
    for (let i = 0; i < n; i++) sd += b[i] * b[i];
    sd = Math.sqrt(sd / n) || 1;
    for (let i = 0; i < n; i++) acc[i] += (weight * b[i]) / sd;
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, acc[i]);
    hi = Math.max(hi, acc[i]);
  }
  for (let i = 0; i < n; i++) acc[i] = (1000 * (acc[i] - lo)) / (hi - lo);
  return acc;
}

/**
 * A smooth displacement field: `bumps` Gaussian bumps (σ = `sigmaPx`) with random centres and
 * directions, scaled so that the largest displacement magnitude is `maxDisplacementPx`.
 */
export function smoothField(width: number, height: number, seed: number, options: { bumps?: number; sigmaPx?: number; maxDisplacementPx?: number } = {}): { ux: Float32Array; uy: Float32Array } {
  const rand = mulberry32(seed);
  const bumps = options.bumps ?? 5;
  const sigma = options.sigmaPx ?? Math.min(width, height) / 6;
  const maxD = options.maxDisplacementPx ?? 4;
  const n = width * height;
  const ux = new Float32Array(n), uy = new Float32Array(n);
  for (let b = 0; b < bumps; b++) {
    const cx = rand() * width, cy = rand() * height;
    const angle = rand() * 2 * Math.PI;
    const amp = 0.5 + rand();
    const ax = amp * Math.cos(angle), ay = amp * Math.sin(angle);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const g = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma));
        ux[y * width + x] += ax * g;
        uy[y * width + x] += ay * g;
      }
    }
  }
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.hypot(ux[i], uy[i]));
  const s = m > 0 ? maxD / m : 0;
  for (let i = 0; i < n; i++) {
    ux[i] *= s;
    uy[i] *= s;
  }
  return { ux, uy };
}

/**
 * A registration test pair: `moving` is a texture; `fixed(x) = moving(x + u(x))` for the
 * returned true field u (so a perfect registration recovers u), with Gaussian noise of
 * standard deviation `noiseSd` added to both images afterwards.
 */
export function syntheticPair(width: number, height: number, seed: number, options: { maxDisplacementPx?: number; noiseSd?: number; bumps?: number; sigmaPx?: number } = {}): {
  moving: Float32Array; fixed: Float32Array; ux: Float32Array; uy: Float32Array;
} {
  // texture on a larger canvas, so that fixed pixels whose source lies beyond the moving
  // image's border still see real texture (no fill values in the fixed image)
  const pad = Math.ceil(options.maxDisplacementPx ?? 4) + 4;
  const bw = width + 2 * pad, bh = height + 2 * pad;
  const big = texturedImage(bw, bh, seed);
  const moving = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) moving[y * width + x] = big[(y + pad) * bw + x + pad];
  const { ux, uy } = smoothField(width, height, seed + 1, options);
  const sx = new Float32Array(width * height), sy = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      sx[i] = ux[i] + pad;
      sy[i] = uy[i] + pad;
    }
  }
  const fixedBig = warpImage({ data: big, width: bw, height: bh }, sx, sy, width, height);
  const fixed = fixedBig;
  const noise = gaussianNoise(mulberry32(seed + 2));
  const sd = options.noiseSd ?? 10;
  for (let i = 0; i < moving.length; i++) {
    moving[i] += sd * noise();
    fixed[i] += sd * noise();
  }
  return { moving, fixed, ux, uy };
}

/** Mean and maximum endpoint error |u − u_true| (px) over pixels at least `marginPx` from the border. */
export function endpointError(ux: ArrayLike<number>, uy: ArrayLike<number>, tx: ArrayLike<number>, ty: ArrayLike<number>, width: number, height: number, marginPx: number): { mean: number; max: number } {
  let s = 0, mx = 0, count = 0;
  for (let y = marginPx; y < height - marginPx; y++) {
    for (let x = marginPx; x < width - marginPx; x++) {
      const i = y * width + x;
      const e = Math.hypot(ux[i] - tx[i], uy[i] - ty[i]);
      s += e;
      mx = Math.max(mx, e);
      count++;
    }
  }
  return { mean: count ? s / count : NaN, max: mx };
}
