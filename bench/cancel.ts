/**
 * Stop-latency benchmark: how long `focal run` takes to exit after Ctrl-C (SIGINT) while a long
 * operation runs. For each long bundled pipeline (LONG_PIPELINES), bound with `--input
 * name=file` to larger synthetic inputs (makeLongInputs) so that its long node runs for
 * seconds, the built CLI is started with `--json`; once the long node has started and run for
 * `--delay-ms` (default 1000 ms), the process gets SIGINT, and the time from the signal to the
 * process's exit is measured (median of `--reps`, default 3). Each stop is also checked: exit
 * code 130, no result line, no output folder left, no stack trace. The target (issue 14) is
 * under 1 s. Each pipeline is also run once to the end (skip with `--no-full`) to show how long
 * the interrupted node would have taken.
 * Writes the section between <!-- bench:cancel --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/cancel.js [--reps N] [--delay-ms MS] [--no-full] [--no-docs]
 *
 * The inputs, the pipeline list and interruptRun are shared with test/cli-sigint.test.ts and
 * test/cancel-plugins.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, mulberry32, writeTiff } from '../core/index.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';
import { syntheticNuclei } from './cellcount.js';

// bench/cancel.ts (run by vitest) is one level below the repository root, dist/bench/cancel.js two
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), ...(import.meta.url.endsWith('.ts') ? ['..'] : ['..', '..']));
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const TOPIC = 'cancel';
/** runIsolated's default grace time (core/runtime/isolated-run.ts), which `focal run` uses. */
const GRACE_MS = 250;

// ---------------------------------------------------------------------------------------------
// synthetic inputs

/** Bright nuclei on a dark background as float32 (the cell-counting bench's synthetic nuclei, ×4: values 0…~1000). */
export function nucleiPlane(size: number, seed: number): Float32Array {
  const { data } = syntheticNuclei(size, seed);
  return Float32Array.from(data, (v) => v * 4);
}

/** Separable box blur of radius `radius` px (clamped edges), running sums: O(pixels) whatever the radius. */
export function boxBlur(src: Float32Array, size: number, radius: number): Float32Array {
  if (radius < 1) return src.slice();
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  const n = 2 * radius + 1;
  const pass = (from: Float32Array, to: Float32Array, stride: number, step: number) => {
    for (let line = 0; line < size; line++) {
      const base = line * stride;
      let sum = 0;
      for (let k = -radius; k <= radius; k++) sum += from[base + Math.min(size - 1, Math.max(0, k)) * step];
      for (let i = 0; i < size; i++) {
        to[base + i * step] = sum / n;
        sum += from[base + Math.min(size - 1, i + radius + 1) * step] - from[base + Math.max(0, i - radius) * step];
      }
    }
  };
  pass(src, tmp, size, 1); // rows
  pass(tmp, out, 1, size); // columns
  return out;
}

/** `plane` shifted by whole pixels (edge pixels repeated), scaled, plus an offset and uniform noise, as uint16. */
function toUint16(plane: Float32Array, size: number, rand: () => number, opts: { dx?: number; dy?: number; gain?: number; offset?: number; noise?: number } = {}): Uint16Array {
  const { dx = 0, dy = 0, gain = 1, offset = 100, noise = 20 } = opts;
  const out = new Uint16Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(size - 1, Math.max(0, y - dy));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(size - 1, Math.max(0, x - dx));
      const v = offset + gain * plane[sy * size + sx] + noise * rand();
      out[y * size + x] = v > 65535 ? 65535 : v;
    }
  }
  return out;
}

/** Calibration of the synthetic inputs: 0.325 µm pixels (20× on a 6.5 µm camera), 1 µm z steps. */
const CALIBRATION = { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 1 };

/**
 * Writes a synthetic uint16 fluorescence z-stack to `path`: nuclei in channel 0 (and, with
 * sizeC 2, a dimmer cytoplasm-like texture in channel 1), `sizeZ` slices 1 µm apart, in focus
 * at z index 5 (box blur growing by 2 px per µm away from it), drifting a pixel or two per
 * slice, with uniform noise. Fast to make (box blurs and integer shifts: about a second for
 * 1024² × 2 × 11), deterministic.
 */
export async function writeSyntheticZStack(path: string, options: { size: number; sizeZ: number; sizeC?: 1 | 2; seed?: number }): Promise<string> {
  const { size, sizeZ } = options;
  const sizeC = options.sizeC ?? 2;
  const seed = options.seed ?? 1;
  const focusZ = Math.min(5, sizeZ - 1);
  const rand = mulberry32(seed + 13);
  const nuclei = nucleiPlane(size, seed);
  const cyto = sizeC === 2 ? boxBlur(nucleiPlane(size, seed + 1), size, 6) : undefined;
  const planes: Uint16Array[] = [];
  for (let z = 0; z < sizeZ; z++) {
    const radius = 2 * Math.abs(z - focusZ);
    const dx = Math.round(2 * Math.sin(z * 0.9));
    const dy = Math.round(1.5 * Math.cos(z * 0.7));
    planes.push(toUint16(boxBlur(nuclei, size, radius), size, rand, { dx, dy }));
    if (cyto) planes.push(toUint16(boxBlur(cyto, size, radius), size, rand, { dx, dy, gain: 0.4 }));
  }
  const channelNames = sizeC === 2 ? ['DAPI', 'FITC'] : ['DAPI'];
  await writeTiff(path, createStack({ width: size, height: size, dtype: 'uint16', sizeC, sizeZ, planes, calibration: CALIBRATION, channelNames }));
  return path;
}

/**
 * Writes the in-focus slice of writeSyntheticZStack (same size and seed), both channels, warped
 * by a smooth sine field (largest displacement 4 px): the moving image of an elastic registration.
 */
export async function writeSyntheticDeformed(path: string, options: { size: number; seed?: number }): Promise<string> {
  const { size } = options;
  const seed = options.seed ?? 1;
  const rand = mulberry32(seed + 17);
  const warp = (src: Float32Array) => {
    const out = new Float32Array(size * size);
    const k = (2 * Math.PI) / size;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const sx = Math.min(size - 1, Math.max(0, Math.round(x + 4 * Math.sin(3 * k * y) * Math.cos(2 * k * x))));
        const sy = Math.min(size - 1, Math.max(0, Math.round(y + 3 * Math.cos(2 * k * x) * Math.sin(k * y))));
        out[y * size + x] = src[sy * size + sx];
      }
    }
    return out;
  };
  const nuclei = warp(nucleiPlane(size, seed));
  const cyto = warp(boxBlur(nucleiPlane(size, seed + 1), size, 6));
  const planes = [toUint16(nuclei, size, rand), toUint16(cyto, size, rand, { gain: 0.4 })];
  await writeTiff(path, createStack({ width: size, height: size, dtype: 'uint16', sizeC: 2, planes, calibration: CALIBRATION, channelNames: ['DAPI', 'FITC'] }));
  return path;
}

/** The synthetic input files of the long runs (makeLongInputs). */
export interface LongInputs {
  /** 1024² × 2 c × 11 z uint16 z-stack, in focus at z index 5. */
  zstack: string;
  /** Its in-focus slice, warped (1024² × 2 c). */
  deformed: string;
  /** 2048² × 1 c × 21 z uint16 z-stack (edof-fuse). */
  tallStack: string;
  /** 4096² nuclei, one plane (count-nuclei). */
  widePlane: string;
  /** 512² × 1 c × 5 z (deepr-autofocus: every plane refocused and mapped on its own). */
  series: string;
}

/** Writes the inputs of LONG_PIPELINES to `dir` (about 5 s on a 2-core machine, 270 MB). */
export async function makeLongInputs(dir: string): Promise<LongInputs> {
  return {
    zstack: await writeSyntheticZStack(join(dir, 'zstack-1024x11.tif'), { size: 1024, sizeZ: 11 }),
    deformed: await writeSyntheticDeformed(join(dir, 'deformed-1024.tif'), { size: 1024 }),
    tallStack: await writeSyntheticZStack(join(dir, 'zstack-2048x21.tif'), { size: 2048, sizeZ: 21, sizeC: 1, seed: 3 }),
    widePlane: await writeSyntheticZStack(join(dir, 'plane-4096.tif'), { size: 4096, sizeZ: 1, sizeC: 1, seed: 5 }),
    series: await writeSyntheticZStack(join(dir, 'series-512x5.tif'), { size: 512, sizeZ: 5, sizeC: 1, seed: 7 }),
  };
}

/** A bundled pipeline with a long node, and the inputs that make that node run for seconds. */
export interface LongPipeline {
  /** pipelines/<name>.json */
  name: string;
  /** `--input` bindings (none: the pipeline's bundled default input). */
  inputs(files: LongInputs): Record<string, string>;
  /** The long node(s): the signal goes when one of them has started. */
  longNodes: string[];
  /** Input description for the docs. */
  input: string;
}

export const LONG_PIPELINES: LongPipeline[] = [
  { name: 'deconvolve-rl', inputs: (f) => ({ stack: f.zstack }), longNodes: ['deconvolved'], input: '1024² × 2 c × 11 z' },
  { name: 'deconvolve-landweber', inputs: (f) => ({ stack: f.zstack }), longNodes: ['deconvolved'], input: '1024² × 2 c × 11 z' },
  { name: 'elastic-register', inputs: (f) => ({ fixed: f.zstack, moving: f.deformed }), longNodes: ['register'], input: '1024² (fixed: z-stack slice, moving: warped copy)' },
  { name: 'edof-fuse', inputs: (f) => ({ stack: f.tallStack }), longNodes: ['fuse'], input: '2048² × 1 c × 21 z' },
  { name: 'stackreg-align', inputs: (f) => ({ stack: f.zstack }), longNodes: ['align'], input: '1024² × 2 c × 11 z' },
  { name: 'prepare-autofocus-dataset', inputs: (f) => ({ stack: f.zstack }), longNodes: ['align'], input: '1024² × 2 c × 11 z' },
  { name: 'simulate-defocus', inputs: (f) => ({ stack: f.tallStack }), longNodes: ['defocus'], input: '2048² slice → 13 planes' },
  { name: 'deepr-autofocus', inputs: (f) => ({ stack: f.series }), longNodes: ['autofocus', 'defocusMap'], input: '512² × 5 planes' },
  { name: 'count-nuclei', inputs: (f) => ({ stack: f.widePlane }), longNodes: ['count'], input: '4096², one plane' },
];

/** What happened to one interrupted (or, without a signal, complete) `focal run --json`. */
export interface InterruptedRun {
  code: number | null;
  /** Set when the process was killed by a signal instead of exiting. */
  signal: NodeJS.Signals | null;
  /** stdout, one parsed JSON object per line (lines that are not JSON are dropped). */
  events: Record<string, unknown>[];
  stdout: string;
  stderr: string;
  /** The long node that had started when the signal went (undefined: no signal sent). */
  interruptedNode?: string;
  /** From the signal to the process's exit, ms. */
  stopMs?: number;
  /** From the start of the process to the signal, ms. */
  signalAtMs?: number;
  /** Whether a long node had already reported done when the signal was due (the stop then proves less). */
  longNodeDoneBeforeSignal: boolean;
  /** Whether the output folder existed after the process ended. */
  outExists: boolean;
}

export interface InterruptOptions {
  /** pipelines/<name>.json, or a path. */
  pipeline: string;
  inputs: Record<string, string>;
  out: string;
  longNodes: string[];
  /** Signal to send (default SIGINT); null: none, let the run end. */
  signal?: NodeJS.Signals | null;
  /** Wait this long after the long node's first event before signalling, ms (default 0). */
  delayMs?: number;
  /** Kill the process (SIGKILL) and fail after this long, ms (default 300 000). */
  timeoutMs?: number;
}

/**
 * Starts `focal run <pipeline> --input … --out <out> --json` (the built CLI) and, when the first
 * node-start or node-progress line of one of `longNodes` arrives (plus `delayMs`), sends it
 * `signal`; resolves when the process has exited and its output streams are closed.
 */
export function interruptRun(options: InterruptOptions): Promise<InterruptedRun> {
  const pipeline = options.pipeline.includes('/') ? options.pipeline : join(ROOT, 'pipelines', `${options.pipeline}.json`);
  const args = [BIN, 'run', pipeline, ...Object.entries(options.inputs).flatMap(([k, v]) => ['--input', `${k}=${v}`]), '--out', options.out, '--json'];
  const signal = options.signal === undefined ? 'SIGINT' : options.signal;
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Record<string, unknown>[] = [];
    let stdout = '';
    let stderr = '';
    let pending = '';
    let interruptedNode: string | undefined;
    let signalAt: number | undefined;
    let exitedAt: number | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let longNodeDoneBeforeSignal = false;
    const longDone = () => events.some((e) => e.event === 'node-done' && options.longNodes.includes(String(e.node)));
    const send = () => {
      if (exit || signalAt !== undefined || !signal) return;
      longNodeDoneBeforeSignal = longDone();
      signalAt = performance.now();
      child.kill(signal);
    };
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        events.push(e);
        if (interruptedNode === undefined && signal && (e.event === 'node-start' || e.event === 'node-progress') && options.longNodes.includes(String(e.node))) {
          interruptedNode = String(e.node);
          if (options.delayMs) setTimeout(send, options.delayMs);
          else send();
        }
      }
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`focal run ${options.pipeline} did not end within ${options.timeoutMs ?? 300_000} ms; stderr:\n${stderr}`));
    }, options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('exit', (code, sig) => {
      exitedAt = performance.now();
      exit = { code, signal: sig };
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolvePromise({
        code: exit?.code ?? null,
        signal: exit?.signal ?? null,
        events,
        stdout,
        stderr,
        interruptedNode,
        stopMs: signalAt !== undefined && exitedAt !== undefined ? exitedAt - signalAt : undefined,
        signalAtMs: signalAt !== undefined ? signalAt - started : undefined,
        longNodeDoneBeforeSignal,
        outExists: existsSync(options.out),
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// the benchmark

export interface CancelBenchOptions {
  /** Interrupted runs per pipeline (default 3). */
  repetitions?: number;
  /** Time from the long node's start to SIGINT, ms (default 1000: the operation is mid-way). */
  delayMs?: number;
  /** Also run each pipeline once to the end, for the long node's full time (default true). */
  full?: boolean;
  /** Only these pipelines (default LONG_PIPELINES). */
  pipelines?: string[];
  docsPath?: string;
  writeDocs?: boolean;
  log?: (message: string) => void;
}

export interface CancelCaseResult {
  pipeline: string;
  input: string;
  longNode: string;
  /** SIGINT → exit, ms, per run. */
  stopMs: number[];
  medianMs: number;
  /** The long node's uninterrupted time, ms (full run), when measured. */
  fullNodeMs?: number;
  /** Every run: exit 130, no result line, no output folder, no stack trace, the long node not done before the signal. */
  clean: boolean;
}

export interface CancelBenchResult {
  date: string;
  machine: MachineInfo;
  loadEnd: number[];
  delayMs: number;
  cases: CancelCaseResult[];
  markdown: string;
}

export async function runCancelBench(options: CancelBenchOptions = {}): Promise<CancelBenchResult> {
  const log = options.log ?? ((m: string) => console.log(m));
  const reps = options.repetitions ?? 3;
  const delayMs = options.delayMs ?? 1000;
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npx tsc -p tsconfig.build.json first`);
  const machine = machineInfo();
  const date = isoDate();
  const dir = await mkdtemp(join(tmpdir(), 'focal-bench-cancel-'));
  const cases: CancelCaseResult[] = [];
  try {
    log('making the inputs…');
    const files = await makeLongInputs(dir);
    const chosen = LONG_PIPELINES.filter((p) => !options.pipelines || options.pipelines.includes(p.name));
    for (const p of chosen) {
      const stopMs: number[] = [];
      let clean = true;
      let longNode = p.longNodes[0];
      for (let rep = 0; rep < reps; rep++) {
        const out = join(dir, `${p.name}-${rep}`, 'out');
        const r = await interruptRun({ pipeline: p.name, inputs: p.inputs(files), out, longNodes: p.longNodes, delayMs });
        if (r.stopMs === undefined) throw new Error(`${p.name}: no long node started; stderr:\n${r.stderr}`);
        stopMs.push(r.stopMs);
        longNode = r.interruptedNode ?? longNode;
        const ok = r.code === 130 && !r.stdout.includes('"event":"result"') && !r.outExists && !/^\s+at /m.test(r.stderr) && !r.longNodeDoneBeforeSignal;
        clean &&= ok;
        log(`  ${p.name} #${rep + 1}: SIGINT ${(r.signalAtMs! / 1000).toFixed(2)} s after start (${longNode} running), exit ${r.code} after ${r.stopMs.toFixed(0)} ms${ok ? '' : ' — NOT CLEAN'}`);
        await rm(join(dir, `${p.name}-${rep}`), { recursive: true, force: true });
      }
      let fullNodeMs: number | undefined;
      if (options.full !== false) {
        const out = join(dir, `${p.name}-full`);
        const r = await interruptRun({ pipeline: p.name, inputs: p.inputs(files), out, longNodes: p.longNodes, signal: null });
        const result = r.events.find((e) => e.event === 'result') as { timingsMs?: Record<string, number> } | undefined;
        fullNodeMs = result?.timingsMs?.[longNode];
        log(`  ${p.name}: uninterrupted, ${longNode} took ${fullNodeMs !== undefined ? `${(fullNodeMs / 1000).toFixed(1)} s` : '? (no result)'}`);
        await rm(out, { recursive: true, force: true });
      }
      cases.push({ pipeline: p.name, input: p.input, longNode, stopMs, medianMs: median(stopMs), fullNodeMs, clean });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const loadEnd = loadavg();
  const result: CancelBenchResult = { date, machine, loadEnd, delayMs, cases, markdown: '' };
  result.markdown = cancelMarkdown(result, reps);
  await writeBenchDocs(options, TOPIC, result.markdown, log, ROOT);
  return result;
}

function cancelMarkdown(r: CancelBenchResult, reps: number): string {
  const medians = r.cases.map((c) => c.medianMs);
  const worst = Math.max(...medians);
  const best = Math.min(...medians);
  const allClean = r.cases.every((c) => c.clean);
  return [
    `<!-- bench:${TOPIC} -->`,
    '## Stopping a run: Ctrl-C latency (bench/cancel.ts)',
    '',
    `The built CLI runs each long bundled pipeline (\`focal run pipelines/<name>.json --input … --out … --json\`) on synthetic inputs large enough that its long node runs for seconds (bench/cancel.ts, makeLongInputs); ${r.delayMs} ms after that node has started, the process gets SIGINT. Stop latency = from the signal to the process's exit (the run is asked to stop, its thread terminated after the 250 ms grace time if it does not, its output files and folder removed). Median of ${reps} runs. Every run was also checked: exit code 130, no result line, no output folder left, no stack trace.`,
    '',
    `Machine: ${describeMachine(r.machine)}. Date: ${r.date}. Load average at start ${formatLoad(r.machine.load, 2)}, at the end ${formatLoad(r.loadEnd, 2)}${r.machine.load[0] > r.machine.cores / 2 ? ' — measured while other jobs shared the machine' : ''}.`,
    '',
    '| pipeline | input | interrupted node | its uninterrupted time (s) | stop latency, median (ms) | runs (ms) | clean stop |',
    '|---|---|---|---:|---:|---|---|',
    ...r.cases.map((c) => `| ${c.pipeline} | ${c.input} | ${c.longNode} | ${c.fullNodeMs !== undefined ? (c.fullNodeMs / 1000).toFixed(1) : '—'} | ${c.medianMs.toFixed(0)} | ${c.stopMs.map((v) => v.toFixed(0)).join(', ')} | ${c.clean ? 'yes' : '**no**'} |`),
    '',
    `Target (issue 14): every run stops within 1 s of Ctrl-C. Slowest median: ${worst.toFixed(0)} ms — ${worst < 1000 ? 'met' : '**not met**'}${allClean ? '' : '; some runs did not stop cleanly (see the table)'}. The medians lie ${(best - GRACE_MS).toFixed(0)}–${(worst - GRACE_MS).toFixed(0)} ms above the ${GRACE_MS} ms grace time of an isolated run: an operation that is still busy when it runs out has its thread terminated; the rest is removing the run's files and the process's exit.`,
    '',
    'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/cancel.js`',
    `<!-- /bench:${TOPIC} -->`,
  ].join('\n');
}

if (isMain(import.meta.url)) {
  runBenchMain(
    (a) => runCancelBench({ repetitions: a.number('--reps'), delayMs: a.number('--delay-ms'), full: !a.has('--no-full'), writeDocs: !a.has('--no-docs') }),
    (r) => r.markdown,
  );
}
