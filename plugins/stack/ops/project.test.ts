import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, planeIndex, type Stack } from '../../../core/index.js';
import { runOp, testContext } from '../../../core/index.js';
import { project, projectPlanes, projectStack } from './project.js';

/** c=2, z=3, t=2 uint16 stack, 2×1 px; pixel value encodes (c, z, t, x). */
function hyperstack(): Stack {
  const planes: Uint16Array[] = [];
  for (let t = 0; t < 2; t++) for (let z = 0; z < 3; z++) for (let c = 0; c < 2; c++) planes.push(Uint16Array.of(1000 * c + 100 * t + 10 * z, 1000 * c + 100 * t + 10 * z + 1));
  return createStack({
    width: 2, height: 1, dtype: 'uint16', sizeC: 2, sizeZ: 3, sizeT: 2, planes,
    calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5, zStepUm: 2, timeStepS: 10 },
    channelNames: ['DAPI', 'GFP'], metadata: { source: 'test' },
  });
}

describe('projectPlanes', () => {
  const planes = [Uint16Array.of(2, 10, 7), Uint16Array.of(4, 10, 1), Uint16Array.of(9, 10, 4)];

  it('max keeps the dtype', () => {
    const out = projectPlanes(planes, 'max');
    expect(out).toBeInstanceOf(Uint16Array);
    expect([...out]).toEqual([9, 10, 7]);
  });

  it('sum and mean give float32', () => {
    const sum = projectPlanes(planes, 'sum');
    const mean = projectPlanes(planes, 'mean');
    expect(sum).toBeInstanceOf(Float32Array);
    expect([...sum]).toEqual([15, 30, 12]);
    expect([...mean]).toEqual([5, 10, 4]);
  });

  it('sd is the sample standard deviation (n − 1)', () => {
    const sd = projectPlanes(planes, 'sd');
    expect(sd).toBeInstanceOf(Float32Array);
    // pixel 0: values 2, 4, 9, mean 5, squared deviations 9 + 1 + 16 = 26, / (3 − 1) = 13
    expect(sd[0]).toBeCloseTo(Math.sqrt(13), 5);
    expect(sd[1]).toBe(0);
    // pixel 2: 7, 1, 4, mean 4, deviations 9 + 9 + 0 = 18, / 2 = 9
    expect(sd[2]).toBeCloseTo(3, 6);
  });

  it('sd of a single plane is 0 (as ImageJ)', () => {
    expect([...projectPlanes([Uint8Array.of(5, 200)], 'sd')]).toEqual([0, 0]);
  });

  it('sd stays accurate for large values with small spread', () => {
    const big = [Float32Array.of(1e6 + 1), Float32Array.of(1e6 + 2), Float32Array.of(1e6 + 3)];
    expect(projectPlanes(big, 'sd')[0]).toBeCloseTo(1, 6);
  });

  it('max ignores NaN unless every value is NaN', () => {
    const out = projectPlanes([Float32Array.of(NaN, NaN, 1), Float32Array.of(3, NaN, NaN)], 'max');
    expect(out[0]).toBe(3);
    expect(Number.isNaN(out[1])).toBe(true);
    expect(out[2]).toBe(1);
  });

  it('rejects planes of different lengths', () => {
    expect(() => projectPlanes([new Uint8Array(2), new Uint8Array(3)], 'max')).toThrow(/plane 1 has 3 pixels/);
  });
});

describe('projectStack', () => {
  it('projects along z per channel and frame, dropping zStepUm', () => {
    const s = hyperstack();
    const out = projectStack(s, 'z', 'max');
    expect([out.sizeC, out.sizeZ, out.sizeT]).toEqual([2, 1, 2]);
    for (let t = 0; t < 2; t++) for (let c = 0; c < 2; c++) expect([...out.planes[planeIndex(out, c, 0, t)]]).toEqual([1000 * c + 100 * t + 20, 1000 * c + 100 * t + 21]);
    expect(out.calibration).toEqual({ pixelWidthUm: 0.5, pixelHeightUm: 0.5, timeStepS: 10 });
    expect(out.channelNames).toEqual(['DAPI', 'GFP']);
    expect(out.metadata).toEqual({ source: 'test' });
  });

  it('projects along c (channel names dropped) and t (timeStepS dropped)', () => {
    const s = hyperstack();
    const byC = projectStack(s, 'c', 'mean');
    expect([byC.sizeC, byC.sizeZ, byC.sizeT, byC.dtype]).toEqual([1, 3, 2, 'float32']);
    expect(byC.channelNames).toEqual([]);
    expect([...byC.planes[planeIndex(byC, 0, 2, 1)]]).toEqual([500 + 100 + 20, 500 + 100 + 21]);
    expect(byC.calibration.zStepUm).toBe(2);

    const byT = projectStack(s, 't', 'sum');
    expect([byT.sizeC, byT.sizeZ, byT.sizeT]).toEqual([2, 3, 1]);
    expect([...byT.planes[planeIndex(byT, 1, 1, 0)]]).toEqual([2 * 1010 + 100, 2 * 1011 + 100]);
    expect(byT.calibration.timeStepS).toBeUndefined();
    expect(byT.calibration.zStepUm).toBe(2);
  });
});

describe('stack.project', () => {
  it('defaults to a max projection along z', async () => {
    const s = createStack({ width: 2, height: 1, dtype: 'uint8', sizeZ: 3, planes: [Uint8Array.of(1, 9), Uint8Array.of(5, 2), Uint8Array.of(3, 4)] });
    const out = await runOp(project, { stack: s });
    const stack = out.stack as Stack;
    expect(stack.dtype).toBe('uint8');
    expect([...stack.planes[0]]).toEqual([5, 9]);
    const image = out.image as { kind: string; data: Uint8Array; width: number };
    expect(image.kind).toBe('image');
    expect([...image.data]).toEqual([5, 9]);
  });

  it('omits the image output when the result has several planes', async () => {
    const out = await runOp(project, { stack: hyperstack() }, { method: 'sd' });
    expect(out.image).toBeUndefined();
    const stack = out.stack as Stack;
    expect(stack.dtype).toBe('float32');
    // z values 0, 10, 20 → sample sd 10
    expect([...stack.planes[0]].map((v) => Math.round(v * 1e4) / 1e4)).toEqual([10, 10]);
  });

  it('does not modify its input and reports progress per plane', async () => {
    const s = hyperstack();
    const before = s.planes.map((p) => [...p]);
    const ctx = testContext();
    await runOp(project, { stack: s }, { axis: 't', method: 'mean' }, ctx);
    expect(s.planes.map((p) => [...p])).toEqual(before);
    expect(s.sizeT).toBe(2);
    expect(ctx.progressCalls).toHaveLength(12);
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
    const fractions = ctx.progressCalls.map((c) => c.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
  });

  it('stops with E_CANCELLED when the signal is aborted', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: (f) => f > 0.3 && controller.abort() });
    const err = await runOp(project, { stack: hyperstack() }, {}, ctx).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(ctx.progressCalls.length).toBeLessThan(12);
  });

  it('rejects unknown methods and axes through its schema', () => {
    expect(project.params.safeParse({ method: 'median' }).success).toBe(false);
    expect(project.params.safeParse({ axis: 'x' }).success).toBe(false);
    expect(project.params.safeParse({ axes: 'z' }).success).toBe(false);
    expect(project.params.parse({})).toEqual({ axis: 'z', method: 'max' });
  });
});
