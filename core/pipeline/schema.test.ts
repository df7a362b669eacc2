import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogFromPlugins } from '../plugin/catalog.js';
import { defineOperation, definePlugin } from '../plugin/contract.js';
import { parseRef, pipelineJsonSchema, PipelineSchema } from './schema.js';

const project = defineOperation({
  id: 'stack.project',
  title: 'Project',
  description: 'Projects a stack along an axis.',
  inputs: { stack: { type: 'stack' } },
  outputs: { image: { type: 'image' } },
  params: z.object({
    axis: z.enum(['z', 't']).default('z').describe('Axis to project along'),
    method: z.enum(['max', 'mean']).default('max'),
  }),
  run: (_ctx, { stack }) => ({ image: { kind: 'image' as const, width: stack.width, height: stack.height, dtype: stack.dtype, data: stack.planes[0], calibration: {}, metadata: {} } }),
});

const overlay = defineOperation({
  id: 'stack.overlay',
  title: 'Overlay',
  description: 'Draws a mask over a stack.',
  inputs: { stack: { type: 'stack' }, mask: { type: 'image', optional: true } },
  outputs: { stack: { type: 'stack' } },
  params: z.object({ color: z.string().default('red') }),
  run: (_ctx, { stack }) => ({ stack }),
});

const catalog = catalogFromPlugins([definePlugin({ id: 'stack', version: '1.0.0', description: 'stack ops', operations: [project, overlay] })]);

const valid = {
  $schema: '../docs/pipeline.schema.json',
  name: 'max-projection',
  description: 'Maximum-intensity projection along z',
  inputs: { stack: { type: 'stack', default: '../samples/cells.tif', description: 'a z-stack' } },
  nodes: { mip: { op: 'stack.project', in: { stack: 'stack' }, params: { axis: 'z', method: 'max' } } },
  outputs: { mip: 'mip.image' },
};

describe('PipelineSchema', () => {
  it('accepts a complete pipeline and fills defaults', () => {
    const parsed = PipelineSchema.parse(valid);
    expect(parsed.nodes.mip.in).toEqual({ stack: 'stack' });
    expect(parsed.inputs.stack.default).toBe('../samples/cells.tif');

    const minimal = PipelineSchema.parse({ name: 'convert', inputs: { img: { type: 'image' } }, outputs: { out: 'img' } });
    expect(minimal.nodes).toEqual({});
    const generator = PipelineSchema.parse({ name: 'g', nodes: { make: { op: 'gen.noise' } }, outputs: { out: 'make.image' } });
    expect(generator.inputs).toEqual({});
    expect(generator.nodes.make.in).toEqual({});
    expect(generator.nodes.make.params).toBeUndefined();
  });

  it('rejects unknown keys at every level', () => {
    const top = PipelineSchema.safeParse({ ...valid, extra: 1 });
    expect(top.success).toBe(false);
    expect(top.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['extra'], path: [] });

    const node = PipelineSchema.safeParse({ ...valid, nodes: { mip: { op: 'stack.project', in: { stack: 'stack' }, param: {} } } });
    expect(node.error!.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['param'], path: ['nodes', 'mip'] });
  });

  it('rejects names with dots, bad references, missing name, empty outputs and bad port types', () => {
    const cases: [unknown, (string | number)[]][] = [
      [{ ...valid, nodes: { 'my.node': valid.nodes.mip } }, ['nodes', 'my.node']],
      [{ ...valid, inputs: { '1st': { type: 'stack' } } }, ['inputs', '1st']],
      [{ ...valid, outputs: { mip: 'mip.image.x' } }, ['outputs', 'mip']],
      [{ ...valid, outputs: { mip: '' } }, ['outputs', 'mip']],
      [{ ...valid, outputs: {} }, ['outputs']],
      [{ ...valid, name: undefined }, ['name']],
      [{ ...valid, inputs: { stack: { type: 'volume' } } }, ['inputs', 'stack', 'type']],
      [{ ...valid, nodes: { mip: { ...valid.nodes.mip, params: [1, 2] } } }, ['nodes', 'mip', 'params']],
      [{ ...valid, nodes: { mip: { ...valid.nodes.mip, in: { stack: 3 } } } }, ['nodes', 'mip', 'in', 'stack']],
    ];
    for (const [doc, path] of cases) {
      const r = PipelineSchema.safeParse(doc);
      expect(r.success, JSON.stringify(doc)).toBe(false);
      expect(r.error!.issues.map((i) => i.path)).toContainEqual(path);
    }
    expect(PipelineSchema.safeParse('not a pipeline').success).toBe(false);
  });

  it('parses references', () => {
    expect(parseRef('stack')).toEqual({ kind: 'input', input: 'stack' });
    expect(parseRef('mip.image')).toEqual({ kind: 'node', node: 'mip', port: 'image' });
  });
});

describe('pipelineJsonSchema', () => {
  it('is a draft 2020-12 schema with titled properties for inputs, nodes and outputs', () => {
    const schema = pipelineJsonSchema() as { $schema: string; title: string; type: string; required: string[]; additionalProperties: boolean; properties: Record<string, Record<string, unknown>> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('Focal pipeline');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['name', 'description', 'inputs', 'nodes', 'outputs', '$schema']));
    // Written documents may leave out defaulted members: only name and outputs are required.
    expect(schema.required.sort()).toEqual(['name', 'outputs']);
    const node = schema.properties.nodes.additionalProperties as { properties: Record<string, { description?: string }>; required: string[] };
    expect(Object.keys(node.properties).sort()).toEqual(['in', 'op', 'params']);
    expect(node.required).toEqual(['op']);
    expect(node.properties.op.description).toMatch(/Operation id/);
    expect((schema.properties.nodes.propertyNames as { pattern: string }).pattern).toBe('^[A-Za-z][A-Za-z0-9_-]*$');
    expect(schema.properties.outputs.minProperties).toBe(1);
    const input = schema.properties.inputs.additionalProperties as { properties: { type: { enum: string[] } } };
    expect(input.properties.type.enum).toEqual(['image', 'stack', 'table', 'model', 'json']);
    // Plain JSON: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });

  it('validates documents when used as a schema (round trip through z.fromJSONSchema)', () => {
    const validator = z.fromJSONSchema(pipelineJsonSchema() as Parameters<typeof z.fromJSONSchema>[0]);
    expect(validator.safeParse(valid).success).toBe(true);
    expect(validator.safeParse({ ...valid, extra: true }).success).toBe(false);
    expect(validator.safeParse({ ...valid, nodes: { 'a.b': valid.nodes.mip } }).success).toBe(false);
    expect(validator.safeParse({ ...valid, outputs: {} }).success).toBe(false);
  });

  it('with a catalog, lists op ids and describes each op\'s ports and params with if/then', () => {
    const schema = pipelineJsonSchema(catalog) as { properties: { nodes: { additionalProperties: Record<string, unknown> } } };
    const node = schema.properties.nodes.additionalProperties as {
      properties: { op: { enum: string[] } };
      allOf: { if: { properties: { op: { const: string } } }; then: { properties: { in: Record<string, unknown>; params: Record<string, unknown> }; required?: string[] } }[];
    };
    expect(node.properties.op.enum).toEqual(['stack.overlay', 'stack.project']);
    expect(node.allOf.map((r) => r.if.properties.op.const)).toEqual(['stack.overlay', 'stack.project']);
    const proj = node.allOf.find((r) => r.if.properties.op.const === 'stack.project')!.then;
    expect(proj.required).toEqual(['in']);
    expect(proj.properties.in).toMatchObject({ required: ['stack'], additionalProperties: false, properties: { stack: { type: 'string' } } });
    expect(proj.properties.params).toMatchObject({
      type: 'object',
      properties: { axis: { enum: ['z', 't'], default: 'z', description: 'Axis to project along' }, method: { enum: ['max', 'mean'] } },
    });
    expect(proj.properties.params).not.toHaveProperty('$schema');
    const ov = node.allOf.find((r) => r.if.properties.op.const === 'stack.overlay')!.then;
    expect(ov.properties.in).toMatchObject({ required: ['stack'], properties: { mask: { description: expect.stringMatching(/^image, optional/) } } });
  });

  it('hoists $defs of op params into the root and rewrites their references', () => {
    const Roi = z.object({ x: z.number(), y: z.number() }).meta({ id: 'Roi' });
    const roiOp = defineOperation({
      id: 'roi.crop',
      title: 'Crop',
      description: 'Crops to a region.',
      inputs: { image: { type: 'image' } },
      outputs: { image: { type: 'image' } },
      params: z.object({ from: Roi, to: Roi }),
      run: (_ctx, { image }) => ({ image }),
    });
    const cat = catalogFromPlugins([definePlugin({ id: 'roi', version: '1.0.0', description: '', operations: [roiOp] })]);
    const own = cat.get('roi.crop')!.manifest.params as { $defs?: Record<string, unknown> };
    expect(own.$defs).toHaveProperty('Roi'); // the case being tested
    const schema = pipelineJsonSchema(cat) as { $defs: Record<string, unknown>; properties: { nodes: { additionalProperties: { allOf: { then: { properties: { params: { properties: Record<string, { $ref: string }> } } } }[] } } } };
    const params = schema.properties.nodes.additionalProperties.allOf[0].then.properties.params;
    expect(params.properties.from.$ref).toBe('#/$defs/roi.crop.params.Roi');
    expect(schema.$defs['roi.crop.params.Roi']).toMatchObject({ type: 'object', properties: { x: { type: 'number' } } });
    expect(params).not.toHaveProperty('$defs');
  });
});
