import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStack } from '../data/stack.js';
import { runPipeline } from '../pipeline/executor.js';
import { validatePipeline } from '../pipeline/validate.js';
import type { Pipeline } from '../pipeline/schema.js';
import { catalogFromPlugins } from './catalog.js';
import { defineOperation, definePlugin, type Logger } from './contract.js';
import { withoutPrototype } from './params.js';

// A third-party-style op whose optional parameters carry names that `Object.prototype` also has.
const seen: unknown[] = [];
const protoOp = defineOperation({
  id: 'proto.keys',
  title: 'Prototype-named params',
  description: 'Records the params it was given.',
  inputs: { stack: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.strictObject({
    constructor: z.number().int().min(0).max(10).optional(),
    toString: z.number().min(0).max(10).default(2),
    hasOwnProperty: z.boolean().optional(),
  }),
  run: (_ctx, inputs, params) => {
    seen.push(params);
    return { stack: inputs.stack };
  },
});
const catalog = catalogFromPlugins([definePlugin({ id: 'proto', version: '1.0.0', description: '', operations: [protoOp] })]);
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function pipeline(params: unknown): Pipeline {
  return {
    name: 'proto',
    inputs: { stack: { type: 'stack' } },
    nodes: { n: { op: 'proto.keys', in: { stack: 'stack' }, params } },
    outputs: { out: 'n.stack' },
  } as unknown as Pipeline;
}

describe('prototype keys in params', () => {
  it('validates a pipeline that leaves out an optional param named constructor', () => {
    const r = validatePipeline(pipeline({}), catalog);
    expect(r.problems).toEqual([]);
    expect(r.pipeline).toBeDefined();
  });

  it('runs it and hands the op only the params given or defaulted', async () => {
    seen.length = 0;
    const stack = createStack({ width: 2, height: 2, dtype: 'uint8' });
    const r = await runPipeline(pipeline({ constructor: 3 }), { catalog, inputs: { stack }, services: {} as never, logger: silent });
    expect(Object.keys(r.outputs)).toEqual(['out']);
    expect(seen).toHaveLength(1);
    expect({ ...(seen[0] as object) }).toEqual({ constructor: 3, toString: 2 });
    await runPipeline(pipeline({}), { catalog, inputs: { stack }, services: {} as never, logger: silent });
    expect({ ...(seen[1] as object) }).toEqual({ toString: 2 });
  });

  it('reports a __proto__ key from JSON as an unknown parameter, without touching any prototype', () => {
    const params = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
    const r = validatePipeline(pipeline(params), catalog);
    expect(r.pipeline).toBeUndefined();
    expect(r.problems.map((p) => p.pointer)).toContain('/nodes/n/params/__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('withoutPrototype keeps own keys (even __proto__) and drops inherited ones', () => {
    const copy = withoutPrototype(JSON.parse('{"a": 1, "__proto__": 2}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(Object.keys(copy)).toEqual(['a', '__proto__']);
    expect('constructor' in copy).toBe(false);
    expect(withoutPrototype([1, 2])).toEqual([1, 2]);
  });
});
