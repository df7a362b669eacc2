import { describe, expect, it } from 'vitest';
import { createImage, createStack, runOp, testContext, type Image, type Stack, type Table } from '../../../core/index.js';
import { warpImage } from '../register.js';
import { endpointError, syntheticPair } from '../synthetic.js';
import { apply } from './apply.js';
import { coregister } from './coregister.js';
import { register } from './register.js';

const N = 96;
const pair = syntheticPair(N, N, 5, { maxDisplacementPx: 3, noiseSd: 10 });
const toU16 = (a: Float32Array) => Uint16Array.from(a, (v) => Math.max(0, Math.round(v)));
const calibration = { pixelWidthUm: 0.325, pixelHeightUm: 0.325 };
const moving = createImage({ width: N, height: N, data: toU16(pair.moving), calibration });
const fixed = createStack({ width: N, height: N, dtype: 'uint16', planes: [toU16(pair.fixed)], calibration, metadata: { name: 'fixed' } });

describe('elastic.register', () => {
  it('returns the warped image (float32), the field (ux, uy) and the per-level table; inputs untouched', async () => {
    const before = Uint16Array.from(moving.data as Uint16Array);
    const ctx = testContext();
    const out = await runOp(register, { moving: createStack({ width: N, height: N, dtype: 'uint16', planes: [moving.data] }), fixed }, { levels: 2, iterations: 60 }, ctx);
    const image = out.image as Image;
    const field = out.field as Stack;
    const levels = out.levels as Table;
    expect(image.kind).toBe('image');
    expect(image.dtype).toBe('float32');
    expect(image.calibration).toEqual(calibration);
    expect(field.sizeC).toBe(2);
    expect(field.dtype).toBe('float32');
    expect(field.channelNames).toEqual(['ux', 'uy']);
    expect(field.metadata.focalField).toMatch(/moving\(x \+ u\(x\)\) ≈ fixed\(x\)/);
    expect(levels.rows.map((r) => r.level)).toEqual([1, 0]);
    expect(levels.columns).toEqual(['stage', 'level', 'factor', 'gridSpacingPx', 'metricBefore', 'metricAfter', 'iterations', 'evaluations', 'timeMs']);
    const e = endpointError(field.planes[0], field.planes[1], pair.ux, pair.uy, N, N, 8);
    expect(e.mean).toBeLessThan(0.3);
    // the warped image is the moving image sampled through the field
    const ref = warpImage({ data: moving.data, width: N, height: N }, field.planes[0], field.planes[1], N, N);
    expect(image.data[N * 40 + 40]).toBeCloseTo(ref[N * 40 + 40], 3);
    expect([...moving.data]).toEqual([...before]);
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
  });

  it('multi-plane inputs, NaN pixels and impossible levels are clear errors', async () => {
    const two = createStack({ width: N, height: N, dtype: 'uint16', sizeC: 2 });
    await expect(runOp(register, { moving: two, fixed }, {})).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'moving' } });
    const nan = createStack({ width: N, height: N, dtype: 'float32', planes: [new Float32Array(N * N).fill(NaN)] });
    await expect(runOp(register, { moving: nan, fixed }, {})).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'moving' } });
    await expect(runOp(register, { moving: fixed, fixed }, { levels: 6 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'levels' } });
    expect(register.params.safeParse({ metric: 'cc' }).success).toBe(false);
    expect(register.params.safeParse({ gridSpacingPx: 1 }).success).toBe(false);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    await expect(runOp(register, { moving: fixed, fixed }, { levels: 2 }, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});

describe('elastic.apply', () => {
  it('warps every plane with the field onto the field grid', async () => {
    const W = 40, H = 30;
    const a = Float32Array.from({ length: 50 * 50 }, (_, i) => (i % 50) + 100 * Math.floor(i / 50));
    const img = createStack({ width: 50, height: 50, dtype: 'float32', sizeC: 2, planes: [a, a.map((v) => 2 * v)], channelNames: ['A', 'B'] });
    // a constant shift (3.5, 2): out(x, y) = img(x + 3.5, y + 2) = x + 3.5 + 100 (y + 2) (a linear ramp is reproduced exactly away from the border)
    const field = createStack({ width: W, height: H, dtype: 'float32', sizeC: 2, planes: [new Float32Array(W * H).fill(3.5), new Float32Array(W * H).fill(2)] });
    const out = (await runOp(apply, { image: img, field }, {})).image as Stack;
    expect([out.width, out.height, out.sizeC, out.dtype]).toEqual([W, H, 2, 'float32']);
    expect(out.channelNames).toEqual(['A', 'B']);
    expect(out.planes[0][10 * W + 7]).toBeCloseTo(7 + 3.5 + 100 * 12, 3);
    expect(out.planes[1][10 * W + 7]).toBeCloseTo(2 * (7 + 3.5 + 100 * 12), 3);
    const lin = (await runOp(apply, { image: img, field }, { interpolation: 'linear' })).image as Stack;
    expect(lin.planes[0][20 * W + 30]).toBeCloseTo(30 + 3.5 + 100 * 22, 3);
    const bad = createStack({ width: W, height: H, dtype: 'float32', sizeC: 3 });
    await expect(runOp(apply, { image: img, field: bad }, {})).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'field' } });
  });
});

describe('elastic.coregister', () => {
  it('finds the fixed image inside a larger one and returns offset json + a field into the large image', async () => {
    const p = syntheticPair(160, 128, 31, { maxDisplacementPx: 2, noiseSd: 10 });
    const fw = 80, fh = 64, ox = 50, oy = 33;
    const f = new Float32Array(fw * fh);
    for (let y = 0; y < fh; y++) for (let x = 0; x < fw; x++) f[y * fw + x] = p.fixed[(y + oy) * 160 + x + ox];
    const big = createStack({ width: 160, height: 128, dtype: 'float32', planes: [p.moving] });
    const out = await runOp(coregister, { moving: big, fixed: createStack({ width: fw, height: fh, dtype: 'float32', planes: [f] }) }, { levels: 2, iterations: 40 });
    const offset = out.offset as { x: number; y: number; ncc: number; affine: number[] };
    expect(Math.abs(offset.x - ox)).toBeLessThanOrEqual(3);
    expect(Math.abs(offset.y - oy)).toBeLessThanOrEqual(3);
    expect(offset.affine).toHaveLength(6);
    const field = out.field as Stack;
    expect([field.width, field.height]).toEqual([fw, fh]);
    // the field points into the large image: mean displacement ≈ the window offset
    let sx = 0;
    for (const v of field.planes[0]) sx += v;
    expect(sx / (fw * fh)).toBeCloseTo(ox, 0);
    const small = createStack({ width: 40, height: 40, dtype: 'float32' });
    await expect(runOp(coregister, { moving: small, fixed: big }, {})).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'moving' } });
  });
});
