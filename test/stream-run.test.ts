/**
 * Streamed `focal run` (issue 21, core/pipeline/stream.ts + PipelineRunner.runStreamed): a
 * pipeline run region by region into tiled pyramids equals the in-memory run; a node that
 * needs whole planes over the budget is refused by name; cancellation leaves nothing; an
 * OME-Zarr input streams to OME-TIFF.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer, createStack, DefaultIoService, rebuildRunReport, isFocalError, MemoryLogger, openOmeZarr, openTiffImage, PipelineRunner, planStream, PluginRegistry, readRoiZip, readTiff, stackRegionSource, writeOmeZarr, writePyramidalTiff, type RunEvent, type Stack } from '../core/index.js';
import { standardise } from '../core/imaging.js';
import { builtinPlugins } from '../plugins/index.js';
import { focal, tempDir } from './helpers.js';

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
const dir = tempDir('focal-stream-run-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 300;
const H = 700;
function slide(): Stack {
  const d = new Uint16Array(W * H);
  for (let i = 0; i < d.length; i++) {
    const x = i % W;
    const y = Math.floor(i / W);
    d[i] = Math.round(1000 + 800 * Math.sin(x / 9) * Math.cos(y / 13) + ((x * 7919 + y * 104729) % 257));
  }
  return createStack({ width: W, height: H, dtype: 'uint16', planes: [d], calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5 } });
}
const input = join(dir, 'in.ome.tif');
const pipeline = (nodes: Record<string, unknown>, outputs: Record<string, string>, name = 'stream-test'): string => {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, inputs: { stack: { type: 'stack' } }, nodes, outputs }));
  return file;
};
// two Gaussians (halos 8 + 6 px add up), a crop window, and a whole-plane min–max rescale of the crop
const CHAIN = {
  a: { op: 'filter.gaussian', in: { stack: 'stack' }, params: { sigmaPx: 2 } },
  b: { op: 'filter.gaussian', in: { stack: 'a.stack' }, params: { sigmaPx: 1.5 } },
  region: { op: 'stack.crop', in: { stack: 'b.stack' }, params: { x: 40, y: 100, width: 200, height: 300 } },
  scaled: { op: 'stack.convert', in: { stack: 'region.stack' }, params: { dtype: 'uint8', scale: 'minmax' } },
};

describe('streamed runs (issue 21)', () => {
  beforeAll(() => writePyramidalTiff(input, stackRegionSource(slide()), { tileSize: 128, levels: 1 }));

  it('a streamed Gaussian chain (tiles 128) equals the in-memory run exactly, written as pyramids', async () => {
    const file = pipeline(CHAIN, { blurred: 'b.stack', crop8: 'scaled.stack' });
    const mem = await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'mem'), tiff: 'ome', stream: 'never' });
    const events: RunEvent[] = [];
    const str = await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'str'), stream: 'always', tileSize: 128, onEvent: (e) => events.push(e) });
    expect(readdirSync(join(dir, 'str')).sort()).toEqual(['blurred.ome.tif', 'crop8.ome.tif', 'run.json']);
    for (const name of ['blurred', 'crop8']) {
      const [a, b] = [await readTiff(mem.outputs.find((o) => o.name === name)!.files[0]), await readTiff(str.outputs.find((o) => o.name === name)!.files[0])];
      expect([b.width, b.height, b.dtype]).toEqual([a.width, a.height, a.dtype]);
      expect(Buffer.from(b.planes[0].buffer).equals(Buffer.from(a.planes[0].buffer))).toBe(true);
    }
    const lazy = await openTiffImage(join(dir, 'str', 'blurred.ome.tif'));
    expect(lazy.levels.map((l) => [l.width, l.height, l.blockWidth])).toEqual([[300, 700, 128], [150, 350, 128], [75, 175, 128], [38, 88, 128]]);
    await lazy.close();
    const record = JSON.parse(readFileSync(join(dir, 'str', 'run.json'), 'utf8'));
    expect(record.stream).toMatchObject({ tileSize: 128, format: 'ome-tiff', nodes: [{ node: 'a', mode: 'tiled', haloPx: 8, totalHaloPx: 8 }, { node: 'b', mode: 'tiled', haloPx: 6, totalHaloPx: 14 }, { node: 'region', mode: 'window' }, { node: 'scaled', mode: 'whole' }] });
    const progress = events.filter((e) => e.type === 'run-progress').map((e) => (e as { fraction: number }).fraction);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((f, i) => i === 0 || f >= progress[i - 1])).toBe(true);
  });

  it('the report of a streamed run: outputs from their pyramids (zoomable), inputs named but not read; a later run without one removes it', async () => {
    const file = pipeline({ a: CHAIN.a }, { blurred: 'a.stack' }, 'report');
    const out = join(dir, 'report');
    const r = await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: out, stream: 'always', tileSize: 128, report: true });
    expect(r.reportFile).toBe(join(out, 'report.html'));
    expect(readdirSync(out).sort()).toEqual(['blurred.ome.tif', 'report.html', 'report_files', 'run.json']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('zoom-blurred');
    expect(html).toContain('streamed (300 × 700 px): not previewed');
    expect(readdirSync(join(out, 'report_files')).some((f) => f.endsWith('.dzi'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).report).toBe('report.html');
    // OME-Zarr outputs are opened from their folder the same way
    const zr = await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'report-zarr'), stream: 'always', streamFormat: 'ome-zarr', tileSize: 128, report: true });
    expect(readFileSync(zr.reportFile!, 'utf8')).toContain('zoom-blurred');
    // the same folder again, without a report: the earlier report (and its zoomable views) go
    await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: out, stream: 'always', tileSize: 128, report: false });
    expect(readdirSync(out).sort()).toEqual(['blurred.ome.tif', 'run.json']);
  });

  it('tables reduced tile by tile: a streamed cellcount.count (manual limits, and Otsu) gives the in-memory run\'s tables; a table no op reduces is refused by node', async () => {
    const count = { op: 'cellcount.count', in: { image: 'a.stack' }, params: { method: 'manual', lower: 1600, upper: 65535 } };
    const file = pipeline({ a: CHAIN.a, count }, { blurred: 'a.stack', objects: 'count.objects', summary: 'count.summary' }, 'count');
    const mem = await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'count-mem'), stream: 'never' });
    const str = await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'count-str'), stream: 'always', tileSize: 64, report: true });
    expect(readdirSync(join(dir, 'count-str')).sort()).toEqual(['blurred.ome.tif', 'objects.csv', 'objects.json', 'report.html', 'report_files', 'run.json', 'summary.csv', 'summary.json']);
    for (const t of ['objects.csv', 'summary.csv']) {
      const [a, b] = [readFileSync(join(dir, 'count-mem', t), 'utf8'), readFileSync(join(dir, 'count-str', t), 'utf8')];
      expect(b).toBe(a);
    }
    expect(readFileSync(join(dir, 'count-mem', 'summary.csv'), 'utf8').split('\n')[1]).toMatch(/^0,[1-9]\d*,/); // particles were found
    const record = JSON.parse(readFileSync(join(dir, 'count-str', 'run.json'), 'utf8'));
    expect(record.stream.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ node: 'count', mode: 'reduce', totalHaloPx: 8 })]));
    expect(str.outputs.map((o) => o.name).sort()).toEqual(['blurred', 'objects', 'summary']);
    expect(readFileSync(join(dir, 'count-str', 'report.html'), 'utf8')).toContain('summary');
    // an automatic threshold: the slide's range and histogram streamed first, then the same tables
    const auto = pipeline({ a: CHAIN.a, count: { ...count, params: { method: 'Otsu', darkBackground: true } } }, { summary: 'count.summary', objects: 'count.objects' }, 'count-auto');
    await runner.run({ pipelineFile: auto, inputs: { stack: input }, outDir: join(dir, 'otsu-mem'), stream: 'never' });
    await runner.run({ pipelineFile: auto, inputs: { stack: input }, outDir: join(dir, 'otsu-str'), stream: 'always', tileSize: 64 });
    for (const t of ['objects.csv', 'summary.csv']) expect(readFileSync(join(dir, 'otsu-str', t), 'utf8')).toBe(readFileSync(join(dir, 'otsu-mem', t), 'utf8'));
    // the watershed: each component split on a read of its box, the same tables
    const otsu = pipeline({ a: CHAIN.a, count: { ...count, params: { method: 'Otsu', watershed: true } } }, { summary: 'count.summary', objects: 'count.objects' }, 'count-otsu');
    await runner.run({ pipelineFile: otsu, inputs: { stack: input }, outDir: join(dir, 'ws-mem'), stream: 'never' });
    await runner.run({ pipelineFile: otsu, inputs: { stack: input }, outDir: join(dir, 'ws-str'), stream: 'always', tileSize: 64, memoryMb: 1 });
    for (const t of ['objects.csv', 'summary.csv']) expect(readFileSync(join(dir, 'ws-str', t), 'utf8')).toBe(readFileSync(join(dir, 'ws-mem', t), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'ws-str', 'run.json'), 'utf8')).stream.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ node: 'count', mode: 'reduce' })]));
    // a table no op reduces (an automatic threshold's limits): one run on the whole input when it fits a quarter of the budget …
    const limits = pipeline({ a: CHAIN.a, th: { op: 'cellcount.threshold', in: { stack: 'a.stack' }, params: { method: 'Otsu' } } }, { limits: 'th.threshold' }, 'limits');
    await runner.run({ pipelineFile: limits, inputs: { stack: input }, outDir: join(dir, 'th-mem'), stream: 'never' });
    await runner.run({ pipelineFile: limits, inputs: { stack: input }, outDir: join(dir, 'th-str'), stream: 'always', tileSize: 64 });
    expect(readFileSync(join(dir, 'th-str', 'limits.csv'), 'utf8')).toBe(readFileSync(join(dir, 'th-mem', 'limits.csv'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'th-str', 'run.json'), 'utf8')).stream.nodes).toEqual(expect.arrayContaining([expect.objectContaining({ node: 'th', mode: 'whole' })]));
    // … and when it does not fit, the run is refused before anything is written
    const err = await runner.run({ pipelineFile: limits, inputs: { stack: input }, outDir: join(dir, 'count-otsu'), stream: 'always', memoryMb: 1 }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_UNSUPPORTED');
    expect((err as Error).message).toContain("node 'th' (cellcount.threshold): output 'threshold' (table) cannot be streamed");
    expect((err as Error).message).toMatch(/or by running the op on its whole input when that fits, and its input is 0 MB \(300×700 uint16\), more than a quarter of the memory budget \(1 MB, --memory-mb\) allows/);
    expect(existsSync(join(dir, 'count-otsu'))).toBe(false);
  });

  it("the paper's count on a plane over the budget: the contrast stretch's limits measured region by region, the count with holes and its overlay streamed; all equal the in-memory run", async () => {
    // dark nuclei on a light field (some of them rings: their holes belong to them, as does a nucleus in a ring), 300×700 uint16
    const d = new Uint16Array(W * H);
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < d.length; i++) d[i] = 3000 + Math.floor(rnd() * 600);
    const disc = (cx: number, cy: number, r: number, v: number) => {
      for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(H - 1, cy + r); y++)
        for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(W - 1, cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) d[y * W + x] = v + Math.floor(rnd() * 300);
    };
    for (let k = 0; k < 90; k++) {
      const [cx, cy, r] = [rnd() * W, rnd() * H, 3 + rnd() * 9];
      disc(cx, cy, r, 600);
      if (k % 4 === 0) disc(cx, cy, r * 0.55, 3000); // a ring
      if (k % 8 === 0) disc(cx, cy, r * 0.2, 700); // with a nucleus in it
    }
    const cells = join(dir, 'cells.ome.tif');
    await writePyramidalTiff(cells, stackRegionSource(createStack({ width: W, height: H, dtype: 'uint16', planes: [d] })), { tileSize: 128, levels: 1 });
    const file = pipeline({
      contrast: { op: 'cellcount.normalise-contrast', in: { stack: 'stack' }, params: { saturatedPercent: 0.35 } },
      count: { op: 'cellcount.count', in: { image: 'contrast.stack' }, params: { method: 'Otsu', darkBackground: false, includeHoles: true, minAreaPx: 30, excludeEdges: true } },
    }, { summary: 'count.summary', objects: 'count.objects', overlay: 'count.overlay', labels: 'count.labels', rois: 'count.rois' }, 'count-four-steps');
    await runner.run({ pipelineFile: file, inputs: { stack: cells }, outDir: join(dir, 'four-mem'), stream: 'never' });
    // 1 MB: the 0.4 MB plane is over a quarter of it, so neither the stretch nor the count may run on it whole
    await runner.run({ pipelineFile: file, inputs: { stack: cells }, outDir: join(dir, 'four-str'), stream: 'always', tileSize: 64, memoryMb: 1 });
    const record = JSON.parse(readFileSync(join(dir, 'four-str', 'run.json'), 'utf8'));
    expect(record.stream.nodes.map((n: { node: string; mode: string }) => `${n.node}:${n.mode}`)).toEqual(['contrast:tiled', 'count:op']);
    for (const t of ['objects.csv', 'summary.csv']) expect(readFileSync(join(dir, 'four-str', t), 'utf8')).toBe(readFileSync(join(dir, 'four-mem', t), 'utf8'));
    expect(Number(readFileSync(join(dir, 'four-mem', 'summary.csv'), 'utf8').split('\n')[1].split(',')[1])).toBeGreaterThan(20);
    const [a, b] = [await readTiff(join(dir, 'four-mem', 'overlay.tif')), await readTiff(join(dir, 'four-str', 'overlay.ome.tif'))];
    expect([b.width, b.height, b.sizeC, b.dtype]).toEqual([a.width, a.height, 3, 'uint8']);
    for (let c = 0; c < 3; c++) expect(Buffer.from(b.planes[c].buffer).equals(Buffer.from(a.planes[c].buffer))).toBe(true);
    // the label image region by region and the ROI set (Fiji's zip) as well
    const [la, lb] = [await readTiff(join(dir, 'four-mem', 'labels.tif')), await readTiff(join(dir, 'four-str', 'labels.ome.tif'))];
    expect(lb.dtype).toBe('uint16');
    expect(Buffer.from(lb.planes[0].buffer).equals(Buffer.from(la.planes[0].buffer))).toBe(true);
    // (the zips' entries carry the time they were written, so their ROIs are compared, not their bytes)
    const rois = readRoiZip(readFileSync(join(dir, 'four-str', 'rois.zip')));
    expect(rois.rois.length).toBeGreaterThan(20);
    expect(rois).toEqual(readRoiZip(readFileSync(join(dir, 'four-mem', 'rois.zip'))));
  });

  it('a node with two inputs: Richardson–Lucy tiles the slide with the PSF (made once by a generator node) given whole; within 1e-4 of the in-memory run away from the border', async () => {
    const file = pipeline({
      psf: { op: 'optics.psf-gaussian', params: { sigmaPx: 1.5, size: 9 } },
      rl: { op: 'deconvolution.richardson-lucy', in: { image: 'stack', psf: 'psf.psf' }, params: { iterations: 5 } },
    }, { sharp: 'rl.image' }, 'deconvolve');
    await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'rl-mem'), stream: 'never', tiff: 'ome' });
    await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'rl-str'), stream: 'always', tileSize: 128 });
    const [a, b] = [await readTiff(join(dir, 'rl-mem', 'sharp.ome.tif')), await readTiff(join(dir, 'rl-str', 'sharp.ome.tif'))];
    expect([b.width, b.height, b.dtype]).toEqual([a.width, a.height, a.dtype]);
    let peak = 0;
    let worst = 0;
    for (let y = 16; y < H - 16; y++) {
      for (let x = 16; x < W - 16; x++) {
        const i = y * W + x;
        peak = Math.max(peak, Math.abs(a.planes[0][i]));
        worst = Math.max(worst, Math.abs(a.planes[0][i] - b.planes[0][i]));
      }
    }
    expect(peak).toBeGreaterThan(0);
    expect(worst / peak).toBeLessThan(1e-4);
    const record = JSON.parse(readFileSync(join(dir, 'rl-str', 'run.json'), 'utf8'));
    expect(record.stream.nodes).toEqual([
      expect.objectContaining({ node: 'psf', mode: 'whole' }),
      expect.objectContaining({ node: 'rl', mode: 'tiled', haloPx: 16 }),
    ]);
  });

  it('auto: an input over a quarter of --memory-mb streams; a whole-plane node over it is refused naming node, op and MB', async () => {
    const blur = pipeline({ a: CHAIN.a }, { blurred: 'a.stack' }, 'blur');
    await runner.run({ pipelineFile: blur, inputs: { stack: input }, outDir: join(dir, 'auto'), memoryMb: 1 });
    expect(readdirSync(join(dir, 'auto')).sort()).toEqual(['blurred.ome.tif', 'run.json']);
    // a roomy budget: the same run loads the stack whole, as before
    await runner.run({ pipelineFile: blur, inputs: { stack: input }, outDir: join(dir, 'auto-mem'), report: false });
    expect(readdirSync(join(dir, 'auto-mem')).sort()).toEqual(['blurred.tif', 'run.json']);
    const minmax = pipeline({ a: CHAIN.a, scaled: { op: 'stack.convert', in: { stack: 'a.stack' }, params: { dtype: 'uint8', scale: 'minmax' } } }, { out: 'scaled.stack' }, 'minmax');
    const err = await runner.run({ pipelineFile: minmax, inputs: { stack: input }, outDir: join(dir, 'refused'), memoryMb: 1 }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_UNSUPPORTED');
    expect((err as Error).message).toMatch(/^node 'scaled' \(stack\.convert\) needs whole planes, and its input is 0 MB \(300×700 uint16\), more than a quarter of the memory budget \(1 MB, --memory-mb\)/);
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });

  it('cancelled mid-write: the run is E_CANCELLED and leaves nothing behind', async () => {
    const file = pipeline(CHAIN, { blurred: 'b.stack', crop8: 'scaled.stack' }, 'cancel');
    const ac = new AbortController();
    const err = await runner
      .run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'cancelled'), stream: 'always', tileSize: 16, signal: ac.signal, onEvent: (e) => e.type === 'run-progress' && e.fraction > 0.2 && ac.abort() })
      .catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(existsSync(join(dir, 'cancelled'))).toBe(false);
  });

  it('an OME-Zarr input streams to OME-TIFF (and OME-Zarr v2 out through the CLI)', async () => {
    const zarr = join(dir, 'in.ome.zarr');
    await writeOmeZarr(zarr, stackRegionSource(slide()), { chunkSize: 64, zarrFormat: 2 });
    const file = pipeline({ a: CHAIN.a }, { blurred: 'a.stack' }, 'zarr-in');
    await runner.run({ pipelineFile: file, inputs: { stack: zarr }, outDir: join(dir, 'from-zarr'), stream: 'always', tileSize: 128 });
    await runner.run({ pipelineFile: file, inputs: { stack: input }, outDir: join(dir, 'from-tiff'), stream: 'never', report: false });
    const [a, b] = [await readTiff(join(dir, 'from-tiff', 'blurred.tif')), await readTiff(join(dir, 'from-zarr', 'blurred.ome.tif'))];
    expect(Buffer.from(b.planes[0].buffer).equals(Buffer.from(a.planes[0].buffer))).toBe(true);
    const r = focal(['run', file, '-i', zarr, '-o', join(dir, 'cli'), '--stream', 'always', '--stream-format', 'ome-zarr', '--zarr-format', '2', '--tile-size', '128', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const out = await openOmeZarr(join(dir, 'cli', 'blurred.ome.zarr'));
    expect([out.width, out.height, out.levels.length, out.levels[0].blockWidth]).toEqual([300, 700, 4, 128]);
    const px = await out.readRegion({ x: 0, y: 0, w: W, h: H });
    expect(Buffer.from(px.buffer).equals(Buffer.from(a.planes[0].buffer))).toBe(true);
    await out.close();
    // the CLI wrote a report (its default); `focal report` rebuilds it: the OME-Zarr output from its levels, the input folder named
    expect(readFileSync(join(dir, 'cli', 'report.html'), 'utf8')).toContain('zoom-blurred');
    const rebuilt = await rebuildRunReport(join(dir, 'cli'), new DefaultIoService());
    expect(rebuilt.missing).toEqual(["input 'stack': not previewed: a dataset folder"]);
    expect(readFileSync(rebuilt.file, 'utf8')).toContain('zoom-blurred');
    const bad = focal(['run', file, '-i', zarr, '-o', join(dir, 'cli-bad'), '--stream', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--stream');
  });
  it('Deep-R on a plane over the budget: the plane\'s mean and σ measured in one pass, then tiled with the package halo', async () => {
    const img = await openTiffImage(input);
    const doc = { name: 'focus', inputs: { stack: { type: 'stack' } }, nodes: { a: CHAIN.a, focus: { op: 'deepr.autofocus', in: { image: 'a.stack' }, params: { engine: 'onnxruntime' } } }, outputs: { focused: 'focus.image' } };
    const logger = new MemoryLogger();
    const plan = await planStream(doc as never, { catalog: registry, inputs: { stack: img }, budgetBytes: 1 << 20, tileSize: 64, services: { resolve: () => { throw new Error('no services'); } }, logger });
    expect(plan.nodes.map((n) => [n.node, n.mode, n.haloPx, n.totalHaloPx])).toEqual([['a', 'tiled', 8, 8], ['focus', 'tiled', 64, 72]]);
    // the statistics are the blurred plane's, as the whole-plane op would standardise it
    const blurred = (await runner.run({ pipelineFile: pipeline({ a: CHAIN.a }, { b: 'a.stack' }, 'stats'), inputs: { stack: input }, outDir: join(dir, 'stats'), stream: 'never', report: false }), await readTiff(join(dir, 'stats', 'b.tif')));
    const own = standardise(blurred.planes[0]);
    const line = logger.records.find((r) => r.message.includes('standardised with the whole plane'))!.message;
    const [m, sd] = [...line.matchAll(/(?:mean|σ) ([\d.e+-]+)/g)].map((x) => Number(x[1]));
    expect(m / own.mean).toBeCloseTo(1, 5);
    expect(sd / own.std).toBeCloseTo(1, 5);
    const piece = await plan.outputs.focused.readRegion({ x: 100, y: 300, w: 64, h: 64 });
    expect(piece).toBeInstanceOf(Float32Array);
    expect(piece.every(Number.isFinite)).toBe(true);
    await img.close();
  }, 60_000);
});
