import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testServices, renderTui, KEY } from '../test-utils/render.js';
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
});
