/**
 * The TSVA whole-slide workflow streamed through the CLI: tsva.slide makes its mosaic band by
 * band (OperationDef.stream), reading each tile's two shots from the stack when a band reaches
 * it, with the positions table loaded whole; the mosaic and the per-tile table equal the
 * in-memory run's, from a TIFF or an OME-Zarr acquisition.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTiffImage, readTableFile, readTiff, stackRegionSource, writeOmeZarr } from '../core/index.js';
import { focal, ROOT, tempDir } from './helpers.js';

const dir = tempDir('focal-stream-tsva-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SAMPLES = resolve(ROOT, 'plugins/tsva/samples');

/** Writes a pipeline over the two inputs of a two-shot acquisition (shots, positions). */
function twoShotPipeline(name: string, nodes: Record<string, unknown>, outputs: Record<string, string>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ name, inputs: { shots: { type: 'stack' }, positions: { type: 'table' } }, nodes, outputs }));
  return file;
}

describe('tsva.slide streamed by focal run', () => {
  it('--stream always --tile-size 64: the mosaic and the tiles table equal the in-memory run (TIFF or OME-Zarr shots); a table from another node is refused', async () => {
    const pipeline = twoShotPipeline('slide', { slide: { op: 'tsva.slide', in: { shots: 'shots', positions: 'positions' } } }, { mosaic: 'slide.mosaic', tiles: 'slide.tiles' });
    const io = ['-i', `shots=${join(SAMPLES, 'tsva-slide-shots.tif')}`, '-i', `positions=${join(SAMPLES, 'tsva-slide-positions.csv')}`];
    const streamed = focal(['run', pipeline, ...io, '-o', join(dir, 's'), '--stream', 'always', '--tile-size', '64', '--quiet', '--no-report'], { timeoutMs: 120_000 });
    expect(streamed.stderr).toBe('');
    expect(streamed.code).toBe(0);
    const mem = focal(['run', pipeline, ...io, '-o', join(dir, 'm'), '--stream', 'never', '--quiet', '--no-report'], { timeoutMs: 120_000 });
    expect(mem.code).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, 's', 'run.json'), 'utf8')) as { stream: { tileSize: number; nodes: { node: string; mode: string }[] } };
    expect(record.stream.tileSize).toBe(64);
    expect(record.stream.nodes).toEqual([expect.objectContaining({ node: 'slide', mode: 'op' })]);
    const whole = await readTiff(join(dir, 'm', 'mosaic.tif'));
    const img = await openTiffImage(join(dir, 's', 'mosaic.ome.tif'));
    try {
      expect([img.width, img.height, img.sizeC, img.dtype]).toEqual([whole.width, whole.height, 3, 'uint8']);
      for (let c = 0; c < 3; c++) {
        const p = await img.readRegion({ c, x: 0, y: 0, w: img.width, h: img.height });
        expect(Buffer.from(p.buffer, p.byteOffset, p.byteLength).equals(Buffer.from(whole.planes[c].buffer))).toBe(true);
      }
    } finally {
      await img.close();
    }
    const strip = async (f: string) => (await readTableFile(f)).rows.map(({ seconds, ...rest }) => rest);
    expect(await strip(join(dir, 's', 'tiles.csv'))).toEqual(await strip(join(dir, 'm', 'tiles.csv')));

    // the acquisition as OME-Zarr (chunks of 64 px, so a tile's shot is read from several chunks): the same mosaic
    const zarr = join(dir, 'shots.ome.zarr');
    await writeOmeZarr(zarr, stackRegionSource(await readTiff(join(SAMPLES, 'tsva-slide-shots.tif'))), { chunkSize: 64, levels: 1 });
    const fromZarr = focal(['run', pipeline, '-i', `shots=${zarr}`, '-i', io[3], '-o', join(dir, 'z'), '--stream', 'always', '--quiet', '--no-report'], { timeoutMs: 120_000 });
    expect(fromZarr.stderr).toBe('');
    const z = await openTiffImage(join(dir, 'z', 'mosaic.ome.tif'));
    try {
      for (let c = 0; c < 3; c++) {
        const p = await z.readRegion({ c, x: 0, y: 0, w: z.width, h: z.height });
        expect(Buffer.from(p.buffer, p.byteOffset, p.byteLength).equals(Buffer.from(whole.planes[c].buffer))).toBe(true);
      }
    } finally {
      await z.close();
    }

    // a positions table made by another node cannot feed the streamed op: refused, naming node and port
    const chained = twoShotPipeline('chained', {
      first: { op: 'tsva.slide', in: { shots: 'shots', positions: 'positions' } },
      slide: { op: 'tsva.slide', in: { shots: 'shots', positions: 'first.tiles' } },
    }, { mosaic: 'slide.mosaic' });
    const refused = focal(['run', chained, ...io, '-o', join(dir, 'c'), '--stream', 'always', '--quiet', '--no-report'], { timeoutMs: 60_000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/node 'slide' \(tsva\.slide\): input 'positions' \(table\) must come from a pipeline input in a streamed run/);
  }, 300_000);

  it('a whole-slide cell count streams: mosaic (the op\'s own) → grey (tiled, channels together) → Otsu count (reduced tile by tile), the tables equal the in-memory run', async () => {
    const pipeline = twoShotPipeline('count', {
      slide: { op: 'tsva.slide', in: { shots: 'shots', positions: 'positions' } },
      grey: { op: 'cellcount.rgb-to-grey', in: { stack: 'slide.mosaic' } },
      count: { op: 'cellcount.count', in: { image: 'grey.stack' }, params: { method: 'Otsu', darkBackground: false, minAreaPx: 150, excludeEdges: true } },
    }, { summary: 'count.summary', objects: 'count.objects' });
    const io = ['-i', `shots=${join(SAMPLES, 'tsva-slide-shots.tif')}`, '-i', `positions=${join(SAMPLES, 'tsva-slide-positions.csv')}`];
    const streamed = focal(['run', pipeline, ...io, '-o', join(dir, 'cs'), '--stream', 'always', '--tile-size', '64', '--quiet', '--no-report'], { timeoutMs: 120_000 });
    expect(streamed.stderr).toBe('');
    const mem = focal(['run', pipeline, ...io, '-o', join(dir, 'cm'), '--stream', 'never', '--quiet', '--no-report'], { timeoutMs: 120_000 });
    expect(mem.code).toBe(0);
    const record = JSON.parse(readFileSync(join(dir, 'cs', 'run.json'), 'utf8')) as { stream: { nodes: { node: string; mode: string }[] } };
    expect(record.stream.nodes.map((n) => `${n.node}:${n.mode}`)).toEqual(['slide:op', 'grey:tiled', 'count:reduce']);
    for (const f of ['summary.csv', 'objects.csv']) expect(readFileSync(join(dir, 'cs', f), 'utf8')).toBe(readFileSync(join(dir, 'cm', f), 'utf8'));
    expect(Number(readFileSync(join(dir, 'cs', 'summary.csv'), 'utf8').split('\n')[1].split(',')[1])).toBeGreaterThan(5);

    // the bundled pipeline (the paper's four steps): the stretch needs its plane's limits, and its plane fits here, so it runs once in memory on the streamed
    // mosaic; the count with holes and its overlay stream (a mosaic over the budget has the stretch tiled too: test/stream-run.test.ts)
    const bundled = resolve(ROOT, 'plugins/tsva/pipelines/tsva-slide-count.json');
    const bs = focal(['run', bundled, '-o', join(dir, 'bs'), '--stream', 'always', '--tile-size', '64', '--quiet', '--no-report'], { timeoutMs: 120_000 });
    expect(bs.stderr).toBe('');
    expect(focal(['run', bundled, '-o', join(dir, 'bm'), '--stream', 'never', '--quiet', '--no-report'], { timeoutMs: 120_000 }).code).toBe(0);
    const modes = (JSON.parse(readFileSync(join(dir, 'bs', 'run.json'), 'utf8')) as { stream: { nodes: { node: string; mode: string }[] } }).stream.nodes.map((n) => `${n.node}:${n.mode}`);
    expect(modes).toEqual(expect.arrayContaining(['slide:op', 'grey:tiled', 'contrast:whole', 'count:op']));
    expect(readFileSync(join(dir, 'bs', 'summary.csv'), 'utf8')).toBe(readFileSync(join(dir, 'bm', 'summary.csv'), 'utf8'));
    const [om, os] = [await readTiff(join(dir, 'bm', 'overlay.tif')), await readTiff(join(dir, 'bs', 'overlay.ome.tif'))];
    for (let c = 0; c < 3; c++) expect(Buffer.from(os.planes[c].buffer).equals(Buffer.from(om.planes[c].buffer))).toBe(true);
  }, 300_000);
});
