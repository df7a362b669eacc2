/**
 * Stack registration benchmark: Focal's stackreg against Debian's elastix on the same
 * synthetic 100 × 512² stacks with known per-slice transforms (rigid, then affine) and
 * Gaussian noise. Every slice is registered to slice 0; error = mean distance of the four
 * corners between the found and the true transform. elastix registers pairs, so it runs once
 * per slice (fixed = slice 0) with the parameter files in bench/elastix/. Writes the section
 * between <!-- bench:stackreg --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/registration-stackreg.js [--slices N] [--size PX] [--no-elastix] [--no-docs]
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { alignSlices } from '../plugins/stackreg/align.js';
import { blobScene, renderScene } from '../plugins/stackreg/synthetic.js';
import { cornerError, invert, type Affine } from '../plugins/stackreg/affine.js';
import { warpPlane } from '../plugins/stackreg/warp.js';
import type { TransformType } from '../plugins/stackreg/register.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';
import { mulberry32 } from '../core/index.js';

const run = promisify(execFile);
const TOPIC = 'stackreg';
const MARK = `bench:${TOPIC}`;

export interface StackregBenchOptions {
  slices?: number;
  sizePx?: number;
  noiseSigma?: number;
  /** Run elastix (default true when /usr/bin/elastix or `elastix` exists). */
  elastix?: boolean;
  /** Threads given to elastix (default 1: both tools single-threaded). */
  elastixThreads?: number;
  docsPath?: string;
  writeDocs?: boolean;
  log?: (message: string) => void;
}

export interface ToolResult {
  seconds: number;
  meanErrorPx: number;
  maxErrorPx: number;
}

export interface CaseResult {
  transform: TransformType;
  stackreg: ToolResult & { resampleSeconds: number };
  elastix?: ToolResult;
}

export interface StackregBenchResult {
  date: string;
  machine: MachineInfo;
  slices: number;
  sizePx: number;
  noiseSigma: number;
  elastixVersion?: string;
  elastixThreads: number;
  cases: CaseResult[];
  markdown: string;
}

/** Known per-slice transforms (slice-0 frame → slice i); slice 0 is the identity. */
function truths(kind: 'rigid' | 'affine', n: number, size: number, seed: number): Affine[] {
  const rand = mulberry32(seed);
  const u = (a: number) => (2 * rand() - 1) * a;
  const c = (size - 1) / 2;
  return Array.from({ length: n }, (_, i) => {
    if (i === 0) return [1, 0, 0, 0, 1, 0] as Affine;
    const th = u(0.05); // ±2.9°
    const [co, si] = [Math.cos(th), Math.sin(th)];
    let A = [co, -si, si, co];
    if (kind === 'affine') {
      const [sx, sy, sh] = [1 + u(0.04), 1 + u(0.04), u(0.03)];
      A = [A[0] * sx + A[1] * sh, A[1] * sy, A[2] * sx + A[3] * sh, A[3] * sy];
    }
    const [tx, ty] = [u(6), u(6)];
    return [A[0], A[1], c - A[0] * c - A[1] * c + tx, A[2], A[3], c - A[2] * c - A[3] * c + ty] as Affine;
  });
}

async function writeMhd(dir: string, name: string, data: Float32Array, size: number): Promise<string> {
  await writeFile(join(dir, `${name}.raw`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const mhd = join(dir, `${name}.mhd`);
  await writeFile(mhd, `ObjectType = Image\nNDims = 2\nBinaryData = True\nBinaryDataByteOrderMSB = False\nDimSize = ${size} ${size}\nElementSpacing = 1 1\nOffset = 0 0\nElementType = MET_FLOAT\nElementDataFile = ${name}.raw\n`);
  return mhd;
}

/** The 2×3 matrix (fixed/reference point → moving point, px) from elastix's TransformParameters.0.txt. */
export function parseElastixTransform(text: string): Affine {
  const nums = (key: string): number[] => {
    const m = new RegExp(`\\(${key} ([^)]*)\\)`).exec(text);
    if (!m) throw new Error(`elastix result lacks ${key}`);
    return m[1].trim().split(/\s+/).map(Number);
  };
  const kind = /\(Transform "(\w+)"\)/.exec(text)?.[1];
  const p = nums('TransformParameters');
  const [cx, cy] = nums('CenterOfRotationPoint');
  let A: number[];
  let t: number[];
  if (kind === 'EulerTransform') {
    A = [Math.cos(p[0]), -Math.sin(p[0]), Math.sin(p[0]), Math.cos(p[0])];
    t = [p[1], p[2]];
  } else if (kind === 'AffineTransform') {
    A = p.slice(0, 4);
    t = p.slice(4, 6);
  } else throw new Error(`unexpected elastix transform ${kind}`);
  // T(x) = A (x − c) + c + t
  return [A[0], A[1], cx + t[0] - A[0] * cx - A[1] * cy, A[2], A[3], cy + t[1] - A[2] * cx - A[3] * cy];
}

function errors(found: Affine[], truth: Affine[], size: number): { mean: number; max: number } {
  const e = found.slice(1).map((m, i) => cornerError(m, truth[i + 1], size, size));
  return { mean: e.reduce((a, b) => a + b, 0) / e.length, max: Math.max(...e) };
}

const fmt = (x: number, d = 3): string => x.toFixed(d);

function markdown(r: StackregBenchResult): string {
  const lines = [
    `<!-- ${MARK} -->`,
    '## Stack registration: stackreg vs elastix (bench/registration-stackreg.ts)',
    '',
    `Synthetic stacks of ${r.slices} slices of ${r.sizePx} × ${r.sizePx} float32 px (a sum of Gaussian blobs sampled analytically through a known transform per slice, plus Gaussian noise σ = ${r.noiseSigma} on a signal of 10–110): rigid drifts (rotation ±2.9°, translation ±6 px) and affine ones (plus scale ±4 %, shear ±3 %). Every slice is registered to slice 0. Error = mean distance of the four image corners between found and true transform (px), averaged over slices 1…${r.slices - 1}.`,
    '',
    `stackreg: \`alignSlices\` (reference first), registration time; resampling all slices afterwards is listed apart. elastix ${r.elastixVersion ?? '(not run)'}: one \`elastix -f slice0 -m slice_i -threads ${r.elastixThreads}\` per slice with bench/elastix/rigid.txt or affine.txt (AdvancedMeanSquares, 4 resolutions, 250 ASGD iterations, 2048 random samples, WriteResultImage false); time includes process start and reading the two .mhd files (written beforehand, not timed). Both run single-threaded.`,
    '',
    `Machine: ${describeMachine(r.machine)}. Date: ${r.date}. Load average at start ${formatLoad(r.machine.load)}: measured while other jobs shared the machine, so times are upper bounds.`,
    '',
    '| transform | tool | time (s) | per slice (ms) | mean corner error (px) | max corner error (px) |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const per = (s: number) => fmt((1000 * s) / (r.slices - 1), 0);
  for (const c of r.cases) {
    lines.push(`| ${c.transform} | Focal stackreg | ${fmt(c.stackreg.seconds, 2)} | ${per(c.stackreg.seconds)} | ${fmt(c.stackreg.meanErrorPx, 4)} | ${fmt(c.stackreg.maxErrorPx, 4)} |`);
    if (c.elastix) lines.push(`| ${c.transform} | elastix | ${fmt(c.elastix.seconds, 2)} | ${per(c.elastix.seconds)} | ${fmt(c.elastix.meanErrorPx, 4)} | ${fmt(c.elastix.maxErrorPx, 4)} |`);
  }
  lines.push('');
  for (const c of r.cases) {
    const resample = `resampling the ${r.slices} slices with the found transforms (cubic B-spline, clamped): ${fmt(c.stackreg.resampleSeconds, 2)} s`;
    if (c.elastix) {
      lines.push(`- ${c.transform}: stackreg is ${fmt(c.elastix.seconds / c.stackreg.seconds, 1)}× faster than elastix; error ratio stackreg / elastix = ${fmt(c.stackreg.meanErrorPx / c.elastix.meanErrorPx, 2)} (below 1 = stackreg more accurate); ${resample}.`);
    } else lines.push(`- ${c.transform}: elastix not run; ${resample}.`);
  }
  lines.push('', 'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/registration-stackreg.js`', `<!-- /${MARK} -->`);
  return lines.join('\n');
}

function paramFile(name: string): string {
  // bench/elastix/ beside the sources (dist/bench/… → ../../bench/elastix)
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, 'elastix'), join(here, '..', '..', 'bench', 'elastix'), join(process.cwd(), 'bench', 'elastix')]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`cannot find bench/elastix/${name}`);
}

export async function runStackregBench(options: StackregBenchOptions = {}): Promise<StackregBenchResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const n = options.slices ?? 100;
  const size = options.sizePx ?? 512;
  const noiseSigma = options.noiseSigma ?? 2;
  const threads = options.elastixThreads ?? 1;
  let elastixVersion: string | undefined;
  if (options.elastix ?? true) {
    try {
      elastixVersion = (await run('elastix', ['--version'])).stdout.trim().replace(/^elastix version:\s*/, '');
    } catch {
      log('elastix not found: comparison skipped');
    }
  }
  const machine = machineInfo();
  const scene = blobScene(size, size, { seed: 2026 });
  const work = await mkdtemp(join(tmpdir(), 'focal-stackreg-bench-'));
  const cases: CaseResult[] = [];
  try {
    for (const [k, kind] of (['rigid', 'affine'] as const).entries()) {
      const truth = truths(kind, n, size, 77 + k);
      log(`${kind}: rendering ${n} slices of ${size}²`);
      const slices = truth.map((t, i) => renderScene(scene, size, size, invert(t), { noiseSigma, seed: 1000 * (k + 1) + i }));
      log(`${kind}: stackreg`);
      let t0 = performance.now();
      const found = alignSlices(slices, size, size, { transform: kind, reference: 'first' });
      const regSeconds = (performance.now() - t0) / 1000;
      t0 = performance.now();
      for (let i = 0; i < n; i++) warpPlane(slices[i], size, size, found[i]);
      const resampleSeconds = (performance.now() - t0) / 1000;
      const se = errors(found, truth, size);
      log(`  ${regSeconds.toFixed(2)} s, mean corner error ${se.mean.toFixed(4)} px`);
      const c: CaseResult = { transform: kind, stackreg: { seconds: regSeconds, meanErrorPx: se.mean, maxErrorPx: se.max, resampleSeconds } };
      if (elastixVersion) {
        log(`${kind}: elastix (${n - 1} pairs)`);
        const dir = join(work, kind);
        await mkdir(dir, { recursive: true });
        const files: string[] = [];
        for (let i = 0; i < n; i++) files.push(await writeMhd(dir, `s${i}`, slices[i], size));
        const params = paramFile(`${kind}.txt`);
        const ex: Affine[] = [[1, 0, 0, 0, 1, 0]];
        let seconds = 0;
        for (let i = 1; i < n; i++) {
          const out = join(dir, `out${i}`);
          await mkdir(out);
          const t = performance.now();
          await run('elastix', ['-f', files[0], '-m', files[i], '-p', params, '-out', out, '-threads', String(threads)], { maxBuffer: 64 << 20 });
          seconds += (performance.now() - t) / 1000;
          ex.push(parseElastixTransform(await readFile(join(out, 'TransformParameters.0.txt'), 'utf8')));
        }
        const ee = errors(ex, truth, size);
        log(`  ${seconds.toFixed(2)} s, mean corner error ${ee.mean.toFixed(4)} px`);
        c.elastix = { seconds, meanErrorPx: ee.mean, maxErrorPx: ee.max };
      }
      cases.push(c);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const result: StackregBenchResult = {
    date: isoDate(),
    machine,
    slices: n,
    sizePx: size,
    noiseSigma,
    elastixVersion,
    elastixThreads: threads,
    cases,
    markdown: '',
  };
  result.markdown = markdown(result);
  await writeBenchDocs(options, TOPIC, result.markdown, log);
  return result;
}

if (isMain(import.meta.url)) {
  runBenchMain((a) => runStackregBench({ slices: a.number('--slices'), sizePx: a.number('--size'), elastix: !a.has('--no-elastix'), writeDocs: !a.has('--no-docs') }), (r) => r.markdown);
}
