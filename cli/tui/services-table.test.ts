import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTable, tableToJson } from '../../core/index.js';
import { testServices } from './test-utils/render.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-tui-table-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TUI readTable', () => {
  const services = testServices(dir);

  it("previews a table's JSON form ({columns, rows}, as focal run writes it) like its CSV", async () => {
    const table = createTable(['label', 'area', 'note'], [{ label: 1, area: 2.5, note: 'a' }, { label: 2, area: 3, note: null }, { label: 3, area: 4.25, note: 'c' }]);
    writeFileSync(join(dir, 'counts.json'), JSON.stringify(tableToJson(table), null, 2));
    writeFileSync(join(dir, 'counts.csv'), 'label,area,note\n1,2.5,a\n2,3,\n3,4.25,c\n');
    const fromJson = await services.readTable(join(dir, 'counts.json'), 2);
    expect(fromJson).toEqual({ columns: ['label', 'area', 'note'], rows: [['1', '2.500', 'a'], ['2', '3', '']], total: 3 });
    expect(await services.readTable(join(dir, 'counts.csv'), 2)).toEqual(fromJson);
  });

  it('still previews a JSON array of row objects and a single JSON object', async () => {
    writeFileSync(join(dir, 'rows.json'), JSON.stringify([{ a: 1 }, { a: 2, b: [1, 2] }]));
    expect(await services.readTable(join(dir, 'rows.json'), 8)).toEqual({ columns: ['a', 'b'], rows: [['1', ''], ['2', '[1,2]']], total: 2 });
    writeFileSync(join(dir, 'one.json'), JSON.stringify({ format: 'x', version: 1 }));
    expect(await services.readTable(join(dir, 'one.json'), 8)).toEqual({ columns: ['format', 'version'], rows: [['x', '1']], total: 1 });
  });
});
