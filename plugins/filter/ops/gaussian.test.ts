import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, type Stack } from '../../../core/index.js';
import { gaussianBlur2d } from '../../../core/imaging.js';
import { runOp, testContext } from '../../../core/index.js';
import { gaussian } from './gaussian.js';

function spotStack(dtype: 'uint8' | 'uint16' | 'float32', calibration = {}): Stack {
  const w = 21;
  const h = 21;
  const make = (v: number) => {
    const p = dtype === 'uint8' ? new Uint8Array(w * h) : dtype === 'uint16' ? new Uint16Array(w * h) : new Float32Array(w * h);
    p[10 * w + 10] = v;
    return p;
  };
  return createStack({ width: w, height: h, dtype, sizeZ: 2, planes: [make(200), make(100)], calibration, channelNames: ['GFP'], metadata: { m: 'x' } });
}

describe('filter.gaussian', () => {
  it('blurs each plane; float32 results equal gaussianBlur2d', async () => {
    const s = spotStack('float32');
    const ctx = testContext();
    const out = (await runOp(gaussian, { stack: s }, { sigmaPx: 1.2 }, ctx)).stack as Stack;
    expect(out.dtype).toBe('float32');
    expect([...out.planes[1]]).toEqual([...gaussianBlur2d(s.planes[1], 21, 21, 1.2, 1.2)]);
    expect(out.planes[0][10 * 21 + 10]).toBeCloseTo(200 / (2 * Math.PI * 1.44), 0);
    expect(ctx.progressCalls.map((c) => c.fraction)).toEqual([0.5, 1]);
    expect(out.channelNames).toEqual(['GFP']);
    expect(out.metadata).toEqual({ m: 'x' });
    // input untouched
    expect(s.planes[0][10 * 21 + 10]).toBe(200);
    expect(s.planes[0][10 * 21 + 11]).toBe(0);
  });

  it('rounds and clamps integer results to the input type', async () => {
    const s = spotStack('uint8');
    const out = (await runOp(gaussian, { stack: s }, { sigmaPx: 1 })).stack as Stack;
    expect(out.dtype).toBe('uint8');
    const exact = gaussianBlur2d(s.planes[0], 21, 21, 1, 1);
    for (let i = 0; i < exact.length; i++) expect(out.planes[0][i]).toBe(Math.floor(exact[i] + 0.5));
    expect(out.planes[0][10 * 21 + 10]).toBe(32); // centre weight of the sampled σ = 1 kernel ≈ 0.3989, 0.3989² · 200 ≈ 31.8
  });

  it('converts sigmaUm with the pixel size (anisotropic pixels too)', async () => {
    const s = spotStack('float32', { pixelWidthUm: 0.5, pixelHeightUm: 0.25 });
    const out = (await runOp(gaussian, { stack: s }, { sigmaUm: 0.5 })).stack as Stack;
    expect([...out.planes[0]]).toEqual([...gaussianBlur2d(s.planes[0], 21, 21, 1, 2)]);
    const square = spotStack('float32', { pixelWidthUm: 0.25 });
    const out2 = (await runOp(gaussian, { stack: square }, { sigmaUm: 0.5, truncate: 2 })).stack as Stack;
    expect([...out2.planes[0]]).toEqual([...gaussianBlur2d(square.planes[0], 21, 21, 2, 2, { truncate: 2 })]);
  });

  it('sigmaUm without calibration fails with E_PARAMS explaining why', async () => {
    const err = await runOp(gaussian, { stack: spotStack('uint16') }, { sigmaUm: 1 }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_PARAMS');
    expect((err as Error).message).toMatch(/sigmaUm: the stack has no pixel size calibration/);
    expect((err as { details: { field: string } }).details.field).toBe('sigmaUm');
  });

  it('requires exactly one of sigmaPx and sigmaUm', async () => {
    expect(gaussian.params.safeParse({}).success).toBe(false);
    const both = gaussian.params.safeParse({ sigmaPx: 1, sigmaUm: 1 });
    expect(both.success).toBe(false);
    expect(both.error!.issues[0].path).toEqual(['sigmaPx']);
    expect(gaussian.params.safeParse({ sigmaPx: 0 }).success).toBe(false);
    expect(gaussian.params.parse({ sigmaPx: 2 })).toEqual({ sigmaPx: 2, truncate: 4 });
    // run checks too (params not parsed by the schema)
    await expect(Promise.resolve().then(() => gaussian.run(testContext(), { stack: spotStack('uint8') }, { truncate: 4 }))).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'sigmaPx' } });
  });

  it('checks cancellation between planes', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    await expect(runOp(gaussian, { stack: spotStack('uint8') }, { sigmaPx: 1 }, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(ctx.progressCalls).toHaveLength(1);
  });
});
