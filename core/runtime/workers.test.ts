import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPUTE_SERVICE, SERVICE_PROVIDER, catalogFromPlugins, createContainer, createWorkerPool, isFocalError, workerModulePath, type FocalError } from '../index.js';

// the workers import the compiled fixture (dist/core/runtime/fixtures/worker-fixture.js): `npm test` builds it first
const fixture = new URL('./fixtures/worker-fixture.ts', import.meta.url).href;

async function caught(p: Promise<unknown>): Promise<FocalError> {
  try {
    await p;
  } catch (e) {
    if (isFocalError(e)) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('worker pool (piscina)', () => {
  const pool = createWorkerPool({ threads: 2 });
  afterAll(() => pool.destroy());

  it('maps a TypeScript source to its compiled file under dist/, and rejects a missing one with E_IO', () => {
    const compiled = workerModulePath(fixture);
    expect(compiled.endsWith('/dist/core/runtime/fixtures/worker-fixture.js')).toBe(true);
    expect(existsSync(compiled)).toBe(true);
    // JavaScript is taken as it is
    expect(workerModulePath(compiled)).toBe(compiled);
    let err: unknown;
    try {
      workerModulePath(new URL('./fixtures/not-there.ts', import.meta.url).href);
    } catch (e) {
      err = e;
    }
    expect(isFocalError(err) && err.code).toBe('E_IO');
    expect((err as Error).message).toMatch(/run npm run build/);
  });

  it('runs an exported function in a worker thread: arguments in, result back, buffers moved both ways', async () => {
    expect(pool.size).toBe(2);
    const values = Float32Array.from({ length: 1000 }, (_, i) => i);
    const res = await pool.run<{ out: Float32Array; seen: number }>(fixture, 'scale', [values, 2.5], { transferList: [values.buffer] });
    expect(res.seen).toBe(1000);
    expect(res.out).toBeInstanceOf(Float32Array);
    expect(res.out[0]).toBe(0);
    expect(res.out[999]).toBe(2497.5);
    // moved, not copied: the caller's view is empty
    expect(values.length).toBe(0);
    expect(await pool.run(fixture, 'describeArgs', [new Uint16Array(3), 4, 'x'])).toEqual(['Uint16Array', 'number', 'string']);
  });

  it('runs tasks concurrently on up to `threads` workers', async () => {
    const t = Date.now();
    const done = await Promise.all([pool.run<number>(fixture, 'spin', [300]), pool.run<number>(fixture, 'spin', [300])]);
    expect(done.every((n) => n > 0)).toBe(true);
    // sequentially it would be ≥ 600 ms; the bound leaves room for worker start-up on a busy machine
    expect(Date.now() - t).toBeLessThan(3000);
  });

  it('propagates errors as FocalError: the function’s own (code, message, details) or E_PLUGIN', async () => {
    const own = await caught(pool.run(fixture, 'failFocal', ['sigmaPx']));
    expect(own.code).toBe('E_PARAMS');
    expect(own.message).toBe('sigmaPx: rejected in a worker');
    expect(own.details).toEqual({ field: 'sigmaPx', extra: [1, 2] });
    const plain = await caught(pool.run(fixture, 'failPlain', []));
    expect(plain.code).toBe('E_PLUGIN');
    expect(plain.message).toMatch(/failPlain.*TypeError: not a number/);
    const missing = await caught(pool.run(fixture, 'noSuchExport', []));
    expect(missing.code).toBe('E_ARGUMENT');
    expect(missing.message).toMatch(/noSuchExport/);
  });

  it('aborting the signal cancels a running task with E_CANCELLED, and an aborted signal starts nothing', async () => {
    const controller = new AbortController();
    const t = Date.now();
    const p = pool.run(fixture, 'spin', [20_000], { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    const err = await caught(p);
    expect(err.code).toBe('E_CANCELLED');
    expect(Date.now() - t).toBeLessThan(10_000);
    const pre = await caught(pool.run(fixture, 'spin', [20_000], { signal: controller.signal }));
    expect(pre.code).toBe('E_CANCELLED');
    // the pool still works after a cancelled task (its worker was replaced)
    expect(await pool.run(fixture, 'describeArgs', [1])).toEqual(['number']);
  });

  it('a task reports progress: increasing fractions with labels reach onProgress before run resolves', async () => {
    const seen: { fraction: number; label?: string }[] = [];
    // 0.15 goes back (ignored); 0.503 is less than 1 % past 0.5: held back, then posted when the task returns
    const n = await pool.run<number>(fixture, 'reportFractions', [[0.1, 0.2, 0.15, 0.5, 0.503]], { onProgress: (fraction, label) => seen.push({ fraction, label }) });
    expect(n).toBe(5);
    expect(seen).toEqual([
      { fraction: 0.1, label: 'at 0.1' },
      { fraction: 0.2, label: 'at 0.2' },
      { fraction: 0.5, label: 'at 0.5' },
      { fraction: 0.503, label: 'at 0.503' },
    ]);
    // out-of-range values are clamped to [0, 1]
    const clamped: number[] = [];
    await pool.run(fixture, 'reportFractions', [[-1, 0.4, 7]], { onProgress: (f) => clamped.push(f) });
    expect(clamped).toEqual([0, 0.4, 1]);
  });

  it('progress reports are throttled in the worker: every 1 % step arrives, not every report, and 1 last', async () => {
    const fractions: number[] = [];
    const gotCallback = await pool.run<boolean>(fixture, 'reportMany', [20_000], { onProgress: (f) => fractions.push(f) });
    expect(gotCallback).toBe(true);
    expect(fractions.length).toBeGreaterThanOrEqual(100);
    expect(fractions.length).toBeLessThan(20_000);
    expect(fractions.at(-1)).toBe(1);
    for (let i = 1; i < fractions.length; i++) {
      expect(fractions[i]).toBeGreaterThan(fractions[i - 1]);
      // no 1 % step is skipped
      expect(fractions[i] - fractions[i - 1]).toBeLessThanOrEqual(0.01 + 1e-4);
    }
  });

  it('without onProgress a task gets no extra argument (existing task functions unchanged); with it, one function last', async () => {
    expect(await pool.run(fixture, 'describeArgs', [1, 'a'])).toEqual(['number', 'string']);
    expect(await pool.run(fixture, 'describeArgs', [1, 'a'], { onProgress: () => undefined })).toEqual(['number', 'string', 'function']);
    expect(await pool.run<boolean>(fixture, 'reportMany', [3])).toBe(false);
  });

  it('an onProgress that throws rejects run with its error once the task is done; a failing task still fails as before', async () => {
    const boom = new Error('progress sink failed');
    await expect(pool.run(fixture, 'reportFractions', [[0.5, 1]], { onProgress: () => { throw boom; } })).rejects.toBe(boom);
    const err = await caught(pool.run(fixture, 'failFocal', ['iterations'], { onProgress: () => undefined }));
    expect(err.code).toBe('E_PARAMS');
    expect(err.details).toEqual({ field: 'iterations', extra: [1, 2] });
  });
});

describe('ComputeService', () => {
  it('DI resolves the compute service with a lazily created pool of `threads` workers', async () => {
    const container = createContainer({ catalog: catalogFromPlugins([]), threads: 2 });
    const compute = container.resolve(SERVICE_PROVIDER).resolve(COMPUTE_SERVICE);
    expect(compute.threads).toBe(2);
    const workers = compute.workers;
    expect(workers.size).toBe(2);
    expect(compute.workers).toBe(workers); // one pool per host
    expect(createContainer({ catalog: catalogFromPlugins([]), threads: 1 }).resolve(COMPUTE_SERVICE).workers).not.toBe(workers);
    try {
      const values = new Float32Array([1, 2, 3]);
      const res = await workers.run<{ out: Float32Array }>(fixture, 'scale', [values, -1]);
      expect([...res.out]).toEqual([-1, -2, -3]);
      expect(fileURLToPath(fixture).endsWith('worker-fixture.ts')).toBe(true);
    } finally {
      await workers.destroy();
    }
  });
});
