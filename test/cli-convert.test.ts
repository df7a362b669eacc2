import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { decode } from 'fast-png';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openOmeZarr, readTiff } from '../core/index.js';
import { focal, ROOT, tempDir } from './helpers.js';

const TILED = join(ROOT, 'core', 'io', 'fixtures', 'tiffcp_tiled.tif');
const STRIPS = join(ROOT, 'core', 'io', 'fixtures', 'tiffcp_strips5.tif');

describe('focal convert and focal info (issue 21)', () => {
  it('converts a stripped TIFF to a tiled pyramid that info describes, pixels kept', async () => {
    const dir = tempDir();
    const out = join(dir, 'a.ome.tif');
    const r = focal(['convert', STRIPS, out, '--tile-size', '16', '--levels', '2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 levels (32×24, 16×12), tiles 16×16, deflate');
    const info = focal(['info', out, '--json']);
    expect(info.code).toBe(0);
    const j = JSON.parse(info.stdout);
    expect(j.levels).toEqual([{ width: 32, height: 24, blockWidth: 16, blockHeight: 16, tiled: true }, { width: 16, height: 12, blockWidth: 16, blockHeight: 16, tiled: true }]);
    const text = focal(['info', out]);
    expect(text.stdout).toMatch(/levels: +2\n +0: 32 × 24 px, tiles 16×16\n +1: 16 × 12 px, tiles 16×16/);
    const [a, b] = [await readTiff(STRIPS), await readTiff(out)];
    expect(b.sizeZ).toBe(a.sizeZ);
    a.planes.forEach((p, i) => expect(Array.from(b.planes[i])).toEqual(Array.from(p)));
  });

  it('--json gives progress and the result; info of a stripped file shows its strips', () => {
    const dir = tempDir();
    const r = focal(['convert', TILED, join(dir, 'b.ome.tif'), '--tile-size', '16', '--json']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ event: 'done', tileSize: 16, levels: [{ width: 32, height: 24 }, { width: 16, height: 12 }] });
    expect(events.filter((e) => e.event === 'progress').at(-1).fraction).toBe(1);
    expect(focal(['info', STRIPS]).stdout).toMatch(/0: 32 × 24 px, strips of 5 rows/);
  });

  it('bad options and outputs are usage errors naming the flag; nothing is written', () => {
    const dir = tempDir();
    const out = join(dir, 'c.ome.tif');
    const r = focal(['convert', TILED, out, '--tile-size', '100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tile-size: must be a multiple of 16');
    const z = focal(['convert', TILED, join(dir, 'c.png')]);
    expect(z.code).toBe(2);
    expect(z.stderr).toContain('give a name ending in .ome.tif, .ome.zarr or .dzi');
    const zf = focal(['convert', TILED, join(dir, 'c.ome.zarr'), '--zarr-format', '4']);
    expect(zf.code).toBe(2);
    expect(zf.stderr).toContain('--zarr-format');
    const missing = focal(['convert', join(dir, 'nope.tif'), out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.tif');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('converts to OME-Zarr (Zarr v3 and v2): info shows its levels and chunks, convert reads it back, focal run takes it as an input', async () => {
    const dir = tempDir();
    const src = await readTiff(STRIPS);
    for (const format of ['3', '2']) {
      const out = join(dir, `v${format}.ome.zarr`);
      const r = focal(['convert', STRIPS, out, '--tile-size', '16', '--zarr-format', format]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`OME-Zarr (Zarr v${format}, NGFF ${format === '3' ? '0.5' : '0.4'}), 2 levels (32×24, 16×12), chunks 16×16, deflate`);
      const info = focal(['info', out, '--json']);
      expect(info.code, info.stderr).toBe(0);
      const j = JSON.parse(info.stdout);
      expect(j).toMatchObject({ reader: format === '3' ? 'stack.ome-zarr' : 'stack.ome-zarr-v2', width: 32, height: 24, sizeZ: src.sizeZ, dtype: src.dtype });
      expect(j.levels).toEqual([{ width: 32, height: 24, blockWidth: 16, blockHeight: 16, tiled: true }, { width: 16, height: 12, blockWidth: 16, blockHeight: 16, tiled: true }]);
      expect(focal(['info', out]).stdout).toMatch(/levels: +2\n +0: 32 × 24 px, chunks 16×16 \(0: t c z y x chunk 1×1×1×16×16\)/);
      const img = await openOmeZarr(out);
      for (let z = 0; z < src.sizeZ; z++) expect(Array.from(await img.readRegion({ z, x: 0, y: 0, w: 32, h: 24 }))).toEqual(Array.from(src.planes[z]));
    }
    // OME-Zarr in, pyramidal OME-TIFF out
    const back = join(dir, 'back.ome.tif');
    const r = focal(['convert', join(dir, 'v3.ome.zarr'), back, '--tile-size', '16']);
    expect(r.code, r.stderr).toBe(0);
    expect(Array.from((await readTiff(back)).planes[2])).toEqual(Array.from(src.planes[2]));
    // an existing OME-Zarr is never replaced
    const again = focal(['convert', STRIPS, join(dir, 'v3.ome.zarr')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; Focal does not replace it');
    // a pipeline input
    const run = focal(['run', join(ROOT, 'pipelines', 'best-focus.json'), '--input', `stack=${join(dir, 'v2.ome.zarr')}`, '--out', join(dir, 'run'), '--no-report', '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(join(dir, 'run')).sort()).toEqual(['nuclei.tif', 'run.json', 'scores.csv', 'scores.json']);
  });

  it('writes Deep Zoom tiles (.dzi + <name>_files/) of a pyramid, with a window; Deep Zoom flags are refused elsewhere', async () => {
    const dir = tempDir();
    const pyr = join(dir, 'p.ome.tif');
    expect(focal(['convert', STRIPS, pyr, '--tile-size', '16']).code).toBe(0);
    const out = join(dir, 'view.dzi');
    const r = focal(['convert', pyr, out, '--tile-size', '16', '--overlap', '2', '--window', '0:255', '--z', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).at(-1);
    expect(done).toMatchObject({ event: 'done', width: 32, height: 24, tileSize: 16, overlap: 2, format: 'png', levels: 6, tiles: 9, display: { mode: 'grey', ranges: [[0, 255]] } });
    expect(readFileSync(out, 'utf8')).toContain('Overlap="2" TileSize="16"');
    expect(readdirSync(join(dir, 'view_files', '5')).sort()).toEqual(['0_0.png', '0_1.png', '1_0.png', '1_1.png']);
    const src = await readTiff(STRIPS);
    const t = decode(readFileSync(join(dir, 'view_files', '5', '1_1.png'))); // x 14…31, y 14…23 of z 1
    expect([t.width, t.height]).toEqual([18, 10]);
    expect(t.data[(3 * 18 + 4) * 3]).toBe(src.planes[1][(14 + 3) * 32 + 14 + 4]);
    const bad = focal(['convert', pyr, join(dir, 'b.ome.tif'), '--window', '0:10']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--window: applies to Deep Zoom output (.dzi)');
    const w = focal(['convert', pyr, join(dir, 'c.dzi'), '--window', '9:1']);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain("--window: channel 0: '9:1' is not lo:hi with lo < hi");
    expect(focal(['convert', pyr, out]).stderr).toContain('view.dzi exists');
  });
});
