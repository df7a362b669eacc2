/**
 * Deep Zoom export (the tile layout OpenSeadragon, Seadragon/Silverlight Deep Zoom and libvips
 * `dzsave` use): a descriptor `<name>.dzi` (XML) and tiles `<name>_files/<level>/<column>_<row>.png`.
 *
 * Geometry (Deep Zoom spec): with W × H the full size, the top level is ⌈log₂ max(W, H)⌉ and level
 * L is ⌈W / 2^(top − L)⌉ × ⌈H / 2^(top − L)⌉ (level 0 is 1 × 1). Each level is cut into tiles of
 * `tileSize` (254 is usual) on a grid from the top-left; every tile also carries `overlap` pixels
 * (usually 1) of its neighbours on each side that has one, so tile (col, row) covers
 * x ∈ [col·ts − (col > 0 ? ov : 0), min(levelW, (col + 1)·ts + ov)).
 *
 * Pixels: one z/t plane, mapped to 8-bit RGB for display — every channel stretched over its display
 * range (robust percentiles of the data, ImageJ's 0.35 % saturated by default, or a window given)
 * and added in its colour (ImageJ's composite colours, one channel grey); RGB images as they are;
 * label images in label colours, sampled nearest. Each level is read from the source's nearest
 * pyramid level at or above its resolution (2 × 2… box means of the source pixels), so no tile
 * needs more than a small region; a level more than 4× coarser than any source level is made from
 * the finer Deep Zoom level already written (2 × 2 means of its 8-bit tiles), so a source without a
 * pyramid is never read whole. Written into a temporary folder beside the target and moved into
 * place at the end (the tiles first, the descriptor last); cancellable through `signal`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PixelArray } from '../data/dtype.js';
import { FocalError, isFocalError, throwIfAborted } from '../errors.js';
import type { ImageLevel, RegionSource } from './lazy-image.js';
import { autoContrastRange } from './png.js';
import { encodePngPixelsAsync } from './png-encode.js';
import { IMAGEJ_CHANNEL_COLOURS, labelColour, lutColour } from './preview.js';

/** fast-png, imported when a Deep Zoom tile is first decoded (not by every importer of core). */
const fastPng = () => import('fast-png');

/** One Deep Zoom level: its size and its grid of tiles. */
export interface DeepZoomLevel {
  level: number;
  width: number;
  height: number;
  columns: number;
  rows: number;
}

/** Deep Zoom levels 0 (1 × 1) … top (full size) of a W × H image cut into tiles of `tileSize`. */
export function deepZoomLevels(width: number, height: number, tileSize: number): DeepZoomLevel[] {
  for (const [f, v] of [['width', width], ['height', height], ['tileSize', tileSize]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new FocalError('E_ARGUMENT', `deep zoom: ${f} must be a positive integer, got ${v}`, { field: f });
  }
  const top = Math.ceil(Math.log2(Math.max(width, height)));
  const out: DeepZoomLevel[] = [];
  for (let level = 0; level <= top; level++) {
    const f = 2 ** (top - level);
    const w = Math.ceil(width / f);
    const h = Math.ceil(height / f);
    out.push({ level, width: w, height: h, columns: Math.ceil(w / tileSize), rows: Math.ceil(h / tileSize) });
  }
  return out;
}

/** The rectangle of a level (px of that level) that tile (col, row) covers, overlap included. */
export function deepZoomTileRect(level: Pick<DeepZoomLevel, 'width' | 'height'>, col: number, row: number, tileSize: number, overlap: number): { x: number; y: number; w: number; h: number } {
  const x = col * tileSize - (col > 0 ? overlap : 0);
  const y = row * tileSize - (row > 0 ? overlap : 0);
  const x1 = Math.min(level.width, (col + 1) * tileSize + overlap);
  const y1 = Math.min(level.height, (row + 1) * tileSize + overlap);
  return { x, y, w: x1 - x, h: y1 - y };
}

/** The `.dzi` descriptor (Deep Zoom Image XML). */
export function deepZoomDescriptor(d: { width: number; height: number; tileSize: number; overlap: number; format: string }): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="${d.format}" Overlap="${d.overlap}" TileSize="${d.tileSize}">
  <Size Width="${d.width}" Height="${d.height}"/>
</Image>
`;
}

/** How values become 8-bit RGB. */
export interface DeepZoomDisplay {
  /** 'composite' (several channels in colours), 'grey' (one channel), 'rgb' (as stored), 'labels' (label colours). */
  mode: 'composite' | 'grey' | 'rgb' | 'labels' | 'values';
  /** For 'values': the colour map of a one-channel value map (viridis, or blue–white–red). */
  lut?: 'viridis' | 'diverging';
  /** Per channel, the values mapped to 0 and 255 (composite and grey). */
  ranges: [number, number][];
  /** Per channel, its colour (composite and grey). */
  colours: (readonly [number, number, number])[];
}

export interface DeepZoomOptions {
  /** Tile edge, px (default 254: with overlap 1, 256-px images). */
  tileSize?: number;
  /** Pixels each tile shares with each neighbour (default 1). */
  overlap?: number;
  /** Plane shown (default: the middle z, t 0). */
  z?: number;
  t?: number;
  /** Per channel [min, max] mapped to 0 and 255; a missing entry is taken from the data. */
  window?: ([number, number] | undefined)[];
  /** Per channel colour; default ImageJ's composite colours (one channel: grey). */
  colours?: (readonly [number, number, number])[];
  /** Saturation of the automatic range, % (default 0.35, ImageJ's Enhance Contrast). */
  saturatedPercent?: number;
  /** Show the 3 uint8 channels as RGB, unstretched (default: the source's `rgb`). */
  rgb?: boolean;
  /** Show as a label image (0 black, k ≥ 1 distinct colours, nearest sampling). */
  labels?: boolean;
  /** Show a one-channel image's values in a colour map over `window` (or the data's range) instead of grey, as previews show value maps. */
  lut?: 'viridis' | 'diverging';
  /** Values sampled per channel for the automatic range (default 4 000 000). */
  maxSamples?: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface DeepZoomResult {
  /** The descriptor written, and the tile folder beside it. */
  dzi: string;
  filesDir: string;
  width: number;
  height: number;
  tileSize: number;
  overlap: number;
  format: 'png';
  levels: DeepZoomLevel[];
  tiles: number;
  bytes: number;
  display: DeepZoomDisplay;
  /** Deep Zoom levels read from the source (the others were made from the finer Deep Zoom level). */
  fromSource: number[];
}

/** A source that may have a pyramid (a LazyImage) and may be RGB. */
export type DeepZoomSource = RegionSource & { levels?: readonly ImageLevel[]; rgb?: boolean };

const sourceLevels = (src: DeepZoomSource): readonly Pick<ImageLevel, 'width' | 'height'>[] => (src.levels?.length ? src.levels : [{ width: src.width, height: src.height }]);

/**
 * The display mapping of a plane: RGB and labels as they are, otherwise per channel the window
 * given or ImageJ's Enhance Contrast range over ≤ maxSamples values, read from the finest
 * source level that small (or every n-th row and column of a finer one), one row at a time.
 */
export async function deepZoomDisplay(src: DeepZoomSource, options: DeepZoomOptions = {}): Promise<DeepZoomDisplay> {
  if (options.labels) return { mode: 'labels', ranges: [], colours: [] };
  if ((options.rgb ?? src.rgb) && src.sizeC === 3) return { mode: 'rgb', ranges: [], colours: [] };
  const z = options.z ?? Math.floor(src.sizeZ / 2);
  const t = options.t ?? 0;
  const maxSamples = options.maxSamples ?? 4_000_000;
  const levels = sourceLevels(src);
  let k = 0;
  for (let i = 0; i < levels.length; i++) if (levels[i].width * levels[i].height <= maxSamples) { k = i; break; }
  if (levels[k].width * levels[k].height > maxSamples) k = levels.length - 1;
  const { width: lw, height: lh } = levels[k];
  const step = Math.max(1, Math.ceil(Math.sqrt((lw * lh) / maxSamples)));
  const ranges: [number, number][] = [];
  const colours: (readonly [number, number, number])[] = [];
  for (let c = 0; c < src.sizeC; c++) {
    colours.push(options.colours?.[c] ?? (src.sizeC === 1 ? ([255, 255, 255] as const) : IMAGEJ_CHANNEL_COLOURS[c % IMAGEJ_CHANNEL_COLOURS.length]));
    const given = options.window?.[c];
    if (given) {
      ranges.push([given[0], given[1]]);
      continue;
    }
    let samples: PixelArray | undefined;
    let n = 0;
    for (let y = 0; y < lh; y += step) {
      throwIfAborted(options.signal);
      const row = await src.readRegion({ level: k, c, z, t, x: 0, y, w: lw, h: 1 }, { signal: options.signal });
      if (!samples) samples = new (row.constructor as new (n: number) => PixelArray)(Math.ceil(lw / step) * Math.ceil(lh / step));
      for (let x = 0; x < lw; x += step) samples[n++] = row[x];
    }
    ranges.push(autoContrastRange(samples!.subarray(0, n) as PixelArray, options.saturatedPercent ?? 0.35));
  }
  if (options.lut && src.sizeC === 1) return { mode: 'values', lut: options.lut, ranges, colours };
  return { mode: src.sizeC === 1 ? 'grey' : 'composite', ranges, colours };
}

/**
 * An 8-bit RGB PNG (core/io/png-encode.ts, deflated on libuv's thread pool) at zlib level 1:
 * for a report's zoom tiles, 8 % larger than level 6 and a quarter less CPU (an overlay of
 * 4096² px: 30.5 against 28.3 MB, 2.7 against 3.7 s of CPU; 2026-12-08).
 */
export function encodeRgbPng(width: number, height: number, rgb: Uint8Array): Promise<Uint8Array> {
  return encodePngPixelsAsync({ width, height, data: rgb, channels: 3 }, 1);
}

/** Edges of the source windows of out pixels [start, start + n) at `ratio` source px per out px, clipped to [0, limit). */
function windows(start: number, n: number, ratio: number, limit: number): Int32Array {
  const e = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) e[i] = Math.min(limit, Math.floor((start + i) * ratio + 1e-9));
  for (let i = 0; i < n; i++) if (e[i + 1] <= e[i]) e[i + 1] = Math.min(limit, e[i] + 1); // at least one px
  return e;
}

/**
 * Writes the Deep Zoom tiles and descriptor of one plane of `source` at `path` (ending in .dzi;
 * the tiles go to `<name>_files/` beside it). Refuses an existing descriptor or tile folder.
 */
export async function writeDeepZoom(path: string, source: DeepZoomSource, options: DeepZoomOptions = {}): Promise<DeepZoomResult> {
  if (!/\.dzi$/i.test(path)) throw new FocalError('E_ARGUMENT', `${path}: a Deep Zoom descriptor's name ends in .dzi`, { file: path });
  const tileSize = options.tileSize ?? 254;
  const overlap = options.overlap ?? 1;
  if (!Number.isInteger(tileSize) || tileSize < 1 || tileSize > 8192) throw new FocalError('E_ARGUMENT', `${path}: tileSize must be an integer in 1…8192, got ${tileSize}`, { file: path, field: 'tileSize' });
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > tileSize / 2) throw new FocalError('E_ARGUMENT', `${path}: overlap must be an integer in 0…${Math.floor(tileSize / 2)}, got ${overlap}`, { file: path, field: 'overlap' });
  const z = options.z ?? Math.floor(source.sizeZ / 2);
  const t = options.t ?? 0;
  if (!Number.isInteger(z) || z < 0 || z >= source.sizeZ) throw new FocalError('E_ARGUMENT', `${path}: z must be an integer in 0…${source.sizeZ - 1}, got ${z}`, { file: path, field: 'z' });
  if (!Number.isInteger(t) || t < 0 || t >= source.sizeT) throw new FocalError('E_ARGUMENT', `${path}: t must be an integer in 0…${source.sizeT - 1}, got ${t}`, { file: path, field: 't' });
  if (options.window && options.window.length > source.sizeC) throw new FocalError('E_ARGUMENT', `${path}: window gives ${options.window.length} ranges for ${source.sizeC} channel(s)`, { file: path, field: 'window' });

  const parent = dirname(path);
  const name = basename(path).replace(/\.dzi$/i, '');
  const filesName = `${name}_files`;
  for (const target of [path, join(parent, filesName)]) {
    if (await stat(target).then(() => true, () => false)) throw new FocalError('E_IO', `${target} exists; Deep Zoom output never replaces files: remove it or choose another name`, { file: target });
  }
  const display = await deepZoomDisplay(source, { ...options, z, t });
  const { width: W, height: H } = source;
  const levels = deepZoomLevels(W, H, tileSize);
  const top = levels.length - 1;
  const srcLevels = sourceLevels(source);
  const totalTiles = levels.reduce((s, l) => s + l.columns * l.rows, 0);
  const tmp = join(parent, `.${basename(path)}.focal-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const tileFile = (level: number, col: number, row: number) => join(tmp, filesName, String(level), `${col}_${row}.png`);
  const channels = display.mode === 'rgb' ? [0, 1, 2] : display.mode === 'labels' ? [0] : Array.from({ length: source.sizeC }, (_, c) => c);

  // 8-bit RGB of one rectangle of Deep Zoom level L, read from source level k (`ratio` source px per level px).
  const fromSource = async (L: DeepZoomLevel, k: number, x: number, y: number, w: number, h: number): Promise<Uint8Array> => {
    const s = 2 ** (top - L.level);
    const sl = srcLevels[k];
    const rx = (s * sl.width) / W;
    const ry = (s * sl.height) / H;
    const xe = windows(x, w, rx, sl.width);
    const ye = windows(y, h, ry, sl.height);
    const sx = xe[0];
    const sy = ye[0];
    const sw = xe[w] - sx;
    const sh = ye[h] - sy;
    const planes: PixelArray[] = [];
    for (const c of channels) planes.push(await source.readRegion({ level: k, c, z, t, x: sx, y: sy, w: sw, h: sh }, { signal: options.signal }));
    const out = new Uint8Array(w * h * 3);
    if (display.mode === 'labels') {
      // labels come in runs (and mostly 0): the colour is worked out once per run
      let last = 0;
      let col = labelColour(0);
      for (let j = 0; j < h; j++) {
        for (let i = 0; i < w; i++) {
          const v = planes[0][(ye[j] - sy) * sw + xe[i] - sx];
          const k = v > 0 && Number.isFinite(v) ? Math.round(v) : 0;
          if (k !== last) {
            col = labelColour(k);
            last = k;
          }
          const o = (j * w + i) * 3;
          out[o] = col[0];
          out[o + 1] = col[1];
          out[o + 2] = col[2];
        }
      }
      return out;
    }
    const same = sw === w && sh === h; // one source pixel per output pixel
    if (same && display.mode === 'rgb' && planes.every((p) => p instanceof Uint8Array)) {
      // 8-bit RGB at full size (an overlay's top level): its samples are the tile's
      for (let ci = 0; ci < 3; ci++) {
        const p = planes[ci];
        for (let q = 0; q < p.length; q++) out[q * 3 + ci] = p[q];
      }
      return out;
    }
    // channel by channel: the mean of each output pixel's source window (NaN: no finite value),
    // then mapped through the channel's window and added in its colour
    const mean = new Float32Array(w * h);
    const acc = new Float32Array(w * h * 3);
    for (let ci = 0; ci < planes.length; ci++) {
      const p = planes[ci];
      if (same) mean.set(p);
      else {
        for (let j = 0; j < h; j++) {
          const y0 = ye[j] - sy;
          const y1 = ye[j + 1] - sy;
          for (let i = 0; i < w; i++) {
            const x0 = xe[i] - sx;
            const x1 = xe[i + 1] - sx;
            let sum = 0;
            let n = 0;
            for (let yy = y0; yy < y1; yy++) {
              const row = yy * sw;
              for (let xx = x0; xx < x1; xx++) {
                const v = p[row + xx];
                if (v - v === 0) {
                  sum += v;
                  n++;
                }
              }
            }
            mean[j * w + i] = n > 0 ? sum / n : NaN;
          }
        }
      }
      if (display.mode === 'rgb') {
        for (let q = 0; q < mean.length; q++) acc[q * 3 + ci] = mean[q];
        continue;
      }
      const [lo, hi] = display.ranges[ci];
      if (display.mode === 'values') {
        for (let q = 0; q < mean.length; q++) {
          const m = mean[q];
          const col = lutColour(display.lut ?? 'viridis', hi > lo ? (m - lo) / (hi - lo) : m - m === 0 ? 0.5 : NaN);
          acc[q * 3] = col[0];
          acc[q * 3 + 1] = col[1];
          acc[q * 3 + 2] = col[2];
        }
        continue;
      }
      const [cr, cg, cb] = display.colours[ci];
      const inv = hi > lo ? 1 / (hi - lo) : 0;
      for (let q = 0; q < mean.length; q++) {
        const m = mean[q];
        let g = inv > 0 ? (m - lo) * inv : m > lo ? 1 : 0;
        if (!(g > 0)) continue; // NaN and below the window: nothing added
        if (g > 1) g = 1;
        acc[q * 3] += g * cr;
        acc[q * 3 + 1] += g * cg;
        acc[q * 3 + 2] += g * cb;
      }
    }
    for (let q = 0; q < acc.length; q++) {
      const v = acc[q];
      out[q] = v >= 255 ? 255 : v > 0 ? Math.round(v) : 0; // NaN (RGB without a finite value) black
    }
    return out;
  };

  // Decoded tiles of the finer Deep Zoom level, for levels made from it (a few recent ones kept).
  const cache = new Map<string, { rect: { x: number; y: number; w: number; h: number }; data: Uint8Array }>();
  const finerTile = async (F: DeepZoomLevel, col: number, row: number) => {
    const key = `${F.level}/${col}_${row}`;
    let hit = cache.get(key);
    if (!hit) {
      const png = (await fastPng()).decode(await readFile(tileFile(F.level, col, row)));
      hit = { rect: deepZoomTileRect(F, col, row, tileSize, overlap), data: png.data as Uint8Array };
      cache.set(key, hit);
      if (cache.size > 64) cache.delete(cache.keys().next().value!);
    }
    return hit;
  };
  // 8-bit RGB of a rectangle of level L as 2 × 2 means of level L + 1's tiles (labels: the top-left pixel).
  const fromFiner = async (L: DeepZoomLevel, x: number, y: number, w: number, h: number): Promise<Uint8Array> => {
    const F = levels[L.level + 1];
    const fx = 2 * x;
    const fy = 2 * y;
    const fw = Math.min(F.width, 2 * (x + w)) - fx;
    const fh = Math.min(F.height, 2 * (y + h)) - fy;
    const fine = new Uint8Array(fw * fh * 3);
    for (let row = Math.floor(fy / tileSize); row <= Math.floor((fy + fh - 1) / tileSize); row++) {
      for (let col = Math.floor(fx / tileSize); col <= Math.floor((fx + fw - 1) / tileSize); col++) {
        const tile = await finerTile(F, col, row);
        // the tile's own cell (without overlap), clipped to the rectangle
        const cx0 = Math.max(fx, col * tileSize);
        const cx1 = Math.min(fx + fw, (col + 1) * tileSize);
        const cy0 = Math.max(fy, row * tileSize);
        const cy1 = Math.min(fy + fh, (row + 1) * tileSize);
        for (let yy = cy0; yy < cy1; yy++) {
          const from = ((yy - tile.rect.y) * tile.rect.w + (cx0 - tile.rect.x)) * 3;
          fine.set(tile.data.subarray(from, from + (cx1 - cx0) * 3), ((yy - fy) * fw + (cx0 - fx)) * 3);
        }
      }
    }
    const out = new Uint8Array(w * h * 3);
    for (let j = 0; j < h; j++) {
      const y0 = 2 * j;
      const y1 = Math.min(fh, y0 + 2);
      for (let i = 0; i < w; i++) {
        const x0 = 2 * i;
        const x1 = Math.min(fw, x0 + 2);
        if (display.mode === 'labels') {
          out.set(fine.subarray((y0 * fw + x0) * 3, (y0 * fw + x0) * 3 + 3), (j * w + i) * 3); // nearest: colours are not blended
          continue;
        }
        for (let b = 0; b < 3; b++) {
          let sum = 0;
          for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += fine[(yy * fw + xx) * 3 + b];
          out[(j * w + i) * 3 + b] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
        }
      }
    }
    return out;
  };

  const fromSourceLevels: number[] = [];
  let tiles = 0;
  let bytes = 0;
  let movedFiles = false;
  const pending = new Set<Promise<void>>();
  try {
    await mkdir(join(tmp, filesName), { recursive: true });
    for (let li = top; li >= 0; li--) {
      const L = levels[li];
      const s = 2 ** (top - li);
      // the coarsest source level at least as fine as this one; read from it when at most 4× finer
      let k = 0;
      for (let i = 0; i < srcLevels.length; i++) if (W / srcLevels[i].width <= s * (1 + 1e-9) && H / srcLevels[i].height <= s * (1 + 1e-9)) k = i;
      const direct = li === top || (s * srcLevels[k].width) / W <= 4;
      if (direct) fromSourceLevels.push(li);
      await mkdir(join(tmp, filesName, String(li)));
      for (let row = 0; row < L.rows; row++) {
        for (let col = 0; col < L.columns; col++) {
          throwIfAborted(options.signal);
          const r = deepZoomTileRect(L, col, row, tileSize, overlap);
          const rgb = direct ? await fromSource(L, k, r.x, r.y, r.w, r.h) : await fromFiner(L, r.x, r.y, r.w, r.h);
          // compressed and written while the next tiles are rendered (at most 8 in flight)
          const job: Promise<void> = encodeRgbPng(r.w, r.h, rgb)
            .then((png) => writeFile(tileFile(li, col, row), png).then(() => png.byteLength))
            .then((n) => {
              tiles++;
              bytes += n;
              options.onProgress?.(tiles / totalTiles);
            })
            .finally(() => pending.delete(job));
          job.catch(() => undefined); // its error is taken up by the race or Promise.all below
          pending.add(job);
          if (pending.size >= 8) await Promise.race(pending);
        }
      }
      await Promise.all(pending); // the finer level is complete before a coarser one is made from it
    }
    const xml = deepZoomDescriptor({ width: W, height: H, tileSize, overlap, format: 'png' });
    await writeFile(join(tmp, basename(path)), xml);
    bytes += Buffer.byteLength(xml);
    throwIfAborted(options.signal);
    await rename(join(tmp, filesName), join(parent, filesName));
    movedFiles = true;
    await rename(join(tmp, basename(path)), path);
    await rm(tmp, { recursive: true, force: true });
  } catch (err) {
    await Promise.allSettled(pending);
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (movedFiles) await rm(join(parent, filesName), { recursive: true, force: true }).catch(() => undefined);
    if (isFocalError(err)) throw err;
    if (options.signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled', {}, { cause: err });
    throw new FocalError('E_IO', `cannot write Deep Zoom tiles ${path}: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  return { dzi: path, filesDir: join(parent, filesName), width: W, height: H, tileSize, overlap, format: 'png', levels, tiles, bytes, display, fromSource: fromSourceLevels.sort((a, b) => a - b) };
}

/**
 * One whole Deep Zoom level as interleaved 8-bit RGB, put together from its tiles (without their
 * overlap): a small level serves as a static picture of what the viewer shows.
 */
export async function readDeepZoomLevel(filesDir: string, level: DeepZoomLevel, tileSize: number, overlap: number): Promise<Uint8Array> {
  const out = new Uint8Array(level.width * level.height * 3);
  for (let row = 0; row < level.rows; row++) {
    for (let col = 0; col < level.columns; col++) {
      const file = join(filesDir, String(level.level), `${col}_${row}.png`);
      const png = (await fastPng()).decode(await readFile(file));
      const r = deepZoomTileRect(level, col, row, tileSize, overlap);
      if (png.width !== r.w || png.height !== r.h || png.channels !== 3) throw new FocalError('E_FORMAT', `${file}: expected a ${r.w}×${r.h} RGB tile, found ${png.width}×${png.height} with ${png.channels} channels`, { file });
      const x0 = col * tileSize;
      const y0 = row * tileSize;
      const x1 = Math.min(level.width, x0 + tileSize);
      const y1 = Math.min(level.height, y0 + tileSize);
      for (let y = y0; y < y1; y++) {
        const from = ((y - r.y) * r.w + (x0 - r.x)) * 3;
        out.set((png.data as Uint8Array).subarray(from, from + (x1 - x0) * 3), (y * level.width + x0) * 3);
      }
    }
  }
  return out;
}
