import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FocalError, isTiffPath, openTiffImage, writeOmeZarr, writePyramidalTiff, type LazyImage } from '../../core/index.js';
import type { ConvertOptions } from '../command-options.js';
import { createHost } from '../host.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

/** Whether `out` names an OME-Zarr output (a folder). */
const isZarrOut = (out: string): boolean => /\.zarr\/?$/i.test(out);

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
 * `focal convert <in> <out.ome.tif | out.ome.zarr>`: opens the input lazily and writes a tiled
 * pyramidal OME-TIFF, or a multiscale OME-Zarr (chunks of tile size), band by band (memory ≈
 * 2 × width × tile size × bytes per pixel), atomically. Ctrl-C stops it and leaves nothing at <out>.
 */
export async function convertCommand(input: string, out: string, opts: ConvertOptions, globals: GlobalOptions): Promise<void> {
  const zarrOut = isZarrOut(out);
  if (!zarrOut && !/\.tiff?$/i.test(out)) {
    throw new FocalError('E_USAGE', `<out>: ${out}: focal convert writes pyramidal OME-TIFF or OME-Zarr; give a name ending in .ome.tif or .ome.zarr`, { field: 'out' });
  }
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
    if (zarrOut) {
      const result = await writeOmeZarr(out.replace(/\/$/, ''), image, {
        chunkSize: opts.tileSize,
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
      tileSize: opts.tileSize,
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
