import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, runOp, testContext, type Stack, type Table } from '../../../core/index.js';
import { thresholdLimits } from '../threshold.js';
import { thresholdOp } from './threshold.js';

function twoPlanes(): Stack {
  const w = 8;
  const a = new Uint16Array(w * w).fill(1000);
  const b = new Uint16Array(w * w).fill(200);
  for (let i = 0; i < 16; i++) {
    a[i] = 5000;
    b[i * 2] = 900;
  }
  return createStack({ width: w, height: w, dtype: 'uint16', sizeZ: 2, planes: [a, b], calibration: { pixelWidthUm: 0.5 }, channelNames: ['DAPI'] });
}

describe('cellcount.threshold', () => {
  it('thresholds each plane with its own limits and reports them', async () => {
    const s = twoPlanes();
    const ctx = testContext();
    const out = await runOp(thresholdOp, { stack: s }, { method: 'Otsu' }, ctx);
    const mask = out.mask as Stack;
    const table = out.threshold as Table;
    expect(mask.dtype).toBe('uint8');
    expect(mask.sizeZ).toBe(2);
    expect(mask.calibration).toEqual({ pixelWidthUm: 0.5 });
    expect(mask.channelNames).toEqual(['DAPI']);
    expect(table.columns).toEqual(['plane', 'c', 'z', 't', 'lower', 'upper']);
    for (let p = 0; p < 2; p++) {
      const lim = thresholdLimits(s.planes[p], 'uint16', 'Otsu', { darkBackground: true });
      expect(table.rows[p]).toMatchObject({ plane: p, z: p, lower: lim.lower, upper: lim.upper });
    }
    expect([...mask.planes[0]].filter((v) => v === 255).length).toBe(16);
    expect([...mask.planes[1]].filter((v) => v === 255).length).toBe(16);
    expect(ctx.progressCalls.map((c) => c.fraction)).toEqual([0.5, 1]);
    expect(s.planes[0][0]).toBe(5000); // input untouched
  });

  it('stackHistogram uses one threshold for all planes; manual limits; light background', async () => {
    const s = twoPlanes();
    const stackWide = await runOp(thresholdOp, { stack: s }, { method: 'Otsu', stackHistogram: true });
    const rows = (stackWide.threshold as Table).rows;
    expect(rows[0].lower).toBe(rows[1].lower);
    const manual = await runOp(thresholdOp, { stack: s }, { method: 'manual', lower: 800, upper: 1200 });
    expect((manual.mask as Stack).planes[0][20]).toBe(255);
    expect((manual.mask as Stack).planes[0][0]).toBe(0);
    expect((manual.mask as Stack).planes[1][0]).toBe(255);
    const light = await runOp(thresholdOp, { stack: s }, { method: 'Otsu', darkBackground: false });
    expect((light.mask as Stack).planes[0][0]).toBe(0);
    expect((light.mask as Stack).planes[0][20]).toBe(255);
  });

  it('rejects RGB with E_PORT and inconsistent params with E_PARAMS naming the field', async () => {
    const rgb = createStack({ width: 2, height: 2, dtype: 'uint8', sizeC: 3, rgb: true });
    const err = await runOp(thresholdOp, { stack: rgb }, {}).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_PORT');
    expect((err as Error).message).toMatch(/RGB colour image.*cellcount.rgb-to-grey/);
    expect(thresholdOp.params.safeParse({ method: 'manual', lower: 3 }).success).toBe(false);
    expect(thresholdOp.params.safeParse({ method: 'Otsu', upper: 3 }).success).toBe(false);
    expect(thresholdOp.params.safeParse({ method: 'Bogus' }).success).toBe(false);
    expect(thresholdOp.params.parse({})).toEqual({ method: 'Default', darkBackground: true, stackHistogram: false });
    // run trusts the parsed params (the executor parsed them): no second check there
  });

  it('all-NaN float image fails clearly; a constant image gives an all-foreground mask', async () => {
    const nan = createStack({ width: 2, height: 2, dtype: 'float32', planes: [new Float32Array(4).fill(NaN)] });
    await expect(runOp(thresholdOp, { stack: nan }, {})).rejects.toThrow(/every pixel is NaN/);
    const flat = createStack({ width: 2, height: 2, dtype: 'uint16', planes: [new Uint16Array(4).fill(9)] });
    const out = await runOp(thresholdOp, { stack: flat }, { method: 'Li' });
    expect([...(out.mask as Stack).planes[0]]).toEqual([255, 255, 255, 255]);
  });
});
