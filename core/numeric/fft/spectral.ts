/**
 * Spectral backends for iterative FFT filtering (used by the deconvolution engine): a real
 * FFT of the box plus the few operations iterations need on its spectrum (multiply by an
 * OTF, add a stored spectrum, scale), so callers do not depend on the spectrum's layout.
 *
 * - 'pffft-wasm': 2D boxes, PFFFT (Pommier's SIMD FFT, BSD) compiled to WebAssembly with
 *   SIMD (npm `@echogarden/pffft-wasm`), float32: real row transforms (ordered output),
 *   a blocked transpose, complex column transforms. Box sizes: x a multiple of 32, y a
 *   multiple of 16, both 2^a·3^b·5^c (PFFFT's SIMD constraints). Loaded by
 *   {@link loadPffft}, not on import. Iterative users call filterPass (or their own fused
 *   passes on the row and column phases PffftBackend exposes): column panels filtered in
 *   cache instead of transposes, unordered column transforms, and the pointwise steps in a
 *   small WebAssembly SIMD module on PFFFT's memory (wasm-kernels.ts; JavaScript loops if
 *   it cannot load).
 * - 'js': any box (3D included), the mixed-radix float64 FFT of plan.ts.
 *
 * Both transforms are unnormalised (inverse(forward(x)) = N·x); filters carry the 1/N.
 */
import { FocalError } from '../../errors.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RealFft3d, nextFastMultiple, nextFastSize } from './plan.js';
import { createKernels, wasmApi, type Kernels, type WasmMemory } from './wasm-kernels.js';

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
  /**
   * Fused filtering of a real box: N · IFFT(FFT(input) · H (conj H when `conjugate`) + add),
   * delivered row by row: `emit(r, data, offset)` receives box row r (z·ny + y) as the nx
   * values data[offset … offset + nx) and must consume them before it returns. `add` is a
   * {@link snapshot}. The spectrum is destroyed; `input` is only read, and is read
   * completely before the first `emit`, so `emit` may overwrite it.
   */
  filterPass(input: Float32Array, filter: Filter, conjugate: boolean, emit: RowSink, add?: Float32Array): void;
  /** Whether fused passes on the SIMD kernels can run (PFFFT with the kernels loaded; see {@link PffftBackend}). */
  readonly fusedRl?: boolean;
  /** Bytes held. */
  readonly bytes: number;
  /** Frees native memory (wasm heap); the backend is unusable afterwards. */
  dispose(): void;
}

/**
 * Receives one row of a filtered box (see {@link SpectralBackend.filterPass}): nx values
 * data[offset …]; `math` does the common pointwise steps on it (in WebAssembly SIMD on
 * the PFFFT backend).
 */
export type RowSink = (row: number, data: Float32Array, offset: number, math: RowMath) => void;

/** Pointwise steps on a row delivered to a {@link RowSink} (n values from `offset`). */
export interface RowMath {
  /** out[b …] ← obs[b …] / (row + 10⁻¹²), 0 where that denominator is ≤ 0 (float32 arithmetic). */
  ratio(data: Float32Array, offset: number, obs: Float32Array, out: Float32Array, b: number, n: number): void;
  /** est[b …] ← est[b …] · row. */
  mul(data: Float32Array, offset: number, est: Float32Array, b: number, n: number): void;
  /** est[b …] ← row, negative values set to 0. */
  clampTo(data: Float32Array, offset: number, est: Float32Array, b: number, n: number): void;
}

/** RowMath in plain JavaScript. */
export const jsRowMath: RowMath = {
  ratio(d, o, obs, out, b, n) {
    for (let x = 0; x < n; x++) {
      const c = d[o + x] + 1e-12;
      out[b + x] = c > 0 ? obs[b + x] / c : 0;
    }
  },
  mul(d, o, est, b, n) {
    for (let x = 0; x < n; x++) est[b + x] *= d[o + x];
  },
  clampTo(d, o, est, b, n) {
    for (let x = 0; x < n; x++) {
      const v = d[o + x];
      est[b + x] = v < 0 ? 0 : v;
    }
  },
};

// ---------------------------------------------------------------- JS backend

class JsBackend implements SpectralBackend {
  readonly name = 'js' as const;
  readonly fft: RealFft3d;
  readonly bytes: number;
  constructor(readonly nx: number, readonly ny: number, readonly nz: number) {
    this.fft = new RealFft3d(nx, ny, nz);
    this.bytes = jsBackendBytes(nx, ny, nz);
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
  private tmp: Float32Array | undefined;
  filterPass(input: Float32Array, filter: Filter, conjugate: boolean, emit: RowSink, add?: Float32Array): void {
    const { nx } = this;
    const rows = this.ny * this.nz;
    this.forward(input);
    this.multiply(filter, conjugate);
    if (add) this.add(add);
    const tmp = (this.tmp ??= new Float32Array(nx * rows));
    this.inverse(tmp);
    for (let r = 0; r < rows; r++) emit(r, tmp, r * nx, jsRowMath);
  }
  dispose(): void {}
}

// ---------------------------------------------------------------- PFFFT (wasm) backend

export interface PffftModule {
  HEAPF32: Float32Array;
  HEAPF64: Float64Array;
  _pffft_new_setup(n: number, type: number): number;
  _pffft_destroy_setup(setup: number): void;
  _pffft_aligned_malloc(bytes: number): number;
  _pffft_aligned_free(ptr: number): void;
  _pffft_transform_ordered(setup: number, input: number, output: number, work: number, direction: number): void;
  _pffft_transform(setup: number, input: number, output: number, work: number, direction: number): void;
  _pffft_zreorder(setup: number, input: number, output: number, direction: number): void;
}

const PFFFT_REAL = 0;
const PFFFT_COMPLEX = 1;
export const PFFFT_FORWARD = 0;
export const PFFFT_BACKWARD = 1;

let pffft: PffftModule | undefined;
let pffftError: string | undefined;
/** SIMD pointwise kernels on PFFFT's memory (undefined: JavaScript loops are used). */
let kernels: Kernels | undefined;
let loadedKernels: Kernels | undefined;
let loading: Promise<PffftStatus> | undefined;

export interface PffftStatus {
  available: boolean;
  error?: string;
  simdKernels?: boolean;
}

/**
 * Loads the WebAssembly PFFFT module (and the SIMD kernels on its memory) once; later
 * calls return the same promise. Until it has resolved, backends fall back to the
 * JavaScript FFT ('auto') or throw ('pffft-wasm'). Callers that want PFFFT await it
 * once at module load (the deconvolution plugin does); importing core does not load it.
 */
export function loadPffft(): Promise<PffftStatus> {
  return (loading ??= (async () => {
    try {
      type Factory = (options?: object) => Promise<PffftModule>;
      const factory = (await import('@echogarden/pffft-wasm/simd')).default as Factory;
      // Instantiate PFFFT through Emscripten's `instantiateWasm` hook to get hold of its
      // memory, which the kernels import; if that fails, load it the plain way without kernels.
      try {
        const binary = readFileSync(join(dirname(createRequire(import.meta.url).resolve('@echogarden/pffft-wasm/simd')), 'pffft.wasm'));
        let memory: WasmMemory | undefined;
        pffft = await factory({
          instantiateWasm(imports: object, receive: (instance: object, module: object) => void) {
            const module = new wasmApi.Module(binary);
            const instance = new wasmApi.Instance(module, imports);
            memory = Object.values(instance.exports).find((e): e is WasmMemory => e instanceof wasmApi.Memory);
            receive(instance, module);
            return instance.exports;
          },
        });
        if (memory) kernels = loadedKernels = createKernels(memory);
      } catch {
        kernels = undefined;
        pffft = await factory();
      }
    } catch (e) {
      pffftError = (e as Error).message;
    }
    return pffftStatus();
  })());
}

/** The SIMD pointwise kernels on PFFFT's memory, when loaded and enabled (for fused passes built on {@link PffftBackend}). */
export function simdKernels(): Kernels | undefined {
  return kernels;
}

/**
 * Turns the SIMD kernels off (JavaScript loops and ordered column transforms instead) or
 * back on (if they loaded), for tests of the fallback; toggle only between runs. Returns
 * whether they are in use.
 */
export function setSimdKernels(enabled: boolean): boolean {
  kernels = enabled ? loadedKernels : undefined;
  return kernels !== undefined;
}

/** Whether the WebAssembly PFFFT backend loaded (WebAssembly SIMD is needed), and why not. */
export function pffftStatus(): PffftStatus {
  if (pffft) return { available: true, simdKernels: kernels !== undefined };
  return { available: false, error: pffftError ?? (loading ? 'still loading' : 'not loaded: call loadPffft() first') };
}

const TRANSPOSE_TILE = 32;
/** Spectrum columns per panel in filterPass: 8 complex float32 = one 64-byte cache line of a row. */
const PANEL = 8;

/** Heap bytes of a PFFFT backend: rows and spectrum boxes, work area, column panel. */
function pffftBytes(nx: number, ny: number): number {
  // + up to two float32 filter copies (RL: the OTF; Landweber: OTF and A) and a row
  return 4 * (2 * nx * ny + 2 * Math.max(nx, ny)) + 8 * PANEL * ny + 2 * 4 * nx * ny + 4 * nx;
}

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
export class PffftBackend implements SpectralBackend {
  readonly name = 'pffft-wasm' as const;
  readonly nz = 1;
  readonly bytes: number;
  /** @internal for fused passes */
  readonly mod: PffftModule;
  private readonly m: number;
  /** @internal for fused passes */
  readonly setupR: number;
  private readonly setupC: number;
  /** @internal for fused passes */
  readonly rows: number;
  private readonly spec: number;
  /** @internal for fused passes */
  readonly work: number;
  /** PANEL spectrum columns for filterPass */
  private readonly panel: number;
  /** one row of float32 for RowMath */
  /** @internal for fused passes */
  readonly tmpRow: number;
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
    this.panel = mod._pffft_aligned_malloc(8 * PANEL * ny);
    this.tmpRow = mod._pffft_aligned_malloc(4 * nx);
    this.bytes = pffftBytes(nx, ny);
  }

  forward(x: Float32Array): void {
    this.carried = undefined;
    const { mod, nx, ny, m } = this;
    mod.HEAPF32.set(x.subarray(0, nx * ny), this.rows >> 2);
    for (let y = 0; y < ny; y++) mod._pffft_transform_ordered(this.setupR, this.rows + 4 * y * nx, this.rows + 4 * y * nx, this.work, PFFFT_FORWARD);
    // transpose ny × m complex → m × ny complex, in tiles; one float32 pair moved as one
    // float64 (8-byte aligned; finite data never forms a NaN bit pattern, so bits are kept)
    this.transpose(this.rows, this.spec, ny, m);
    for (let k = 0; k < m; k++) mod._pffft_transform_ordered(this.setupC, this.spec + 8 * k * ny, this.spec + 8 * k * ny, this.work, PFFFT_FORWARD);
  }

  inverse(out: Float32Array): void {
    this.carried = undefined;
    const { mod, nx, ny, m } = this;
    for (let k = 0; k < m; k++) mod._pffft_transform_ordered(this.setupC, this.spec + 8 * k * ny, this.spec + 8 * k * ny, this.work, PFFFT_BACKWARD);
    this.transpose(this.spec, this.rows, m, ny);
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
    const H = this.mod.HEAPF32;
    const spec = this.spec >> 2;
    for (let k = 0; k < this.m; k++) this.filterColumn(H, spec + 2 * k * this.ny, k, f, conjugate ? -1 : 1);
  }

  /**
   * Spectrum column k (slot k: kx = k, or the packed DC/Nyquist pair for k = 0), ny complex
   * values from float index `spec`, ← · H (s = −1: conj H).
   */
  private filterColumn(H: Float32Array, spec: number, k: number, f: Filter, s: number): void {
    const { ny, m } = this;
    const hr = f.re;
    const hi = f.im;
    if (k > 0) {
      const end = (k + 1) * ny;
      for (let i = k * ny, p = spec; i < end; i++, p += 2) {
        const ar = H[p], ai = H[p + 1];
        const br = hr[i], bi = s * hi[i];
        H[p] = ar * br - ai * bi;
        H[p + 1] = ar * bi + ai * br;
      }
      return;
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

  /**
   * Fused: rows are copied in and transformed one at a time; then the spectrum columns are
   * processed in panels of PANEL columns (one 64-byte cache line of each row): gathered
   * from the rows into a small buffer, transformed, filtered and transformed back while in
   * cache, and scattered back (no full transposes); then each row is transformed back and
   * goes to `emit`. Same arithmetic as forward, multiply, add, inverse.
   */
  filterPass(input: Float32Array, f: Filter, conjugate: boolean, emit: RowSink, add?: Float32Array): void {
    this.carried = undefined;
    const math = kernels && this.nx % 4 === 0 ? this.rowMath() : jsRowMath;
    this.rowsForward(input);
    this.columnPhase(f, conjugate, add);
    const { mod, nx, ny, setupR, work } = this;
    const H = mod.HEAPF32;
    const rows = this.rows >> 2;
    for (let y = 0, off = 0; y < ny; y++, off += nx) {
      mod._pffft_transform_ordered(setupR, this.rows + 4 * off, this.rows + 4 * off, work, PFFFT_BACKWARD);
      emit(y, H, rows + off, math);
    }
  }

  /** Rows ← real FFT of each row of `input`. */
  /** @internal for fused passes */
  rowsForward(input: Float32Array): void {
    const { mod, nx, ny, setupR, work } = this;
    const H = mod.HEAPF32;
    const rows = this.rows >> 2;
    for (let y = 0, off = 0; y < ny; y++, off += nx) {
      H.set(input.subarray(off, off + nx), rows + off);
      mod._pffft_transform_ordered(setupR, this.rows + 4 * off, this.rows + 4 * off, work, PFFFT_FORWARD);
    }
  }

  /** The column half of filterPass on the row spectra in `rows`: panels of columns transformed, filtered (+ add), transformed back. */
  /** @internal for fused passes */
  columnPhase(f: Filter, conjugate: boolean, add?: Float32Array): void {
    const { mod, ny, m, setupC, work } = this;
    // Without `add`, columns k ≥ 1 use PFFFT's unordered transforms (no reordering pass)
    // and a filter copy in that layout; `add` (a snapshot) is in the ordered layout.
    const unordered = kernels !== undefined && !add;
    const hf = kernels ? this.heapFilter(f, unordered) : 0; // may grow the heap: take the views after it
    const H = mod.HEAPF32;
    const F = mod.HEAPF64;
    const s = conjugate ? -1 : 1;
    // complex values (float32 pairs) moved as float64: 8-byte aligned, and finite data never
    // forms a NaN bit pattern, so the bits are kept
    const r64 = this.rows >> 3;
    const p64 = this.panel >> 3;
    for (let k0 = 0; k0 < m; k0 += PANEL) {
      const pw = Math.min(PANEL, m - k0);
      if (kernels && pw === 8) kernels.gather8(this.rows + 8 * k0, this.panel, ny, m, ny);
      else {
        for (let y = 0; y < ny; y++) {
          const src = r64 + y * m + k0;
          for (let p = 0, d = p64 + y; p < pw; p++, d += ny) F[d] = F[src + p];
        }
      }
      for (let p = 0; p < pw; p++) {
        const col = this.panel + 8 * p * ny;
        const k = k0 + p;
        if (k > 0 && unordered) {
          mod._pffft_transform(setupC, col, col, work, PFFFT_FORWARD);
          kernels!.cmulSplit(col, hf + 8 * k * ny, ny, conjugate ? 1 : 0);
          mod._pffft_transform(setupC, col, col, work, PFFFT_BACKWARD);
          continue;
        }
        mod._pffft_transform_ordered(setupC, col, col, work, PFFFT_FORWARD);
        if (k > 0 && kernels) kernels.cmul(col, hf + 8 * k * ny, ny, conjugate ? 1 : 0);
        else this.filterColumn(H, col >> 2, k, f, s);
        if (add) for (let i = col >> 2, j = 2 * k * ny, end = j + 2 * ny; j < end; i++, j++) H[i] += add[j];
        mod._pffft_transform_ordered(setupC, col, col, work, PFFFT_BACKWARD);
      }
      if (kernels && pw === 8) kernels.scatter8(this.panel, this.rows + 8 * k0, ny, m, ny);
      else {
        for (let y = 0; y < ny; y++) {
          const dst = r64 + y * m + k0;
          for (let p = 0, q = p64 + y; p < pw; p++, q += ny) F[dst + p] = F[q];
        }
      }
    }
  }

  /** @internal Rows whose real FFT `rows` holds after the last fused pass that kept them there, if any. */
  carried: Float32Array | undefined;

  /** Whether fused passes on the SIMD kernels can run (they loaded and nx is a multiple of 4). */
  get fusedRl(): boolean {
    return kernels !== undefined && this.nx % 4 === 0;
  }

  /**
   * Float32 copy of a filter's columns k ≥ 1 in the heap, in the ordered spectrum layout
   * or (`unordered`) in PFFFT's unordered complex layout (made once per filter and layout).
   */
  private heapFilter(f: Filter, unordered: boolean): number {
    let entry = this.filters.get(f);
    if (!entry) this.filters.set(f, (entry = {}));
    const have = unordered ? entry.unordered : entry.ordered;
    if (have !== undefined) return have;
    const { ny, m } = this;
    const ptr = this.mod._pffft_aligned_malloc(8 * m * ny);
    const H = this.mod.HEAPF32;
    for (let i = ny, p = (ptr >> 2) + 2 * ny; i < m * ny; i++, p += 2) {
      H[p] = f.re[i];
      H[p + 1] = f.im[i];
    }
    if (unordered) {
      // ordered → unordered, one column at a time through the work area
      for (let k = 1; k < m; k++) {
        const col = ptr + 8 * k * ny;
        this.mod._pffft_zreorder(this.setupC, col, this.work, PFFFT_BACKWARD);
        H.copyWithin(col >> 2, this.work >> 2, (this.work >> 2) + 2 * ny);
      }
      entry.unordered = ptr;
    } else entry.ordered = ptr;
    return ptr;
  }
  private readonly filters = new Map<Filter, { ordered?: number; unordered?: number }>();

  private math: RowMath | undefined;
  /** RowMath on the SIMD kernels: rows of the JS arrays are copied through a heap row. */
  private rowMath(): RowMath {
    if (this.math) return this.math;
    const mod = this.mod;
    const k = kernels!;
    const tmp = this.tmpRow;
    this.math = {
      ratio(d, o, obs, out, b, n) {
        const H = mod.HEAPF32;
        H.set(obs.subarray(b, b + n), tmp >> 2);
        k.ratio(4 * o, tmp, n);
        out.set(H.subarray(o, o + n), b);
      },
      mul(d, o, est, b, n) {
        const H = mod.HEAPF32;
        H.set(est.subarray(b, b + n), tmp >> 2);
        k.mul(tmp, 4 * o, n);
        est.set(H.subarray(tmp >> 2, (tmp >> 2) + n), b);
      },
      clampTo(d, o, est, b, n) {
        k.clamp0(4 * o, n);
        est.set(mod.HEAPF32.subarray(o, o + n), b);
      },
    };
    return this.math;
  }

  /** Transpose of a rows × cols matrix of complex float32 pairs between two heap buffers (byte addresses). */
  private transpose(src: number, dst: number, rows: number, cols: number): void {
    // one float32 pair moved as one float64 (8-byte aligned; finite data never forms a
    // NaN bit pattern, so the bits are kept)
    transpose(this.mod.HEAPF64, src >> 3, dst >> 3, rows, cols);
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
    mod._pffft_aligned_free(this.panel);
    mod._pffft_aligned_free(this.tmpRow);
    for (const e of this.filters.values()) for (const ptr of [e.ordered, e.unordered]) if (ptr !== undefined) mod._pffft_aligned_free(ptr);
    mod._pffft_destroy_setup(this.setupR);
    mod._pffft_destroy_setup(this.setupC);
  }
}

export type BackendChoice = 'auto' | 'js' | 'pffft-wasm';

/** Whether a 2D box would run on PFFFT for this choice. */
function usePffft(choice: BackendChoice, nz: number): boolean {
  if (choice === 'js' || nz !== 1) return false;
  if (!pffft) {
    if (choice === 'pffft-wasm') throw new FocalError('E_ARGUMENT', `backend: the WebAssembly PFFFT module is not loaded (${pffftStatus().error})`, { field: 'backend' });
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
  if (usePffft(choice, nz)) return pffftBytes(nx, ny);
  return jsBackendBytes(nx, ny, nz);
}

/** The JS FFT plus filterPass's float32 output box. */
function jsBackendBytes(nx: number, ny: number, nz: number): number {
  return RealFft3d.bytes(nx, ny, nz) + 4 * nx * ny * nz;
}
