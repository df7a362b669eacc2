import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTiff } from '../core/index.js';
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
    const z = focal(['convert', TILED, join(dir, 'c.ome.zarr')]);
    expect(z.code).toBe(2);
    expect(z.stderr).toContain('OME-Zarr output is not implemented yet');
    const missing = focal(['convert', join(dir, 'nope.tif'), out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.tif');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
