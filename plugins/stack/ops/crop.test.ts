import { describe, expect, it } from 'vitest';
import { createStack, type Stack } from '../../../core/index.js';
import { runOp, testContext } from '../../../core/index.js';
import { crop, cropPlane } from './crop.js';

/** 5×4 float32 stack with 2 slices; value = 100·z + 10·y + x. */
function stack(): Stack {
  const planes = [0, 1].map((z) => Float32Array.from({ length: 20 }, (_, i) => 100 * z + 10 * Math.floor(i / 5) + (i % 5)));
  return createStack({ width: 5, height: 4, dtype: 'float32', sizeZ: 2, planes, calibration: { pixelWidthUm: 0.1, pixelHeightUm: 0.2 }, metadata: { k: 1 } });
}

describe('cropPlane', () => {
  it('copies the rectangle row by row', () => {
    const plane = Uint16Array.from({ length: 12 }, (_, i) => i); // 4×3
    const out = cropPlane(plane, 4, 1, 1, 2, 2);
    expect(out).toBeInstanceOf(Uint16Array);
    expect([...out]).toEqual([5, 6, 9, 10]);
  });
});

describe('stack.crop', () => {
  it('crops every plane and keeps calibration and metadata', async () => {
    const ctx = testContext();
    const out = (await runOp(crop, { stack: stack() }, { x: 2, y: 1, width: 3, height: 2 }, ctx)).stack as Stack;
    expect([out.width, out.height, out.sizeZ]).toEqual([3, 2, 2]);
    expect([...out.planes[0]]).toEqual([12, 13, 14, 22, 23, 24]);
    expect([...out.planes[1]]).toEqual([112, 113, 114, 122, 123, 124]);
    expect(out.calibration).toEqual({ pixelWidthUm: 0.1, pixelHeightUm: 0.2 });
    expect(out.metadata).toEqual({ k: 1 });
    expect(ctx.progressCalls.map((c) => c.fraction)).toEqual([0.5, 1]);
  });

  it('defaults x and y to 0; the whole image is a valid rectangle', async () => {
    const s = stack();
    const out = (await runOp(crop, { stack: s }, { width: 5, height: 4 })).stack as Stack;
    expect([...out.planes[1]]).toEqual([...s.planes[1]]);
    expect(out.planes[1]).not.toBe(s.planes[1]);
  });

  it('fails with E_PARAMS naming the field when the rectangle leaves the image', async () => {
    await expect(runOp(crop, { stack: stack() }, { x: 3, width: 3, height: 1 })).rejects.toMatchObject({
      code: 'E_PARAMS',
      details: { field: 'width' },
      message: expect.stringMatching(/x \+ width = 3 \+ 3 = 6 exceeds the image width \(the image is 5×4 px\)/),
    });
    await expect(runOp(crop, { stack: stack() }, { y: 2, width: 1, height: 3 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'height' } });
    await expect(runOp(crop, { stack: stack() }, { x: 5, width: 1, height: 1 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'x' } });
    await expect(runOp(crop, { stack: stack() }, { y: 4, width: 1, height: 1 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'y' } });
  });

  it('requires positive integer sizes in its schema', () => {
    expect(crop.params.safeParse({ width: 0, height: 1 }).success).toBe(false);
    expect(crop.params.safeParse({ width: 1.5, height: 1 }).success).toBe(false);
    expect(crop.params.safeParse({ x: -1, width: 1, height: 1 }).success).toBe(false);
    expect(crop.params.safeParse({ width: 1 }).success).toBe(false);
  });
});
