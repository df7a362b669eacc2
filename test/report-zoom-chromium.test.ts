/**
 * A run whose result is larger than the report's preview gets a zoomable view: Deep Zoom tiles
 * and OpenSeadragon in report_files/ beside report.html (issue 21). In headless Chromium, from
 * file:// and without flags that loosen file access (as a person opening the page gets it), the
 * viewer opens its image, and zoomed into the middle it loads tiles of the full-resolution level,
 * none fails, and the picture it draws is not blank.
 *
 * Needs Chromium (Debian: chromium). Without it the test is skipped, except in CI, where it fails.
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer, createStack, deepZoomLevels, DefaultIoService, MemoryLogger, PipelineRunner, PluginRegistry, rebuildRunReport, REPORT_ASSETS_DIR, stackRegionSource, writePyramidalTiff, writeTiff } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { tempDir } from './helpers.js';
import { chromiumMissing, openInChromium } from './report-helpers.js';

const run = promisify(execFile);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const missing = chromiumMissing();
const skip = missing !== undefined && !process.env.CI;
if (skip) console.warn(`report-zoom-chromium: skipped: ${missing}`);

const registry = new PluginRegistry();
for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
/** FOCAL_KEEP_REPORT=<dir>: keep the run's folder there (to look at the page), else a temporary folder removed at the end. */
const keep = process.env.FOCAL_KEEP_REPORT;
const root = keep ?? tempDir('focal-report-zoom-');
afterAll(() => {
  if (!keep) rmSync(root, { recursive: true, force: true });
});

const W = 1600;
/** Virtual time the probe page gets in Chromium (it only passes while nothing is loading). */
const BUDGET_MS = 15_000;
const H = 1200;

/** Two channels of nuclei-like spots on a dim texture, deterministic. */
function slide() {
  const planes = [new Uint16Array(W * H), new Uint16Array(W * H)];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    planes[0][y * W + x] = 100 + ((x * 7 + y * 3) % 50);
    planes[1][y * W + x] = 80 + ((x ^ y) % 40);
  }
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let k = 0; k < 400; k++) {
    const cx = rnd() * W;
    const cy = rnd() * H;
    const r = 6 + rnd() * 10;
    const c = k % 3 === 0 ? 1 : 0;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(H, cy + r); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(W, cx + r); x++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        if (d2 < r * r) planes[c][y * W + x] = Math.min(65535, planes[c][y * W + x] + Math.round(3000 * Math.exp(-d2 / (r * r))));
      }
    }
  }
  return createStack({ width: W, height: H, dtype: 'uint16', sizeC: 2, planes, channelNames: ['DAPI', 'GFP'], calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5 } });
}

/** What the test page records: the viewer's world, the tiles loaded per level, failures, and when it settled. */
const PROBE = `
<script>
(function () {
  var ids = Object.keys(window.focalViewers || {});
  var out = { viewers: ids.length, items: 0, loaded: {}, failed: [], opened: false, done: false };
  var pre = document.createElement('pre'); pre.id = 'zoom-probe'; document.body.appendChild(pre);
  var show = function () { pre.textContent = JSON.stringify(out); };
  show();
  if (!ids.length) return;
  var v = window.focalViewers[ids[0]];
  var fig = v.element.closest('figure');
  document.body.insertBefore(fig, document.body.firstChild); // on screen for the screenshot
  window.scrollTo(0, 0);
  v.addHandler('tile-loaded', function (e) { out.loaded[e.tile.level] = (out.loaded[e.tile.level] || 0) + 1; show(); });
  v.addHandler('tile-load-failed', function (e) { out.failed.push(e.tile.url + ': ' + e.message); show(); });
  var zoom = function () {
    out.opened = true; out.items = v.world.getItemCount();
    v.viewport.zoomTo(v.viewport.imageToViewportZoom(2), v.viewport.getCenter(), true); // 2 screen px per image px
    v.addOnceHandler('animation-finish', function () { setTimeout(function () { out.done = true; show(); }, 500); });
    v.viewport.applyConstraints(true);
    setTimeout(function () { out.done = true; show(); }, 3000);
    show();
  };
  if (v.world.getItemCount() > 0) zoom(); else v.addOnceHandler('open', zoom);
})();
</script>
</body>`;

describe('zoomable view of a large result in the run report (headless Chromium)', () => {
  it.skipIf(skip)('a run with a 1600 × 1200 two-channel result: report_files/ has the viewer and tiles; zoomed in, full-resolution tiles load and show the image', async () => {
    if (missing) throw new Error(`CI must provide Chromium: ${missing}`);
    const input = join(root, 'slide.tif');
    await writeTiff(input, slide());
    const pipeline = join(root, 'smooth.json');
    writeFileSync(pipeline, JSON.stringify({
      name: 'smooth-slide',
      description: 'Gaussian smoothing of a two-channel slide larger than the report preview',
      inputs: { slide: { type: 'stack' } },
      nodes: { smooth: { op: 'filter.gaussian', in: { stack: 'slide' }, params: { sigmaPx: 1 } } },
      outputs: { smoothed: 'smooth.stack' },
    }));
    const outDir = join(root, 'out');
    const summary = await runner.run({ pipelineFile: pipeline, inputs: { slide: input }, outDir, report: true });

    // the files: viewer code, its images and licence, the descriptor and every tile, nothing left in staging
    expect(readdirSync(outDir).sort()).toEqual(['report.html', REPORT_ASSETS_DIR, 'run.json', 'smoothed.tif']);
    const assets = join(outDir, REPORT_ASSETS_DIR);
    for (const f of ['openseadragon.min.js', 'openseadragon-LICENSE.txt', 'images/zoomin_rest.png', 'smoothed.dzi']) expect(existsSync(join(assets, f)), f).toBe(true);
    const levels = deepZoomLevels(W, H, 254);
    for (const L of levels) expect(readdirSync(join(assets, 'smoothed_files', String(L.level))).length, `level ${L.level}`).toBe(L.columns * L.rows);
    const html = readFileSync(summary.reportFile!, 'utf8');
    expect(html).toContain(`<script src="${REPORT_ASSETS_DIR}/openseadragon.min.js"></script>`);
    expect(html).toMatch(/<div class="zoom" id="zoom-smoothed" data-dzi="[^"]*smoothed_files\//);
    expect(html).toMatch(/<figure class="after"><img src="data:image\/png;base64,/); // the static preview stays
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from the network

    // the page as a person opens it: no console message, one viewer
    const page = await openInChromium(summary.reportFile!, join(root, '.chromium'));
    expect(page.console, 'console').toEqual([]);
    expect(page.dom).toContain('class="openseadragon-container"');

    // zoomed into the middle (2 screen px per image px): tiles of the top level load, none fails
    const probePage = join(outDir, 'report-probe.html');
    writeFileSync(probePage, html.replace('</body>', PROBE));
    // (a longer virtual-time budget than the page check: tiles load from disk, the machine may be busy)
    const probed = (await run(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(root, '.chromium')}`, '--window-size=1000,900', `--virtual-time-budget=${BUDGET_MS}`, '--dump-dom', `file://${probePage}`], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 })).stdout;
    const m = /<pre id="zoom-probe">([^<]*)<\/pre>/.exec(probed);
    expect(m, 'probe output').not.toBeNull();
    const result = JSON.parse(m![1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as { viewers: number; items: number; loaded: Record<string, number>; failed: string[]; opened: boolean; done: boolean };
    expect(result).toMatchObject({ viewers: 1, items: 1, opened: true, failed: [] });
    const top = levels.length - 1;
    expect(result.loaded[top] ?? 0, `tiles of level ${top} loaded: ${JSON.stringify(result)}`).toBeGreaterThanOrEqual(1);

    // and what it draws is the image, not an empty canvas
    // (a screenshot is a fresh Chromium whose virtual time can run out before the tiles it fetches from
    // disk are drawn on a busy machine: up to three shots, the assertions on the last)
    const shot = join(root, 'zoomed.png');
    let red = 0;
    let green = 0;
    let dark = 0;
    let n = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      await run(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${join(root, '.chromium')}`, '--hide-scrollbars', '--window-size=1000,900', `--virtual-time-budget=${BUDGET_MS * (attempt + 1)}`, `--screenshot=${shot}`, `file://${probePage}`], { timeout: 90_000 });
      const png = decode(readFileSync(shot));
      // the viewer fills the top of the page: its middle shows the composite — red (DAPI) and green (GFP) spots on a dark ground
      red = 0;
      green = 0;
      dark = 0;
      n = 0;
      for (let y = 150; y < 450; y += 2) for (let x = 200; x < 800; x += 2) {
        const o = (y * png.width + x) * png.channels;
        const [r, g, b] = [png.data[o], png.data[o + 1], png.data[o + 2]];
        if (r > 150 && g < 100 && b < 60) red++;
        else if (g > 150 && r < 100 && b < 60) green++;
        else if (r + g + b < 90) dark++;
        n++;
      }
      if (red / n > 0.005 && green / n > 0.005 && dark / n > 0.5) break;
    }
    expect(red / n, 'red spots').toBeGreaterThan(0.005);
    expect(green / n, 'green spots').toBeGreaterThan(0.005);
    expect(dark / n, 'dark ground').toBeGreaterThan(0.5);
  }, 180_000);

  it('focal report shows a pyramidal output from its levels: a zoomable view and a picture from a small Deep Zoom level; a small result gets none', async () => {
    const dir = join(root, 'rebuild');
    const pipeline = join(root, 'smooth-small.json');
    writeFileSync(pipeline, JSON.stringify({ name: 'smooth-small', inputs: { slide: { type: 'stack' } }, nodes: { smooth: { op: 'filter.gaussian', in: { stack: 'slide' }, params: { sigmaPx: 1 } } }, outputs: { smoothed: 'smooth.stack' } }));
    const small = join(root, 'small.tif');
    const s = slide();
    await writeTiff(small, createStack({ width: 300, height: 200, dtype: 'uint16', sizeC: 2, planes: s.planes.map((p) => Uint16Array.from({ length: 300 * 200 }, (_, i) => p[Math.floor(i / 300) * W + (i % 300)])) }));
    await runner.run({ pipelineFile: pipeline, inputs: { slide: small }, outDir: dir, report: true });
    expect(existsSync(join(dir, REPORT_ASSETS_DIR)), 'no zoomable view for a 300 × 200 result').toBe(false);
    // the output replaced by a pyramid, as a streamed whole-slide run writes it
    rmSync(join(dir, 'smoothed.tif'));
    await writePyramidalTiff(join(dir, 'smoothed.tif'), stackRegionSource(s), { tileSize: 256 });
    const { file, missing } = await rebuildRunReport(dir, new DefaultIoService());
    expect(missing).toEqual([]);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<div class="zoom" id="zoom-smoothed"');
    expect(html).toMatch(/output smoothed<span class="muted">1600 × 1200 px; display [^;]+; shown at 400 × 300 from its Deep Zoom tiles/);
    expect(readdirSync(join(dir, REPORT_ASSETS_DIR, 'smoothed_files')).length).toBe(deepZoomLevels(W, H, 254).length);
    // a run never reads from the folder it replaces
    const inside = join(dir, REPORT_ASSETS_DIR, 'mine.tif');
    writeFileSync(inside, readFileSync(small));
    await expect(runner.run({ pipelineFile: pipeline, inputs: { slide: inside }, outDir: dir, report: true })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining(`which a run replaces with its report's zoomable views`) });
    expect(readFileSync(inside)).toEqual(readFileSync(small));
  }, 120_000);
});
