import { describe, expect, it } from 'vitest';
import { createStack, runOp, stackRegionSource, tiledOperation, type Stack } from '../../core/index.js';
import { bornWolfPsf } from '../../core/imaging.js';
import { convolve } from './deconvolve.js';
import { TILE_MARGIN_FACTOR } from './engine.js';
import { landweberOp } from './ops/landweber.js';
import { richardsonLucyOp } from './ops/richardson-lucy.js';

// issue 21: deconvolution tile by tile, halo = the engine's tile margin TILE_MARGIN_FACTOR·(K − 1)
const W = 257;
const H = 389;
const K = 9;
const psfPlane = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1, sizePx: K });
const psf = createStack({ width: K, height: K, dtype: 'float32', planes: [psfPlane] });

function blurredField(): Stack {
  let s = 7;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const truth = new Float32Array(W * H).fill(20);
  // blobs everywhere, several across the 64-px tile seams
  for (let k = 0; k < 120; k++) {
    const cx = rnd() * W;
    const cy = rnd() * H;
    const r = 2 + rnd() * 5;
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(H, cy + r + 1); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(W, cx + r + 1); x++) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) truth[y * W + x] = 300 + 500 * rnd();
    }
  }
  const blurred = Uint16Array.from(convolve(truth, { width: W, height: H }, psfPlane, { width: K, height: K }), (v) => Math.round(v + 5 * rnd()));
  return createStack({ width: W, height: H, dtype: 'uint16', planes: [blurred], calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325 } });
}

/** Largest |tiled − whole| over pixels at least `border` px from the image edge, relative to the whole result's maximum. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>, border: number): number {
  let d = 0;
  let peak = 0;
  for (let y = border; y < H - border; y++) {
    for (let x = border; x < W - border; x++) {
      const i = y * W + x;
      d = Math.max(d, Math.abs(a[i] - b[i]));
      peak = Math.max(peak, Math.abs(b[i]));
    }
  }
  return d / peak;
}

describe('deconvolution tile by tile (issue 21)', () => {
  const image = blurredField();
  const halo = TILE_MARGIN_FACTOR * (K - 1);
  for (const [op, params] of [
    [richardsonLucyOp, { iterations: 30 }],
    [landweberOp, { iterations: 30 }],
  ] as const) {
    it(`${op.id}: tiles of 64 px with a ${halo} px halo equal the whole-plane run to float tolerance away from the border`, async () => {
      const whole = ((await runOp(op, { image, psf }, params)).image as Stack).planes[0];
      const src = tiledOperation(op, stackRegionSource(image), params, { tileSize: 64, inputs: { psf } });
      expect(src.dtype).toBe('float32');
      const tiled = await src.readRegion({ x: 0, y: 0, w: W, h: H });
      const inner = relDiff(tiled, whole, halo);
      const all = relDiff(tiled, whole, 0);
      console.log(`${op.id}: max |tiled − whole| / max = ${inner.toExponential(2)} at ≥ ${halo} px from the border, ${all.toExponential(2)} everywhere`);
      expect(inner).toBeLessThan(1e-4);
    });
  }

  it('needs the PSF whole; a 3D PSF, a reference or zero padding need whole planes', () => {
    const src = stackRegionSource(image);
    expect(() => tiledOperation(richardsonLucyOp, src, {}, { inputs: {} })).toThrow(/needs whole planes with these params/);
    const psf3d = createStack({ width: K, height: K, sizeZ: 2, dtype: 'float32', planes: [psfPlane, psfPlane] });
    expect(() => tiledOperation(richardsonLucyOp, src, {}, { inputs: { psf: psf3d } })).toThrow(/needs whole planes/);
    expect(() => tiledOperation(landweberOp, src, { boundary: 'zero' }, { inputs: { psf } })).toThrow(/needs whole planes/);
    expect(() => tiledOperation(landweberOp, src, {}, { inputs: { psf, reference: image } })).toThrow(/needs whole planes/);
  });
});
