import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack, readTiff, writeTiff } from '../../core/index.js';
import { assembleImgFolder, classify, type PlaneCache } from './datasets.js';

const root = mkdtempSync(join(tmpdir(), 'focal-img-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Micro-Manager img_* folder: 1 channel × 2 z × 1 t of 8×6 uint16 planes, and the given metadata.txt text. */
async function imgFolder(name: string, metadata: string): Promise<string> {
  const acq = join(root, 'in', name);
  mkdirSync(acq, { recursive: true });
  writeFileSync(join(acq, 'metadata.txt'), metadata);
  for (let z = 0; z < 2; z++) {
    await writeTiff(join(acq, `img_channel000_position000_time000000000_z00${z}.tif`), createStack({ width: 8, height: 6, dtype: 'uint16', planes: [new Uint16Array(48).fill(10 + z)] }));
  }
  return acq;
}

async function assemble(acq: string) {
  const ref = classify(join(root, 'in'), join(acq, 'img_channel000_position000_time000000000_z000.tif'))!;
  expect(ref.kind).toBe('img-folder');
  const dest = join(root, 'out', `${ref.outputBase}.tif`);
  const cache: PlaneCache = new Map();
  const { warnings } = await assembleImgFolder(ref, cache, dest);
  expect(warnings).toEqual([]);
  const s = await readTiff(dest);
  expect([s.sizeC, s.sizeZ, s.sizeT, s.planes[1][0]]).toEqual([1, 2, 1, 11]);
  return s.calibration;
}

describe('Micro-Manager img_* folder calibration (metadata.txt)', () => {
  it("takes the pixel size from the Summary's PixelSize_um and the z step from z-step_um", async () => {
    const acq = await imgFolder('summary', JSON.stringify({ Summary: { Channels: 1, Slices: 2, Frames: 1, PixelSize_um: 0.65, 'z-step_um': 0.5 } }, null, 2));
    const cal = await assemble(acq);
    expect(cal.pixelWidthUm).toBeCloseTo(0.65, 6);
    expect(cal.pixelHeightUm).toBeCloseTo(0.65, 6);
    expect(cal.zStepUm).toBeCloseTo(0.5, 6);
  });

  it("falls back to the per-frame PixelSizeUm when the Summary's is 0 (uncalibrated when the acquisition started); string values and a negative z step", async () => {
    const acq = await imgFolder('frames', JSON.stringify({
      Summary: { Channels: '1', Slices: '2', Frames: '1', PixelSize_um: 0, 'z-step_um': '-1.5' },
      'FrameKey-0-0-0': { FileName: 'img_channel000_position000_time000000000_z000.tif', PixelSizeUm: 0.108, ZPositionUm: 10 },
      'FrameKey-0-0-1': { FileName: 'img_channel000_position000_time000000000_z001.tif', PixelSizeUm: 0.108, ZPositionUm: 8.5 },
    }, null, 2));
    const cal = await assemble(acq);
    expect(cal.pixelWidthUm).toBeCloseTo(0.108, 6);
    expect(cal.pixelHeightUm).toBeCloseTo(0.108, 6);
    expect(cal.zStepUm).toBeCloseTo(1.5, 6);
  });

  it('reads them from a metadata.txt still being written (not yet valid JSON)', async () => {
    const text = JSON.stringify({ Summary: { Channels: 1, Slices: 2, Frames: 1, 'z-step_um': 2, PixelSize_um: 1.25e-1 }, 'FrameKey-0-0-0': { PixelSizeUm: 0.125 } }, null, 2);
    const acq = await imgFolder('partial', text.slice(0, text.indexOf('"FrameKey-0-0-0"') + 30));
    const cal = await assemble(acq);
    expect(cal.pixelWidthUm).toBeCloseTo(0.125, 6);
    expect(cal.zStepUm).toBeCloseTo(2, 6);
  });

  it('leaves the pixel size uncalibrated when metadata.txt has none', async () => {
    const acq = await imgFolder('none', JSON.stringify({ Summary: { Channels: 1, Slices: 2, Frames: 1 } }));
    const cal = await assemble(acq);
    expect(cal.pixelWidthUm).toBeUndefined();
    expect(cal.zStepUm).toBeUndefined();
  });
});
