import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, runOp, stackRegionSource, tiledOperation, type Stack } from '../../../core/index.js';
import { colourDeconvolution, rgbToGrey } from '../colour.js';
import { normaliseContrast } from '../contrast.js';
import { subtractBackground } from '../background.js';
import { colourDeconvolutionOp, normaliseContrastOp, rgbToGreyOp, subtractBackgroundOp, tiledSaturatedLimits } from './preprocess.js';

function rgbStack(sizeZ = 1): Stack {
  const n = 4 * 3;
  const planes = Array.from({ length: 3 * sizeZ }, (_, k) => Uint8Array.from({ length: n }, (_, i) => (i * 37 + k * 91) % 256));
  return createStack({ width: 4, height: 3, dtype: 'uint8', sizeC: 3, sizeZ, rgb: true, planes, calibration: { pixelWidthUm: 0.5 } });
}

const grey = () => createStack({ width: 16, height: 16, dtype: 'uint8', planes: [Uint8Array.from({ length: 256 }, (_, i) => 30 + (i % 16) * 5 + (i === 100 ? 100 : 0))] });

describe('cellcount pre-processing ops', () => {
  it('rgb-to-grey: one uint8 channel per z, equal to rgbToGrey', async () => {
    const s = rgbStack(2);
    const out = (await runOp(rgbToGreyOp, { stack: s }, { weighted: true })).stack as Stack;
    expect(out.sizeC).toBe(1);
    expect(out.sizeZ).toBe(2);
    expect(out.rgb).toBe(false);
    expect(out.calibration).toEqual({ pixelWidthUm: 0.5 });
    expect([...out.planes[1]]).toEqual([...rgbToGrey(s.planes[3], s.planes[4], s.planes[5], { weighted: true })]);
  });

  it('colour-deconvolution: density stack with stain names and the haematoxylin image', async () => {
    const s = rgbStack();
    const out = await runOp(colourDeconvolutionOp, { stack: s }, { vectors: 'H-DAB' });
    const stains = out.stains as Stack;
    const h = out.haematoxylin as Stack;
    const ref = colourDeconvolution(s.planes[0], s.planes[1], s.planes[2], 'H-DAB');
    expect(stains.dtype).toBe('float32');
    expect(stains.channelNames).toEqual(['Haematoxylin', 'DAB', 'Residual']);
    expect(stains.rgb).toBe(false);
    expect([...stains.planes[1]]).toEqual([...ref.density[1]]);
    expect(h.dtype).toBe('uint8');
    expect([...h.planes[0]]).toEqual([...ref.transmittance[0]]);
    const t = (await runOp(colourDeconvolutionOp, { stack: s }, { stainsAs: 'transmittance' })).stains as Stack;
    expect(t.dtype).toBe('uint8');
    expect(colourDeconvolutionOp.params.safeParse({ vectors: [[1, 2]] }).success).toBe(false);
  });

  it('subtract-background and normalise-contrast apply the plain functions per plane', async () => {
    const g = grey();
    const bg = (await runOp(subtractBackgroundOp, { stack: g }, { radiusPx: 3 })).stack as Stack;
    expect([...bg.planes[0]]).toEqual([...subtractBackground(g.planes[0], 16, 16, { radiusPx: 3, lightBackground: false, smooth: true, createBackground: false })]);
    const nc = (await runOp(normaliseContrastOp, { stack: g }, {})).stack as Stack;
    expect([...nc.planes[0]]).toEqual([...normaliseContrast(g.planes[0], { saturatedPercent: 0.35 })]);
    expect(Math.max(...nc.planes[0])).toBe(255);
  });

  it('wrong colour model gives E_PORT with a clear message', async () => {
    for (const op of [subtractBackgroundOp, normaliseContrastOp]) {
      const err = await runOp(op, { stack: rgbStack() }, {}).catch((e: unknown) => e);
      expect(isFocalError(err) && err.code).toBe('E_PORT');
      expect((err as Error).message).toMatch(/RGB colour image/);
    }
    for (const op of [rgbToGreyOp, colourDeconvolutionOp]) {
      const err = await runOp(op, { stack: grey() }, {}).catch((e: unknown) => e);
      expect(isFocalError(err) && err.code).toBe('E_PORT');
      expect((err as Error).message).toMatch(/must be an RGB colour image/);
    }
  });

  it('normalise-contrast on a plane read tile by tile: the limits measured over tiles (measurePlane) make the tiled result equal the whole-plane one', async () => {
    const W = 203;
    const H = 131;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const u16 = Uint16Array.from({ length: W * H }, () => Math.floor(rnd() ** 3 * 4000));
    const f32 = Float32Array.from(u16, (v, i) => (i % 53 === 0 ? NaN : v / 9 - 40));
    const u8 = Uint8Array.from(u16, (v) => v % 200);
    for (const planes of [[u8], [u16], [f32], [new Float32Array(W * H).fill(2.5)], [new Float32Array(W * H).fill(NaN)]]) {
      const stack = createStack({ width: W, height: H, dtype: planes[0] instanceof Uint8Array ? 'uint8' : planes[0] instanceof Uint16Array ? 'uint16' : 'float32', planes });
      const params = normaliseContrastOp.params.parse({ saturatedPercent: 1.5 });
      expect(normaliseContrastOp.tiling!(params, { dtype: stack.dtype, calibration: {} })).toBeUndefined(); // needs the plane's limits first
      const measured = normaliseContrastOp.params.parse(await normaliseContrastOp.measurePlane!(params, stackRegionSource(stack), { tileSize: 48 }));
      expect(measured.limits).toHaveLength(2);
      expect(normaliseContrastOp.tiling!(measured, { dtype: stack.dtype, calibration: {} })).toEqual({ haloPx: 0, dtype: stack.dtype });
      const whole = ((await runOp(normaliseContrastOp, { stack }, params)).stack as Stack).planes[0];
      const src = tiledOperation(normaliseContrastOp, stackRegionSource(stack), measured, { tileSize: 48 });
      const tiled = await src.readRegion({ x: 0, y: 0, w: W, h: H });
      expect(Buffer.from(tiled.buffer, tiled.byteOffset, tiled.byteLength).equals(Buffer.from(whole.buffer, whole.byteOffset, whole.byteLength))).toBe(true);
    }
    // given limits stretch every plane alike; high <= low leaves it as it is; a bad pair is refused naming the field
    const g = grey();
    const fixed = ((await runOp(normaliseContrastOp, { stack: g }, { limits: [30, 130] })).stack as Stack).planes[0];
    expect(fixed[0]).toBe(0);
    expect([fixed[1], fixed[3], fixed[100]]).toEqual([Math.floor(5 * 2.55), Math.floor(15 * 2.55), 255]);
    expect([...((await runOp(normaliseContrastOp, { stack: g }, { limits: [9, 9] })).stack as Stack).planes[0]]).toEqual([...g.planes[0]]);
    await expect(runOp(normaliseContrastOp, { stack: g }, { limits: [1] })).rejects.toThrow(/limits/);
    await expect(tiledSaturatedLimits(stackRegionSource(createStack({ width: 2, height: 2, dtype: 'uint8', sizeZ: 2, planes: [new Uint8Array(4), new Uint8Array(4)] })), 1, 8)).rejects.toThrow(/one plane, got 2/);
  });
});
