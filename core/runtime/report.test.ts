import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack } from '../data/stack.js';
import { createTable } from '../data/table.js';
import { plotsOf, renderRunReport, REPORT_TABLE_ROWS, writeRunReport, type PlotSpec, type RunReportData } from './report.js';

const VOID = new Set(['meta', 'img', 'br', 'hr', 'link', 'input']);

/** Open/close tag sequence; throws on a mismatch (a minimal well-formedness check). */
function checkBalanced(html: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of html.replace(/<!DOCTYPE[^>]*>/i, '').replace(/<script([^>]*)>[\s\S]*?<\/script>/g, '<script$1></script>').matchAll(/<(\/?)([a-zA-Z0-9]+)[^>]*>/g)) {
    const [whole, close, tag] = m;
    const t = tag.toLowerCase();
    seen.push(t);
    if (VOID.has(t) || whole.endsWith('/>')) continue;
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
  const scores = createTable(['plane', 'zUm', 'score'], Array.from({ length: 9 }, (_, i) => ({ plane: i, zUm: (i - 4) * 0.5, score: Math.exp(-((i - 4) ** 2) / 4) })));
  return {
    pipeline: { name: 'demo <&>', description: 'Refocus & count "nuclei"' },
    inputs: [{ name: 'stack', type: 'stack', file: '/data/in <1>.tif', value: before }],
    nodes: [
      { id: 'autofocus', op: 'deepr.autofocus', ms: 5210, plugin: 'deepr@0.3.0', params: { model: 'deepr-demo', ensemble: 8 }, in: { image: 'stack' } },
      { id: 'count', op: 'cellcount.count', ms: 466, in: { image: 'autofocus.image' } },
      { id: 'focus', op: 'focus.score', ms: 12, in: { stack: 'stack' } },
    ],
    outputs: [
      { name: 'refocused', type: 'stack', files: ['/out/refocused.tif'], value: after, ref: 'autofocus.image' },
      { name: 'summary', type: 'table', files: ['/out/summary.csv', '/out/summary.json'], value: summary, ref: 'count.summary' },
      { name: 'objects', type: 'table', files: ['/out/objects.csv', '/out/objects.json'], value: objects, ref: 'count.objects' },
      { name: 'scores', type: 'table', files: ['/out/scores.csv', '/out/scores.json'], value: scores, ref: 'focus.scores' },
      { name: 'info', type: 'json', files: ['/out/info.json'], value: { a: 1 } },
    ],
    totalMs: 7730,
    warnings: [{ message: 'plane 3 is saturated', node: 'focus' }],
    versions: { focal: '0.1.0', node: 'v20.0.0', platform: 'linux-x64' },
  };
}

describe('run report', () => {
  const html = renderRunReport(data());

  it('is balanced HTML with a title and no external resources (scripts inline, uPlot bundled)', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const tags = checkBalanced(html);
    expect(tags).not.toContain('link');
    expect(html).not.toMatch(/<script[^>]*\ssrc=/);
    expect(html).toContain('uPlot'); // the charting library is in the page
    // no </script> inside a script other than its own end
    for (const m of html.matchAll(/<script[^>]*>([\s\S]*?)<\/script>/g)) expect(m[1]).not.toMatch(/<\/script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const m of html.matchAll(/src="([^"]*)"/g)) expect(m[1].startsWith('data:image/png;base64,')).toBe(true);
    expect(html).toContain('<title>Focal run report: demo &lt;&amp;&gt;</title>');
    expect(html).toContain('Refocus &amp; count &quot;nuclei&quot;');
  });

  it('previews each channel of the input and each image output as a decodable PNG with a caption', () => {
    const figs = [...sectionById(html, 'images').matchAll(/<img src="data:image\/png;base64,([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]*)">/g)];
    // the output beside what its op read (before/after), then the inputs
    expect(figs.map((f) => f[4])).toEqual(['before: input stack · composite', 'output refocused', 'input stack · composite', 'input stack · DAPI', 'input stack · FITC']);
    // 40 × 30 px enlarged floor(256 / 40) = 6×: the composite RGB, one channel alone grey
    const png = decode(Buffer.from(figs[3][1], 'base64'));
    expect([png.width, png.height, png.channels]).toEqual([240, 180, 1]);
    const composite = decode(Buffer.from(figs[2][1], 'base64'));
    expect([composite.width, composite.height, composite.channels]).toEqual([240, 180, 3]);
    expect(sectionById(html, 'images')).toContain('DAPI red, FITC green');
    // the 2000 px wide output is subsampled to at most 768 px
    const wide = decode(Buffer.from(figs[1][1], 'base64'));
    expect(wide.width).toBeLessThanOrEqual(768);
    expect(wide.width).toBe(Number(figs[1][2]));
    expect(sectionById(html, 'images')).toContain('0.325 µm/px');
  });

  it('shows the summary numbers large, count first, and every table as a sortable table with its row count', () => {
    const summary = sectionById(html, 'summary');
    expect(summary).toMatch(/^<section id="summary">[\s\S]*<div class="card primary"><div class="value">42<\/div><div class="label">summary · count<\/div>/);
    expect(summary.indexOf('summary · count')).toBeLessThan(summary.indexOf('summary · meanAreaUm2'));
    expect(summary).not.toContain('summary · plane');
    expect(html).toContain('<section id="tables">');
    const objects = sectionById(html.replace('class="table" id="table-objects"', 'id="table-objects"'), 'table-objects');
    expect(objects).toContain('(120 rows; click a column to sort)');
    expect(objects).toContain('<table class="sortable">');
    expect([...objects.matchAll(/<tr>/g)].length).toBe(121);
    expect(objects).toContain('<td data-v="10.333333333333334">10.333</td>');
    expect(html).toMatch(/<h3>summary <span class="muted">\(1 row; click a column to sort\)<\/span><\/h3>/);
    expect(sectionById(html, 'summary')).toContain('35.57 µm²');
  });

  it('shows at most REPORT_TABLE_ROWS rows of a long table', () => {
    const d = data();
    d.outputs[2].value = createTable(['id', 'area'], Array.from({ length: REPORT_TABLE_ROWS + 5 }, (_, i) => ({ id: i, area: i })));
    const objects = renderRunReport(d);
    expect(objects).toContain(`first ${REPORT_TABLE_ROWS} of ${REPORT_TABLE_ROWS + 5} rows`);
  });

  it('plots each numeric series of a table against its series column, with axis titles and units; not per-object tables', () => {
    const spec = JSON.parse(/<script type="application\/json" id="plot-data">([^<]*)<\/script>/.exec(html)![1]) as PlotSpec[];
    expect(spec.map((p) => [p.table, p.xLabel, p.yLabel, p.series.map((s) => s.label).join()])).toEqual([['scores', 'zUm (µm)', 'score', 'score']]);
    expect(spec[0].x).toEqual([-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]);
    expect(html).toContain(`<div class="plot" id="${spec[0].id}"`);
  });

  it('plots a per-group series (FWHM per plane of each bead) as one line per group', () => {
    const t = createTable(['bead', 'plane', 'zUm', 'fwhmUm'], [0, 1, 2].flatMap((bead) => [0, 1, 2, 3].map((plane) => ({ bead, plane, zUm: plane * 0.2 - 0.3, fwhmUm: plane === 0 && bead === 1 ? null : 0.2 + bead * 0.01 + Math.abs(plane - 1.5) }))));
    const [p, ...rest] = plotsOf('fwhmByPlane', t);
    expect(rest).toEqual([]);
    expect([p.xLabel, p.yLabel]).toEqual(['zUm (µm)', 'fwhmUm (µm)']);
    expect(p.series.map((s) => s.label)).toEqual(['bead 0', 'bead 1', 'bead 2']);
    expect(p.series[1].values[0]).toBeNull();
    expect(p.x).toHaveLength(4);
    // objects (no series column): nothing
    expect(plotsOf('objects', createTable(['label', 'areaUm2'], [{ label: 1, areaUm2: 3 }, { label: 2, areaUm2: 5 }]))).toEqual([]);
  });

  it('draws the pipeline graph with every input, node and output, and an edge per connection', () => {
    const svg = sectionById(html, 'graph');
    for (const v of ['input:stack', 'node:autofocus', 'node:count', 'node:focus', 'output:refocused', 'output:summary', 'output:objects', 'output:scores']) expect(svg).toContain(`data-vertex="${v}"`);
    expect(svg).not.toContain('data-vertex="output:info"'); // no ref given
    expect([...svg.matchAll(/<path class="edge"/g)].length).toBe(3 + 4);
  });

  it('lists warnings, versions, plugin versions and parameters', () => {
    expect(sectionById(html, 'warnings')).toContain('<b>focus</b>: plane 3 is saturated');
    expect(html).toContain('Focal 0.1.0 · Node v20.0.0 · linux-x64');
    expect(sectionById(html, 'nodes')).toContain('<td class="params">model=deepr-demo, ensemble=8</td>');
    expect(sectionById(html, 'nodes')).toContain('deepr@0.3.0');
  });

  it('lists inputs, nodes with op and time, output files and links run.json', () => {
    expect(sectionById(html, 'inputs')).toContain('/data/in &lt;1&gt;.tif');
    const nodes = sectionById(html, 'nodes');
    expect(nodes).toMatch(/<td>autofocus<\/td><td class="left">deepr.autofocus<\/td><td class="left">deepr@0.3.0<\/td><td><span class="bar" style="width:80px"><\/span>5.21 s<\/td>/);
    expect(nodes).toMatch(/<td>count<\/td><td class="left">cellcount.count<\/td><td class="left"><\/td><td><span class="bar" style="width:7px"><\/span>466 ms<\/td>/);
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
    // the 2000 × 10 output (refocused) is larger than the preview: it gets a zoomable view, its tiles in report_files/
    const written = readFileSync(file, 'utf8');
    expect(written.replace(/\n<figure class="zoomview">.*<\/figure>/, '').replace(/<script src="report_files\/openseadragon.min.js"><\/script>\n<script>[\s\S]*?<\/script>/, '')).toBe(html.replace(/\n\n<\/div>/g, '\n</div>'));
    expect(written).toContain('<div class="zoom" id="zoom-refocused"');
    expect(readdirSync(dir).sort()).toEqual(['report.html', 'report_files']);
    expect(readdirSync(join(dir, 'report_files')).sort()).toEqual(['images', 'openseadragon-LICENSE.txt', 'openseadragon.min.js', 'refocused.dzi', 'refocused_files']);
    // a report without large images has no zoomable view, and the folder of an earlier one goes
    const small = data();
    small.outputs = small.outputs.filter((o) => o.name !== 'refocused');
    await writeRunReport(dir, small);
    expect(readdirSync(dir)).toEqual(['report.html']);
    expect(readFileSync(file, 'utf8')).not.toContain('openseadragon');
  });
});
