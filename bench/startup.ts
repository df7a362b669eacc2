/**
 * Start-up benchmark: wall time of whole `focal` processes (the built CLI) next to `node -e 0`:
 * `focal --help`, `focal plugins`, and a pass-through `focal run` of one 512² uint16 TIFF
 * (`stack.substack` with every plane kept). Median of `--reps` runs each (default 10), the
 * commands interleaved so that load changes hit them alike. With `--baseline <dir>` (a folder
 * holding another build's `dist/` and a `node_modules`, e.g. main's), the same commands of
 * that build are timed in the same run, and the ratio is reported (`--baseline-label` says what
 * that build is, for the docs).
 * Goals (issue 15): --help ≤ 0.35 s, plugins ≤ 0.5 s, run ≤ 0.6 s.
 * Writes the section between <!-- bench:startup --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/startup.js [--reps N] [--baseline DIR [--baseline-label TEXT]] [--no-docs]
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, writeTiff } from '../core/index.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), ...(import.meta.url.endsWith('.ts') ? ['..'] : ['..', '..']));
const TOPIC = 'startup';
const GOALS_S: Record<string, number> = { help: 0.35, plugins: 0.5, run: 0.6 };

export interface StartupRow {
  name: string;
  command: string;
  goalS?: number;
  medianS: number;
  baselineMedianS?: number;
}

export interface StartupResult {
  machine: MachineInfo;
  loadEnd: number[];
  date: string;
  reps: number;
  baseline?: string;
  /** What the baseline build is, in words. */
  baselineLabel?: string;
  rows: StartupRow[];
}

/** Wall seconds of one process; throws when it fails. */
function timeProcess(args: string[], cwd: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return s;
}

export async function benchStartup(options: { reps?: number; baseline?: string; baselineLabel?: string; writeDocs?: boolean; log?: (m: string) => void } = {}): Promise<StartupResult> {
  const reps = options.reps ?? 10;
  const log = options.log ?? ((m: string) => console.error(m));
  const machine = machineInfo();
  const dir = await mkdtemp(join(tmpdir(), 'focal-bench-startup-'));
  try {
    const size = 512;
    const pixels = new Uint16Array(size * size).map((_, i) => (i * 7919) % 4096);
    await writeTiff(join(dir, 'plane.tif'), createStack({ width: size, height: size, dtype: 'uint16', planes: [pixels] }));
    const pipeline = {
      name: 'pass-through',
      description: 'Keeps every plane of the input (stack.substack with no selection): start-up cost of a run.',
      inputs: { stack: { type: 'stack' } },
      nodes: { all: { op: 'stack.substack', in: { stack: 'stack' } } },
      outputs: { stack: 'all.stack' },
    };
    await writeFile(join(dir, 'pass-through.json'), JSON.stringify(pipeline));
    const cases = (bin: string, tag: string) => [
      { name: 'help', command: 'focal --help', args: [bin, '--help'] },
      { name: 'plugins', command: 'focal plugins', args: [bin, 'plugins'] },
      { name: 'run', command: 'focal run pass-through.json (512² uint16 TIFF)', args: [bin, 'run', join(dir, 'pass-through.json'), '--input', join(dir, 'plane.tif'), '--out', join(dir, `out-${tag}`), '--quiet'] },
    ];
    const ours = cases(join(ROOT, 'dist', 'cli', 'main.js'), 'new');
    const theirs = options.baseline ? cases(join(resolve(options.baseline), 'dist', 'cli', 'main.js'), 'base') : [];
    const times = new Map<string, number[]>();
    const add = (key: string, s: number) => times.set(key, [...(times.get(key) ?? []), s]);
    for (let r = 0; r < reps; r++) {
      add('node', timeProcess(['-e', '0'], dir));
      for (const c of ours) {
        await rm(join(dir, 'out-new'), { recursive: true, force: true });
        add(`new:${c.name}`, timeProcess(c.args, dir));
      }
      for (const c of theirs) {
        await rm(join(dir, 'out-base'), { recursive: true, force: true });
        add(`base:${c.name}`, timeProcess(c.args, dir));
      }
      log(`startup: round ${r + 1}/${reps}`);
    }
    const rows: StartupRow[] = [
      { name: 'node', command: 'node -e 0', medianS: median(times.get('node')!) },
      ...ours.map((c) => ({
        name: c.name,
        command: c.command,
        goalS: GOALS_S[c.name],
        medianS: median(times.get(`new:${c.name}`)!),
        ...(options.baseline ? { baselineMedianS: median(times.get(`base:${c.name}`)!) } : {}),
      })),
    ];
    const result: StartupResult = { machine, loadEnd: machineInfo().load, date: isoDate(), reps, ...(options.baseline ? { baseline: options.baseline, baselineLabel: options.baselineLabel ?? options.baseline } : {}), rows };
    await writeBenchDocs(options, TOPIC, markdown(result), log, ROOT);
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function markdown(r: StartupResult): string {
  const base = r.baseline !== undefined;
  const head = base ? '| command | goal (s) | before (s) | after (s) | after / before | met |' : '| command | goal (s) | median (s) | met |';
  const sep = base ? '|---|---:|---:|---:|---:|---|' : '|---|---:|---:|---|';
  const lines = r.rows.map((row) => {
    const goal = row.goalS !== undefined ? row.goalS.toFixed(2) : '–';
    const met = row.goalS === undefined ? '–' : row.medianS <= row.goalS ? 'yes' : 'no';
    if (!base) return `| \`${row.command}\` | ${goal} | ${row.medianS.toFixed(3)} | ${met} |`;
    const before = row.baselineMedianS !== undefined ? row.baselineMedianS.toFixed(3) : '–';
    const ratio = row.baselineMedianS !== undefined ? (row.medianS / row.baselineMedianS).toFixed(2) : '–';
    return `| \`${row.command}\` | ${goal} | ${before} | ${row.medianS.toFixed(3)} | ${ratio} | ${met} |`;
  });
  return [
    '## Start-up: whole `focal` processes (bench/startup.ts)',
    '',
    `Wall time of whole processes of the built CLI, median of ${r.reps} runs each, the commands interleaved; \`node -e 0\` for scale. The run is a pass-through pipeline (\`stack.substack\` keeping every plane) of one 512² uint16 TIFF, with its worker thread (docs/architecture.md).${base ? ` "before" is ${r.baselineLabel}, timed in the same run.` : ''}`,
    '',
    `Machine: ${describeMachine(r.machine)}. Date: ${r.date}. Load average at start ${formatLoad(r.machine.load)}, at the end ${formatLoad(r.loadEnd)}.${
      Math.max(r.machine.load[0] ?? 0, r.loadEnd[0] ?? 0) > r.machine.cores
        ? ` The machine was shared (load above its ${r.machine.cores} cores): every figure includes waiting for a core, so compare the columns of this run with each other rather than with the goals.`
        : ''
    }`,
    '',
    head,
    sep,
    ...lines,
    '',
    'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/startup.js [--baseline <folder with another build\'s dist/ and node_modules> --baseline-label <what it is>]`',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  runBenchMain(
    (args) => {
      const value = (flag: string) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
      return benchStartup({ reps: args.number('--reps'), baseline: value('--baseline'), baselineLabel: value('--baseline-label'), writeDocs: !args.has('--no-docs') });
    },
    (r) => r.rows.map((row) => `${row.command}: ${row.medianS.toFixed(3)} s${row.baselineMedianS !== undefined ? ` (before ${row.baselineMedianS.toFixed(3)} s)` : ''}`).join('\n'),
  );
}
