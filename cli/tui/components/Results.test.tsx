import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testServices, renderTui, KEY } from '../test-utils/render.js';
import { encode } from 'fast-png';
import { cellPreview } from '../image-preview.js';
import { ThemeContext, themeFor } from '../theme.js';
import { columnWidths, Results } from './Results.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Results', () => {
  it('lists the written files with the PNG preview path and shows the first rows of a table', async () => {
    const csv = ['label,area_um2,mean', ...Array.from({ length: 20 }, (_, i) => `${i + 1},${(10 + i * 1.25).toFixed(2)},${100 + i}`)].join('\n');
    writeFileSync(join(dir, 'counts.csv'), `${csv}\n`);
    const summary = {
      pipeline: 'count',
      outputs: [
        { name: 'counts', type: 'table' as const, files: [join(dir, 'counts.csv'), join(dir, 'counts.json')] },
        { name: 'labels', type: 'stack' as const, files: [join(dir, 'labels.tif'), join(dir, 'labels.png')] },
      ],
      timingsMs: {},
      totalMs: 1234,
      provenanceFile: join(dir, 'run.json'),
    };
    const services = testServices(dir);
    const t = renderTui(<Results summary={summary} cwd={dir} readTable={services.readTable} onBack={() => undefined} onHome={() => undefined} />);
    const f = await t.waitFor('rows');
    expect(f).toContain('done in 1.23 s · provenance: run.json');
    expect(f).toContain('› counts (table): counts.csv, counts.json');
    expect(f).toContain('labels (stack): labels.tif');
    expect(f).toContain('preview: labels.png');
    expect(f).toMatch(/label\s+area_um2\s+mean/);
    expect(f).toMatch(/\n1\s+10\s+100\n/);
    expect(f).toMatch(/8\s+18\.75\s+107/);
    expect(f).not.toMatch(/\n9\s+20/);
    expect(f).toContain('… 8 of 20 rows');
    await t.press(KEY.down);
    expect(await t.waitFor('Fiji/ImageJ')).toContain('› labels (stack)');
    t.unmount();
  });

  it('narrows columns to fit 78 columns and leaves out those that do not fit', () => {
    const w = columnWidths({ columns: ['a'.repeat(50), 'b'.repeat(50)], rows: [], total: 0 }, 78);
    expect(w[0] + w[1] + 2).toBeLessThanOrEqual(78);
    const many = columnWidths({ columns: Array.from({ length: 15 }, (_, i) => `column${i}xx`), rows: [], total: 0 }, 78);
    expect(many.length).toBe(8); // 8×8 + 7×2 = 78; a 9th column would need 88
    expect(many.every((x) => x === 8)).toBe(true);
  });

  it('draws the selected image output with half blocks when colour is on, and not under NO_COLOR', async () => {
    // a 64×32 horizontal ramp, black → white
    const w = 64;
    const h = 32;
    const px = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = Math.round((x / (w - 1)) * 255);
    writeFileSync(join(dir, 'ramp.png'), encode({ width: w, height: h, data: px, channels: 1, depth: 8 }));
    const summary = {
      pipeline: 'ramp',
      outputs: [{ name: 'ramp', type: 'image' as const, files: [join(dir, 'ramp.tif'), join(dir, 'ramp.png')] }],
      timingsMs: {},
      totalMs: 10,
      provenanceFile: join(dir, 'run.json'),
    };
    const services = testServices(dir);
    const el = (color: boolean) => (
      <ThemeContext.Provider value={themeFor(color)}>
        <Results summary={summary} cwd={dir} readTable={services.readTable} onBack={() => undefined} onHome={() => undefined} />
      </ThemeContext.Provider>
    );
    const t = renderTui(el(true));
    const f = await t.waitFor('▀');
    expect(f).toContain('ramp: ramp.png (half-block preview)');
    const rows = f.split('\n').filter((l) => l.includes('▀'));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    // a 2:1 image and cells of 1 × 2 px: twice as many columns as pixel rows, i.e. 4 × the cell rows
    expect(rows[0].split('▀').length - 1).toBe(4 * rows.length);
    t.unmount();
    const plain = renderTui(el(false));
    const g = await plain.waitFor('Fiji/ImageJ');
    expect(g).not.toContain('▀');
    expect(g).toContain('preview: ramp.png');
    plain.unmount();
  });

  it('averages pixels into cells, two pixel rows per cell, keeping the aspect ratio', () => {
    // 4×4: left half 0, right half 200; the top row of the right half 100
    const d = new Uint8Array(16);
    for (let y = 0; y < 4; y++) for (let x = 2; x < 4; x++) d[y * 4 + x] = y === 0 ? 100 : 200;
    const p = cellPreview(d, 4, 4, 1, 2, 1);
    expect([p.cols, p.rows]).toEqual([2, 1]);
    // cell 1: top = rows 0–1 of the right half (100, 200 → 150), bottom = rows 2–3 (200)
    expect(p.cells).toEqual([['#000000', '#000000'], ['#969696', '#c8c8c8']]);
    const wide = cellPreview(new Uint8Array(200 * 50), 200, 50, 1, 40, 20);
    expect([wide.cols, wide.rows]).toEqual([40, 5]); // 200×50 px → 40 cols × 10 px = 5 rows
    const rgb = cellPreview(new Uint8Array([255, 0, 0, 0, 0, 255]), 1, 2, 3, 10, 10);
    expect(rgb.cells).toEqual([['#ff0000', '#0000ff']]);
  });
});
