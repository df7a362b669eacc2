/**
 * The zoomable views of a run report: for every image output larger than the static preview (or
 * given as a region source, e.g. a pyramid read lazily), Deep Zoom tiles (core/io/deepzoom.ts) in
 * `report_files/` beside `report.html`, with OpenSeadragon's browser build (the `openseadragon`
 * package, BSD-3-Clause, its licence copied along) to show them offline: no CDN, no server — the
 * page gives OpenSeadragon the descriptor inline and the tiles load as plain images from the folder,
 * which works from file://.
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encodePngPixels } from '../io/png-encode.js';
import { isImage, type Image } from '../data/image.js';
import { isStack, stackFromImage, type Stack } from '../data/stack.js';
import { readDeepZoomLevel, writeDeepZoom, type DeepZoomSource } from '../io/deepzoom.js';
import { stackRegionSource } from '../io/lazy-image.js';
import { valueMapOf } from '../io/preview.js';

/** The folder beside report.html holding the viewer's code and the Deep Zoom tiles. */
export const REPORT_ASSETS_DIR = 'report_files';

/** What the page needs to show one zoomable view. */
export interface ReportZoom {
  /** The tile folder relative to the report, ending in '/'. */
  url: string;
  /** The descriptor file relative to the report. */
  dzi: string;
  width: number;
  height: number;
  tileSize: number;
  overlap: number;
  format: 'png';
  levels: number;
  tiles: number;
  /** Which plane and how it is shown, for the caption. */
  note: string;
  /** A static picture from a small Deep Zoom level, for outputs that are not in memory. */
  preview?: { src: string; width: number; height: number };
}

/** Whether a value reads regions (a lazy image, a pyramid on disk, a tiled operation). */
export function isRegionSource(v: unknown): v is DeepZoomSource {
  const r = v as Partial<DeepZoomSource> | null;
  return typeof r === 'object' && r !== null && typeof r.readRegion === 'function' && typeof r.width === 'number' && typeof r.height === 'number' && typeof r.sizeC === 'number';
}

/** The source of a zoomable view of `value`: an image larger than `maxPreviewPx` on a side, or any region source. */
export function zoomSourceOf(value: unknown, maxPreviewPx: number): { source: DeepZoomSource; labels: boolean; rgb: boolean; sizeZ: number; sizeT: number; lut?: 'viridis' | 'diverging'; window?: [number, number] } | undefined {
  if (isStack(value) || isImage(value)) {
    const s: Stack = isStack(value) ? value : stackFromImage(value as Image);
    if (Math.max(s.width, s.height) <= maxPreviewPx) return undefined;
    const labels = s.metadata.labels === true;
    const valueMap = !labels && !s.rgb && s.sizeC === 1 ? valueMapOf(s.metadata) : undefined;
    let window: [number, number] | undefined;
    if (valueMap) {
      // as the preview shows a value map: its full finite range (symmetric about 0 for a diverging map)
      const plane = s.planes[Math.floor(s.sizeZ / 2)];
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < plane.length; i++) {
        const v = plane[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!(hi >= lo)) [lo, hi] = [0, 0];
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      window = valueMap.lut === 'diverging' ? [-m, m] : [lo, hi];
    }
    return { source: stackRegionSource(s), labels, rgb: s.rgb, sizeZ: s.sizeZ, sizeT: s.sizeT, ...(valueMap ? { lut: valueMap.lut ?? 'viridis', window } : {}) };
  }
  if (isRegionSource(value)) return { source: value, labels: (value as { metadata?: Record<string, unknown> }).metadata?.labels === true, rgb: value.rgb === true, sizeZ: value.sizeZ, sizeT: value.sizeT };
  return undefined;
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');
const exists = (p: string): Promise<boolean> => stat(p).then(() => true, () => false);

/**
 * Writes `<outDir>/report_files/` for the outputs that get a zoomable view (into a temporary folder,
 * swapped in at the end; an earlier run's folder is replaced, or removed when no output needs one)
 * and returns the views by output name.
 */
export async function writeReportZooms(outDir: string, outputs: { name: string; value: unknown }[], options: { maxPreviewPx: number; signal?: AbortSignal }): Promise<Record<string, ReportZoom>> {
  const target = join(outDir, REPORT_ASSETS_DIR);
  const wanted = outputs.flatMap((o) => {
    const z = zoomSourceOf(o.value, options.maxPreviewPx);
    return z ? [{ name: o.name, inMemory: isStack(o.value) || isImage(o.value), ...z }] : [];
  });
  if (wanted.length === 0) {
    await rm(target, { recursive: true, force: true });
    return {};
  }
  const tmpName = () => join(outDir, `.${REPORT_ASSETS_DIR}.focal-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const tmp = tmpName();
  const zooms: Record<string, ReportZoom> = {};
  try {
    await mkdir(tmp);
    const require = createRequire(import.meta.url);
    const osdDir = dirname(require.resolve('openseadragon/build/openseadragon/openseadragon.min.js'));
    await cp(join(osdDir, 'openseadragon.min.js'), join(tmp, 'openseadragon.min.js'));
    await cp(join(osdDir, 'images'), join(tmp, 'images'), { recursive: true });
    await cp(join(osdDir, '..', '..', 'LICENSE.txt'), join(tmp, 'openseadragon-LICENSE.txt'));
    const used = new Set<string>();
    for (const w of wanted) {
      let base = slug(w.name);
      while (used.has(base)) base += '_';
      used.add(base);
      const z = Math.floor(w.sizeZ / 2);
      const r = await writeDeepZoom(join(tmp, `${base}.dzi`), w.source, { labels: w.labels, rgb: w.rgb, z, t: 0, signal: options.signal, ...(w.lut ? { lut: w.lut, window: w.window ? [w.window] : undefined } : {}) });
      const notes = [];
      if (w.sizeZ > 1 || w.sizeT > 1) notes.push(`plane z ${z}${w.sizeT > 1 ? ', t 0' : ''} of ${w.sizeZ} z${w.sizeT > 1 ? ` × ${w.sizeT} t` : ''}`);
      if (r.display.mode === 'labels') notes.push('label colours');
      else if (r.display.mode === 'rgb') notes.push('RGB');
      else if (r.display.mode === 'values') notes.push(`values in ${r.display.lut === 'diverging' ? 'a blue–white–red map' : 'viridis'} from ${+r.display.ranges[0][0].toPrecision(5)} to ${+r.display.ranges[0][1].toPrecision(5)}`);
      else notes.push(`display ${r.display.ranges.map(([lo, hi]) => `${+lo.toPrecision(5)}–${+hi.toPrecision(5)}`).join(', ')}`);
      let preview: ReportZoom['preview'];
      if (!w.inMemory) {
        const small = [...r.levels].reverse().find((l) => Math.max(l.width, l.height) <= options.maxPreviewPx) ?? r.levels[0];
        const rgb = await readDeepZoomLevel(r.filesDir, small, r.tileSize, r.overlap);
        const png = encodePngPixels({ width: small.width, height: small.height, data: rgb, channels: 3, depth: 8 });
        preview = { src: `data:image/png;base64,${Buffer.from(png).toString('base64')}`, width: small.width, height: small.height };
      }
      zooms[w.name] = {
        url: `${REPORT_ASSETS_DIR}/${base}_files/`,
        dzi: `${REPORT_ASSETS_DIR}/${base}.dzi`,
        width: r.width,
        height: r.height,
        tileSize: r.tileSize,
        overlap: r.overlap,
        format: r.format,
        levels: r.levels.length,
        tiles: r.tiles,
        note: notes.join('; '),
        ...(preview ? { preview } : {}),
      };
    }
    let old: string | undefined;
    if (await exists(target)) {
      old = tmpName();
      await rename(target, old);
    }
    await rename(tmp, target);
    if (old) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  return zooms;
}
