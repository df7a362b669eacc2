/**
 * Channel names in the default (ImageJ-flavoured) TIFF: written as ImageJ slice labels
 * (IJMetadata `labl`, one per plane), read back by Focal and by tifffile (`imagej_metadata['Labels']`,
 * the tags ImageJ's TiffDecoder reads); a file tifffile writes with labels is read by Focal.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack } from '../../data/stack.js';
import { decodeImageJLabels, encodeImageJLabels } from './imagej.js';
import { readTiff } from './read.js';
import { writeTiff } from './write.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const tifffile = await run(PYTHON, ['-c', 'import tifffile']).then(() => true, () => false);
const d = mkdtempSync(join(tmpdir(), 'focal-ij-labels-'));
afterAll(() => rmSync(d, { recursive: true, force: true }));

function stack(names: string[], sizeZ = 3) {
  const sizeC = names.length;
  return createStack({
    width: 5,
    height: 4,
    dtype: 'uint16',
    sizeC,
    sizeZ,
    planes: Array.from({ length: sizeC * sizeZ }, (_, k) => Uint16Array.from({ length: 20 }, (_, i) => k * 100 + i)),
    channelNames: names,
    calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5 },
  });
}

describe('ImageJ slice labels (IJMetadata)', () => {
  it('encodes and decodes labels in both byte orders; other entry types before them are skipped', () => {
    for (const le of [true, false]) {
      const { byteCounts, data } = encodeImageJLabels(['DAPI', 'GFP µ', ''], le);
      expect(byteCounts).toEqual([12, 8, 10, 0]);
      expect(decodeImageJLabels(data, byteCounts, le)).toEqual(['DAPI', 'GFP µ', '']);
    }
    // an 'info' entry (2 chars) before the labels, as ImageJ orders them
    const { data: lab } = encodeImageJLabels(['a'], true);
    const buf = new Uint8Array(4 + 16 + 4 + 2);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, 0x494a494a, true);
    dv.setUint32(4, 0x696e666f, true); // 'info'
    dv.setUint32(8, 1, true);
    dv.setUint32(12, 0x6c61626c, true); // 'labl'
    dv.setUint32(16, 1, true);
    dv.setUint16(20, 'h'.charCodeAt(0), true);
    dv.setUint16(22, 'i'.charCodeAt(0), true);
    buf.set(lab.subarray(12), 24);
    expect(decodeImageJLabels(buf, [20, 4, 2], true)).toEqual(['a']);
    // garbage is ignored, never an error
    expect(decodeImageJLabels(new Uint8Array(16), [12, 4], true)).toBeUndefined();
    expect(decodeImageJLabels(buf, [20, 4, 2000], true)).toBeUndefined();
  });

  it('writes channel names into the default TIFF and reads them back; OME and RGB files get none', async () => {
    const file = join(d, 'named.tif');
    await writeTiff(file, stack(['DAPI', 'GFP']));
    const back = await readTiff(file);
    expect(back.channelNames).toEqual(['DAPI', 'GFP']);
    expect([back.sizeC, back.sizeZ]).toEqual([2, 3]);
    expect(back.planes[5][7]).toBe(507);
    // no names, no labels
    const plain = join(d, 'plain.tif');
    await writeTiff(plain, stack(['', '']));
    expect((await readTiff(plain)).channelNames).toEqual([]);
  });

  it.skipIf(!tifffile && !process.env.CI)('tifffile sees the labels ImageJ reads; Focal reads labels tifffile wrote, and not z-varying ones as channel names', async () => {
    const file = join(d, 'named-ij.tif');
    await writeTiff(file, stack(['DAPI', 'GFP & "tubulin"']));
    const script = [
      'import sys, json, numpy, tifffile',
      't = tifffile.TiffFile(sys.argv[1]); m = t.imagej_metadata',
      "print(json.dumps({'imagej': t.is_imagej, 'labels': m.get('Labels'), 'channels': m.get('channels'), 'axes': t.series[0].axes}))",
      'a = numpy.arange(2 * 2 * 4 * 5, dtype=numpy.uint8).reshape(2, 2, 4, 5)',
      "tifffile.imwrite(sys.argv[2], a, imagej=True, metadata={'axes': 'ZCYX', 'Labels': ['Cy5', 'Cy3', 'Cy5', 'Cy3']})",
      "tifffile.imwrite(sys.argv[3], a[:, 0], imagej=True, metadata={'axes': 'ZYX', 'Labels': ['z0', 'z1']})",
    ].join('\n');
    const fromPython = join(d, 'tifffile-labels.tif');
    const zLabels = join(d, 'tifffile-zlabels.tif');
    const { stdout } = await run(PYTHON, ['-c', script, file, fromPython, zLabels]);
    const r = JSON.parse(stdout) as { imagej: boolean; labels: string[]; channels: number; axes: string };
    expect(r).toEqual({ imagej: true, labels: ['DAPI', 'GFP & "tubulin"', 'DAPI', 'GFP & "tubulin"', 'DAPI', 'GFP & "tubulin"'], channels: 2, axes: 'ZCYX' });
    expect((await readTiff(fromPython)).channelNames).toEqual(['Cy5', 'Cy3']);
    const z = await readTiff(zLabels);
    expect(z.sizeZ).toBe(2);
    expect(z.channelNames).toEqual([]);
  });
});
