import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FocalError } from '../errors.js';
import { catalogFromPlugins } from '../plugin/catalog.js';
import { defineOperation, definePlugin } from '../plugin/contract.js';
import { findDuplicateKey, loadPipelineFile, parseJsonText } from './load.js';
import { assertValidPipeline, editDistance, formatProblems, validatePipeline, type PipelineProblem } from './validate.js';

const passStack = ({ stack }: { stack: never }) => ({ stack });

const gaussian = defineOperation({
  id: 'filter.gaussian',
  title: 'Gaussian blur',
  description: 'Blurs each plane.',
  inputs: { stack: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.object({ sigmaPx: z.number().positive().default(1), border: z.enum(['reflect', 'zero']).default('reflect') }),
  run: (_ctx, inputs) => passStack(inputs as never),
});
const strictOp = defineOperation({
  id: 'filter.median',
  title: 'Median',
  description: 'Median filter.',
  inputs: { stack: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.strictObject({ radiusPx: z.int().min(1).default(1) }),
  run: (_ctx, inputs) => passStack(inputs as never),
});
const project = defineOperation({
  id: 'stack.project',
  title: 'Project',
  description: 'Projects along an axis.',
  inputs: { stack: { type: 'stack' } },
  outputs: { image: { type: 'image' } },
  params: z.object({ axis: z.enum(['z', 't']).default('z'), method: z.enum(['max', 'mean']).default('max') }),
  run: () => {
    throw new Error('not run in these tests');
  },
});
const measure = defineOperation({
  id: 'measure.intensity',
  title: 'Measure',
  description: 'Measures intensity inside a mask.',
  inputs: { image: { type: 'image' }, mask: { type: 'image', optional: true } },
  outputs: { table: { type: 'table' } },
  params: z.object({}),
  run: () => {
    throw new Error('not run in these tests');
  },
});

const catalog = catalogFromPlugins([
  definePlugin({ id: 'filter', version: '1.0.0', description: '', operations: [gaussian, strictOp] }),
  definePlugin({ id: 'stack', version: '1.0.0', description: '', operations: [project] }),
  definePlugin({ id: 'measure', version: '1.0.0', description: '', operations: [measure] }),
]);

const good = {
  name: 'blur-project-measure',
  inputs: { stack: { type: 'stack' }, mask: { type: 'image' } },
  nodes: {
    blur: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaPx: 2 } },
    mip: { op: 'stack.project', in: { stack: 'blur.stack' } },
    stats: { op: 'measure.intensity', in: { image: 'mip.image', mask: 'mask' } },
  },
  outputs: { mip: 'mip.image', stats: 'stats.table', raw: 'stack' },
};

async function rejection(promise: Promise<unknown>): Promise<FocalError> {
  try {
    await promise;
  } catch (err) {
    return err as FocalError;
  }
  throw new Error('expected the promise to reject');
}

const byPointer = (problems: PipelineProblem[], pointer: string) => problems.filter((p) => p.pointer === pointer);

describe('validatePipeline', () => {
  it('accepts a valid pipeline and returns it with defaults filled', () => {
    const { pipeline, problems } = validatePipeline(good, catalog);
    expect(problems).toEqual([]);
    expect(pipeline!.nodes.mip.in).toEqual({ stack: 'blur.stack' });
    expect(pipeline!.name).toBe('blur-project-measure');
  });

  it('accepts an image feeding a stack port, an input used directly as an output, and no nodes', () => {
    const doc = {
      name: 'x',
      inputs: { img: { type: 'image' } },
      nodes: { blur: { op: 'filter.gaussian', in: { stack: 'img' } } },
      outputs: { blurred: 'blur.stack', copy: 'img' },
    };
    expect(validatePipeline(doc, catalog).problems).toEqual([]);
    expect(validatePipeline({ name: 'convert', inputs: { a: { type: 'stack' } }, outputs: { b: 'a' } }, catalog).problems).toEqual([]);
  });

  it('reports every problem of a broken pipeline, each with its pointer and node', () => {
    const bad = {
      name: 'broken',
      inputs: { stack: { type: 'stack' }, stats: { type: 'table' } },
      nodes: {
        blur: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaPx: -1, border: 'wrap' } },
        proj: { op: 'stack.projct', in: { stack: 'blur.stack' } },
        mip: { op: 'stack.project', in: { stak: 'blur.stack' } },
        measure: { op: 'measure.intensity', in: { image: 'stats' } },
        a: { op: 'filter.gaussian', in: { stack: 'c.stack' } },
        b: { op: 'filter.gaussian', in: { stack: 'a.stack' } },
        c: { op: 'filter.gaussian', in: { stack: 'b.stack' } },
        lost: { op: 'stack.project', in: { stack: 'nothing.stack' } },
      },
      outputs: { result: 'mip.image', extra: 'blur.nope', gone: 'input2' },
    };
    const { pipeline, problems } = validatePipeline(bad, catalog);
    expect(pipeline).toBeUndefined();
    const summary = problems.map((p) => [p.code, p.pointer, p.node]);
    expect(summary).toEqual(expect.arrayContaining([
      ['E_PARAMS', '/nodes/blur/params/sigmaPx', 'blur'],
      ['E_PARAMS', '/nodes/blur/params/border', 'blur'],
      ['E_OP_NOT_FOUND', '/nodes/proj/op', 'proj'],
      ['E_PORT_UNKNOWN', '/nodes/mip/in/stak', 'mip'],
      ['E_INPUT_MISSING', '/nodes/mip/in', 'mip'],
      ['E_PORT_TYPE', '/nodes/measure/in/image', 'measure'],
      ['E_CYCLE', '/nodes/a/in/stack', 'a'],
      ['E_REF', '/nodes/lost/in/stack', 'lost'],
      ['E_PORT_UNKNOWN', '/outputs/extra', undefined],
      ['E_REF', '/outputs/gone', undefined],
    ]));
    expect(problems).toHaveLength(10);

    expect(byPointer(problems, '/nodes/blur/params/sigmaPx')[0]).toMatchObject({ field: 'sigmaPx', message: 'Too small: expected number to be >0' });
    expect(byPointer(problems, '/nodes/proj/op')[0].message).toBe("unknown operation 'stack.projct'; did you mean 'stack.project'?");
    expect(byPointer(problems, '/nodes/mip/in/stak')[0]).toMatchObject({ field: 'stak', message: expect.stringContaining("did you mean 'stack'?") });
    expect(byPointer(problems, '/nodes/mip/in')[0]).toMatchObject({ field: 'stack', message: "input port 'stack' (stack) of operation 'stack.project' is not connected" });
    expect(byPointer(problems, '/nodes/measure/in/image')[0].message).toBe("input port 'image' of 'measure.intensity' takes an image, but 'stats' is a table");
    const cycle = problems.find((p) => p.code === 'E_CYCLE')!;
    expect(cycle.message).toContain("'a' → 'b' → 'c' → 'a'");
    expect(byPointer(problems, '/nodes/lost/in/stack')[0].message).toContain("there is no node 'nothing'");
    expect(byPointer(problems, '/outputs/extra')[0].message).toContain("has no output port 'nope' (outputs: stack)");
    expect(byPointer(problems, '/outputs/gone')[0].message).toContain('not a pipeline input (inputs: stack, stats)');
  });

  it('reports shape errors together with the graph problems of the parts that can be read', () => {
    const doc = {
      name: 'mixed',
      inputz: {},
      inputs: { stack: { type: 'stack' } },
      nodes: {
        'bad.id': { op: 'filter.gaussian', in: { stack: 'stack' } },
        blur: { op: 'filter.gausian', in: { stack: 'stack' }, param: { sigmaPx: 1 } },
        count: { in: { stack: 'stack' } },
      },
      outputs: { out: 'blur.stack' },
    };
    const { problems } = validatePipeline(doc, catalog);
    const summary = problems.map((p) => [p.code, p.pointer]);
    expect(summary).toEqual(expect.arrayContaining([
      ['E_SCHEMA', '/inputz'],
      ['E_SCHEMA', '/nodes/bad.id'],
      ['E_SCHEMA', '/nodes/blur/param'],
      ['E_SCHEMA', '/nodes/count/op'],
      ['E_OP_NOT_FOUND', '/nodes/blur/op'],
    ]));
    expect(byPointer(problems, '/inputz')[0].message).toBe("unknown key 'inputz'; did you mean 'inputs'?");
    expect(byPointer(problems, '/nodes/blur/param')[0]).toMatchObject({ node: 'blur', message: "unknown key 'param'; did you mean 'params'?" });
    expect(byPointer(problems, '/nodes/count/op')[0].message).toBe("'op' is required");
    expect(byPointer(problems, '/nodes/bad.id')[0].message).toMatch(/^invalid name 'bad.id': names start with a letter/);
  });

  it('reports a missing document, a self-loop and unknown params of plain and strict param objects', () => {
    expect(validatePipeline(null, catalog).problems).toEqual([expect.objectContaining({ code: 'E_SCHEMA', pointer: '' })]);
    const doc = {
      name: 'p',
      inputs: { s: { type: 'stack' } },
      nodes: {
        loop: { op: 'filter.gaussian', in: { stack: 'loop.stack' } },
        blur: { op: 'filter.gaussian', in: { stack: 's' }, params: { sigma: 2 } },
        med: { op: 'filter.median', in: { stack: 's' }, params: { radius: 2 } },
      },
      outputs: { out: 'blur.stack' },
    };
    const { problems } = validatePipeline(doc, catalog);
    expect(problems.map((p) => [p.code, p.pointer, p.field])).toEqual([
      ['E_PARAMS', '/nodes/blur/params/sigma', 'sigma'],
      ['E_PARAMS', '/nodes/med/params/radius', 'radius'],
      ['E_CYCLE', '/nodes/loop/in/stack', undefined],
    ]);
    expect(problems).toHaveLength(3);
    expect(byPointer(problems, '/nodes/loop/in/stack')[0].message).toContain("'loop' → 'loop'");
    expect(byPointer(problems, '/nodes/blur/params/sigma')[0].message).toBe("operation 'filter.gaussian' has no parameter 'sigma'; did you mean 'sigmaPx'?");
    expect(byPointer(problems, '/nodes/med/params/radius')[0].message).toBe("operation 'filter.median' has no parameter 'radius'; did you mean 'radiusPx'?");
  });

  it('suggests a node output when an input name is really a node', () => {
    const doc = { name: 'p', inputs: { s: { type: 'stack' } }, nodes: { blur: { op: 'filter.gaussian', in: { stack: 's' } } }, outputs: { out: 'blur' } };
    const [p] = validatePipeline(doc, catalog).problems;
    expect(p).toMatchObject({ code: 'E_REF', pointer: '/outputs/out' });
    expect(p.message).toContain("name one of its outputs: 'blur.stack'");
  });

  it('reserves the output name run (any case): run.json is the provenance record (issue 25)', () => {
    const doc = { name: 'x', inputs: { img: { type: 'image' } }, outputs: { run: 'img', Run: 'img', ok: 'img' } };
    const problems = validatePipeline(doc, catalog).problems;
    expect(problems).toEqual([
      expect.objectContaining({ code: 'E_SCHEMA', pointer: '/outputs/run', field: 'run', message: expect.stringMatching(/output name 'run' is reserved: .*run\.json/) }),
      expect.objectContaining({ code: 'E_SCHEMA', pointer: '/outputs/Run', field: 'Run' }),
    ]);
    expect(validatePipeline({ ...doc, outputs: { runs: 'img', 'run-1': 'img' } }, catalog).problems).toEqual([]);
  });

  it('escapes JSON pointer segments', () => {
    const doc = { name: 'p', inputs: { s: { type: 'stack' } }, nodes: { blur: { op: 'filter.gaussian', in: { stack: 's' }, params: { 'a/b~c': 1 } } }, outputs: { out: 'blur.stack' } };
    expect(validatePipeline(doc, catalog).problems.map((p) => p.pointer)).toEqual(['/nodes/blur/params/a~1b~0c']);
  });
});

describe('formatProblems and assertValidPipeline', () => {
  const doc = { name: 'p', inputs: { s: { type: 'stack' } }, nodes: { blur: { op: 'filter.gaussian', in: { stack: 's' }, params: { sigmaPx: 0 } } }, outputs: { out: 'blur.stack' } };

  it('formats one line per problem, with the file when given', () => {
    const { problems } = validatePipeline(doc, catalog);
    expect(formatProblems(problems, 'pipelines/x.json')).toEqual(['pipelines/x.json /nodes/blur/params/sigmaPx: Too small: expected number to be >0']);
    expect(formatProblems([{ code: 'E_SCHEMA', pointer: '', message: 'Invalid input' }])).toEqual(['/: Invalid input']);
  });

  it('throws E_PIPELINE with every problem and the file', () => {
    let caught: unknown;
    try {
      assertValidPipeline({ ...doc, nodes: { ...doc.nodes, x: { op: 'nope.op', in: {} } } }, catalog, { file: 'pipelines/x.json' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FocalError);
    const e = caught as FocalError;
    expect(e.code).toBe('E_PIPELINE');
    expect(e.message).toBe('pipelines/x.json is not a valid pipeline (2 problems)');
    expect(e.details.file).toBe('pipelines/x.json');
    expect((e.details.problems as PipelineProblem[]).map((p) => p.code).sort()).toEqual(['E_OP_NOT_FOUND', 'E_PARAMS']);
    expect(assertValidPipeline(good, catalog).nodes.blur.params).toEqual({ sigmaPx: 2 });
  });
});

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('stack.projct', 'stack.project')).toBe(1);
  });
});

describe('loadPipelineFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'focal-pipeline-'));
    await mkdir(join(dir, 'pipelines'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads, validates and resolves input defaults against the file\'s folder without changing the document', async () => {
    const file = join(dir, 'pipelines', 'ok.json');
    const doc = {
      $schema: '../docs/pipeline.schema.json',
      name: 'ok',
      inputs: { stack: { type: 'stack', default: '../samples/cells.tif' }, abs: { type: 'image', default: '/data/x.tif' }, none: { type: 'image' } },
      nodes: { blur: { op: 'filter.gaussian', in: { stack: 'stack' } } },
      outputs: { out: 'blur.stack', a: 'abs', n: 'none' },
    };
    await writeFile(file, `\uFEFF${JSON.stringify(doc, null, 2)}`);
    const loaded = await loadPipelineFile(file, catalog);
    expect(loaded.inputDefaults).toEqual({ stack: join(dir, 'samples', 'cells.tif'), abs: '/data/x.tif' });
    expect(loaded.pipeline.inputs.stack.default).toBe('../samples/cells.tif');
    expect(loaded.pipeline.name).toBe('ok');
    expect(loaded.file).toBe(file);
  });

  it('names a missing file or a folder (E_USAGE: the caller named a pipeline that is not there)', async () => {
    const file = join(dir, 'pipelines', 'missing.json');
    await expect(loadPipelineFile(file, catalog)).rejects.toMatchObject({ code: 'E_USAGE', details: { file }, message: `cannot read pipeline file ${file}: no such file` });
    await writeFile(join(dir, 'pipelines', 'plain-file'), 'x');
    const below = join(dir, 'pipelines', 'plain-file', 'p.json'); // ENOTDIR
    await expect(loadPipelineFile(below, catalog)).rejects.toMatchObject({ code: 'E_USAGE', message: `cannot read pipeline file ${below}: no such file` });
    const folder = join(dir, 'pipelines');
    await expect(loadPipelineFile(folder, catalog)).rejects.toMatchObject({ code: 'E_USAGE', message: `cannot read pipeline file ${folder}: it is a folder` });
  });

  it('reports invalid JSON with line and column (E_PIPELINE)', async () => {
    const file = join(dir, 'pipelines', 'broken.json');
    await writeFile(file, '{\n  "name": "x",\n  "outputs": { "a": "b", }\n}\n');
    const err = await rejection(loadPipelineFile(file, catalog));
    expect(err).toMatchObject({ code: 'E_PIPELINE', details: { file } });
    expect(err.message.startsWith(`${file} is not valid JSON: `)).toBe(true);
    expect(err.message).toMatch(/line 3, column 26/);
    expect(() => parseJsonText('', 'empty.json')).toThrow(/empty.json is not valid JSON: .*\(line 1, column 1\)/);
  });

  it('rejects a key given twice in one object, naming the key, its JSON pointer, line and column (issue 25)', async () => {
    const file = join(dir, 'pipelines', 'duplicate.json');
    const text = '{\n  "name": "x",\n  "inputs": { "s": { "type": "stack" } },\n  "nodes": {\n    "blur": { "op": "filter.gaussian", "in": { "stack": "s" },\n      "params": { "sigmaPx": 1, "border": "zero", "sigmaPx": 9 } }\n  },\n  "outputs": { "o": "blur.stack" }\n}\n';
    expect(JSON.parse(text).nodes.blur.params.sigmaPx).toBe(9); // what a plain JSON.parse does: the last one wins, silently
    await writeFile(file, text);
    const err = await rejection(loadPipelineFile(file, catalog));
    expect(err).toMatchObject({ code: 'E_PIPELINE', details: { file, field: '/nodes/blur/params/sigmaPx', line: 6, column: 51 } });
    expect(err.message).toBe(`${file}: duplicate key 'sigmaPx' at /nodes/blur/params/sigmaPx (line 6, column 51); the earlier one is at line 6. JSON parsers keep only the last, so one of them would be silently ignored`);
  });

  it('finds duplicate keys as JSON.parse decodes them, inside arrays and escaped keys, and nothing in distinct objects', () => {
    expect(findDuplicateKey('{"a": 1, "\\u0061": 2}')).toMatchObject({ key: 'a', pointer: '/a', offset: 9, firstOffset: 1 });
    expect(findDuplicateKey('{"l": [{"k": 1}, {"k": 2, "x/y": {"q": "\\"}", "q": 0}}]}')).toMatchObject({ key: 'q', pointer: '/l/1/x~1y/q' });
    expect(findDuplicateKey('{"a": {"b": 1}, "c": {"b": 2}, "d": [{"b": 3}, {"b": "{\\"b\\": 4, \\"b\\": 5}"}]}')).toBeUndefined();
    expect(findDuplicateKey('[1, "x", {"a": [1, 2], "b": {"a": 1}}]')).toBeUndefined();
    expect(() => parseJsonText('{"name": "a", "name": "b"}', 'p.json')).toThrow(/p\.json: duplicate key 'name' at \/name \(line 1, column 15\)/);
  });

  it('throws E_PIPELINE listing the problems of an invalid pipeline file', async () => {
    const file = join(dir, 'pipelines', 'invalid.json');
    await writeFile(file, JSON.stringify({ name: 'x', nodes: { n: { op: 'filter.gaussian', in: {} } }, outputs: { o: 'n.stack' } }));
    const err = await rejection(loadPipelineFile(file, catalog));
    expect(err.code).toBe('E_PIPELINE');
    expect(err.details.file).toBe(file);
    expect(err.details.problems).toEqual([expect.objectContaining({ code: 'E_INPUT_MISSING', pointer: '/nodes/n/in', node: 'n', field: 'stack' })]);
    // The user's file is left as it was.
    expect(JSON.parse(await readFile(file, 'utf8')).nodes.n.in).toEqual({});
  });
});
