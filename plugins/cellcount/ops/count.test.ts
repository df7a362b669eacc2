import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, runOp, testContext, type Stack, type Table } from '../../../core/index.js';
import { count } from './count.js';
import { fillHolesOp, morphologyOp, watershedOp, distanceMapOp } from './binary.js';

/** 40×30 uint16 image: background 100, a 6×5 bright box (1000), a 3×3 and a touching disc pair (all 1000). */
function scene(calibration = {}): Stack {
  const w = 40;
  const h = 30;
  const p = new Uint16Array(w * h).fill(100);
  for (let y = 2; y < 7; y++) for (let x = 3; x < 9; x++) p[y * w + x] = 1000;
  for (let y = 10; y < 13; y++) for (let x = 3; x < 6; x++) p[y * w + x] = 1000;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if ((x - 20) ** 2 + (y - 15) ** 2 <= 25 || (x - 29) ** 2 + (y - 15) ** 2 <= 25) p[y * w + x] = 1000;
    }
  }
  return createStack({ width: w, height: h, dtype: 'uint16', planes: [p], calibration });
}

const rows = (t: unknown) => (t as Table).rows;
const fgCount = (p: ArrayLike<number>) => Array.from(p).filter((v) => v !== 0).length;

describe('cellcount.count', () => {
  it('counts bright objects (Otsu, dark background) with ImageJ-style measurements', async () => {
    const ctx = testContext();
    const out = await runOp(count, { image: scene() }, {}, ctx);
    const objs = rows(out.objects);
    expect(objs.map((r) => r.areaPx)).toEqual([30, 9, 160]); // the touching discs are one particle
    expect(objs[0]).toMatchObject({ plane: 0, label: 1, bx: 3, by: 2, width: 6, height: 5, centroidXPx: 6, centroidYPx: 4.5, mean: 1000, min: 1000, max: 1000 });
    expect(objs[0].perimeterPx).toBeCloseTo(22 - 4 * (2 - Math.SQRT2), 10);
    const s = rows(out.summary)[0];
    expect(s).toMatchObject({ plane: 0, count: 3, totalAreaPx: 199, meanAreaPx: 199 / 3, areaFraction: 199 / 1200 });
    expect(s.lower as number).toBeGreaterThan(100);
    expect(s.lower as number).toBeLessThanOrEqual(1000);
    expect(s.upper).toBe(65535);
    expect((out.summary as Table).columns).not.toContain('totalAreaUm2');
    const labels = out.labels as Stack;
    expect(labels.dtype).toBe('uint16');
    expect(labels.planes[0][3 * 40 + 4]).toBe(1);
    expect(labels.planes[0][15 * 40 + 20]).toBe(3);
    const overlay = out.overlay as Stack;
    expect(overlay.rgb).toBe(true);
    expect([overlay.planes[0][2 * 40 + 3], overlay.planes[1][2 * 40 + 3], overlay.planes[2][2 * 40 + 3]]).toEqual([255, 255, 0]);
    expect(overlay.planes[2][4 * 40 + 5]).toBe(255); // inside the box: grey (bright), not outline
    expect(overlay.planes[2][20 * 40 + 35]).toBe(0); // background: dark grey
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
  });

  it('watershed splits the touching discs; size, circularity and edge filters apply', async () => {
    const out = await runOp(count, { image: scene() }, { watershed: true });
    expect(rows(out.objects).map((r) => r.areaPx)).toEqual([30, 9, 80, 73]); // 7 px of cut line
    const big = await runOp(count, { image: scene() }, { minAreaPx: 10 });
    expect(rows(big.objects).map((r) => r.areaPx)).toEqual([30, 160]);
    const round = await runOp(count, { image: scene() }, { minCircularity: 0.8 });
    expect(rows(round.objects).map((r) => r.areaPx)).toEqual([30, 9]);
  });

  it('µm² size limits and columns with calibration', async () => {
    const out = await runOp(count, { image: scene({ pixelWidthUm: 0.5 }) }, { minAreaUm2: 5 }); // 5 µm² = 20 px
    const objs = rows(out.objects);
    expect(objs.map((r) => r.areaPx)).toEqual([30, 160]);
    expect(objs[0].areaUm2).toBeCloseTo(7.5, 12);
    expect(objs[0].perimeterUm).toBeCloseTo(0.5 * (objs[0].perimeterPx as number), 12);
    expect(objs[0].centroidXUm).toBe(3);
    expect(rows(out.summary)[0]).toMatchObject({ totalAreaUm2: 47.5, meanAreaUm2: 23.75 });
    const err = await runOp(count, { image: scene() }, { minAreaUm2: 5 }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_PARAMS');
    expect((err as Error).message).toMatch(/minAreaUm2: the image has no pixel size calibration/);
  });

  it('light background (dark objects) and manual limits', async () => {
    const inv = scene();
    inv.planes[0] = inv.planes[0].map((v) => 2000 - v) as Uint16Array;
    const dark = await runOp(count, { image: inv }, { darkBackground: false });
    expect(rows(dark.summary)[0].count).toBe(3);
    const manual = await runOp(count, { image: scene() }, { method: 'manual', lower: 500, upper: 65535 });
    expect(rows(manual.objects).map((r) => r.areaPx)).toEqual([30, 9, 160]);
    expect(rows(manual.summary)[0]).toMatchObject({ lower: 500, upper: 65535 });
    const none = await runOp(count, { image: scene() }, { method: 'manual', lower: 1001, upper: 65535 });
    expect(rows(none.summary)[0].count).toBe(0);
  });

  it('bad input: empty, all-foreground, NaN, RGB, several channels, bad params', async () => {
    const empty = createStack({ width: 8, height: 8, dtype: 'uint8' });
    const e = await runOp(count, { image: empty }, {});
    expect(rows(e.summary)[0]).toMatchObject({ count: 0, totalAreaPx: 0, meanAreaPx: null, areaFraction: 0 });
    const all = await runOp(count, { image: createStack({ width: 8, height: 8, dtype: 'uint8', planes: [new Uint8Array(64).fill(255)] }) }, { method: 'manual', lower: 1, upper: 255 });
    expect(rows(all.summary)[0]).toMatchObject({ count: 1, totalAreaPx: 64, areaFraction: 1 });
    const f = new Float32Array(64).fill(NaN);
    for (let i = 0; i < 10; i++) f[i] = 5;
    f[20] = 9;
    const nan = await runOp(count, { image: createStack({ width: 8, height: 8, dtype: 'float32', planes: [f] }) }, { method: 'manual', lower: 6, upper: 10 });
    expect(rows(nan.objects).map((r) => r.areaPx)).toEqual([1]);
    const allNan = await runOp(count, { image: createStack({ width: 8, height: 8, dtype: 'float32', planes: [new Float32Array(64).fill(NaN)] }) }, {}).catch((x: unknown) => x);
    expect(allNan).toMatchObject({ code: 'E_PORT' });
    expect((allNan as Error).message).toMatch(/no finite pixel/);
    const rgb = createStack({ width: 4, height: 4, dtype: 'uint8', sizeC: 3, rgb: true });
    await expect(runOp(count, { image: rgb }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/got RGB/) });
    const two = createStack({ width: 4, height: 4, dtype: 'uint16', sizeC: 2 });
    await expect(runOp(count, { image: two }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/stack.substack/) });
    expect(count.params.safeParse({ method: 'manual', lower: 3 }).success).toBe(false);
    expect(count.params.safeParse({ lower: 3, upper: 5 }).success).toBe(false);
    expect(count.params.safeParse({ minAreaPx: 3, minAreaUm2: 5 }).success).toBe(false);
    expect(count.params.safeParse({ minCircularity: 0.9, maxCircularity: 0.5 }).success).toBe(false);
    expect(count.params.safeParse({ method: 'Bogus' }).success).toBe(false);
    expect(count.params.safeParse({ method: 'manual' }).error?.issues[0].path).toEqual(['lower']);
  });

  it('counts each plane of a z-stack and checks cancellation', async () => {
    const one = scene();
    const zs = createStack({ width: 40, height: 30, dtype: 'uint16', sizeZ: 2, planes: [one.planes[0], new Uint16Array(1200).fill(100)] });
    const out = await runOp(count, { image: zs }, { method: 'manual', lower: 500, upper: 65535 });
    expect(rows(out.summary).map((r) => r.count)).toEqual([3, 0]);
    expect((out.overlay as Stack).sizeZ).toBe(2);
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    await expect(runOp(count, { image: zs }, {}, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});

describe('binary ops', () => {
  const mask = () => {
    const m = new Uint8Array(100);
    for (let y = 2; y < 8; y++) for (let x = 2; x < 8; x++) m[y * 10 + x] = 255;
    m[55] = 0;
    return createStack({ width: 10, height: 10, dtype: 'uint8', planes: [m], calibration: { pixelWidthUm: 0.3 } });
  };
  it('fill holes, erode, watershed and distance map run per plane and keep calibration', async () => {
    const filled = (await runOp(fillHolesOp, { mask: mask() }, {})).mask as Stack;
    expect(filled.planes[0][55]).toBe(255);
    expect(filled.calibration.pixelWidthUm).toBe(0.3);
    const eroded = (await runOp(morphologyOp, { mask: filled }, { operation: 'erode' })).mask as Stack;
    expect(fgCount(eroded.planes[0])).toBe(16);
    const ws = (await runOp(watershedOp, { mask: filled }, {})).mask as Stack;
    expect(fgCount(ws.planes[0])).toBe(36);
    const map = (await runOp(distanceMapOp, { mask: filled }, {})).map as Stack;
    expect(map.dtype).toBe('float32');
    expect(map.planes[0][22]).toBe(1);
  });
  it('reject non-binary input with E_PORT', async () => {
    const grey = createStack({ width: 4, height: 4, dtype: 'uint8', planes: [new Uint8Array(16).fill(7)] });
    await expect(runOp(fillHolesOp, { mask: grey }, {})).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/only 0 and 255/) });
    const u16 = createStack({ width: 4, height: 4, dtype: 'uint16' });
    await expect(runOp(watershedOp, { mask: u16 }, {})).rejects.toMatchObject({ code: 'E_PORT' });
    expect(morphologyOp.params.safeParse({ operation: 'erode', count: 9 }).success).toBe(false);
  });
});
