/**
 * Dataset folders as pipeline inputs: the built-in `stack.ndtiff` and `stack.micromanager-img`
 * reader contributions (code in core/io/ndtiff.ts, core/io/mm-img-folder.ts) read by `focal run` and `focal info`, chosen by the folder's
 * entries from the built-in manifests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planeIndex, readTiff } from '../core/index.js';
import { writeMmImgFolder, writeNdTiffDataset } from '../core/testing/micromanager.js';
import { focal, tempDir } from './helpers.js';

describe('NDTiff dataset folders through the built-in reader contribution', () => {
  it('focal run reads an NDTiff folder as one c × z × t stack; focal info describes it; run.json hashes the folder', async () => {
    const dir = tempDir('focal-ndtiff-run-');
    writeNdTiffDataset(join(dir, 'acq'), { times: 2, channels: ['DAPI', 'FITC'], z: 3 });
    writeFileSync(join(dir, 'pass.json'), JSON.stringify({
      name: 'pass', inputs: { stack: { type: 'stack' } },
      nodes: { all: { op: 'stack.substack', in: { stack: 'stack' } } }, outputs: { stack: 'all.stack' },
    }));
    const r = focal(['run', 'pass.json', '--input', 'acq', '--out', 'out', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const s = await readTiff(join(dir, 'out', 'stack.tif'));
    expect([s.sizeC, s.sizeZ, s.sizeT, s.dtype]).toEqual([2, 3, 2, 'uint16']);
    expect(s.planes[planeIndex(s, 1, 2, 1)]![0]).toBe(1000 + 100 + 2);
    const record = JSON.parse(readFileSync(join(dir, 'out', 'run.json'), 'utf8')) as { inputs: { stack: { folder: boolean; files: number; sha256: string } } };
    expect(record.inputs.stack).toMatchObject({ folder: true, files: 2, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const info = focal(['info', 'acq', '--json'], { cwd: dir });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ reader: 'stack.ndtiff', width: 6, height: 4, sizeC: 2, sizeZ: 3, sizeT: 2, dtype: 'uint16', channelNames: ['DAPI', 'FITC'] });

    mkdirSync(join(dir, 'empty'));
    const none = focal(['info', 'empty'], { cwd: dir });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/empty is a folder that no reader recognises; dataset-folder readers: stack\.ndtiff \(NDTiff\.index\)/);
  }, 120_000);

  it('focal run reads a Micro-Manager img_* folder (one position) as one c × z × t stack', async () => {
    const dir = tempDir('focal-mmimg-run-');
    await writeMmImgFolder(join(dir, 'acq'), { c: 2, z: 2, t: 2 });
    writeFileSync(join(dir, 'pass.json'), JSON.stringify({
      name: 'pass', inputs: { stack: { type: 'stack' } },
      nodes: { all: { op: 'stack.substack', in: { stack: 'stack' } } }, outputs: { stack: 'all.stack' },
    }));
    const r = focal(['run', 'pass.json', '--input', 'acq', '--out', 'out', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const s = await readTiff(join(dir, 'out', 'stack.tif'));
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([2, 2, 2]);
    expect(s.planes[planeIndex(s, 1, 1, 1)]![0]).toBe(1101);
    const info = focal(['info', 'acq', '--json'], { cwd: dir });
    expect(JSON.parse(info.stdout)).toMatchObject({ reader: 'stack.micromanager-img', sizeC: 2, sizeZ: 2, sizeT: 2, channelNames: ['DAPI', 'GFP'], calibration: { zStepUm: 0.5 } });
  }, 120_000);
});
