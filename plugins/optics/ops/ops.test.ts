import { describe, expect, it } from 'vitest';
import { createImage, createStack, isFocalError, runOp, type Stack, type Table, testContext, Xoshiro128 } from '../../../core/index.js';
import { bornWolfPsf, defocusSeries, gaussianPsf } from '../../../core/imaging.js';
import { defocusOp, zValues } from './defocus.js';
import { psfBornWolf } from './psf-born-wolf.js';
import { psfFromBeadsOp } from './psf-from-beads.js';
import { psfGaussian } from './psf-gaussian.js';

const optics = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.5 };
const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

async function failure(p: Promise<unknown>): Promise<{ code: string; field?: string; message: string }> {
  const e = await p.catch((err: unknown) => err);
  expect(isFocalError(e)).toBe(true);
  const f = e as { code: string; details: { field?: string }; message: string };
  return { code: f.code, field: f.details.field, message: f.message };
}

describe('optics.psf-born-wolf', () => {
  it('one defocus → one plane; a list → a calibrated 3D PSF', async () => {
    const one = (await runOp(psfBornWolf, {}, { ...optics, pixelSizeUm: 0.1, defocusUm: 1, size: 31 })).psf as Stack;
    expect([one.width, one.height, one.sizeZ, one.dtype]).toEqual([31, 31, 1, 'float32']);
    expect([...one.planes[0]]).toEqual([...bornWolfPsf({ ...optics, pixelSizeUm: 0.1, defocusUm: 1, sizePx: 31 })]);
    expect(one.calibration).toEqual({ pixelWidthUm: 0.1, pixelHeightUm: 0.1 });
    const stack = (await runOp(psfBornWolf, {}, { ...optics, pixelSizeUm: 0.2, defocusUm: [-1, -0.5, 0, 0.5, 1], size: 21 })).psf as Stack;
    expect(stack.sizeZ).toBe(5);
    expect(stack.calibration.zStepUm).toBe(0.5);
    for (const p of stack.planes) expect(sum(p)).toBeCloseTo(1, 5);
    const uneven = (await runOp(psfBornWolf, {}, { ...optics, pixelSizeUm: 0.2, defocusUm: [0, 1, 3], size: 21 })).psf as Stack;
    expect(uneven.calibration.zStepUm).toBeUndefined();
  });

  it('validates: even size, NA ≥ n, negative wavelength', () => {
    const bad = (p: Record<string, unknown>) => psfBornWolf.params.safeParse({ ...optics, pixelSizeUm: 0.1, ...p });
    expect(bad({ size: 64 }).error!.issues[0].path).toEqual(['size']);
    expect(bad({ na: 1.2 }).error!.issues[0].path).toEqual(['na']);
    expect(bad({ wavelengthUm: -0.5 }).error!.issues[0].path).toEqual(['wavelengthUm']);
    expect(psfBornWolf.params.parse({ na: 0.5, wavelengthUm: 0.5, pixelSizeUm: 0.1 })).toMatchObject({ refractiveIndex: 1, size: 65, defocusUm: 0 });
  });

  it('params that bypass the schema meet the numeric code\'s E_ARGUMENT naming the field (the executor maps it to E_PARAMS)', async () => {
    const e = await failure(Promise.resolve().then(() => psfBornWolf.run(testContext(), {}, { ...optics, na: 1.1, pixelSizeUm: 0.1, defocusUm: 0, size: 21, oversampling: 3 })));
    expect(e).toMatchObject({ code: 'E_ARGUMENT', field: 'na' });
  });
});

describe('optics.psf-gaussian', () => {
  it('from sigmaPx or fwhmUm + pixelSizeUm', async () => {
    const a = (await runOp(psfGaussian, {}, { sigmaPx: 2 })).psf as Stack;
    expect(a.width).toBe(17);
    expect([...a.planes[0]]).toEqual([...gaussianPsf({ sigmaPx: 2, sizePx: 17 })]);
    const b = (await runOp(psfGaussian, {}, { fwhmUm: 0.4, pixelSizeUm: 0.1, size: 21 })).psf as Stack;
    expect(b.calibration.pixelWidthUm).toBe(0.1);
    expect([...b.planes[0]]).toEqual([...gaussianPsf({ sigmaPx: 4 / 2.3548200450309493, sizePx: 21 })]);
    expect(psfGaussian.params.safeParse({ fwhmUm: 0.4 }).error!.issues[0].path).toEqual(['pixelSizeUm']);
    expect(psfGaussian.params.safeParse({}).success).toBe(false);
  });
});

function texture(w: number, h: number): Uint16Array {
  const rng = new Xoshiro128(5);
  const img = new Uint16Array(w * h).fill(110);
  for (let k = 0; k < 12; k++) {
    const cx = rng.uniform() * w;
    const cy = rng.uniform() * h;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 + (y - cy) ** 2 < 9) img[y * w + x] = 1100;
  }
  return img;
}

describe('optics.defocus', () => {
  const w = 48;
  const input = createStack({ width: w, height: w, dtype: 'uint16', sizeC: 2, planes: [texture(w, w), texture(w, w).map((v) => v / 2)], calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325 }, channelNames: ['DAPI', 'FITC'] });

  it('one defocus: every plane blurred, float32, energy kept, metadata records the model', async () => {
    const ctx = testContext();
    const out = (await runOp(defocusOp, { stack: input }, { ...optics, defocusUm: 2 }, ctx)).stack as Stack;
    expect([out.sizeC, out.sizeZ, out.dtype]).toEqual([2, 1, 'float32']);
    expect(out.channelNames).toEqual(['DAPI', 'FITC']);
    expect(sum(out.planes[1]) / sum(input.planes[1])).toBeCloseTo(1, 5);
    expect((out.metadata.defocus as { units: string }).units).toBe('input');
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
    expect(input.dtype).toBe('uint16');
  });

  it('z range: a z-stack per input plane (XYCZT), noise in photo-electrons, inputOffset removed', async () => {
    const out = (await runOp(defocusOp, { stack: input }, { ...optics, zStartUm: -1, zEndUm: 1, zStepUm: 0.5, photons: 500, readNoiseE: 1, inputOffset: 100, seed: 3 })).stack as Stack;
    expect([out.sizeC, out.sizeZ]).toEqual([2, 5]);
    expect(out.calibration.zStepUm).toBe(0.5);
    expect((out.metadata.defocus as { defocusUm: number[] }).defocusUm).toEqual([-1, -0.5, 0, 0.5, 1]);
    // channel 0 (values 10…1000 after the offset): expected e⁻ sum = 500/1000 · Σ(input − 100)
    const expected = (500 / 1000) * sum(Array.from(input.planes[0], (v) => v - 100));
    expect(Math.abs(sum(out.planes[0 + 2 * 2]) / expected - 1)).toBeLessThan(0.01);
    const again = (await runOp(defocusOp, { stack: input }, { ...optics, zStartUm: -1, zEndUm: 1, zStepUm: 0.5, photons: 500, readNoiseE: 1, inputOffset: 100, seed: 3 })).stack as Stack;
    expect([...again.planes[7]]).toEqual([...out.planes[7]]);
  });

  it('height map input shifts the defocus', async () => {
    const one = createStack({ width: w, height: w, dtype: 'uint16', planes: [texture(w, w)], calibration: { pixelWidthUm: 0.325 } });
    const hm = createImage({ width: w, height: w, data: new Float32Array(w * w).fill(1) });
    const a = (await runOp(defocusOp, { stack: one, heightMap: hm }, { ...optics, defocusUm: 0.5 })).stack as Stack;
    const b = (await runOp(defocusOp, { stack: one }, { ...optics, defocusUm: 1.5 })).stack as Stack;
    for (let i = 0; i < a.planes[0].length; i += 7) expect(Math.abs(a.planes[0][i] - b.planes[0][i])).toBeLessThan(1e-2);
  });

  it('errors: params, ports, missing calibration', async () => {
    expect(defocusOp.params.safeParse({ ...optics }).error!.issues[0].path).toEqual(['defocusUm']);
    expect(defocusOp.params.safeParse({ ...optics, zStartUm: 0, zEndUm: 1 }).error!.issues[0].path).toEqual(['zStartUm']);
    expect(defocusOp.params.safeParse({ ...optics, defocusUm: 1, readNoiseE: 2 }).error!.issues[0].path).toEqual(['readNoiseE']);
    const nocal = createStack({ width: 8, height: 8, dtype: 'uint8' });
    expect(await failure(runOp(defocusOp, { stack: nocal }, { ...optics, defocusUm: 1 }))).toMatchObject({ code: 'E_PARAMS', field: 'pixelSizeUm' });
    const zs = createStack({ width: 8, height: 8, dtype: 'uint8', sizeZ: 3, calibration: { pixelWidthUm: 0.3 } });
    expect(await failure(runOp(defocusOp, { stack: zs }, { ...optics, zStartUm: 0, zEndUm: 1, zStepUm: 0.5 }))).toMatchObject({ code: 'E_PORT', field: 'stack' });
    const zero = createStack({ width: 8, height: 8, dtype: 'uint8', calibration: { pixelWidthUm: 0.3 } });
    expect(await failure(runOp(defocusOp, { stack: zero }, { ...optics, defocusUm: 1, photons: 100 }))).toMatchObject({ code: 'E_PORT', field: 'image' });
    const hm = createImage({ width: 4, height: 4, data: new Float32Array(16) });
    expect(await failure(runOp(defocusOp, { stack: zero, heightMap: hm }, { ...optics, defocusUm: 1 }))).toMatchObject({ code: 'E_PORT', field: 'heightMap' });
  });

  it('checks cancellation between planes', async () => {
    const controller = new AbortController();
    const ctx = testContext({ signal: controller.signal, onProgress: () => controller.abort() });
    expect(await failure(runOp(defocusOp, { stack: input }, { ...optics, defocusUm: 1 }, ctx))).toMatchObject({ code: 'E_CANCELLED' });
  });
});

describe('optics.psf-from-beads', () => {
  it('returns the averaged PSF and a bead table', async () => {
    const w = 64;
    const rng = new Xoshiro128(1);
    const centres = [
      [16.3, 15.8],
      [47.6, 16.2],
      [16.1, 47.4],
      [48.2, 48.5],
    ];
    const img = new Float32Array(w * w);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        let v = 50 + 3 * rng.normal();
        for (const [cx, cy] of centres) v += 800 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.3 ** 2));
        img[y * w + x] = v;
      }
    }
    const stack = createStack({ width: w, height: w, dtype: 'float32', planes: [img], calibration: { pixelWidthUm: 0.1, pixelHeightUm: 0.1 } });
    const out = await runOp(psfFromBeadsOp, { stack }, { boxPx: 11 });
    const psf = out.psf as Stack;
    const table = out.beads as Table;
    expect([psf.width, psf.sizeZ]).toEqual([11, 1]);
    expect(sum(psf.planes[0])).toBeCloseTo(1, 5);
    expect(table.rows).toHaveLength(4);
    expect(table.columns).toEqual(expect.arrayContaining(['bead', 'x', 'y', 'z', 'amplitude', 'fwhmXUm', 'fwhmYUm', 'fwhmZUm']));
    for (const r of table.rows) {
      expect(r.fwhmXUm as number).toBeCloseTo(1.3 * 2.3548 * 0.1, 2);
      expect(r.z).toBeNull();
    }
    expect(psf.calibration.pixelWidthUm).toBe(0.1);
  });

  it('z-stack of Born & Wolf beads: axial FWHM ≈ the model\'s on-axis FWHM, lateral FWHM smallest in focus', async () => {
    const w = 48;
    const img = new Float32Array(w * w);
    for (const [x, y] of [[14, 14], [34, 15], [15, 34], [33, 33]]) img[y * w + x] = 1000;
    const o = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.5, pixelSizeUm: 0.1625 };
    const zs = Array.from({ length: 17 }, (_, i) => -2 + 0.25 * i);
    const planes = defocusSeries(img, w, w, { ...o, defocusUm: zs, psfSizePx: 31 }).map((p) => Float32Array.from(p.image, (v) => v + 5));
    const stack = createStack({ width: w, height: w, dtype: 'float32', sizeZ: 17, planes, calibration: { pixelWidthUm: 0.1625, pixelHeightUm: 0.1625, zStepUm: 0.25 } });
    const out = await runOp(psfFromBeadsOp, { stack }, { boxPx: 11 });
    const beads = out.beads as Table;
    expect(beads.rows).toHaveLength(4);
    // on-axis intensity (sin(b/2)/(b/2))², b = k0·Δz·NA²/2: half maximum at b/2 = 1.3916 → FWHM 1.575 µm
    const k0 = (2 * Math.PI) / 0.5;
    const fwhmAxial = (2 * (2 * 1.3916 * 2)) / (k0 * 0.75 ** 2);
    for (const r of beads.rows) {
      expect(r.z as number).toBeCloseTo(8, 1);
      expect(Math.abs((r.fwhmZUm as number) / fwhmAxial - 1)).toBeLessThan(0.1);
    }
    const perPlane = out.fwhmByPlane as Table;
    expect(perPlane.columns).toEqual(['bead', 'plane', 'zUm', 'fwhmXPx', 'fwhmYPx', 'fwhmUm']);
    const bead0 = perPlane.rows.filter((r) => r.bead === 0);
    expect(bead0[8].zUm).toBe(0);
    const f = (k: number) => bead0[k].fwhmUm as number;
    expect(f(8)).toBeLessThan(f(6));
    expect(f(6)).toBeLessThan(f(4));
    expect(f(8)).toBeLessThan(f(10));
  });

  it('asks for one channel and reports an empty image clearly', async () => {
    const two = createStack({ width: 32, height: 32, dtype: 'uint16', sizeC: 2 });
    expect(await failure(runOp(psfFromBeadsOp, { stack: two }, {}))).toMatchObject({ code: 'E_PORT', field: 'stack' });
    const flat = createStack({ width: 32, height: 32, dtype: 'uint16' });
    const e = await failure(runOp(psfFromBeadsOp, { stack: flat }, { boxPx: 9 }));
    expect(e).toMatchObject({ code: 'E_PORT', field: 'stack' });
    expect(e.message).toMatch(/no usable bead/);
    expect(psfFromBeadsOp.params.safeParse({ boxPx: 10 }).error!.issues[0].path).toEqual(['boxPx']);
  });
});

describe('zValues', () => {
  it('includes the end when it is on the grid', () => {
    expect(zValues(-3, 3, 0.5)).toHaveLength(13);
    expect(zValues(-3, 3, 0.5)[12]).toBe(3);
    expect(zValues(0, 1, 0.3)).toEqual([0, 0.3, 0.6, 0.9]);
  });
});
