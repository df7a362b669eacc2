/**
 * Fast Fourier transforms for any length (mixed radix 4, 2, 3, 5 with a generic
 * odd-radix butterfly for other primes), batched along an outer axis, plus real-input
 * 2D/3D transforms built on them. Split real/imaginary Float64Arrays throughout.
 *
 * Algorithm: self-sorting Stockham decimation in frequency (no bit reversal), one
 * out-of-place pass per radix, twiddles precomputed per plan. "Batched" means the
 * array holds `batch` independent sequences interleaved: element j of sequence b lives
 * at index j·batch + b, so a pass streams over contiguous memory whatever the axis;
 * that is how columns (and z) of an image are transformed without transposes.
 * Real input is packed two samples per complex value (even → re, odd → im) and split
 * afterwards, so a real transform of even length N costs a complex transform of N/2.
 *
 * Conventions: forward X[k] = Σ x[j]·e^{−2πi jk/N}; the inverse functions here are
 * unnormalised (they return N × the inverse DFT) unless they say otherwise.
 */
import { FocalError } from '../../errors.js';

/** Whether n factors into 2, 3 and 5 only (n ≥ 1). */
export function isFastSize(n: number): boolean {
  if (!Number.isInteger(n) || n < 1) return false;
  for (const p of [2, 3, 5]) while (n % p === 0) n /= p;
  return n === 1;
}

/**
 * Smallest 2^a·3^b·5^c ≥ n that is a multiple of q (q itself 5-smooth).
 * @throws FocalError `E_ARGUMENT` for n < 1 or a bad q.
 */
export function nextFastMultiple(n: number, q: number): number {
  if (!Number.isInteger(n) || n < 1) throw new FocalError('E_ARGUMENT', `size must be a positive integer, got ${n}`);
  if (!isFastSize(q)) throw new FocalError('E_ARGUMENT', `multiple must be 2^a·3^b·5^c, got ${q}`);
  for (let m = Math.ceil(n / q) * q; ; m += q) if (isFastSize(m)) return m;
}

/**
 * Smallest 2^a·3^b·5^c ≥ n (and even when `even` is set, as the real transform along x needs).
 * @throws FocalError `E_ARGUMENT` for n < 1 or non-integer n.
 */
export function nextFastSize(n: number, even = false): number {
  if (!Number.isInteger(n) || n < 1) throw new FocalError('E_ARGUMENT', `size must be a positive integer, got ${n}`);
  let m = even && n % 2 === 1 ? n + 1 : n;
  for (;; m += even ? 2 : 1) if (isFastSize(m)) return m;
}

function factorise(n: number): number[] {
  const f: number[] = [];
  while (n % 4 === 0) {
    f.push(4);
    n /= 4;
  }
  for (const p of [2, 3, 5]) {
    while (n % p === 0) {
      f.push(p);
      n /= p;
    }
  }
  for (let p = 7; p * p <= n; p += 2) {
    while (n % p === 0) {
      f.push(p);
      n /= p;
    }
  }
  if (n > 1) f.push(n);
  return f;
}

interface Stage {
  /** radix */
  p: number;
  /** current sub-transform length / p */
  m: number;
  /** stride (product of radices already done) */
  s: number;
  /** twiddles w^(j·t), j < m, t = 1…p−1, at [j·(p−1) + t − 1] */
  twRe: Float64Array;
  twIm: Float64Array;
}

/** A precomputed complex FFT of one length (twiddles for every radix pass). */
export class FftPlan {
  readonly n: number;
  readonly stages: readonly Stage[];
  /** cos/sin of 2πt/p for the generic odd-radix butterfly, per radix */
  private readonly rootCache = new Map<number, { c: Float64Array; s: Float64Array }>();

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new FocalError('E_ARGUMENT', `FFT length must be a positive integer, got ${n}`);
    this.n = n;
    const stages: Stage[] = [];
    let len = n;
    let s = 1;
    for (const p of factorise(n)) {
      const m = len / p;
      const twRe = new Float64Array(m * (p - 1));
      const twIm = new Float64Array(m * (p - 1));
      for (let j = 0; j < m; j++) {
        for (let t = 1; t < p; t++) {
          const a = (-2 * Math.PI * j * t) / len;
          twRe[j * (p - 1) + t - 1] = Math.cos(a);
          twIm[j * (p - 1) + t - 1] = Math.sin(a);
        }
      }
      stages.push({ p, m, s, twRe, twIm });
      if (p > 5 && !this.rootCache.has(p)) {
        const c = new Float64Array(p);
        const sn = new Float64Array(p);
        for (let t = 0; t < p; t++) {
          c[t] = Math.cos((2 * Math.PI * t) / p);
          sn[t] = -Math.sin((2 * Math.PI * t) / p);
        }
        this.rootCache.set(p, { c, s: sn });
      }
      len = m;
      s *= p;
    }
    this.stages = stages;
  }

  /**
   * Forward complex FFT of `batch` interleaved sequences (element j of sequence b at
   * j·batch + b, starting at `offset`), in place. `workRe`/`workIm` must hold
   * n·batch values. For the inverse, pass (im, re) and (workIm, workRe): swapping the
   * real and imaginary parts conjugates, so this computes the unnormalised inverse.
   */
  transform(re: Float64Array, im: Float64Array, batch: number, workRe: Float64Array, workIm: Float64Array, offset = 0): void {
    let xr = re;
    let xi = im;
    let yr = workRe;
    let yi = workIm;
    let xo = offset;
    let yo = 0;
    for (const st of this.stages) {
      const run = st.s * batch;
      switch (st.p) {
        case 4:
          pass4(xr, xi, xo, yr, yi, yo, st.m, run, st.twRe, st.twIm);
          break;
        case 2:
          pass2(xr, xi, xo, yr, yi, yo, st.m, run, st.twRe, st.twIm);
          break;
        case 3:
          pass3(xr, xi, xo, yr, yi, yo, st.m, run, st.twRe, st.twIm);
          break;
        case 5:
          pass5(xr, xi, xo, yr, yi, yo, st.m, run, st.twRe, st.twIm);
          break;
        default: {
          const r = this.rootCache.get(st.p)!;
          passGeneric(xr, xi, xo, yr, yi, yo, st.p, st.m, run, st.twRe, st.twIm, r.c, r.s);
        }
      }
      const tr = xr;
      const ti = xi;
      const to = xo;
      xr = yr;
      xi = yi;
      xo = yo;
      yr = tr;
      yi = ti;
      yo = to;
    }
    if (xr !== re) {
      const total = this.n * batch;
      re.set(xr.subarray(0, total), offset);
      im.set(xi.subarray(0, total), offset);
    }
  }
}

// One Stockham DIF pass of radix p: for j < m and each of the `run` = s·batch contiguous
// lanes, a_r = x[(j + r·m)·run + lane], y[(p·j + t)·run + lane] = w^(j·t) · Σ_r a_r ω_p^(r·t).

function pass2(xr: Float64Array, xi: Float64Array, xo: number, yr: Float64Array, yi: Float64Array, yo: number, m: number, run: number, twr: Float64Array, twi: Float64Array): void {
  const half = m * run;
  for (let j = 0; j < m; j++) {
    const wr = twr[j];
    const wi = twi[j];
    const a0 = xo + j * run;
    const b0 = yo + 2 * j * run;
    if (j === 0) {
      for (let q = 0; q < run; q++) {
        const ar = xr[a0 + q], ai = xi[a0 + q];
        const br = xr[a0 + half + q], bi = xi[a0 + half + q];
        yr[b0 + q] = ar + br;
        yi[b0 + q] = ai + bi;
        yr[b0 + run + q] = ar - br;
        yi[b0 + run + q] = ai - bi;
      }
    } else {
      for (let q = 0; q < run; q++) {
        const ar = xr[a0 + q], ai = xi[a0 + q];
        const br = xr[a0 + half + q], bi = xi[a0 + half + q];
        yr[b0 + q] = ar + br;
        yi[b0 + q] = ai + bi;
        const dr = ar - br, di = ai - bi;
        yr[b0 + run + q] = dr * wr - di * wi;
        yi[b0 + run + q] = dr * wi + di * wr;
      }
    }
  }
}

function pass4(xr: Float64Array, xi: Float64Array, xo: number, yr: Float64Array, yi: Float64Array, yo: number, m: number, run: number, twr: Float64Array, twi: Float64Array): void {
  const q1 = m * run;
  for (let j = 0; j < m; j++) {
    const w1r = twr[3 * j], w1i = twi[3 * j];
    const w2r = twr[3 * j + 1], w2i = twi[3 * j + 1];
    const w3r = twr[3 * j + 2], w3i = twi[3 * j + 2];
    const a0 = xo + j * run;
    const b0 = yo + 4 * j * run;
    for (let q = 0; q < run; q++) {
      const i0 = a0 + q;
      const x0r = xr[i0], x0i = xi[i0];
      const x1r = xr[i0 + q1], x1i = xi[i0 + q1];
      const x2r = xr[i0 + 2 * q1], x2i = xi[i0 + 2 * q1];
      const x3r = xr[i0 + 3 * q1], x3i = xi[i0 + 3 * q1];
      const s02r = x0r + x2r, s02i = x0i + x2i;
      const d02r = x0r - x2r, d02i = x0i - x2i;
      const s13r = x1r + x3r, s13i = x1i + x3i;
      // −i·(x1 − x3)
      const d13r = x1i - x3i, d13i = x3r - x1r;
      const o = b0 + q;
      yr[o] = s02r + s13r;
      yi[o] = s02i + s13i;
      const c1r = d02r + d13r, c1i = d02i + d13i;
      const c2r = s02r - s13r, c2i = s02i - s13i;
      const c3r = d02r - d13r, c3i = d02i - d13i;
      yr[o + run] = c1r * w1r - c1i * w1i;
      yi[o + run] = c1r * w1i + c1i * w1r;
      yr[o + 2 * run] = c2r * w2r - c2i * w2i;
      yi[o + 2 * run] = c2r * w2i + c2i * w2r;
      yr[o + 3 * run] = c3r * w3r - c3i * w3i;
      yi[o + 3 * run] = c3r * w3i + c3i * w3r;
    }
  }
}

const S3 = Math.sqrt(3) / 2;

function pass3(xr: Float64Array, xi: Float64Array, xo: number, yr: Float64Array, yi: Float64Array, yo: number, m: number, run: number, twr: Float64Array, twi: Float64Array): void {
  const q1 = m * run;
  for (let j = 0; j < m; j++) {
    const w1r = twr[2 * j], w1i = twi[2 * j];
    const w2r = twr[2 * j + 1], w2i = twi[2 * j + 1];
    const a0 = xo + j * run;
    const b0 = yo + 3 * j * run;
    for (let q = 0; q < run; q++) {
      const i0 = a0 + q;
      const x0r = xr[i0], x0i = xi[i0];
      const x1r = xr[i0 + q1], x1i = xi[i0 + q1];
      const x2r = xr[i0 + 2 * q1], x2i = xi[i0 + 2 * q1];
      const sr = x1r + x2r, si = x1i + x2i;
      const mr = x0r - 0.5 * sr, mi = x0i - 0.5 * si;
      // −i·sin(2π/3)·(x1 − x2)
      const tr = S3 * (x1i - x2i), ti = -S3 * (x1r - x2r);
      const o = b0 + q;
      yr[o] = x0r + sr;
      yi[o] = x0i + si;
      const c1r = mr + tr, c1i = mi + ti;
      const c2r = mr - tr, c2i = mi - ti;
      yr[o + run] = c1r * w1r - c1i * w1i;
      yi[o + run] = c1r * w1i + c1i * w1r;
      yr[o + 2 * run] = c2r * w2r - c2i * w2i;
      yi[o + 2 * run] = c2r * w2i + c2i * w2r;
    }
  }
}

const C51 = Math.cos((2 * Math.PI) / 5);
const C52 = Math.cos((4 * Math.PI) / 5);
const S51 = Math.sin((2 * Math.PI) / 5);
const S52 = Math.sin((4 * Math.PI) / 5);

function pass5(xr: Float64Array, xi: Float64Array, xo: number, yr: Float64Array, yi: Float64Array, yo: number, m: number, run: number, twr: Float64Array, twi: Float64Array): void {
  const q1 = m * run;
  for (let j = 0; j < m; j++) {
    const w1r = twr[4 * j], w1i = twi[4 * j];
    const w2r = twr[4 * j + 1], w2i = twi[4 * j + 1];
    const w3r = twr[4 * j + 2], w3i = twi[4 * j + 2];
    const w4r = twr[4 * j + 3], w4i = twi[4 * j + 3];
    const a0 = xo + j * run;
    const b0 = yo + 5 * j * run;
    for (let q = 0; q < run; q++) {
      const i0 = a0 + q;
      const x0r = xr[i0], x0i = xi[i0];
      const x1r = xr[i0 + q1], x1i = xi[i0 + q1];
      const x2r = xr[i0 + 2 * q1], x2i = xi[i0 + 2 * q1];
      const x3r = xr[i0 + 3 * q1], x3i = xi[i0 + 3 * q1];
      const x4r = xr[i0 + 4 * q1], x4i = xi[i0 + 4 * q1];
      const s14r = x1r + x4r, s14i = x1i + x4i;
      const d14r = x1r - x4r, d14i = x1i - x4i;
      const s23r = x2r + x3r, s23i = x2i + x3i;
      const d23r = x2r - x3r, d23i = x2i - x3i;
      const a1r = x0r + C51 * s14r + C52 * s23r, a1i = x0i + C51 * s14i + C52 * s23i;
      const a2r = x0r + C52 * s14r + C51 * s23r, a2i = x0i + C52 * s14i + C51 * s23i;
      // b = −i·(…)
      const b1r = S51 * d14i + S52 * d23i, b1i = -(S51 * d14r + S52 * d23r);
      const b2r = S52 * d14i - S51 * d23i, b2i = -(S52 * d14r - S51 * d23r);
      const o = b0 + q;
      yr[o] = x0r + s14r + s23r;
      yi[o] = x0i + s14i + s23i;
      let cr = a1r + b1r, ci = a1i + b1i;
      yr[o + run] = cr * w1r - ci * w1i;
      yi[o + run] = cr * w1i + ci * w1r;
      cr = a2r + b2r;
      ci = a2i + b2i;
      yr[o + 2 * run] = cr * w2r - ci * w2i;
      yi[o + 2 * run] = cr * w2i + ci * w2r;
      cr = a2r - b2r;
      ci = a2i - b2i;
      yr[o + 3 * run] = cr * w3r - ci * w3i;
      yi[o + 3 * run] = cr * w3i + ci * w3r;
      cr = a1r - b1r;
      ci = a1i - b1i;
      yr[o + 4 * run] = cr * w4r - ci * w4i;
      yi[o + 4 * run] = cr * w4i + ci * w4r;
    }
  }
}

function passGeneric(
  xr: Float64Array, xi: Float64Array, xo: number, yr: Float64Array, yi: Float64Array, yo: number,
  p: number, m: number, run: number, twr: Float64Array, twi: Float64Array, rc: Float64Array, rs: Float64Array,
): void {
  const q1 = m * run;
  for (let j = 0; j < m; j++) {
    const a0 = xo + j * run;
    const b0 = yo + p * j * run;
    for (let q = 0; q < run; q++) {
      const i0 = a0 + q;
      for (let t = 0; t < p; t++) {
        let accR = 0;
        let accI = 0;
        for (let r = 0; r < p; r++) {
          const k = (r * t) % p;
          const vr = xr[i0 + r * q1], vi = xi[i0 + r * q1];
          accR += vr * rc[k] - vi * rs[k];
          accI += vr * rs[k] + vi * rc[k];
        }
        const o = b0 + t * run + q;
        if (t === 0) {
          yr[o] = accR;
          yi[o] = accI;
        } else {
          const wr = twr[j * (p - 1) + t - 1], wi = twi[j * (p - 1) + t - 1];
          yr[o] = accR * wr - accI * wi;
          yi[o] = accR * wi + accI * wr;
        }
      }
    }
  }
}

/** Complex FFT of one sequence (convenience; allocates). Inverse is normalised by 1/n. */
export function fftComplex(re: ArrayLike<number>, im: ArrayLike<number>, inverse = false): { re: Float64Array; im: Float64Array } {
  const n = re.length;
  if (im.length !== n) throw new FocalError('E_ARGUMENT', `re and im lengths differ (${n} vs ${im.length})`);
  const plan = new FftPlan(n);
  const r = Float64Array.from(re);
  const i = Float64Array.from(im);
  const wr = new Float64Array(n);
  const wi = new Float64Array(n);
  if (inverse) {
    plan.transform(i, r, 1, wi, wr);
    for (let k = 0; k < n; k++) {
      r[k] /= n;
      i[k] /= n;
    }
  } else plan.transform(r, i, 1, wr, wi);
  return { re: r, im: i };
}

/** Lanes (rows or columns) transformed together in one cache-resident block. */
const BLOCK = 8;

/**
 * Real-input FFT of dimensions nx × ny × nz (x fastest; nx even, any ny, nz), with
 * preallocated buffers. The half spectrum has (nx/2 + 1) × ny × nz complex values,
 * kx fastest, in `specRe`/`specIm`. `inverse` is unnormalised: it returns
 * nx·ny·nz × the inverse DFT (fold the 1/N into a filter to save a pass).
 *
 * Cache blocking: every axis is transformed BLOCK lanes at a time: the lanes are gathered
 * into a small buffer in batched layout (element j of lane b at j·BLOCK + b), all radix
 * passes run there (in L1/L2), and the result is scattered back. So the large arrays are
 * read and written once per axis instead of once per radix pass, and the innermost loops
 * run over BLOCK contiguous lanes even along x.
 */
export class RealFft3d {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** nx/2 + 1 */
  readonly hx: number;
  /** hx·ny·nz complex values */
  readonly spectrumLength: number;
  readonly specRe: Float64Array;
  readonly specIm: Float64Array;
  private readonly planX: FftPlan;
  private readonly planY: FftPlan;
  private readonly planZ: FftPlan;
  private readonly bRe: Float64Array;
  private readonly bIm: Float64Array;
  private readonly wRe: Float64Array;
  private readonly wIm: Float64Array;
  /** e^{−2πik/nx}, k ≤ nx/2 */
  private readonly splitRe: Float64Array;
  private readonly splitIm: Float64Array;

  constructor(nx: number, ny: number, nz = 1) {
    if (!Number.isInteger(nx) || nx < 2 || nx % 2 !== 0) throw new FocalError('E_ARGUMENT', `nx must be an even integer ≥ 2, got ${nx}`);
    if (!Number.isInteger(ny) || ny < 1 || !Number.isInteger(nz) || nz < 1) throw new FocalError('E_ARGUMENT', `ny and nz must be positive integers, got ${ny}, ${nz}`);
    this.nx = nx;
    this.ny = ny;
    this.nz = nz;
    this.hx = nx / 2 + 1;
    this.spectrumLength = this.hx * ny * nz;
    this.specRe = new Float64Array(this.spectrumLength);
    this.specIm = new Float64Array(this.spectrumLength);
    const m = nx / 2;
    this.planX = new FftPlan(m);
    this.planY = new FftPlan(ny);
    this.planZ = new FftPlan(nz);
    const len = Math.max(m + 1, ny, nz) * BLOCK;
    this.bRe = new Float64Array(len);
    this.bIm = new Float64Array(len);
    this.wRe = new Float64Array(len);
    this.wIm = new Float64Array(len);
    this.splitRe = new Float64Array(m + 1);
    this.splitIm = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.splitRe[k] = Math.cos((-2 * Math.PI * k) / nx);
      this.splitIm[k] = Math.sin((-2 * Math.PI * k) / nx);
    }
  }

  /** Bytes held by one instance (for memory budgets). */
  static bytes(nx: number, ny: number, nz = 1): number {
    return 2 * 8 * (nx / 2 + 1) * ny * nz + 4 * 8 * BLOCK * Math.max(nx / 2 + 1, ny, nz);
  }

  /**
   * Transforms, in place, `lanes` sequences of length plan.n whose element j of lane l is at
   * base + j·stride + l (lanes contiguous), BLOCK lanes at a time. `inverse` conjugates
   * by swapping re and im (unnormalised inverse).
   */
  private axis(plan: FftPlan, re: Float64Array, im: Float64Array, base: number, stride: number, lanes: number, inverse: boolean): void {
    const n = plan.n;
    if (n === 1) return;
    const bRe = this.bRe, bIm = this.bIm;
    for (let l0 = 0; l0 < lanes; l0 += BLOCK) {
      const bw = Math.min(BLOCK, lanes - l0);
      for (let j = 0; j < n; j++) {
        const src = base + j * stride + l0;
        const dst = j * bw;
        for (let b = 0; b < bw; b++) {
          bRe[dst + b] = re[src + b];
          bIm[dst + b] = im[src + b];
        }
      }
      if (inverse) plan.transform(bIm, bRe, bw, this.wIm, this.wRe);
      else plan.transform(bRe, bIm, bw, this.wRe, this.wIm);
      for (let j = 0; j < n; j++) {
        const dst = base + j * stride + l0;
        const src = j * bw;
        for (let b = 0; b < bw; b++) {
          re[dst + b] = bRe[src + b];
          im[dst + b] = bIm[src + b];
        }
      }
    }
  }

  /** Forward transform of a real nx·ny·nz array into specRe/specIm. */
  forward(input: Float64Array | Float32Array): void {
    const { nx, ny, nz, hx } = this;
    const m = nx / 2;
    const bRe = this.bRe, bIm = this.bIm, sr = this.splitRe, si = this.splitIm;
    const outR = this.specRe, outI = this.specIm;
    const rows = ny * nz;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const bw = Math.min(BLOCK, rows - r0);
      // pack x[2j] + i·x[2j+1], transposed into the block (element j of row b at j·bw + b)
      for (let b = 0; b < bw; b++) {
        const src = (r0 + b) * nx;
        for (let j = 0, d = b; j < m; j++, d += bw) {
          bRe[d] = input[src + 2 * j];
          bIm[d] = input[src + 2 * j + 1];
        }
      }
      this.planX.transform(bRe, bIm, bw, this.wRe, this.wIm);
      // X[k] = Fe[k] + W^k Fo[k]; Fe = (Z[k] + conj Z[m−k]) / 2, Fo = (Z[k] − conj Z[m−k]) / (2i)
      for (let k = 0; k <= m; k++) {
        const a = (k === m ? 0 : k) * bw;
        const c = (k === 0 ? 0 : m - k) * bw;
        const wr = sr[k], wi = si[k];
        for (let b = 0; b < bw; b++) {
          const zr = bRe[a + b], zi = bIm[a + b], cr = bRe[c + b], ci = -bIm[c + b];
          const er = 0.5 * (zr + cr), ei = 0.5 * (zi + ci);
          // Fo = (d_i, −d_r) with d = (Z − conj Z[m−k]) / 2
          const or = 0.5 * (zi - ci), oi = -0.5 * (zr - cr);
          const o = (r0 + b) * hx + k;
          outR[o] = er + or * wr - oi * wi;
          outI[o] = ei + or * wi + oi * wr;
        }
      }
    }
    if (ny > 1) for (let z = 0; z < nz; z++) this.axis(this.planY, outR, outI, z * hx * ny, hx, hx, false);
    if (nz > 1) this.axis(this.planZ, outR, outI, 0, hx * ny, hx * ny, false);
  }

  /**
   * Unnormalised inverse of specRe/specIm (which it overwrites) into `output`
   * (nx·ny·nz values): output = N · IDFT, N = nx·ny·nz.
   */
  inverse(output: Float64Array | Float32Array): void {
    const { nx, ny, nz, hx } = this;
    const m = nx / 2;
    const specR = this.specRe, specI = this.specIm;
    if (nz > 1) this.axis(this.planZ, specR, specI, 0, hx * ny, hx * ny, true);
    if (ny > 1) for (let z = 0; z < nz; z++) this.axis(this.planY, specR, specI, z * hx * ny, hx, hx, true);
    const bRe = this.bRe, bIm = this.bIm, sr = this.splitRe, si = this.splitIm;
    const rows = ny * nz;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const bw = Math.min(BLOCK, rows - r0);
      // Fe = X[k] + conj X[m−k]; W^k·Fo = X[k] − conj X[m−k] (both ×2); Z = Fe + i·Fo
      for (let b = 0; b < bw; b++) {
        const src = (r0 + b) * hx;
        for (let k = 0, d = b; k < m; k++, d += bw) {
          const xr = specR[src + k], xi = specI[src + k];
          const cr = specR[src + m - k], ci = -specI[src + m - k];
          const er = xr + cr, ei = xi + ci;
          const gr = xr - cr, gi = xi - ci;
          // Fo = g · conj(W^k)
          const or = gr * sr[k] + gi * si[k];
          const oi = gi * sr[k] - gr * si[k];
          bRe[d] = er - oi;
          bIm[d] = ei + or;
        }
      }
      this.planX.transform(bIm, bRe, bw, this.wIm, this.wRe);
      // (nx/2)·2 = nx from this axis, ny·nz from the others: N · x
      for (let b = 0; b < bw; b++) {
        const dst = (r0 + b) * nx;
        for (let j = 0, d = b; j < m; j++, d += bw) {
          output[dst + 2 * j] = bRe[d];
          output[dst + 2 * j + 1] = bIm[d];
        }
      }
    }
  }
}
