/**
 * deepr.autofocus tile by tile (issue 21): with the whole plane's mean and σ passed as params
 * (what a streamed `focal run` does), `tiledOperation` equals the whole-plane run up to the
 * seams the network's receptive field sees beyond the package's 64-px halo. Measured here on
 * the bundled demo model; the bound below is that measurement with a margin, not a wish.
 */
import { describe, expect, it } from 'vitest';
import { createStack, MemoryLogger, planeMeanStd, runOp, stackRegionSource, testContext, tiledOperation, type Stack } from '../../../core/index.js';
import { standardise } from '../../../core/imaging.js';
import { autofocus } from './autofocus.js';
import { deeprGeneratorOptions } from '../model.js';
import { unetActivationFloats } from '../../../core/ml.js';
const W = 256;
const H = 224;

function field(): Stack {
  const d = new Uint16Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d[y * W + x] = Math.round(2000 + 900 * Math.sin(x / 6) * Math.cos(y / 7) + 400 * Math.sin((x * y) / 900) + ((x * 7919 + y * 104729) % 97));
  return createStack({ width: W, height: H, dtype: 'uint16', planes: [d] });
}

describe('deepr.autofocus tiled (issue 21)', () => {
  it('declares tiling only with the plane statistics; tiles of 128 px match the whole plane to the measured tolerance', async () => {
    const stack = field();
    expect(autofocus.tiling?.(autofocus.params.parse({}), { dtype: 'uint16', calibration: {} })).toBeUndefined();
    const { mean, std } = await planeMeanStd(stackRegionSource(stack), 100);
    const own = standardise(stack.planes[0]);
    expect(mean).toBeCloseTo(own.mean, 6);
    expect(std / own.std).toBeCloseTo(1, 9);
    const params = { planeMean: mean, planeStd: std, engine: 'onnxruntime' };
    // with the network's session and one 512-px tile's tensors (the demo: base 8, 5 levels)
    const workingBytes = 48 * 1024 * 1024 + 512 * 512 * unetActivationFloats(deeprGeneratorOptions({ baseChannels: 8, levels: 5 })) * 4;
    expect(autofocus.tiling?.(autofocus.params.parse(params), { dtype: 'uint16', calibration: {} })).toEqual({ haloPx: 64, dtype: 'float32', workingBytes });
    const whole = ((await runOp(autofocus, { image: stack }, params)).image as Stack).planes[0];
    const tiled = await tiledOperation(autofocus, stackRegionSource(stack), params, { tileSize: 128 }).readRegion({ x: 0, y: 0, w: W, h: H });
    let maxAll = 0;
    let sumSq = 0;
    for (let i = 0; i < whole.length; i++) {
      const d = Math.abs(whole[i] - tiled[i]) / std;
      maxAll = Math.max(maxAll, d);
      sumSq += d * d;
    }
    const rms = Math.sqrt(sumSq / whole.length);
    console.log(`deepr.autofocus tiled (128 px, halo 64) vs whole, in units of the plane's σ: max ${maxAll.toExponential(2)}, rms ${rms.toExponential(2)}`);
    // measured (2026-12-05, demo model): 384×320 max 0.22σ, rms 0.018σ; 256×224 max 0.31σ, rms 0.029σ (at the seams)
    expect(maxAll).toBeLessThan(0.5);
    expect(rms).toBeLessThan(0.05);
    expect(maxAll).toBeGreaterThan(0); // not equal: the receptive field reaches past the 64-px halo
  }, 120_000);

  it("warns once when the image's calibrated pixel size is not the model's, in memory and tile by tile (not once per piece)", async () => {
    // 1 µm pixels, over 2× the model's, fed as they are (resample 'off'): a warning
    const stack = { ...field(), calibration: { pixelWidthUm: 1, pixelHeightUm: 1 } };
    const params = { planeMean: 2000, planeStd: 500, engine: 'onnxruntime', resample: 'off' };
    const c = testContext();
    await runOp(autofocus, { image: stack }, params, c);
    const expected = [expect.stringMatching(/^image: 1 µm pixels.*deepr-demo was trained on 0\.325 µm pixels.*0\.33× the pixels it learned/)];
    expect(c.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(expected);
    const log = new MemoryLogger();
    await tiledOperation(autofocus, stackRegionSource(stack), params, { tileSize: 128, log }).readRegion({ x: 0, y: 0, w: W, h: H });
    expect(log.records.filter((r) => r.level === 'warn').map((r) => r.message)).toEqual(expected);
  }, 120_000);
});
