/**
 * Gaussian blur kernel benchmark (issue 21's per-pixel gap): ns per pixel of core's
 * gaussianBlur2d on its WebAssembly SIMD kernel against the same blur in plain JavaScript
 * (gaussianBlur2dJs, the kernel before), σ = 2 px (truncate 4: 17 taps per pass), on uint16
 * tiles of 512² and 4096². Also the integer path the filter.gaussian op takes for uint16
 * images (blur rounded to uint16 in the last pass) against the JS blur + convertPlanes.
 * Each result is checked bitwise against the JS reference. Times are CPU time of this thread
 * (process.cpuUsage, user + system; the machine is shared), the median of the repetitions
 * after one warm-up call.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/gaussian.js [--reps 7] [--no-docs]
 */
import { convertPlanes, mulberry32 } from '../core/index.js';
import { gaussianBlur2dInteger, gaussianBlur2dJs, gaussianBlur2dWasm } from '../core/imaging.js';
import { benchArgs, describeMachine, formatLoad, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs, type BenchArgs } from './common.js';

const SIGMA_PX = 2;

/** CPU nanoseconds per pixel of `fn` (median of `reps` after one warm-up call). */
function nsPerPx(fn: () => unknown, pixels: number, reps: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    times.push(((c.user + c.system) * 1000) / pixels);
  }
  return median(times);
}

function sameBits(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, b: typeof a): boolean {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export async function runGaussianBench(args: BenchArgs = benchArgs()): Promise<string> {
  const reps = args.number('--reps') ?? 7;
  const sizes = args.has('--quick') ? [128, 256] : [512, 4096];
  const machine = machineInfo();
  const rows: string[] = [];
  for (const n of sizes) {
    const rand = mulberry32(n);
    const data = Uint16Array.from({ length: n * n }, () => Math.floor(rand() * 65536));
    const js = gaussianBlur2dJs(data, n, n, SIGMA_PX, SIGMA_PX);
    const wasm = gaussianBlur2dWasm(data, n, n, SIGMA_PX, SIGMA_PX);
    if (!wasm) throw new Error('WebAssembly SIMD is not available in this runtime');
    if (!sameBits(js, wasm)) throw new Error(`${n}²: the wasm blur differs from the JS reference`);
    const jsInt = convertPlanes([js], 'float32', 'uint16', { scale: 'none' })[0];
    if (!sameBits(jsInt, gaussianBlur2dInteger(data, n, n, SIGMA_PX, SIGMA_PX, 'uint16'))) throw new Error(`${n}²: the wasm uint16 blur differs from the JS reference`);
    const r = Math.max(3, n > 1024 ? Math.ceil(reps / 2) : reps);
    const px = n * n;
    const tJs = nsPerPx(() => gaussianBlur2dJs(data, n, n, SIGMA_PX, SIGMA_PX), px, r);
    const tWasm = nsPerPx(() => gaussianBlur2dWasm(data, n, n, SIGMA_PX, SIGMA_PX), px, r);
    const tJsInt = nsPerPx(() => convertPlanes([gaussianBlur2dJs(data, n, n, SIGMA_PX, SIGMA_PX)], 'float32', 'uint16', { scale: 'none' }), px, r);
    const tWasmInt = nsPerPx(() => gaussianBlur2dInteger(data, n, n, SIGMA_PX, SIGMA_PX, 'uint16'), px, r);
    rows.push(`| ${n}² | float32 | ${tJs.toFixed(1)} | ${tWasm.toFixed(1)} | ${(tJs / tWasm).toFixed(1)}× | ${r} |`);
    rows.push(`| ${n}² | uint16 (filter.gaussian's path) | ${tJsInt.toFixed(1)} | ${tWasmInt.toFixed(1)} | ${(tJsInt / tWasmInt).toFixed(1)}× | ${r} |`);
  }
  const md = [
    '## Gaussian blur kernel (bench/gaussian.ts)',
    '',
    `core's \`gaussianBlur2d\`, σ = ${SIGMA_PX} px (truncate 4: 17 taps per pass, two separable passes), uint16 input of random values: the WebAssembly SIMD kernel (core/imaging/gaussian-kernels.wat, f64x2) against the same blur in plain JavaScript (\`gaussianBlur2dJs\`). Outputs checked bitwise equal to the JS reference before timing. CPU time of the thread (user + system), ns per pixel, median of the repetitions after one warm-up call. "uint16" rows: the blur rounded to uint16 (what \`filter.gaussian\` returns for a uint16 image): wasm rounds in its last pass (\`gaussianBlur2dInteger\`), JS is the blur followed by \`convertPlanes\`.`,
    '',
    `Machine: ${describeMachine(machine)}; load average (1/5/15 min) at start ${formatLoad(machine.load)}, at the end ${formatLoad((await import('node:os')).loadavg())} (2 cores shared with other jobs). Date: ${isoDate()}.`,
    '',
    '| Tile | Output | JS (ns/px) | wasm SIMD (ns/px) | Speed-up | Reps |',
    '|---|---|---:|---:|---:|---:|',
    ...rows,
    '',
    'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/gaussian.js`',
  ].join('\n');
  await writeBenchDocs({ writeDocs: !args.has('--no-docs') }, 'gaussian', md, (m) => console.error(m));
  return md;
}

if (isMain(import.meta.url)) runBenchMain((a) => runGaussianBench(a), (md) => md);
