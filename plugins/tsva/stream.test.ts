/**
 * tsva.slide streamed (OperationDef.stream): the mosaic made band by band from shots read one
 * tile at a time equals the in-memory mosaic, the per-tile table is the same, and a cancelled
 * read stops with E_CANCELLED.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isFocalError, readTableFile, readTiff, stackRegionSource, testContext, type OpStream, type PixelArray, type RegionSource, type Stack, type Table } from '../../core/index.js';
import { slide } from './ops/slide.js';

const sample = (name: string): string => fileURLToPath(new URL(`./samples/${name}`, import.meta.url));

/** Counts the tile reads of a source (two z planes × channels per tile refocused). */
function counting(src: RegionSource): { src: RegionSource; reads: () => number } {
  let reads = 0;
  return {
    src: {
      ...src,
      readRegion(r, o) {
        reads++;
        return src.readRegion(r, o);
      },
    },
    reads: () => reads,
  };
}

async function streamOf(shots: RegionSource, positions: Table, params: Record<string, unknown> = {}): Promise<OpStream> {
  const s = await slide.stream!(testContext(), { shots, positions }, slide.params.parse({ model: 'tsva-demo', ...params }));
  expect(s).toBeDefined();
  return s!;
}

describe('tsva.slide streamed band by band', () => {
  it('equals the in-memory mosaic (bands of 48 rows across 128-px tiles), refocusing each tile once; the table is the same', async () => {
    const shots = await readTiff(sample('tsva-slide-shots.tif'));
    const positions = await readTableFile(sample('tsva-slide-positions.csv'));
    const whole = await slide.run(testContext(), { shots, positions }, slide.params.parse({ model: 'tsva-demo' }));
    const mosaic = whole.mosaic as Stack;
    const { src, reads } = counting(stackRegionSource(shots));
    const s = await streamOf(src, positions);
    try {
      const img = s.images.mosaic;
      expect([img.width, img.height, img.sizeC, img.dtype, img.rgb, img.channelsTogether]).toEqual([mosaic.width, mosaic.height, 3, 'uint8', true, true]);
      expect(img.calibration.pixelWidthUm).toBeCloseTo(0.325, 9);
      const planes: PixelArray[] = [0, 1, 2].map(() => new Uint8Array(img.width * img.height));
      // as the pyramid writer reads: one band of every channel, top to bottom
      for (let y = 0; y < img.height; y += 48) {
        const h = Math.min(48, img.height - y);
        for (let c = 0; c < 3; c++) planes[c].set(await img.readRegion({ c, x: 0, y, w: img.width, h }), y * img.width);
      }
      for (let c = 0; c < 3; c++) expect(Buffer.from(planes[c].buffer).equals(Buffer.from(mosaic.planes[c].buffer))).toBe(true);
      // 6 tiles × 2 shots × 3 channels: every tile refocused once
      expect(reads()).toBe(36);
      const { tiles } = await s.finish!();
      expect(reads()).toBe(36);
      const strip = (t: Table) => t.rows.map(({ seconds, ...rest }) => (expect(seconds).toBeGreaterThan(0), rest));
      expect((tiles as Table).columns).toEqual((whole.tiles as Table).columns);
      expect(strip(tiles as Table)).toEqual(strip(whole.tiles as Table));
      // a region that is not a whole band is made on its own, with the same pixels
      const part = await img.readRegion({ c: 1, x: 100, y: 90, w: 50, h: 40 });
      for (let y = 0; y < 40; y++) for (let x = 0; x < 50; x++) expect(part[y * 50 + x]).toBe(mosaic.planes[1][(90 + y) * img.width + 100 + x]);
      await expect(img.readRegion({ c: 3, x: 0, y: 0, w: 1, h: 1 })).rejects.toThrow(/channels 0–2/);
      await expect(img.readRegion({ c: 0, x: 300, y: 0, w: 100, h: 1 })).rejects.toThrow(/not inside the 352×240 px mosaic/);
    } finally {
      await s.close!();
    }
  }, 120_000);

  it('shots of another calibrated pixel size: the streamed mosaic, refocused on the model\'s grid, still equals the in-memory one; the band budget counts the resampling', async () => {
    const read = await readTiff(sample('tsva-slide-shots.tif'));
    const shots: Stack = { ...read, calibration: { ...read.calibration, pixelWidthUm: 0.25, pixelHeightUm: 0.25 } };
    const positions = await readTableFile(sample('tsva-slide-positions.csv'));
    const whole = (await slide.run(testContext(), { shots, positions }, slide.params.parse({ model: 'tsva-demo' }))).mosaic as Stack;
    const asGiven = (await slide.run(testContext(), { shots: read, positions }, slide.params.parse({ model: 'tsva-demo' }))).mosaic as Stack;
    expect(Buffer.from(whole.planes[0].buffer).equals(Buffer.from(asGiven.planes[0].buffer))).toBe(false);
    const s = await streamOf(stackRegionSource(shots), positions);
    const plain = await streamOf(stackRegionSource(read), positions);
    try {
      expect(s.bandBytes(48)).toBeGreaterThan(plain.bandBytes(48));
      const img = s.images.mosaic;
      for (let y = 0; y < img.height; y += 64) {
        const h = Math.min(64, img.height - y);
        for (let c = 0; c < 3; c++) {
          const band = await img.readRegion({ c, x: 0, y, w: img.width, h });
          expect(Buffer.from(band.buffer, band.byteOffset, band.byteLength).equals(Buffer.from(whole.planes[c].buffer, y * img.width, h * img.width))).toBe(true);
        }
      }
    } finally {
      await s.close!();
      await plain.close!();
    }
  }, 120_000);

  it('finish() alone refocuses every tile for the table; float32 output; bad input and cancellation are clear', async () => {
    const shots = await readTiff(sample('tsva-slide-shots.tif'));
    const positions = await readTableFile(sample('tsva-slide-positions.csv'));
    const s = await streamOf(stackRegionSource(shots), positions, { outputType: 'float32' });
    try {
      expect(s.images.mosaic.dtype).toBe('float32');
      const { tiles } = await s.finish!();
      expect((tiles as Table).rows.map((r) => r.tile)).toEqual([0, 1, 2, 3, 4, 5]);
      const stopped = new AbortController();
      stopped.abort();
      const err = await s.images.mosaic.readRegion({ c: 0, x: 0, y: 0, w: 352, h: 64 }, { signal: stopped.signal }).catch((e: unknown) => e);
      expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
      // budget: grows with the band, and counts the refocused tiles a band keeps
      expect(s.bandBytes(128)).toBeGreaterThan(s.bandBytes(64));
    } finally {
      await s.close!();
    }
    const odd = stackRegionSource({ ...shots, sizeZ: 11, planes: shots.planes.slice(0, 33) });
    await expect(slide.stream!(testContext(), { shots: odd, positions }, slide.params.parse({}))).rejects.toThrow(/shots: has 11 z planes; a two-shot acquisition has 2 per tile/);
    await expect(slide.stream!(testContext(), { shots: stackRegionSource(shots), positions: { ...positions, rows: positions.rows.slice(1) } }, slide.params.parse({}))).rejects.toThrow(/positions: has 5 rows but shots holds 6 tiles/);
  }, 120_000);
});
