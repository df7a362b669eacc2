/**
 * Batch tables: `focal submit` over a glob and `focal watch --once` over a folder append each
 * input's tables to one combined CSV per table in the output folder, the input's path and the job
 * id first; a job run again replaces its rows (no duplicates).
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJobTables, createStack, parseCsv, writeTiff } from '../core/index.js';
import { focal, tempDir } from './helpers.js';
import { chromiumMissing, openInChromium } from './report-helpers.js';

const d = tempDir('focal-batch-tables-');
afterAll(() => rmSync(d, { recursive: true, force: true }));
const inDir = join(d, 'in');
const pipeline = join(d, 'count.json');
const N = 10;

/** Field `i`: i + 1 bright discs (radius 5 px) on a dark background, 0.5 µm pixels. */
function field(i: number) {
  const w = 96, h = 96;
  const px = new Uint16Array(w * h).fill(100);
  for (let k = 0; k <= i; k++) {
    const cx = 12 + (k % 4) * 22, cy = 12 + Math.floor(k / 4) * 22;
    for (let y = -5; y <= 5; y++) for (let x = -5; x <= 5; x++) if (x * x + y * y <= 25) px[(cy + y) * w + cx + x] = 2000;
  }
  return createStack({ width: w, height: h, dtype: 'uint16', planes: [px], calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5 } });
}

beforeAll(async () => {
  await mkdir(inDir, { recursive: true });
  for (let i = 0; i < N; i++) await writeTiff(join(inDir, `field${String(i).padStart(2, '0')}.tif`), field(i));
  writeFileSync(pipeline, JSON.stringify({
    name: 'count-fields',
    inputs: { image: { type: 'image' } },
    nodes: { count: { op: 'cellcount.count', in: { image: 'image' }, params: { method: 'Otsu', darkBackground: true, excludeEdges: false } } },
    outputs: { summary: 'count.summary', objects: 'count.objects' },
  }));
});

function expectCombined(out: string): void {
  for (const table of ['summary', 'objects']) {
    const t = parseCsv(readFileSync(join(out, `${table}.csv`), 'utf8'), table);
    expect(t.columns.slice(0, 2)).toEqual(['input', 'job']);
    const inputs = [...new Set(t.rows.map((r) => String(r.input)))].sort();
    expect(inputs).toEqual(Array.from({ length: N }, (_, i) => join(inDir, `field${String(i).padStart(2, '0')}.tif`)));
    for (const r of t.rows) expect(String(r.job)).toMatch(/^[0-9a-z-]{6,}$/); // submit: content hash; watch: its ledger id
    // each file's rows match its own table
    if (table === 'summary') {
      expect(t.rows).toHaveLength(N);
      for (const r of t.rows) expect(r.count).toBe(Number(/field(\d+)/.exec(String(r.input))![1]) + 1);
    } else {
      expect(t.rows).toHaveLength((N * (N + 1)) / 2);
    }
  }
}

describe('batch tables', () => {
  it(`focal submit over ${N} files writes one CSV per table with ${N} inputs' rows, each naming its file and job`, () => {
    const out = join(d, 'submit');
    const r = focal(['submit', pipeline, '--input', `image=${join(inDir, '*.tif')}`, '--out', out, '--concurrency', '2', '--json'], { timeoutMs: 240_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.csv')).sort()).toEqual(['objects.csv', 'summary.csv']);
    expectCombined(out);
    const appended = r.stdout.split('\n').filter((l) => l.includes('"tables-appended"'));
    expect(appended).toHaveLength(N);
    // submitted again: every job already done, its rows replaced, not doubled
    const again = focal(['submit', pipeline, '--input', `image=${join(inDir, '*.tif')}`, '--out', out, '--json'], { timeoutMs: 240_000 });
    expect(again.code, again.stderr).toBe(0);
    expectCombined(out);
    expect(readdirSync(out).filter((f) => f.includes('focal-tmp'))).toEqual([]);
    // the batch's page: every job once, the combined tables, a plot of the per-input summary
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    const jobs = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { jobs: { input: string; job: string; folder: string }[]; tables: string[] };
    expect(jobs.jobs).toHaveLength(N);
    expect(jobs.tables.sort()).toEqual(['objects', 'summary']);
    for (const j of jobs.jobs) expect(index).toContain(`<a href="${encodeURI(j.folder)}/">`);
    expect(index).toContain('id="table-summary"');
    expect(index).toMatch(/<div class="plot" id="plot-summary-count"/);
  }, 300_000);

  it.skipIf(chromiumMissing() !== undefined && !process.env.CI)('the batch index opens in headless Chromium with no console message and draws its plots', async () => {
    const file = join(d, 'submit', 'index.html');
    const page = await openInChromium(file, join(d, '.chromium'));
    expect(page.console).toEqual([]);
    expect([...page.dom.matchAll(/class="uplot/g)].length).toBe([...readFileSync(file, 'utf8').matchAll(/<div class="plot" id="/g)].length);
  }, 120_000);

  it(`focal watch --once over ${N} files writes the same combined tables`, () => {
    const out = join(d, 'watch');
    const r = focal(['watch', inDir, '--pipeline', pipeline, '--out', out, '--once', '--settle-ms', '100', '--json'], { timeoutMs: 240_000 });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expectCombined(out);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toContain('id="table-objects"');
  }, 300_000);

  it('refuses to overwrite a CSV that is not a combined table, naming it', async () => {
    const out = join(d, 'submit');
    const job = readdirSync(out).find((f) => f.startsWith('field'))!;
    const foreign = join(d, 'foreign');
    await mkdir(foreign, { recursive: true });
    writeFileSync(join(foreign, 'summary.csv'), 'a,b\n1,2\n');
    await expect(appendJobTables(foreign, { id: 'abc123', inputs: { image: '/x.tif' }, out: join(out, job) })).rejects.toThrow(/summary\.csv exists and is not a combined table/);
    expect(existsSync(join(foreign, 'objects.csv'))).toBe(false);
  });
});
