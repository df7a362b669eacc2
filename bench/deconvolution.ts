/**
 * Deconvolution benchmark: Focal's Richardson–Lucy and Landweber (100 iterations) against
 * scikit-image's `richardson_lucy` (Debian python3-skimage) on the same synthetic
 * 512² and 1024² images with a 65 × 65 Born & Wolf PSF, on the same machine in the same run.
 * scikit-image is timed inside Python around the `richardson_lucy` call only (start-up and
 * file reading excluded), once with float32 input (it then computes in float32) and once
 * with float64 input; Focal is timed in-process around `richardsonLucy` / `landweber`
 * (float32 FFTs by PFFFT and float32 pointwise steps in WebAssembly SIMD, one thread).
 * At 512², Focal's `boundary: 'zero'` run
 * is also compared pixel by pixel with scikit-image's float64 result (same algorithm).
 * At 1024² and above, Focal RL also runs on a worker pool (`richardsonLucyInWorkers`, one
 * strip per worker, `--workers N`, default 2, 0 = skip) next to the single-thread run.
 * Writes the section between <!-- bench:deconvolution --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/deconvolution.js [--iterations N] [--sizes 512,1024] [--repeat 2] [--workers 2] [--no-docs]
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createWorkerPool, mulberry32 } from '../core/index.js';
import { bornWolfPsf } from '../core/imaging.js';
import { landweber, richardsonLucy } from '../plugins/deconvolution/deconvolve.js';
import { richardsonLucyInWorkers } from '../plugins/deconvolution/parallel.js';

const exec = promisify(execFile);

export interface DeconvolutionBenchOptions {
  iterations?: number;
  sizes?: number[];
  psfSizePx?: number;
  /** Runs of every timed call; the minimum wall and the minimum CPU time are reported (default 2). */
  repeat?: number;
  /** Worker threads for the RL-on-workers row at sizes ≥ 1024 (default 2; 0 = skip). */
  workers?: number;
  docsPath?: string;
  writeDocs?: boolean;
  python?: string;
  log?: (message: string) => void;
}

export interface DeconvolutionBenchRow {
  size: number;
  box: [number, number, number];
  focalRlS: number;
  focalLandweberS: number;
  skimageF32S?: number;
  skimageF64S?: number;
  /** CPU seconds (user + system) of the same runs */
  focalRlCpuS: number;
  focalLandweberCpuS: number;
  skimageF32CpuS?: number;
  skimageF64CpuS?: number;
  /** max |Focal(zero boundary) − scikit-image(float64)| / max, at the first size only */
  agreement?: number;
  /** RL on the worker pool (sizes ≥ 1024): workers, strips, wall and CPU seconds (CPU of all threads) */
  workers?: { threads: number; strips: number; wallS: number; cpuS: number; agreement: number };
}

export interface DeconvolutionBenchResult {
  date: string;
  machine: { cpu: string; cores: number; ramGiB: number; node: string; os: string; load: string };
  iterations: number;
  psfSizePx: number;
  rows: DeconvolutionBenchRow[];
  markdown: string;
}

const rng = mulberry32;

/** A synthetic defocused nuclei image: blobs (one per ~900 px²) on a background of 30, Poisson-like noise. */
export function syntheticCells(size: number, seed = 3): Float32Array {
  const r = rng(seed);
  const img = new Float32Array(size * size).fill(30);
  const count = Math.round((size * size) / 900);
  for (let k = 0; k < count; k++) {
    const cx = r() * size;
    const cy = r() * size;
    const rad = 3 + r() * 6;
    const amp = 200 + r() * 600;
    const x0 = Math.max(0, Math.floor(cx - rad));
    const x1 = Math.min(size - 1, Math.ceil(cx + rad));
    const y0 = Math.max(0, Math.floor(cy - rad));
    const y1 = Math.min(size - 1, Math.ceil(cy + rad));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d = Math.hypot(x - cx, y - cy) / rad;
        if (d < 1) img[y * size + x] += amp * (1 - 0.5 * d * d);
      }
    }
  }
  for (let i = 0; i < img.length; i++) img[i] = Math.max(0, img[i] + Math.sqrt(img[i]) * (r() + r() + r() - 1.5) * 2);
  return img;
}

const PYTHON_SCRIPT = `
import json, sys, time
import numpy as np
import skimage
from skimage.restoration import richardson_lucy
img_path, psf_path, n, k, iters, out_path, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
img = np.fromfile(img_path, dtype='<f4').reshape(n, n)
psf = np.fromfile(psf_path, dtype='<f4').reshape(k, k)
res = {'skimage': skimage.__version__}
def timed(a, p):
    best = (float('inf'), float('inf'), None)
    for _ in range(reps):
        t = time.perf_counter(); c = time.process_time(); out = richardson_lucy(a, p, iters, clip=False)
        best = (min(best[0], time.perf_counter() - t), min(best[1], time.process_time() - c), out)
    return best
res['f32'], res['f32cpu'], _ = timed(img, psf)
img64 = img.astype(np.float64); psf64 = psf.astype(np.float64)
res['f64'], res['f64cpu'], out = timed(img64, psf64)
if out_path != '-':
    out.astype('<f8').tofile(out_path)
print(json.dumps(res))
`;

function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function machine(): DeconvolutionBenchResult['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${osType()} ${release()}`,
    load: loadavg().map((v) => v.toFixed(2)).join(' '),
  };
}

/** The docs/benchmarks.md section for a run. */
export function renderDeconvolutionMarkdown(r: {
  iterations: number;
  k: number;
  skimageVersion: string;
  rows: DeconvolutionBenchRow[];
  machine: DeconvolutionBenchResult['machine'];
  date: string;
  loadStart: string;
  repeat: number;
}): string {
  const { iterations, k, skimageVersion, rows, machine: m, date, loadStart, repeat } = r;
  const fmt = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(2));
  const ratio = (a: number | undefined, b: number) => (a === undefined ? '—' : `${(a / b).toFixed(2)}×`);
  const table = rows
    .map((x) => `| ${x.size}² | ${x.box[0]}×${x.box[1]} | ${fmt(x.focalRlS)} (${fmt(x.focalRlCpuS)}) | ${fmt(x.focalLandweberS)} (${fmt(x.focalLandweberCpuS)}) | ${fmt(x.skimageF32S)} (${fmt(x.skimageF32CpuS)}) | ${fmt(x.skimageF64S)} (${fmt(x.skimageF64CpuS)}) | ${ratio(x.skimageF32S, x.focalRlS)} (${ratio(x.skimageF32CpuS, x.focalRlCpuS)}) | ${ratio(x.skimageF64S, x.focalRlS)} (${ratio(x.skimageF64CpuS, x.focalRlCpuS)}) |`)
    .join('\n');
  const agree = rows.find((x) => x.agreement !== undefined);
  const parallel = rows.filter((x) => x.workers);
  const workersTable = parallel.length
    ? `### Richardson–Lucy on worker threads

The same RL run (${iterations} iterations) cut into horizontal strips deconvolved in parallel on a worker pool
(\`richardsonLucyInWorkers\`, piscina; strips overlap by 2·(${k} − 1) px on each side of a seam), next to the
single-thread run above. CPU seconds are those of the whole process (all threads); the first of the runs
includes starting the workers. Speed-up = single-thread wall / workers wall; CPU ratio = workers CPU / single-thread CPU
(the extra work of the overlaps and the start-up).

| image | workers | strips | Focal RL, 1 thread | Focal RL, workers | speed-up (wall) | CPU ratio | max \\|Δ\\| / max |
|---|---|---|---|---|---|---|---|
${parallel.map((x) => `| ${x.size}² | ${x.workers!.threads} | ${x.workers!.strips} | ${fmt(x.focalRlS)} (${fmt(x.focalRlCpuS)}) | ${fmt(x.workers!.wallS)} (${fmt(x.workers!.cpuS)}) | ${(x.focalRlS / x.workers!.wallS).toFixed(2)}× | ${(x.workers!.cpuS / x.focalRlCpuS).toFixed(2)}× | ${x.workers!.agreement.toExponential(1)} |`).join('\n')}
`
    : '';
  const big = rows.find((x) => x.size === 1024) ?? rows.at(-1);
  let goal = '';
  if (big && big.skimageF32S !== undefined && big.skimageF64S !== undefined) {
    const w32 = big.skimageF32S / big.focalRlS;
    const c32 = big.skimageF32CpuS! / big.focalRlCpuS;
    const w64 = big.skimageF64S / big.focalRlS;
    const c64 = big.skimageF64CpuS! / big.focalRlCpuS;
    const verdict = (w: number, c: number) =>
      w >= 2 && c >= 2 ? `met by wall (${w.toFixed(2)}×) and CPU time (${c.toFixed(2)}×)` : `${w >= 2 ? 'met' : 'not met'} by wall (${w.toFixed(2)}×), ${c >= 2 ? 'met' : 'not met'} by CPU time (${c.toFixed(2)}×)`;
    goal = `Goal (RL at least 2× faster than scikit-image at ${big.size}²): against float32 input (scikit-image then computes in float32) ${verdict(w32, c32)}; against float64 input (what a numpy float64 array gets) ${verdict(w64, c64)}.`;
  }
  return `<!-- bench:deconvolution -->
## Deconvolution: Richardson–Lucy and Landweber vs scikit-image

${iterations} iterations, ${k}×${k} Born & Wolf PSF (NA 0.75, λ 0.53 µm, 0.325 µm px, 3 µm defocus), synthetic
noisy nuclei images, single thread, wall-clock seconds with CPU seconds in brackets (minimum of ${repeat} runs each). Focal:
\`richardsonLucy\` / \`landweber\` (default \`reflect-taper\` boundary; 2D FFTs by PFFFT compiled to WebAssembly
with SIMD, float32, pointwise steps in a small WebAssembly SIMD module of Focal's, one fused pass per RL
iteration, see docs/deconvolution.md; float32 state; FFT box = image + 2·(${k} − 1) px rounded up to a PFFFT size). scikit-image ${skimageVersion}: \`richardson_lucy(image, psf, ${iterations}, clip=False)\` (scipy
\`convolve(mode='same')\`, which picks FFT convolution and transforms the PSF again in every iteration), timed
inside Python around the call only, with float32 input (computes in float32) and with float64 input.
Ratio = scikit-image time / Focal RL time (> 1: Focal faster), wall (CPU).

| image | Focal FFT box | Focal RL | Focal Landweber | skimage RL float32 | skimage RL float64 | ratio vs float32 | ratio vs float64 |
|---|---|---|---|---|---|---|---|
${table}

${goal}

${agree ? `Same algorithm check (${agree.size}², ${iterations} iterations): Focal with \`boundary: 'zero'\` vs scikit-image float64, max |Δ| / max = ${agree.agreement!.toExponential(1)}.` : ''}

${workersTable}
Machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, Node ${m.node}, ${m.os}; ${date.slice(0, 16).replace('T', ' ')} UTC.
Load average at start ${loadStart}, at end ${m.load}: measured while other jobs shared the machine, so
absolute times are noisy; both tools ran back to back in the same run.
Command: \`npx tsc -p tsconfig.build.json && node dist/bench/deconvolution.js\`.
<!-- /bench:deconvolution -->`;
}

export async function runDeconvolutionBench(options: DeconvolutionBenchOptions = {}): Promise<DeconvolutionBenchResult> {
  const iterations = options.iterations ?? 100;
  const repeat = options.repeat ?? 2;
  const sizes = options.sizes ?? [512, 1024];
  const k = options.psfSizePx ?? 65;
  const log = options.log ?? ((m: string) => console.log(m));
  const workerThreads = options.workers ?? 2;
  const pool = workerThreads > 0 ? createWorkerPool({ threads: workerThreads }) : undefined;
  const python = options.python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 3, sizePx: k });
  const dir = await mkdtemp(join(tmpdir(), 'focal-bench-deconv-'));
  const rows: DeconvolutionBenchRow[] = [];
  let skimageVersion = '?';
  const loadStart = machine().load;
  try {
    await writeFile(join(dir, 'script.py'), PYTHON_SCRIPT);
    await writeFile(join(dir, 'psf.f32'), Buffer.from(psf.buffer, psf.byteOffset, psf.byteLength));
    for (const [index, n] of sizes.entries()) {
      const img = syntheticCells(n);
      const dims = { width: n, height: n };
      const pd = { width: k, height: k };
      // minimum wall and minimum CPU time over `repeat` runs
      const timed = <T>(f: () => T): { result: T; wall: number; cpu: number } => {
        let result!: T;
        let wall = Infinity;
        let cpu = Infinity;
        for (let r = 0; r < repeat; r++) {
          const t = performance.now();
          const c = cpuS();
          result = f();
          wall = Math.min(wall, (performance.now() - t) / 1000);
          cpu = Math.min(cpu, cpuS() - c);
        }
        return { result, wall, cpu };
      };
      const rlRun = timed(() => richardsonLucy(img, dims, psf, pd, { iterations }));
      const rl = rlRun.result;
      const [focalRlS, focalRlCpuS] = [rlRun.wall, rlRun.cpu];
      log(`${n}²: Focal RL ${focalRlS.toFixed(2)} s (CPU ${focalRlCpuS.toFixed(2)} s, box ${rl.box.join('×')})`);
      const lwRun = timed(() => landweber(img, dims, psf, pd, { iterations }));
      const [focalLandweberS, focalLandweberCpuS] = [lwRun.wall, lwRun.cpu];
      log(`${n}²: Focal Landweber ${focalLandweberS.toFixed(2)} s (CPU ${focalLandweberCpuS.toFixed(2)} s)`);
      const row: DeconvolutionBenchRow = { size: n, box: rl.box, focalRlS, focalLandweberS, focalRlCpuS, focalLandweberCpuS };
      if (pool && n >= 1024) {
        let wallS = Infinity;
        let cpu = Infinity;
        let par!: Awaited<ReturnType<typeof richardsonLucyInWorkers>>;
        for (let r = 0; r < repeat; r++) {
          const t = performance.now();
          const c = cpuS();
          par = await richardsonLucyInWorkers(img, dims, psf, pd, { iterations, pool, strips: pool.size });
          wallS = Math.min(wallS, (performance.now() - t) / 1000);
          cpu = Math.min(cpu, cpuS() - c);
        }
        let peak = 0;
        let diff = 0;
        for (let i = 0; i < rl.image.length; i++) {
          peak = Math.max(peak, Math.abs(rl.image[i]));
          diff = Math.max(diff, Math.abs(par.image[i] - rl.image[i]));
        }
        row.workers = { threads: pool.size, strips: par.strips ?? 1, wallS, cpuS: cpu, agreement: diff / peak };
        log(`${n}²: Focal RL on ${pool.size} workers (${row.workers.strips} strips) ${wallS.toFixed(2)} s (CPU ${cpu.toFixed(2)} s): ${(focalRlS / wallS).toFixed(2)}× the single-thread wall time; max |Δ| / max = ${row.workers.agreement.toExponential(2)}`);
      }
      const imgPath = join(dir, `img${n}.f32`);
      await writeFile(imgPath, Buffer.from(img.buffer, img.byteOffset, img.byteLength));
      const outPath = index === 0 ? join(dir, `out${n}.f64`) : '-';
      try {
        const { stdout } = await exec(python, [join(dir, 'script.py'), imgPath, join(dir, 'psf.f32'), String(n), String(k), String(iterations), outPath, String(repeat)], { maxBuffer: 1 << 20 });
        const res = JSON.parse(stdout.trim().split('\n').at(-1)!) as { skimage: string; f32: number; f64: number; f32cpu: number; f64cpu: number };
        skimageVersion = res.skimage;
        row.skimageF32S = res.f32;
        row.skimageF64S = res.f64;
        row.skimageF32CpuS = res.f32cpu;
        row.skimageF64CpuS = res.f64cpu;
        log(`${n}²: scikit-image ${res.skimage} richardson_lucy float32 ${res.f32.toFixed(2)} s (CPU ${res.f32cpu.toFixed(2)}), float64 ${res.f64.toFixed(2)} s (CPU ${res.f64cpu.toFixed(2)})`);
        if (outPath !== '-') {
          const buf = await readFile(outPath);
          const ref = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
          const zero = richardsonLucy(img, dims, psf, pd, { iterations, boundary: 'zero' }).image;
          let peak = 0;
          let diff = 0;
          for (let i = 0; i < ref.length; i++) {
            peak = Math.max(peak, Math.abs(ref[i]));
            diff = Math.max(diff, Math.abs(zero[i] - ref[i]));
          }
          row.agreement = diff / peak;
          log(`${n}²: Focal (boundary zero) vs scikit-image float64: max |Δ| / max = ${row.agreement.toExponential(2)}`);
        }
      } catch (e) {
        log(`scikit-image run failed (${(e as Error).message.split('\n')[0]}); install python3-skimage`);
      }
      rows.push(row);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await pool?.destroy();
  }
  const m = machine();
  const date = new Date().toISOString();
  const markdown = renderDeconvolutionMarkdown({ iterations, k, skimageVersion, rows, machine: m, date, loadStart, repeat });
  if (options.writeDocs !== false) {
    const docsPath = options.docsPath ?? resolve(process.cwd(), 'docs', 'benchmarks.md');
    let text = existsSync(docsPath) ? await readFile(docsPath, 'utf8') : '# Benchmarks\n';
    const re = /<!-- bench:deconvolution -->[\s\S]*?<!-- \/bench:deconvolution -->/;
    text = re.test(text) ? text.replace(re, markdown) : `${text.trimEnd()}\n\n${markdown}\n`;
    await writeFile(docsPath, text);
    log(`wrote ${docsPath}`);
  }
  return { date, machine: m, iterations, psfSizePx: k, rows, markdown };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const get = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  await runDeconvolutionBench({
    iterations: get('--iterations') ? Number(get('--iterations')) : undefined,
    sizes: get('--sizes') ? get('--sizes')!.split(',').map(Number) : undefined,
    writeDocs: !args.includes('--no-docs'),
    repeat: get('--repeat') ? Number(get('--repeat')) : undefined,
    workers: get('--workers') ? Number(get('--workers')) : undefined,
  });
}
