import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import type { RunEvent } from '../pipeline/executor.js';
import { prestartIsolatedRun, runIsolated, RunThreadPool } from './isolated-run.js';
import type { LogRecord } from './logger.js';
import type { RunSummary } from './runner.js';

const hostModule = new URL('./fixtures/isolated-host-fixture.ts', import.meta.url).href;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-isolated-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pipeline file: `make` → `<op>` (when given) with both images as outputs. */
async function pipelineFile(op?: string): Promise<string> {
  const nodes: Record<string, unknown> = { make: { op: 'spin.make', in: {}, params: {} } };
  const outputs: Record<string, string> = { ramp: 'make.image' };
  if (op) {
    nodes.work = { op, in: { image: 'make.image' }, params: {} };
    outputs.result = 'work.image';
  }
  const file = join(dir, `${op ?? 'make'}.json`);
  await writeFile(file, JSON.stringify({ name: 'isolated', inputs: {}, nodes, outputs }));
  return file;
}

function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => {
    throw new Error('expected the run to fail');
  }, (e: unknown) => e);
}

describe('runIsolated', () => {
  it('runs a pipeline in its own thread: events, log records and the written outputs come back', async () => {
    const events: RunEvent[] = [];
    const logs: LogRecord[] = [];
    const out = join(dir, 'out');
    const summary = await runIsolated({ pipelineFile: await pipelineFile(), outDir: out }, { hostModule, onEvent: (e) => events.push(e), onLog: (r) => logs.push(r) });
    expect(summary.pipeline).toBe('isolated');
    expect(summary.outputs.map((o) => o.name)).toEqual(['ramp']);
    expect((await readdir(out)).sort()).toEqual(['ramp.tif', 'run.json']);
    expect(events.map((e) => e.type)).toContain('node-done');
    expect(logs.some((r) => r.level === 'warn' && r.message === 'making a ramp' && r.fields.node === 'make')).toBe(true);
  });

  it('stops an operation that never looks at its signal, and leaves no output folder', async () => {
    const controller = new AbortController();
    const out = join(dir, 'nested', 'out');
    const events: RunEvent[] = [];
    const run = runIsolated({ pipelineFile: await pipelineFile('spin.busy'), outDir: out }, {
      hostModule,
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'node-progress' && e.node === 'work') controller.abort();
      },
    });
    const err = await rejection(run);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(events.some((e) => e.type === 'node-done' && e.node === 'work')).toBe(false);
    expect(existsSync(join(dir, 'nested'))).toBe(false);
  });

  it('a cooperative operation stops by itself within the grace time (the thread is not needed to be killed)', async () => {
    const controller = new AbortController();
    const out = join(dir, 'out');
    const events: RunEvent[] = [];
    const run = runIsolated({ pipelineFile: await pipelineFile('spin.cooperative'), outDir: out }, {
      hostModule,
      signal: controller.signal,
      graceMs: 60_000,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'node-progress' && e.node === 'work') controller.abort();
      },
    });
    const err = await rejection(run);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(existsSync(out)).toBe(false);
  });

  it('keeps a folder that existed and what was in it; removes only what the run wrote', async () => {
    const out = join(dir, 'existing');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'mine');
    await writeFile(join(out, 'result.tif'), 'an earlier result');
    const err = await rejection(runIsolated({ pipelineFile: await pipelineFile('spin.fail'), outDir: out }, { hostModule }));
    expect(isFocalError(err) && err.code).toBe('E_NODE_FAILED');
    expect((err as Error).message).toContain('spin.fail: always fails');
    expect((await readdir(out)).sort()).toEqual(['notes.txt', 'result.tif']);
  });

  it('a thread terminated while its writability probe was in the output folder leaves no output folder (tui-tmux cancel flake)', async () => {
    // The run thread writes `.focal-probe-<pid>-<hex>` into the output folder and removes it again
    // (ensureWritableFolder); terminated in between, the probe stayed, the folder was not empty,
    // and the folders the run created stayed. spin.probe leaves such a probe, then never yields.
    const controller = new AbortController();
    const out = join(dir, 'nested', 'out');
    const file = join(dir, 'probe.json');
    await writeFile(file, JSON.stringify({ name: 'probe', inputs: {}, nodes: { work: { op: 'spin.probe', in: {}, params: { dir: out } } }, outputs: { result: 'work.image' } }));
    const err = await rejection(runIsolated({ pipelineFile: file, outDir: out }, {
      hostModule,
      signal: controller.signal,
      graceMs: 0,
      onEvent: (e) => {
        if (e.type === 'node-progress' && e.node === 'work') controller.abort();
      },
    }));
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(existsSync(join(dir, 'nested'))).toBe(false);
  });

  it('a failed run leaves no empty output folder', async () => {
    const out = join(dir, 'a', 'b');
    await rejection(runIsolated({ pipelineFile: await pipelineFile('spin.fail'), outDir: out }, { hostModule }));
    expect(existsSync(join(dir, 'a'))).toBe(false);
  });

  it('an already aborted signal starts nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = join(dir, 'out');
    const err = await rejection(runIsolated({ pipelineFile: await pipelineFile(), outDir: out }, { hostModule, signal: controller.signal }));
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(existsSync(out)).toBe(false);
  });

  it('takes over a prestarted thread: its host module was preloaded, and the environment is the one at run time', async () => {
    const thread = prestartIsolatedRun(hostModule);
    process.env.FOCAL_ISOLATED_TEST = 'set after the thread started';
    try {
      const logs: LogRecord[] = [];
      const file = join(dir, 'env.json');
      await writeFile(file, JSON.stringify({ name: 'env', inputs: {}, nodes: { e: { op: 'spin.env', in: {} } }, outputs: { image: 'e.image' } }));
      await runIsolated({ pipelineFile: file, outDir: join(dir, 'out') }, { hostModule, prestarted: thread, onLog: (r) => logs.push(r) });
      const record = logs.find((r) => r.message === 'environment');
      expect(record?.fields).toMatchObject({ value: 'set after the thread started', preloaded: true });
      // used once: a second run with it starts a thread of its own
      const again = await runIsolated({ pipelineFile: await pipelineFile(), outDir: join(dir, 'out2') }, { hostModule, prestarted: thread });
      expect(again.outputs.map((o) => o.name)).toEqual(['ramp']);
    } finally {
      delete process.env.FOCAL_ISOLATED_TEST;
    }
  });

  it('a prestarted thread for another host module (here one that fails to load) is dropped, and the run starts its own', async () => {
    const broken = join(dir, 'broken-host.mjs');
    await writeFile(broken, "throw new Error('this host module is broken');\n");
    const summary = await runIsolated({ pipelineFile: await pipelineFile(), outDir: join(dir, 'out') }, { hostModule, prestarted: prestartIsolatedRun(broken) });
    expect(summary.outputs.map((o) => o.name)).toEqual(['ramp']);
    // the broken module's own prestarted thread taken over: its load error is the run's error
    const err = await rejection(runIsolated({ pipelineFile: await pipelineFile(), outDir: join(dir, 'out3') }, { hostModule: broken, prestarted: prestartIsolatedRun(broken) }));
    expect(String(err)).toMatch(/this host module is broken/);
    expect(existsSync(join(dir, 'out3'))).toBe(false);
  });

  it('an unused prestarted thread does not keep the process alive', () => {
    const dist = new URL('../../dist/core/runtime/isolated-run.js', import.meta.url).href;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(dist)}); m.prestartIsolatedRun(${JSON.stringify(hostModule)}); console.log('started');`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.trim()).toBe('started');
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a pipeline error keeps its code and details across the thread boundary', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ name: 'bad', inputs: {}, nodes: { x: { op: 'spin.nope', in: {} } }, outputs: {} }));
    const err = await rejection(runIsolated({ pipelineFile: file, outDir: join(dir, 'out') }, { hostModule }));
    expect(isFocalError(err) && err.code).toBe('E_PIPELINE');
    expect(isFocalError(err) && JSON.stringify(err.details)).toContain('/nodes/x/op');
  });
});

describe('RunThreadPool: a thread kept between runs', () => {
  /** Runs spin.thread (or `op` after make) with the pool; the thread's report, or the error. */
  async function threadRun(pool: RunThreadPool, options: { op?: string; hostConfig?: unknown; signal?: AbortSignal } = {}) {
    const logs: LogRecord[] = [];
    const file = join(dir, `thread-${Math.random().toString(36).slice(2)}.json`);
    const nodes: Record<string, unknown> = { t: { op: 'spin.thread', in: {} } };
    const outputs: Record<string, string> = { image: 't.image' };
    if (options.op) {
      nodes.work = { op: options.op, in: { image: 't.image' }, params: {} };
      outputs.result = 'work.image';
    }
    await writeFile(file, JSON.stringify({ name: 'thread', inputs: {}, nodes, outputs }));
    const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
    const run = runIsolated({ pipelineFile: file, outDir: out }, { hostModule, pool, hostConfig: options.hostConfig, signal: options.signal, onLog: (r) => logs.push(r) });
    const result: { summary?: RunSummary; error?: unknown } = await run.then((summary) => ({ summary }), (error: unknown) => ({ error }));
    const report = logs.find((r) => r.message === 'thread')?.fields as { threadId: number; runnersBuilt: number; value: string | null } | undefined;
    return { ...result, report, out };
  }

  it('the next run with the same host takes the kept thread: modules and runner already there, the environment its own', async () => {
    const pool = new RunThreadPool();
    try {
      const first = await threadRun(pool);
      expect(first.summary?.outputs.map((o) => o.name)).toEqual(['image']);
      expect(pool.size).toBe(1);
      process.env.FOCAL_ISOLATED_TEST = 'set between the runs';
      const second = await threadRun(pool);
      expect(second.summary?.outputs.map((o) => o.name)).toEqual(['image']);
      // the environment differs, so the first thread does not serve it (a host may read its
      // environment when it is built): a new thread, and the first one stays kept
      expect(second.report?.threadId).not.toBe(first.report?.threadId);
      expect(first.report?.value).toBeNull();
      expect(second.report?.value).toBe('set between the runs');
      expect(pool.size).toBe(2);
      const third = await threadRun(pool);
      expect(third.report).toMatchObject({ threadId: second.report!.threadId, runnersBuilt: 1, value: 'set between the runs' });
      expect((await readdir(third.out)).sort()).toEqual(['image.tif', 'run.json']);
      expect(pool.size).toBe(2);
    } finally {
      delete process.env.FOCAL_ISOLATED_TEST;
      pool.close();
    }
    expect(pool.size).toBe(0);
  });

  it('a failed or cancelled run\'s thread is not kept; the next run starts a new one', async () => {
    const pool = new RunThreadPool();
    try {
      const ok = await threadRun(pool);
      const failed = await threadRun(pool, { op: 'spin.fail' });
      expect(String(failed.error)).toMatch(/spin.fail: always fails/);
      expect(failed.report?.threadId).toBe(ok.report?.threadId); // the kept thread ran it
      expect(pool.size).toBe(0);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const cancelled = await threadRun(pool, { op: 'spin.cooperative', signal: controller.signal });
      expect(isFocalError(cancelled.error) && cancelled.error.code).toBe('E_CANCELLED');
      expect(cancelled.report?.threadId).not.toBe(ok.report?.threadId);
      expect(existsSync(cancelled.out)).toBe(false);
      expect(pool.size).toBe(0);
      const after = await threadRun(pool);
      expect(after.summary).toBeDefined();
      expect(after.report!.threadId).not.toBe(cancelled.report?.threadId);
      expect(after.report!.runnersBuilt).toBe(1);
    } finally {
      pool.close();
    }
  });

  it('a thread serves only its own host config, at most maxRunsPerThread runs, and is terminated when idle for idleMs', async () => {
    const pool = new RunThreadPool({ maxRunsPerThread: 2 });
    try {
      const a1 = await threadRun(pool, { hostConfig: { name: 'a' } });
      const b1 = await threadRun(pool, { hostConfig: { name: 'b' } });
      expect(b1.report!.threadId).not.toBe(a1.report!.threadId);
      expect(pool.size).toBe(2);
      const a2 = await threadRun(pool, { hostConfig: { name: 'a' } });
      expect(a2.report!.threadId).toBe(a1.report!.threadId);
      expect(pool.size).toBe(1); // a's thread served its two runs and was retired
      const a3 = await threadRun(pool, { hostConfig: { name: 'a' } });
      expect(a3.report!.threadId).not.toBe(a1.report!.threadId);
      expect(pool.size).toBe(2);
    } finally {
      pool.close();
    }
    const brief = new RunThreadPool({ idleMs: 200 });
    await threadRun(brief);
    expect(brief.size).toBe(1);
    for (const until = Date.now() + 10_000; brief.size > 0 && Date.now() < until;) await new Promise((r) => setTimeout(r, 50));
    expect(brief.size).toBe(0);
    expect(() => new RunThreadPool({ maxRunsPerThread: 0 })).toThrow(/maxRunsPerThread/);
  });

  it('a kept idle thread does not keep the process alive', () => {
    const dist = new URL('../../dist/core/runtime/isolated-run.js', import.meta.url).href;
    const pipeline = join(dir, 'make.json');
    const script = `import { writeFileSync } from 'node:fs';
const m = await import(${JSON.stringify(dist)});
writeFileSync(${JSON.stringify(pipeline)}, JSON.stringify({ name: 'p', inputs: {}, nodes: { make: { op: 'spin.make', in: {} } }, outputs: { ramp: 'make.image' } }));
const pool = new m.RunThreadPool();
await m.runIsolated({ pipelineFile: ${JSON.stringify(pipeline)}, outDir: ${JSON.stringify(join(dir, 'alive'))} }, { hostModule: ${JSON.stringify(hostModule)}, pool });
console.log('kept', pool.size);`;
    const file = join(dir, 'keep.mjs');
    writeFileSync(file, script);
    const started = Date.now();
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout.trim(), r.stderr).toBe('kept 1');
    expect(r.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
