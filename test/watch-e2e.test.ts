import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStack, readTiff, writeTiff } from '../core/index.js';
import { BIN, focal, ROOT, sha256, tempDir } from './helpers.js';

const SAMPLE = join(ROOT, 'samples', 'cells-zstack.tif');
const DEMO = join(ROOT, 'pipelines', 'denoise-project.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Watcher {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<number | null>;
  waitFor(pred: (events: Record<string, unknown>[]) => boolean, timeoutMs?: number): Promise<void>;
}

function startWatcher(args: string[]): Watcher {
  const child = spawn(process.execPath, [BIN, 'watch', ...args, '--json'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
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
  const waitFor = async (pred: (e: Record<string, unknown>[]) => boolean, timeoutMs = 15_000) => {
    const until = Date.now() + timeoutMs;
    while (!pred(events)) {
      if (Date.now() > until) throw new Error(`timed out; events: ${JSON.stringify(events)}\nstderr: ${stderr.join('')}`);
      if (child.exitCode !== null) throw new Error(`watcher exited (${child.exitCode}); events: ${JSON.stringify(events)}\nstderr: ${stderr.join('')}`);
      await sleep(20);
    }
  };
  return { child, events, stderr, exited, waitFor };
}

/** Writes `bytes` to `dest` in two parts with a pause in between, as a slow copy would. */
async function slowCopy(bytes: Uint8Array, dest: string, pauseMs = 120): Promise<void> {
  const half = Math.floor(bytes.length / 2);
  const fh = await open(dest, 'w');
  await fh.write(bytes, 0, half);
  await fh.sync();
  await sleep(pauseMs);
  await fh.write(bytes, half, bytes.length - half, half);
  await fh.close();
}

/** A small 2-channel z-stack (64×48, 4 z) with distinct content per seed. */
async function smallStack(file: string, seed: number): Promise<void> {
  const w = 64;
  const h = 48;
  const planes = Array.from({ length: 8 }, (_, p) => {
    const a = new Uint16Array(w * h);
    for (let i = 0; i < a.length; i++) a[i] = (i * 7 + p * 131 + seed * 977) % 4096;
    return a;
  });
  const s = createStack({ width: w, height: h, dtype: 'uint16', sizeC: 2, sizeZ: 4, planes });
  s.calibration = { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 1 };
  await writeTiff(file, s);
}

function ledgerLatest(out: string): Map<string, Record<string, unknown>> {
  const latest = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(join(out, '.focal-watch', 'ledger.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as Record<string, unknown>;
    latest.set(rec.id as string, rec);
  }
  return latest;
}

function runJsons(dir: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) found.push(...runJsons(p));
    else if (e.name === 'run.json') found.push(p);
  }
  return found;
}

describe('focal watch (end to end, built CLI)', () => {
  it('processes every input exactly once across a kill -9 and restart, with complete outputs and a failed report for a corrupt file', async () => {
    const root = tempDir('focal-watch-e2e-');
    const src = join(root, 'src');
    const inDir = join(root, 'in');
    const out = join(root, 'out');
    await mkdir(src);
    await mkdir(join(inDir, 'day1'), { recursive: true });
    for (let i = 0; i < 5; i++) await smallStack(join(src, `small${i}.tif`), i);
    const sample = await readFile(SAMPLE);
    const bytes = async (name: string) => readFile(join(src, name));
    const args = [inDir, '--pipeline', DEMO, '--out', out, '--settle-ms', '400', '--acquisition-timeout-s', '2', '--concurrency', '2'];

    // present before the first start: picked up by the initial scan
    await slowCopy(sample, join(inDir, 'cells-a.tif'));
    await slowCopy(await bytes('small0.tif'), join(inDir, 'small0.tif'));

    const w1 = startWatcher(args);
    await w1.waitFor((e) => e.some((x) => x.event === 'watch-ready'));
    // arrive while it watches, slowly and in parts
    await slowCopy(sample, join(inDir, 'cells-b.tif'));
    await slowCopy(await bytes('small1.tif'), join(inDir, 'day1', 'small1.tif'));
    await slowCopy(sample, join(inDir, 'day1', 'cells-c.tif'));
    // kill -9 while a job is running (at least one job has started after another finished)
    const inFlight = (e: Record<string, unknown>[]) => {
      const done = new Set(e.filter((x) => x.event === 'job-done').map((x) => x.id));
      return e.filter((x) => x.event === 'job-started' && !done.has(x.id)).map((x) => x.id as string);
    };
    await w1.waitFor((e) => e.some((x) => x.event === 'job-done') && inFlight(e).length > 0);
    w1.child.kill('SIGKILL');
    await w1.exited;
    const killedIds = inFlight(w1.events);
    expect(killedIds.length).toBeGreaterThan(0);
    const doneBeforeKill = w1.events.filter((x) => x.event === 'job-done').length;

    // arrive while it is down, one of them half-written at restart
    await slowCopy(await bytes('small2.tif'), join(inDir, 'small2.tif'));
    await slowCopy(sample, join(inDir, 'day1', 'cells-d.tif'));
    await writeFile(join(inDir, 'corrupt.tif'), Buffer.concat([Buffer.from('II*\0'), Buffer.alloc(3000, 7)]));
    const late = await bytes('small3.tif');
    const lateFile = await open(join(inDir, 'small3.tif'), 'w');
    await lateFile.write(late, 0, late.length >> 1);
    await lateFile.sync();

    const w2 = startWatcher([...args, '--once']);
    await w2.waitFor((e) => e.some((x) => x.event === 'watch-ready'));
    await sleep(300);
    await lateFile.write(late, late.length >> 1, late.length - (late.length >> 1), late.length >> 1);
    await lateFile.close();
    const code = await w2.exited;
    expect(code, w2.stderr.join('')).toBe(1); // --once exits 1 when a job failed

    const good = ['cells-a', 'small0', 'cells-b', 'day1/small1', 'day1/cells-c', 'small2', 'day1/cells-d', 'small3'];
    // ledger: exactly one done job per good input, one failed for the corrupt file, nothing left running
    const latest = [...ledgerLatest(out).values()];
    const doneKeys = latest.filter((r) => r.state === 'done').map((r) => relative(inDir, r.key as string).replace(/\.tif$/, ''));
    expect(doneKeys.sort()).toEqual([...good].sort());
    expect(latest.filter((r) => r.state === 'running' || r.state === 'queued')).toEqual([]);
    const failed = latest.filter((r) => r.state === 'failed');
    expect(failed.map((r) => relative(inDir, r.key as string))).toEqual(['corrupt.tif']);

    // outputs: one folder with a run.json per input, no duplicates, no temp leftovers
    const runs = runJsons(out).map((f) => relative(out, join(f, '..'))).sort();
    expect(runs).toEqual([...good].sort());
    expect(readdirSync(join(out, '.focal-watch')).sort()).toEqual(['ledger.jsonl']);
    for (const name of good) {
      const run = JSON.parse(readFileSync(join(out, name, 'run.json'), 'utf8')) as { inputs: { stack: { sha256: string; file: string } } };
      expect(run.inputs.stack.sha256).toBe(sha256(run.inputs.stack.file)); // the output belongs to these input bytes
      const mip = await readTiff(join(out, name, 'mip.tif'));
      expect([mip.sizeC, mip.sizeZ]).toEqual([2, 1]);
      const nuclei = await readTiff(join(out, name, 'nuclei.tif'));
      expect(nuclei.dtype).toBe('uint8');
    }
    // inputs untouched
    expect(sha256(join(inDir, 'cells-a.tif'))).toBe(sha256(SAMPLE));
    expect(sha256(join(inDir, 'small3.tif'))).toBe(sha256(join(src, 'small3.tif')));
    expect(statSync(join(inDir, 'corrupt.tif')).size).toBe(3004);

    // failed report for the corrupt file, the watcher went on with the rest
    const report = JSON.parse(readFileSync(join(out, 'failed', 'corrupt.json'), 'utf8')) as { input: string; error: { code: string; message: string } };
    expect(report.input).toBe(join(inDir, 'corrupt.tif'));
    expect(report.error.code).toBe('E_FORMAT');
    expect(readFileSync(join(out, 'failed', 'corrupt.txt'), 'utf8')).toMatch(/^E_FORMAT: /);
    const failedEvents = w2.events.filter((x) => x.event === 'job-failed');
    expect(failedEvents).toHaveLength(1);
    expect(failedEvents[0]).toMatchObject({ code: 'E_FORMAT' });

    // across both runs no input completed twice (an event printed just before the kill may be lost: the ledger is the record)
    const allDone = [...w1.events, ...w2.events].filter((x) => x.event === 'job-done').map((x) => relative(inDir, x.input as string).replace(/\.tif$/, ''));
    expect(new Set(allDone).size).toBe(allDone.length);
    expect(allDone.every((k) => good.includes(k))).toBe(true);
    expect(allDone.length).toBeGreaterThanOrEqual(good.length - 1);
    expect(doneBeforeKill).toBeGreaterThanOrEqual(1);
    // the jobs killed mid-run ended done exactly once: re-run, or found complete by recovery
    const byId = ledgerLatest(out);
    for (const id of killedIds) expect(byId.get(id)?.state).toBe('done');

    // a third start finds nothing to do
    const w3 = startWatcher([...args, '--once']);
    expect(await w3.exited).toBe(0);
    expect(w3.events.filter((x) => x.event === 'job-queued')).toEqual([]);
    // the ledger was compacted at start: one line per job
    const ledgerLines = readFileSync(join(out, '.focal-watch', 'ledger.jsonl'), 'utf8').trim().split('\n');
    expect(ledgerLines.length).toBe(ledgerLatest(out).size);
    expect(existsSync(join(out, 'cells-a-'))).toBe(false);
  }, 40_000);

  it('on SIGTERM finishes the running job and exits 0; a second signal abandons it (exit 130) and the next start runs it', async () => {
    const root = tempDir('focal-watch-sig-');
    const inDir = join(root, 'in');
    const out = join(root, 'out');
    await mkdir(inDir);
    const sample = await readFile(SAMPLE);
    await writeFile(join(inDir, 'a.tif'), sample);
    await writeFile(join(inDir, 'b.tif'), sample);
    const args = [inDir, '--pipeline', DEMO, '--out', out, '--settle-ms', '100'];

    const w1 = startWatcher(args);
    await w1.waitFor((e) => e.some((x) => x.event === 'job-started'));
    w1.child.kill('SIGTERM');
    expect(await w1.exited).toBe(0);
    const stopped = w1.events.find((x) => x.event === 'watch-stopped');
    expect(stopped).toMatchObject({ abandoned: 0 });
    const firstId = w1.events.find((x) => x.event === 'job-started')!.id;
    expect(w1.events.find((x) => x.event === 'job-done')).toMatchObject({ id: firstId });

    // second start: stop twice while a job runs
    const w2 = startWatcher(args);
    await w2.waitFor((e) => e.some((x) => x.event === 'job-started'));
    w2.child.kill('SIGTERM');
    w2.child.kill('SIGINT');
    const code = await w2.exited;
    const abandoned = (w2.events.find((x) => x.event === 'watch-stopped') as { abandoned: number }).abandoned;
    expect(code).toBe(abandoned > 0 ? 130 : 0); // the job may have finished before the second signal landed
    expect(readdirSync(join(out, '.focal-watch')).filter((f) => f.startsWith('tmp-'))).toEqual([]);

    const w3 = startWatcher([...args, '--once']);
    expect(await w3.exited).toBe(0);
    expect(runJsons(out).length).toBe(2);
    expect(readdirSync(out).sort()).toEqual(['.focal-watch', 'a', 'b']);
  }, 30_000);
});

describe('focal watch: symbolic links (issue 25)', () => {
  it('skips a symlink loop and a link out of the folder by default, saying so; --follow-symlinks enters the loop once', async () => {
    const root = tempDir('focal-watch-links-');
    const inDir = join(root, 'in');
    await mkdir(join(root, 'outside'), { recursive: true });
    await mkdir(inDir);
    await smallStack(join(inDir, 'a.tif'), 1);
    await smallStack(join(root, 'outside', 'x.tif'), 2);
    symlinkSync(inDir, join(inDir, 'loop'));
    symlinkSync(join(root, 'outside', 'x.tif'), join(inDir, 'ext.tif'));
    const copy = join(root, 'copy.json');
    await writeFile(copy, JSON.stringify({ name: 'copy', inputs: { img: { type: 'stack' } }, nodes: {}, outputs: { copy: 'img' } }));
    const base = ['watch', inDir, '--pipeline', copy, '--once', '--settle-ms', '100'];

    const plain = focal([...base, '--out', join(root, 'out1')]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain(`skipped ${join(inDir, 'ext.tif')}: a symbolic link; not followed (use --follow-symlinks to follow links)`);
    expect(readdirSync(join(root, 'out1')).sort()).toEqual(['.focal-watch', 'a']);

    const followed = focal([...base, '--out', join(root, 'out2'), '--follow-symlinks', '--json']);
    expect(followed.code).toBe(0);
    const events = followed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; reason?: string });
    expect(events.filter((e) => e.event === 'job-done')).toHaveLength(2);
    expect(events.some((e) => e.event === 'job-skipped' && /not entered again/.test(e.reason ?? ''))).toBe(true);
    expect(readdirSync(join(root, 'out2')).sort()).toEqual(['.focal-watch', 'a', 'ext']);
  }, 60_000);
});
