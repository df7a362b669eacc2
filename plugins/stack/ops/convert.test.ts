import { describe, expect, it } from 'vitest';
import { convertStack, createStack, type Stack } from '../../../core/index.js';
import { runOp } from '../../../core/index.js';
import { convert } from './convert.js';

function uint16Stack(): Stack {
  return createStack({ width: 3, height: 1, dtype: 'uint16', sizeZ: 2, planes: [Uint16Array.of(100, 200, 300), Uint16Array.of(1000, 50, 40000)], channelNames: ['x'], calibration: { zStepUm: 1 } });
}

describe('stack.convert', () => {
  it("defaults to scale 'none': values kept, clamped to the target range", async () => {
    expect(convert.params.parse({ dtype: 'uint8' })).toEqual({ dtype: 'uint8', scale: 'none' });
    const out = (await runOp(convert, { stack: uint16Stack() }, { dtype: 'uint8' })).stack as Stack;
    expect(out.dtype).toBe('uint8');
    expect([...out.planes[0]]).toEqual([100, 200, 255]);
    expect([...out.planes[1]]).toEqual([255, 50, 255]);
    expect(out.channelNames).toEqual(['x']);
    expect(out.calibration).toEqual({ zStepUm: 1 });
  });

  it('minmax uses one mapping for the whole stack (same as convertStack)', async () => {
    const s = uint16Stack();
    const out = (await runOp(convert, { stack: s }, { dtype: 'uint8', scale: 'minmax' })).stack as Stack;
    // min 40 → 0, max 40000 → 255
    expect(out.planes[1][2]).toBe(255);
    expect(out.planes[1][0]).toBe(Math.floor(((1000 - 40) * 255) / (40000 - 40) + 0.5));
    expect(out.planes[0][0]).toBe(Math.floor(((100 - 40) * 255) / 39960 + 0.5));
    expect(out.planes.map((p) => [...p])).toEqual(convertStack(s, 'uint8', { scale: 'minmax' }).planes.map((p) => [...p]));
  });

  it('dtype-range maps full ranges; float32 → integer rounds halves up', async () => {
    const u8 = createStack({ width: 2, height: 1, dtype: 'uint8', planes: [Uint8Array.of(1, 255)] });
    const out = (await runOp(convert, { stack: u8 }, { dtype: 'uint16', scale: 'dtype-range' })).stack as Stack;
    expect([...out.planes[0]]).toEqual([257, 65535]);
    const f = createStack({ width: 4, height: 1, dtype: 'float32', planes: [Float32Array.of(1.5, -3, 2.4, NaN)] });
    const back = (await runOp(convert, { stack: f }, { dtype: 'uint16' })).stack as Stack;
    expect([...back.planes[0]]).toEqual([2, 0, 2, 0]);
  });

  it('rejects unknown dtypes and a missing dtype', () => {
    expect(convert.params.safeParse({ dtype: 'int8' }).success).toBe(false);
    expect(convert.params.safeParse({}).success).toBe(false);
  });
});

describe('stack.convert tile by tile (issue 21)', () => {
  it('none and dtype-range run as point operations and equal the whole result; minmax needs whole planes', async () => {
    const { stackRegionSource, tiledOperation } = await import('../../../core/index.js');
    const planes = [Uint16Array.from({ length: 50 * 30 }, (_, i) => (i * 977) % 65536)];
    const s = createStack({ width: 50, height: 30, dtype: 'uint16', planes });
    for (const scale of ['none', 'dtype-range'] as const) {
      const whole = (await runOp(convert, { stack: s }, { dtype: 'uint8', scale })).stack as Stack;
      const tiled = tiledOperation(convert, stackRegionSource(s), { dtype: 'uint8', scale }, { tileSize: 7 });
      expect(tiled.dtype).toBe('uint8');
      expect(Array.from(await tiled.readRegion({ x: 0, y: 0, w: 50, h: 30 }))).toEqual(Array.from(whole.planes[0]));
    }
    expect(() => tiledOperation(convert, stackRegionSource(s), { dtype: 'uint8', scale: 'minmax' })).toThrow(/needs whole planes with these params/);
  });
});
