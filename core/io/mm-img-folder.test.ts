import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planeIndex } from '../data/stack.js';
import { writeMmImgFolder } from '../testing/micromanager.js';
import { readMmImgFolder } from './mm-img-folder.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'focal-mmimg-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('readMmImgFolder', () => {
  it('reads one position as a c × z × t stack with names and calibration from metadata.txt', async () => {
    await writeMmImgFolder(root, { c: 2, z: 3, t: 2 });
    const s = await readMmImgFolder(root);
    expect([s.sizeC, s.sizeZ, s.sizeT, s.width, s.height]).toEqual([2, 3, 2, 3, 2]);
    expect(s.channelNames).toEqual(['DAPI', 'GFP']);
    expect(s.calibration).toMatchObject({ zStepUm: 0.5, pixelWidthUm: 0.1625 });
    for (let t = 0; t < 2; t++) for (let c = 0; c < 2; c++) for (let z = 0; z < 3; z++) expect(s.planes[planeIndex(s, c, z, t)]![0]).toBe(1000 * t + 100 * c + z);
  });

  it('keeps the complete leading time points with a warning when planes are missing; refuses several positions', async () => {
    await writeMmImgFolder(join(root, 'cut'), { c: 2, z: 2, t: 3, skip: 'img_channel001_position000_time000000002_z001.tif' });
    const warnings: string[] = [];
    const s = await readMmImgFolder(join(root, 'cut'), { onWarning: (m) => warnings.push(m) });
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([2, 2, 2]);
    expect(warnings).toEqual([expect.stringMatching(/cut: 1 of 12 planes of the 2×2×3 \(c×z×t\) grid are missing; read 2×2×2/)]);
    await writeMmImgFolder(join(root, 'multi'), { c: 1, z: 1, t: 1, positions: 2 });
    await expect(readMmImgFolder(join(root, 'multi'))).rejects.toThrow(/multi: the folder holds 2 stage positions \(0, 1\); focal watch/);
  });
});
