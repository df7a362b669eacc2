/**
 * Tiled runs that gather channels (TilingPlan.channels 'together', issue 21): every channel of a
 * tile goes to the op at once, its output has its own channel count (RGB here), each region is
 * computed once for all its channels when a writer reads them in lockstep, and pieces start on
 * the declared grid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack, defineOperation, isFocalError, openTiffImage, runOp, stackRegionSource, tiledOperation, writeOmeZarr, writePyramidalTiff, openOmeZarr, z, type Stack } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-tiled-channels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
/** Two channels in, RGB out: R = 3×3 box mean of channel 0 (edges clamped), G = channel 1, B = |c0 − c1|; records each piece. */
const mix = defineOperation({
  id: 'test.mix',
  title: 'mix',
  description: 'two channels to RGB',
  inputs: { stack: { type: 'stack' } },
  outputs: { rgb: { type: 'stack' } },
  params: z.strictObject({ grid: z.number().int().min(1).max(64).default(1), rgb: z.boolean().default(true) }),
  tiling: (p, input) => (input.sizeC === 2 ? { haloPx: 1, dtype: p.rgb ? 'uint8' : 'float32', channels: 'together', outputChannels: 3, outputRgb: p.rgb, outputChannelNames: ['R', 'G', 'B'], gridPx: p.grid } : undefined),
  run(_ctx, { stack }, p) {
    runs++;
    const { width: w, height: h } = stack;
    const [a, b] = stack.planes;
    const r = new Uint8Array(w * h);
    const g = new Uint8Array(w * h);
    const bl = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += a[Math.min(h - 1, Math.max(0, y + dy)) * w + Math.min(w - 1, Math.max(0, x + dx))];
      const i = y * w + x;
      r[i] = Math.round(s / 9);
      g[i] = b[i];
      bl[i] = Math.abs(a[i] - b[i]);
    }
    return { rgb: createStack({ width: w, height: h, dtype: 'uint8', sizeC: 3, rgb: p.rgb, planes: [r, g, bl], channelNames: ['R', 'G', 'B'] }) };
  },
});
const W = 97;
const H = 83;
function input(): Stack {
  const plane = (k: number) => Uint8Array.from({ length: W * H }, (_, i) => ((i % W) * (3 + k) + Math.floor(i / W) * (7 - k) + ((i * 2654435761) >>> 27)) % 251);
  return createStack({ width: W, height: H, dtype: 'uint8', sizeC: 2, planes: [plane(0), plane(1)], channelNames: ['a', 'b'] });
}

describe('tiled runs with channels together', () => {
  it('gives the whole-plane result with the declared channel count, names and RGB flag; writers compute each band once', async () => {
    const stack = input();
    const whole = (await runOp(mix, { stack }, {})).rgb as Stack;
    for (const grid of [1, 8]) {
      for (const tileSize of [16, 32]) {
        const src = tiledOperation(mix, stackRegionSource(stack), { grid }, { tileSize });
        expect([src.sizeC, src.dtype, src.rgb, src.channelsTogether, src.channelNames]).toEqual([3, 'uint8', true, true, ['R', 'G', 'B']]);
        for (let c = 0; c < 3; c++) expect(Array.from(await src.readRegion({ c, x: 0, y: 0, w: W, h: H }))).toEqual(Array.from(whole.planes[c]));
      }
    }
    // the pyramid writer reads a band of R, G and B before the next band: one run per piece, not three
    runs = 0;
    const file = join(dir, 'mix.ome.tif');
    await writePyramidalTiff(file, tiledOperation(mix, stackRegionSource(stack), {}, { tileSize: 32 }), { tileSize: 32, levels: 2 });
    const pieces = Math.ceil(W / 32) * Math.ceil(H / 32);
    expect(runs).toBe(pieces);
    const back = await openTiffImage(file);
    expect([back.sizeC, back.dtype, back.channelNames]).toEqual([3, 'uint8', ['R', 'G', 'B']]);
    for (let c = 0; c < 3; c++) expect(Array.from(await back.readRegion({ c, x: 0, y: 0, w: W, h: H }))).toEqual(Array.from(whole.planes[c]));
    await back.close();
    runs = 0;
    const zarr = join(dir, 'mix.ome.zarr');
    await writeOmeZarr(zarr, tiledOperation(mix, stackRegionSource(stack), {}, { tileSize: 32 }), { chunkSize: 32 });
    expect(runs).toBe(pieces);
    const z2 = await openOmeZarr(zarr);
    for (let c = 0; c < 3; c++) expect(Array.from(await z2.readRegion({ c, x: 0, y: 0, w: W, h: H }))).toEqual(Array.from(whole.planes[c]));
    await z2.close();
  });

  it('pieces start on gridPx (or the image edge)', async () => {
    const stack = input();
    const starts: number[] = [];
    // a piece's offset shows in where its first pixel of channel 0 sits in the input
    const probe = { ...mix, run: (ctx: never, inputs: { stack: Stack }, p: never) => {
      const first = inputs.stack.planes[0][0];
      const at: number[] = [];
      for (let i = 0; i < W * H; i++) if (stack.planes[0][i] === first) at.push(i);
      starts.push(...at.filter((i) => stack.planes[1][i] === inputs.stack.planes[1][0]).map((i) => i % W));
      return mix.run(ctx, inputs, p);
    } };
    await tiledOperation(probe, stackRegionSource(stack), { grid: 8 }, { tileSize: 16 }).readRegion({ x: 20, y: 20, w: 60, h: 40 });
    expect(starts.length).toBeGreaterThan(0);
    expect(starts.every((x) => x % 8 === 0)).toBe(true);
  });

  it('refuses a plan it cannot honour, naming the op', () => {
    const stack = input();
    const floatRgb = { ...mix, tiling: () => ({ haloPx: 0, dtype: 'float32' as const, channels: 'together' as const, outputChannels: 3, outputRgb: true }) };
    const e1 = (() => { try { tiledOperation(floatRgb, stackRegionSource(stack), {}); } catch (e) { return e; } })();
    expect(isFocalError(e1) && e1.message).toMatch(/^test\.mix: an RGB output must be 3 uint8 channels/);
    const image = { ...mix, inputs: { stack: { type: 'image' as const } } };
    const e2 = (() => { try { tiledOperation(image, stackRegionSource(stack), {}); } catch (e) { return e; } })();
    expect(isFocalError(e2) && e2.message).toMatch(/image port and cannot take 2 channels together/);
    const planesWithCount = { ...mix, tiling: () => ({ haloPx: 0, dtype: 'uint8' as const, outputChannels: 3 }) };
    const e3 = (() => { try { tiledOperation(planesWithCount, stackRegionSource(stack), {}); } catch (e) { return e; } })();
    expect(isFocalError(e3) && e3.message).toMatch(/need channels 'together'/);
  });
});
