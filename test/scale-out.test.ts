/**
 * Scale-out end to end (issue 22): a real redis-server (Debian package, installed by
 * scripts/install-system-deps.sh), three `focal worker` processes of the built CLI, batches
 * submitted with `focal submit --queue`. Exactly-once outputs across a worker killed with
 * SIGKILL mid-job and a Redis restart mid-batch; a failing job reported once; a resubmission
 * does no work; the in-process default gives the same folders.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, parseCsv, writeTiff } from '../core/index.js';
import { BIN, focal, ROOT, tempDir } from './helpers.js';

const PIPELINE = join(ROOT, 'pipelines', 'denoise-project.json');
/**
 * The test plugin whose faulty.slow takes 300 ms: a worker keeps its run thread between jobs, so
 * denoise-project on these small stacks takes about 20 ms, and a SIGKILL would mostly land
 * between jobs rather than in one.
 */
const SLOW_PLUGIN = join(ROOT, 'test', 'fixtures', 'faulty-plugin');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

class Redis {
  proc?: ChildProcess;
  constructor(readonly port: number, readonly dir: string) {}
  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
    const until = Date.now() + 10_000;
    while (spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG') {
      if (Date.now() > until) throw new Error('redis-server did not start (is the Debian package redis-server installed? scripts/install-system-deps.sh installs it)');
      await sleep(50);
    }
  }
  /** A clean shutdown (Redis writes its append-only file), as a restart for maintenance would. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown']);
    await exited;
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
}

interface Worker {
  name: string;
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
}

function startWorker(url: string, name: string, globals: string[] = []): Worker {
  const child = spawn(process.execPath, [BIN, ...globals, 'worker', '--queue', url, '--name', name, '--lock-s', '2', '--json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line.trim()) events.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { name, child, events, stderr, exited };
}

async function waitFor(what: string, pred: () => boolean, timeoutMs: number, debug: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${debug()}`);
    await sleep(50);
  }
}

async function smallStack(file: string, seed: number): Promise<void> {
  const w = 48;
  const h = 40;
  const planes = Array.from({ length: 4 }, (_, p) => {
    const a = new Uint16Array(w * h);
    for (let i = 0; i < a.length; i++) a[i] = (i * 7 + p * 131 + seed * 977) % 4096;
    return a;
  });
  const s = createStack({ width: w, height: h, dtype: 'uint16', sizeC: 2, sizeZ: 2, planes });
  s.calibration = { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 1 };
  await writeTiff(file, s);
}

const doneIds = (ws: Worker[]) => ws.flatMap((w) => w.events.filter((e) => e.event === 'job-done').map((e) => e.id as string));

describe('focal worker / submit / queue on Redis (BullMQ)', () => {
  let redis: Redis;
  let root: string;

  beforeAll(async () => {
    root = tempDir('focal-scale-');
    await mkdir(join(root, 'redis'));
    redis = new Redis(await freePort(), join(root, 'redis'));
    await redis.start();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('60 jobs on 3 workers: each output once, across a SIGKILLed worker and a Redis restart; a bad input reported once; a resubmission does nothing', async () => {
    const inDir = join(root, 'in');
    const out = join(root, 'out');
    await mkdir(inDir);
    const names: string[] = [];
    for (let i = 0; i < 60; i++) {
      const name = `s${String(i).padStart(2, '0')}`;
      names.push(name);
      await smallStack(join(inDir, `${name}.tif`), i);
    }
    writeFileSync(join(inDir, 'bad.tif'), Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(500, 3)]));
    // denoise-project's outputs, each job 300 ms long (SLOW_PLUGIN)
    const pipeline = join(root, 'slow-project.json');
    writeFileSync(pipeline, JSON.stringify({
      name: 'slow-project',
      inputs: { stack: { type: 'stack' } },
      nodes: {
        slow: { op: 'faulty.slow', in: { stack: 'stack' } },
        mip: { op: 'stack.project', in: { stack: 'slow.stack' }, params: { axis: 'z', method: 'max' } },
        nuclei: { op: 'stack.substack', in: { stack: 'mip.stack' }, params: { c: '0' } },
      },
      outputs: { mip: 'mip.stack', nuclei: 'nuclei.stack' },
    }));
    const plugin = ['--plugin', SLOW_PLUGIN];

    const workers = [startWorker(redis.url, 'w1', plugin), startWorker(redis.url, 'w2', plugin), startWorker(redis.url, 'w3', plugin)];
    const debug = () => workers.map((w) => `${w.name}: ${JSON.stringify(w.events.slice(-5))} ${w.stderr.join('').slice(-2000)}`).join('\n');
    await waitFor('workers ready', () => workers.every((w) => w.events.some((e) => e.event === 'worker-ready')), 30_000, debug);

    const sub = focal([...plugin, 'submit', pipeline, '--input', join(inDir, '*.tif'), '--out', out, '--queue', redis.url, '--json']);
    expect(sub.code, sub.stderr).toBe(0);
    const submitted = JSON.parse(sub.stdout.trim()) as { submitted: number; known: number; ids: string[] };
    expect(submitted).toMatchObject({ submitted: 61, known: 0 });

    // SIGKILL a worker while it holds a job
    const victim = workers[0];
    const running = () => {
      const finished = new Set(victim.events.filter((e) => e.event === 'job-done' || e.event === 'job-failed').map((e) => e.id));
      return victim.events.filter((e) => e.event === 'job-started' && !finished.has(e.id)).map((e) => e.id as string);
    };
    await waitFor('a job running on w1 after one finished', () => doneIds([victim]).length >= 1 && running().length > 0, 60_000, debug);
    const killedJob = running()[0];
    victim.child.kill('SIGKILL');
    await victim.exited;

    // restart Redis mid-batch
    await waitFor('more progress', () => doneIds(workers).length >= 15, 60_000, debug);
    await redis.stop();
    await sleep(500);
    await redis.start();

    const live = workers.slice(1);
    await waitFor('every job finished', () => names.every((n) => existsSync(join(out, n, 'run.json'))) && existsSync(join(out, 'failed', 'bad.json')), 120_000, debug);

    const finishedIds = () => new Set(workers.flatMap((w) => w.events.filter((e) => e.event === 'job-done' || e.event === 'job-already-done' || (e.event === 'job-failed' && e.final)).map((e) => e.id)));
    await waitFor('every job reported by a worker', () => finishedIds().size === 61, 20_000, debug);

    // each good input: one complete output folder written by one job run, and no temp leftovers
    expect(readdirSync(out).sort()).toEqual([...names, 'failed'].sort());
    for (const n of names) {
      expect(readdirSync(join(out, n)).sort()).toEqual(['job.json', 'mip.tif', 'nuclei.tif', 'run.json']);
      const job = JSON.parse(readFileSync(join(out, n, 'job.json'), 'utf8')) as { spec: { inputs: { stack: string } } };
      expect(job.spec.inputs.stack).toBe(join(inDir, `${n}.tif`));
    }
    const done = doneIds(workers);
    expect(new Set(done).size, 'no job completed twice').toBe(done.length);
    expect(done.length).toBeGreaterThanOrEqual(59); // the killed one may have been found done by its retry
    // the job killed mid-run finished on another worker
    expect(live.some((w) => w.events.some((e) => (e.event === 'job-done' || e.event === 'job-already-done') && e.id === killedJob))).toBe(true);

    // the bad input: one final failure, with the watch-style report
    const finals = workers.flatMap((w) => w.events.filter((e) => e.event === 'job-failed' && e.final));
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ code: 'E_FORMAT' });
    const report = JSON.parse(readFileSync(join(out, 'failed', 'bad.json'), 'utf8')) as { input: string; error: { code: string } };
    expect(report.input).toBe(join(inDir, 'bad.tif'));
    expect(report.error.code).toBe('E_FORMAT');

    // status and resubmission
    const status = focal(['queue', 'status', '--queue', redis.url, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const st = JSON.parse(status.stdout) as { counts: Record<string, number>; workers: { name: string }[] };
    expect(st.counts).toMatchObject({ waiting: 0, active: 0, completed: 60, failed: 1 });
    expect(st.workers.map((w) => w.name).sort()).toEqual(['w2', 'w3']);
    const startedBefore = live.map((w) => w.events.filter((e) => e.event === 'job-started').length);
    const again = focal([...plugin, 'submit', pipeline, '--input', join(inDir, '*.tif'), '--out', out, '--queue', redis.url, '--json']);
    expect(JSON.parse(again.stdout.trim())).toMatchObject({ submitted: 0, known: 61 });
    await sleep(1500);
    expect(live.map((w) => w.events.filter((e) => e.event === 'job-started').length)).toEqual(startedBefore);

    // SIGTERM: the workers stop cleanly
    for (const w of live) w.child.kill('SIGTERM');
    expect(await Promise.all(live.map((w) => w.exited))).toEqual([0, 0]);
    expect(live.every((w) => w.events.some((e) => e.event === 'worker-stopped'))).toBe(true);
  }, 240_000);

  it('without --queue runs the same jobs in this process; a rerun finds them done', async () => {
    const inDir = join(root, 'in-local');
    const out = join(root, 'out-local');
    await mkdir(inDir);
    for (let i = 0; i < 3; i++) await smallStack(join(inDir, `a${i}.tif`), i);
    const csv = join(root, 'jobs.csv');
    writeFileSync(csv, `stack,out\nin-local/a0.tif,first\nin-local/a1.tif,second\n${join(inDir, 'a2.tif')},third\n`);
    const r = focal(['submit', PIPELINE, '--csv', csv, '--out', out, '--concurrency', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; label: string });
    expect(events.filter((e) => e.event === 'job-done').map((e) => e.label).sort()).toEqual(['first', 'second', 'third']);
    expect(readdirSync(out).sort()).toEqual(['first', 'second', 'third']);
    const again = focal(['submit', PIPELINE, '--csv', csv, '--out', out, '--json']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['job-already-done', 'job-already-done', 'job-already-done']);
  }, 60_000);

  it('focal watch --queue hands each landed file to the workers and keeps its ledger and output folders', async () => {
    const inDir = join(root, 'in-watch');
    const out = join(root, 'out-watch');
    await mkdir(inDir);
    for (let i = 0; i < 4; i++) await smallStack(join(inDir, `w${i}.tif`), 10 + i);
    const worker = startWorker(redis.url, 'ww');
    await waitFor('worker ready', () => worker.events.some((e) => e.event === 'worker-ready'), 30_000, () => worker.stderr.join(''));
    const r = focal(['watch', inDir, '--pipeline', PIPELINE, '--out', out, '--once', '--settle-ms', '100', '--concurrency', '4', '--queue', redis.url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(events.filter((e) => e.event === 'job-done')).toHaveLength(4);
    expect(readdirSync(out).sort()).toEqual(['.focal-watch', 'w0', 'w1', 'w2', 'w3']);
    expect(readdirSync(join(out, '.focal-watch'))).toEqual(['ledger.jsonl']);
    expect(readdirSync(join(out, 'w2')).sort()).toEqual(['job.json', 'mip.tif', 'nuclei.tif', 'run.json']);
    // the worker's output arrives once this (blocked, spawnSync) test resumes reading it
    await waitFor('the worker reports 4 jobs done', () => worker.events.filter((e) => e.event === 'job-done').length === 4, 10_000, () => JSON.stringify(worker.events));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 90_000);

  it('focal submit --queue --wait and focal watch --queue append the workers\' tables to the combined CSVs', async () => {
    const tablePipeline = join(ROOT, 'pipelines', 'best-focus.json'); // outputs the table `scores` (one row per plane)
    const inDir = join(root, 'in-tables');
    await mkdir(inDir);
    for (let i = 0; i < 3; i++) await smallStack(join(inDir, `t${i}.tif`), 20 + i);
    const worker = startWorker(redis.url, 'wt');
    await waitFor('worker ready', () => worker.events.some((e) => e.event === 'worker-ready'), 30_000, () => worker.stderr.join(''));
    const combined = (file: string) => parseCsv(readFileSync(file, 'utf8'), file);
    const out = join(root, 'out-tables');
    const r = focal(['submit', tablePipeline, '--input', join(inDir, '*.tif'), '--out', out, '--queue', redis.url, '--wait', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(events.filter((e) => e.event === 'tables-appended')).toHaveLength(3);
    const t = combined(join(out, 'scores.csv'));
    expect(t.columns.slice(0, 2)).toEqual(['input', 'job']);
    expect([...new Set(t.rows.map((row) => String(row.input)))].sort()).toEqual([0, 1, 2].map((i) => join(inDir, `t${i}.tif`)));
    expect(t.rows).toHaveLength(3 * 2); // two z planes scored per file
    expect(existsSync(join(out, 'index.html'))).toBe(true);

    const watchOut = join(root, 'out-watch-tables');
    const w = focal(['watch', inDir, '--pipeline', tablePipeline, '--out', watchOut, '--once', '--settle-ms', '100', '--concurrency', '3', '--queue', redis.url, '--json']);
    expect(w.code, w.stderr).toBe(0);
    const wt = combined(join(watchOut, 'scores.csv'));
    expect([...new Set(wt.rows.map((row) => String(row.input)))].sort()).toEqual([0, 1, 2].map((i) => join(inDir, `t${i}.tif`)));
    expect(wt.rows).toHaveLength(6);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 90_000);

  it('refuses a bad queue URL, a CSV column that names no input, and a job outside --allow-path, naming them', async () => {
    const bad = focal(['worker', '--queue', 'http://x:1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--queue http://x:1: scheme must be redis:// or rediss://');
    const csv = join(root, 'bad.csv');
    writeFileSync(csv, 'stack,colour\na.tif,red\n');
    const col = focal(['submit', PIPELINE, '--csv', csv, '--out', join(root, 'o')]);
    expect(col.code).toBe(2);
    expect(col.stderr).toContain(`${csv}: column(s) colour name no input of the pipeline`);
    const inDir = join(root, 'in-allow');
    await mkdir(inDir);
    await smallStack(join(inDir, 'x.tif'), 1);
    const out = join(root, 'out-allow');
    const r = focal(['submit', PIPELINE, '--input', join(inDir, 'x.tif'), '--out', out, '--allow-path', inDir, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('is outside the allowed folders');
    expect(existsSync(join(out, 'x'))).toBe(false);
  }, 60_000);
});
