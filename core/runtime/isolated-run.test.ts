import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import type { RunEvent } from '../pipeline/executor.js';
import { runIsolated } from './isolated-run.js';
import type { LogRecord } from './logger.js';

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

  it('a pipeline error keeps its code and details across the thread boundary', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ name: 'bad', inputs: {}, nodes: { x: { op: 'spin.nope', in: {} } }, outputs: {} }));
    const err = await rejection(runIsolated({ pipelineFile: file, outDir: join(dir, 'out') }, { hostModule }));
    expect(isFocalError(err) && err.code).toBe('E_PIPELINE');
    expect(isFocalError(err) && JSON.stringify(err.details)).toContain('/nodes/x/op');
  });
});
