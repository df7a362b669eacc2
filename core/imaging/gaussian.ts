import { FocalError } from '../errors.js';
import { convertPlanes } from '../data/convert.js';
import { GAUSSIAN_KERNELS_WASM_BASE64 } from './gaussian-kernels-wasm.js';

export interface GaussianOptions {
  /** Kernel half-width in standard deviations: radius = floor(truncate·σ + 0.5) px (as SciPy / scikit-image). Default 4. */
  truncate?: number;
}

/**
 * Sampled, normalised 1D Gaussian kernel: w[k] ∝ exp(−(k − r)² / (2σ²)) for k = 0…2r,
 * r = floor(truncate·σ + 0.5), scaled to sum to 1. σ = 0 gives the identity kernel [1].
 *
 * @param sigmaPx Standard deviation, px (≥ 0).
 * @param truncate Half-width in standard deviations (> 0). Default 4.
 * @returns Kernel of length 2r + 1 (its centre is index r).
 * @throws FocalError `E_ARGUMENT` for a negative or non-finite σ or truncate.
 */
export function gaussianKernel1d(sigmaPx: number, truncate = 4): Float64Array {
  if (!Number.isFinite(sigmaPx) || sigmaPx < 0) throw new FocalError('E_ARGUMENT', `sigmaPx must be a finite number ≥ 0, got ${sigmaPx}`);
  if (!Number.isFinite(truncate) || truncate <= 0) throw new FocalError('E_ARGUMENT', `truncate must be a finite number > 0, got ${truncate}`);
  const r = Math.floor(truncate * sigmaPx + 0.5);
  if (sigmaPx === 0 || r === 0) return Float64Array.of(1);
  const w = new Float64Array(2 * r + 1);
  const denom = 2 * sigmaPx * sigmaPx;
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += w[k + r] = Math.exp(-(k * k) / denom);
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/**
 * 2D Gaussian blur of one plane (scikit-image `gaussian` with `mode='nearest'`):
 * separable, a horizontal pass with σx then a vertical pass with σy, each a sampled
 * normalised Gaussian truncated at `truncate`·σ. Pixels beyond the edge take the value
 * of the nearest edge pixel, so a constant image stays constant. Accumulation is in
 * float64; the result is float32 ({@link gaussianBlur2dInteger} rounds to uint8 / uint16 in
 * the same pass). Runs the WebAssembly SIMD kernel (gaussian-kernels.wat) when the runtime
 * validates it, else {@link gaussianBlur2dJs}; both give bitwise-identical results (the same
 * operations in the same order).
 *
 * @param data Row-major plane of width × height pixels (any numeric array; not modified).
 * @param width Plane width, px.
 * @param height Plane height, px.
 * @param sigmaXPx Standard deviation along x (columns), px; 0 = no blur along x.
 * @param sigmaYPx Standard deviation along y (rows), px; 0 = no blur along y.
 * @param options `truncate` (default 4 σ).
 * @returns A new Float32Array of width × height pixels.
 * @throws FocalError `E_ARGUMENT` for bad dimensions, data length, σ or truncate.
 * @example
 * const blurred = gaussianBlur2d(plane, 512, 512, 2, 2); // σ = 2 px
 */
export function gaussianBlur2d(data: ArrayLike<number>, width: number, height: number, sigmaXPx: number, sigmaYPx: number, options: GaussianOptions = {}): Float32Array {
  const { kx, ky } = blurKernels(data, width, height, sigmaXPx, sigmaYPx, options);
  const kernels = gaussianWasm();
  return (kernels && blurWasm(kernels, data, width, height, kx, ky)) ?? blurJs(data, width, height, kx, ky);
}

/**
 * {@link gaussianBlur2d} in plain JavaScript: the reference the WebAssembly kernel is tested
 * against bitwise, and the fallback where WebAssembly SIMD is unavailable or the plane's
 * working buffers would pass {@link GAUSSIAN_WASM_MAX_BYTES}. Same parameters and result.
 */
export function gaussianBlur2dJs(data: ArrayLike<number>, width: number, height: number, sigmaXPx: number, sigmaYPx: number, options: GaussianOptions = {}): Float32Array {
  const { kx, ky } = blurKernels(data, width, height, sigmaXPx, sigmaYPx, options);
  return blurJs(data, width, height, kx, ky);
}

/**
 * {@link gaussianBlur2d} on the WebAssembly SIMD kernel only.
 * @returns The blurred plane, or null when WebAssembly SIMD is unavailable or the working
 *   buffers would pass {@link GAUSSIAN_WASM_MAX_BYTES}.
 */
export function gaussianBlur2dWasm(data: ArrayLike<number>, width: number, height: number, sigmaXPx: number, sigmaYPx: number, options: GaussianOptions = {}): Float32Array | null {
  const { kx, ky } = blurKernels(data, width, height, sigmaXPx, sigmaYPx, options);
  const kernels = gaussianWasm();
  return kernels && blurWasm(kernels, data, width, height, kx, ky);
}

/**
 * {@link gaussianBlur2d} rounded to an unsigned integer type in the same pass: the float32 result
 * converted as `convertPlanes(…, 'float32', dtype, { scale: 'none' })` converts it (halves up,
 * clamped to the type's range, NaN → 0), bitwise the same, without the float32 plane.
 *
 * @param dtype `uint16` or `uint8`.
 * @returns A new Uint16Array / Uint8Array of width × height pixels.
 * @throws FocalError `E_ARGUMENT` as gaussianBlur2d.
 */
export function gaussianBlur2dInteger<D extends 'uint8' | 'uint16'>(data: ArrayLike<number>, width: number, height: number, sigmaXPx: number, sigmaYPx: number, dtype: D, options: GaussianOptions = {}): D extends 'uint8' ? Uint8Array : Uint16Array {
  const { kx, ky } = blurKernels(data, width, height, sigmaXPx, sigmaYPx, options);
  const kernels = gaussianWasm();
  const out = (kernels && blurWasm(kernels, data, width, height, kx, ky, dtype)) ?? convertPlanes([blurJs(data, width, height, kx, ky)], 'float32', dtype, { scale: 'none' })[0];
  return out as D extends 'uint8' ? Uint8Array : Uint16Array;
}

function blurKernels(data: ArrayLike<number>, width: number, height: number, sigmaXPx: number, sigmaYPx: number, options: GaussianOptions): { kx: Float64Array; ky: Float64Array } {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width and height must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data has ${data.length} pixels, expected ${width}×${height} = ${width * height}`);
  const truncate = options.truncate ?? 4;
  const kx = gaussianKernel1d(sigmaXPx, truncate);
  const ky = gaussianKernel1d(sigmaYPx, truncate);
  return { kx, ky };
}

function blurJs(data: ArrayLike<number>, width: number, height: number, kx: Float64Array, ky: Float64Array): Float32Array {
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;

  // horizontal pass into a float64 buffer, through an edge-replicated row
  const tmp = new Float64Array(width * height);
  const padded = new Float64Array(width + 2 * rx);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const first = data[row];
    const last = data[row + width - 1];
    for (let i = 0; i < rx; i++) {
      padded[i] = first;
      padded[rx + width + i] = last;
    }
    for (let x = 0; x < width; x++) padded[rx + x] = data[row + x];
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = 0; k < kx.length; k++) acc += kx[k] * padded[x + k];
      tmp[row + x] = acc;
    }
  }

  // vertical pass, row by row (cache-friendly); source rows clamped to the edges
  const out = new Float32Array(width * height);
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let k = 0; k < ky.length; k++) {
      const sy = Math.min(height - 1, Math.max(0, y + k - ry));
      const w = ky[k];
      const src = sy * width;
      for (let x = 0; x < width; x++) acc[x] += w * tmp[src + x];
    }
    out.set(acc, y * width);
  }
  return out;
}

/**
 * Largest wasm memory (bytes) {@link gaussianBlur2d} lays its working buffers out in: kernels, one
 * padded input row, one output row and a ring of 2·ry + 1 horizontally blurred f64 rows (at most
 * the plane's height), i.e. about (2·ry + 1) · width · 8 bytes. Beyond it (a plane some 15 million
 * px wide at σ = 2) the JavaScript path runs instead.
 */
export const GAUSSIAN_WASM_MAX_BYTES = 2 ** 31;

/** The parts of the WebAssembly API used here (the project's TypeScript lib has no WebAssembly types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface GaussianKernels {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  hpass(row: number, width: number, rx: number, kx: number, nk: number, dst: number): void;
  vpass(ptrs: number, nk: number, ky: number, dst: number, width: number): void;
  vpassInt(ptrs: number, nk: number, ky: number, dst: number, width: number, bytes: number, hi: number): void;
}

/** The compiled kernels (null where WebAssembly SIMD does not validate) and this thread's instance of them. */
let wasmModule: { api: WasmApi; module: object } | null | undefined;
let wasmKernels: GaussianKernels | undefined;

/**
 * Wasm memory an instance keeps between calls. Memory cannot shrink, so an instance that grew
 * beyond this for a very wide plane is dropped after its call (the next call instantiates the
 * compiled module again, ~no cost).
 */
const KEEP_BYTES = 64 * 2 ** 20;

function gaussianWasm(): GaussianKernels | null {
  if (wasmKernels) return wasmKernels;
  if (wasmModule === undefined) {
    wasmModule = null;
    try {
      const bytes = Uint8Array.from(atob(GAUSSIAN_KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
      const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
      if (api && api.validate(bytes)) wasmModule = { api, module: new api.Module(bytes) };
    } catch {
      wasmModule = null; // no WebAssembly (or SIMD) here: the JavaScript path runs
    }
  }
  if (!wasmModule) return null;
  wasmKernels = new wasmModule.api.Instance(wasmModule.module, {}).exports as GaussianKernels;
  return wasmKernels;
}

type NumericTypedArray = Exclude<ArrayBufferView, DataView> & ArrayLike<number> & { subarray(begin: number, end: number): ArrayLike<number> };

function blurWasm(m: GaussianKernels, data: ArrayLike<number>, width: number, height: number, kx: Float64Array, ky: Float64Array): Float32Array | null;
function blurWasm(m: GaussianKernels, data: ArrayLike<number>, width: number, height: number, kx: Float64Array, ky: Float64Array, dtype: 'float32' | 'uint16' | 'uint8'): Float32Array | Uint16Array | Uint8Array | null;
function blurWasm(m: GaussianKernels, data: ArrayLike<number>, width: number, height: number, kx: Float64Array, ky: Float64Array, dtype: 'float32' | 'uint16' | 'uint8' = 'float32'): Float32Array | Uint16Array | Uint8Array | null {
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  const nky = ky.length;
  const ringRows = Math.min(nky, height); // rows y − ry … y + ry, clamped, are distinct modulo this
  const align = (n: number): number => Math.ceil(n / 16) * 16;
  const kxOff = 0;
  const kyOff = align(kxOff + kx.length * 8);
  const ptrOff = align(kyOff + nky * 8);
  const rowOff = align(ptrOff + nky * 4);
  const outOff = align(rowOff + (width + 2 * rx) * 8);
  const ringOff = align(outOff + width * 4);
  const rowBytes = width * 8;
  const end = ringOff + ringRows * rowBytes;
  if (end > GAUSSIAN_WASM_MAX_BYTES) return null;
  const have = m.memory.buffer.byteLength;
  if (have < end) {
    try {
      m.memory.grow(Math.ceil((end - have) / 65536));
    } catch {
      return null; // the runtime refused the memory: the JavaScript path runs
    }
  }
  const buf = m.memory.buffer;
  const f64 = new Float64Array(buf);
  const outRow = dtype === 'float32' ? new Float32Array(buf, outOff, width) : dtype === 'uint16' ? new Uint16Array(buf, outOff, width) : new Uint8Array(buf, outOff, width);
  const i32 = new Int32Array(buf, ptrOff, nky);
  f64.set(kx, kxOff / 8);
  f64.set(ky, kyOff / 8);
  const typed = ArrayBuffer.isView(data) && !(data instanceof DataView) ? (data as NumericTypedArray) : null;
  const rowIn = rowOff / 8 + rx;
  const out = dtype === 'float32' ? new Float32Array(width * height) : dtype === 'uint16' ? new Uint16Array(width * height) : new Uint8Array(width * height);
  const bytes = dtype === 'uint16' ? 2 : 1;
  const hi = dtype === 'uint16' ? 65535 : 255;
  let next = 0; // next source row to blur horizontally
  for (let y = 0; y < height; y++) {
    for (const last = Math.min(height - 1, y + ry); next <= last; next++) {
      const start = next * width;
      if (typed) f64.set(typed.subarray(start, start + width), rowIn);
      else for (let x = 0; x < width; x++) f64[rowIn + x] = data[start + x];
      m.hpass(rowOff, width, rx, kxOff, kx.length, ringOff + (next % ringRows) * rowBytes);
    }
    for (let k = 0; k < nky; k++) {
      const sy = Math.min(height - 1, Math.max(0, y + k - ry));
      i32[k] = ringOff + (sy % ringRows) * rowBytes;
    }
    if (dtype === 'float32') m.vpass(ptrOff, nky, kyOff, outOff, width);
    else m.vpassInt(ptrOff, nky, kyOff, outOff, width, bytes, hi);
    out.set(outRow, y * width);
  }
  if (buf.byteLength > KEEP_BYTES) wasmKernels = undefined;
  return out;
}
