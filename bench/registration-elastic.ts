/**
 * Elastic registration benchmark: Focal's elastic.register (registerElastic) against Debian's
 * elastix (B-spline transform, parameter files in bench/elastix/) on the same synthetic 1024²
 * pairs with a known smooth deformation (five Gaussian bumps, largest displacement 4 px) and
 * Gaussian noise: a same-modality pair (SSD) and a multimodal pair (moving intensities
 * inverted and non-linearly remapped; Mattes MI). elastix's field comes from
 * `transformix -def all`; both fields are compared with the truth the same way (mean and max
 * endpoint error over pixels ≥ 16 px from the border). Writes the section between
 * <!-- bench:elastic --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/registration-elastic.js [--size PX] [--no-elastix] [--no-docs]
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { endpointError, syntheticPair } from '../plugins/elastic/synthetic.js';
import { registerElastic, type ElasticOptions } from '../plugins/elastic/register.js';
import { describeMachine, isMain, isoDate, machineInfo, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';

const run = promisify(execFile);
const TOPIC = 'elastic';
const MARK = `bench:${TOPIC}`;
const MARGIN_PX = 16;

export interface ElasticBenchOptions {
  sizePx?: number;
  /** Run elastix (default: when `elastix` is on the PATH). */
  elastix?: boolean;
  docsPath?: string;
  writeDocs?: boolean;
  log?: (message: string) => void;
}

export interface ToolRun {
  seconds: number;
  meanErrorPx: number;
  maxErrorPx: number;
}

export interface ElasticCase {
  name: string;
  metric: 'ssd' | 'mi';
  beforeMeanPx: number;
  focal: ToolRun;
  /** Focal with maxSamples 2^18 (the 1024² level evaluated on every second pixel). */
  focalSub: ToolRun;
  elastix1?: ToolRun;
  elastixAll?: ToolRun;
}

export interface ElasticBenchResult {
  date: string;
  machine: MachineInfo & { loadBefore: number[]; loadAfter: number[] };
  sizePx: number;
  elastixVersion?: string;
  cases: ElasticCase[];
  markdown: string;
}

const FOCAL_OPTIONS: ElasticOptions = { gridSpacingPx: 16, levels: 4, bendingWeight: 100, iterations: 100 };

function mhd(name: string, n: number): string {
  return `ObjectType = Image\nNDims = 2\nDimSize = ${n} ${n}\nElementType = MET_FLOAT\nElementSpacing = 1 1\nOffset = 0 0\nElementByteOrderMSB = False\nElementDataFile = ${name}.raw\n`;
}

async function writeMhd(dir: string, name: string, data: Float32Array, n: number): Promise<string> {
  await writeFile(join(dir, `${name}.raw`), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  await writeFile(join(dir, `${name}.mhd`), mhd(name, n));
  return join(dir, `${name}.mhd`);
}

async function runElastix(dir: string, fixed: string, moving: string, paramFile: string, threads: number | undefined, n: number, truth: { ux: Float32Array; uy: Float32Array }): Promise<ToolRun> {
  const out = await mkdtemp(join(dir, 'elx-'));
  const args = ['-f', fixed, '-m', moving, '-p', paramFile, '-out', out, ...(threads ? ['-threads', String(threads)] : [])];
  const t0 = performance.now();
  await run('elastix', args, { maxBuffer: 64 * 2 ** 20 });
  const seconds = (performance.now() - t0) / 1000;
  const def = join(out, 'def');
  await mkdir(def);
  await run('transformix', ['-def', 'all', '-tp', join(out, 'TransformParameters.0.txt'), '-out', def], { maxBuffer: 64 * 2 ** 20 });
  const header = await readFile(join(def, 'deformationField.mhd'), 'utf8');
  if (!/ElementType = MET_FLOAT/.test(header) || !/ElementNumberOfChannels = 2/.test(header)) throw new Error(`unexpected transformix output header:\n${header}`);
  const raw = await readFile(join(def, 'deformationField.raw'));
  const v = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const ux = new Float32Array(n * n), uy = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    ux[i] = v[2 * i];
    uy[i] = v[2 * i + 1];
  }
  const e = endpointError(ux, uy, truth.ux, truth.uy, n, n, MARGIN_PX);
  return { seconds, meanErrorPx: e.mean, maxErrorPx: e.max };
}

const fmt = (v: number, d = 3) => v.toFixed(d);

function markdown(r: ElasticBenchResult): string {
  const m = r.machine;
  const lines = [
    `<!-- ${MARK} -->`,
    '## Elastic registration (bench/registration-elastic.ts)',
    '',
    `Pairs: ${r.sizePx}² synthetic texture (scripts in plugins/elastic/synthetic.ts, seed 11), deformed by a smooth field (five Gaussian bumps, largest displacement 4 px, mean ${fmt(r.cases[0]?.beforeMeanPx ?? NaN, 2)} px), Gaussian noise σ = 10 (1 % of the range) on both images. `
      + 'Error: mean / max endpoint error of the recovered field against the truth, pixels ≥ 16 px from the border (elastix: `transformix -def all`). '
      + `Focal: registerElastic, 4 levels, final grid 16 px, bending weight 100, L-BFGS ≤ 100 iterations per level, one thread; dense (every pixel), and with maxSamples = 2^18 (levels above 512² use every second pixel). elastix ${r.elastixVersion ?? ''}: bench/elastix/bspline-{ssd,mi}.txt (4 levels, final grid 16 px, adaptive stochastic gradient descent, 500 iterations × 4096 random samples per level, no result image), timed as the elastix process (wall clock).`,
    '',
    `Machine: ${describeMachine(m)}. Date: ${r.date}. Load average before/after: ${m.loadBefore.map((v) => fmt(v, 1)).join(', ')} / ${m.loadAfter.map((v) => fmt(v, 1)).join(', ')}${m.loadBefore[0] > 1 ? ' (the machine was shared with other jobs while this ran: absolute times are inflated, ratios less so)' : ''}.`,
    '',
    '| Pair | Tool | Time (s) | Mean EPE (px) | Max EPE (px) |',
    '|---|---|---:|---:|---:|',
  ];
  for (const c of r.cases) {
    lines.push(`| ${c.name} | Focal elastic.register (${c.metric}), every pixel | ${fmt(c.focal.seconds, 2)} | ${fmt(c.focal.meanErrorPx)} | ${fmt(c.focal.maxErrorPx, 2)} |`);
    lines.push(`| ${c.name} | Focal elastic.register (${c.metric}), maxSamples 2^18 | ${fmt(c.focalSub.seconds, 2)} | ${fmt(c.focalSub.meanErrorPx)} | ${fmt(c.focalSub.maxErrorPx, 2)} |`);
    if (c.elastix1) lines.push(`| ${c.name} | elastix, 1 thread | ${fmt(c.elastix1.seconds, 2)} | ${fmt(c.elastix1.meanErrorPx)} | ${fmt(c.elastix1.maxErrorPx, 2)} |`);
    if (c.elastixAll) lines.push(`| ${c.name} | elastix, all ${m.cores} threads | ${fmt(c.elastixAll.seconds, 2)} | ${fmt(c.elastixAll.meanErrorPx)} | ${fmt(c.elastixAll.maxErrorPx, 2)} |`);
  }
  lines.push('');
  for (const c of r.cases) {
    if (!c.elastix1) continue;
    const parts = [`${c.name}: elastix (1 thread) time / Focal time = ${fmt(c.elastix1.seconds / c.focal.seconds, 2)}× (every pixel), ${fmt(c.elastix1.seconds / c.focalSub.seconds, 2)}× (maxSamples 2^18)`];
    if (c.elastixAll) parts.push(`elastix (${m.cores} threads) / Focal = ${fmt(c.elastixAll.seconds / c.focal.seconds, 2)}×, ${fmt(c.elastixAll.seconds / c.focalSub.seconds, 2)}×`);
    parts.push(`Focal / elastix mean endpoint error = ${fmt(c.focal.meanErrorPx / c.elastix1.meanErrorPx, 2)}, ${fmt(c.focalSub.meanErrorPx / c.elastix1.meanErrorPx, 2)} (below 1 = Focal more accurate)`);
    lines.push(`- ${parts.join('; ')}.`);
  }
  lines.push('', 'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/registration-elastic.js`', `<!-- /${MARK} -->`);
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
  const n = options.sizePx ?? 1024;
  const log = options.log ?? ((s: string) => console.log(s));
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const paramDir = existsSync(join(root, 'bench', 'elastix')) ? join(root, 'bench', 'elastix') : join(process.cwd(), 'bench', 'elastix');
  const elastixVersion = options.elastix === false ? undefined : await hasElastix();
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'focal-bench-elastic-'));
  const cases: ElasticCase[] = [];
  try {
    const pair = syntheticPair(n, n, 11, { maxDisplacementPx: 4, noiseSd: 10 });
    const zero = new Float32Array(n * n);
    const before = endpointError(zero, zero, pair.ux, pair.uy, n, n, MARGIN_PX).mean;
    const multimodal = pair.moving.map((v) => Math.max(0, 1000 - v) ** 1.5 / 30);
    const fixedPath = await writeMhd(dir, 'fixed', pair.fixed, n);
    for (const [name, metric, moving] of [['same modality', 'ssd', pair.moving], ['multimodal (remapped moving)', 'mi', multimodal]] as const) {
      log(`${name}: Focal (${metric}) …`);
      const t0 = performance.now();
      const r = registerElastic({ data: moving, width: n, height: n }, { data: pair.fixed, width: n, height: n }, { ...FOCAL_OPTIONS, metric });
      const seconds = (performance.now() - t0) / 1000;
      const e = endpointError(r.ux, r.uy, pair.ux, pair.uy, n, n, MARGIN_PX);
      log(`  Focal ${seconds.toFixed(2)} s, mean EPE ${e.mean.toFixed(3)} px`);
      const t1 = performance.now();
      const rs = registerElastic({ data: moving, width: n, height: n }, { data: pair.fixed, width: n, height: n }, { ...FOCAL_OPTIONS, metric, maxSamples: 2 ** 18 });
      const secondsSub = (performance.now() - t1) / 1000;
      const es = endpointError(rs.ux, rs.uy, pair.ux, pair.uy, n, n, MARGIN_PX);
      log(`  Focal (maxSamples 2^18) ${secondsSub.toFixed(2)} s, mean EPE ${es.mean.toFixed(3)} px`);
      const c: ElasticCase = {
        name, metric, beforeMeanPx: before,
        focal: { seconds, meanErrorPx: e.mean, maxErrorPx: e.max },
        focalSub: { seconds: secondsSub, meanErrorPx: es.mean, maxErrorPx: es.max },
      };
      if (elastixVersion) {
        const movingPath = await writeMhd(dir, `moving-${metric}`, moving, n);
        const param = join(paramDir, `bspline-${metric}.txt`);
        c.elastix1 = await runElastix(dir, fixedPath, movingPath, param, 1, n, pair);
        log(`  elastix 1 thread ${c.elastix1.seconds.toFixed(2)} s, mean EPE ${c.elastix1.meanErrorPx.toFixed(3)} px`);
        c.elastixAll = await runElastix(dir, fixedPath, movingPath, param, undefined, n, pair);
        log(`  elastix all threads ${c.elastixAll.seconds.toFixed(2)} s, mean EPE ${c.elastixAll.meanErrorPx.toFixed(3)} px`);
      }
      cases.push(c);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const result: ElasticBenchResult = {
    date: isoDate(),
    machine: { ...machine, loadBefore: machine.load, loadAfter: loadavg() },
    sizePx: n,
    elastixVersion,
    cases,
    markdown: '',
  };
  result.markdown = markdown(result);
  await writeBenchDocs(options, TOPIC, result.markdown, log, root);
  return result;
}

if (isMain(import.meta.url)) {
  runBenchMain((a) => runRegistrationElasticBench({ sizePx: a.number('--size'), elastix: a.has('--no-elastix') ? false : undefined, writeDocs: !a.has('--no-docs') }), (r) => r.markdown);
}
