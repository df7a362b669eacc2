/**
 * Drawing primitives of the specimen renderers: plain functions over Float32Array fields
 * (row-major, width × height), all lengths in pixels unless the name says µm.
 */
import { gaussianRandom } from '../numeric/random.js';

export type Rand = () => number;

/** A field being drawn: size and values. */
export interface Field {
  width: number;
  height: number;
  data: Float32Array;
}

export function newField(width: number, height: number): Field {
  return { width, height, data: new Float32Array(width * height) };
}

export function uniform(rand: Rand, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/** Log-uniform draw in [lo, hi] (lo > 0). */
export function logUniform(rand: Rand, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * rand());
}

/** Pareto (heavy-tailed) draw ≥ 1 with tail index `alpha`. */
export function pareto(rand: Rand, alpha: number): number {
  return Math.pow(1 - rand() * 0.999999, -1 / alpha);
}

/** Separable Gaussian blur, σ in px, mirrored boundary, in place. σ ≤ 0 leaves the field. */
export function blur(f: Field, sigmaPx: number): Field {
  if (!(sigmaPx > 0)) return f;
  const r = Math.max(1, Math.ceil(3.5 * sigmaPx));
  const k = new Float32Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp((-0.5 * i * i) / (sigmaPx * sigmaPx));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const { width: w, height: h, data } = f;
  const mirror = (i: number, n: number): number => {
    let j = i;
    for (let guard = 0; (j < 0 || j >= n) && guard < 8; guard++) j = j < 0 ? -j - 1 : 2 * n - j - 1;
    return Math.min(n - 1, Math.max(0, j));
  };
  const line = new Float32Array(Math.max(w, h));
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      let a = 0;
      for (let i = -r; i <= r; i++) a += k[i + r] * data[o + mirror(x + i, w)];
      line[x] = a;
    }
    data.set(line.subarray(0, w), o);
  }
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      let a = 0;
      for (let i = -r; i <= r; i++) a += k[i + r] * data[mirror(y + i, h) * w + x];
      line[y] = a;
    }
    for (let y = 0; y < h; y++) data[y * w + x] = line[y];
  }
  return f;
}

/** Zero-mean, unit-rms band-limited noise: white Gaussian noise blurred with σ = `sigmaPx`. */
export function noiseField(width: number, height: number, sigmaPx: number, rand: Rand): Field {
  const f = newField(width, height);
  for (let i = 0; i < f.data.length; i++) f.data[i] = gaussianRandom(rand);
  blur(f, sigmaPx);
  let m = 0;
  for (const v of f.data) m += v;
  m /= f.data.length;
  let s = 0;
  for (let i = 0; i < f.data.length; i++) s += (f.data[i] -= m) ** 2;
  const sd = Math.sqrt(s / f.data.length) || 1;
  for (let i = 0; i < f.data.length; i++) f.data[i] /= sd;
  return f;
}

/** Adds `value` at (x, y) split bilinearly over the four neighbouring pixels. */
export function deposit(f: Field, x: number, y: number, value: number): void {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const put = (xi: number, yi: number, w: number): void => {
    if (xi >= 0 && yi >= 0 && xi < f.width && yi < f.height) f.data[yi * f.width + xi] += value * w;
  };
  put(x0, y0, (1 - fx) * (1 - fy));
  put(x0 + 1, y0, fx * (1 - fy));
  put(x0, y0 + 1, (1 - fx) * fy);
  put(x0 + 1, y0 + 1, fx * fy);
}

/** An ellipse (centre, semi-axes in px, angle in rad) with a radial shape modulation. */
export interface Ellipse {
  cx: number;
  cy: number;
  a: number;
  b: number;
  angle: number;
  /** Boundary wobble: r(θ) scaled by 1 + Σ amp_k cos(kθ + phase_k), k = 2… */
  wobble?: { amp: number; phase: number }[];
}

/** Normalised radius of (x, y) in the ellipse: < 1 inside, 1 on the (wobbled) boundary. */
export function ellipseRadius(e: Ellipse, x: number, y: number): number {
  const dx = x - e.cx;
  const dy = y - e.cy;
  const c = Math.cos(e.angle);
  const s = Math.sin(e.angle);
  const u = (dx * c + dy * s) / e.a;
  const v = (-dx * s + dy * c) / e.b;
  let r = Math.hypot(u, v);
  if (e.wobble && e.wobble.length > 0) {
    const th = Math.atan2(v, u);
    let m = 1;
    e.wobble.forEach((w, k) => (m += w.amp * Math.cos((k + 2) * th + w.phase)));
    r /= Math.max(0.3, m);
  }
  return r;
}

/**
 * Paints `value · profile(r)` over the ellipse's bounding box, where r is the normalised
 * radius; `profile` returns 0 outside. Pixels are sampled on a 4 × 4 sub-grid when `antialias`.
 */
export function paintEllipse(f: Field, e: Ellipse, profile: (r: number, x: number, y: number) => number, mode: 'add' | 'max' | 'set' = 'add', antialias = false): void {
  const ext = Math.max(e.a, e.b) * (1 + (e.wobble ?? []).reduce((s, w) => s + Math.abs(w.amp), 0)) + 2;
  const x0 = Math.max(0, Math.floor(e.cx - ext));
  const x1 = Math.min(f.width - 1, Math.ceil(e.cx + ext));
  const y0 = Math.max(0, Math.floor(e.cy - ext));
  const y1 = Math.min(f.height - 1, Math.ceil(e.cy + ext));
  const n = antialias ? 4 : 1;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let v = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const px = x + (n === 1 ? 0 : (sx + 0.5) / n - 0.5);
          const py = y + (n === 1 ? 0 : (sy + 0.5) / n - 0.5);
          v += profile(ellipseRadius(e, px, py), px, py);
        }
      }
      v /= n * n;
      if (v === 0) continue;
      const i = y * f.width + x;
      if (mode === 'add') f.data[i] += v;
      else if (mode === 'max') f.data[i] = Math.max(f.data[i], v);
      else f.data[i] = v;
    }
  }
}

/** Smooth step from 1 (r ≤ 1 − edge) to 0 (r ≥ 1). */
export function softEdge(r: number, edge: number): number {
  if (r >= 1) return 0;
  if (r <= 1 - edge) return 1;
  const t = (1 - r) / edge;
  return t * t * (3 - 2 * t);
}

/**
 * A persistent random walk (worm-like chain): `steps` of `stepPx`, direction changing by
 * Gaussian angles of rms √(stepPx / persistencePx); calls `visit(x, y, i)` at every point.
 */
export function walk(x: number, y: number, angle: number, lengthPx: number, persistencePx: number, rand: Rand, visit: (x: number, y: number, i: number) => void, stepPx = 0.5): void {
  const steps = Math.max(1, Math.round(lengthPx / stepPx));
  const dTheta = Math.sqrt(stepPx / Math.max(persistencePx, 1e-3));
  let th = angle;
  let px = x;
  let py = y;
  for (let i = 0; i <= steps; i++) {
    visit(px, py, i);
    th += dTheta * gaussianRandom(rand);
    px += stepPx * Math.cos(th);
    py += stepPx * Math.sin(th);
  }
}

/** Largest value of an array (0 for an empty or all-negative one). */
export function maxOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

/** Scales `a` so its maximum is 1 (unchanged when all zero). */
export function normalise(a: Float32Array): Float32Array {
  const m = maxOf(a);
  if (m > 0) for (let i = 0; i < a.length; i++) a[i] /= m;
  return a;
}
