import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { FocalError, isTiffPath, openTiffImage, writeDeepZoom, writeOmeZarr, writePyramidalTiff, type LazyImage } from '../../core/index.js';
import type { ConvertOptions } from '../command-options.js';
import { createHost } from '../host.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

/** Whether `out` names an OME-Zarr output (a folder). */
const isZarrOut = (out: string): boolean => /\.zarr\/?$/i.test(out);
/** Whether `out` names a Deep Zoom descriptor (tiles in `<name>_files/` beside it). */
const isDziOut = (out: string): boolean => /\.dzi$/i.test(out);

/** `--window 100:2000,0:500` → per channel [lo, hi] (an empty entry: automatic). */
export function parseWindow(text: string): ([number, number] | undefined)[] {
  return text.split(',').map((part, c) => {
    if (part.trim() === '') return undefined;
    const m = /^\s*(-?[\d.eE+-]+)\s*:\s*(-?[\d.eE+-]+)\s*$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m ? Number(m[2]) : NaN;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      throw new FocalError('E_USAGE', `--window: channel ${c}: '${part}' is not lo:hi with lo < hi (e.g. --window 100:4000,0:800)`, { field: '--window' });
    }
    return [lo, hi];
  });
}

/**
 * The input opened lazily: a TIFF by Focal's reader, anything else (an OME-Zarr folder) by the
 * plugin reader that takes it, when that reader can open lazily.
 */
async function openInput(input: string, globals: GlobalOptions, onWarning: (w: string) => void): Promise<LazyImage> {
  const isFolder = (await stat(input).catch(() => undefined))?.isDirectory() ?? false;
  if (!isFolder && isTiffPath(input)) return openTiffImage(input, { onWarning });
  const host = await createHost(globals, { quiet: true });
  const found = await host.registry.readerFor(input);
  if (!found) {
    if (!isFolder) return openTiffImage(input, { onWarning }); // the TIFF reader says what is wrong with it
    throw new FocalError('E_FORMAT', `${input} is a folder that no reader recognises (OME-Zarr folders hold zarr.json or .zattrs)`, { file: input });
  }
  if (!found.reader.openLazy) {
    throw new FocalError('E_UNSUPPORTED', `${input}: reader ${found.pluginId}.${found.reader.id} reads whole stacks only; focal convert needs a reader that opens region by region (TIFF, OME-Zarr)`, { file: input });
  }
  return found.reader.openLazy(input, { onWarning });
}

/**
 * `focal convert <in> <out.ome.tif | out.ome.zarr | out.dzi>`: opens the input lazily and writes a tiled
 * pyramidal OME-TIFF, or a multiscale OME-Zarr (chunks of tile size), band by band (memory ≈
 * 2 × width × tile size × bytes per pixel), or Deep Zoom tiles of one plane for a web viewer
 * (core/io/deepzoom.ts: tile by tile from the nearest level), atomically. Ctrl-C stops it and leaves nothing at <out>.
 */
export async function convertCommand(input: string, out: string, opts: ConvertOptions, globals: GlobalOptions): Promise<void> {
  const zarrOut = isZarrOut(out);
  const dziOut = isDziOut(out);
  if (!zarrOut && !dziOut && !/\.tiff?$/i.test(out)) {
    throw new FocalError('E_USAGE', `<out>: ${out}: focal convert writes pyramidal OME-TIFF, OME-Zarr or Deep Zoom tiles; give a name ending in .ome.tif, .ome.zarr or .dzi`, { field: 'out' });
  }
  if (!dziOut && opts.tileSize !== undefined && (opts.tileSize % 16 !== 0 || opts.tileSize < 16)) {
    throw new FocalError('E_USAGE', '--tile-size: must be a multiple of 16 from 16 to 4096 (256 or 512 are usual) for OME-TIFF and OME-Zarr', { field: '--tile-size' });
  }
  if (!dziOut) {
    for (const [f, v] of [['--overlap', opts.overlap], ['--window', opts.window], ['--z', opts.z], ['--t', opts.t]] as const) {
      if (v !== undefined) throw new FocalError('E_USAGE', `${f}: applies to Deep Zoom output (.dzi), not ${zarrOut ? 'OME-Zarr' : 'OME-TIFF'}`, { field: f });
    }
  }
  if (dziOut && (opts.levels !== undefined || opts.bigtiff)) throw new FocalError('E_USAGE', `${opts.levels !== undefined ? '--levels' : '--bigtiff'}: does not apply to Deep Zoom output (its levels go down to 1 × 1 px)`, { field: opts.levels !== undefined ? '--levels' : '--bigtiff' });
  const window = opts.window !== undefined ? parseWindow(opts.window) : undefined;
  if (resolve(input) === resolve(out)) throw new FocalError('E_USAGE', `<out>: ${out} is the input; write to another name`, { field: 'out' });
  if (zarrOut && opts.bigtiff) throw new FocalError('E_USAGE', '--bigtiff: applies to OME-TIFF output, not OME-Zarr', { field: '--bigtiff' });
  const warnings: string[] = [];
  const image = await openInput(input, globals, (w) => warnings.push(w));
  for (const w of warnings) {
    if (opts.json) printJsonLine({ event: 'warning', message: w });
    else process.stderr.write(`focal: warning: ${w}\n`);
  }
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  const tty = !opts.json && !opts.quiet && process.stderr.isTTY;
  let shown = -1;
  const started = Date.now();
  const onProgress = (f: number): void => {
    const pct = Math.floor(f * 100);
    if (pct === shown) return;
    shown = pct;
    if (opts.json) printJsonLine({ event: 'progress', fraction: f });
    else if (tty) process.stderr.write(`\rconverting ${pct}%`);
  };
  try {
    if (dziOut) {
      const result = await writeDeepZoom(out, image, { tileSize: opts.tileSize ?? 254, overlap: opts.overlap, window, z: opts.z, t: opts.t, signal: ac.signal, onProgress });
      if (tty) process.stderr.write('\r\x1b[K');
      const seconds = (Date.now() - started) / 1000;
      const { levels, display, ...rest } = result;
      if (opts.json) printJsonLine({ event: 'done', ...rest, levels: levels.length, display, seconds });
      else if (!opts.quiet) {
        const ranges = display.ranges.map(([lo, hi]) => `${lo}:${hi}`).join(',');
        process.stdout.write(`${out}: Deep Zoom, ${levels.length} levels (0–${levels.length - 1}, top ${result.width}×${result.height}), tiles ${result.tileSize} + overlap ${result.overlap}, ${result.tiles} PNG tiles in ${basename(result.filesDir)}/, ${display.mode}${ranges ? ` (window ${ranges})` : ''}, ${result.bytes} bytes in ${seconds.toFixed(1)} s\n`);
      }
      return;
    }
    if (zarrOut) {
      const result = await writeOmeZarr(out.replace(/\/$/, ''), image, {
        chunkSize: opts.tileSize ?? 512,
        levels: opts.levels,
        compression: opts.compression,
        zarrFormat: opts.zarrFormat as 2 | 3,
        signal: ac.signal,
        onProgress,
      });
      if (tty) process.stderr.write('\r\x1b[K');
      const seconds = (Date.now() - started) / 1000;
      if (opts.json) printJsonLine({ event: 'done', ...result, seconds });
      else if (!opts.quiet) {
        const levels = result.levels.map((l) => `${l.width}×${l.height}`).join(', ');
        process.stdout.write(`${out}: OME-Zarr (Zarr v${result.zarrFormat}, NGFF ${result.ngffVersion}), ${result.levels.length} levels (${levels}), chunks ${result.chunkSize}×${result.chunkSize}, ${opts.compression}, ${result.chunks} chunks, ${result.bytes} bytes in ${seconds.toFixed(1)} s\n`);
      }
      return;
    }
    const result = await writePyramidalTiff(out, image, {
      tileSize: opts.tileSize ?? 512,
      levels: opts.levels,
      compression: opts.compression,
      bigTiff: opts.bigtiff ? true : undefined,
      signal: ac.signal,
      onProgress,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const seconds = (Date.now() - started) / 1000;
    if (opts.json) {
      printJsonLine({ event: 'done', ...result, seconds });
    } else if (!opts.quiet) {
      const levels = result.levels.map((l) => `${l.width}×${l.height}`).join(', ');
      process.stdout.write(`${out}: ${result.levels.length} levels (${levels}), tiles ${result.tileSize}×${result.tileSize}, ${opts.compression}${result.bigTiff ? ', BigTIFF' : ''}, ${result.bytes} bytes in ${seconds.toFixed(1)} s\n`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    await image.close();
  }
}
