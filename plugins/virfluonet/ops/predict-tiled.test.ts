/**
 * virfluonet.predict streamed tile by tile (issue 21): the package's fixed channel maps normalise
 * a piece as the whole field, so it always declares tiling with every channel of a tile together
 * (2 named channels in → the target channel out); its pieces run the whole field's network tiles.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createStack, createWorkerPool, runOp, stackRegionSource, tiledOperation, type Stack } from '../../../core/index.js';
import { predict } from './predict.js';
import { generatorActivationFloats } from '../model.js';

const W = 640;
const H = 512;

function field(): Stack {
  // three named channels, the model's two (TxRed, Cy3) not first: picked by name in every piece
  const plane = (k: number) => Uint16Array.from({ length: W * H }, (_, i) => {
    const x = i % W;
    const y = Math.floor(i / W);
    return Math.round(600 + 400 * Math.sin((x + 13 * k) / (7 + k)) * Math.cos((y - 5 * k) / (9 + k)) + 300 * Math.exp(-(((x - 150) / 40) ** 2 + ((y - 120 + 20 * k) / 30) ** 2)) + ((x * 7919 + y * 104729 + k) % 53));
  });
  return createStack({ width: W, height: H, dtype: 'uint16', sizeC: 3, planes: [plane(0), plane(1), plane(2)], channelNames: ['DAPI', 'Cy3', 'TxRed'] });
}

describe('virfluonet.predict tiled (issue 21)', () => {
  // the workers import the compiled op (dist/plugins/virfluonet/ops/predict.js): build first
  const pool = createWorkerPool({ threads: 2 });
  afterAll(() => pool.destroy());

  it('declares channels together (1 channel out, named after the target); tiles of 64 px equal the whole field', async () => {
    const stack = field();
    const params = { engine: 'onnxruntime', outputType: 'float32' };
    // demo package: tiles 128 px, halo 16, multipleOf 32 → step 64; a piece reaches 128 − 16 px past what it keeps
    // and counts the network's session and one 128-px tile's tensors (base 16, 5 levels, 2 channels)
    const workingBytes = 48 * 1024 * 1024 + 128 * 128 * generatorActivationFloats({ inputChannels: 2, baseChannels: 16, levels: 5, discriminatorChannels: 8 }) * 4;
    expect(predict.tiling?.(predict.params.parse(params), { dtype: 'uint16', calibration: {}, sizeC: 3 })).toEqual({ haloPx: 112, gridPx: 64, dtype: 'float32', channels: 'together', outputChannels: 1, outputChannelNames: ['Cy5'], workingBytes });
    const whole = ((await runOp(predict, { image: stack }, params)).image as Stack).planes[0];
    const tiled = tiledOperation(predict, stackRegionSource(stack), params, { tileSize: 64 });
    expect([tiled.sizeC, tiled.dtype, tiled.channelNames, tiled.channelsTogether]).toEqual([1, 'float32', ['Cy5'], true]);
    const got = await tiled.readRegion({ x: 0, y: 0, w: W, h: H });
    let max = 0;
    let peak = 0;
    for (let i = 0; i < got.length; i++) {
      max = Math.max(max, Math.abs(got[i] - whole[i]));
      peak = Math.max(peak, Math.abs(whole[i]));
    }
    expect(peak).toBeGreaterThan(0);
    // measured (2026-12-05, demo cp-cy5 package): max difference 0 of a 619-ADU peak
    expect(max / peak).toBeLessThan(1e-5);
  }, 120_000);

  it('on the worker pool (pieces of every channel moved to the workers, band after band with read-ahead): the same result', async () => {
    const stack = field();
    const params = { engine: 'onnxruntime', outputType: 'float32' };
    const whole = ((await runOp(predict, { image: stack }, params)).image as Stack).planes[0];
    const src = tiledOperation(predict, stackRegionSource(stack), params, { tileSize: 128, workers: { pool, module: new URL('./predict.ts', import.meta.url).href, exportName: 'predict' } });
    const got = new Float32Array(W * H);
    for (let y = 0; y < H; y += 128) got.set(await src.readRegion({ x: 0, y, w: W, h: Math.min(128, H - y) }), y * W);
    let max = 0;
    for (let i = 0; i < got.length; i++) max = Math.max(max, Math.abs(got[i] - whole[i]));
    expect(max).toBeLessThan(1e-3);
  }, 120_000);
});
