import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createImage, type Image } from '../data/image.js';
import { createStack, type Stack } from '../data/stack.js';
import { createTable } from '../data/table.js';
import { FocalError } from '../errors.js';
import { catalogFromPlugins } from '../plugin/catalog.js';
import { defineOperation, definePlugin, type Logger, type OpContext, type ServiceProvider } from '../plugin/contract.js';
import { runPipeline, valueKind, type RunEvent, type RunOptions } from './executor.js';
import type { PipelineDocument, Pipeline } from './schema.js';

// A real garbage collector for the memory test (V8 exposes `gc` to new contexts once the flag is set).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** What the test ops saw; reset before each test. */
const trace = {
  active: 0,
  maxActive: 0,
  started: [] as string[],
  finished: [] as string[],
  aborted: [] as string[],
  contexts: new Map<string, OpContext>(),
  received: new Map<string, unknown>(),
  released: new Map<string, WeakRef<object>>(),
  probe: new Map<string, boolean>(),
};
beforeEach(() => {
  trace.active = 0;
  trace.maxActive = 0;
  trace.started = [];
  trace.finished = [];
  trace.aborted = [];
  trace.contexts.clear();
  trace.received.clear();
  trace.released.clear();
  trace.probe.clear();
});

/** Waits `ms`, rejecting with E_CANCELLED as soon as the signal aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new FocalError('E_CANCELLED', 'cancelled'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function tracked<T>(ctx: OpContext, ms: number, body: () => T): Promise<T> {
  const id = ctx.nodeId!;
  trace.started.push(id);
  trace.contexts.set(id, ctx);
  trace.active++;
  trace.maxActive = Math.max(trace.maxActive, trace.active);
  try {
    await abortableSleep(ms, ctx.signal);
    const result = body();
    trace.finished.push(id);
    return result;
  } catch (err) {
    if (ctx.signal.aborted) trace.aborted.push(id);
    throw err;
  } finally {
    trace.active--;
  }
}

function addToStack(stack: Stack, add: number): Stack {
  return createStack({
    width: stack.width, height: stack.height, dtype: 'float32', sizeC: stack.sizeC, sizeZ: stack.sizeZ, sizeT: stack.sizeT,
    planes: stack.planes.map((p) => Float32Array.from(p, (v) => v + add)),
  });
}

const add = defineOperation({
  id: 'test.add',
  title: 'Add',
  description: 'Adds a constant after a delay; reports progress.',
  inputs: { stack: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.object({ value: z.number().default(1), ms: z.number().default(10), fail: z.string().optional(), record: z.boolean().default(false) }),
  run: (ctx, { stack }, params) => {
    if (params.record) trace.received.set(ctx.nodeId!, stack);
    ctx.progress(-0.5, 'starting');
    ctx.progress(0.4);
    ctx.progress(0.2); // going back is ignored
    return tracked(ctx, params.ms, () => {
      if (params.fail) throw new Error(params.fail);
      ctx.progress(7, 'done');
      return { stack: addToStack(stack, params.value) };
    });
  },
});

const sum = defineOperation({
  id: 'test.sum',
  title: 'Sum',
  description: 'Adds two stacks.',
  inputs: { a: { type: 'stack' }, b: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.object({ ms: z.number().default(5) }),
  run: (ctx, { a, b }, params) =>
    tracked(ctx, params.ms, () => ({
      stack: createStack({ width: a.width, height: a.height, dtype: 'float32', sizeC: a.sizeC, sizeZ: a.sizeZ, sizeT: a.sizeT, planes: a.planes.map((p, i) => Float32Array.from(p, (v, j) => v + b.planes[i][j])) }),
    })),
});

const first = defineOperation({
  id: 'test.first-plane',
  title: 'First plane',
  description: 'Returns the first plane as an image and its mean as json.',
  inputs: { stack: { type: 'stack' } },
  outputs: { image: { type: 'image' }, mean: { type: 'json' }, extra: { type: 'table', optional: true } },
  params: z.object({}),
  run: (ctx, { stack }) =>
    tracked(ctx, 1, () => {
      const data = Float32Array.from(stack.planes[0]);
      return { image: createImage({ width: stack.width, height: stack.height, data }), mean: data.reduce((s, v) => s + v, 0) / data.length };
    }),
});

const make = defineOperation({
  id: 'test.make',
  title: 'Make',
  description: 'Creates a constant stack (no inputs); remembers it in a WeakRef.',
  inputs: {},
  outputs: { stack: { type: 'stack' } },
  params: z.object({ value: z.number().default(0), size: z.int().default(4) }),
  run: (ctx, _inputs, { value, size }) =>
    tracked(ctx, 1, () => {
      const stack = createStack({ width: size, height: size, dtype: 'float32', planes: [new Float32Array(size * size).fill(value)] });
      trace.released.set(ctx.nodeId!, new WeakRef(stack));
      return { stack };
    }),
});

const probe = defineOperation({
  id: 'test.probe',
  title: 'Probe',
  description: 'Collects garbage, then records whether the value made by params.node is still alive.',
  inputs: { stack: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.object({ node: z.string() }),
  run: async (ctx, { stack }, { node }) => {
    await sleep(5);
    gc();
    trace.probe.set(ctx.nodeId!, trace.released.get(node)!.deref() !== undefined);
    return { stack };
  },
});

const misbehave = defineOperation({
  id: 'test.misbehave',
  title: 'Misbehave',
  description: 'Returns the wrong things.',
  inputs: {},
  outputs: { image: { type: 'image' } },
  params: z.object({ mode: z.enum(['missing', 'table', 'cancel', 'string-throw']) }),
  run: (_ctx, _inputs, { mode }) => {
    if (mode === 'cancel') throw new FocalError('E_CANCELLED', 'the op gave up');
    if (mode === 'string-throw') throw 'plain string'; // eslint-disable-line no-throw-literal
    return (mode === 'missing' ? {} : { image: createTable(['a']) }) as never;
  },
});

const context = defineOperation({
  id: 'test.context',
  title: 'Context',
  description: 'Logs and resolves a service.',
  inputs: { image: { type: 'image' } },
  outputs: { result: { type: 'json' } },
  params: z.object({ factor: z.number().default(3) }),
  run: (ctx, { image }, params) => {
    ctx.log.info('hello', { extra: 1 });
    const greeting = ctx.services.resolve<string>('greeting');
    return { result: { greeting, factor: params.factor, width: image.width } };
  },
});

const catalog = catalogFromPlugins([definePlugin({ id: 'test', version: '0.0.1', description: 'test ops', operations: [add, sum, first, make, probe, misbehave, context] })]);

interface LogLine { level: string; message: string; fields?: Record<string, unknown> }
function memoryLogger(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
const services: ServiceProvider = { resolve: <T>(token: unknown) => (token === 'greeting' ? 'hi' : undefined) as T };

function pipeline(doc: PipelineDocument): Pipeline {
  return doc as Pipeline; // runPipeline validates and fills defaults itself
}

function options(inputs: Record<string, unknown>, extra: Partial<RunOptions> = {}): RunOptions {
  return { catalog, inputs, services, logger: memoryLogger(), ...extra };
}

const stackOf = (value: number, planes = 1) =>
  createStack({ width: 2, height: 2, dtype: 'float32', sizeZ: planes, planes: Array.from({ length: planes }, () => new Float32Array(4).fill(value)) });

async function rejection(promise: Promise<unknown>): Promise<FocalError> {
  try {
    await promise;
  } catch (err) {
    return err as FocalError;
  }
  throw new Error('expected the promise to reject');
}

describe('runPipeline: order and results', () => {
  it('runs a diamond in dependency order and computes its outputs', async () => {
    const doc = pipeline({
      name: 'diamond',
      inputs: { s: { type: 'stack' } },
      nodes: {
        total: { op: 'test.sum', in: { a: 'left.stack', b: 'right.stack' } },
        left: { op: 'test.add', in: { stack: 'top.stack' }, params: { value: 10 } },
        right: { op: 'test.add', in: { stack: 'top.stack' }, params: { value: 100, ms: 20 } },
        top: { op: 'test.add', in: { stack: 's' }, params: { value: 1 } },
      },
      outputs: { total: 'total.stack', top: 'top.stack' },
    });
    const events: RunEvent[] = [];
    const result = await runPipeline(doc, options({ s: stackOf(2, 3) }, { onEvent: (e) => events.push(e), concurrency: 4 }));

    expect(trace.started[0]).toBe('top');
    expect(trace.started.slice(1, 3).sort()).toEqual(['left', 'right']);
    expect(trace.started[3]).toBe('total');
    const starts = events.filter((e) => e.type === 'node-start').map((e) => (e as { node: string }).node);
    const dones = events.filter((e) => e.type === 'node-done').map((e) => (e as { node: string }).node);
    expect(starts.indexOf('total')).toBeGreaterThan(Math.max(dones.indexOf('left'), dones.indexOf('right')));

    const total = result.outputs.total;
    expect(total.type).toBe('stack');
    expect((total.value as Stack).sizeZ).toBe(3);
    // top = 3; left = 13; right = 103; total = 116
    expect(Array.from((total.value as Stack).planes[2])).toEqual([116, 116, 116, 116]);
    expect(Array.from((result.outputs.top.value as Stack).planes[0])).toEqual([3, 3, 3, 3]);
    expect(Object.keys(result.timings).sort()).toEqual(['left', 'right', 'top', 'total']);
    expect(result.timings.right).toBeGreaterThanOrEqual(15);
  });

  it('respects the concurrency bound, and uses it', async () => {
    const nodes = Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`n${i}`, { op: 'test.add', in: { stack: 's' }, params: { ms: 15 } }]));
    const outputs = Object.fromEntries(Object.keys(nodes).map((n) => [n, `${n}.stack`]));
    for (const concurrency of [1, 2, 3]) {
      trace.maxActive = 0;
      const result = await runPipeline(pipeline({ name: 'wide', inputs: { s: { type: 'stack' } }, nodes, outputs }), options({ s: stackOf(0) }, { concurrency }));
      expect(trace.maxActive).toBe(concurrency);
      expect(Object.keys(result.outputs)).toHaveLength(7);
    }
    trace.maxActive = 0;
    await runPipeline(pipeline({ name: 'wide', inputs: { s: { type: 'stack' } }, nodes, outputs }), options({ s: stackOf(0) }));
    expect(trace.maxActive).toBe(2); // the default
    await expect(runPipeline(pipeline({ name: 'w', inputs: { s: { type: 'stack' } }, outputs: { o: 's' } }), options({ s: stackOf(0) }, { concurrency: 0 })))
      .rejects.toMatchObject({ code: 'E_ARGUMENT' });
  });

  it('reports node progress clamped and monotone, and run progress monotone up to 1', async () => {
    const events: RunEvent[] = [];
    await runPipeline(
      pipeline({
        name: 'chain',
        inputs: { s: { type: 'stack' } },
        nodes: { a: { op: 'test.add', in: { stack: 's' } }, b: { op: 'test.add', in: { stack: 'a.stack' } }, c: { op: 'test.add', in: { stack: 's' } } },
        outputs: { b: 'b.stack', c: 'c.stack' },
      }),
      options({ s: stackOf(0) }, { onEvent: (e) => events.push(e) }),
    );
    const nodeA = events.filter((e): e is Extract<RunEvent, { type: 'node-progress' }> => e.type === 'node-progress' && e.node === 'a');
    expect(nodeA.map((e) => e.fraction)).toEqual([0, 0.4, 0.4, 1]);
    expect(nodeA[0].label).toBe('starting');
    expect(nodeA[3]).toMatchObject({ op: 'test.add', label: 'done' });
    const run = events.filter((e): e is Extract<RunEvent, { type: 'run-progress' }> => e.type === 'run-progress');
    expect(run[0]).toMatchObject({ type: 'run-progress', fraction: 0, done: 0, total: 3 });
    for (let i = 1; i < run.length; i++) expect(run[i].elapsedMs).toBeGreaterThanOrEqual(run[i - 1].elapsedMs);
    for (let i = 1; i < run.length; i++) expect(run[i].fraction).toBeGreaterThanOrEqual(run[i - 1].fraction);
    expect(run.every((e) => e.fraction >= 0 && e.fraction <= 1)).toBe(true);
    expect(run.at(-1)).toMatchObject({ type: 'run-progress', fraction: 1, done: 3, total: 3, etaMs: 0 });
    // Some intermediate values were reported between whole nodes.
    expect(run.some((e) => e.fraction > 0 && e.fraction < 1 && e.fraction * 3 !== Math.round(e.fraction * 3))).toBe(true);
    expect(events.filter((e) => e.type === 'node-done').map((e) => (e as { ms: number }).ms).every((ms) => ms > 0)).toBe(true);
  });

  it('feeds an image to a stack port as a one-plane stack', async () => {
    const image = createImage({ width: 2, height: 2, data: new Float32Array([1, 2, 3, 4]) });
    const result = await runPipeline(
      pipeline({ name: 'coerce', inputs: { img: { type: 'image' } }, nodes: { plus: { op: 'test.add', in: { stack: 'img' }, params: { value: 1, record: true } } }, outputs: { out: 'plus.stack', same: 'img' } }),
      options({ img: image }),
    );
    const received = trace.received.get('plus') as Stack;
    expect(valueKind(received)).toBe('stack');
    expect(received.planes).toHaveLength(1);
    expect(received.planes[0]).toBe(image.data); // shares the pixels, no copy
    expect(Array.from((result.outputs.out.value as Stack).planes[0])).toEqual([2, 3, 4, 5]);
    expect(result.outputs.same).toEqual({ type: 'image', value: image });
  });

  it('coerces an image given for a stack input, and passes an input straight to an output with no nodes', async () => {
    const image = createImage({ width: 3, height: 1, data: new Uint16Array([1, 2, 3]) });
    const result = await runPipeline(pipeline({ name: 'convert', inputs: { s: { type: 'stack' } }, outputs: { copy: 's' } }), options({ s: image }));
    expect(result.outputs.copy.type).toBe('stack');
    expect(valueKind(result.outputs.copy.value)).toBe('stack');
    expect((result.outputs.copy.value as Stack).planes[0]).toBe(image.data);
    expect(result.timings).toEqual({});

    const events: RunEvent[] = [];
    const json = { threshold: 3 };
    const r2 = await runPipeline(pipeline({ name: 'j', inputs: { cfg: { type: 'json' } }, nodes: {}, outputs: { cfg: 'cfg' } }), options({ cfg: json }, { onEvent: (e) => events.push(e) }));
    expect(r2.outputs).toEqual({ cfg: { type: 'json', value: json } });
    expect(events).toMatchObject([{ type: 'run-progress', fraction: 1, done: 0, total: 0, etaMs: 0 }]);
    expect(events).toHaveLength(1);
  });

  it('runs nodes with no inputs, applies param defaults, handles json and image outputs, and omits absent optional outputs', async () => {
    const result = await runPipeline(
      pipeline({
        name: 'gen',
        nodes: { m: { op: 'test.make', params: { value: 4 } }, f: { op: 'test.first-plane', in: { stack: 'm.stack' } } },
        outputs: { image: 'f.image', mean: 'f.mean', extra: 'f.extra' },
      }),
      options({}),
    );
    expect(result.outputs.mean).toEqual({ type: 'json', value: 4 });
    expect(result.outputs.image.type).toBe('image');
    expect((result.outputs.image.value as Image).width).toBe(4); // size defaulted to 4
    expect(result.outputs).not.toHaveProperty('extra');
  });

  it('gives operations a tagged logger, the services, the node id and parsed params', async () => {
    const logger = memoryLogger();
    const result = await runPipeline(
      pipeline({ name: 'ctx', inputs: { img: { type: 'image' } }, nodes: { c: { op: 'test.context', in: { image: 'img' } } }, outputs: { r: 'c.result' } }),
      options({ img: createImage({ width: 5, height: 1 }) }, { logger }),
    );
    expect(result.outputs.r.value).toEqual({ greeting: 'hi', factor: 3, width: 5 });
    expect(logger.lines).toContainEqual({ level: 'info', message: 'hello', fields: { plugin: 'test', op: 'test.context', node: 'c', extra: 1 } });
  });
});

describe('runPipeline: inputs', () => {
  const doc = pipeline({ name: 'one', inputs: { s: { type: 'stack' } }, nodes: { a: { op: 'test.add', in: { stack: 's' } } }, outputs: { a: 'a.stack' } });

  it('rejects a missing, unknown or wrongly typed input, naming it', async () => {
    expect(await rejection(runPipeline(doc, options({})))).toMatchObject({ code: 'E_USAGE', message: "pipeline input 's' (stack) was not given" });
    expect(await rejection(runPipeline(doc, options({ s: stackOf(1), t: stackOf(1) })))).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining("no input 't'") });
    expect(await rejection(runPipeline(doc, options({ s: createTable(['x']) })))).toMatchObject({ code: 'E_PORT', message: "pipeline input 's' must be a stack, but was given a table", details: { field: '/inputs/s' } });
    expect(await rejection(runPipeline(doc, options({ s: { some: 'json' } })))).toMatchObject({ code: 'E_PORT', message: expect.stringContaining('given a json') });
    const img = pipeline({ name: 'i', inputs: { i: { type: 'image' } }, outputs: { i: 'i' } });
    expect(await rejection(runPipeline(img, options({ i: stackOf(1, 3) })))).toMatchObject({ code: 'E_PORT', message: expect.stringContaining("pipeline input 'i' takes a single image plane, but got a stack of c=1, z=3, t=1") });
    expect(trace.started).toEqual([]);
  });

  it('accepts a one-plane stack for an image port, as that plane', async () => {
    const img = pipeline({ name: 'i', inputs: { i: { type: 'image' } }, outputs: { i: 'i' } });
    const result = await runPipeline(img, options({ i: stackOf(7) }));
    expect(result.outputs.i.type).toBe('image');
    expect((result.outputs.i.value as { kind: string; data: Float32Array }).kind).toBe('image');
    expect(Array.from((result.outputs.i.value as { data: Float32Array }).data)).toEqual([7, 7, 7, 7]);
  });

  it('validates the pipeline first (E_PIPELINE with the problems)', async () => {
    const bad = pipeline({ name: 'bad', inputs: { s: { type: 'stack' } }, nodes: { a: { op: 'test.ad', in: { stack: 's' } } }, outputs: { a: 'a.stack' } });
    const err = await rejection(runPipeline(bad, options({ s: stackOf(1) })));
    expect(err.code).toBe('E_PIPELINE');
    expect(err.details.problems).toEqual([expect.objectContaining({ code: 'E_OP_NOT_FOUND', pointer: '/nodes/a/op' })]);
  });
});

describe('runPipeline: cancellation and failure', () => {
  const chain = pipeline({
    name: 'chain',
    inputs: { s: { type: 'stack' } },
    nodes: {
      one: { op: 'test.add', in: { stack: 's' }, params: { ms: 10 } },
      two: { op: 'test.add', in: { stack: 'one.stack' }, params: { ms: 2000 } },
      three: { op: 'test.add', in: { stack: 'two.stack' }, params: { ms: 10 } },
    },
    outputs: { out: 'three.stack' },
  });

  it('cancels mid-run: aborts the running node, starts no other, rejects with E_CANCELLED', async () => {
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const started = Date.now();
    const onEvent = (e: RunEvent) => {
      events.push(e);
      if (e.type === 'node-start' && e.node === 'two') setTimeout(() => controller.abort(), 20);
    };
    const err = await rejection(runPipeline(chain, options({ s: stackOf(0) }, { signal: controller.signal, onEvent })));
    expect(err).toBeInstanceOf(FocalError);
    expect(err.code).toBe('E_CANCELLED');
    expect(Date.now() - started).toBeLessThan(1500); // did not wait for node 'two' to finish its 2 s
    expect(trace.started).toEqual(['one', 'two']);
    expect(trace.aborted).toEqual(['two']);
    expect(trace.contexts.get('two')!.signal.aborted).toBe(true);
    expect(events).toContainEqual(expect.objectContaining({ type: 'node-error', node: 'two', code: 'E_CANCELLED' }));
    expect(events.some((e) => e.type === 'node-start' && e.node === 'three')).toBe(false);
  });

  it('cancels before the start', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await rejection(runPipeline(chain, options({ s: stackOf(0) }, { signal: controller.signal })))).toMatchObject({ code: 'E_CANCELLED' });
    expect(trace.started).toEqual([]);
  });

  it('wraps a node failure with node and op, aborts the other running nodes and starts no more', async () => {
    const doc = pipeline({
      name: 'fail',
      inputs: { s: { type: 'stack' } },
      nodes: {
        blur: { op: 'test.add', in: { stack: 's' }, params: { ms: 20, fail: 'sigma too large for a 2×2 image' } },
        slow: { op: 'test.add', in: { stack: 's' }, params: { ms: 2000 } },
        later: { op: 'test.add', in: { stack: 's' }, params: { ms: 1 } },
        after: { op: 'test.add', in: { stack: 'blur.stack' } },
      },
      outputs: { a: 'after.stack', s: 'slow.stack', l: 'later.stack' },
    });
    const events: RunEvent[] = [];
    const err = await rejection(runPipeline(doc, options({ s: stackOf(0) }, { concurrency: 2, onEvent: (e) => events.push(e) })));
    expect(err.code).toBe('E_NODE_FAILED');
    expect(err.message).toBe("node 'blur' (test.add) failed: sigma too large for a 2×2 image");
    expect(err.details).toMatchObject({ node: 'blur', op: 'test.add' });
    expect((err.cause as Error).message).toBe('sigma too large for a 2×2 image');
    expect(trace.started).toEqual(['blur', 'slow']);
    expect(trace.aborted).toEqual(['slow']);
    expect(trace.contexts.get('slow')!.signal.reason).toMatchObject({ code: 'E_CANCELLED', message: "cancelled: node 'blur' failed" });
    expect(events).toContainEqual({ type: 'node-error', node: 'blur', op: 'test.add', code: 'E_NODE_FAILED', message: err.message });
    // The promise settled only after the aborted node had returned.
    expect(trace.active).toBe(0);
  });

  it('propagates an operation\'s own E_CANCELLED as a cancellation and wraps non-Error throws', async () => {
    const run = (mode: string) => runPipeline(pipeline({ name: 'm', nodes: { bad: { op: 'test.misbehave', params: { mode } } }, outputs: { o: 'bad.image' } }), options({}));
    expect(await rejection(run('cancel'))).toMatchObject({ code: 'E_CANCELLED', message: 'the op gave up' });
    expect(await rejection(run('string-throw'))).toMatchObject({ code: 'E_NODE_FAILED', message: "node 'bad' (test.misbehave) failed: plain string" });
  });

  it('rejects results that break the op\'s declared outputs (E_PLUGIN naming node, op and port)', async () => {
    const run = (mode: string) => runPipeline(pipeline({ name: 'm', nodes: { bad: { op: 'test.misbehave', params: { mode } } }, outputs: { o: 'bad.image' } }), options({}));
    expect(await rejection(run('missing'))).toMatchObject({
      code: 'E_PLUGIN', details: { node: 'bad', op: 'test.misbehave', port: 'image' },
      message: "node 'bad' (test.misbehave): the operation did not return its output 'image' (image)",
    });
    expect(await rejection(run('table'))).toMatchObject({
      code: 'E_PLUGIN', details: { node: 'bad', op: 'test.misbehave', port: 'image' },
      message: "node 'bad' (test.misbehave): output 'image' is declared an image but the operation returned a table",
    });
  });
});

describe('runPipeline: memory', () => {
  it('releases an intermediate value once its last consumer has started, before the run ends', async () => {
    const doc = pipeline({
      name: 'mem',
      nodes: {
        big: { op: 'test.make', params: { value: 1, size: 256 } },
        mid: { op: 'test.add', in: { stack: 'big.stack' }, params: { ms: 1 } },
        late: { op: 'test.probe', in: { stack: 'mid.stack' }, params: { node: 'big' } },
      },
      outputs: { out: 'late.stack' },
    });
    const logger = memoryLogger();
    const result = await runPipeline(doc, options({}, { logger }));
    expect(trace.probe.get('late')).toBe(false); // collected while 'late' was running
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'debug', message: 'released intermediate value', fields: { ref: 'big.stack' } }));
    expect(Array.from((result.outputs.out.value as Stack).planes[0].subarray(0, 2))).toEqual([2, 2]);
  });

  it('keeps a value that a pipeline output names until the end', async () => {
    const doc = pipeline({
      name: 'mem-kept',
      nodes: {
        big: { op: 'test.make', params: { value: 1, size: 256 } },
        mid: { op: 'test.add', in: { stack: 'big.stack' }, params: { ms: 1 } },
        late: { op: 'test.probe', in: { stack: 'mid.stack' }, params: { node: 'big' } },
      },
      outputs: { out: 'late.stack', big: 'big.stack' },
    });
    const result = await runPipeline(doc, options({}));
    expect(trace.probe.get('late')).toBe(true);
    expect(result.outputs.big.value).toBe(trace.released.get('big')!.deref());
  });
});
