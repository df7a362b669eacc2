/**
 * A tiled run says what its op says about the input once: an op run piece by piece repeats
 * its warnings (a pixel-size check) for every piece, and the run's log shows each once.
 */
import { describe, expect, it } from 'vitest';
import { createStack, defineOperation, MemoryLogger, stackRegionSource, tiledOperation, z } from '../index.js';
import { pixelSizeMismatch } from '../ml.js';

const warns = defineOperation({
  id: 'test.warns',
  title: 'warns',
  description: 'a point op that warns about its input on every run',
  inputs: { image: { type: 'stack' } },
  outputs: { image: { type: 'stack' } },
  params: z.strictObject({}),
  tiling: () => ({ haloPx: 0, dtype: 'uint8' }),
  run(ctx, { image }) {
    ctx.log.warn('image: the same warning from every piece');
    ctx.log.info(`piece of ${image.width}×${image.height}`);
    return { image };
  },
});

describe('tiledOperation: the log', () => {
  it('passes each message once, however many pieces say it', async () => {
    const log = new MemoryLogger();
    const stack = createStack({ width: 100, height: 70, dtype: 'uint8', planes: [new Uint8Array(100 * 70)] });
    const src = tiledOperation(warns, stackRegionSource(stack), {}, { tileSize: 32, log });
    await src.readRegion({ x: 0, y: 0, w: 100, h: 70 });
    const messages = log.records.map((r) => `${r.level}: ${r.message}`);
    expect(messages.filter((m) => m.startsWith('warn'))).toEqual(['warn: image: the same warning from every piece']);
    // different messages all pass (pieces of 32×32, 4×32, 32×6 and 4×6 px)
    expect(new Set(messages.filter((m) => m.startsWith('info'))).size).toBe(messages.filter((m) => m.startsWith('info')).length);
    expect(messages.filter((m) => m.startsWith('info')).length).toBe(4);
  });
});

describe('pixelSizeMismatch', () => {
  it("names the input and both sizes when they differ by more than 10 %; nothing within it or without a calibration", () => {
    const model = { name: 'demo', pixelSizeUm: 0.325 };
    expect(pixelSizeMismatch(undefined, model, 'image')).toBeUndefined();
    expect(pixelSizeMismatch({}, model, 'image')).toBeUndefined();
    expect(pixelSizeMismatch({ pixelWidthUm: 0.35 }, model, 'image')).toBeUndefined();
    expect(pixelSizeMismatch({ pixelWidthUm: 0.65 }, model, 'image')).toMatch(/^image: 0\.65 µm pixels.*demo was trained on 0\.325 µm pixels.*0\.50×.*resample/);
    expect(pixelSizeMismatch({ pixelHeightUm: 0.1 }, model, 'shots')).toMatch(/^shots: 0\.1 µm/);
  });
});
