import { describe, expect, it } from 'vitest';
import { createStack, createTable, isFocalError, runOp, testContext, type Stack, type Table } from '../../../core/index.js';
import { compose, cornerError, invert, similarityAbout, type Affine } from '../affine.js';
import { blobScene, renderScene } from '../synthetic.js';
import { align } from './align.js';
import { apply } from './apply.js';

const W = 96;
const H = 88;
const cx = (W - 1) / 2;
const cy = (H - 1) / 2;
/** True transforms: slice-0 frame → slice i. */
const TRUTH: Affine[] = [
  [1, 0, 0, 0, 1, 0],
  similarityAbout(cx, cy, 0.05, 1, 2.3, -1.6),
  similarityAbout(cx, cy, -0.04, 1, -3.1, 2.7),
  similarityAbout(cx, cy, 0.09, 1, 4.4, 1.2),
  similarityAbout(cx, cy, 0.02, 1, -1.5, -3.8),
];
const sceneA = blobScene(W, H, { seed: 5 });
const sceneB = blobScene(W, H, { seed: 6, blobs: 30 });

/** Two-channel stack; slice i shows the scenes moved by TRUTH[i]; noise σ = 2 on channel 0, none on channel 1. */
function driftStack(dtype: 'uint16' | 'float32' = 'uint16', along: 'z' | 't' = 'z'): Stack {
  const planes = TRUTH.flatMap((t, i) =>
    [sceneA, sceneB].map((scene, c) => {
      const f = renderScene(scene, W, H, invert(t), { noiseSigma: c === 0 ? 2 : 0, seed: 100 + 2 * i + c });
      if (dtype === 'float32') return f;
      return Uint16Array.from(f, (v) => Math.max(0, Math.round(v * 10)));
    }),
  );
  return createStack({ width: W, height: H, dtype, sizeC: 2, ...(along === 'z' ? { sizeZ: 5 } : { sizeT: 5 }), planes, channelNames: ['A', 'B'], calibration: { pixelWidthUm: 0.5 } });
}

/** Element-wise equality without vitest's per-element diff machinery (fast on big planes). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function matricesOf(table: Table): Affine[] {
  return table.rows.map((r) => ['m00', 'm01', 'm02', 'm10', 'm11', 'm12'].map((c) => r[c] as number) as Affine);
}

function interiorMad(a: ArrayLike<number>, b: ArrayLike<number>, margin = 12): number {
  let s = 0;
  let n = 0;
  for (let y = margin; y < H - margin; y++) for (let x = margin; x < W - margin; x++) {
    s += Math.abs(a[y * W + x] - b[y * W + x]);
    n++;
  }
  return s / n;
}

describe('stackreg.align', () => {
  const stack = driftStack();
  const copy = stack.planes.map((p) => p.slice());

  it('recovers known rigid drifts (reference first), aligns every channel, keeps type, range and input', async () => {
    const ctx = testContext();
    const out = await runOp(align, { stack }, { transform: 'rigid', reference: 'first', channel: 0 }, ctx);
    const table = out.transforms as Table;
    expect(table.columns).toEqual(['slice', 'm00', 'm01', 'm02', 'm10', 'm11', 'm12']);
    expect(table.rows.map((r) => r.slice)).toEqual([0, 1, 2, 3, 4]);
    const found = matricesOf(table);
    found.forEach((m, i) => expect(cornerError(m, TRUTH[i], W, H)).toBeLessThan(0.1));
    expect(found[0]).toEqual([1, 0, 0, 0, 1, 0]);
    const aligned = out.stack as Stack;
    expect(aligned.dtype).toBe('uint16');
    expect([aligned.sizeC, aligned.sizeZ, aligned.sizeT]).toEqual([2, 5, 1]);
    expect(aligned.channelNames).toEqual(['A', 'B']);
    expect(aligned.calibration.pixelWidthUm).toBe(0.5);
    // input untouched
    expect(stack.planes.every((p, i) => same(p, copy[i]))).toBe(true);
    // every output plane stays within its input plane's range (0 outside the image)
    let outside = 0;
    aligned.planes.forEach((p, i) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of stack.planes[i]) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      for (const v of p) if (v !== 0 && (v < lo || v > hi)) outside++;
    });
    expect(outside).toBe(0);
    // channel B (not registered on) is aligned too: slices now match slice 0
    for (let z = 1; z < 5; z++) {
      const before = interiorMad(stack.planes[2 * z + 1], stack.planes[1]);
      const after = interiorMad(aligned.planes[2 * z + 1], aligned.planes[1]);
      expect(after).toBeLessThan(before / 4);
    }
    expect(ctx.progressCalls.at(-1)?.fraction).toBe(1);
    // JSON form carries the same matrices
    const json = out.matrices as { axis: string; matrices: number[][][] };
    expect(json.axis).toBe('z');
    expect(json.matrices[3]).toEqual([[found[3][0], found[3][1], found[3][2]], [found[3][3], found[3][4], found[3][5]], [0, 0, 1]]);
  });

  it("reference 'previous' composes pairwise transforms into the first slice's frame", async () => {
    const out = await runOp(align, { stack }, { transform: 'rigid', reference: 'previous' });
    matricesOf(out.transforms as Table).forEach((m, i) => expect(cornerError(m, TRUTH[i], W, H)).toBeLessThan(0.1));
  });

  it('a slice index as reference maps into that slice’s frame', async () => {
    const out = await runOp(align, { stack }, { transform: 'rigid', reference: 2 });
    const found = matricesOf(out.transforms as Table);
    expect(found[2]).toEqual([1, 0, 0, 0, 1, 0]);
    found.forEach((m, i) => expect(cornerError(m, compose(TRUTH[i], invert(TRUTH[2])), W, H)).toBeLessThan(0.1));
  });

  it("references 'mean' and 'moving-average' agree with the truth up to their own frame", async () => {
    for (const reference of ['mean', 'moving-average'] as const) {
      const out = await runOp(align, { stack }, { transform: 'rigid', reference, movingAverageWindow: 1 });
      const found = matricesOf(out.transforms as Table);
      const base = invert(found[0]);
      found.forEach((m, i) => expect(cornerError(compose(m, base), TRUTH[i], W, H), reference).toBeLessThan(0.1));
    }
  });

  it('aligns along t when the stack has one z-slice, and registers on the chosen channel', async () => {
    const s = driftStack('float32', 't');
    const out = await runOp(align, { stack: s }, { transform: 'translation', channel: 1 });
    const found = matricesOf(out.transforms as Table);
    expect((out.matrices as { axis: string }).axis).toBe('t');
    // translation-only model of small rotations: check the translation at the centre
    found.forEach((m, i) => {
      const px = m[0] * cx + m[1] * cy + m[2];
      const tx = TRUTH[i][0] * cx + TRUTH[i][1] * cy + TRUTH[i][2];
      expect(Math.abs(px - tx)).toBeLessThan(0.6);
    });
    expect((out.stack as Stack).dtype).toBe('float32');
  });

  it('rejects a channel or reference slice the stack does not have', async () => {
    const e1 = await runOp(align, { stack }, { channel: 2 }).catch((e: unknown) => e);
    expect(isFocalError(e1) && e1.code).toBe('E_PARAMS');
    expect((e1 as { details: { field: string } }).details.field).toBe('channel');
    const e2 = await runOp(align, { stack }, { reference: 5 }).catch((e: unknown) => e);
    expect((e2 as { details: { field: string } }).details.field).toBe('reference');
    expect(align.params.safeParse({ reference: 'median' }).success).toBe(false);
    expect(align.params.safeParse({ transform: 'bilinear' }).success).toBe(false);
    expect(align.params.parse({})).toEqual({ transform: 'rigid', reference: 'first', movingAverageWindow: 3, channel: 0 });
  });

  it('checks cancellation', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    await expect(runOp(align, { stack }, {}, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});

describe('stackreg.apply', () => {
  const stack = driftStack();

  it('reproduces align’s output from its table or its JSON matrices', async () => {
    const out = await runOp(align, { stack }, { transform: 'affine' });
    const viaTable = (await runOp(apply, { stack, transforms: out.transforms })).stack as Stack;
    const viaJson = (await runOp(apply, { stack, matrices: out.matrices })).stack as Stack;
    expect(viaTable.planes.every((p, i) => same(p, (out.stack as Stack).planes[i]))).toBe(true);
    expect(viaJson.planes.every((p, i) => same(p, (out.stack as Stack).planes[i]))).toBe(true);
  });

  it('clamps cubic overshoot to the plane range and fills outside with 0', async () => {
    const w = 32;
    const h = 16;
    const step = new Uint16Array(w * h).map((_, i) => (i % w < 16 ? 100 : 1000));
    const ramp = new Float32Array(w * h).map((_, i) => (i % w < 16 ? 0 : 5));
    for (const plane of [step, ramp]) {
      const s = createStack({ width: w, height: h, dtype: plane instanceof Uint16Array ? 'uint16' : 'float32', planes: [plane] });
      const out = (await runOp(apply, { stack: s, matrices: [[[1, 0, 0.4], [0, 1, 0.3], [0, 0, 1]]] })).stack as Stack;
      const lo = plane[0];
      const hi = plane[w - 1];
      let inside = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        const v = out.planes[0][y * w + x];
        if (x === w - 1 || y === h - 1) expect(v).toBe(0); // maps beyond the last column/row
        else {
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
          inside++;
        }
      }
      expect(inside).toBe((w - 1) * (h - 1));
      expect(out.dtype).toBe(s.dtype);
    }
  });

  it('aligns each time point of a z-and-t stack on its own; the table (t column, CSV-style strings) drives apply', async () => {
    const planes = [0, 1, 3, 4].map((i) => renderScene(sceneA, W, H, invert(TRUTH[i]), { noiseSigma: 1, seed: 300 + i }));
    const zt = createStack({ width: W, height: H, dtype: 'float32', sizeZ: 2, sizeT: 2, planes });
    const out = await runOp(align, { stack: zt }, { transform: 'rigid' });
    const table = out.transforms as Table;
    expect(table.columns).toEqual(['slice', 't', 'm00', 'm01', 'm02', 'm10', 'm11', 'm12']);
    expect(table.rows.map((r) => [r.slice, r.t])).toEqual([[0, 0], [1, 0], [0, 1], [1, 1]]);
    const found = matricesOf(table);
    expect(cornerError(found[1], TRUTH[1], W, H)).toBeLessThan(0.1);
    expect(cornerError(found[3], compose(TRUTH[4], invert(TRUTH[3])), W, H)).toBeLessThan(0.1);
    // rows shuffled and written as strings, as a CSV file would give them
    const csvLike = createTable(table.columns, [...table.rows].reverse().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]))));
    const again = (await runOp(apply, { stack: zt, transforms: csvLike })).stack as Stack;
    expect(again.planes.every((p, i) => same(p, (out.stack as Stack).planes[i]))).toBe(true);
  });

  it('rejects malformed transforms naming the input', async () => {
    const bad = createTable(['slice', 'm00'], [{ slice: 0, m00: 1 }]);
    await expect(runOp(apply, { stack, transforms: bad })).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'transforms' } });
    await expect(runOp(apply, { stack, matrices: [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]] })).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'matrices' } });
    await expect(runOp(apply, { stack })).rejects.toMatchObject({ code: 'E_PORT' });
    await expect(runOp(apply, { stack, matrices: Array(5).fill([[1, 0, 0], [0, 1, 0], [1, 0, 1]]) })).rejects.toMatchObject({ code: 'E_PORT', details: { field: 'matrices' } });
  });
});
