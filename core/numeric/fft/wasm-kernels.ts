/**
 * Pointwise kernels for the PFFFT backend, as a tiny WebAssembly SIMD module assembled
 * here byte by byte (no toolchain needed). It imports PFFFT's memory, so the kernels work
 * on the FFT buffers in place; JavaScript loops over typed arrays cost several times more
 * per element (measured: docs/deconvolution.md, "Performance").
 *
 * Functions (byte addresses in the shared memory; float32; n a multiple of 4, complex
 * counts a multiple of 2):
 *   cmul(p, h, count, conj): p[j] ← p[j] · h[j] (conj(h[j]) when conj ≠ 0) for `count`
 *     interleaved complex values
 *   ratio(row, obs, n): row[i] ← obs[i] / c with c = row[i] + 1e-12, 0 where c ≤ 0
 *   mul(dst, src, n): dst[i] ← dst[i] · src[i]
 *   clamp0(p, n): p[i] ← p[i] < 0 ? 0 : p[i]
 *   cmulSplit(p, h, count, conj): the same in PFFFT's unordered layout (4 re, 4 im per 32 bytes)
 *   gather8 / scatter8: 8 spectrum columns between the rows and a contiguous panel
 */

/** The few WebAssembly JS-API types used here (the project's TypeScript libs lack them). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;
const simd = (code: number) => [0xfd, ...uleb(code)];
const f32Bytes = (values: number[]) => [...new Uint8Array(new Float32Array(values).buffer)];
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  geU: [0x4f],
  eqz: [0x45],
  select: [0x1b],
  load: [...simd(0x00), 0x04, 0x00],
  store: [...simd(0x0b), 0x04, 0x00],
  v128: (values: number[]) => [...simd(0x0c), ...f32Bytes(values)],
  shuffle: (lanes: number[]) => [...simd(0x0d), ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])],
  and: simd(0x4e),
  gt: simd(0x44),
  fadd: simd(0xe4),
  fmul: simd(0xe6),
  fdiv: simd(0xe7),
  pmax: simd(0xeb),
  mul32: [0x6c],
  f64load: (offset: number) => [0x2b, 0x03, ...uleb(offset)],
  f64store: (offset: number) => [0x39, 0x03, ...uleb(offset)],
};

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}
function name(s: string): number[] {
  const b = [...new TextEncoder().encode(s)];
  return [...uleb(b.length), ...b];
}

/** A loop over i = 0, 16, … < end (bytes), advancing the byte pointers `ptrs` by 16 after each `body`. */
function loop16(end: number, i: number, ptrs: number[], body: number[]): number[] {
  return [
    ...op.i32(0), ...op.set(i),
    ...op.block, ...op.loop,
    ...op.get(i), ...op.get(end), ...op.geU, ...op.brIf(1),
    ...body,
    ...ptrs.flatMap((p) => [...op.get(p), ...op.i32(16), ...op.add, ...op.set(p)]),
    ...op.get(i), ...op.i32(16), ...op.add, ...op.set(i),
    ...op.br(0),
    ...op.end, ...op.end,
  ];
}

/** n floats → bytes in local `to`: n·4. */
const bytesOf = (n: number, to: number) => [...op.get(n), ...op.i32(2), 0x74 /* i32.shl */, ...op.set(to)];

/** A function body: locals (after the parameters) and code. */
function func(_params: number, i32Locals: number, v128Locals: number, code: number[]): number[] {
  const groups: number[][] = [];
  if (i32Locals) groups.push([...uleb(i32Locals), I32]);
  if (v128Locals) groups.push([...uleb(v128Locals), V128]);
  const body = [...vec(groups), ...code, ...op.end];
  return [...uleb(body.length), ...body];
}

/** cmul(p, h, count, conj): locals 4 end, 5 i, v128 6 sign, 7 a, 8 b */
function cmulBody(): number[] {
  const [p, h, count, conj, end, i, sign, a, b] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return func(4, 2, 3, [
    // bytes = count · 8
    ...op.get(count), ...op.i32(3), 0x74, ...op.set(end),
    // sign = conj ? (1, −1, 1, −1) : (1, 1, 1, 1)
    ...op.v128([1, -1, 1, -1]), ...op.v128([1, 1, 1, 1]), ...op.get(conj), ...op.select,
    ...op.set(sign),
    ...loop16(end, i, [p, h], [
      ...op.get(p), ...op.load, ...op.set(a),
      ...op.get(h), ...op.load, ...op.get(sign), ...op.fmul, ...op.set(b),
      // (ar ar) · (br bi) + (ai ai) · (−bi br)
      ...op.get(p),
      ...op.get(a), ...op.get(a), ...op.shuffle([0, 0, 2, 2]), ...op.get(b), ...op.fmul,
      ...op.get(a), ...op.get(a), ...op.shuffle([1, 1, 3, 3]),
      ...op.get(b), ...op.get(b), ...op.shuffle([1, 0, 3, 2]), ...op.v128([-1, 1, -1, 1]), ...op.fmul,
      ...op.fmul, ...op.fadd,
      ...op.store,
    ]),
  ]);
}

/**
 * cmulSplit(p, h, count, conj): the same product for PFFFT's unordered complex layout, in
 * which each 32 bytes hold 4 real parts then their 4 imaginary parts. Locals: 4 end, 5 i,
 * v128 6 sign, 7 ar, 8 ai, 9 br, 10 bi.
 */
function cmulSplitBody(): number[] {
  const [p, h, count, conj, end, i, sign, ar, ai, br, bi] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const load16 = [...simd(0x00), 0x04, 0x10];
  const store16 = [...simd(0x0b), 0x04, 0x10];
  // a loop over 32-byte blocks
  return func(4, 2, 5, [
    ...op.get(count), ...op.i32(3), 0x74, ...op.set(end),
    ...op.v128([-1, -1, -1, -1]), ...op.v128([1, 1, 1, 1]), ...op.get(conj), ...op.select, ...op.set(sign),
    ...op.i32(0), ...op.set(i),
    ...op.block, ...op.loop,
    ...op.get(i), ...op.get(end), ...op.geU, ...op.brIf(1),
    ...op.get(p), ...op.load, ...op.set(ar),
    ...op.get(p), ...load16, ...op.set(ai),
    ...op.get(h), ...op.load, ...op.set(br),
    ...op.get(h), ...load16, ...op.get(sign), ...op.fmul, ...op.set(bi),
    // re = ar·br − ai·bi, im = ar·bi + ai·br
    ...op.get(p), ...op.get(ar), ...op.get(br), ...op.fmul, ...op.get(ai), ...op.get(bi), ...op.fmul, ...simd(0xe5) /* f32x4.sub */, ...op.store,
    ...op.get(p), ...op.get(ar), ...op.get(bi), ...op.fmul, ...op.get(ai), ...op.get(br), ...op.fmul, ...op.fadd, ...store16,
    ...op.get(p), ...op.i32(32), ...op.add, ...op.set(p),
    ...op.get(h), ...op.i32(32), ...op.add, ...op.set(h),
    ...op.get(i), ...op.i32(32), ...op.add, ...op.set(i),
    ...op.br(0),
    ...op.end, ...op.end,
  ]);
}

/** ratio(row, obs, n): locals 3 end, 4 i, v128 5 c */
function ratioBody(): number[] {
  const [row, obs, n, end, i, c] = [0, 1, 2, 3, 4, 5];
  return func(3, 2, 1, [
    ...bytesOf(n, end),
    ...loop16(end, i, [row, obs], [
      ...op.get(row), ...op.load, ...op.v128([1e-12, 1e-12, 1e-12, 1e-12]), ...op.fadd, ...op.set(c),
      ...op.get(row),
      ...op.get(obs), ...op.load, ...op.get(c), ...op.fdiv,
      ...op.get(c), ...op.v128([0, 0, 0, 0]), ...op.gt, ...op.and,
      ...op.store,
    ]),
  ]);
}

/** mul(dst, src, n): locals 3 end, 4 i */
function mulBody(): number[] {
  const [dst, src, n, end, i] = [0, 1, 2, 3, 4];
  return func(3, 2, 0, [
    ...bytesOf(n, end),
    ...loop16(end, i, [dst, src], [
      ...op.get(dst), ...op.get(dst), ...op.load, ...op.get(src), ...op.load, ...op.fmul, ...op.store,
    ]),
  ]);
}

/** clamp0(p, n): locals 2 end, 3 i; pmax(v, 0) = v < 0 ? 0 : v */
function clampBody(): number[] {
  const [p, n, end, i] = [0, 1, 2, 3];
  return func(2, 2, 0, [
    ...bytesOf(n, end),
    ...loop16(end, i, [p], [
      ...op.get(p), ...op.get(p), ...op.load, ...op.v128([0, 0, 0, 0]), ...op.pmax, ...op.store,
    ]),
  ]);
}

/**
 * Panel gather/scatter between the row-major half spectrum (rows × stride complex values,
 * 8 bytes each) and 8 contiguous columns of `colStride` values: gather8(src, dst, rows,
 * stride, colStride) copies src[y·stride + p] → dst[p·colStride + y] for p < 8; scatter8
 * the reverse (its src is the panel, dst the rows). Locals: 5 y, 6 rowPtr, 7 colPtr, 8 t,
 * 9 rowStep, 10 colStep.
 */
function panelBody(scatter: boolean): number[] {
  const [rowsBase, panelBase, rows, stride, colStride, y, rp, cp, t, rowStep, colStep] = scatter
    ? [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    : [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const lanes: number[] = [];
  for (let p = 0; p < 8; p++) {
    if (scatter) lanes.push(...op.get(rp), ...op.get(t), ...op.f64load(0), ...op.f64store(8 * p));
    else lanes.push(...op.get(t), ...op.get(rp), ...op.f64load(8 * p), ...op.f64store(0));
    lanes.push(...op.get(t), ...op.get(colStep), ...op.add, ...op.set(t));
  }
  return func(5, 6, 0, [
    ...op.get(stride), ...op.i32(3), 0x74, ...op.set(rowStep),
    ...op.get(colStride), ...op.i32(3), 0x74, ...op.set(colStep),
    ...op.get(rowsBase), ...op.set(rp),
    ...op.get(panelBase), ...op.set(cp),
    ...op.i32(0), ...op.set(y),
    ...op.block, ...op.loop,
    ...op.get(y), ...op.get(rows), ...op.geU, ...op.brIf(1),
    ...op.get(cp), ...op.set(t),
    ...lanes,
    ...op.get(rp), ...op.get(rowStep), ...op.add, ...op.set(rp),
    ...op.get(cp), ...op.i32(8), ...op.add, ...op.set(cp),
    ...op.get(y), ...op.i32(1), ...op.add, ...op.set(y),
    ...op.br(0),
    ...op.end, ...op.end,
  ]);
}

/** The module's bytes. */
export function kernelModuleBytes(): Uint8Array {
  const type = (n: number) => [0x60, ...vec(Array.from({ length: n }, () => [I32])), ...vec([])];
  const names = ['cmul', 'ratio', 'mul', 'clamp0', 'gather8', 'scatter8', 'cmulSplit'];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // types: 0 = 4 × i32 → (), 1 = 3 × i32 → (), 2 = 2 × i32 → (), 3 = 5 × i32 → ()
    ...section(1, vec([type(4), type(3), type(2), type(5)])),
    // import env.memory, limits min 0, no max
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec([uleb(0), uleb(1), uleb(1), uleb(2), uleb(3), uleb(3), uleb(0)])),
    ...section(7, vec(names.map((n, i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(10, vec([cmulBody(), ratioBody(), mulBody(), clampBody(), panelBody(false), panelBody(true), cmulSplitBody()])),
  ];
  return new Uint8Array(bytes);
}

export interface Kernels {
  cmul(p: number, h: number, count: number, conj: number): void;
  ratio(row: number, obs: number, n: number): void;
  mul(dst: number, src: number, n: number): void;
  clamp0(p: number, n: number): void;
  cmulSplit(p: number, h: number, count: number, conj: number): void;
  gather8(rows: number, panel: number, count: number, stride: number, colStride: number): void;
  scatter8(panel: number, rows: number, count: number, stride: number, colStride: number): void;
}

/** Instantiates the kernels on a memory (synchronously; the module is about 1.2 kB). */
export function createKernels(memory: WasmMemory): Kernels {
  const module = new wasmApi.Module(kernelModuleBytes());
  const instance = new wasmApi.Instance(module, { env: { memory } });
  return instance.exports as unknown as Kernels;
}
