import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTiff } from '../core/index.js';
import { focal, ROOT, sha256, tempDir } from './helpers.js';

const SAMPLE = join(ROOT, 'samples', 'cells-zstack.tif');

function pipelineFile(dir: string, doc: unknown, name = 'p.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return file;
}

describe('focal run', () => {
  it('runs the demo pipeline on the bundled sample with no --input, writing calibrated outputs, previews and provenance', async () => {
    const out = tempDir();
    const before = sha256(SAMPLE);
    const r = focal(['run', 'pipelines/denoise-project.json', '--out', out, '--preview']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(sha256(SAMPLE)).toBe(before); // input untouched
    const mip = await readTiff(join(out, 'mip.tif'));
    expect([mip.sizeC, mip.sizeZ, mip.sizeT]).toEqual([2, 1, 1]);
    expect(mip.dtype).toBe('uint16');
    expect(mip.calibration.pixelWidthUm).toBeCloseTo(0.325, 6);
    const nuclei = await readTiff(join(out, 'nuclei.tif'));
    expect(nuclei.dtype).toBe('uint8');
    expect([nuclei.sizeC, nuclei.sizeZ]).toEqual([1, 1]);
    expect(Math.max(...nuclei.planes[0])).toBe(255); // minmax scaling used the full range
    expect(existsSync(join(out, 'mip.png'))).toBe(true);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.pipeline.name).toBe('denoise-project');
    expect(run.nodes.denoise.params.sigmaUm).toBe(0.4);
    expect(run.inputs.stack.sha256).toBe(before);
    // no temporary files left behind
    expect(readdirSync(out).filter((f) => f.includes('focal-tmp'))).toEqual([]);
  });

  it('prints JSON lines with --json, ending with the result', () => {
    const out = tempDir();
    const r = focal(['run', 'pipelines/denoise-project.json', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.some((e) => e.event === 'node-start' && e.node === 'mip')).toBe(true);
    const last = events[events.length - 1];
    expect(last.event).toBe('result');
    expect(last.outputs.map((o: { name: string }) => o.name).sort()).toEqual(['mip', 'nuclei']);
  });

  it('binds a lone --input file to the only pipeline input and uses an input directly as an output', async () => {
    const dir = tempDir();
    const p = pipelineFile(dir, { name: 'convert', inputs: { img: { type: 'stack' } }, nodes: {}, outputs: { copy: 'img' } });
    const out = join(dir, 'out');
    const r = focal(['run', p, '--input', SAMPLE, '--out', out]);
    expect(r.code).toBe(0);
    const copy = await readTiff(join(out, 'copy.tif'));
    const original = await readTiff(SAMPLE);
    expect([copy.sizeC, copy.sizeZ, copy.dtype]).toEqual([original.sizeC, original.sizeZ, original.dtype]);
    expect(copy.planes[7]).toEqual(original.planes[7]);
    expect(copy.channelNames).toEqual(original.channelNames);
  });

  it('writes nothing when a node fails, and names the node and op', () => {
    const dir = tempDir();
    const p = pipelineFile(dir, {
      name: 'bad-crop',
      inputs: { s: { type: 'stack' } },
      nodes: {
        blur: { op: 'filter.gaussian', in: { stack: 's' }, params: { sigmaPx: 1 } },
        crop: { op: 'stack.crop', in: { stack: 'blur.stack' }, params: { x: 200, y: 0, width: 100, height: 10 } },
      },
      outputs: { blurred: 'blur.stack', cropped: 'crop.stack' },
    });
    const out = join(dir, 'out');
    const r = focal(['run', p, '--input', `s=${SAMPLE}`, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/crop/);
    expect(r.stderr).toMatch(/stack\.crop/);
    const errorLines = r.stderr.split('\n').filter((l) => l.startsWith('focal:'));
    expect(errorLines).toHaveLength(1); // one clear line
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without --verbose
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});

describe('bad input', () => {
  it('rejects a pipeline with several problems, listing every one with its node and field (exit 2)', () => {
    const dir = tempDir();
    const p = pipelineFile(dir, {
      name: 'broken',
      inputs: { s: { type: 'stack' } },
      nodes: {
        a: { op: 'filter.gausian', in: { stack: 's' } },
        b: { op: 'filter.gaussian', in: { stack: 's' }, params: { sigmaPx: -3 } },
        c: { op: 'stack.project', in: { stak: 's' } },
        d: { op: 'math.binary', in: { a: 'b.stack', b: 'nowhere.stack' } },
        e: { op: 'stack.crop', in: { stack: 'f.stack' }, params: { x: 0, y: 0, width: 1, height: 1 } },
        f: { op: 'stack.crop', in: { stack: 'e.stack' }, params: { x: 0, y: 0, width: 1, height: 1 } },
      },
      outputs: { o: 'b.nothing' },
    });
    const r = focal(['validate', p]);
    expect(r.code).toBe(2);
    const text = r.stderr;
    expect(text).toMatch(/\/nodes\/a\/op.*filter\.gaussian/); // unknown op, with a suggestion
    expect(text).toMatch(/\/nodes\/b\/params\/sigmaPx/); // bad param
    expect(text).toMatch(/\/nodes\/c\/in\/stak/); // unknown port
    expect(text).toMatch(/\/nodes\/c\/in\/stack|\/nodes\/c\/in.*stack/); // missing required input
    expect(text).toMatch(/\/nodes\/d\/in\/b/); // dangling ref
    expect(text).toMatch(/cycle/i);
    expect(text).toMatch(/\/outputs\/o/); // unknown output port
  });

  it('says a pipeline file is not JSON, with the position (exit 2)', () => {
    const dir = tempDir();
    const p = pipelineFile(dir, '{ "name": "x", nodes: {} }');
    const r = focal(['validate', p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(r.stderr).toContain(p);
  });

  it('names a missing input file (exit 1)', () => {
    const out = tempDir();
    const r = focal(['run', 'pipelines/denoise-project.json', '--input', 'stack=/nonexistent/x.tif', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/x.tif');
  });

  it('names a corrupt TIFF and leaves it unmodified (exit 1)', () => {
    const dir = tempDir();
    const bad = join(dir, 'truncated.tif');
    writeFileSync(bad, readFileSync(SAMPLE).subarray(0, 5000));
    const before = sha256(bad);
    const r = focal(['run', 'pipelines/denoise-project.json', '--input', `stack=${bad}`, '--out', join(dir, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('truncated.tif');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('focal:'))).toHaveLength(1);
    expect(sha256(bad)).toBe(before);
  });

  it('refuses an unwritable output folder before doing any work (exit 1)', () => {
    const dir = tempDir();
    const blocker = join(dir, 'file');
    writeFileSync(blocker, 'x');
    const r = focal(['run', 'pipelines/denoise-project.json', '--out', join(blocker, 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/output folder .* not writable/);
  });

  it('refuses a read-only output folder when not running as root', () => {
    if (process.getuid?.() === 0) return expect(process.getuid?.()).toBe(0); // root ignores permissions
    const dir = tempDir();
    chmodSync(dir, 0o500);
    const r = focal(['run', 'pipelines/denoise-project.json', '--out', dir]);
    chmodSync(dir, 0o700);
    expect(r.code).toBe(1);
  });

  it('reports an unknown pipeline input and a missing required input as usage errors (exit 2)', () => {
    const out = tempDir();
    const r1 = focal(['run', 'pipelines/denoise-project.json', '--input', `stak=${SAMPLE}`, '--out', out]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/no input 'stak'/);
    const dir = tempDir();
    const p = pipelineFile(dir, { name: 'needs', inputs: { s: { type: 'stack' } }, nodes: {}, outputs: { o: 's' } });
    const r2 = focal(['run', p, '--out', out]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--input s=/);
  });

  it('exits 2 on bad usage', () => {
    expect(focal(['run']).code).toBe(2);
    expect(focal(['frobnicate']).code).toBe(2);
  });
});

describe('focal info, plugins, schema', () => {
  it('shows dims, dtype and calibration of a file', () => {
    const r = focal(['info', SAMPLE, '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect([info.width, info.height, info.sizeC, info.sizeZ, info.sizeT]).toEqual([256, 256, 2, 11, 1]);
    expect(info.dtype).toBe('uint16');
    expect(info.calibration.zStepUm).toBeCloseTo(1, 6);
    const text = focal(['info', SAMPLE]);
    expect(text.stdout).toMatch(/0\.325 × 0\.325 µm/);
  });

  it('lists every operation with ports and params', () => {
    const r = focal(['plugins', '--json']);
    expect(r.code).toBe(0);
    const { plugins } = JSON.parse(r.stdout);
    const ops = plugins.flatMap((p: { operations: { id: string }[] }) => p.operations);
    const ids = ops.map((o: { id: string }) => o.id);
    for (const id of ['stack.project', 'stack.substack', 'stack.crop', 'stack.convert', 'filter.gaussian', 'math.binary']) expect(ids).toContain(id);
    const project = ops.find((o: { id: string }) => o.id === 'stack.project');
    expect(project.inputs.stack.type).toBe('stack');
    expect(project.params.properties.method.enum).toEqual(['max', 'mean', 'sum', 'sd']);
    const text = focal(['plugins']);
    expect(text.stdout).toMatch(/filter\.gaussian/);
  });

  it('prints the pipeline JSON Schema, and the committed copy is up to date', () => {
    const r = focal(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.properties.nodes).toBeDefined();
    const committed = JSON.parse(readFileSync(join(ROOT, 'docs', 'pipeline.schema.json'), 'utf8'));
    expect(committed).toEqual(schema);
  });
});

describe('third-party plugins through the CLI', () => {
  const EXAMPLE = join(ROOT, 'examples', 'focal-plugin-invert');

  function installExample(project: string): void {
    // what `npm install` does for a registry or tarball dependency: a copy under node_modules
    cpSync(EXAMPLE, join(project, 'node_modules', 'focal-plugin-invert'), { recursive: true });
  }

  /** A fresh user configuration folder (XDG_CONFIG_HOME) with no trusted folders. */
  function userConfig(): NodeJS.ProcessEnv {
    const home = tempDir('focal-home-');
    mkdirSync(join(home, 'focal'), { recursive: true });
    return { XDG_CONFIG_HOME: home, HOME: home };
  }

  const invertPipeline = { name: 'invert', inputs: { s: { type: 'stack' } }, nodes: { inv: { op: 'invert.apply', in: { stack: 's' } } }, outputs: { inverted: 'inv.stack' } };

  it('discovers an installed plugin package in node_modules and runs its op with focal run', async () => {
    const project = tempDir('focal-project-');
    installExample(project);
    const p = pipelineFile(project, invertPipeline);
    const env = userConfig();
    // Not trusted yet: the package is named as skipped and its code is not loaded.
    const before = focal(['plugins'], { cwd: project, env });
    expect(before.stdout).not.toMatch(/invert\.apply/);
    expect(before.stderr).toMatch(/focal-plugin-invert.*not loaded: .*not marked trusted.*focal trust/);
    const refused = focal(['run', p, '--input', `s=${SAMPLE}`, '--out', join(project, 'out')], { cwd: project, env });
    expect(refused.code).toBe(2);
    expect(existsSync(join(project, 'out'))).toBe(false);
    expect(focal(['trust', project], { env }).code).toBe(0);
    const listed = focal(['plugins', '--json'], { cwd: project, env });
    expect(JSON.parse(listed.stdout).plugins.map((x: { id: string }) => x.id)).toContain('invert');
    const r = focal(['run', p, '--input', `s=${SAMPLE}`, '--out', join(project, 'out')], { cwd: project, env });
    expect(r.stderr).not.toMatch(/warning|error/);
    expect(r.code).toBe(0);
    const inverted = await readTiff(join(project, 'out', 'inverted.tif'));
    const original = await readTiff(SAMPLE);
    expect(inverted.planes[3][100]).toBe(65535 - original.planes[3][100]);
  });

  it('loads a plugin from --plugin <path> and from focal.config.json', async () => {
    const project = tempDir('focal-project-');
    const p = pipelineFile(project, invertPipeline);
    const r1 = focal(['--plugin', EXAMPLE, 'run', p, '--input', `s=${SAMPLE}`, '--out', join(project, 'out1')], { cwd: project });
    expect(r1.code).toBe(0);
    writeFileSync(join(project, 'focal.config.json'), JSON.stringify({ plugins: [EXAMPLE] }));
    const env = userConfig();
    const untrusted = focal(['validate', p], { cwd: project, env });
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toMatch(/focal\.config\.json: not loaded: focal\.config\.json is in .*not marked trusted/);
    expect(focal(['trust', project], { env }).code).toBe(0);
    const r2 = focal(['run', p, '--input', `s=${SAMPLE}`, '--out', join(project, 'out2')], { cwd: project, env });
    expect(r2.code).toBe(0);
    expect(sha256(join(project, 'out1', 'inverted.tif'))).toBe(sha256(join(project, 'out2', 'inverted.tif')));
  });

  it('loads the plugins of the user\'s own focal.config.json from any folder, and focal trust lists and forgets folders', () => {
    const project = tempDir('focal-project-');
    const p = pipelineFile(project, invertPipeline);
    const env = userConfig();
    writeFileSync(join(env.XDG_CONFIG_HOME!, 'focal', 'focal.config.json'), JSON.stringify({ plugins: [EXAMPLE] }));
    const r = focal(['validate', p], { cwd: project, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(focal(['trust', project], { env }).code).toBe(0);
    expect(JSON.parse(focal(['trust', '--list', '--json'], { env }).stdout).folders).toEqual([realpathSync(project)]);
    expect(focal(['trust', '--remove', project], { env }).stdout).toMatch(/no longer trusted/);
    expect(JSON.parse(focal(['trust', '--list', '--json'], { env }).stdout).folders).toEqual([]);
  });

  it('without the plugin, the pipeline is rejected naming the unknown op', () => {
    const project = tempDir('focal-project-');
    const p = pipelineFile(project, invertPipeline);
    const r = focal(['validate', p], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\/nodes\/inv\/op.*invert\.apply/);
  });
});
