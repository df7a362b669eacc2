import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, planeIndex, type Stack } from '../../../core/index.js';
import { runOp, testContext } from '../../../core/index.js';
import { binary } from './binary.js';

function stackOf(dtype: 'uint8' | 'uint16' | 'float32', planes: number[][], dims: { sizeC?: number; sizeZ?: number; sizeT?: number } = {}, width = 2): Stack {
  const ctor = dtype === 'uint8' ? Uint8Array : dtype === 'uint16' ? Uint16Array : Float32Array;
  return createStack({
    width, height: planes[0].length / width, dtype, ...dims,
    planes: planes.map((p) => ctor.from(p)),
    calibration: { pixelWidthUm: 0.3 }, channelNames: dims.sizeC === 2 ? ['r', 'g'] : [], metadata: { from: 'a' },
  });
}

describe('math.binary', () => {
  it('defaults to float32 output: no clipping', async () => {
    expect(binary.params.parse({ op: 'add' })).toEqual({ op: 'add', outputDtype: 'float32' });
    const a = stackOf('uint8', [[250, 10]]);
    const b = stackOf('uint8', [[10, 20]]);
    const sum = (await runOp(binary, { a, b }, { op: 'add' })).stack as Stack;
    expect(sum.dtype).toBe('float32');
    expect([...sum.planes[0]]).toEqual([260, 30]);
    const diff = (await runOp(binary, { a, b }, { op: 'subtract' })).stack as Stack;
    expect([...diff.planes[0]]).toEqual([240, -10]);
    expect(diff.calibration).toEqual({ pixelWidthUm: 0.3 });
    expect(diff.metadata).toEqual({ from: 'a' });
  });

  it("'same' rounds and clamps to a's dtype (ImageJ Image Calculator)", async () => {
    const a = stackOf('uint8', [[250, 10, 7, 0]]);
    const b = stackOf('uint8', [[10, 20, 2, 0]]);
    const run = async (op: string) => [...((await runOp(binary, { a, b }, { op, outputDtype: 'same' })).stack as Stack).planes[0]];
    expect(await run('add')).toEqual([255, 30, 9, 0]);
    expect(await run('subtract')).toEqual([240, 0, 5, 0]);
    expect(await run('multiply')).toEqual([255, 200, 14, 0]);
    // 250/10 = 25, 10/20 = 0.5 → 1 (halves up), 7/2 = 3.5 → 4, 0/0 = NaN → 0
    expect(await run('divide')).toEqual([25, 1, 4, 0]);
    expect(await run('difference')).toEqual([240, 10, 5, 0]);
    const out = (await runOp(binary, { a, b }, { op: 'max', outputDtype: 'same' })).stack as Stack;
    expect(out.dtype).toBe('uint8');
    expect([...out.planes[0]]).toEqual([250, 20, 7, 0]);
  });

  it('float32 division by zero gives ±Infinity and NaN', async () => {
    const a = stackOf('float32', [[1, -1, 0, 6]]);
    const b = stackOf('uint16', [[0, 0, 0, 4]]);
    const out = (await runOp(binary, { a, b }, { op: 'divide' })).stack as Stack;
    expect(out.planes[0][0]).toBe(Infinity);
    expect(out.planes[0][1]).toBe(-Infinity);
    expect(Number.isNaN(out.planes[0][2])).toBe(true);
    expect(out.planes[0][3]).toBe(1.5);
  });

  it('applies a single-plane b to every plane of a', async () => {
    const a = stackOf('uint16', [[1, 2], [3, 4], [5, 6], [7, 8]], { sizeC: 2, sizeZ: 2 });
    const b = stackOf('uint16', [[10, 100]]);
    const ctx = testContext();
    const out = (await runOp(binary, { a, b }, { op: 'multiply', outputDtype: 'same' }, ctx)).stack as Stack;
    expect([out.sizeC, out.sizeZ, out.dtype]).toEqual([2, 2, 'uint16']);
    expect([...out.planes[planeIndex(out, 1, 1, 0)]]).toEqual([70, 800]);
    expect([...out.planes[planeIndex(out, 0, 1, 0)]]).toEqual([50, 600]);
    expect(out.channelNames).toEqual(['r', 'g']);
    expect(ctx.progressCalls.map((c) => c.fraction)).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('combines plane by plane when the dims match', async () => {
    const a = stackOf('float32', [[1, 2], [3, 4]], { sizeT: 2 });
    const b = stackOf('float32', [[1, 1], [2, 2]], { sizeT: 2 });
    const out = (await runOp(binary, { a, b }, { op: 'difference' })).stack as Stack;
    expect(out.planes.map((p) => [...p])).toEqual([[0, 1], [1, 2]]);
    expect([...a.planes[0]]).toEqual([1, 2]);
    expect([...b.planes[1]]).toEqual([2, 2]);
  });

  it('rejects mismatched sizes with E_PORT naming both sizes', async () => {
    const a = stackOf('uint8', [[1, 2, 3, 4]]);
    const b = stackOf('uint8', [[1, 2, 3, 4]], {}, 4);
    const err = await runOp(binary, { a, b }, { op: 'add' }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_PORT');
    expect((err as Error).message).toMatch(/b is 4×1 px but a is 2×2 px/);

    const a3 = stackOf('uint8', [[1, 2], [3, 4], [5, 6]], { sizeZ: 3 });
    const b2 = stackOf('uint8', [[1, 2], [3, 4]], { sizeZ: 2 });
    await expect(runOp(binary, { a: a3, b: b2 }, { op: 'add' })).rejects.toMatchObject({
      code: 'E_PORT',
      message: expect.stringMatching(/b has c=1, z=2, t=1 but a has c=1, z=3, t=1/),
    });
  });

  it('rejects unknown operations and output types', () => {
    expect(binary.params.safeParse({ op: 'pow' }).success).toBe(false);
    expect(binary.params.safeParse({ op: 'add', outputDtype: 'uint8' }).success).toBe(false);
    expect(binary.params.safeParse({}).success).toBe(false);
  });
});
