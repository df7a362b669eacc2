import { inspectTiff } from '../../core/index.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

export async function infoCommand(file: string, opts: { json?: boolean }, _globals: GlobalOptions): Promise<void> {
  const info = await inspectTiff(file);
  if (opts.json) {
    printJsonLine(info);
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
  for (const [k, v] of Object.entries(info.metadata ?? {})) {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    lines.push(`  ${k}: ${s.length > 200 ? `${s.slice(0, 200)}…` : s}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}
