import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { FocalError, inspectTiff, isFocalError, isTiffPath, openTiffImage, type ImageLevel, type Stack } from '../../core/index.js';
import { createHost } from '../host.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

/**
 * `focal info <file>`: what the reader sees. Its warnings (interrupted acquisition, missing split
 * file, pages of another series or size skipped, …) are in the JSON with --json; in text mode each
 * is printed on stderr as `focal: warning: <file>: <message>` and listed under `warnings:`.
 */
export async function infoCommand(file: string, opts: { json?: boolean }, globals: GlobalOptions): Promise<void> {
  if (await viaPluginReader(file, opts, globals)) return;
  const info = await inspectTiff(file);
  // resolution levels and tiling, from the lazy reader (it reads SubIFDs; inspectTiff describes planes)
  // (a damaged pyramid must not hide what the planes hold: its error becomes a warning)
  let levels: ImageLevel[] = [];
  try {
    const lazy = await openTiffImage(file);
    levels = [...lazy.levels];
    await lazy.close();
  } catch (err) {
    if (!isFocalError(err)) throw err;
    info.warnings.push(`${file}: resolution levels unreadable: ${err.message}`);
  }
  if (opts.json) {
    printJsonLine({ ...info, levels });
    return;
  }
  const cal = info.calibration;
  const lines = [
    `${file}`,
    `  format:      ${info.format}${info.bigTiff ? ' (BigTIFF)' : ''}`,
    `  size:        ${info.width} × ${info.height} px, c=${info.sizeC} z=${info.sizeZ} t=${info.sizeT} (${info.pageCount} pages)`,
    `  pixel type:  ${info.dtype}${info.rgb ? ' RGB' : ''}`,
    `  pixel size:  ${cal.pixelWidthUm !== undefined ? `${fmt(cal.pixelWidthUm)} × ${fmt(cal.pixelHeightUm ?? cal.pixelWidthUm)} µm` : 'uncalibrated'}`,
  ];
  if (cal.zStepUm !== undefined) lines.push(`  z step:      ${fmt(cal.zStepUm)} µm`);
  if (cal.timeStepS !== undefined) lines.push(`  time step:   ${fmt(cal.timeStepS)} s`);
  if (info.channelNames.length) lines.push(`  channels:    ${info.channelNames.join(', ')}`);
  lines.push(`  compression: ${info.compression}${info.tiled ? ', tiled' : ''}`);
  const block = (l: ImageLevel): string => (l.tiled ? `tiles ${l.blockWidth}×${l.blockHeight}` : `strips of ${l.blockHeight} rows`);
  if (levels.length > 0) lines.push(`  levels:      ${levels.length}`);
  for (const [k, l] of levels.entries()) lines.push(`    ${k}: ${l.width} × ${l.height} px, ${block(l)}`);
  for (const [k, v] of Object.entries(info.metadata ?? {})) {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    lines.push(`  ${k}: ${s.length > 200 ? `${s.slice(0, 200)}…` : s}`);
  }
  // the reader's warnings start with the name of the file they are about; any other gets the path given
  const names = new Set([basename(file), ...info.files.map((f) => basename(f))]);
  const warnings = info.warnings.map((w) => ([...names].some((n) => w.startsWith(`${n}: `)) ? w : `${file}: ${w}`));
  if (warnings.length > 0) {
    lines.push('  warnings:');
    for (const w of warnings) lines.push(`    - ${w}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const w of warnings) process.stderr.write(`focal: warning: ${w}\n`);
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

/**
 * A dataset folder, or a file that is not a TIFF, is read by the plugin reader that takes it
 * (`registry.readerFor`: by extension, or a folder by its entries) and its size, pixel type and
 * calibration printed. False when it is a file no reader takes: the TIFF reader then says what
 * is wrong with it. A folder no reader recognises is an error naming the readers there are.
 */
async function viaPluginReader(path: string, opts: { json?: boolean }, globals: GlobalOptions): Promise<boolean> {
  const isFolder = (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
  if (!isFolder && isTiffPath(path)) return false;
  const host = await createHost(globals, { json: opts.json });
  const found = await host.registry.readerFor(path);
  if (!found) {
    if (!isFolder) return false;
    const folderReaders = host.registry.readers().filter(({ reader }) => reader.folder).map(({ pluginId, reader }) => `${pluginId}.${reader.id} (${reader.folder!.contains.join(', ')})`);
    throw new FocalError('E_FORMAT', `${path} is a folder that no reader recognises${folderReaders.length ? `; dataset-folder readers: ${folderReaders.join('; ')}` : ' (no plugin contributes a dataset-folder reader)'}`, { file: path });
  }
  const warnings: string[] = [];
  // a reader that opens lazily tells sizes, levels and chunking without reading pixels
  const lazy = found.reader.openLazy ? await found.reader.openLazy(path, { onWarning: (m) => warnings.push(m) }) : undefined;
  if (lazy) await lazy.close();
  const s: Omit<Stack, 'planes' | 'kind'> = lazy ?? (await found.reader.open(path, { onWarning: (m) => warnings.push(m) }));
  const levels = lazy ? [...lazy.levels] : undefined;
  const info = { ...infoOfStack(path, `${found.pluginId}.${found.reader.id}`, s, warnings), ...(levels ? { levels, metadata: lazy!.metadata } : {}) };
  if (opts.json) {
    printJsonLine(info);
    return true;
  }
  const cal = s.calibration;
  const lines = [
    path,
    `  reader:      ${info.reader} (${found.reader.description})`,
    `  size:        ${s.width} × ${s.height} px, c=${s.sizeC} z=${s.sizeZ} t=${s.sizeT}`,
    `  pixel type:  ${s.dtype}${s.rgb ? ' RGB' : ''}`,
    `  pixel size:  ${cal.pixelWidthUm !== undefined ? `${fmt(cal.pixelWidthUm)} × ${fmt(cal.pixelHeightUm ?? cal.pixelWidthUm)} µm` : 'uncalibrated'}`,
  ];
  if (cal.zStepUm !== undefined) lines.push(`  z step:      ${fmt(cal.zStepUm)} µm`);
  if (cal.timeStepS !== undefined) lines.push(`  time step:   ${fmt(cal.timeStepS)} s`);
  if (s.channelNames.length) lines.push(`  channels:    ${s.channelNames.join(', ')}`);
  if (levels) {
    // chunks (or tiles) of each level: the x/y block, and the full chunk shape where the format has one (OME-Zarr)
    const zarrLevels = (lazy as { layout?: { axes: string[]; levels: { path: string; chunks: number[] }[] } }).layout;
    lines.push(`  levels:      ${levels.length}`);
    for (const [k, l] of levels.entries()) {
      const z = zarrLevels?.levels[k];
      lines.push(`    ${k}: ${l.width} × ${l.height} px, ${l.tiled ? `chunks ${l.blockWidth}×${l.blockHeight}` : `strips of ${l.blockHeight} rows`}${z ? ` (${z.path}: ${zarrLevels!.axes.join(' ')} chunk ${z.chunks.join('×')})` : ''}`);
    }
    for (const [k, v] of Object.entries(lazy!.metadata)) {
      const t = typeof v === 'string' ? v : JSON.stringify(v);
      lines.push(`  ${k}: ${t.length > 200 ? `${t.slice(0, 200)}…` : t}`);
    }
  }
  if (warnings.length) lines.push('  warnings:', ...warnings.map((w) => `    - ${w}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const w of warnings) process.stderr.write(`focal: warning: ${path}: ${w}\n`);
  return true;
}

function infoOfStack(file: string, reader: string, s: Omit<Stack, 'planes' | 'kind'>, warnings: string[]) {
  return {
    file, reader, width: s.width, height: s.height, sizeC: s.sizeC, sizeZ: s.sizeZ, sizeT: s.sizeT,
    dtype: s.dtype, rgb: s.rgb, calibration: s.calibration, channelNames: s.channelNames, warnings,
  };
}
