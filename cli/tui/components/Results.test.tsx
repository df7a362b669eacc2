import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testServices, renderTui, KEY } from '../test-utils/render.js';
import { encode } from 'fast-png';
import { cellPreview } from '../image-preview.js';
import { LayoutContext, layoutFor } from '../layout.js';
import { ThemeContext, themeFor } from '../theme.js';
import { columnWidths, outputWindow, Results } from './Results.js';

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
    // 80×24: the body's 21 rows less the summary, 3 rows of outputs, a blank line, the caption, the header and the count
    expect(f).toMatch(/\n13\s+25\s+112\n/);
    expect(f).not.toMatch(/\n14\s+26\.25/);
    expect(f).toContain('… 13 of 20 rows');
    expect(f.split('\n').length).toBe(23);
    await t.press(KEY.down);
    expect(await t.waitFor('Fiji/ImageJ')).toContain('› labels (stack)');
    t.unmount();
  });

  it('lays out to the terminal: at 120×40 the table fills the taller body and the frame is 39 rows, the key line last', async () => {
    const csv = ['label,area_um2', ...Array.from({ length: 100 }, (_, i) => `${i + 1},${i}`)].join('\n');
    writeFileSync(join(dir, 'big.csv'), `${csv}\n`);
    const summary = {
      pipeline: 'count',
      outputs: [{ name: 'big', type: 'table' as const, files: [join(dir, 'big.csv')] }],
      timingsMs: {},
      totalMs: 5,
      provenanceFile: join(dir, 'run.json'),
    };
    const services = testServices(dir);
    const t = renderTui(
      <LayoutContext.Provider value={layoutFor({ columns: 120, rows: 40 })}>
        <Results summary={summary} cwd={dir} readTable={services.readTable} onBack={() => undefined} onHome={() => undefined} />
      </LayoutContext.Provider>,
    );
    const f = await t.waitFor('of 100 rows');
    const lines = f.split('\n');
    expect(lines.length).toBe(39);
    expect(lines[0]).toBe('Focal · results count');
    expect(lines[38]).toMatch(/^↑\/↓ output  esc back  p pipelines  q quit/);
    // 37 body rows: summary, 1 output, blank, caption, header, 31 rows, the count
    expect(f).toContain('… 31 of 100 rows');
    expect(lines[36]).toMatch(/^31\s+30\s*$/);
    expect(lines[37]).toMatch(/^… 31 of 100 rows/);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(120);
    t.unmount();
  });

  it('keeps the selected output in view when there are more outputs than rows for them', async () => {
    const outputs = Array.from({ length: 15 }, (_, i) => ({ name: `out${i}`, type: 'stack' as const, files: [join(dir, `out${i}.tif`), join(dir, `out${i}.png`)] }));
    const summary = { pipeline: 'many', outputs, timingsMs: {}, totalMs: 5, provenanceFile: join(dir, 'run.json') };
    const services = testServices(dir);
    const t = renderTui(<Results summary={summary} cwd={dir} readTable={services.readTable} onBack={() => undefined} onHome={() => undefined} />);
    const f = await t.waitFor('more outputs');
    expect(f).toContain('› out0 (stack): out0.tif');
    // half the 21-row body: 4 outputs of 2 rows and the '… more' line
    expect(f).toContain('… 11 more outputs (↑/↓)');
    expect(f.split('\n').length).toBe(23);
    await t.press(...Array<string>(12).fill(KEY.down));
    const g = await t.waitFor('› out12');
    expect(g).toContain('› out12 (stack): out12.tif');
    expect(g).not.toContain('out0 (stack)');
    expect(g.split('\n').length).toBe(23);
    expect(g.split('\n')[22]).toMatch(/^↑\/↓ output/);
    t.unmount();
  });

  it('windows a list of outputs of 1 or 2 rows around the selected one', () => {
    expect(outputWindow([2, 2, 2, 2], 0, 5)).toEqual({ start: 0, end: 2 });
    expect(outputWindow([2, 2, 2, 2], 1, 5)).toEqual({ start: 0, end: 2 });
    expect(outputWindow([2, 2, 2, 2], 3, 5)).toEqual({ start: 2, end: 4 });
    expect(outputWindow([1, 2, 1, 1, 2], 4, 4)).toEqual({ start: 2, end: 5 });
    expect(outputWindow([1, 1], 1, 10)).toEqual({ start: 0, end: 2 });
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

  it('draws the picture as large as the body allows at 120×40, whole, and the frame stays 39 rows', async () => {
    // 256×256, a diagonal ramp
    const n = 256;
    const px = new Uint8Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) px[y * n + x] = (x + y) >> 1;
    writeFileSync(join(dir, 'square.png'), encode({ width: n, height: n, data: px, channels: 1, depth: 8 }));
    const summary = {
      pipeline: 'square',
      outputs: [
        { name: 'square', type: 'image' as const, files: [join(dir, 'square.tif'), join(dir, 'square.png')] },
        { name: 'other', type: 'image' as const, files: [join(dir, 'other.tif'), join(dir, 'other.png')] },
      ],
      timingsMs: {},
      totalMs: 10,
      provenanceFile: join(dir, 'run.json'),
    };
    const services = testServices(dir);
    const t = renderTui(
      <ThemeContext.Provider value={themeFor(true)}>
        <LayoutContext.Provider value={layoutFor({ columns: 120, rows: 40 })}>
          <Results summary={summary} cwd={dir} readTable={services.readTable} onBack={() => undefined} onHome={() => undefined} />
        </LayoutContext.Provider>
      </ThemeContext.Provider>,
    );
    const f = await t.waitFor('▀');
    const lines = f.split('\n');
    expect(lines.length).toBe(39);
    // body 37: summary, 2 outputs × 2 rows, blank, caption → 30 rows for the picture: 60 × 60 px
    const pic = lines.map((l, i) => (l.includes('▀') ? i : -1)).filter((i) => i >= 0);
    expect(pic).toEqual(Array.from({ length: 30 }, (_, i) => 8 + i));
    for (const i of pic) expect(lines[i].trimEnd()).toBe('▀'.repeat(60));
    expect(lines[7]).toContain('square: square.png (half-block preview)');
    expect(lines[38]).toMatch(/^↑\/↓ output/);
    t.unmount();
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
