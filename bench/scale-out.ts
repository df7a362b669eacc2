/**
 * Scale-out benchmark (issue 22): a local redis-server (Debian package) and `focal worker`
 * processes of the built CLI.
 * - throughput of a compute-bound batch with 1, 2 and 4 workers (one job at a time each);
 * - the per-job cost of the queue on a trivial pipeline: the same jobs through one worker, and
 *   in-process (`focal submit` without --queue, which runs the same job code);
 * - Redis memory for 100 000 queued jobs (INFO memory, before and after submitting them).
 * Writes the section between <!-- bench:scale-out --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/scale-out.js [--jobs N] [--queued N] [--no-docs]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, makeJobSpec, writeTiff, type JobSpec } from '../core/index.js';
import { parseQueueUrl, Queue, submitJobs } from '../cli/queue/queue.js';
import { describeMachine, formatLoad, isMain, isoDate, machineInfo, runBenchMain, writeBenchDocs } from './common.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

async function startRedis(port: number, dir: string, extra: string[] = []): Promise<ChildProcess> {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction', ...extra], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG') {
    if (Date.now() > until) throw new Error('redis-server did not start (apt-get install redis-server)');
    await sleep(50);
  }
  return p;
}

function redisUsedMemory(port: number): number {
  const info = spawnSync('redis-cli', ['-p', String(port), 'info', 'memory'], { encoding: 'utf8' }).stdout;
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

function redisCommands(port: number): number {
  const info = spawnSync('redis-cli', ['-p', String(port), 'info', 'stats'], { encoding: 'utf8' }).stdout;
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? NaN);
}

function run(args: string[]): Promise<{ code: number | null; ms: number; stdout: string }> {
  const t0 = performance.now();
  return new Promise((res) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => res({ code, ms: performance.now() - t0, stdout: out }));
  });
}

function startWorkers(url: string, queueName: string, n: number): { procs: ChildProcess[]; ready: Promise<void> } {
  const procs: ChildProcess[] = [];
  const readies: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const c = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--queue-name', queueName, '--name', `b${i}`, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(c);
    readies.push(new Promise((r) => c.stdout!.on('data', (d: Buffer) => d.toString().includes('worker-ready') && r())));
  }
  return { procs, ready: Promise.all(readies).then(() => undefined) };
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGTERM'))))));
}

async function stackFile(file: string, size: number, seed: number): Promise<void> {
  const planes = Array.from({ length: 2 }, (_, p) => {
    const a = new Uint16Array(size * size);
    for (let i = 0; i < a.length; i++) a[i] = (i * 7 + p * 131 + seed * 977) % 4096;
    return a;
  });
  const s = createStack({ width: size, height: size, dtype: 'uint16', sizeC: 1, sizeZ: 2, planes });
  s.calibration = { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 1 };
  await writeTiff(file, s);
}

export interface ScaleOutResult {
  compute: { jobs: number; workers: number; seconds: number; jobsPerMin: number }[];
  overhead: { jobs: number; queuedS: number; inProcessS: number; freshS: number; perJobMs: number; commandsPerJob: number };
  memory: { setting: string; jobs: number; bytes: number; bytesPerJob: number; submitS: number }[];
  markdown: string;
}

export async function benchScaleOut(options: { jobs?: number; queued?: number; writeDocs?: boolean; log?: (m: string) => void } = {}): Promise<ScaleOutResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const machine = machineInfo();
  const root = mkdtempSync(join(tmpdir(), 'focal-bench-scale-'));
  await mkdir(join(root, 'redis'));
  const port = await freePort();
  const redis = await startRedis(port, join(root, 'redis'));
  const url = `redis://127.0.0.1:${port}`;
  try {
    // compute-bound: a wide Gaussian on 1024² planes (about a second of one core per job)
    const nJobs = options.jobs ?? 16;
    const computeDir = join(root, 'compute-in');
    await mkdir(computeDir);
    for (let i = 0; i < nJobs; i++) await stackFile(join(computeDir, `c${String(i).padStart(2, '0')}.tif`), 1024, i);
    const heavy = join(root, 'heavy.json');
    writeFileSync(heavy, JSON.stringify({ name: 'heavy', inputs: { stack: { type: 'stack' } }, nodes: { g: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaUm: 6 } } }, outputs: { g: 'g.stack' } }));
    const compute: ScaleOutResult['compute'] = [];
    for (const workers of [1, 2, 4]) {
      const q = `compute-${workers}`;
      const w = startWorkers(url, q, workers);
      await w.ready;
      const r = await run(['submit', heavy, '--input', join(computeDir, '*.tif'), '--out', join(root, `compute-out-${workers}`), '--queue', url, '--queue-name', q, '--wait', '--json']);
      if (r.code !== 0) throw new Error(`compute batch with ${workers} worker(s) failed`);
      await stopWorkers(w.procs);
      compute.push({ jobs: nJobs, workers, seconds: r.ms / 1000, jobsPerMin: (nJobs / r.ms) * 60_000 });
      log(`compute: ${workers} worker(s): ${nJobs} jobs in ${(r.ms / 1000).toFixed(1)} s`);
    }

    // trivial pipeline: queue overhead per job
    const tinyDir = join(root, 'tiny-in');
    await mkdir(tinyDir);
    const nTiny = 40;
    for (let i = 0; i < nTiny; i++) await stackFile(join(tinyDir, `t${String(i).padStart(2, '0')}.tif`), 16, i);
    const copy = join(root, 'copy.json');
    writeFileSync(copy, JSON.stringify({ name: 'copy', inputs: { img: { type: 'stack' } }, nodes: {}, outputs: { copy: 'img' } }));
    const w = startWorkers(url, 'tiny', 1);
    await w.ready;
    const commandsBefore = redisCommands(port);
    const queued = await run(['submit', copy, '--input', join(tinyDir, '*.tif'), '--out', join(root, 'tiny-q'), '--queue', url, '--queue-name', 'tiny', '--wait', '--json']);
    const commandsPerJob = (redisCommands(port) - commandsBefore) / nTiny;
    await stopWorkers(w.procs);
    const local = await run(['submit', copy, '--input', join(tinyDir, '*.tif'), '--out', join(root, 'tiny-l'), '--json']);
    const fresh = await run(['submit', copy, '--input', join(tinyDir, '*.tif'), '--out', join(root, 'tiny-f'), '--fresh-thread', '--json']);
    if (queued.code !== 0 || local.code !== 0 || fresh.code !== 0) throw new Error('trivial batch failed');
    const overhead = { jobs: nTiny, queuedS: queued.ms / 1000, inProcessS: local.ms / 1000, freshS: fresh.ms / 1000, perJobMs: (queued.ms - local.ms) / nTiny, commandsPerJob };
    log(`trivial: queued ${overhead.queuedS.toFixed(2)} s, in-process ${overhead.inProcessS.toFixed(2)} s`);

    // memory of queued jobs, each on a fresh Redis: default settings, and the recommended
    // hash-max-listpack-value 512 (a job's hash then stays in Redis's compact encoding)
    const nQueued = options.queued ?? 100_000;
    const pipeline = join(root, 'copy.json');
    const template: JobSpec = await makeJobSpec(pipeline, { img: join(tinyDir, 't00.tif') }, join(root, 'mem-out', 't00'), 't00');
    const specs: JobSpec[] = Array.from({ length: nQueued }, (_, i) => ({
      ...template,
      inputs: { img: join(root, 'plate-01', `well-${String(i).padStart(6, '0')}_field-1.tif`) },
      inputSha256: { img: (i.toString(16).padStart(8, '0') + template.inputSha256.img).slice(0, 64) },
      out: join(root, 'mem-out', `well-${String(i).padStart(6, '0')}_field-1`),
      label: `well-${String(i).padStart(6, '0')}_field-1`,
    }));
    const memory: ScaleOutResult['memory'] = [];
    for (const [setting, extra] of [['default settings', []], ['hash-max-listpack-value 512', ['--hash-max-listpack-value', '512']]] as [string, string[]][]) {
      const memPort = await freePort();
      const memDir = join(root, `redis-mem-${memory.length}`);
      await mkdir(memDir);
      const memRedis = await startRedis(memPort, memDir, extra);
      try {
        const before = redisUsedMemory(memPort);
        const queue = new Queue('memory', { connection: parseQueueUrl(`redis://127.0.0.1:${memPort}`) });
        const t0 = performance.now();
        await submitJobs(queue, specs);
        const submitS = (performance.now() - t0) / 1000;
        const after = redisUsedMemory(memPort);
        await queue.close();
        memory.push({ setting, jobs: nQueued, bytes: after - before, bytesPerJob: (after - before) / nQueued, submitS });
        log(`memory (${setting}): ${nQueued} queued jobs: ${((after - before) / 2 ** 20).toFixed(1)} MiB`);
      } finally {
        spawnSync('redis-cli', ['-p', String(memPort), 'shutdown', 'nosave']);
        await new Promise((r) => (memRedis.exitCode !== null ? r(null) : memRedis.once('exit', r)));
      }
    }

    const base = compute[0].seconds;
    const markdown = [
      '## Scale-out: job queue on Redis (bench/scale-out.ts)',
      '',
      `Local redis-server (Debian package; AOF on, \`maxmemory-policy noeviction\`), \`focal worker\` processes of the built CLI, batches from \`focal submit --queue … --wait\` (times include the submitting process's start).`,
      '',
      `Machine: ${describeMachine(machine)}; load average at start ${formatLoad(machine.load)}. Date: ${isoDate()}.`,
      '',
      `Compute-bound batch: ${nJobs} jobs, \`filter.gaussian\` σ = 6 µm on a 1024 × 1024 × 2-plane uint16 stack each.`,
      '',
      '| Workers | Time (s) | Jobs / min | Speed-up vs 1 worker |',
      '|---:|---:|---:|---:|',
      ...compute.map((c) => `| ${c.workers} | ${c.seconds.toFixed(1)} | ${c.jobsPerMin.toFixed(1)} | ${(base / c.seconds).toFixed(2)}× |`),
      '',
      `Per-job cost of the queue: ${nTiny} jobs of a pass-through pipeline on 16 × 16 stacks took ${overhead.queuedS.toFixed(2)} s through one worker and ${overhead.inProcessS.toFixed(2)} s in-process (\`focal submit\` without --queue, the same job code): **${overhead.perJobMs.toFixed(0)} ms per job** for the queue (Redis round trips, BullMQ's lock and the worker's poll). Both keep a job's run thread for the next job; in-process with \`--fresh-thread\` (a new thread, loading Focal, per job) the batch took ${overhead.freshS.toFixed(2)} s, ${(((overhead.freshS - overhead.inProcessS) * 1000) / nTiny).toFixed(0)} ms more per job. Redis processed ${overhead.commandsPerJob.toFixed(0)} commands per job over that batch (submission, the worker's fetch, lock, completion, events and the submitter's polling; \`INFO stats\` total_commands_processed).`,
      '',
      `Redis memory: ${nQueued.toLocaleString('en-US')} queued jobs (specs with realistic absolute paths, ~${Math.round(JSON.stringify(specs[0]).length)} bytes of JSON each), \`used_memory\` of a fresh Redis before and after submitting (goal < 100 MB):`,
      '',
      '| Redis setting | Memory | Bytes per job | Submit time (s) |',
      '|---|---:|---:|---:|',
      ...memory.map((m) => `| ${m.setting} | ${(m.bytes / 1e6).toFixed(1)} MB | ${m.bytesPerJob.toFixed(0)} | ${m.submitS.toFixed(1)} |`),
      '',
      "With Redis's default `hash-max-listpack-value 64` each job's hash (its data is ~400 bytes) falls back to the hashtable encoding; at 512 it stays a listpack. docs/scale-out.md recommends the setting.",
      '',
      'Reproduce: `npx tsc -p tsconfig.build.json && node dist/bench/scale-out.js`',
    ].join('\n');
    await writeBenchDocs(options, 'scale-out', markdown, log, ROOT);
    return { compute, overhead, memory, markdown };
  } finally {
    spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']);
    await new Promise((r) => (redis.exitCode !== null ? r(null) : redis.once('exit', r)));
  }
}

if (isMain(import.meta.url)) {
  runBenchMain((args) => benchScaleOut({ jobs: args.number('--jobs'), queued: args.number('--queued'), writeDocs: !args.has('--no-docs') }), (r) => r.markdown);
}
