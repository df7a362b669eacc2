import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, runOp, type Stack, type Table, testContext } from '../../core/index.js';
import { bornWolfPsf } from '../../core/imaging.js';
import { convolve, richardsonLucy } from './deconvolve.js';
import { deconvolutionPlugin } from './index.js';
import { landweberOp } from './ops/landweber.js';
import { richardsonLucyOp } from './ops/richardson-lucy.js';

const W = 48;
const H = 40;
const K = 9;
const psfPlane = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1, sizePx: K });

function truthPlane(seed: number): Float32Array {
  const p = new Float32Array(W * H).fill(20);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if ((x - 12 - seed) ** 2 + (y - 15) ** 2 < 25 || (x - 33) ** 2 + (y - 25 - seed) ** 2 < 16) p[y * W + x] = 600;
  return p;
}

function blurredStack(sizeC = 1, sizeZ = 1): { image: Stack; truth: Stack } {
  const count = sizeC * sizeZ;
  const truths = Array.from({ length: count }, (_, i) => truthPlane(i));
  const blurred = truths.map((t) => Uint16Array.from(convolve(t, { width: W, height: H }, psfPlane, { width: K, height: K }), (v) => Math.round(v)));
  const calibration = { pixelWidthUm: 0.325, pixelHeightUm: 0.325 };
  return {
    image: createStack({ width: W, height: H, dtype: 'uint16', sizeC, sizeZ, planes: blurred, calibration, channelNames: sizeC === 2 ? ['DAPI', 'FITC'] : [] }),
    truth: createStack({ width: W, height: H, dtype: 'float32', sizeC, sizeZ, planes: truths, calibration }),
  };
}

const psfStack = createStack({ width: K, height: K, dtype: 'float32', planes: [psfPlane] });

describe('deconvolution ops', () => {
  it('the plugin exposes both ops', () => {
    expect(deconvolutionPlugin.operations.map((o) => o.id)).toEqual(['deconvolution.richardson-lucy', 'deconvolution.landweber']);
  });

  it('richardson-lucy: uint16 in, float32 out equal to the numeric function; calibration and channels kept; progress per iteration', async () => {
    const { image } = blurredStack(2, 1);
    const ctx = testContext();
    const out = await runOp(richardsonLucyOp, { image, psf: psfStack }, { iterations: 4 }, ctx);
    const res = out.image as Stack;
    expect(res.dtype).toBe('float32');
    expect(res.channelNames).toEqual(['DAPI', 'FITC']);
    expect(res.calibration.pixelWidthUm).toBe(0.325);
    expect(out.stats).toBeUndefined();
    const direct = richardsonLucy(image.planes[1], { width: W, height: H }, psfPlane, { width: K, height: K }, { iterations: 4 }).image;
    expect([...res.planes[1]]).toEqual([...direct]);
    expect(ctx.progressCalls).toHaveLength(8);
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
    // input untouched
    expect(image.dtype).toBe('uint16');
  });

  it('with a reference, reports iteration, psnr and ssim per iteration (c, z, t columns for several volumes)', async () => {
    const one = blurredStack(1, 1);
    const out = await runOp(richardsonLucyOp, { image: one.image, psf: psfStack, reference: one.truth }, { iterations: 5 });
    const stats = out.stats as Table;
    expect(stats.columns).toEqual(['iteration', 'psnr', 'ssim']);
    expect(stats.rows.map((r) => r.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(stats.rows[4].psnr as number).toBeGreaterThan(stats.rows[0].psnr as number);
    const two = blurredStack(1, 2);
    const out2 = await runOp(landweberOp, { image: two.image, psf: psfStack, reference: two.truth }, { iterations: 3 });
    const stats2 = out2.stats as Table;
    expect(stats2.columns).toEqual(['c', 'z', 't', 'iteration', 'psnr', 'ssim']);
    expect(stats2.rows).toHaveLength(6);
    expect(stats2.rows[3]).toMatchObject({ c: 0, z: 1, t: 0, iteration: 1 });
  });

  it('3D: a PSF with several z planes deconvolves each z-stack as a volume', async () => {
    const { image } = blurredStack(1, 6);
    const psf3 = createStack({ width: K, height: K, dtype: 'float32', sizeZ: 3, planes: [psfPlane.map((v) => v * 0.25), psfPlane, psfPlane.map((v) => v * 0.25)] });
    const res = (await runOp(landweberOp, { image, psf: psf3 }, { iterations: 3, step: 1.2 })).image as Stack;
    expect(res.sizeZ).toBe(6);
    expect(res.dtype).toBe('float32');
    expect(Math.max(...res.planes[2])).toBeGreaterThan(Math.max(...image.planes[2]));
  });

  it('bad inputs and params give E_PORT / E_PARAMS naming the field', async () => {
    const { image, truth } = blurredStack(1, 1);
    const err = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      return isFocalError(e) ? `${e.code}:${String(e.details.field)}` : `other:${String(e)}`;
    };
    const big = createStack({ width: 64, height: 64, dtype: 'float32', planes: [new Float32Array(64 * 64).fill(1)] });
    expect(await err(runOp(richardsonLucyOp, { image, psf: big }, {}))).toBe('E_PORT:psf');
    const zero = createStack({ width: 3, height: 3, dtype: 'float32', planes: [new Float32Array(9)] });
    expect(await err(runOp(richardsonLucyOp, { image, psf: zero }, {}))).toBe('E_PORT:psf');
    const negative = createStack({ width: 3, height: 3, dtype: 'float32', planes: [new Float32Array(9).fill(-1)] });
    expect(await err(runOp(landweberOp, { image, psf: negative }, {}))).toBe('E_PORT:psf');
    const nanPlane = new Float32Array(W * H).fill(5);
    nanPlane[7] = NaN;
    const nanImage = createStack({ width: W, height: H, dtype: 'float32', planes: [nanPlane] });
    expect(await err(runOp(richardsonLucyOp, { image: nanImage, psf: psfStack }, {}))).toBe('E_PORT:image');
    const small = createStack({ width: 10, height: 10, dtype: 'float32', planes: [new Float32Array(100)] });
    expect(await err(runOp(richardsonLucyOp, { image, psf: psfStack, reference: small }, {}))).toBe('E_PORT:reference');
    expect(richardsonLucyOp.params.safeParse({ iterations: 0 }).success).toBe(false);
    expect(richardsonLucyOp.params.safeParse({ iterations: -2 }).success).toBe(false);
    expect(landweberOp.params.safeParse({ step: 2 }).success).toBe(false);
    expect(richardsonLucyOp.params.parse({})).toEqual({ iterations: 50, boundary: 'reflect-taper', memoryBudgetMb: 1024, tvLambda: 0 });
    expect(landweberOp.params.parse({})).toEqual({ iterations: 50, boundary: 'reflect-taper', memoryBudgetMb: 1024, step: 1, nonNegative: true });
    // params that bypass the schema meet the numeric code's own E_ARGUMENT (the executor maps it to E_PARAMS)
    expect(await err(Promise.resolve().then(() => richardsonLucyOp.run(testContext(), { image, psf: psfStack }, { iterations: -1, boundary: 'zero', memoryBudgetMb: 10, tvLambda: 0 })))).toBe('E_ARGUMENT:iterations');
    expect(await err(Promise.resolve().then(() => landweberOp.run(testContext(), { image, psf: psfStack }, { iterations: 1, boundary: 'zero', memoryBudgetMb: 10, step: 3, nonNegative: true })))).toBe('E_ARGUMENT:step');
    expect(await err(Promise.resolve().then(() => richardsonLucyOp.run(testContext(), { image, psf: psfStack }, { iterations: 1, boundary: 'zero', memoryBudgetMb: 10, tvLambda: 1 })))).toBe('E_ARGUMENT:tvLambda');
    void truth;
  });

  it('is cancellable between iterations', async () => {
    const { image } = blurredStack(1, 1);
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: (f) => f >= 0.2 && controller.abort() });
    await expect(runOp(richardsonLucyOp, { image, psf: psfStack }, { iterations: 10 }, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(ctx.progressCalls).toHaveLength(2);
  });
});
