import { resolve } from 'node:path';
import { FocalError, openTiffImage, writePyramidalTiff } from '../../core/index.js';
import type { ConvertOptions } from '../command-options.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

/**
 * `focal convert <in> <out.ome.tif>`: opens the input lazily and writes a tiled pyramidal
 * OME-TIFF band by band (memory ≈ 2 × width × tile size × bytes per pixel), atomically.
 * Ctrl-C stops it and leaves nothing at <out>.
 */
export async function convertCommand(input: string, out: string, opts: ConvertOptions, _globals: GlobalOptions): Promise<void> {
  if (!/\.tiff?$/i.test(out)) {
    throw new FocalError('E_USAGE', `<out>: ${out}: focal convert writes pyramidal OME-TIFF; give a name ending in .ome.tif (OME-Zarr output is not implemented yet)`, { field: 'out' });
  }
  if (resolve(input) === resolve(out)) throw new FocalError('E_USAGE', `<out>: ${out} is the input file; write to another name`, { field: 'out' });
  const warnings: string[] = [];
  const image = await openTiffImage(input, { onWarning: (w) => warnings.push(w) });
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
  try {
    const result = await writePyramidalTiff(out, image, {
      tileSize: opts.tileSize,
      levels: opts.levels,
      compression: opts.compression,
      bigTiff: opts.bigtiff ? true : undefined,
      signal: ac.signal,
      onProgress: (f) => {
        const pct = Math.floor(f * 100);
        if (pct === shown) return;
        shown = pct;
        if (opts.json) printJsonLine({ event: 'progress', fraction: f });
        else if (tty) process.stderr.write(`\rconverting ${pct}%`);
      },
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
