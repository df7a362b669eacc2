import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStack } from '../data/stack.js';
import { writeTiff } from '../io/tiff/write.js';

/**
 * The start of an NDTiff stack file as Micro-Manager writes it: the 24-byte header (TIFF magic,
 * NDTiff magic and version, summary-metadata magic and length) and the summary JSON after it.
 */
export function ndTiffHeader(summaryMetadata: Record<string, unknown>): { header: Buffer; summary: Buffer } {
  const summary = Buffer.from(JSON.stringify(summaryMetadata));
  const header = Buffer.alloc(24);
  header.write('II', 0, 'latin1');
  header.writeUInt16LE(42, 2);
  header.writeUInt32LE(483729, 8);
  header.writeUInt32LE(3, 12);
  header.writeUInt32LE(2355492, 16);
  header.writeUInt32LE(summary.length, 20);
  return { header, summary };
}

/**
 * Writes a small NDTiff dataset as Micro-Manager does (for tests): one `<name>_NDTiffStack.tif`
 * with the summary header, uint16 planes appended, and `NDTiff.index` listing them. Pixel value
 * of plane (t, c, z): 1000·t + 100·c + z. `closed: false` leaves the index zero-padded.
 */
export function writeNdTiffDataset(
  folder: string,
  options: { width?: number; height?: number; channels?: string[]; z?: number; times?: number; positions?: number; closed?: boolean; pixelSizeUm?: number; zStepUm?: number } = {},
): void {
  const { width = 6, height = 4, channels = ['DAPI', 'FITC'], z = 2, times = 1, positions = 1, closed = true, pixelSizeUm = 0.5, zStepUm = 2 } = options;
  mkdirSync(folder, { recursive: true });
  const { header, summary } = ndTiffHeader({ PixelSize_um: pixelSizeUm, 'z-step_um': zStepUm });
  const tifName = 'acq_NDTiffStack.tif';
  const tif = join(folder, tifName);
  writeFileSync(tif, Buffer.concat([header, summary]));
  const entries: Buffer[] = [];
  let offset = 24 + summary.length;
  for (let t = 0; t < times; t++) {
    for (let p = 0; p < positions; p++) {
      for (let zi = 0; zi < z; zi++) {
        for (const [ci, c] of channels.entries()) {
          const px = Buffer.alloc(width * height * 2);
          for (let i = 0; i < width * height; i++) px.writeUInt16LE(1000 * t + 100 * ci + zi, 2 * i);
          appendFileSync(tif, px);
          const axes = Buffer.from(JSON.stringify({ channel: c, z: zi, time: t, ...(positions > 1 ? { position: p } : {}) }));
          const name = Buffer.from(tifName);
          const entry = Buffer.alloc(4 + axes.length + 4 + name.length + 32);
          let q = entry.writeUInt32LE(axes.length, 0);
          q += axes.copy(entry, q);
          q = entry.writeUInt32LE(name.length, q);
          q += name.copy(entry, q);
          for (const v of [offset, width, height, 1, 0, 0, 0, 0]) q = entry.writeUInt32LE(v, q);
          entries.push(entry);
          offset += px.length;
        }
      }
    }
  }
  const index = Buffer.concat(entries);
  writeFileSync(join(folder, 'NDTiff.index'), closed ? index : Buffer.concat([index, Buffer.alloc(4096)]));
}

/** Writes a Micro-Manager img_* folder (for tests): img_channel<c>_position<p>_time<t>_z<z>.tif 3×2 uint16 planes of value 1000·t + 100·c + z (`skip`: a name left out), and metadata.txt. */
export async function writeMmImgFolder(folder: string, sizes: { c: number; z: number; t: number; positions?: number; skip?: string }): Promise<void> {
  mkdirSync(folder, { recursive: true });
  for (let p = 0; p < (sizes.positions ?? 1); p++) {
    for (let t = 0; t < sizes.t; t++) {
      for (let z = 0; z < sizes.z; z++) {
        for (let c = 0; c < sizes.c; c++) {
          const name = `img_channel${String(c).padStart(3, '0')}_position${String(p).padStart(3, '0')}_time${String(t).padStart(9, '0')}_z${String(z).padStart(3, '0')}.tif`;
          if (name === sizes.skip) continue;
          await writeTiff(join(folder, name), createStack({ width: 3, height: 2, dtype: 'uint16', planes: [new Uint16Array(6).fill(1000 * t + 100 * c + z)] }));
        }
      }
    }
  }
  writeFileSync(join(folder, 'metadata.txt'), JSON.stringify({ Summary: { Channels: sizes.c, Slices: sizes.z, Frames: sizes.t, ChNames: ['DAPI', 'GFP'].slice(0, sizes.c), 'z-step_um': -0.5, PixelSize_um: 0.1625 } }));
}
