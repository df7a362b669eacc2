import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createStack } from '../data/stack.js';
import { createTable } from '../data/table.js';
import { catalogFromPlugins } from '../plugin/catalog.js';
import { defineOperation, definePlugin, type ServiceProvider } from '../plugin/contract.js';
import { runPipeline } from './executor.js';
import type { Pipeline } from './schema.js';

const seen: Record<string, boolean>[] = [];
const costly = defineOperation({
  id: 't.costly',
  title: 'two outputs',
  description: 'a cheap table and an expensive stack, made only when wanted',
  inputs: { s: { type: 'stack' } },
  outputs: { summary: { type: 'table' }, preview: { type: 'stack' } },
  params: z.object({}),
  run(ctx, { s }) {
    const wants = { summary: ctx.wants?.('summary') ?? true, preview: ctx.wants?.('preview') ?? true };
    seen.push(wants);
    const summary = createTable(['n'], [{ n: s.planes.length }]);
    return wants.preview ? { summary, preview: s } : { summary, preview: undefined! };
  },
});
const catalog = catalogFromPlugins([definePlugin({ id: 't', version: '1.0.0', description: 't', operations: [costly] })]);
const services: ServiceProvider = { resolve: () => { throw new Error('no services'); } };
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const stack = createStack({ width: 2, height: 2, dtype: 'uint8', planes: [new Uint8Array(4)] });
const doc = (outputs: Record<string, string>) => ({ name: 'w', inputs: { s: { type: 'stack' } }, nodes: { c: { op: 't.costly', in: { s: 's' }, params: {} } }, outputs }) as unknown as Pipeline;

describe('ctx.wants: outputs nobody uses need not be made', () => {
  it('tells the op which outputs the pipeline uses, and accepts a required output left out when nobody wants it', async () => {
    seen.length = 0;
    const r = await runPipeline(doc({ summary: 'c.summary' }), { catalog, inputs: { s: stack }, services, logger });
    expect(seen).toEqual([{ summary: true, preview: false }]);
    expect(Object.keys(r.outputs)).toEqual(['summary']);
    const both = await runPipeline(doc({ summary: 'c.summary', preview: 'c.preview' }), { catalog, inputs: { s: stack }, services, logger });
    expect(seen[1]).toEqual({ summary: true, preview: true });
    expect(Object.keys(both.outputs).sort()).toEqual(['preview', 'summary']);
  });
});
