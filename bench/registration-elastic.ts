/**
 * Elastic registration benchmark (issue 24): Focal's elastic.register with its DEFAULTS
 * (registerElastic, whose defaults are the op's params schema) against elastix with its
 * standard B-spline maps (bench/elastix/bspline-{ssd,mi}.txt: 4 resolutions, final grid 16 px,
 * AdvancedMeanSquares / AdvancedMattesMutualInformation, adaptive stochastic gradient descent,
 * 500 iterations × 2048 random samples per resolution), same pairs, same run.
 *
 * Pairs: the HELD-OUT part of the registration test set (plugins/elastic/testset.ts; the
 * defaults were tuned on the other families only): specimen-library families and a blob
 * texture, smooth synthetic deformations of 1.5–6 px, noise 0–2 %, multimodal remaps for MI.
 * elastix's field comes from `transformix -def all`; both fields are compared with the truth
 * the same way (mean endpoint error over pixels ≥ 16 px from the border). Time: wall clock
 * and CPU time (user + system) of Focal's call and of the elastix process (transformix not
 * counted). Writes the section between <!-- bench:elastic --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/registration-elastic.js [--size PX] [--per-family N] [--tuning] [--elastix-threads N] [--no-elastix] [--no-docs]
 *
 * `--tuning` runs the tuning part instead (for development; never written to the docs).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { endpointError } from '../plugins/elastic/synthetic.js';
import { BENDING_WEIGHT_DEFAULTS, ELASTIC_DEFAULTS, registerElastic } from '../plugins/elastic/register.js';
import { HELDOUT_FAMILIES, TUNING_FAMILIES, registrationCases, renderCase, type RegistrationCase, type RegistrationPart } from '../plugins/elastic/testset.js';
import { describeMachine, isMain, isoDate, machineInfo, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';

const run = promisify(execFile);
const TOPIC = 'elastic';
const MARK = `bench:${TOPIC}`;
const MARGIN_PX = 16;

export interface ElasticBenchOptions {
  sizePx?: number;
  /** Cases per family and metric (default 2). */
  perFamily?: number;
  part?: RegistrationPart;
  /** Run elastix (default: when `elastix` is on the PATH). */
  elastix?: boolean;
  /** elastix `-threads` (default 1: Focal is single-threaded). */
  elastixThreads?: number;
  docsPath?: string;
  writeDocs?: boolean;
  log?: (message: string) => void;
}

export interface ToolRun {
  /** Wall clock, s. */
  seconds: number;
  /** User + system CPU time, s. */
  cpuSeconds: number;
  meanErrorPx: number;
  maxErrorPx: number;
}

export interface ElasticCaseResult {
  case: RegistrationCase;
  beforeMeanPx: number;
  focal: ToolRun;
  elastix?: ToolRun;
}

export interface ElasticBenchResult {
  date: string;
  machine: MachineInfo & { loadBefore: number[]; loadAfter: number[] };
  sizePx: number;
  part: RegistrationPart;
  elastixVersion?: string;
  elastixThreads: number;
  results: ElasticCaseResult[];
  markdown: string;
}

function mhd(name: string, w: number, h: number): string {
  return `ObjectType = Image\nNDims = 2\nDimSize = ${w} ${h}\nElementType = MET_FLOAT\nElementSpacing = 1 1\nOffset = 0 0\nElementByteOrderMSB = False\nElementDataFile = ${name}.raw\n`;
}

async function writeMhd(dir: string, name: string, data: Float32Array, w: number, h: number): Promise<string> {
  await writeFile(join(dir, `${name}.raw`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  await writeFile(join(dir, `${name}.mhd`), mhd(name, w, h));
  return join(dir, `${name}.mhd`);
}

/** Runs elastix under /usr/bin/time (wall, user, system) when available; returns its field's error. */
async function runElastix(dir: string, fixed: string, moving: string, paramFile: string, threads: number, w: number, h: number, truth: { ux: Float32Array; uy: Float32Array }): Promise<ToolRun> {
  const out = await mkdtemp(join(dir, 'elx-'));
  const args = ['-f', fixed, '-m', moving, '-p', paramFile, '-out', out, '-threads', String(threads)];
  const timeFile = join(out, 'time.txt');
  const useTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  if (useTime) await run('/usr/bin/time', ['-f', '%e %U %S', '-o', timeFile, 'elastix', ...args], { maxBuffer: 64 * 2 ** 20 });
  else await run('elastix', args, { maxBuffer: 64 * 2 ** 20 });
  let seconds = (performance.now() - t0) / 1000;
  let cpuSeconds = NaN;
  if (useTime) {
    const [e, u, s] = (await readFile(timeFile, 'utf8')).trim().split(/\s+/).slice(-3).map(Number);
    seconds = e;
    cpuSeconds = u + s;
  }
  const def = join(out, 'def');
  await mkdir(def);
  await run('transformix', ['-def', 'all', '-tp', join(out, 'TransformParameters.0.txt'), '-out', def], { maxBuffer: 64 * 2 ** 20 });
  const header = await readFile(join(def, 'deformationField.mhd'), 'utf8');
  if (!/ElementType = MET_FLOAT/.test(header) || !/ElementNumberOfChannels = 2/.test(header)) throw new Error(`unexpected transformix output header:\n${header}`);
  const raw = await readFile(join(def, 'deformationField.raw'));
  const v = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const ux = new Float32Array(w * h), uy = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    ux[i] = v[2 * i];
    uy[i] = v[2 * i + 1];
  }
  const err = endpointError(ux, uy, truth.ux, truth.uy, w, h, MARGIN_PX);
  await rm(out, { recursive: true, force: true });
  return { seconds, cpuSeconds, meanErrorPx: err.mean, maxErrorPx: err.max };
}

const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Per metric: mean over cases of the mean EPE, and total wall / CPU time. */
export function summarise(results: ElasticCaseResult[], metric: 'ssd' | 'mi'): { n: number; focal: { error: number; seconds: number; cpu: number }; elastix?: { error: number; seconds: number; cpu: number }; before: number } {
  const rs = results.filter((r) => r.case.metric === metric);
  const focal = { error: mean(rs.map((r) => r.focal.meanErrorPx)), seconds: sum(rs.map((r) => r.focal.seconds)), cpu: sum(rs.map((r) => r.focal.cpuSeconds)) };
  const withE = rs.filter((r) => r.elastix);
  const elastix = withE.length === rs.length && rs.length > 0
    ? { error: mean(rs.map((r) => r.elastix!.meanErrorPx)), seconds: sum(rs.map((r) => r.elastix!.seconds)), cpu: sum(rs.map((r) => r.elastix!.cpuSeconds)) }
    : undefined;
  return { n: rs.length, focal, elastix, before: mean(rs.map((r) => r.beforeMeanPx)) };
}

function markdown(r: ElasticBenchResult): string {
  const m = r.machine;
  const d = ELASTIC_DEFAULTS;
  const lines = [
    `<!-- ${MARK} -->`,
    '## Elastic registration on the held-out test set (bench/registration-elastic.ts)',
    '',
    `Pairs: the ${r.part} part of the registration test set (plugins/elastic/testset.ts; families ${(r.part === 'heldout' ? HELDOUT_FAMILIES : TUNING_FAMILIES).join(', ')}; `
      + `the defaults were tuned on ${r.part === 'heldout' ? `the other families only (${TUNING_FAMILIES.join(', ')})` : 'these families'}), ${r.sizePx}², ${r.results.length} pairs: `
      + 'smooth synthetic deformations (sums of Gaussian bumps, largest displacement 1.5–6 px, bump σ 1/10–1/5 of the size), Gaussian noise 0–2 % of the 1–99 % range on both images; MI pairs with the moving intensities inverted and non-linearly remapped, remapped non-monotonically, or (H&E) the red channel registered onto the green one. '
      + 'Error: mean endpoint error of the recovered field against the truth over pixels ≥ 16 px from the border (elastix: `transformix -def all`), averaged over the pairs. '
      + `Focal: registerElastic with its defaults (metric ssd or mi; ${d.levels} levels, final grid ${d.gridSpacingPx} px, bending weight ${BENDING_WEIGHT_DEFAULTS.ssd} (ssd) / ${BENDING_WEIGHT_DEFAULTS.mi} (mi), ≤ ${d.iterations} L-BFGS iterations per level, tolerance ${d.tolerance}, maxSamples ${d.maxSamples || 'every pixel'}), one thread. `
      + `elastix ${r.elastixVersion ?? ''} with its standard B-spline maps, bench/elastix/bspline-{ssd,mi}.txt (4 resolutions, final grid 16 px, AdvancedMeanSquares / AdvancedMattesMutualInformation 32 bins, adaptive stochastic gradient descent, 500 iterations × 2048 random samples per resolution), -threads ${r.elastixThreads}, timed as the elastix process. `
      + 'Time: wall clock and CPU time (user + system), summed over the pairs.',
    '',
    `Machine: ${describeMachine(m)}. Date: ${r.date}. Load average before/after: ${m.loadBefore.map((v) => fmt(v, 1)).join(', ')} / ${m.loadAfter.map((v) => fmt(v, 1)).join(', ')}${m.loadBefore[0] > 1 ? ' (the machine was shared with other jobs while this ran: wall-clock times are inflated; CPU times and ratios less so)' : ''}.`,
    '',
    '| Metric | Pairs | Before (px) | Focal EPE (px) | elastix EPE (px) | Focal / elastix EPE | Focal wall / CPU (s) | elastix wall / CPU (s) | Focal / elastix CPU time |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const metric of ['ssd', 'mi'] as const) {
    const s = summarise(r.results, metric);
    if (!s.n) continue;
    const e = s.elastix;
    lines.push(`| ${metric} | ${s.n} | ${fmt(s.before, 2)} | ${fmt(s.focal.error)} | ${e ? fmt(e.error) : '—'} | ${e ? fmt(s.focal.error / e.error, 2) : '—'} | ${fmt(s.focal.seconds, 1)} / ${fmt(s.focal.cpu, 1)} | ${e ? `${fmt(e.seconds, 1)} / ${fmt(e.cpu, 1)}` : '—'} | ${e ? fmt(s.focal.cpu / e.cpu, 2) : '—'} |`);
  }
  lines.push('', 'Per pair (mean endpoint error, px; time wall-clock s):', '', '| Pair | Deformation | Noise | Remap | Before | Focal | elastix | Focal s | elastix s |', '|---|---|---:|---|---:|---:|---:|---:|---:|');
  for (const x of r.results) {
    const c = x.case;
    lines.push(`| ${c.id} | ${c.maxDisplacementPx} px, ${c.bumps} bumps σ ${fmt(c.sigmaFraction * c.sizePx, 0)} px | ${fmt(100 * c.noiseFraction, 1)} % | ${c.remap} | ${fmt(x.beforeMeanPx, 2)} | ${fmt(x.focal.meanErrorPx)} | ${x.elastix ? fmt(x.elastix.meanErrorPx) : '—'} | ${fmt(x.focal.seconds, 2)} | ${x.elastix ? fmt(x.elastix.seconds, 2) : '—'} |`);
  }
  lines.push('', `Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/registration-elastic.js --size ${r.sizePx}\``, `<!-- /${MARK} -->`);
  return lines.join('\n');
}

async function hasElastix(): Promise<string | undefined> {
  try {
    const { stdout } = await run('elastix', ['--version']);
    return stdout.trim().replace(/^elastix version:\s*/, '');
  } catch {
    return undefined;
  }
}

export async function runRegistrationElasticBench(options: ElasticBenchOptions = {}): Promise<ElasticBenchResult> {
  const n = options.sizePx ?? 448;
  const part = options.part ?? 'heldout';
  const threads = options.elastixThreads ?? 1;
  const log = options.log ?? ((s: string) => console.log(s));
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const paramDir = existsSync(join(root, 'bench', 'elastix')) ? join(root, 'bench', 'elastix') : join(process.cwd(), 'bench', 'elastix');
  const elastixVersion = options.elastix === false ? undefined : await hasElastix();
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'focal-bench-elastic-'));
  const results: ElasticCaseResult[] = [];
  const zero = new Float32Array(n * n);
  try {
    for (const c of registrationCases(part, n, options.perFamily ?? 2)) {
      const p = renderCase(c);
      const before = endpointError(zero, zero, p.ux, p.uy, n, n, MARGIN_PX).mean;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = registerElastic({ data: p.moving, width: n, height: n }, { data: p.fixed, width: n, height: n }, { metric: c.metric });
      const cpu = process.cpuUsage(cpu0);
      const seconds = (performance.now() - t0) / 1000;
      const e = endpointError(r.ux, r.uy, p.ux, p.uy, n, n, MARGIN_PX);
      const res: ElasticCaseResult = { case: c, beforeMeanPx: before, focal: { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, meanErrorPx: e.mean, maxErrorPx: e.max } };
      if (elastixVersion) {
        const f = await writeMhd(dir, 'fixed', p.fixed, n, n);
        const mv = await writeMhd(dir, 'moving', p.moving, n, n);
        res.elastix = await runElastix(dir, f, mv, join(paramDir, `bspline-${c.metric}.txt`), threads, n, n, p);
      }
      log(`${c.id}: before ${before.toFixed(2)} px; Focal ${e.mean.toFixed(3)} px ${seconds.toFixed(2)} s${res.elastix ? `; elastix ${res.elastix.meanErrorPx.toFixed(3)} px ${res.elastix.seconds.toFixed(2)} s` : ''}`);
      results.push(res);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const result: ElasticBenchResult = {
    date: isoDate(),
    machine: { ...machine, loadBefore: machine.load, loadAfter: loadavg() },
    sizePx: n,
    part,
    elastixVersion,
    elastixThreads: threads,
    results,
    markdown: '',
  };
  result.markdown = markdown(result);
  for (const metric of ['ssd', 'mi'] as const) {
    const s = summarise(results, metric);
    if (s.n) log(`${metric}: Focal ${s.focal.error.toFixed(4)} px ${s.focal.seconds.toFixed(1)} s (CPU ${s.focal.cpu.toFixed(1)})${s.elastix ? `; elastix ${s.elastix.error.toFixed(4)} px ${s.elastix.seconds.toFixed(1)} s (CPU ${s.elastix.cpu.toFixed(1)})` : ''}`);
  }
  if (part === 'heldout') await writeBenchDocs(options, TOPIC, result.markdown, log, root);
  return result;
}

if (isMain(import.meta.url)) {
  runBenchMain(
    (a) => runRegistrationElasticBench({
      sizePx: a.number('--size'),
      perFamily: a.number('--per-family'),
      part: a.has('--tuning') ? 'tuning' : 'heldout',
      elastixThreads: a.number('--elastix-threads'),
      elastix: a.has('--no-elastix') ? false : undefined,
      writeDocs: !a.has('--no-docs'),
    }),
    (r) => r.markdown,
  );
}
