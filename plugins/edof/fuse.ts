/**
 * Extended depth of field (EDOF): fuse a z-stack into one all-in-focus image and a height map.
 *
 * Two methods, both streaming over the planes with a handful of width × height buffers:
 * - `sharpness`: energy of the Laplacian over a window as the local focus measure, argmax
 *   over z, three-point Gaussian (parabola on the log) sub-plane refinement, a
 *   confidence-weighted smoothing of the height map, and output interpolated between the two
 *   planes around the fractional height.
 * - `wavelet`: after Forster, Van De Ville, Berent, Sage & Unser (2004): per-subband
 *   maximum-absolute-coefficient selection, a majority filter of each selection map
 *   (consistency check), lowpass taken from the selected planes, reconstruction. We use a
 *   redundant (undecimated, "à trous") B3-spline wavelet instead of the paper's decimated
 *   complex Daubechies wavelets; see docs/edof.md.
 *
 * Colour / multichannel: the decision is taken on one guide channel (a given channel, or
 * the first principal component of the channels, as the paper does for colour) and applied
 * to every channel.
 */
import { FocalError } from '../../core/index.js';
import { majority3x3, weightedSmooth } from './filters.js';

export type EdofMethod = 'sharpness' | 'wavelet';
export const EDOF_METHODS: readonly EdofMethod[] = ['sharpness', 'wavelet'];

/** Options of {@link edofFuse}. */
export interface EdofOptions {
  /** `sharpness` (default) or `wavelet`. */
  method?: EdofMethod;
  /** Side of the square window of the focus measure (sharpness method), px, odd. Default 15. */
  windowPx?: number;
  /** σ of the confidence-weighted Gaussian smoothing of the height map, px; 0 = none. Default 4. */
  smoothingPx?: number;
  /** Sub-plane height (sharpness: three-point fit, output interpolated between planes). Default true. */
  subPlane?: boolean;
  /** Wavelet levels (wavelet method). Default: min(5, floor(log2(min(width, height))) − 2). */
  levels?: number;
  /** Channel (0-based) that takes the decision; default: first principal component of all channels. */
  decisionChannel?: number;
  /** Called after each plane of each pass (progress, cancellation: may throw). */
  onPlane?: (done: number, total: number) => void;
}

/** Result of {@link edofFuse}. */
export interface EdofResult {
  /** The fused image, one Float32Array per channel. */
  channels: Float32Array[];
  /** In-focus position of each pixel, in planes from the first plane (fractional with subPlane / wavelet). */
  heightPlanes: Float32Array;
}

function arg(field: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${field}: ${message}`, { field });
}

/** Default number of à trous levels for a plane size. */
export function defaultWaveletLevels(width: number, height: number): number {
  return Math.max(1, Math.min(5, Math.floor(Math.log2(Math.min(width, height))) - 2));
}

/**
 * Weights of the guide channel: the first principal component (unit vector, sign chosen so
 * that its components sum to ≥ 0) of the channel values over all planes (sampled every
 * 7th pixel), by power iteration on the C × C covariance.
 */
export function principalComponent(planes: readonly (readonly ArrayLike<number>[])[], sizeC: number): Float64Array {
  const v = new Float64Array(sizeC);
  if (sizeC === 1) {
    v[0] = 1;
    return v;
  }
  const mean = new Float64Array(sizeC);
  const cov = new Float64Array(sizeC * sizeC);
  let n = 0;
  const x = new Float64Array(sizeC);
  for (const zPlanes of planes) {
    const len = zPlanes[0].length;
    for (let i = 0; i < len; i += 7) {
      n++;
      for (let c = 0; c < sizeC; c++) {
        x[c] = zPlanes[c][i];
        mean[c] += x[c];
      }
      for (let a = 0; a < sizeC; a++) for (let b = 0; b <= a; b++) cov[a * sizeC + b] += x[a] * x[b];
    }
  }
  for (let c = 0; c < sizeC; c++) mean[c] /= n;
  for (let a = 0; a < sizeC; a++) {
    for (let b = 0; b <= a; b++) {
      const s = cov[a * sizeC + b] / n - mean[a] * mean[b];
      cov[a * sizeC + b] = s;
      cov[b * sizeC + a] = s;
    }
  }
  v.fill(1 / Math.sqrt(sizeC));
  const next = new Float64Array(sizeC);
  for (let it = 0; it < 200; it++) {
    let norm = 0;
    for (let a = 0; a < sizeC; a++) {
      let s = 0;
      for (let b = 0; b < sizeC; b++) s += cov[a * sizeC + b] * v[b];
      next[a] = s;
      norm += s * s;
    }
    norm = Math.sqrt(norm);
    if (!(norm > 0)) break; // constant channels: keep the equal weights
    let change = 0;
    for (let a = 0; a < sizeC; a++) {
      const nv = next[a] / norm;
      change += Math.abs(nv - v[a]);
      v[a] = nv;
    }
    if (change < 1e-12) break;
  }
  let sum = 0;
  for (let c = 0; c < sizeC; c++) sum += v[c];
  if (sum < 0) for (let c = 0; c < sizeC; c++) v[c] = -v[c];
  return v;
}

/** Returns guide(z): the decision plane of z (the raw plane when one channel decides, else a weighted sum in a scratch buffer). */
function guideSource(planes: readonly (readonly ArrayLike<number>[])[], sizeC: number, n: number, decisionChannel?: number): (z: number) => ArrayLike<number> {
  if (decisionChannel !== undefined) return (z) => planes[z][decisionChannel];
  if (sizeC === 1) return (z) => planes[z][0];
  const w = principalComponent(planes, sizeC);
  const buf = new Float32Array(n);
  return (z) => {
    const p = planes[z];
    buf.fill(0);
    for (let c = 0; c < sizeC; c++) {
      const wc = w[c];
      const src = p[c];
      for (let i = 0; i < n; i++) buf[i] += wc * src[i];
    }
    return buf;
  };
}

function checkInput(planes: readonly (readonly ArrayLike<number>[])[], width: number, height: number, options: EdofOptions): number {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw arg('image', `width and height must be positive integers, got ${width}×${height}`);
  if (planes.length < 1) throw arg('planes', 'give at least one z plane');
  const sizeC = planes[0].length;
  if (sizeC < 1) throw arg('planes', 'each z plane needs at least one channel');
  const n = width * height;
  planes.forEach((zp, z) => {
    if (zp.length !== sizeC) throw arg('planes', `plane z=${z} has ${zp.length} channels, plane 0 has ${sizeC}`);
    zp.forEach((p, c) => {
      if (p.length !== n) throw arg('planes', `plane z=${z} c=${c} has ${p.length} pixels, expected ${width}×${height} = ${n}`);
    });
  });
  if (options.method !== undefined && !EDOF_METHODS.includes(options.method)) throw arg('method', `must be one of ${EDOF_METHODS.join(', ')}, got ${String(options.method)}`);
  const win = options.windowPx ?? 15;
  if (!Number.isInteger(win) || win < 1 || win % 2 === 0) throw arg('windowPx', `must be an odd positive integer, got ${win}`);
  const s = options.smoothingPx ?? 4;
  if (!Number.isFinite(s) || s < 0) throw arg('smoothingPx', `must be a finite number ≥ 0 (px), got ${s}`);
  if (options.levels !== undefined && (!Number.isInteger(options.levels) || options.levels < 1 || options.levels > 10)) throw arg('levels', `must be an integer in 1…10, got ${options.levels}`);
  const dc = options.decisionChannel;
  if (dc !== undefined && (!Number.isInteger(dc) || dc < 0 || dc >= sizeC)) throw arg('decisionChannel', `${dc} is not a channel of the stack (0…${sizeC - 1})`);
  if (planes.length > 65535) throw arg('planes', `at most 65535 z planes, got ${planes.length}`);
  return sizeC;
}

/**
 * Fuses a z-stack into an all-in-focus image and a height map.
 *
 * @param planes `planes[z][c]`: row-major width × height planes (any numeric type), not modified.
 * @returns Float32 fused channels and the height in planes (0 = first plane).
 * @throws FocalError `E_ARGUMENT` naming the field (planes, method, windowPx, smoothingPx, levels, decisionChannel).
 * @example
 * const { channels, heightPlanes } = edofFuse(zPlanes.map((p) => [p]), 512, 512, { method: 'sharpness' });
 */
export function edofFuse(planes: readonly (readonly ArrayLike<number>[])[], width: number, height: number, options: EdofOptions = {}): EdofResult {
  const sizeC = checkInput(planes, width, height, options);
  return (options.method ?? 'sharpness') === 'wavelet' ? fuseWavelet(planes, sizeC, width, height, options) : fuseSharpness(planes, sizeC, width, height, options);
}

function fuseSharpness(planes: readonly (readonly ArrayLike<number>[])[], sizeC: number, width: number, height: number, options: EdofOptions): EdofResult {
  const n = width * height;
  const sizeZ = planes.length;
  const radius = ((options.windowPx ?? 15) - 1) / 2;
  const subPlane = options.subPlane ?? true;
  const guide = guideSource(planes, sizeC, n, options.decisionChannel);

  let cur = new Float32Array(n);
  let prev = new Float32Array(n);
  const best = new Float32Array(n).fill(-1);
  const left = new Float32Array(n);
  const right = new Float32Array(n).fill(-1);
  const sum = new Float32Array(n);
  const idx = new Uint16Array(n);
  const tmp = new Float32Array(n);
  const lap = new Float32Array(width);
  const colAcc = new Float64Array(width);
  const r = radius;
  for (let z = 0; z < sizeZ; z++) {
    // focus measure F = window sum of the squared Laplacian, in two sweeps (same result as
    // squaredLaplacian + boxSum, fused so that each plane is read and written once per sweep)
    const g = guide(z);
    for (let y = 0; y < height; y++) {
      const row = y * width;
      const up = (y > 0 ? y - 1 : 0) * width;
      const down = (y < height - 1 ? y + 1 : y) * width;
      for (let x = 0; x < width; x++) {
        const i = row + x;
        const v = g[x > 0 ? i - 1 : i] + g[x < width - 1 ? i + 1 : i] + g[up + x] + g[down + x] - 4 * g[i];
        lap[x] = v * v;
      }
      let acc = 0;
      for (let x = 0; x <= Math.min(r, width - 1); x++) acc += lap[x];
      for (let x = 0; x < width; x++) {
        tmp[row + x] = acc;
        if (x + r + 1 < width) acc += lap[x + r + 1];
        if (x - r >= 0) acc -= lap[x - r];
      }
    }
    colAcc.fill(0);
    for (let y = 0; y <= Math.min(r, height - 1); y++) for (let x = 0; x < width; x++) colAcc[x] += tmp[y * width + x];
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let x = 0; x < width; x++) {
        const i = row + x;
        const f = colAcc[x];
        cur[i] = f;
        sum[i] += f;
        if (f > best[i]) {
          best[i] = f;
          idx[i] = z;
          left[i] = z > 0 ? prev[i] : -1;
          right[i] = -1;
        } else if (idx[i] === z - 1) {
          right[i] = f;
        }
      }
      const hi = y + r + 1;
      const lo = y - r;
      if (hi < height) {
        const add = hi * width;
        for (let x = 0; x < width; x++) colAcc[x] += tmp[add + x];
      }
      if (lo >= 0) {
        const sub = lo * width;
        for (let x = 0; x < width; x++) colAcc[x] -= tmp[sub + x];
      }
    }
    const t = prev;
    prev = cur;
    cur = t;
    options.onPlane?.(z + 1, sizeZ);
  }

  // height (planes) and confidence (peak above the mean focus measure)
  const h = new Float32Array(n);
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = idx[i];
    if (subPlane && left[i] >= 0 && right[i] >= 0) {
      const eps = best[i] * 1e-6 + 1e-30;
      const a = Math.log(left[i] + eps);
      const b = Math.log(best[i] + eps);
      const c = Math.log(right[i] + eps);
      const den = a - 2 * b + c;
      if (den < 0) v += Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / den));
    }
    h[i] = v;
    weight[i] = Math.max(0, best[i] - sum[i] / sizeZ);
  }
  const s = options.smoothingPx ?? 4;
  const heightPlanes = s > 0 ? weightedSmooth(h, weight, width, height, s) : h;

  const channels = Array.from({ length: sizeC }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    let hv = heightPlanes[i];
    if (hv < 0) hv = 0;
    if (hv > sizeZ - 1) hv = sizeZ - 1;
    if (!subPlane) {
      const k = Math.round(hv);
      for (let c = 0; c < sizeC; c++) channels[c][i] = planes[k][c][i];
      continue;
    }
    let k = Math.floor(hv);
    if (k >= sizeZ - 1) k = Math.max(0, sizeZ - 2);
    const f = sizeZ > 1 ? hv - k : 0;
    const p0 = planes[k];
    const p1 = planes[Math.min(k + 1, sizeZ - 1)];
    for (let c = 0; c < sizeC; c++) channels[c][i] = (1 - f) * p0[c][i] + f * p1[c][i];
  }
  return { channels, heightPlanes };
}

/**
 * One level of the à trous B3-spline smoothing: dst = (h ⊗ h) ∗ src with
 * h = [1, 4, 6, 4, 1]/16 dilated by `step` (holes), edges replicated. `tmp` is scratch.
 */
export function atrousSmooth(src: Float32Array, dst: Float32Array, tmp: Float32Array, width: number, height: number, step: number): void {
  const c0 = 6 / 16;
  const c1 = 4 / 16;
  const c2 = 1 / 16;
  const s2 = 2 * step;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const lo = Math.min(s2, width);
    const hi = Math.max(lo, width - s2);
    for (let x = 0; x < width; x++) {
      if (x === lo && hi > lo) {
        // interior: no clamping
        for (let i = row + lo, end = row + hi; i < end; i++) tmp[i] = c0 * src[i] + c1 * (src[i - step] + src[i + step]) + c2 * (src[i - s2] + src[i + s2]);
        x = hi - 1;
        continue;
      }
      const xm1 = x - step < 0 ? 0 : x - step;
      const xm2 = x - s2 < 0 ? 0 : x - s2;
      const xp1 = x + step >= width ? width - 1 : x + step;
      const xp2 = x + s2 >= width ? width - 1 : x + s2;
      tmp[row + x] = c0 * src[row + x] + c1 * (src[row + xm1] + src[row + xp1]) + c2 * (src[row + xm2] + src[row + xp2]);
    }
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const rm1 = (y - step < 0 ? 0 : y - step) * width;
    const rm2 = (y - s2 < 0 ? 0 : y - s2) * width;
    const rp1 = (y + step >= height ? height - 1 : y + step) * width;
    const rp2 = (y + s2 >= height ? height - 1 : y + s2) * width;
    for (let x = 0; x < width; x++) {
      dst[row + x] = c0 * tmp[row + x] + c1 * (tmp[rm1 + x] + tmp[rp1 + x]) + c2 * (tmp[rm2 + x] + tmp[rp2 + x]);
    }
  }
}

function fuseWavelet(planes: readonly (readonly ArrayLike<number>[])[], sizeC: number, width: number, height: number, options: EdofOptions): EdofResult {
  const n = width * height;
  const sizeZ = planes.length;
  const levels = options.levels ?? defaultWaveletLevels(width, height);
  const guide = guideSource(planes, sizeC, n, options.decisionChannel);
  const total = 2 * sizeZ;

  let a = new Float32Array(n);
  let b = new Float32Array(n);
  const tmp = new Float32Array(n);
  // pass 1: maximum |detail| per level on the guide
  const bestAbs = Array.from({ length: levels }, () => new Float32Array(n).fill(-1));
  const sel = Array.from({ length: levels }, () => new Uint16Array(n));
  for (let z = 0; z < sizeZ; z++) {
    const g = guide(z);
    for (let i = 0; i < n; i++) a[i] = g[i];
    for (let j = 0; j < levels; j++) {
      atrousSmooth(a, b, tmp, width, height, 1 << j);
      const ba = bestAbs[j];
      const sj = sel[j];
      for (let i = 0; i < n; i++) {
        const d = a[i] - b[i];
        const m = d < 0 ? -d : d;
        if (m > ba[i]) {
          ba[i] = m;
          sj[i] = z;
        }
      }
      const t = a;
      a = b;
      b = t;
    }
    options.onPlane?.(z + 1, total);
  }

  // height: selections of all levels weighted by their squared coefficients (before the majority filter)
  const h = new Float32Array(n);
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let num = 0;
    let den = 0;
    for (let j = 0; j < levels; j++) {
      const e = bestAbs[j][i] * bestAbs[j][i];
      num += e * sel[j][i];
      den += e;
    }
    h[i] = den > 0 ? num / den : 0;
    weight[i] = den;
  }
  const s = options.smoothingPx ?? 4;
  const heightPlanes = s > 0 ? weightedSmooth(h, weight, width, height, s) : h;

  // consistency check: majority filter of each level's selection map; the lowpass follows the coarsest level
  const chosen = sel.map((m) => majority3x3(m, width, height));
  const low = chosen[levels - 1];

  // pass 2: reconstruct each channel from the selected coefficients
  const channels = Array.from({ length: sizeC }, () => new Float32Array(n));
  for (let z = 0; z < sizeZ; z++) {
    for (let c = 0; c < sizeC; c++) {
      const src = planes[z][c];
      const out = channels[c];
      for (let i = 0; i < n; i++) a[i] = src[i];
      for (let j = 0; j < levels; j++) {
        atrousSmooth(a, b, tmp, width, height, 1 << j);
        const cj = chosen[j];
        for (let i = 0; i < n; i++) if (cj[i] === z) out[i] += a[i] - b[i];
        const t = a;
        a = b;
        b = t;
      }
      for (let i = 0; i < n; i++) if (low[i] === z) out[i] += a[i];
    }
    options.onPlane?.(sizeZ + z + 1, total);
  }
  return { channels, heightPlanes };
}
