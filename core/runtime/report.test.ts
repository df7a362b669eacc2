import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack } from '../data/stack.js';
import { createTable } from '../data/table.js';
import { renderRunReport, REPORT_TABLE_ROWS, writeRunReport, type RunReportData } from './report.js';

const VOID = new Set(['meta', 'img', 'br', 'hr', 'link', 'input']);

/** Open/close tag sequence; throws on a mismatch (a minimal well-formedness check). */
function checkBalanced(html: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of html.replace(/<!DOCTYPE[^>]*>/i, '').matchAll(/<(\/?)([a-zA-Z0-9]+)[^>]*>/g)) {
    const [, close, tag] = m;
    const t = tag.toLowerCase();
    seen.push(t);
    if (VOID.has(t)) continue;
    if (close) {
      const open = stack.pop();
      if (open !== t) throw new Error(`</${t}> closes <${open}>`);
    } else stack.push(t);
  }
  if (stack.length) throw new Error(`unclosed: ${stack.join(', ')}`);
  return seen;
}

function sectionById(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  expect(start, `section #${id}`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</section>', start));
}

function data(): RunReportData {
  const before = createStack({ width: 40, height: 30, dtype: 'uint16', sizeC: 2, planes: [Uint16Array.from({ length: 1200 }, (_, i) => i % 97), Uint16Array.from({ length: 1200 }, (_, i) => i % 13)], channelNames: ['DAPI', 'FITC'], calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325 } });
  const after = createStack({ width: 2000, height: 10, dtype: 'float32', planes: [Float32Array.from({ length: 20000 }, (_, i) => Math.sin(i))] });
  const objects = createTable(['id', 'area'], Array.from({ length: 120 }, (_, i) => ({ id: i + 1, area: 10 + i / 3 })));
  const summary = createTable(['plane', 'count', 'meanAreaUm2'], [{ plane: 0, count: 42, meanAreaUm2: 35.57 }]);
  return {
    pipeline: { name: 'demo <&>', description: 'Refocus & count "nuclei"' },
    inputs: [{ name: 'stack', type: 'stack', file: '/data/in <1>.tif', value: before }],
    nodes: [
      { id: 'autofocus', op: 'deepr.autofocus', ms: 5210 },
      { id: 'count', op: 'cellcount.count', ms: 466 },
    ],
    outputs: [
      { name: 'refocused', type: 'stack', files: ['/out/refocused.tif'], value: after },
      { name: 'summary', type: 'table', files: ['/out/summary.csv', '/out/summary.json'], value: summary },
      { name: 'objects', type: 'table', files: ['/out/objects.csv', '/out/objects.json'], value: objects },
      { name: 'info', type: 'json', files: ['/out/info.json'], value: { a: 1 } },
    ],
    totalMs: 7730,
  };
}

describe('run report', () => {
  const html = renderRunReport(data());

  it('is balanced HTML with a title and no external resources or scripts', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const tags = checkBalanced(html);
    expect(tags).not.toContain('script');
    expect(tags).not.toContain('link');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const m of html.matchAll(/src="([^"]*)"/g)) expect(m[1].startsWith('data:image/png;base64,')).toBe(true);
    expect(html).toContain('<title>Focal run report: demo &lt;&amp;&gt;</title>');
    expect(html).toContain('Refocus &amp; count &quot;nuclei&quot;');
  });

  it('previews each channel of the input and each image output as a decodable PNG with a caption', () => {
    const figs = [...sectionById(html, 'images').matchAll(/<img src="data:image\/png;base64,([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]*)">/g)];
    expect(figs.map((f) => f[4])).toEqual(['output refocused', 'input stack · composite', 'input stack · DAPI', 'input stack · FITC']);
    // 40 × 30 px enlarged floor(256 / 40) = 6×, RGB
    const png = decode(Buffer.from(figs[2][1], 'base64'));
    expect([png.width, png.height, png.channels]).toEqual([240, 180, 3]);
    expect(sectionById(html, 'images')).toContain('DAPI red, FITC green');
    // the 2000 px wide output is subsampled to at most 768 px
    const wide = decode(Buffer.from(figs[0][1], 'base64'));
    expect(wide.width).toBeLessThanOrEqual(768);
    expect(wide.width).toBe(Number(figs[0][2]));
    expect(sectionById(html, 'images')).toContain('0.325 µm/px');
  });

  it('shows the summary numbers large, count first, and every table with at most 50 rows and its row count', () => {
    const summary = sectionById(html, 'summary');
    expect(summary).toMatch(/^<section id="summary">[\s\S]*<div class="card primary"><div class="value">42<\/div><div class="label">summary · count<\/div>/);
    expect(summary.indexOf('summary · count')).toBeLessThan(summary.indexOf('summary · meanAreaUm2'));
    expect(summary).not.toContain('summary · plane');
    expect(html).toContain('<section id="tables">');
    const objects = sectionById(html.replace('class="table" id="table-objects"', 'id="table-objects"'), 'table-objects');
    expect(objects).toContain(`first ${REPORT_TABLE_ROWS} of 120 rows`);
    expect([...objects.matchAll(/<tr>/g)].length).toBe(REPORT_TABLE_ROWS + 1);
    expect(html).toMatch(/<h3>summary <span class="muted">\(1 row\)<\/span><\/h3>/);
  });

  it('lists inputs, nodes with op and time, output files and links run.json', () => {
    expect(sectionById(html, 'inputs')).toContain('/data/in &lt;1&gt;.tif');
    const nodes = sectionById(html, 'nodes');
    expect(nodes).toContain('<td>autofocus</td><td>deepr.autofocus</td><td>5.21 s</td>');
    expect(nodes).toContain('<td>count</td><td>cellcount.count</td><td>466 ms</td>');
    const outputs = sectionById(html, 'outputs');
    expect(outputs).toContain('<a href="summary.csv">summary.csv</a>');
    expect(outputs).toContain('Not previewed: info');
    expect(html).toContain('<a href="run.json">run.json</a>');
  });

  const dir = mkdtempSync(join(tmpdir(), 'focal-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('writeRunReport writes report.html atomically (no temporary file left)', async () => {
    const file = await writeRunReport(dir, data());
    expect(file).toBe(join(dir, 'report.html'));
    expect(readFileSync(file, 'utf8')).toBe(html);
    expect(readdirSync(dir)).toEqual(['report.html']);
  });
});
