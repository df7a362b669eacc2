import { beforeAll, describe, expect, it } from 'vitest';
import { createStack, type Image, isFocalError, runOp, type Stack, testContext, writePng } from '../../core/index.js';
import { defocusSeries, psnr } from '../../core/imaging.js';
import { boxSum, majority3x3, squaredLaplacian } from './filters.js';
import { edofFuse } from './fuse.js';
import { fuse } from './ops/fuse.js';
import { curvedSurface, gaussianDefocusStack, texturedSpecimen } from '../../core/specimens.js';

const W = 80;
const H = 80;
const Z_STEP = 0.5;
const Z0 = -0.5; // focus position of the first plane, µm
const Z_UM = Array.from({ length: 11 }, (_, k) => Z0 + Z_STEP * k);

/** Mean |estimated − true| height, µm; estimated is relative to the first plane. */
function heightError(estimated: ArrayLike<number>, truthUm: Float32Array): number {
  let e = 0;
  for (let i = 0; i < truthUm.length; i++) e += Math.abs(Z0 + estimated[i] - truthUm[i]);
  return e / truthUm.length;
}

function bestSinglePsnr(planes: ArrayLike<number>[], truth: ArrayLike<number>, dataRange: number): number {
  return Math.max(...planes.map((p) => psnr(p, truth, { dataRange })));
}

describe('edof.fuse on a curved specimen seen with the Born & Wolf defocus simulator (optics plugin)', () => {
  // 20×/0.75 NA dry, 0.53 µm emission, 0.325 µm pixels (Deep-R's setting); the specimen is tilted
  // (2 µm across the field) and domed (2 µm), 0.5…3.5 µm high; 11 planes −0.5…4.5 µm; Poisson noise
  // (2000 e⁻ at the brightest in-focus pixel) and 2 e⁻ read noise.
  let truth: Float32Array;
  let heightUm: Float32Array;
  let stack: Stack;
  let planes: Float32Array[];
  beforeAll(() => {
    truth = texturedSpecimen(W, H, 3);
    heightUm = curvedSurface(W, H, { tiltUm: 2, domeUm: 2, offsetUm: 0.5 });
    planes = defocusSeries(truth, W, H, {
      na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325,
      heightMapUm: heightUm, defocusUm: Z_UM.map((z) => -z), binStepUm: 0.25, photons: 2000, readNoiseE: 2, seed: 7,
    }).map(({ image, electronsPerUnit }) => image.map((v) => v / electronsPerUnit));
    stack = createStack({ width: W, height: H, dtype: 'float32', sizeZ: Z_UM.length, planes, calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325, zStepUm: Z_STEP }, channelNames: ['FITC'], metadata: { source: 'synthetic' } });
  });

  it.each([
    ['sharpness', 3, 0.2],
    ['wavelet', 2.5, 0.2],
  ] as const)('%s: PSNR to the truth ≥ best single plane + %s dB, height error < %s µm, input unchanged', async (method, gainDb, maxErrUm) => {
    const before = stack.planes.map((p) => p.slice());
    const ctx = testContext();
    const out = await runOp(fuse, { stack }, { method }, ctx);
    const image = out.image as Stack;
    const heightmap = out.heightmap as Image;
    expect([image.sizeC, image.sizeZ, image.sizeT, image.dtype]).toEqual([1, 1, 1, 'float32']);
    expect(image.channelNames).toEqual(['FITC']);
    expect(heightmap.dtype).toBe('float32');
    expect(heightmap.metadata.unit).toBe('um');
    const fusedPsnr = psnr(image.planes[0], truth, { dataRange: 1 });
    const single = bestSinglePsnr(planes, truth, 1);
    const err = heightError(heightmap.data, heightUm);
    console.log(`${method}: PSNR ${fusedPsnr.toFixed(2)} dB vs best plane ${single.toFixed(2)} dB; height MAE ${err.toFixed(3)} µm`);
    expect(fusedPsnr).toBeGreaterThan(single + gainDb);
    expect(err).toBeLessThan(maxErrUm);
    stack.planes.forEach((p, i) => expect(p).toEqual(before[i]));
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
    await writePng(`/tmp/edof-test-${method}-fused.png`, image);
    await writePng(`/tmp/edof-test-${method}-height.png`, heightmap, { saturatedPercent: 0 });
  });

  it('subPlane false takes every pixel from one plane (the nearest to the height)', async () => {
    const out = await runOp(fuse, { stack }, { subPlane: false });
    const fused = (out.image as Stack).planes[0];
    const h = (out.heightmap as Image).data;
    for (let i = 0; i < W * H; i += 37) expect(fused[i]).toBe(planes[Math.round(h[i] / Z_STEP)][i]);
  });
});

describe('edof.fuse: colour', () => {
  it('fuses an RGB stack with one decision (first principal component) for all channels; uint8 RGB out', async () => {
    const w = 80;
    const h = 80;
    const a = texturedSpecimen(w, h, 11);
    const b = texturedSpecimen(w, h, 12, 0.01);
    const heightUm = curvedSurface(w, h, { tiltUm: 3, offsetUm: 1.5 });
    const zUm = Array.from({ length: 9 }, (_, k) => 0.5 * k);
    const mixes = [[220, 20], [120, 120], [20, 200]]; // R, G, B from the two textures
    const truthRgb = mixes.map(([ka, kb]) => Float32Array.from(a, (v, i) => ka * v + kb * b[i]));
    const perChannel = truthRgb.map((t) => gaussianDefocusStack(t, w, h, heightUm, zUm, { sigmaPerUm: 1.2 }));
    const planes: Uint8Array[] = [];
    for (let z = 0; z < zUm.length; z++) for (let c = 0; c < 3; c++) planes.push(Uint8Array.from(perChannel[c][z], (v) => Math.round(v)));
    const stack = createStack({ width: w, height: h, dtype: 'uint8', sizeC: 3, sizeZ: zUm.length, rgb: true, planes, calibration: { zStepUm: 0.5 } });
    for (const method of ['sharpness', 'wavelet'] as const) {
      const out = await runOp(fuse, { stack }, { method });
      const image = out.image as Stack;
      expect([image.rgb, image.dtype, image.sizeC, image.sizeZ]).toEqual([true, 'uint8', 3, 1]);
      for (let c = 0; c < 3; c++) {
        const fused = psnr(image.planes[c], truthRgb[c], { dataRange: 255 });
        const single = bestSinglePsnr(perChannel[c], truthRgb[c], 255);
        expect(fused).toBeGreaterThan(single + 3);
      }
      let err = 0;
      const hm = (out.heightmap as Image).data;
      for (let i = 0; i < w * h; i++) err += Math.abs(hm[i] - heightUm[i]);
      expect(err / (w * h)).toBeLessThan(0.15);
      if (method === 'sharpness') await writePng('/tmp/edof-test-rgb-fused.png', image);
    }
  });
});

describe('edof.fuse: known answers and errors', () => {
  it('a stack of identical planes fuses to that plane (both methods), height from the first plane in planes when uncalibrated', async () => {
    const t = texturedSpecimen(40, 30, 5);
    const stack = createStack({ width: 40, height: 30, dtype: 'float32', sizeZ: 4, planes: [t, t, t, t].map((p) => p.slice()) });
    for (const method of ['sharpness', 'wavelet'] as const) {
      const out = await runOp(fuse, { stack }, { method });
      const fused = (out.image as Stack).planes[0];
      for (let i = 0; i < t.length; i++) expect(fused[i]).toBeCloseTo(t[i], 5);
      expect((out.heightmap as Image).metadata.unit).toBe('plane');
    }
  });

  it('picks the sharp plane of each half and reports its index', () => {
    const w = 64;
    const h = 32;
    const t = texturedSpecimen(w, h, 9);
    const heightUm = Float32Array.from({ length: w * h }, (_, i) => (i % w < w / 2 ? 1 : 4));
    const zs = [0, 1, 2, 3, 4, 5];
    const planes = gaussianDefocusStack(t, w, h, heightUm, zs, { sigmaPerUm: 1.5 });
    for (const method of ['sharpness', 'wavelet'] as const) {
      const { heightPlanes } = edofFuse(planes.map((p) => [p]), w, h, { method, smoothingPx: 0 });
      // away from the step (±6 px) and the borders
      for (const [x, want] of [[8, 1], [24, 1], [40, 4], [56, 4]] as const) expect(heightPlanes[16 * w + x]).toBeCloseTo(want, 0);
    }
  });

  it('sharpness without smoothing / sub-plane = argmax over z of the window sum of the squared Laplacian', () => {
    const w = 37;
    const h = 23;
    const t = texturedSpecimen(w, h, 21, 0.05);
    const heightUm = curvedSurface(w, h, { tiltUm: 4 });
    const planes = gaussianDefocusStack(t, w, h, heightUm, [-2, -1, 0, 1, 2, 3], { sigmaPerUm: 1 });
    const { heightPlanes, channels } = edofFuse(planes.map((p) => [p]), w, h, { windowPx: 5, smoothingPx: 0, subPlane: false });
    const measures = planes.map((p) => boxSum(squaredLaplacian(p, w, h, new Float32Array(w * h)), w, h, 2, new Float32Array(w * h)));
    for (let i = 0; i < w * h; i++) {
      let best = 0;
      for (let z = 1; z < planes.length; z++) if (measures[z][i] > measures[best][i]) best = z;
      expect(heightPlanes[i]).toBe(best);
      expect(channels[0][i]).toBe(planes[best][i]);
    }
  });

  it('boxSum equals the brute-force clipped window sum (radius 2 and 6 on a 13×7 image); majority3x3 removes isolated indices', () => {
    const w = 13;
    const h = 7;
    const d = Float32Array.from({ length: w * h }, (_, i) => Math.sin(i * 1.7) * 10);
    for (const r of [2, 6]) {
      const out = boxSum(d.slice(), w, h, r, new Float32Array(w * h));
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let s = 0;
        for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) s += d[yy * w + xx];
        expect(out[y * w + x]).toBeCloseTo(s, 3);
      }
    }
    const idx = new Uint16Array(25).fill(3);
    idx[12] = 9;
    expect([...majority3x3(idx, 5, 5)]).toEqual(new Array(25).fill(3));
  });

  it('rejects bad input with FocalErrors naming the field', async () => {
    const s = createStack({ width: 8, height: 8, dtype: 'uint16', sizeC: 2, sizeZ: 3 });
    const e1 = await runOp(fuse, { stack: s }, { channel: 2 }).catch((e: unknown) => e);
    expect(isFocalError(e1) && e1.details.field).toBe('channel');
    const t2 = createStack({ width: 8, height: 8, dtype: 'uint16', sizeZ: 3, sizeT: 2 });
    await expect(runOp(fuse, { stack: t2 }, {})).rejects.toMatchObject({ code: 'E_PORT' });
    expect(fuse.params.safeParse({ windowPx: 4 }).success).toBe(false);
    expect(() => edofFuse([[new Float32Array(3)]], 2, 2)).toThrow(/planes: plane z=0 c=0 has 3 pixels/);
    expect(() => edofFuse([[new Float32Array(4)]], 2, 2, { smoothingPx: -1 })).toThrow(/smoothingPx/);
  });

  it('checks cancellation between planes', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    const s = createStack({ width: 16, height: 16, dtype: 'float32', sizeZ: 3 });
    await expect(runOp(fuse, { stack: s }, {}, ctx)).rejects.toMatchObject({ code: 'E_CANCELLED' });
  });
});
