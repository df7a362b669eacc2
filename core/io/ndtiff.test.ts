import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planeIndex } from '../data/stack.js';
import { writeNdTiffDataset } from '../testing/micromanager.js';
import { readNdTiffDataset } from './ndtiff.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'focal-ndtiff-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('readNdTiffDataset', () => {
  it('reads channels × z of every time point as one stack with its calibration', async () => {
    writeNdTiffDataset(root, { times: 3, z: 2, channels: ['DAPI', 'FITC'] });
    const s = await readNdTiffDataset(root);
    expect([s.width, s.height, s.dtype, s.sizeC, s.sizeZ, s.sizeT]).toEqual([6, 4, 'uint16', 2, 2, 3]);
    expect(s.channelNames).toEqual(['DAPI', 'FITC']);
    expect(s.calibration).toMatchObject({ pixelWidthUm: 0.5, pixelHeightUm: 0.5, zStepUm: 2 });
    for (let t = 0; t < 3; t++) for (let c = 0; c < 2; c++) for (let z = 0; z < 2; z++) expect(s.planes[planeIndex(s, c, z, t)]![0]).toBe(1000 * t + 100 * c + z);
  });

  it('warns about an index that is not closed, and refuses several stage positions naming them', async () => {
    writeNdTiffDataset(join(root, 'open'), { closed: false });
    const warnings: string[] = [];
    expect((await readNdTiffDataset(join(root, 'open'), { onWarning: (m) => warnings.push(m) })).sizeZ).toBe(2);
    expect(warnings).toEqual([expect.stringMatching(/NDTiff\.index is not closed .* reading the 4 planes it lists/)]);
    writeNdTiffDataset(join(root, 'multi'), { positions: 2 });
    await expect(readNdTiffDataset(join(root, 'multi'))).rejects.toThrow(/multi: the dataset has axes besides channel, z and time \(position; 2 stacks: .*position000.*\); focal watch/);
  });
});
