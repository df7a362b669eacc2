import { afterEach, describe, expect, it } from 'vitest';
import { FocalError } from '../errors.js';
import { createContainer } from '../runtime/container.js';
import { ML_SERVICE } from '../runtime/services.js';
import { BACKEND_NAMES, detectBackends, loadTf, parseBackendName } from './backend.js';

const savedEnv = process.env.FOCAL_BACKEND;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.FOCAL_BACKEND;
  else process.env.FOCAL_BACKEND = savedEnv;
});

describe('detectBackends', () => {
  it('reports every backend, best first, with a reason for each unavailable one', async () => {
    const reports = await detectBackends();
    expect(reports.map((r) => r.name)).toEqual([...BACKEND_NAMES]);
    for (const r of reports) expect(r.detail.length).toBeGreaterThan(0);
    expect(reports.find((r) => r.name === 'cpu')!.available).toBe(true);
    expect(reports.find((r) => r.name === 'wasm')!.available).toBe(true);
    for (const r of reports.filter((x) => !x.available)) expect(r.detail).toMatch(/npm install|failed|WebAssembly/);
  });
});

describe('parseBackendName', () => {
  it('accepts the four names and auto; rejects others naming the field', () => {
    expect(parseBackendName('WASM')).toBe('wasm');
    expect(parseBackendName('auto')).toBeUndefined();
    expect(parseBackendName(undefined)).toBeUndefined();
    expect(() => parseBackendName('gpu', '--backend')).toThrow(/--backend: unknown backend 'gpu'/);
  });
});

describe('loadTf', () => {
  it('picks the best available backend by default and is idempotent', async () => {
    delete process.env.FOCAL_BACKEND;
    const a = await loadTf();
    const best = a.reports.find((r) => r.available)!.name;
    expect(a.backend).toBe(best);
    const b = await loadTf();
    expect(b.tf).toBe(a.tf);
    expect(b.backend).toBe(a.backend);
  });

  it('honours FOCAL_BACKEND and the option (the option wins), and computes on that backend', async () => {
    process.env.FOCAL_BACKEND = 'cpu';
    const { tf, backend } = await loadTf();
    expect(backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const w = await loadTf({ backend: 'wasm' });
    expect(w.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(Array.from(await tf.add(tf.tensor1d([1, 2]), 1).data())).toEqual([2, 3]);
  });

  it('rejects a bad FOCAL_BACKEND with E_USAGE', async () => {
    process.env.FOCAL_BACKEND = 'cuda';
    await expect(loadTf()).rejects.toMatchObject({ code: 'E_USAGE', details: { field: 'FOCAL_BACKEND' } });
  });

  it('an explicitly requested backend that is not installed is E_UNSUPPORTED with how to enable it', async () => {
    const reports = await detectBackends();
    const missing = reports.find((r) => !r.available);
    if (!missing) return; // every backend installed on this machine: nothing to refuse
    const err = await loadTf({ backend: missing.name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FocalError);
    expect((err as FocalError).code).toBe('E_UNSUPPORTED');
    expect((err as FocalError).message).toContain(`backend '${missing.name}' is not available`);
    expect((err as FocalError).message).toMatch(/npm install @tensorflow\/tfjs-node/);
  });

  it('rejects a bad thread count', async () => {
    await expect(loadTf({ backend: 'cpu', threads: 0 })).rejects.toMatchObject({ code: 'E_ARGUMENT' });
  });
});

describe('ML_SERVICE', () => {
  it('is registered in the host container and delegates to core/ml', async () => {
    const c = createContainer({ catalog: { list: () => [], get: () => undefined } as never, threads: 1 });
    const ml = c.resolve(ML_SERVICE);
    const reports = await ml.detectBackends();
    expect(reports.map((r) => r.name)).toEqual([...BACKEND_NAMES]);
    const { backend } = await ml.loadTf({ backend: 'cpu' });
    expect(backend).toBe('cpu');
    expect(typeof ml.loadModelPackage).toBe('function');
    expect(typeof ml.createInferenceEngine).toBe('function');
  });

  it('can be replaced through the container options', () => {
    const fake = { loadTf: async () => { throw new Error('x'); }, detectBackends: async () => [], loadModelPackage: async () => { throw new Error('x'); }, createInferenceEngine: async () => { throw new Error('x'); } };
    const c = createContainer({ catalog: {} as never, ml: fake as never });
    expect(c.resolve(ML_SERVICE)).toBe(fake);
  });
});
