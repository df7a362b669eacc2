import { describe, expect, it } from 'vitest';
import { createImage, createStack, type Image, isImage, runOp, type Table, testContext } from '../../../core/index.js';
import { gaussianBlur2d } from '../../../core/imaging.js';
import { rowSharpness as rowSharpnessFn } from '../sharpness.js';
import { bestPlane } from './best-plane.js';
import { rowSharpness } from './row-sharpness.js';

function texture(w: number, h: number): Float32Array {
  let s = 777;
  return Float32Array.from({ length: w * h }, (_, i) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return 300 + 100 * Math.sin((i % w) / 2) + 200 * ((s >>> 16) / 65536);
  });
}

/** 2 channels × 7 z: channel 0 in focus at z = 4, channel 1 at z = 1; uint16. */
function twoChannelStack() {
  const w = 40;
  const h = 32;
  const sharp = texture(w, h);
  const planes: Uint16Array[] = [];
  for (let z = 0; z < 7; z++) {
    for (const focus of [4, 1]) {
      const sigma = 0.3 + 0.8 * Math.abs(z - focus);
      planes.push(Uint16Array.from(gaussianBlur2d(sharp, w, h, sigma, sigma), (v) => Math.round(v)));
    }
  }
  return createStack({ width: w, height: h, dtype: 'uint16', sizeC: 2, sizeZ: 7, planes, channelNames: ['DAPI', 'FITC'], calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5, zStepUm: 1 } });
}

describe('focus.best-plane', () => {
  it('returns the sharpest plane of the scored channel and one score per plane, for every criterion', async () => {
    const stack = twoChannelStack();
    for (const criterion of ['vollath4', 'vollath5', 'std', 'nvar', 'brenner', 'tenengrad']) {
      for (const [channel, focus] of [[0, 4], [1, 1]]) {
        const ctx = testContext();
        const out = await runOp(bestPlane, { stack }, { criterion, channel }, ctx);
        const image = out.image as Image;
        const scores = out.scores as Table;
        expect(isImage(image)).toBe(true);
        expect(scores.columns).toEqual(['plane', 'score']);
        expect(scores.rows.map((r) => r.plane)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        const best = scores.rows.reduce((a, b) => ((b.score as number) > (a.score as number) ? b : a));
        expect(best.plane, `${criterion} channel ${channel}`).toBe(focus);
        expect(image.metadata.focusPlane).toBe(focus);
        expect(image.dtype).toBe('uint16');
        expect([...image.data]).toEqual([...stack.planes[channel + focus * 2]]);
        expect(image.data).not.toBe(stack.planes[channel + focus * 2]);
        expect(image.calibration).toEqual({ pixelWidthUm: 0.5, pixelHeightUm: 0.5 });
        expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
      }
    }
  });

  it('defaults to vollath4 on channel 0; rejects bad channel, several time points and NaN planes', async () => {
    expect(bestPlane.params.parse({})).toEqual({ criterion: 'vollath4', channel: 0 });
    expect(bestPlane.params.safeParse({ criterion: 'sharpest' }).success).toBe(false);
    const stack = twoChannelStack();
    await expect(runOp(bestPlane, { stack }, { channel: 2 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'channel' } });
    const timeLapse = createStack({ width: 4, height: 4, dtype: 'float32', sizeZ: 2, sizeT: 2 });
    await expect(runOp(bestPlane, { stack: timeLapse }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/2 time points/) });
    const nan = createStack({ width: 4, height: 4, dtype: 'float32', sizeZ: 2 });
    nan.planes[1][5] = NaN;
    await expect(runOp(bestPlane, { stack: nan }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/plane z=1 of channel 0: data has NaN pixels \(first at x=1, y=1\)/) });
  });

  it('checks cancellation between planes', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    await expect(runOp(bestPlane, { stack: twoChannelStack() }, {}, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
    expect(ctx.progressCalls).toHaveLength(1);
  });
});

describe('focus.row-sharpness', () => {
  it('gives per-row coefficients and a summary equal to rowSharpness()', async () => {
    const w = 36;
    const h = 30;
    const ref = texture(w, h);
    const img = gaussianBlur2d(ref, w, h, 1, 1);
    const out = await runOp(rowSharpness, { image: createImage({ width: w, height: h, data: img }), reference: createImage({ width: w, height: h, data: ref }) });
    const expected = rowSharpnessFn(img, ref, w, h);
    const rows = out.rows as Table;
    expect(rows.columns).toEqual(['row', 'coefficient', 'stdError']);
    expect(rows.rows).toHaveLength(h);
    rows.rows.forEach((r, i) => {
      expect(r.row).toBe(i);
      expect(r.coefficient).toBe(expected.coefficients[i]);
      expect(r.stdError).toBe(expected.stdErrors[i]);
    });
    const summary = (out.summary as Table).rows[0];
    expect(summary).toEqual({ meanCoefficient: expected.meanCoefficient, coefficientStd: expected.coefficientStd, meanStdError: expected.meanStdError, rows: h });
    expect(summary.meanCoefficient as number).toBeLessThan(1);
  });

  it('rejects different sizes and NaN (E_PORT); flat reference rows become null with a warning', async () => {
    const a = createImage({ width: 4, height: 3, data: texture(4, 3) });
    const b = createImage({ width: 3, height: 4, data: texture(3, 4) });
    await expect(runOp(rowSharpness, { image: a, reference: b })).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/image is 4×3 px but reference is 3×4 px/) });
    const nan = texture(4, 3);
    nan[2] = NaN;
    await expect(runOp(rowSharpness, { image: a, reference: createImage({ width: 4, height: 3, data: nan }) })).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'reference' } });
    const flat = createImage({ width: 4, height: 3, data: new Float32Array(12).fill(2) });
    const ctx = testContext();
    const out = await runOp(rowSharpness, { image: a, reference: flat }, {}, ctx);
    expect((out.rows as Table).rows[0].coefficient).toBeNull();
    expect((out.summary as Table).rows[0]).toEqual({ meanCoefficient: null, coefficientStd: null, meanStdError: null, rows: 0 });
    expect(ctx.logs.some((l) => l.level === 'warn' && /3 row\(s\)/.test(l.message))).toBe(true);
  });
});
