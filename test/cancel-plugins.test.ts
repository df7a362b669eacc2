/**
 * Issue 14, "Cancellation everywhere": a long operation of every built-in plugin stops when its
 * run is cancelled. Each case runs a small pipeline whose node `work` is the plugin's long
 * operation, on an input large enough that it runs for seconds on a 2-core machine (`measured`
 * below: the node's uninterrupted time, measured once by hand with `focal run`), through the
 * CLI's isolated-run host (cli/run-host.ts), and cancels the run as soon as `work` has started.
 * The run must reject with E_CANCELLED, `work` must never finish (no node-done event and no
 * `node done` log record: log records keep crossing from the run thread after a cancel, so an
 * operation that ran on to its end would show there; the control case checks that they do), and
 * the output folder must be gone. No wall-clock thresholds: how fast runs stop is measured by
 * bench/cancel.ts.
 *
 * Not covered, because they are single passes over the pixels that end in well under a second
 * even on inputs of hundreds of megabytes, so cancelling them would prove nothing (measured by
 * hand): stack.* (max projection of 1024² × 2 c × 11 z: 0.06 s), math.binary (same stack:
 * 0.1 s), metrics.compare-colour (per-pixel YCbCr and histograms), focus.* (best-plane 0.57 s on
 * 2048² × 21 planes, row-sharpness 0.57 s on 4096²), optics.psf-born-wolf / psf-gaussian
 * (0.8 s for 9 planes of 301² with 5× oversampling), cellcount's per-pixel and morphology ops
 * (rgb-to-grey, colour-deconvolution, threshold, normalise-contrast, fill-holes, binary,
 * distance-map). elastic.apply is one resampling pass, as
 * stackreg.apply (covered). All of them stop the same way: the run thread is terminated after
 * the grace time whatever the operation does.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticDeformed, writeSyntheticZStack } from '../bench/cancel.js';
import { runInThread } from '../cli/run-host.js';
import { isFocalError, type LogRecord, type RunEvent } from '../core/index.js';
import { ROOT } from './helpers.js';

/** The input files (made in beforeAll). */
type InputFile = 'zstack' | 'deformed' | 'plane' | 'series' | 'positions';
/** Inputs bound as tables (CSV); the others are stacks. */
const TABLE_INPUTS: ReadonlySet<InputFile> = new Set(['positions']);

interface Case {
  /** Operation of the node `work`. */
  op: string;
  /** What an uninterrupted run of `work` took when measured by hand (documentation only). */
  measured: string;
  inputs: Record<string, InputFile>;
  nodes: Record<string, unknown>;
  /** Output port of `work` listed as the pipeline's output. */
  output: string;
}

const substack = (stack: string, c?: number, z?: number | string) => ({
  op: 'stack.substack',
  in: { stack },
  params: { ...(c !== undefined ? { c: String(c) } : {}), ...(z !== undefined ? { z: String(z) } : {}) },
});
const gaussianPsf = { op: 'optics.psf-gaussian', params: { sigmaPx: 3 } };

// zstack: 1024² × 2 channels × 31 slices uint16 (in focus at z index 5); deformed: its in-focus
// slice warped (1024² × 2 c); plane: 4096² nuclei, one plane; series: 512² × 5 planes for Deep-R
// (the bundled samples/deepr-defocus-series.tif, 256² × 5, takes only 2.0 s / 1.7 s: too short
// to tell a stop from the end).
// `measured`: the node's uninterrupted time with this input (`focal run`, by hand, 2-core machine).
const CASES: Case[] = [
  { op: 'filter.gaussian', measured: '14.8 s', inputs: { stack: 'zstack' }, nodes: { work: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaPx: 8 } } }, output: 'stack' },
  { op: 'metrics.compare', measured: '8.7 s', inputs: { plane: 'plane' }, nodes: { work: { op: 'metrics.compare', in: { image: 'plane', reference: 'plane' }, params: {} } }, output: 'metrics' },
  {
    op: 'optics.defocus',
    measured: '5.5 s',
    inputs: { stack: 'zstack' },
    nodes: {
      inFocus: substack('stack', 0, 5),
      work: { op: 'optics.defocus', in: { stack: 'inFocus.stack' }, params: { na: 0.75, wavelengthUm: 0.46, zStartUm: -3, zEndUm: 3, zStepUm: 0.25, inputOffset: 100, photons: 900, readNoiseE: 2, seed: 1 } },
    },
    output: 'stack',
  },
  { op: 'optics.psf-from-beads', measured: '14.4 s', inputs: { stack: 'zstack' }, nodes: { dapi: substack('stack', 0), work: { op: 'optics.psf-from-beads', in: { stack: 'dapi.stack' }, params: {} } }, output: 'psf' },
  {
    op: 'deconvolution.richardson-lucy',
    measured: '5.4 s',
    inputs: { stack: 'zstack' },
    nodes: { inFocus: substack('stack', 0, 5), psf: gaussianPsf, work: { op: 'deconvolution.richardson-lucy', in: { image: 'inFocus.stack', psf: 'psf.psf' }, params: { iterations: 500 } } },
    output: 'image',
  },
  {
    op: 'deconvolution.landweber',
    measured: '3.6 s',
    inputs: { stack: 'zstack' },
    nodes: { inFocus: substack('stack', 0, 5), psf: gaussianPsf, work: { op: 'deconvolution.landweber', in: { image: 'inFocus.stack', psf: 'psf.psf' }, params: { iterations: 500 } } },
    output: 'image',
  },
  { op: 'stackreg.align', measured: '7.0 s with 11 slices (31 here)', inputs: { stack: 'zstack' }, nodes: { work: { op: 'stackreg.align', in: { stack: 'stack' }, params: { transform: 'rigid', reference: 'previous' } } }, output: 'stack' },
  {
    op: 'stackreg.apply',
    measured: '6.6 s',
    inputs: { stack: 'zstack' },
    nodes: {
      corner: { op: 'stack.crop', in: { stack: 'stack' }, params: { x: 0, y: 0, width: 64, height: 64 } },
      small: { op: 'stackreg.align', in: { stack: 'corner.stack' }, params: { transform: 'translation' } },
      work: { op: 'stackreg.apply', in: { stack: 'stack', transforms: 'small.transforms' } },
    },
    output: 'stack',
  },
  {
    op: 'elastic.register',
    measured: '12.5 s',
    inputs: { fixed: 'zstack', moving: 'deformed' },
    nodes: { fixedDapi: substack('fixed', 0, 5), movingDapi: substack('moving', 0), work: { op: 'elastic.register', in: { fixed: 'fixedDapi.stack', moving: 'movingDapi.stack' }, params: {} } },
    output: 'field',
  },
  {
    op: 'elastic.coregister',
    measured: '3.7 s',
    inputs: { fixed: 'zstack', moving: 'deformed' },
    nodes: {
      fixedDapi: substack('fixed', 0, 5),
      crop: { op: 'stack.crop', in: { stack: 'fixedDapi.stack' }, params: { x: 256, y: 256, width: 512, height: 512 } },
      movingDapi: substack('moving', 0),
      work: { op: 'elastic.coregister', in: { fixed: 'crop.stack', moving: 'movingDapi.stack' }, params: {} },
    },
    output: 'field',
  },
  // the sharpness method is covered on a 2048² stack by test/cli-sigint.test.ts (edof-fuse)
  { op: 'edof.fuse', measured: '8.7 s (wavelet)', inputs: { stack: 'zstack' }, nodes: { work: { op: 'edof.fuse', in: { stack: 'stack' }, params: { method: 'wavelet', channel: 0 } } }, output: 'image' },
  { op: 'cellcount.count', measured: '6.7 s', inputs: { plane: 'plane' }, nodes: { work: { op: 'cellcount.count', in: { image: 'plane' }, params: { watershed: true } } }, output: 'summary' },
  { op: 'cellcount.subtract-background', measured: '2.4 s', inputs: { plane: 'plane' }, nodes: { work: { op: 'cellcount.subtract-background', in: { stack: 'plane' }, params: { radiusPx: 50 } } }, output: 'stack' },
  {
    op: 'cellcount.watershed',
    measured: '5.8 s',
    inputs: { plane: 'plane' },
    nodes: { mask: { op: 'cellcount.threshold', in: { stack: 'plane' }, params: { method: 'Otsu' } }, work: { op: 'cellcount.watershed', in: { mask: 'mask.mask' } } },
    output: 'mask',
  },
  {
    op: 'dataset.autofocus-pairs',
    measured: '3.9 s',
    inputs: { stack: 'zstack' },
    nodes: { fused: substack('stack', 0, 5), work: { op: 'dataset.autofocus-pairs', in: { stack: 'stack', fused: 'fused.stack' }, params: { patchPx: 128 } } },
    output: 'manifest',
  },
  { op: 'deepr.autofocus', measured: '17.8 s', inputs: { stack: 'series' }, nodes: { work: { op: 'deepr.autofocus', in: { image: 'stack' }, params: {} } }, output: 'image' },
  { op: 'deepr.defocus-map', measured: '9.4 s', inputs: { stack: 'series' }, nodes: { work: { op: 'deepr.defocus-map', in: { image: 'stack' }, params: {} } }, output: 'map' },
  // The learned whole-field ops on the 1024² two-channel field, with tfjs (onnxruntime would be faster; the run thread is the same)
  { op: 'staining.virtual-he', measured: '6.0 s', inputs: { stack: 'deformed' }, nodes: { work: { op: 'staining.virtual-he', in: { image: 'stack' }, params: { engine: 'tfjs' } } }, output: 'image' },
  { op: 'staining.cascade', measured: '23.7 s', inputs: { stack: 'deformed' }, nodes: { work: { op: 'staining.cascade', in: { image: 'stack' }, params: { engine: 'tfjs' } } }, output: 'image' },
  // TSVA: two planes of the 1024² stack as the two shots (grey), the demo model with its default engine
  { op: 'tsva.refocus', measured: '3.1 s wall, 4.9 s of CPU for the whole run (the packages\' 512-px tiles; 12 s of CPU with the 128-px tiles they had before 2026-12-07)', inputs: { stack: 'zstack' }, nodes: { a: substack('stack', 0, 5), b: substack('stack', 0, 6), work: { op: 'tsva.refocus', in: { y1: 'a.stack', y2: 'b.stack' }, params: {} } }, output: 'image' },
  // TSVA whole slide: 4 tiles of 1024² (planes 1–8 of channel 0 as the shot pairs), placed 2 × 2 by positions.csv
  {
    op: 'tsva.slide',
    measured: '52 s wall, 34 s of CPU (load 6)',
    inputs: { stack: 'zstack', positions: 'positions' },
    nodes: { shots: substack('stack', 0, '1-8'), work: { op: 'tsva.slide', in: { shots: 'shots.stack', positions: 'positions' }, params: {} } },
    output: 'mosaic',
  },
  { op: 'virfluonet.predict', measured: '8.7 s', inputs: { stack: 'deformed' }, nodes: { work: { op: 'virfluonet.predict', in: { image: 'stack' }, params: { engine: 'tfjs', channels: [0, 1] } } }, output: 'image' },
];

let dir: string;
const files = {} as Record<InputFile, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-cancel-plugins-'));
  files.zstack = await writeSyntheticZStack(join(dir, 'zstack.tif'), { size: 1024, sizeZ: 31 });
  files.deformed = await writeSyntheticDeformed(join(dir, 'deformed.tif'), { size: 1024 });
  files.plane = await writeSyntheticZStack(join(dir, 'plane.tif'), { size: 4096, sizeZ: 1, sizeC: 1 });
  files.series = await writeSyntheticZStack(join(dir, 'series.tif'), { size: 512, sizeZ: 5, sizeC: 1, seed: 7 });
  files.positions = join(dir, 'positions.csv');
  await writeFile(files.positions, 'xPx,yPx\n0,0\n1024,0\n0,1024\n1024,1024\n');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the run to be cancelled, but it finished');
    },
    (e: unknown) => e,
  );
}

/** Writes a pipeline whose node `work` gives the pipeline's one output. */
async function writePipeline(name: string, inputs: Record<string, InputFile>, nodes: Record<string, unknown>, output: string): Promise<string> {
  const file = join(dir, `${name}.json`);
  const declared = Object.fromEntries(Object.entries(inputs).map(([k, f]) => [k, { type: TABLE_INPUTS.has(f) ? 'table' : 'stack', description: 'bound by the test' }]));
  await writeFile(file, JSON.stringify({ name, inputs: declared, nodes, outputs: { result: `work.${output}` } }));
  return file;
}

/** `node done` debug records (the executor logs one per finished node; verbose hosts forward them, cancelled or not). */
const doneLogs = (logs: LogRecord[], node: string) => logs.filter((r) => r.message === 'node done' && r.fields.node === node);

describe('cancelling a long operation of each plugin (isolated run, CLI host)', () => {
  it('control: an uncancelled run reports its node done, by event and by log record', async () => {
    const pipelineFile = await writePipeline('control', {}, { work: gaussianPsf }, 'psf');
    const events: RunEvent[] = [];
    const logs: LogRecord[] = [];
    const out = join(dir, 'control-out');
    await runInThread({ pipelineFile, outDir: out }, { globals: { verbose: true }, cwd: ROOT }, { onEvent: (e) => events.push(e), onLog: (r) => logs.push(r) });
    expect(events.some((e) => e.type === 'node-done' && e.node === 'work')).toBe(true);
    expect(doneLogs(logs, 'work')).toHaveLength(1);
    expect(existsSync(join(out, 'result.tif'))).toBe(true);
  });

  it.each(CASES.map((c) => [c.op, c] as const))('%s stops: E_CANCELLED, never done, no output folder', async (op, c) => {
    const name = `cancel-${op.replace(/\./g, '-')}`;
    const pipelineFile = await writePipeline(name, c.inputs, c.nodes, c.output);
    const out = join(dir, name, 'out');
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const logs: LogRecord[] = [];
    const run = runInThread(
      { pipelineFile, inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, f]) => [k, files[f]])), outDir: out },
      { globals: { verbose: true }, cwd: ROOT },
      {
        signal: controller.signal,
        onEvent: (e) => {
          events.push(e);
          if ((e.type === 'node-start' || e.type === 'node-progress') && e.node === 'work') controller.abort();
        },
        onLog: (r) => logs.push(r),
      },
    );
    const err = await rejection(run);
    // the long node did start (the cancel came from its event), with the operation asked for
    expect(events.find((e) => e.type === 'node-start' && e.node === 'work')).toMatchObject({ op });
    expect(controller.signal.aborted).toBe(true);
    expect(isFocalError(err) ? err.code : err).toBe('E_CANCELLED');
    expect(events.some((e) => e.type === 'node-done' && e.node === 'work')).toBe(false);
    // log records still cross after the cancel: had the operation run to its end, this would be there
    expect(doneLogs(logs, 'work')).toEqual([]);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, name))).toBe(false);
  });
});
