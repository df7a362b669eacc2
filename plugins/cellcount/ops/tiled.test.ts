import { describe, expect, it } from 'vitest';
import { createStack, runOp, stackRegionSource, tiledOperation, type Stack } from '../../../core/index.js';
import { morphologyOp } from './binary.js';
import { thresholdOp } from './threshold.js';
import { rgbToGreyOp } from './preprocess.js';

// issue 21: the mask ops tile by tile equal the whole-plane result exactly
const W = 257;
const H = 389;

function field(): Stack {
  let s = 99;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const grey = new Uint16Array(W * H);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.floor(rnd() * 1000);
  // blobs, many across the 64-px seams
  for (let k = 0; k < 150; k++) {
    const cx = rnd() * W;
    const cy = rnd() * H;
    const r = 1 + rnd() * 8;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(H, cy + r + 1); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(W, cx + r + 1); x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) grey[y * W + x] = 3000 + Math.floor(rnd() * 1000);
    }
  }
  return createStack({ width: W, height: H, dtype: 'uint16', planes: [grey] });
}

async function tiledPlane(src: ReturnType<typeof tiledOperation>): Promise<number[]> {
  return Array.from(await src.readRegion({ x: 0, y: 0, w: W, h: H }));
}

describe('cellcount mask ops tile by tile (issue 21)', () => {
  const grey = field();
  const params = { method: 'manual', lower: 2000, upper: 65535 } as const;

  it('cellcount.rgb-to-grey (three channels together → one, plain and weighted) equals the whole-plane result exactly; not for float RGB', async () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const planes = [0, 1, 2].map(() => Uint8Array.from({ length: W * H }, () => Math.floor(rnd() * 256)));
    const rgb = createStack({ width: W, height: H, dtype: 'uint8', sizeC: 3, rgb: true, planes });
    for (const weighted of [false, true]) {
      const whole = (await runOp(rgbToGreyOp, { stack: rgb }, { weighted })).stack as Stack;
      const tiled = tiledOperation(rgbToGreyOp, stackRegionSource(rgb), { weighted }, { tileSize: 64 });
      expect([tiled.sizeC, tiled.dtype]).toEqual([1, 'uint8']);
      expect(await tiledPlane(tiled)).toEqual(Array.from(whole.planes[0]));
    }
    expect(rgbToGreyOp.tiling!({ weighted: false }, { dtype: 'float32', calibration: rgb.calibration, sizeC: 3 })).toBeUndefined();
  });

  it('cellcount.threshold with manual limits (a point op) equals the whole-plane mask; automatic methods need whole planes', async () => {
    const whole = ((await runOp(thresholdOp, { stack: grey }, params)).mask as Stack).planes[0];
    expect(await tiledPlane(tiledOperation(thresholdOp, stackRegionSource(grey), params, { tileSize: 64 }))).toEqual(Array.from(whole));
    expect(() => tiledOperation(thresholdOp, stackRegionSource(grey), { method: 'Otsu' })).toThrow(/needs whole planes with these params/);
  });

  it('cellcount.binary (erode, dilate, open, close; iterations and count) equals the whole-plane result exactly', async () => {
    const mask = (await runOp(thresholdOp, { stack: grey }, params)).mask as Stack;
    for (const p of [
      { operation: 'erode', iterations: 1 },
      { operation: 'dilate', iterations: 3, count: 2 },
      { operation: 'open', iterations: 2 },
      { operation: 'close', iterations: 3, count: 3 },
    ] as const) {
      const whole = ((await runOp(morphologyOp, { mask }, p)).mask as Stack).planes[0];
      const tiled = await tiledPlane(tiledOperation(morphologyOp, stackRegionSource(mask), p, { tileSize: 64 }));
      expect(tiled, JSON.stringify(p)).toEqual(Array.from(whole));
    }
  });
});
