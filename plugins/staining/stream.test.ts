/**
 * The staining ops streamed tile by tile with every channel of a tile together (issue 21,
 * TilingPlan.channels 'together'): with the channels' statistics given, pieces that start on
 * the network's tile step and reach one network tile past what they keep run exactly the whole
 * field's tiles, so the streamed H&E equals the whole-field run.
 */
import { describe, expect, it } from 'vitest';
import { createStack, planeMeanStd, runOp, stackRegionSource, tiledOperation, type PixelArray, type RegionSource, type Stack } from '../../core/index.js';
import { renderLungAutofluorescence, renderLungTissue } from '../../core/specimens.js';
import { cascade } from './ops/cascade.js';
import { virtualHe } from './ops/virtual-he.js';

const W = 560;
const H = 500;

function field(): Stack {
  const t = renderLungTissue({ width: W, height: H, pixelSizeUm: 0.1625 }, {}, 11);
  const [dapi, txred] = renderLungAutofluorescence(t, { defocusUm: 1, seed: 5 });
  return createStack({ width: W, height: H, dtype: 'float32', sizeC: 2, planes: [dapi, txred], channelNames: ['DAPI', 'TxRed'], calibration: { pixelWidthUm: 0.1625 } });
}

async function statistics(src: RegionSource): Promise<{ channelMean: number[]; channelStd: number[] }> {
  const s = [await planeMeanStd(src, 64, undefined, { c: 0 }), await planeMeanStd(src, 64, undefined, { c: 1 })];
  return { channelMean: s.map((q) => q.mean), channelStd: s.map((q) => q.std) };
}

async function readAll(src: RegionSource, c: number): Promise<PixelArray> {
  return src.readRegion({ c, x: 0, y: 0, w: src.width, h: src.height });
}

function maxDiff(a: PixelArray, b: PixelArray): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('staining streamed with channels together (issue 21)', () => {
  it('virtual-he: declares tiling only with the statistics; tiles of 256 px give the whole-field H&E', async () => {
    const stack = field();
    const src = stackRegionSource(stack);
    expect(virtualHe.tiling?.(virtualHe.params.parse({}), { dtype: 'float32', calibration: {}, sizeC: 2 })).toBeUndefined();
    const stats = await statistics(src);
    const params = { ...stats, engine: 'onnxruntime' };
    // demo package: tiles 256 px, halo 32, multipleOf 16 → step 176; a piece reaches 256 − 32 px past what it keeps
    expect(virtualHe.tiling?.(virtualHe.params.parse(params), { dtype: 'float32', calibration: {}, sizeC: 2 })).toMatchObject({ haloPx: 224, gridPx: 176, dtype: 'uint8', channels: 'together', outputChannels: 3, outputRgb: true });
    // the budget counts its network: the session and one 256-px tile's tensors (G_VS, base 8: 196.5 floats a pixel)
    expect(virtualHe.tiling?.(virtualHe.params.parse(params), { dtype: 'float32', calibration: {}, sizeC: 2 })?.workingBytes).toBe(48 * 1024 * 1024 + 256 * 256 * 196.5 * 4);
    expect(virtualHe.tiling?.(virtualHe.params.parse(params), { dtype: 'float32', calibration: {}, sizeC: 3 })).toBeUndefined();
    const whole = (await runOp(virtualHe, { image: stack }, { engine: 'onnxruntime' })).image as Stack;
    const tiled = tiledOperation(virtualHe, src, params, { tileSize: 256 });
    expect([tiled.sizeC, tiled.rgb, tiled.dtype, tiled.channelsTogether, tiled.channelNames]).toEqual([3, true, 'uint8', true, ['R', 'G', 'B']]);
    for (let c = 0; c < 3; c++) {
      // the given statistics equal the field's own to ~1e-12: the normalised inputs round to the same float32s
      expect(maxDiff(await readAll(tiled, c), whole.planes[c])).toBeLessThanOrEqual(1);
    }
    let equal = 0;
    const t0 = await readAll(tiled, 0);
    for (let i = 0; i < t0.length; i++) if (t0[i] === whole.planes[0][i]) equal++;
    expect(equal / t0.length).toBeGreaterThan(0.999);
  }, 180_000);

  it('cascade: each output port tiles on its own (RGB H&E, and the two refocused float channels) and equals the whole field', async () => {
    const stack = field();
    const src = stackRegionSource(stack);
    const params = { ...(await statistics(src)), engine: 'onnxruntime' };
    const parsed = cascade.params.parse(params);
    expect(cascade.tiling?.(parsed, { dtype: 'float32', calibration: {}, sizeC: 2, output: 'refocused' })).toMatchObject({ output: 'refocused', outputChannels: 2, dtype: 'float32', outputRgb: false, channels: 'together' });
    // both networks (G_DR 190.125 and G_VS 196.5 floats a pixel), each with its session
    expect(cascade.tiling?.(parsed, { dtype: 'float32', calibration: {}, sizeC: 2, output: 'image' })?.workingBytes).toBe(2 * 48 * 1024 * 1024 + 256 * 256 * (190.125 + 196.5) * 4);
    const whole = await runOp(cascade, { image: stack }, { engine: 'onnxruntime' });
    const he = tiledOperation(cascade, src, params, { tileSize: 320, output: 'image' });
    const ref = tiledOperation(cascade, src, params, { tileSize: 320, output: 'refocused' });
    expect([he.sizeC, he.rgb, ref.sizeC, ref.dtype, ref.rgb]).toEqual([3, true, 2, 'float32', undefined]);
    for (let c = 0; c < 3; c++) expect(maxDiff(await readAll(he, c), (whole.image as Stack).planes[c])).toBeLessThanOrEqual(1);
    for (let c = 0; c < 2; c++) expect(maxDiff(await readAll(ref, c), (whole.refocused as Stack).planes[c])).toBeLessThan(1e-4);
  }, 300_000);
});
