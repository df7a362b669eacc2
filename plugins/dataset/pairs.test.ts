import { describe, expect, it } from 'vitest';
import { createStack, isFocalError, runOp, type Stack, type Table } from '../../core/index.js';
import { gaussianDefocusStack, texturedSpecimen } from '../../core/specimens.js';
import { planAutofocusPairs } from './pairs.js';
import { autofocusPairs } from './ops/autofocus-pairs.js';

// 64×32 field, two 32-px patches: the left one in focus at plane 2, the right one at plane 5
// (8 planes, 0.5 µm apart); the "EDOF" image is the in-focus truth.
const W = 64;
const H = 32;
const truth = texturedSpecimen(W, H, 4, 0.05);
const focusPlane = Float32Array.from({ length: W * H }, (_, i) => (i % W < 32 ? 2 : 5));
const zPlanes = [0, 1, 2, 3, 4, 5, 6, 7];
const blurred = gaussianDefocusStack(truth, W, H, focusPlane, zPlanes, { sigmaPerUm: 0.8 });
const planes = blurred.map((p) => Uint16Array.from(p, (v) => Math.round(1000 * v)));

function sample(): { stack: Stack; fused: Stack } {
  return {
    stack: createStack({ width: W, height: H, dtype: 'uint16', sizeZ: 8, planes: planes.map((p) => p.slice()), calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: 0.5 }, channelNames: ['DAPI'] }),
    fused: createStack({ width: W, height: H, dtype: 'float32', planes: [Float32Array.from(truth, (v) => 1000 * v)] }),
  };
}

describe('dataset.autofocus-pairs', () => {
  it('finds each patch\'s in-focus plane by SSIM to the EDOF image and pairs every plane with it', async () => {
    const { stack, fused } = sample();
    const out = await runOp(autofocusPairs, { stack, fused }, { patchPx: 32 });
    const pairs = (out.pairs as Table).rows;
    const inputs = out.inputs as Stack;
    const targets = out.targets as Stack;
    expect(pairs).toHaveLength(16);
    expect([inputs.sizeT, inputs.width, inputs.height, inputs.dtype]).toEqual([16, 32, 32, 'uint16']);
    expect([targets.sizeT, targets.sizeC, targets.sizeZ]).toEqual([2, 1, 1]);
    expect(inputs.channelNames).toEqual(['DAPI']);
    expect(inputs.calibration).toEqual({ pixelWidthUm: 0.325, pixelHeightUm: 0.325 });
    const left = pairs.filter((p) => p.patch === 0);
    const right = pairs.filter((p) => p.patch === 1);
    expect(left.every((p) => p.focusZ === 2 && p.x === 0 && p.y === 0 && p.target === 0)).toBe(true);
    expect(right.every((p) => p.focusZ === 5 && p.x === 32 && p.target === 1)).toBe(true);
    expect(left.map((p) => p.defocusUm)).toEqual([-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5]);
    // the in-focus plane has the highest SSIM of its patch
    for (const group of [left, right]) {
      const best = group.reduce((a, b) => ((b.ssimToFused as number) > (a.ssimToFused as number) ? b : a));
      expect(best.defocusUm).toBe(0);
      expect(group.every((p) => p.focusSsimToFused === best.ssimToFused)).toBe(true);
    }
    // crops are the source pixels
    for (const p of pairs) {
      const plane = inputs.planes[p.pair as number];
      for (const [x, y] of [[0, 0], [31, 0], [5, 17], [31, 31]]) expect(plane[y * 32 + x]).toBe(planes[p.sourceZ as number][y * W + (p.x as number) + x]);
    }
    expect(targets.planes[1][3 * 32 + 4]).toBe(planes[5][3 * W + 32 + 4]);
    const manifest = out.manifest as Record<string, unknown>;
    expect(manifest).toMatchObject({ format: 'focal-autofocus-pairs', version: 1, pairs: 16, targets: 2, patchPx: 32, zStepUm: 0.5, pixelSizeUm: 0.325, defocusRangeUm: [-2.5, 2.5], channelName: 'DAPI' });
    // input unchanged
    stack.planes.forEach((p, z) => expect(p).toEqual(planes[z]));
  });

  it('maxDefocusUm, includeInFocus, focusSelection "stack", dropEdgeFocus', async () => {
    const { stack, fused } = sample();
    const near = (await runOp(autofocusPairs, { stack, fused }, { patchPx: 32, maxDefocusUm: 1, includeInFocus: false })).pairs as Table;
    expect(near.rows.map((p) => p.defocusUm)).toEqual([-1, -0.5, 0.5, 1, -1, -0.5, 0.5, 1]);
    const one = (await runOp(autofocusPairs, { stack, fused }, { patchPx: 32, focusSelection: 'stack' })).pairs as Table;
    expect(new Set(one.rows.map((p) => p.focusZ)).size).toBe(1);
    // only planes 2…7: the left patch's focus is then the first plane and is dropped
    const sub = createStack({ ...stack, sizeZ: 6, planes: stack.planes.slice(2) });
    const dropped = await runOp(autofocusPairs, { stack: sub, fused }, { patchPx: 32 });
    expect((dropped.pairs as Table).rows.every((p) => p.patch === 1 && p.focusZ === 3)).toBe(true);
    expect((dropped.manifest as { droppedPatches: unknown[] }).droppedPatches).toEqual([{ patch: 0, x: 0, y: 0, focusZ: 0 }]);
    const kept = await runOp(autofocusPairs, { stack: sub, fused }, { patchPx: 32, dropEdgeFocus: false });
    expect((kept.targets as Stack).sizeT).toBe(2);
  });

  it('rejects bad input with errors naming the field', async () => {
    const { stack, fused } = sample();
    const code = async (inputs: Record<string, unknown>, params: Record<string, unknown>) => {
      const e = await runOp(autofocusPairs, inputs as never, params).catch((err: unknown) => err);
      return isFocalError(e) ? [e.code, e.details.field] : e;
    };
    expect(await code({ stack, fused }, { patchPx: 128 })).toEqual(['E_PARAMS', 'patchPx']);
    expect(await code({ stack, fused }, { patchPx: 32, channel: 1 })).toEqual(['E_PARAMS', 'channel']);
    const uncal = createStack({ ...stack, calibration: {} });
    expect(await code({ stack: uncal, fused }, { patchPx: 32 })).toEqual(['E_PARAMS', 'zStepUm']);
    expect(((await runOp(autofocusPairs, { stack: uncal, fused }, { patchPx: 32, zStepUm: 2 })).manifest as { zStepUm: number }).zStepUm).toBe(2);
    const small = createStack({ width: 32, height: 32, dtype: 'float32' });
    expect(await code({ stack, fused: small }, { patchPx: 32 })).toEqual(['E_PORT', 'fused']);
    expect(() => planAutofocusPairs([new Float32Array(4)], new Float32Array(4), 2, 2, { patchPx: 2, zStepUm: 1 })).toThrow(/patchPx: must be an integer ≥ 16/);
  });
});
