/**
 * Spectral backends for the deconvolution engine: a real FFT of the box plus the few
 * operations the iterations need on its spectrum (multiply by an OTF, add a stored
 * spectrum, scale), so the engine does not depend on the spectrum's layout.
 *
 * - 'pffft-wasm': 2D boxes, PFFFT (Pommier's SIMD FFT, BSD) compiled to WebAssembly with
 *   SIMD (npm `@echogarden/pffft-wasm`), float32: real row transforms (ordered output),
 *   a blocked transpose, complex column transforms. Box sizes: x a multiple of 32, y a
 *   multiple of 16, both 2^a·3^b·5^c (PFFFT's SIMD constraints).
 * - 'js': any box (3D included), this plugin's own mixed-radix float64 FFT (fft.ts).
 *
 * Both transforms are unnormalised (inverse(forward(x)) = N·x); filters carry the 1/N.
 */
import { FocalError } from '../../core/index.js';
import { RealFft3d, nextFastMultiple, nextFastSize } from './fft.js';

/** An OTF-like filter: true frequency values in a backend-specific order. */
export interface Filter {
  re: Float64Array;
  im: Float64Array;
}

export interface SpectralBackend {
  readonly name: 'pffft-wasm' | 'js';
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** Spectrum ← FFT(x), x of nx·ny·nz values. */
  forward(x: Float32Array): void;
  /** out ← unnormalised inverse FFT of the spectrum (N·x); the spectrum is destroyed. */
  inverse(out: Float32Array): void;
  /** The current spectrum as a filter (true frequency values) times `scale`. */
  toFilter(scale: number): Filter;
  /** Spectrum ← spectrum · H (conj H when `conjugate`). */
  multiply(filter: Filter, conjugate: boolean): void;
  /** A copy of the current spectrum (layout-specific). */
  snapshot(): Float32Array;
  /** Spectrum ← spectrum + snapshot. */
  add(snapshot: Float32Array): void;
  /** Spectrum ← s · spectrum. */
  scale(s: number): void;
  /** Bytes held. */
  readonly bytes: number;
  /** Frees native memory (wasm heap); the backend is unusable afterwards. */
  dispose(): void;
}

// ---------------------------------------------------------------- JS backend

class JsBackend implements SpectralBackend {
  readonly name = 'js' as const;
  readonly fft: RealFft3d;
  readonly bytes: number;
  constructor(readonly nx: number, readonly ny: number, readonly nz: number) {
    this.fft = new RealFft3d(nx, ny, nz);
    this.bytes = RealFft3d.bytes(nx, ny, nz);
  }
  forward(x: Float32Array): void {
    this.fft.forward(x);
  }
  inverse(out: Float32Array): void {
    this.fft.inverse(out);
  }
  toFilter(scale: number): Filter {
    const re = Float64Array.from(this.fft.specRe);
    const im = Float64Array.from(this.fft.specIm);
    for (let i = 0; i < re.length; i++) {
      re[i] *= scale;
      im[i] *= scale;
    }
    return { re, im };
  }
  multiply(f: Filter, conjugate: boolean): void {
    const { specRe, specIm } = this.fft;
    const s = conjugate ? -1 : 1;
    const hr = f.re;
    const hi = f.im;
    for (let i = 0; i < specRe.length; i++) {
      const ar = specRe[i], ai = specIm[i];
      const br = hr[i], bi = s * hi[i];
      specRe[i] = ar * br - ai * bi;
      specIm[i] = ar * bi + ai * br;
    }
  }
  snapshot(): Float32Array {
    const { specRe, specIm } = this.fft;
    const out = new Float32Array(2 * specRe.length);
    for (let i = 0; i < specRe.length; i++) {
      out[2 * i] = specRe[i];
      out[2 * i + 1] = specIm[i];
    }
    return out;
  }
  add(snap: Float32Array): void {
    const { specRe, specIm } = this.fft;
    for (let i = 0; i < specRe.length; i++) {
      specRe[i] += snap[2 * i];
      specIm[i] += snap[2 * i + 1];
    }
  }
  scale(s: number): void {
    const { specRe, specIm } = this.fft;
    for (let i = 0; i < specRe.length; i++) {
      specRe[i] *= s;
      specIm[i] *= s;
    }
  }
  dispose(): void {}
}

// ---------------------------------------------------------------- PFFFT (wasm) backend

interface PffftModule {
  HEAPF32: Float32Array;
  HEAPF64: Float64Array;
  _pffft_new_setup(n: number, type: number): number;
  _pffft_destroy_setup(setup: number): void;
  _pffft_aligned_malloc(bytes: number): number;
  _pffft_aligned_free(ptr: number): void;
  _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
}

const PFFFT_REAL = 0;
const PFFFT_COMPLEX = 1;
const PFFFT_FORWARD = 0;
const PFFFT_BACKWARD = 1;

let pffft: PffftModule | undefined;
let pffftError: string | undefined;
try {
  const factory = (await import('@echogarden/pffft-wasm/simd')).default as () => Promise<PffftModule>;
  pffft = await factory();
} catch (e) {
  pffftError = (e as Error).message;
}

/** Whether the WebAssembly PFFFT backend loaded (WebAssembly SIMD is needed), and why not. */
export function pffftStatus(): { available: boolean; error?: string } {
  return pffft ? { available: true } : { available: false, error: pffftError };
}

const TRANSPOSE_TILE = 32;

/** dst[c·rows + r] = src[r·cols + c] for an rows × cols matrix at element offsets src, dst. */
function transpose(a: Float64Array, src: number, dst: number, rows: number, cols: number): void {
  for (let r0 = 0; r0 < rows; r0 += TRANSPOSE_TILE) {
    const r1 = Math.min(rows, r0 + TRANSPOSE_TILE);
    for (let c0 = 0; c0 < cols; c0 += TRANSPOSE_TILE) {
      const c1 = Math.min(cols, c0 + TRANSPOSE_TILE);
      for (let r = r0; r < r1; r++) {
        const s = src + r * cols;
        for (let c = c0; c < c1; c++) a[dst + c * rows + r] = a[s + c];
      }
    }
  }
}

/**
 * 2D real FFT on PFFFT. Spectrum layout (float32, interleaved complex): slot k = 0…nx/2−1
 * major, ky minor: spec[(k·ny + ky)·2 + {0,1}]. Slot 0 holds FFT_y(F(0, y) + i·F(nx/2, y)),
 * the DC and Nyquist columns packed together (PFFFT's ordered real format); multiply()
 * separates them with the Hermitian symmetry of each before filtering.
 */
class PffftBackend implements SpectralBackend {
  readonly name = 'pffft-wasm' as const;
  readonly nz = 1;
  readonly bytes: number;
  private readonly mod: PffftModule;
  private readonly m: number;
  private readonly setupR: number;
  private readonly setupC: number;
  private readonly rows: number;
  private readonly spec: number;
  private readonly work: number;
  private disposed = false;

  constructor(readonly nx: number, readonly ny: number) {
    const mod = pffft!;
    this.mod = mod;
    this.m = nx / 2;
    this.setupR = mod._pffft_new_setup(nx, PFFFT_REAL);
    this.setupC = mod._pffft_new_setup(ny, PFFFT_COMPLEX);
    if (!this.setupR || !this.setupC) {
      if (this.setupR) mod._pffft_destroy_setup(this.setupR);
      if (this.setupC) mod._pffft_destroy_setup(this.setupC);
      throw new FocalError('E_ARGUMENT', `PFFFT cannot transform ${nx}×${ny} (x must be a multiple of 32, y of 16, both 2^a·3^b·5^c)`);
    }
    const n = nx * ny;
    this.rows = mod._pffft_aligned_malloc(4 * n);
    this.spec = mod._pffft_aligned_malloc(4 * n);
    this.work = mod._pffft_aligned_malloc(4 * 2 * Math.max(nx, ny));
    this.bytes = 4 * (2 * n + 2 * Math.max(nx, ny));
  }

  forward(x: Float32Array): void {
    const { mod, nx, ny, m } = this;
    mod.HEAPF32.set(x.subarray(0, nx * ny), this.rows >> 2);
    for (let y = 0; y < ny; y++) mod._pffft_transform_ordered(this.setupR, this.rows + 4 * y * nx, this.rows + 4 * y * nx, this.work, PFFFT_FORWARD);
    // transpose ny × m complex → m × ny complex, in tiles; one float32 pair moved as one
    // float64 (8-byte aligned; finite data never forms a NaN bit pattern, so bits are kept)
    transpose(mod.HEAPF64, this.rows >> 3, this.spec >> 3, ny, m);
    for (let k = 0; k < m; k++) mod._pffft_transform_ordered(this.setupC, this.spec + 8 * k * ny, this.spec + 8 * k * ny, this.work, PFFFT_FORWARD);
  }

  inverse(out: Float32Array): void {
    const { mod, nx, ny, m } = this;
    for (let k = 0; k < m; k++) mod._pffft_transform_ordered(this.setupC, this.spec + 8 * k * ny, this.spec + 8 * k * ny, this.work, PFFFT_BACKWARD);
    transpose(mod.HEAPF64, this.spec >> 3, this.rows >> 3, m, ny);
    for (let y = 0; y < ny; y++) mod._pffft_transform_ordered(this.setupR, this.rows + 4 * y * nx, this.rows + 4 * y * nx, this.work, PFFFT_BACKWARD);
    const rows = this.rows >> 2;
    out.set(mod.HEAPF32.subarray(rows, rows + nx * ny));
  }

  /** Filter layout: index k·ny + ky for slots k ≥ 1; then ny values at kx = 0 (D), then ny at kx = nx/2 (Q). */
  toFilter(scale: number): Filter {
    const { ny, m } = this;
    const H = this.mod.HEAPF32;
    const spec = this.spec >> 2;
    const len = m * ny + 2 * ny;
    const re = new Float64Array(len);
    const im = new Float64Array(len);
    for (let i = ny; i < m * ny; i++) {
      re[i] = scale * H[spec + 2 * i];
      im[i] = scale * H[spec + 2 * i + 1];
    }
    for (let j = 0; j < ny; j++) {
      const jm = (ny - j) % ny;
      const zr = H[spec + 2 * j], zi = H[spec + 2 * j + 1];
      const cr = H[spec + 2 * jm], ci = -H[spec + 2 * jm + 1];
      re[m * ny + j] = (scale * (zr + cr)) / 2;
      im[m * ny + j] = (scale * (zi + ci)) / 2;
      // Q = (Z − conj Z[−j]) / (2i) = (d_i, −d_r), d = (Z − conj Z[−j]) / 2
      re[m * ny + ny + j] = (scale * (zi - ci)) / 2;
      im[m * ny + ny + j] = (-scale * (zr - cr)) / 2;
    }
    return { re, im };
  }

  multiply(f: Filter, conjugate: boolean): void {
    const { ny, m } = this;
    const H = this.mod.HEAPF32;
    const spec = this.spec >> 2;
    const s = conjugate ? -1 : 1;
    const hr = f.re;
    const hi = f.im;
    for (let i = ny, p = spec + 2 * ny; i < m * ny; i++, p += 2) {
      const ar = H[p], ai = H[p + 1];
      const br = hr[i], bi = s * hi[i];
      H[p] = ar * br - ai * bi;
      H[p + 1] = ar * bi + ai * br;
    }
    // slot 0: separate D (kx = 0) and Q (kx = nx/2), filter each, pack again; pairs (j, −j) together
    const dOff = m * ny;
    const qOff = m * ny + ny;
    for (let j = 0; j <= ny - j; j++) {
      const jm = (ny - j) % ny;
      const zr = H[spec + 2 * j], zi = H[spec + 2 * j + 1];
      const wr = H[spec + 2 * jm], wi = H[spec + 2 * jm + 1];
      // D_j = (Z_j + conj Z_jm)/2, Q_j = (Z_j − conj Z_jm)/(2i); D_jm = conj D_j, Q_jm = conj Q_j
      const dr = 0.5 * (zr + wr), di = 0.5 * (zi - wi);
      const qr = 0.5 * (zi + wi), qi = -0.5 * (zr - wr);
      const pj = this.filterPair(dr, di, qr, qi, hr[dOff + j], s * hi[dOff + j], hr[qOff + j], s * hi[qOff + j]);
      H[spec + 2 * j] = pj[0];
      H[spec + 2 * j + 1] = pj[1];
      if (jm !== j) {
        const pm = this.filterPair(dr, -di, qr, -qi, hr[dOff + jm], s * hi[dOff + jm], hr[qOff + jm], s * hi[qOff + jm]);
        H[spec + 2 * jm] = pm[0];
        H[spec + 2 * jm + 1] = pm[1];
      }
    }
  }

  private readonly pair = new Float64Array(2);
  /** (D·HD) + i·(Q·HQ) */
  private filterPair(dr: number, di: number, qr: number, qi: number, ar: number, ai: number, br: number, bi: number): Float64Array {
    const Dr = dr * ar - di * ai, Di = dr * ai + di * ar;
    const Qr = qr * br - qi * bi, Qi = qr * bi + qi * br;
    this.pair[0] = Dr - Qi;
    this.pair[1] = Di + Qr;
    return this.pair;
  }

  snapshot(): Float32Array {
    const spec = this.spec >> 2;
    return this.mod.HEAPF32.slice(spec, spec + this.nx * this.ny);
  }

  add(snap: Float32Array): void {
    const H = this.mod.HEAPF32;
    const spec = this.spec >> 2;
    for (let i = 0; i < snap.length; i++) H[spec + i] += snap[i];
  }

  scale(s: number): void {
    const H = this.mod.HEAPF32;
    const spec = this.spec >> 2;
    const n = this.nx * this.ny;
    for (let i = 0; i < n; i++) H[spec + i] *= s;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const mod = this.mod;
    mod._pffft_aligned_free(this.rows);
    mod._pffft_aligned_free(this.spec);
    mod._pffft_aligned_free(this.work);
    mod._pffft_destroy_setup(this.setupR);
    mod._pffft_destroy_setup(this.setupC);
  }
}

export type BackendChoice = 'auto' | 'js' | 'pffft-wasm';

/** Whether a 2D box would run on PFFFT for this choice. */
function usePffft(choice: BackendChoice, nz: number): boolean {
  if (choice === 'js' || nz !== 1) return false;
  if (!pffft) {
    if (choice === 'pffft-wasm') throw new FocalError('E_ARGUMENT', `backend: the WebAssembly PFFFT module did not load (${pffftError ?? 'unknown error'})`, { field: 'backend' });
    return false;
  }
  return true;
}

/** Box length along x, y, z for a needed extent, following the backend's size rules. */
export function boxSizes(choice: BackendChoice, need: [number, number, number]): [number, number, number] {
  const [x, y, z] = need;
  if (usePffft(choice, z)) return [nextFastMultiple(x, 32), nextFastMultiple(y, 16), 1];
  return [nextFastSize(Math.max(x, 2), true), nextFastSize(y), nextFastSize(z)];
}

/** Creates the backend for a box made by {@link boxSizes} with the same choice. */
export function createBackend(choice: BackendChoice, nx: number, ny: number, nz: number): SpectralBackend {
  if (usePffft(choice, nz)) return new PffftBackend(nx, ny);
  return new JsBackend(nx, ny, nz);
}

/** Bytes a backend for this box would hold. */
export function backendBytes(choice: BackendChoice, nx: number, ny: number, nz: number): number {
  if (usePffft(choice, nz)) return 4 * (2 * nx * ny + 2 * Math.max(nx, ny));
  return RealFft3d.bytes(nx, ny, nz);
}
