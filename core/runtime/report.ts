/**
 * A self-contained HTML run report (`report.html`): the pipeline drawn as a graph (inputs, nodes
 * with op and time, outputs), the provenance of run.json (versions, input checksums, each node's
 * plugin, parameters and time), an inline PNG preview of every image/stack output beside the image
 * its op read (before/after), every table output as a sortable table with a plot of each numeric
 * series (uPlot, bundled into the page), the numbers of one-row tables large, and the run's
 * warnings. No external resources: it opens offline, can be mailed or archived with the results.
 * `focal report <out>` rebuilds it from an output folder (report-rebuild.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { encodePngPixels } from '../io/png-encode.js';
import { isImage, type Image } from '../data/image.js';
import { createStack, isStack, stackFromImage, type Stack } from '../data/stack.js';
import { isTable, type Table } from '../data/table.js';
import { writeFileAtomic } from '../io/atomic.js';
import { renderFigure } from '../io/preview.js';
import { isRegionSource, REPORT_ASSETS_DIR, writeReportZooms, type ReportZoom } from './report-zoom.js';

export const REPORT_FILE = 'report.html';
/** Table rows shown (and sortable) per table; the full table is in its .csv/.json. */
export const REPORT_TABLE_ROWS = 1000;
/** Longest preview side, px; larger images are subsampled. */
export const REPORT_PREVIEW_MAX_PX = 768;
/** Channels previewed per multi-channel stack. */
const MAX_CHANNELS = 4;
/** Numeric columns plotted per table (one chart each). */
const MAX_PLOTS_PER_TABLE = 6;

export interface RunReportWarning {
  message: string;
  node?: string;
  input?: string;
}

export interface RunReportData {
  pipeline: { name: string; description?: string; file?: string };
  /** Pipeline inputs: file read, its checksum and size (run.json), and for image/stack inputs the value to preview. */
  inputs: { name: string; type: string; file: string; value?: unknown; sha256?: string; bytes?: number; note?: string }[];
  /** Nodes in the pipeline's order: op, time, plugin@version, parameters as run (defaults filled in), input port → ref. */
  nodes: { id: string; op: string; ms?: number | null; plugin?: string | null; params?: unknown; in?: Record<string, string> }[];
  /** Outputs in the pipeline's order, with the files written (names relative to the report are linked) and the ref they take. */
  outputs: { name: string; type: string; files: string[]; value: unknown; ref?: string }[];
  totalMs: number;
  /** Provenance record to link; default run.json. */
  provenanceFile?: string;
  date?: string;
  versions?: { focal?: string; node?: string; platform?: string };
  warnings?: RunReportWarning[];
  /** Lines shown under the title, e.g. that the report was rebuilt from the output folder. */
  notes?: string[];
  /**
   * Zoomable views by output name (Deep Zoom tiles in report_files/, shown with OpenSeadragon):
   * `writeRunReport` makes them for outputs larger than the preview and for outputs given as
   * region sources (a pyramid or lazy image instead of a stack in memory).
   */
  zoom?: Record<string, ReportZoom>;
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const baseName = (f: string): string => f.split(/[\\/]/).pop() ?? f;

/** An id safe in HTML attributes and CSS selectors. */
const slug = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');

function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function formatCell(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
  if (v === null || v === undefined) return '';
  return String(v);
}

/**
 * The unit of a table column from Focal's naming (`areaUm2`, `fwhmUm`, `sigmaXPx`, `psnr`,
 * `seconds`, `timeS`, …), or undefined when its name does not say.
 */
export function columnUnit(column: string): string | undefined {
  if (/um2$/i.test(column) || /_um2$/i.test(column)) return 'µm²';
  if (/um3$/i.test(column)) return 'µm³';
  if (/(Um|_um)$/.test(column) || /^um$/i.test(column)) return 'µm';
  if (/(Px2|_px2)$/.test(column) || /area\w*Px$/i.test(column)) return 'px²';
  if (/(Px|_px)$/.test(column)) return 'px';
  if (/^psnr/i.test(column) || /(Db|_db)$/.test(column)) return 'dB';
  if (/(Ms|_ms)$/.test(column)) return 'ms';
  if (/^seconds$/i.test(column) || /(Seconds|_s)$/.test(column) || /[a-z]S$/.test(column)) return 's';
  if (/(Deg|_deg)$/.test(column)) return '°';
  if (/(Rad|_rad)$/.test(column)) return 'rad';
  return undefined;
}

/** An axis title: the column and, when its name says, the unit (`fwhmUm (µm)`). */
export function axisTitle(column: string): string {
  const unit = columnUnit(column);
  return unit ? `${column} (${unit})` : column;
}

interface Figure {
  caption: string;
  detail: string;
  src: string;
  width: number;
  height: number;
  role: 'before' | 'after' | 'input';
}

function stackDescription(s: Stack): string {
  const dims = [`${s.width} × ${s.height} px`];
  if (s.sizeC > 1) dims.push(`${s.sizeC} channels`);
  if (s.sizeZ > 1) dims.push(`${s.sizeZ} z`);
  if (s.sizeT > 1) dims.push(`${s.sizeT} t`);
  dims.push(s.rgb ? 'RGB' : s.dtype);
  const px = s.calibration?.pixelWidthUm;
  if (px) dims.push(`${formatCell(px)} µm/px`);
  return dims.join(', ');
}

/** One channel of a stack, as a one-channel stack (labels flag and calibration kept). */
function channelOf(s: Stack, c: number): Stack {
  const planes = [];
  for (let t = 0; t < s.sizeT; t++) for (let z = 0; z < s.sizeZ; z++) planes.push(s.planes[c + z * s.sizeC + t * s.sizeC * s.sizeZ]);
  return createStack({ width: s.width, height: s.height, dtype: s.dtype, sizeZ: s.sizeZ, sizeT: s.sizeT, planes, calibration: s.calibration, metadata: s.metadata });
}

const COLOUR_NAMES = ['red', 'green', 'blue', 'grey', 'cyan', 'magenta', 'yellow'];

/**
 * The first of every three bytes: a grey figure (R = G = B everywhere, scale bar included) as a
 * one-channel PNG, a third of the data to compress, which is most of a small run's report time.
 */
function greyChannel(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, o = 0; o < out.length; i += 3, o++) out[o] = rgb[i];
  return out;
}

function figureOf(value: Stack, caption: string, detail: string, role: Figure['role']): Figure {
  const f = renderFigure(value, { maxSize: REPORT_PREVIEW_MAX_PX });
  const png = encodePngPixels(f.mode === 'grey' ? { width: f.width, height: f.height, data: greyChannel(f.data), channels: 1, depth: 8 } : { width: f.width, height: f.height, data: f.data, channels: 3, depth: 8 });
  const notes: string[] = [];
  if (f.panels.length > 1) notes.push(`montage of ${f.panels.length} planes (${f.panels.map((p) => (value.sizeT > 1 ? `z${p.z} t${p.t}` : `z${p.z}`)).join(', ')})`);
  if (f.mode === 'labels') notes.push('label colours (0 black)');
  if (f.mode === 'grey' && f.displayRanges) notes.push(`display ${formatCell(f.displayRanges[0][0])}–${formatCell(f.displayRanges[0][1])}`);
  if (f.colourBar) {
    const b = f.colourBar;
    notes.push(`${b.quantity ?? 'values'} in ${b.lut === 'diverging' ? 'a blue–white–red map' : 'viridis'}, colour bar ${formatCell(b.min)} (bottom) to ${formatCell(b.max)} (top)${b.unit ? ` ${b.unit}` : ''}`);
  }
  if (f.scale > 1) notes.push(`enlarged ${f.scale}×`);
  if (f.step > 1) notes.push(`shown at 1/${f.step} size`);
  if (f.scaleBar) notes.push(`scale bar ${formatCell(f.scaleBar.um)} µm`);
  return { caption, detail: [detail, ...notes].join('; '), src: `data:image/png;base64,${Buffer.from(png).toString('base64')}`, width: f.width, height: f.height, role };
}

/**
 * PNG previews of one value (core/io/preview.ts): for several channels a composite in
 * ImageJ colours, then each channel (up to 4; none with `compositeOnly`); every z/t plane as a montage panel.
 */
function figures(name: string, role: Figure['role'], value: Stack | Image, compositeOnly = false): Figure[] {
  const stack = isStack(value) ? value : stackFromImage(value);
  const detail = isStack(value) ? stackDescription(stack) : `${value.width} × ${value.height} px`;
  const label = role === 'after' ? 'output' : role === 'before' ? 'before: input' : 'input';
  const prefix = role === 'before' ? `before: ${name}` : `${label} ${name}`;
  if (stack.rgb || stack.sizeC === 1) return [figureOf(stack, prefix, detail, role)];
  const channelName = (c: number) => stack.channelNames?.[c] || `channel ${c}`;
  const shown = compositeOnly ? 0 : Math.min(stack.sizeC, MAX_CHANNELS);
  const legend = Array.from({ length: stack.sizeC }, (_, c) => `${channelName(c)} ${COLOUR_NAMES[c % COLOUR_NAMES.length]}`).join(', ');
  const out = [figureOf(stack, `${prefix} · composite`, `${detail}; ${legend}`, role)];
  for (let c = 0; c < shown; c++) out.push(figureOf(channelOf(stack, c), `${prefix} · ${channelName(c)}`, detail, role));
  if (shown > 0 && stack.sizeC > MAX_CHANNELS) out[out.length - 1].detail += `; first ${MAX_CHANNELS} of ${stack.sizeC} channels shown alone`;
  return out;
}

const figureHtml = (f: Figure): string =>
  `<figure class="${f.role}"><img src="${f.src}" width="${f.width}" height="${f.height}" alt="${esc(f.caption)}"><figcaption>${esc(f.caption)}<span class="muted">${esc(f.detail)}</span></figcaption></figure>`;

// ---------------------------------------------------------------------------------------------
// the pipeline graph

interface Vertex {
  key: string;
  kind: 'input' | 'node' | 'output';
  title: string;
  sub: string;
  tip: string;
  col: number;
  row: number;
  href?: string;
}

/** Parses a pipeline ref: `name` is a pipeline input, `node.port` a node's output port. */
function refSource(ref: string): { key: string; port?: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { key: `input:${ref}` } : { key: `node:${ref.slice(0, dot)}`, port: ref.slice(dot + 1) };
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The pipeline as an SVG: inputs left, nodes in columns by depth, outputs right; edges carry the port names as tooltips. */
export function pipelineGraphSvg(data: Pick<RunReportData, 'inputs' | 'nodes' | 'outputs'>): string {
  const vertices = new Map<string, Vertex>();
  const edges: { from: string; to: string; label: string }[] = [];
  for (const i of data.inputs) vertices.set(`input:${i.name}`, { key: `input:${i.name}`, kind: 'input', title: i.name, sub: `input\n${i.type}`, tip: `input ${i.name} (${i.type}): ${i.file}`, col: 0, row: 0 });
  for (const n of data.nodes) vertices.set(`node:${n.id}`, { key: `node:${n.id}`, kind: 'node', title: n.id, sub: `${n.op}\n${formatMs(n.ms)}`, tip: `node ${n.id}: ${n.op}${n.plugin ? ` (${n.plugin})` : ''}, ${formatMs(n.ms)}`, col: 0, row: 0, href: `#node-${slug(n.id)}` });
  for (const n of data.nodes) for (const [port, ref] of Object.entries(n.in ?? {})) {
    const src = refSource(ref);
    if (vertices.has(src.key)) edges.push({ from: src.key, to: `node:${n.id}`, label: `${ref} → ${n.id}.${port}` });
  }
  // depth: inputs 0, a node one more than its deepest source (the pipeline is acyclic; a guard anyway)
  const depth = new Map<string, number>();
  const depthOf = (key: string, seen: Set<string>): number => {
    const known = depth.get(key);
    if (known !== undefined) return known;
    if (key.startsWith('input:') || seen.has(key)) return 0;
    seen.add(key);
    const d = 1 + Math.max(0, ...edges.filter((e) => e.to === key).map((e) => depthOf(e.from, seen)));
    depth.set(key, d);
    return d;
  };
  let maxCol = 0;
  for (const v of vertices.values()) {
    v.col = depthOf(v.key, new Set());
    maxCol = Math.max(maxCol, v.col);
  }
  for (const o of data.outputs) {
    if (!o.ref) continue;
    const src = refSource(o.ref);
    if (!vertices.has(src.key)) continue;
    const key = `output:${o.name}`;
    vertices.set(key, { key, kind: 'output', title: o.name, sub: `output\n${o.type}`, tip: `output ${o.name} (${o.type}) = ${o.ref}: ${o.files.map(baseName).join(', ')}`, col: maxCol + 1, row: 0, href: `#out-${slug(o.name)}` });
    edges.push({ from: src.key, to: key, label: `${o.ref} → ${o.name}` });
  }
  const rows = new Map<number, number>();
  for (const v of vertices.values()) {
    v.row = rows.get(v.col) ?? 0;
    rows.set(v.col, v.row + 1);
  }
  const W = 160, H = 56, GX = 40, GY = 12, PAD = 8;
  const cols = Math.max(...[...vertices.values()].map((v) => v.col), 0) + 1;
  const maxRows = Math.max(1, ...rows.values());
  const width = PAD * 2 + cols * W + (cols - 1) * GX;
  const height = PAD * 2 + maxRows * H + (maxRows - 1) * GY;
  // columns are centred vertically
  const pos = (v: Vertex) => {
    const n = rows.get(v.col) ?? 1;
    const colH = n * H + (n - 1) * GY;
    return { x: PAD + v.col * (W + GX), y: PAD + (height - 2 * PAD - colH) / 2 + v.row * (H + GY) };
  };
  const parts: string[] = [];
  for (const e of edges) {
    const a = pos(vertices.get(e.from)!), b = pos(vertices.get(e.to)!);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    parts.push(`<path class="edge" d="M${x1} ${y1} C${mx} ${y1} ${mx} ${y2} ${x2 - 6} ${y2}" marker-end="url(#arrow)"><title>${esc(e.label)}</title></path>`);
  }
  for (const v of vertices.values()) {
    const { x, y } = pos(v);
    const box = `<rect class="v ${v.kind}" x="${x}" y="${y}" width="${W}" height="${H}" rx="6"/><text x="${x + 8}" y="${y + 18}" class="vt">${esc(clip(v.title, 20))}</text>${v.sub.split('\n').map((line, k) => `<text x="${x + 8}" y="${y + 33 + 13 * k}" class="vs">${esc(clip(line, 25))}</text>`).join('')}`;
    const g = `<g data-vertex="${esc(v.key)}"><title>${esc(v.tip)}</title>${box}</g>`;
    parts.push(v.href ? `<a href="${esc(v.href)}">${g}</a>` : g);
  }
  return `<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="pipeline graph">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="4" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#6b7785"/></marker></defs>
${parts.join('\n')}
</svg>`;
}

// ---------------------------------------------------------------------------------------------
// tables and plots

function tableHtml(name: string, table: Table): string {
  const shown = table.rows.slice(0, REPORT_TABLE_ROWS);
  const head = table.columns.map((c, i) => `<th scope="col" data-col="${i}" title="sort by ${esc(c)}">${esc(c)}</th>`).join('');
  const body = shown
    .map((r) => `<tr>${table.columns.map((c) => (typeof r[c] === 'number' ? `<td data-v="${r[c]}">${esc(formatCell(r[c]))}</td>` : `<td>${esc(formatCell(r[c]))}</td>`)).join('')}</tr>`)
    .join('\n');
  const note = table.rows.length > shown.length ? `first ${shown.length} of ${table.rows.length} rows` : `${table.rows.length} row${table.rows.length === 1 ? '' : 's'}`;
  return `<h3>${esc(name)} <span class="muted">(${note}; click a column to sort)</span></h3>
<div class="tablewrap"><table class="sortable">
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>`;
}

export interface PlotSpec {
  id: string;
  table: string;
  /** Axis titles with units where the column names say them. */
  xLabel: string;
  yLabel: string;
  x: number[];
  /** One line per series (one per group, e.g. per bead; else the column), aligned with x (null: no value there). */
  series: { label: string; values: (number | null)[] }[];
}

const SERIES_X = /^(plane|z|zUm|t|time|timeS|iteration|iter|epoch|step|level|frame|slice|index|defocusUm|binStart|pair)$/i;
const GROUP_COLUMNS = /^(bead|label|id|c|channel|object|track|series)$/i;
const NOT_Y = /^(c|t|z|label|id|bead|plane|row|x|y)$/i;
/** Lines per plot at most (groups beyond are left out of the plot, not of the table). */
const MAX_SERIES = 12;

/**
 * The numeric series of a table worth plotting: an x column that is a series (a named index or
 * coordinate such as plane, zUm, iteration, level) increasing down the table, or increasing
 * within each group of a group column (bead, label, channel: one line per group); one plot per
 * other numeric column that varies. None for fewer than 2 rows or tables of objects without a
 * series column.
 */
export function plotsOf(name: string, table: Table): PlotSpec[] {
  if (table.rows.length < 2) return [];
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const numeric = table.columns.filter((c) => table.rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === 'number') && table.rows.some((r) => num(r[c])));
  const increasingIn = (rows: Table['rows'], c: string) => rows.every((r, i) => num(r[c]) && (i === 0 || (r[c] as number) > (rows[i - 1][c] as number)));
  const candidates = numeric.filter((c) => SERIES_X.test(c));
  const pick = (ok: (c: string) => boolean) => {
    const series = candidates.filter(ok);
    return { series, x: series.find((c) => columnUnit(c) !== undefined) ?? series[0] }; // a coordinate (zUm) before an index (plane)
  };
  let { series, x } = pick((c) => increasingIn(table.rows, c));
  let group: string | undefined;
  let groups: Map<unknown, Table['rows']> | undefined;
  if (!x) {
    for (const g of table.columns.filter((c) => GROUP_COLUMNS.test(c))) {
      const by = new Map<unknown, Table['rows']>();
      for (const r of table.rows) by.set(r[g], [...(by.get(r[g]) ?? []), r]);
      if (by.size < 2 || by.size === table.rows.length) continue;
      const found = pick((c) => c !== g && [...by.values()].every((rows) => rows.length >= 2 && increasingIn(rows, c)));
      if (found.x) {
        ({ series, x } = found);
        group = g;
        groups = by;
        break;
      }
    }
  }
  if (!x) return [];
  const xCol = x;
  const ys = numeric.filter((c) => !series.includes(c) && c !== group && !NOT_Y.test(c)).filter((c) => new Set(table.rows.map((r) => r[c]).filter(num)).size > 1);
  const xs = [...new Set(table.rows.map((r) => r[xCol] as number))].sort((p, q) => p - q);
  return ys.slice(0, MAX_PLOTS_PER_TABLE).map((c) => {
    const valueOf = (v: unknown) => (num(v) ? v : null);
    const lines = groups
      ? [...groups.entries()].slice(0, MAX_SERIES).map(([g, rows]) => {
          const at = new Map(rows.map((r) => [r[xCol] as number, valueOf(r[c])]));
          return { label: `${group} ${String(g)}`, values: xs.map((xv) => at.get(xv) ?? null) };
        })
      : [{ label: c, values: table.rows.map((r) => valueOf(r[c])) }];
    return { id: `plot-${slug(name)}-${slug(c)}`, table: name, xLabel: axisTitle(xCol), yLabel: axisTitle(c), x: xs, series: lines };
  });
}

let uplotAssets: { js: string; css: string } | undefined;
/** The page's <head>: title, the shared stylesheet, and uPlot's code and style when the page has plots. */
function pageHead(title: string, assets: { js: string; css: string } | undefined): string {
  return `<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
${PAGE_CSS}
${assets ? assets.css : ''}
</style>
${assets ? `<script>${scriptSafe(assets.js)}</script>` : ''}
</head>`;
}

/** uPlot's browser build and style sheet (the `uplot` package), to inline into the page. */
function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const require = createRequire(import.meta.url);
    const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    uplotAssets = { js, css };
  }
  return uplotAssets;
}

/** Text safe inside <script>: no `</script`, no `<!--`. */
const scriptSafe = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');

/** Sorting of `table.sortable` (click a header; numbers as numbers) and the uPlot charts of `#plot-data`. */
const PAGE_SCRIPT = `
(function () {
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var key = function (tr) { var td = tr.cells[col]; var v = td.getAttribute('data-v'); return v === null ? td.textContent : Number(v); };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          var r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
          return asc ? r : -r;
        });
        rows.forEach(function (tr) { body.appendChild(tr); });
      });
    });
  });
  var data = document.getElementById('plot-data');
  if (!data || typeof uPlot === 'undefined') return;
  var colours = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7ea4', '#6e7781', '#e16f24', '#4d2d8c', '#2da44e', '#cf222e'];
  JSON.parse(data.textContent).forEach(function (p, i) {
    var el = document.getElementById(p.id);
    if (!el) return;
    var width = 520;
    var series = [{ label: p.xLabel }].concat(p.series.map(function (s, k) {
      return { label: s.label, stroke: colours[(p.series.length > 1 ? k : i) % colours.length], width: 2, spanGaps: true, points: { show: p.x.length <= 60 } };
    }));
    // compact tick numbers (8.0e7, not 80,000,000) so the y title never overlaps them
    var fmt = function (u, vals) { return vals.map(function (v) { return v == null ? '' : Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : String(+v.toPrecision(6)); }); };
    var intX = p.x.every(function (v) { return Math.round(v) === v; });
    var xAxis = { label: p.xLabel, labelSize: 20, values: fmt };
    if (intX) xAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
    new uPlot({
      title: p.yLabel + ' vs ' + p.xLabel,
      width: width, height: 260,
      scales: { x: { time: false } },
      axes: [xAxis, { label: p.yLabel, labelSize: 20, size: 70, values: fmt }],
      series: series,
      legend: { show: true, live: false },
    }, [p.x].concat(p.series.map(function (s) { return s.values; })), el);
  });
})();
`;

// ---------------------------------------------------------------------------------------------
// summary, provenance, page

/** Numbers of one-row tables, shown large (a summary); `count` columns first. */
function keyNumbers(outputs: RunReportData['outputs']): string {
  const cards: { label: string; value: string; primary: boolean }[] = [];
  for (const o of outputs) {
    if (!isTable(o.value) || o.value.rows.length !== 1) continue;
    const row = o.value.rows[0];
    for (const c of o.value.columns) {
      const v = row[c];
      // plane indices and open-ended limits (e.g. an upper threshold of 1e30) are not results
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) >= 1e29 || /^(plane|c|z|t|label|id)$/i.test(c)) continue;
      const unit = columnUnit(c);
      cards.push({ label: `${o.name} · ${c}`, value: `${formatCell(row[c])}${unit ? ` ${unit}` : ''}`, primary: /^count$/i.test(c) });
    }
  }
  if (cards.length === 0) return '';
  cards.sort((a, b) => Number(b.primary) - Number(a.primary));
  return `<section id="summary">
<h2>Summary</h2>
<div class="cards">
${cards
  .slice(0, 8)
  .map((k) => `<div class="card${k.primary ? ' primary' : ''}"><div class="value">${esc(k.value)}</div><div class="label">${esc(k.label)}</div></div>`)
  .join('\n')}
</div>
</section>`;
}

/**
 * The image an op read to make an output: the first image/stack among the inputs of the node
 * that made it, when that is a pipeline input or another output; otherwise the nearest such
 * image upstream (first inputs followed), named with the nodes between (`via mip → nuclei`).
 */
function beforeOf(data: RunReportData, ref: string | undefined): { name: string; value: Stack | Image } | undefined {
  if (!ref) return undefined;
  const visual = (v: unknown): v is Stack | Image => isStack(v) || isImage(v);
  const valueAt = (src: string): { name: string; value: Stack | Image } | undefined => {
    if (src.indexOf('.') < 0) {
      const input = data.inputs.find((i) => i.name === src);
      return input && visual(input.value) ? { name: `input ${input.name}`, value: input.value } : undefined;
    }
    const output = data.outputs.find((o) => o.ref === src);
    return output && visual(output.value) ? { name: `output ${output.name}`, value: output.value } : undefined;
  };
  const via: string[] = [];
  let current = ref;
  for (let depth = 0; depth < 32; depth++) {
    const dot = current.indexOf('.');
    if (dot < 0) return undefined; // an input passed through
    const node = data.nodes.find((n) => n.id === current.slice(0, dot));
    const sources = Object.values(node?.in ?? {});
    for (const src of sources) {
      const found = valueAt(src);
      if (found) return via.length ? { name: `${found.name} (via ${[...via].reverse().join(' → ')})`, value: found.value } : found;
    }
    const next = sources[0];
    if (next === undefined || next.indexOf('.') < 0) return undefined;
    via.push(next.slice(0, next.indexOf('.')));
    current = next;
  }
  return undefined;
}

const paramsText = (p: unknown): string => {
  if (p === undefined || p === null) return '';
  if (typeof p !== 'object') return String(p);
  return Object.entries(p as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
};

/** Styles of the report and the batch index. */
const PAGE_CSS = `body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem; color: #1d232a; background: #fafbfc; line-height: 1.4; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #d5dbe1; padding-bottom: .25rem; font-size: 1.25rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
nav a { margin-right: .8rem; }
.muted { color: #5c6773; font-weight: normal; font-size: .9em; }
table { border-collapse: collapse; font-size: .85rem; background: #fff; }
th, td { border: 1px solid #d5dbe1; padding: .2rem .5rem; text-align: right; white-space: nowrap; }
th { background: #eef1f4; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; }
table.sortable th[aria-sort=descending]::after { content: " ▼"; }
td:first-child, th:first-child { text-align: left; }
td.params { text-align: left; white-space: normal; max-width: 40rem; font-family: ui-monospace, monospace; font-size: .8rem; }
td.left { text-align: left; }
.bar { display: inline-block; height: .6rem; background: #1f6feb; border-radius: 2px; vertical-align: middle; margin-right: .4rem; }
.scroll { overflow-x: auto; max-width: 100%; }
.tablewrap { max-height: 28rem; overflow: auto; display: inline-block; max-width: 100%; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.card .value { font-size: 1.4rem; font-weight: 600; }
.card.primary { border-color: #1f6feb; }
.card.primary .value { font-size: 2.4rem; color: #1f6feb; }
.card .label { color: #5c6773; font-size: .85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; padding: .5rem; }
figure.before { border-style: dashed; }
figure img { width: 100%; height: auto; image-rendering: pixelated; background: #000; display: block; }
figcaption { margin-top: .35rem; font-weight: 600; }
figcaption .muted { display: block; font-weight: normal; font-size: .8rem; }
svg.graph { background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; max-width: none; }
svg.graph .edge { fill: none; stroke: #6b7785; stroke-width: 1.5; }
svg.graph rect.v { stroke-width: 1.5; }
svg.graph rect.input { fill: #e8f5e9; stroke: #1a7f37; }
svg.graph rect.node { fill: #eaf2ff; stroke: #1f6feb; }
svg.graph rect.output { fill: #fff8e5; stroke: #9a6700; }
svg.graph .vt { font-size: 13px; font-weight: 600; fill: #1d232a; }
svg.graph .vs { font-size: 11px; fill: #5c6773; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; margin-top: .5rem; }
.plot { background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; padding: .4rem; min-width: 300px; }
ul.warnings li { color: #9a6700; }
figure.zoomview { margin-top: 1rem; }
.zoom { width: 100%; height: 70vh; min-height: 320px; max-height: 720px; background: #000; }
.zoom.missing { height: auto; min-height: 0; color: #fff; padding: .5rem; }
`;

/** A section per table: the sortable table, then a plot per numeric series. */
function tablesHtml(tables: { name: string; table: Table; files?: string[] }[], plots: PlotSpec[]): string {
  return tables
    .map((t) => {
      const own = plots.filter((p) => p.table === t.name);
      return `<section class="table" id="table-${esc(slug(t.name))}">
${tableHtml(t.name, t.table)}
${t.files?.length ? `<p class="muted">${t.files.map((f) => `<a href="${esc(encodeURI(f))}">${esc(f)}</a>`).join(', ')}</p>` : ''}
${own.length ? `<div class="plots">${own.map((p) => `<div class="plot" id="${esc(p.id)}" data-x="${esc(p.xLabel)}" data-y="${esc(p.yLabel)}"></div>`).join('')}</div>` : ''}
</section>`;
    })
    .join('\n');
}

/** The report's HTML. */
export function renderRunReport(data: RunReportData): string {
  const provenance = data.provenanceFile ?? 'run.json';
  const zoom = data.zoom ?? {};
  const imageOutputs = data.outputs.filter((o) => isStack(o.value) || isImage(o.value) || (isRegionSource(o.value) && zoom[o.name]));
  const tables = data.outputs.filter((o) => isTable(o.value));
  const others = data.outputs.filter((o) => !isTable(o.value) && !imageOutputs.includes(o));
  const fileLinks = (files: string[]) => files.map((f) => `<a href="${esc(encodeURI(baseName(f)))}">${esc(baseName(f))}</a>`).join(', ');
  const plots = tables.flatMap((t) => plotsOf(t.name, t.value as Table));
  const maxMs = Math.max(1, ...data.nodes.map((n) => n.ms ?? 0));
  const warnings = data.warnings ?? [];
  const assets = plots.length ? uplot() : undefined;

  const imageRows = imageOutputs.map((o) => {
    const before = beforeOf(data, o.ref);
    const z = zoom[o.name];
    const own = isStack(o.value) || isImage(o.value) ? figures(o.name, 'after', o.value) : z?.preview ? [zoomPreviewFigure(o.name, z)] : [];
    const figs = [...(before ? figures(before.name, 'before', before.value, true) : []), ...own];
    return `<div class="row" id="out-${slug(o.name)}">
<h3>${esc(o.name)}${o.ref ? ` <span class="muted">= ${esc(o.ref)}${before ? `, beside ${esc(before.name)}${before.name.includes('(via ') ? ', the nearest image upstream of its op' : ' (what its op read)'}` : ''}</span>` : ''}</h3>
<div class="grid">
${figs.map(figureHtml).join('\n')}
</div>
${z ? zoomHtml(o.name, z) : ''}
</div>`;
  });
  const inputFigs = data.inputs.filter((i) => isStack(i.value) || isImage(i.value)).flatMap((i) => figures(i.name, 'input', i.value as Stack | Image));

  return `<!DOCTYPE html>
<html lang="en">
${pageHead(`Focal run report: ${esc(data.pipeline.name)}`, assets)}
<body>
<header>
<h1>${esc(data.pipeline.name)}</h1>
${data.pipeline.description ? `<p id="description">${esc(data.pipeline.description)}</p>` : ''}
<p class="muted">${data.date ? `${esc(data.date)} · ` : ''}total ${esc(formatMs(data.totalMs))} · provenance: <a href="${esc(encodeURI(provenance))}">${esc(provenance)}</a>${data.pipeline.file ? ` · pipeline file ${esc(data.pipeline.file)}` : ''}${warnings.length ? ` · <a href="#warnings">${warnings.length} warning${warnings.length === 1 ? '' : 's'}</a>` : ''}</p>
${(data.notes ?? []).map((n) => `<p class="muted note">${esc(n)}</p>`).join('\n')}
<nav><a href="#graph">Pipeline</a><a href="#images">Images</a>${tables.length ? '<a href="#tables">Tables</a>' : ''}<a href="#nodes">Nodes</a><a href="#inputs">Inputs</a><a href="#outputs">Output files</a>${warnings.length ? '<a href="#warnings">Warnings</a>' : ''}</nav>
</header>
${keyNumbers(data.outputs)}
${warnings.length ? `<section id="warnings">
<h2>Warnings</h2>
<ul class="warnings">
${warnings.map((w) => `<li>${w.node ? `<b>${esc(w.node)}</b>: ` : ''}${w.input ? `input ${esc(w.input)}: ` : ''}${esc(w.message)}</li>`).join('\n')}
</ul>
</section>` : ''}
<section id="graph">
<h2>Pipeline</h2>
<div class="scroll">${pipelineGraphSvg(data)}</div>
<p class="muted">Inputs (green) → nodes (blue: id, op, time) → outputs (yellow). Hover for ports and files; click a node or an output to go to it.</p>
</section>
<section id="images">
<h2>Images</h2>
${imageRows.length === 0 ? '<p class="muted">No image outputs.</p>' : imageRows.join('\n')}
${inputFigs.length ? `<div class="row" id="input-images">\n<h3>Inputs</h3>\n<div class="grid">\n${inputFigs.map(figureHtml).join('\n')}\n</div>\n</div>` : ''}
</section>
${tables.length ? `<section id="tables">
<h2>Tables</h2>
${tablesHtml(tables.map((t) => ({ name: t.name, table: t.value as Table })), plots)}
</section>` : ''}
<section id="nodes">
<h2>Nodes</h2>
<table>
<thead><tr><th scope="col">node</th><th scope="col">op</th><th scope="col">plugin</th><th scope="col">time</th><th scope="col">inputs</th><th scope="col">parameters</th></tr></thead>
<tbody>
${data.nodes
  .map((n) => `<tr id="node-${esc(slug(n.id))}"><td>${esc(n.id)}</td><td class="left">${esc(n.op)}</td><td class="left">${esc(n.plugin ?? '')}</td><td><span class="bar" style="width:${Math.round((80 * (n.ms ?? 0)) / maxMs)}px"></span>${esc(formatMs(n.ms))}</td><td class="left">${esc(Object.entries(n.in ?? {}).map(([p, r]) => `${p} ← ${r}`).join(', '))}</td><td class="params">${esc(paramsText(n.params))}</td></tr>`)
  .join('\n')}
</tbody>
</table>
</section>
<section id="inputs">
<h2>Inputs</h2>
<table>
<thead><tr><th scope="col">input</th><th scope="col">type</th><th scope="col">file</th><th scope="col">bytes</th><th scope="col">sha256</th></tr></thead>
<tbody>
${data.inputs.map((i) => `<tr><td>${esc(i.name)}</td><td>${esc(i.type)}</td><td class="left">${esc(i.file)}${i.note ? ` <span class="muted">(${esc(i.note)})</span>` : ''}</td><td>${esc(i.bytes ?? '')}</td><td class="left"><code>${esc(i.sha256 ?? '')}</code></td></tr>`).join('\n')}
</tbody>
</table>
${data.versions ? `<p class="muted" id="versions">Focal ${esc(data.versions.focal ?? '?')} · Node ${esc(data.versions.node ?? '?')} · ${esc(data.versions.platform ?? '?')}</p>` : ''}
</section>
<section id="outputs">
<h2>Output files</h2>
<table>
<thead><tr><th scope="col">output</th><th scope="col">type</th><th scope="col">from</th><th scope="col">files</th></tr></thead>
<tbody>
${data.outputs.map((o) => `<tr><td>${esc(o.name)}</td><td>${esc(o.type)}</td><td class="left">${esc(o.ref ?? '')}</td><td class="left">${fileLinks(o.files)}</td></tr>`).join('\n')}
<tr><td>provenance</td><td>json</td><td></td><td class="left"><a href="${esc(encodeURI(provenance))}">${esc(provenance)}</a></td></tr>
</tbody>
</table>
${others.length ? `<p class="muted">Not previewed: ${others.map((o) => `${esc(o.name)} (${o.files.some((f) => f.endsWith('.zip')) ? 'ImageJ ROI set: open it in Fiji’s ROI Manager' : 'JSON'})`).join(', ')}.</p>` : ''}
</section>
${plots.length ? `<script type="application/json" id="plot-data">${JSON.stringify(plots).replace(/</g, '\\u003c')}</script>` : ''}
<script>${PAGE_SCRIPT}</script>
${Object.keys(zoom).length ? `<script src="${REPORT_ASSETS_DIR}/openseadragon.min.js"></script>\n<script>${ZOOM_SCRIPT}</script>` : ''}
</body>
</html>
`;
}

/** A static picture of an output that is not in memory, from a small level of its Deep Zoom tiles. */
function zoomPreviewFigure(name: string, z: ReportZoom): Figure {
  const p = z.preview!;
  return { caption: `output ${name}`, detail: `${z.width} × ${z.height} px; ${z.note}; shown at ${p.width} × ${p.height} from its Deep Zoom tiles`, src: p.src, width: p.width, height: p.height, role: 'after' };
}

/** The zoomable view of one output: OpenSeadragon over its Deep Zoom tiles (descriptor inline, so it works from file://). */
function zoomHtml(name: string, z: ReportZoom): string {
  const source = { Image: { xmlns: 'http://schemas.microsoft.com/deepzoom/2008', Url: z.url, Format: z.format, Overlap: String(z.overlap), TileSize: String(z.tileSize), Size: { Width: String(z.width), Height: String(z.height) } } };
  return `<figure class="zoomview"><div class="zoom" id="zoom-${esc(slug(name))}" data-dzi="${esc(JSON.stringify(source))}" role="img" aria-label="${esc(`zoomable view of ${name}`)}"></div><figcaption>${esc(name)}: zoomable view<span class="muted">${esc(`${z.width} × ${z.height} px, ${z.note}; scroll or pinch to zoom, drag to pan; ${z.levels} Deep Zoom levels, ${z.tiles} tiles of ${z.tileSize} px in `)}<a href="${esc(encodeURI(z.dzi))}">${esc(z.dzi)}</a>${esc(` (OpenSeadragon, from ${REPORT_ASSETS_DIR}/; the page needs that folder beside it)`)}</span></figcaption></figure>`;
}

/** Starts OpenSeadragon on every `div.zoom` (drawn on a 2-D canvas: WebGL cannot use images from file://). */
const ZOOM_SCRIPT = `
(function () {
  window.focalViewers = {};
  document.querySelectorAll('div.zoom').forEach(function (el) {
    if (typeof OpenSeadragon === 'undefined') { el.textContent = 'The zoomable view needs the folder ${REPORT_ASSETS_DIR}/ beside this page; the static preview above shows the image.'; el.className += ' missing'; return; }
    window.focalViewers[el.id] = OpenSeadragon({
      element: el, prefixUrl: '${REPORT_ASSETS_DIR}/images/', tileSources: JSON.parse(el.getAttribute('data-dzi')),
      drawer: 'canvas', showNavigator: true, navigatorPosition: 'BOTTOM_RIGHT', maxZoomPixelRatio: 8, visibilityRatio: 0.5, imageSmoothingEnabled: false
    });
  });
})();
`;

/**
 * Writes `report.html` into `outDir` atomically; returns its path. Outputs larger than the preview
 * (or given as region sources) also get Deep Zoom tiles and OpenSeadragon in `outDir/report_files/`
 * (report-zoom.ts), written before the page and swapped in whole.
 */
export async function writeRunReport(outDir: string, data: RunReportData, options: { signal?: AbortSignal } = {}): Promise<string> {
  const file = join(outDir, REPORT_FILE);
  const zoom = data.zoom ?? (await writeReportZooms(outDir, data.outputs, { maxPreviewPx: REPORT_PREVIEW_MAX_PX, signal: options.signal }));
  await writeFileAtomic(file, renderRunReport({ ...data, zoom }));
  return file;
}

// ---------------------------------------------------------------------------------------------
// the index of a batch (focal submit, focal watch)

export const BATCH_INDEX_FILE = 'index.html';

export interface BatchIndexData {
  /** The batch's output folder, as shown in the title. */
  out: string;
  /** Jobs done, in the order they finished: input path(s), job id, folder (relative to the index), its report if one was written. */
  jobs: { input: string; job: string; folder: string; report?: string }[];
  /** The combined tables (file relative to the index). */
  tables: { name: string; file: string; table: Table }[];
  date?: string;
}

/**
 * Plots of a combined table with one row per input (e.g. a count summary): each numeric column
 * against the inputs sorted by path (1…N), so a trend over a time-lapse or a plate row shows.
 */
function perInputPlots(name: string, table: Table): PlotSpec[] {
  const inputs = table.rows.map((r) => String(r.input ?? ''));
  if (table.rows.length < 2 || new Set(inputs).size !== table.rows.length) return [];
  const order = table.rows.map((r, i) => ({ r, key: inputs[i] })).sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const ys = table.columns.filter((c) => c !== 'input' && c !== 'job' && !/^(c|t|z|plane|label|id)$/i.test(c) && table.rows.some((r) => num(r[c])) && new Set(table.rows.map((r) => r[c])).size > 1 && table.rows.every((r) => r[c] === null || num(r[c])));
  return ys.slice(0, MAX_PLOTS_PER_TABLE).map((c) => ({
    id: `plot-${slug(name)}-${slug(c)}`,
    table: name,
    xLabel: 'input (sorted by path)',
    yLabel: axisTitle(c),
    x: order.map((_, i) => i + 1),
    series: [{ label: c, values: order.map(({ r }) => (num(r[c]) ? r[c] : null)) }],
  }));
}

/** The batch index: every job (input, id, folder, report) and the combined tables, sortable, with plots. */
export function renderBatchIndex(data: BatchIndexData): string {
  const plots = data.tables.flatMap((t) => {
    const series = plotsOf(t.name, t.table);
    return series.length ? series : perInputPlots(t.name, t.table);
  });
  const assets = plots.length ? uplot() : undefined;
  return `<!DOCTYPE html>
<html lang="en">
${pageHead(`Focal batch: ${esc(data.out)}`, assets)}
<body>
<header>
<h1>Batch ${esc(baseName(data.out))}</h1>
<p class="muted">${data.date ? `${esc(data.date)} · ` : ''}${data.jobs.length} job${data.jobs.length === 1 ? '' : 's'} done · ${esc(data.out)} · combined tables: ${data.tables.map((t) => `<a href="${esc(encodeURI(t.file))}">${esc(t.file)}</a>`).join(', ') || 'none'}</p>
<nav><a href="#tables">Tables</a><a href="#jobs">Jobs</a></nav>
</header>
<section id="tables">
<h2>Tables</h2>
${data.tables.length ? tablesHtml(data.tables.map((t) => ({ name: t.name, table: t.table, files: [t.file] })), plots) : '<p class="muted">No table outputs.</p>'}
</section>
<section id="jobs">
<h2>Jobs</h2>
<div class="tablewrap"><table class="sortable">
<thead><tr><th scope="col">input</th><th scope="col">job</th><th scope="col">outputs</th><th scope="col">report</th></tr></thead>
<tbody>
${data.jobs.map((j) => `<tr><td>${esc(j.input)}</td><td class="left"><code>${esc(j.job)}</code></td><td class="left"><a href="${esc(encodeURI(j.folder))}/">${esc(j.folder)}/</a></td><td class="left">${j.report ? `<a href="${esc(encodeURI(j.report))}">report</a>` : '<span class="muted">focal report ' + esc(j.folder) + '</span>'}</td></tr>`).join('\n')}
</tbody>
</table></div>
</section>
${plots.length ? `<script type="application/json" id="plot-data">${JSON.stringify(plots).replace(/</g, '\\u003c')}</script>` : ''}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
