import { describe, expect, it } from 'vitest';
import { FocalError, isFocalError } from '../errors.js';
import { catalogFromPlugins } from '../plugin/catalog.js';
import { defineOperation, definePlugin, type Logger } from '../plugin/contract.js';
import { runPipeline } from './executor.js';
import type { Pipeline } from './schema.js';
import { runOp } from '../testing/index.js';
import { z } from 'zod';
import { asOpError } from './op-error.js';

const op = defineOperation({
  id: 'test.throws',
  title: 'throws',
  description: 'throws the E_ARGUMENT it is told to',
  inputs: { image: { type: 'json' } },
  outputs: {},
  params: z.object({ field: z.string(), sigmaPx: z.number().default(1) }),
  run(_ctx, _inputs, params) {
    throw new FocalError('E_ARGUMENT', `${params.field}: refused`, { field: params.field });
  },
});

describe('asOpError: the executor maps an op\'s E_ARGUMENT by the op\'s ports and params', () => {
  it('a field naming an input port → E_PORT, a param → E_PARAMS, anything else unchanged', () => {
    const err = (field: string) => new FocalError('E_ARGUMENT', `${field}: refused`, { field });
    expect(asOpError(op, err('image'))).toMatchObject({ code: 'E_PORT', details: { field: 'image' }, message: 'image: refused' });
    expect(asOpError(op, err('sigmaPx'))).toMatchObject({ code: 'E_PARAMS', details: { field: 'sigmaPx' } });
    expect(asOpError(op, err('planes'))).toMatchObject({ code: 'E_ARGUMENT', details: { field: 'planes' } });
    expect(asOpError(op, err('constructor'))).toMatchObject({ code: 'E_ARGUMENT' });
    const other = new FocalError('E_IO', 'disk');
    expect(asOpError(op, other)).toBe(other);
  });

  it('runOp maps as the executor does and keeps the original as cause', async () => {
    const e = await runOp(op, { image: 1 }, { field: 'image' }).catch((x: unknown) => x);
    expect(isFocalError(e) && e.code).toBe('E_PORT');
    expect(isFocalError((e as Error).cause) && ((e as Error).cause as FocalError).code).toBe('E_ARGUMENT');
  });
});

it('a failing node reports E_NODE_FAILED whose cause is the mapped error', async () => {
  const catalog = catalogFromPlugins([definePlugin({ id: 'test', version: '0.0.1', description: 'test', operations: [op] })]);
  const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
  const doc = { name: 'p', inputs: { v: { type: 'json' } }, nodes: { n: { op: 'test.throws', in: { image: 'v' }, params: { field: 'sigmaPx' } } }, outputs: { echo: 'v' } } as unknown as Pipeline;
  const e = await runPipeline(doc, { catalog, inputs: { v: 1 }, services: { resolve: () => undefined as never }, logger: quiet }).catch((x: unknown) => x);
  expect(e).toMatchObject({ code: 'E_NODE_FAILED', message: "node 'n' (test.throws) failed: sigmaPx: refused", details: { node: 'n', op: 'test.throws' } });
  expect((e as Error).cause).toMatchObject({ code: 'E_PARAMS', details: { field: 'sigmaPx' } });
});
