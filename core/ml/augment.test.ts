import { describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { AUGMENT_COUNT, augment, augmentPlanes, inverseAugment, selfEnsemble } from './augment.js';
import { destandardise as denormalise, standardise as normalise } from '../imaging/normalise.js';

describe('normalise', () => {
  it('gives zero mean and unit (population) variance, and denormalise inverts it', () => {
    const img = Float32Array.from({ length: 100 }, (_, i) => 3 + 2 * Math.sin(i) + i * 0.1);
    const { data, mean, std } = normalise(img);
    const m = data.reduce((a, b) => a + b, 0) / data.length;
    const v = data.reduce((a, b) => a + (b - m) ** 2, 0) / data.length;
    expect(Math.abs(m)).toBeLessThan(1e-6);
    expect(v).toBeCloseTo(1, 5);
    expect(mean).toBeCloseTo(img.reduce((a, b) => a + b, 0) / 100, 6);
    const back = denormalise(data, mean, std);
    for (let i = 0; i < img.length; i++) expect(back[i]).toBeCloseTo(img[i], 4);
  });
  it('only centres a constant image and rejects NaN / empty', () => {
    expect([...normalise(new Float32Array([5, 5, 5])).data]).toEqual([0, 0, 0]);
    const e = (() => { try { normalise([1, NaN]); } catch (err) { return err; } })();
    expect(isFocalError(e) && e.details.field).toBe('image');
    expect(() => normalise([])).toThrow(/empty/);
  });
});

describe('augment (×8 flips and rotations)', () => {
  const w = 4;
  const h = 3;
  const img = Float32Array.from({ length: w * h }, (_, i) => i);
  it('has 8 distinct transforms of a generic image, each inverted by inverseAugment', () => {
    const seen = new Set<string>();
    for (let k = 0; k < AUGMENT_COUNT; k++) {
      const t = augment(img, w, h, k);
      seen.add(`${t.width}x${t.height}:${[...t.data].join(',')}`);
      const back = augment(t.data, t.width, t.height, inverseAugment(k));
      expect(back.width).toBe(w);
      expect([...back.data]).toEqual([...img]);
    }
    expect(seen.size).toBe(8);
  });
  it('known answers: rotation 90° clockwise and a horizontal flip', () => {
    // 2×2: [a b; c d] → 90° cw: [c a; d b]; flip: [b a; d c]
    expect([...augment([1, 2, 3, 4], 2, 2, 1).data]).toEqual([3, 1, 4, 2]);
    expect([...augment([1, 2, 3, 4], 2, 2, 4).data]).toEqual([2, 1, 4, 3]);
    const r = augment(img, w, h, 1);
    expect([r.width, r.height]).toEqual([3, 4]);
  });
  it('rejects a bad k', () => {
    expect(() => augment(img, w, h, 8)).toThrow(/k: must be an integer 0…7/);
  });
});

describe('selfEnsemble', () => {
  it('equals one pass for a predictor that commutes with flips and rotations (any size), and calls it 8 times', async () => {
    const img = Float32Array.from({ length: 15 }, (_, i) => (i * 7) % 11);
    let calls = 0;
    const square = async (d: Float32Array) => { calls++; return Float32Array.from(d, (v) => v * v); };
    const out = await selfEnsemble(img, 5, 3, 'dihedral8', square);
    expect(calls).toBe(8);
    out.forEach((v, i) => expect(v).toBeCloseTo(img[i] * img[i], 5));
    calls = 0;
    expect(Array.from(await selfEnsemble(img, 5, 3, 'none', square))).toEqual(Array.from(img, (v) => v * v));
    expect(calls).toBe(1);
  });

  it('averages the back-transformed outputs: a fixed x-ramp answer averages to its mean on a square', async () => {
    const w = 6;
    const ramp = async (_d: Float32Array, width: number, height: number) => Float32Array.from({ length: width * height }, (_, i) => i % width);
    const out = await selfEnsemble(new Float32Array(w * w), w, w, 'dihedral8', ramp);
    for (const v of out) expect(v).toBeCloseTo((w - 1) / 2, 6);
  });

  it('reuses a given output for the untransformed image (7 calls, same mean) and checks its size', async () => {
    const img = Float32Array.from({ length: 15 }, (_, i) => (i * 5) % 7 - 3);
    let calls = 0;
    const shiftRows = async (d: Float32Array, width: number) => { calls++; return Float32Array.from(d, (v, i) => v + (i % width)); };
    const full = await selfEnsemble(img, 5, 3, 'dihedral8', shiftRows);
    calls = 0;
    const identity = await shiftRows(img, 5);
    const reused = await selfEnsemble(img, 5, 3, 'dihedral8', shiftRows, identity);
    expect(calls).toBe(1 + 7);
    expect(Array.from(reused)).toEqual(Array.from(full));
    calls = 0;
    expect(await selfEnsemble(img, 5, 3, 'none', shiftRows, identity)).toBe(identity);
    expect(calls).toBe(0);
    await expect(selfEnsemble(img, 5, 3, 'dihedral8', shiftRows, new Float32Array(4))).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'identityOutput' } });
  });
});

describe('augmentPlanes', () => {
  it('applies the same transform to every plane (channels of inputs and targets stay aligned)', () => {
    const w = 3;
    const h = 2;
    const a = Float32Array.from({ length: 6 }, (_, i) => i);
    const b = Float32Array.from({ length: 6 }, (_, i) => 10 * i);
    for (let k = 0; k < AUGMENT_COUNT; k++) {
      const r = augmentPlanes([a, b], w, h, k);
      const ra = augment(a, w, h, k);
      expect(r.planes[0]).toEqual(ra.data);
      expect(r.planes[1]).toEqual(ra.data.map((v) => 10 * v));
      expect([r.width, r.height]).toEqual([ra.width, ra.height]);
    }
    expect(() => augmentPlanes([a, new Float32Array(5)], w, h, 0)).toThrow(/planes\[1\]/);
  });
});
