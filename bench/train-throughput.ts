/**
 * Training throughput of the learning kit (issue 16, "Training speed on this machine"): Deep-R
 * training iterations per second (base 8 channels, 5 levels, 256² patches, batch 2; one
 * iteration = 6 generator + 3 discriminator updates) on one thread and data-parallel
 * (`workers` threads: the main thread and worker threads, each with its own tfjs backend, each
 * update's batch split and the gradients averaged). The modes are interleaved round by round,
 * so load changes on a shared machine hit them alike; each round is a fresh run whose first
 * iteration (warm-up) and last (it validates) are not timed.
 * Writes the section between <!-- bench:train-throughput --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/train-throughput.js [--rounds 3] [--iterations 6] [--workers 2] [--no-docs]
 *
 * `--probe` instead times single generator gradients (Deep-R base 8, 256²): batch 2 and batch 1
 * on the main thread, batch 1 in a worker alone, and batch 1 on both at once, to tell whether a
 * second thread gets a core of its own (prints; writes no docs).
 *
 *   node dist/bench/train-throughput.js --probe [--reps 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRandom } from '../core/index.js';
import { loadTf } from '../core/ml.js';
import type { TrainingPair } from '../plugins/deepr/data.js';
import { GradientWorkers, generatorShardGradients } from '../core/ml/parallel.js';
import { deeprGradientSpec, trainDeepR } from '../plugins/deepr/train.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, median, runBenchMain, writeBenchDocs, type MachineInfo } from './common.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), ...(import.meta.url.endsWith('.ts') ? ['..'] : ['..', '..']));
const TOPIC = 'train-throughput';

export interface ThroughputResult {
  machine: MachineInfo;
  uptimeStart: string;
  uptimeEnd: string;
  loadEnd: number[];
  date: string;
  backend: string;
  rounds: number;
  timedIterations: number;
  workers: number;
  /** Iterations per second of each round, per mode ('1' and String(workers)). */
  rates: Record<string, number[]>;
}

/** Smooth random 256² pairs (input: a blurred copy) — the sampler costs next to nothing. */
function pairs(n: number, size: number, seed: number): TrainingPair[] {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, () => {
    const target = new Float32Array(size * size);
    for (let k = 0; k < 40; k++) {
      const cx = rng.next() * size;
      const cy = rng.next() * size;
      const r = 4 + rng.next() * 20;
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) target[y * size + x] += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r));
    }
    const input = new Float32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let s = 0;
        let c = 0;
        for (let d = -3; d <= 3; d++) {
          const xx = x + d;
          if (xx >= 0 && xx < size) { s += target[y * size + xx]; c++; }
        }
        input[y * size + x] = s / c + 0.01 * rng.next();
      }
    }
    return { input, target, sizePx: size, defocusUm: 2 };
  });
}

const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return 'uptime unavailable';
  }
};

/** One fresh Deep-R run of `iterations`; iterations per second between the ends of iteration 1 and iteration `iterations` − 1. */
async function oneRound(tf: Awaited<ReturnType<typeof loadTf>>['tf'], data: TrainingPair[], iterations: number, workers: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'focal-throughput-'));
  const at: number[] = [];
  try {
    const r = await trainDeepR(tf, {
      sample: (rng) => data[rng.int(data.length)], validation: data.slice(0, 1), outDir: dir, iterations, baseChannels: 8, patchPx: 256, batchSize: 2,
      validateEvery: 1_000_000, seed: 1, workers, onIteration: () => { at.push(performance.now()); },
    });
    r.generator.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return (iterations - 2) / ((at[iterations - 2] - at[0]) / 1000);
}

export async function benchTrainThroughput(o: { rounds?: number; iterations?: number; workers?: number; writeDocs?: boolean; log?: (m: string) => void } = {}): Promise<ThroughputResult> {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const rounds = o.rounds ?? 3;
  const iterations = o.iterations ?? 6;
  const workers = o.workers ?? 2;
  if (iterations < 3) throw new Error('--iterations: at least 3 (the first and the last are not timed)');
  const machine = machineInfo();
  const uptimeStart = uptime();
  const { tf, backend } = await loadTf();
  const data = pairs(4, 256, 11);
  const rates: Record<string, number[]> = { '1': [], [String(workers)]: [] };
  for (let r = 0; r < rounds; r++) {
    // alternate which mode goes first, so a load trend does not favour one
    const order = r % 2 === 0 ? [1, workers] : [workers, 1];
    for (const w of order) {
      const rate = await oneRound(tf, data, iterations, w);
      rates[String(w)].push(rate);
      log(`train-throughput: round ${r + 1}/${rounds}, ${w} thread${w > 1 ? 's' : ''}: ${rate.toFixed(3)} it/s`);
    }
  }
  const result: ThroughputResult = { machine, uptimeStart, uptimeEnd: uptime(), loadEnd: machineInfo().load, date: isoDate(), backend, rounds, timedIterations: iterations - 2, workers, rates };
  await writeBenchDocs({ writeDocs: o.writeDocs }, TOPIC, markdown(result), log, ROOT);
  return result;
}

export function markdown(r: ThroughputResult): string {
  const one = median(r.rates['1']);
  const many = median(r.rates[String(r.workers)]);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(', ');
  return [
    '## Training throughput: Deep-R on the kit\'s trainer, one thread vs data-parallel (bench/train-throughput.ts)',
    '',
    `Deep-R training iterations per second (base 8 channels, 5 levels, 256² patches, batch 2; an iteration is 6 generator + 3 discriminator updates), tfjs backend \`${r.backend}\`. "${r.workers} threads": the kit's data-parallel mode (\`workers: ${r.workers}\`, \`focal train deepr --workers ${r.workers}\`): each update's batch split between the main thread and ${r.workers - 1} worker thread${r.workers > 2 ? 's' : ''}, each with its own backend, gradients averaged and applied once. ${r.rounds} rounds, the modes interleaved (order alternating), each round a fresh run timing ${r.timedIterations} iterations (the first and the validating last one not timed); median of the rounds.`,
    '',
    `Machine: ${describeMachine(r.machine)}. Date: ${r.date}. Load average at start ${formatLoad(r.machine.load)}, at the end ${formatLoad(r.loadEnd)} (\`uptime\`: "${r.uptimeStart}" / "${r.uptimeEnd}").${
      // the bench's own two threads raise the load to ~2 by its end: only the load at the start tells other jobs
      (r.machine.load[0] ?? 0) > 1
        ? ` The machine was shared with other jobs when the measurement started (load above 1 on ${r.machine.cores} cores): these figures say what a second thread gains on this machine while it is shared, not on an idle one.`
        : ` No other job ran (load below 1 at the start; the load at the end is the bench's own threads).`
    }`,
    '',
    '| mode | it/s (median) | rounds (it/s) | speed-up |',
    '|---|---:|---|---:|',
    `| 1 thread | ${one.toFixed(3)} | ${fmt(r.rates['1'])} | 1.00 |`,
    `| ${r.workers} threads (data-parallel) | ${many.toFixed(3)} | ${fmt(r.rates[String(r.workers)])} | ${(many / one).toFixed(2)} |`,
    '',
    `Goal (issue 16): ≥ 1.7× on 2 cores. ${many / one >= 1.7 ? 'Met in this run.' : 'Not met in this run.'}`,
    '',
    `Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/train-throughput.js --rounds ${r.rounds} --iterations ${r.timedIterations + 2} --workers ${r.workers}\``,
  ].join('\n');
}

/** Milliseconds of single gradient computations (see the module comment, `--probe`). */
export async function probeGradients(reps = 2): Promise<string[]> {
  const { tf, backend } = await loadTf();
  const o = { baseChannels: 8, levels: 5, seed: 1, msSsimScales: 5 };
  const spec = deeprGradientSpec(tf, o);
  const g = spec.buildGenerator();
  const vars = g.trainableWeights.map((w) => w.read() as import('@tensorflow/tfjs').Variable);
  const pool = await GradientWorkers.start({ module: new URL('../plugins/deepr/train.js', import.meta.url).href, export: 'deeprGradientSpec', options: o }, 1, backend);
  const batch = (n: number) => ({ inputs: [tf.randomNormal([n, 256, 256, 1])], target: tf.randomNormal([n, 256, 256, 1]) });
  const terms = [{ name: 'msSsim', weight: 0.85 }, { name: 'berhu', weight: 0.15 }];
  const b1 = batch(1);
  const b2 = batch(2);
  const lines = [`backend ${backend}, Deep-R generator ${g.countParams()} parameters, load ${formatLoad(machineInfo().load, 2)}`];
  const time = async (label: string, f: () => unknown) => {
    const t = performance.now();
    await f();
    lines.push(`${label}: ${(performance.now() - t).toFixed(0)} ms`);
  };
  try {
    for (let r = 0; r < reps; r++) {
      await time('main thread, batch 2', () => generatorShardGradients(tf, spec, g, undefined, b2, terms, vars));
      await time('main thread, batch 1', () => generatorShardGradients(tf, spec, g, undefined, b1, terms, vars));
      await time('worker alone, batch 1', () => Promise.all(pool.generator([b1], g, undefined, terms)));
      await time('main + worker at once, batch 1 each', async () => {
        const remote = pool.generator([b1], g, undefined, terms);
        generatorShardGradients(tf, spec, g, undefined, b1, terms, vars);
        await Promise.all(remote);
      });
    }
  } finally {
    await pool.close();
    tf.dispose([...b1.inputs, b1.target, ...b2.inputs, b2.target]);
    g.dispose();
  }
  lines.push(`uptime: ${uptime()}`);
  return lines;
}

if (isMain(import.meta.url) && process.argv.includes('--probe')) {
  runBenchMain((args) => probeGradients(args.number('--reps')), (lines) => lines.join('\n'));
} else if (isMain(import.meta.url)) {
  runBenchMain(
    (args) => benchTrainThroughput({ rounds: args.number('--rounds'), iterations: args.number('--iterations'), workers: args.number('--workers'), writeDocs: !args.has('--no-docs') }),
    (r) => Object.entries(r.rates).map(([w, xs]) => `${w} thread(s): median ${median(xs).toFixed(3)} it/s (${xs.map((x) => x.toFixed(3)).join(', ')})`).join('\n'),
  );
}
