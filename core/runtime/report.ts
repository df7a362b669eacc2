/**
 * A self-contained HTML run report (`report.html`): the pipeline, its inputs, each node with its
 * op and time, an inline PNG preview of every image/stack input and output (base64 data URIs,
 * outputs in the pipeline's order then inputs, in one grid, so before/after outputs declared next
 * to each other sit side by side), every table
 * output as an HTML table (first 50 rows and the row count) with the numbers of one-row tables
 * (e.g. a count summary) shown large, and a link to run.json. No external resources: it opens
 * offline, can be mailed or archived with the results.
 */
import { join } from 'node:path';
import { encode } from 'fast-png';
import { isImage, type Image } from '../data/image.js';
import { createStack, isStack, stackFromImage, type Stack } from '../data/stack.js';
import { isTable, type Table } from '../data/table.js';
import { writeFileAtomic } from '../io/atomic.js';
import { renderFigure } from '../io/preview.js';

export const REPORT_FILE = 'report.html';
/** Table rows shown per table. */
export const REPORT_TABLE_ROWS = 50;
/** Longest preview side, px; larger images are subsampled. */
export const REPORT_PREVIEW_MAX_PX = 768;
/** Channels previewed per multi-channel stack. */
const MAX_CHANNELS = 4;

export interface RunReportData {
  pipeline: { name: string; description?: string; file?: string };
  /** Pipeline inputs: file read and, for image/stack inputs, the value to preview. */
  inputs: { name: string; type: string; file: string; value?: unknown }[];
  nodes: { id: string; op: string; ms?: number | null }[];
  /** Outputs in the pipeline's order, with the files written (names relative to the report are linked). */
  outputs: { name: string; type: string; files: string[]; value: unknown }[];
  totalMs: number;
  /** Provenance record to link; default run.json. */
  provenanceFile?: string;
  date?: string;
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const baseName = (f: string): string => f.split(/[\\/]/).pop() ?? f;

function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function formatCell(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
  if (v === null || v === undefined) return '';
  return String(v);
}

interface Figure {
  caption: string;
  detail: string;
  src: string;
  width: number;
  height: number;
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

function figureOf(value: Stack, caption: string, detail: string): Figure {
  const f = renderFigure(value, { maxSize: REPORT_PREVIEW_MAX_PX });
  const png = encode({ width: f.width, height: f.height, data: f.data, channels: 3, depth: 8 });
  const notes: string[] = [];
  if (f.panels.length > 1) notes.push(`montage of ${f.panels.length} planes (${f.panels.map((p) => (value.sizeT > 1 ? `z${p.z} t${p.t}` : `z${p.z}`)).join(', ')})`);
  if (f.mode === 'labels') notes.push('label colours (0 black)');
  if (f.mode === 'grey' && f.displayRanges) notes.push(`display ${formatCell(f.displayRanges[0][0])}–${formatCell(f.displayRanges[0][1])}`);
  if (f.scale > 1) notes.push(`enlarged ${f.scale}×`);
  if (f.step > 1) notes.push(`shown at 1/${f.step} size`);
  if (f.scaleBar) notes.push(`scale bar ${formatCell(f.scaleBar.um)} µm`);
  return { caption, detail: [detail, ...notes].join('; '), src: `data:image/png;base64,${Buffer.from(png).toString('base64')}`, width: f.width, height: f.height };
}

/**
 * PNG previews of one value (core/io/preview.ts): for several channels a composite in
 * ImageJ colours, then each channel (up to 4); every z/t plane as a montage panel.
 */
function figures(name: string, role: string, value: Stack | Image): Figure[] {
  const stack = isStack(value) ? value : stackFromImage(value);
  const detail = isStack(value) ? stackDescription(stack) : `${value.width} × ${value.height} px`;
  if (stack.rgb || stack.sizeC === 1) return [figureOf(stack, `${role} ${name}`, detail)];
  const channelName = (c: number) => stack.channelNames?.[c] || `channel ${c}`;
  const shown = Math.min(stack.sizeC, MAX_CHANNELS);
  const legend = Array.from({ length: stack.sizeC }, (_, c) => `${channelName(c)} ${COLOUR_NAMES[c % COLOUR_NAMES.length]}`).join(', ');
  const out = [figureOf(stack, `${role} ${name} · composite`, `${detail}; ${legend}`)];
  for (let c = 0; c < shown; c++) out.push(figureOf(channelOf(stack, c), `${role} ${name} · ${channelName(c)}`, detail));
  if (stack.sizeC > MAX_CHANNELS) out[out.length - 1].detail += `; first ${MAX_CHANNELS} of ${stack.sizeC} channels shown alone`;
  return out;
}

function tableHtml(name: string, table: Table): string {
  const shown = table.rows.slice(0, REPORT_TABLE_ROWS);
  const head = table.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('');
  const body = shown.map((r) => `<tr>${table.columns.map((c) => `<td>${esc(formatCell(r[c]))}</td>`).join('')}</tr>`).join('\n');
  const note = table.rows.length > shown.length ? `first ${shown.length} of ${table.rows.length} rows` : `${table.rows.length} row${table.rows.length === 1 ? '' : 's'}`;
  return `<section class="table" id="table-${esc(name)}">
<h3>${esc(name)} <span class="muted">(${note})</span></h3>
<div class="scroll"><table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>
</section>`;
}

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
      cards.push({ label: `${o.name} · ${c}`, value: formatCell(row[c]), primary: /^count$/i.test(c) });
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

/** The report's HTML. */
export function renderRunReport(data: RunReportData): string {
  const provenance = data.provenanceFile ?? 'run.json';
  const figs: Figure[] = [];
  // outputs first, in the pipeline's order (a pipeline lists before/after pairs next to each other), then the inputs
  for (const o of data.outputs) if (isStack(o.value) || isImage(o.value)) figs.push(...figures(o.name, 'output', o.value));
  for (const i of data.inputs) if (isStack(i.value) || isImage(i.value)) figs.push(...figures(i.name, 'input', i.value));
  const tables = data.outputs.filter((o) => isTable(o.value));
  const others = data.outputs.filter((o) => !isTable(o.value) && !isStack(o.value) && !isImage(o.value));
  const fileLinks = (files: string[]) => files.map((f) => `<a href="${esc(encodeURI(baseName(f)))}">${esc(baseName(f))}</a>`).join(', ');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Focal run report: ${esc(data.pipeline.name)}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem; color: #1d232a; background: #fafbfc; line-height: 1.4; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #d5dbe1; padding-bottom: .25rem; font-size: 1.25rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
.muted { color: #5c6773; font-weight: normal; font-size: .9em; }
table { border-collapse: collapse; font-size: .85rem; background: #fff; }
th, td { border: 1px solid #d5dbe1; padding: .2rem .5rem; text-align: right; white-space: nowrap; }
th { background: #eef1f4; }
td:first-child, th:first-child { text-align: left; }
.scroll { overflow-x: auto; max-width: 100%; }
.cards { display: flex; flex-wrap: wrap; gap: .75rem; }
.card { background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.card .value { font-size: 1.4rem; font-weight: 600; }
.card.primary { border-color: #1f6feb; }
.card.primary .value { font-size: 2.4rem; color: #1f6feb; }
.card .label { color: #5c6773; font-size: .85rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid #d5dbe1; border-radius: 6px; padding: .5rem; }
figure img { width: 100%; height: auto; image-rendering: pixelated; background: #000; display: block; }
figcaption { margin-top: .35rem; font-weight: 600; }
figcaption .muted { display: block; font-weight: normal; font-size: .8rem; }
</style>
</head>
<body>
<header>
<h1>${esc(data.pipeline.name)}</h1>
${data.pipeline.description ? `<p id="description">${esc(data.pipeline.description)}</p>` : ''}
<p class="muted">${data.date ? `${esc(data.date)} · ` : ''}total ${esc(formatMs(data.totalMs))} · provenance: <a href="${esc(encodeURI(provenance))}">${esc(provenance)}</a>${data.pipeline.file ? ` · pipeline file ${esc(data.pipeline.file)}` : ''}</p>
</header>
${keyNumbers(data.outputs)}
<section id="images">
<h2>Images</h2>
${figs.length === 0 ? '<p class="muted">No image outputs.</p>' : `<div class="grid">\n${figs.map((f) => `<figure><img src="${f.src}" width="${f.width}" height="${f.height}" alt="${esc(f.caption)}"><figcaption>${esc(f.caption)}<span class="muted">${esc(f.detail)}</span></figcaption></figure>`).join('\n')}\n</div>`}
</section>
${tables.length ? `<section id="tables">\n<h2>Tables</h2>\n${tables.map((t) => tableHtml(t.name, t.value as Table)).join('\n')}\n</section>` : ''}
<section id="inputs">
<h2>Inputs</h2>
<table>
<thead><tr><th scope="col">input</th><th scope="col">type</th><th scope="col">file</th></tr></thead>
<tbody>
${data.inputs.map((i) => `<tr><td>${esc(i.name)}</td><td>${esc(i.type)}</td><td>${esc(i.file)}</td></tr>`).join('\n')}
</tbody>
</table>
</section>
<section id="nodes">
<h2>Nodes</h2>
<table>
<thead><tr><th scope="col">node</th><th scope="col">op</th><th scope="col">time</th></tr></thead>
<tbody>
${data.nodes.map((n) => `<tr><td>${esc(n.id)}</td><td>${esc(n.op)}</td><td>${esc(formatMs(n.ms))}</td></tr>`).join('\n')}
</tbody>
</table>
</section>
<section id="outputs">
<h2>Output files</h2>
<table>
<thead><tr><th scope="col">output</th><th scope="col">type</th><th scope="col">files</th></tr></thead>
<tbody>
${[...data.outputs].map((o) => `<tr><td>${esc(o.name)}</td><td>${esc(o.type)}</td><td>${fileLinks(o.files)}</td></tr>`).join('\n')}
<tr><td>provenance</td><td>json</td><td><a href="${esc(encodeURI(provenance))}">${esc(provenance)}</a></td></tr>
</tbody>
</table>
${others.length ? `<p class="muted">Not previewed: ${others.map((o) => esc(o.name)).join(', ')} (JSON).</p>` : ''}
</section>
</body>
</html>
`;
}

/** Writes `report.html` into `outDir` atomically; returns its path. */
export async function writeRunReport(outDir: string, data: RunReportData): Promise<string> {
  const file = join(outDir, REPORT_FILE);
  await writeFileAtomic(file, renderRunReport(data));
  return file;
}
