import { describe, expect, it } from 'vitest';
import { isFocalError } from '../index.js';
import { besselJ1 } from './bessel.js';
import { bornWolfIntensity, bornWolfNodes, bornWolfPsf, bornWolfPsfStack, gaussianPsf } from './psf.js';

const optics = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.5 };
const k0 = (2 * Math.PI) / optics.wavelengthUm;
const airy = (r: number) => {
  const v = k0 * optics.na * r;
  return v === 0 ? 1 : ((2 * besselJ1(v)) / v) ** 2;
};
const sum = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
};

/** Outer half-maximum diameter of the radial profile, µm (fine scan). */
function fwhm(defocusUm: number): number {
  const dr = 0.002;
  const values: number[] = [];
  for (let r = 0; r <= 8; r += dr) values.push(bornWolfIntensity(r, { ...optics, defocusUm }));
  const max = Math.max(...values);
  let last = 0;
  values.forEach((v, i) => {
    if (v >= max / 2) last = i;
  });
  return 2 * last * dr;
}

describe('Born & Wolf model', () => {
  it('is the Airy pattern (2·J1(v)/v)² in focus, with its first zero at 0.61·λ/NA', () => {
    for (let r = 0; r < 6; r += 0.0173) expect(Math.abs(bornWolfIntensity(r, { ...optics, defocusUm: 0 }) - airy(r))).toBeLessThan(1e-12);
    const zero = 3.8317059702075125 / (k0 * optics.na);
    expect(zero / ((0.61 * optics.wavelengthUm) / optics.na)).toBeCloseTo(1, 2);
    expect(bornWolfIntensity(zero, { ...optics, defocusUm: 0 })).toBeLessThan(1e-12);
  });

  it('is symmetric in defocus, and its quadrature is converged (doubling the nodes changes < 1e-9)', () => {
    for (const dz of [0.3, 1, 4, 12]) {
      for (let r = 0; r < 10; r += 0.37) {
        const h = bornWolfIntensity(r, { ...optics, defocusUm: dz });
        expect(bornWolfIntensity(r, { ...optics, defocusUm: -dz })).toBe(h);
        const n = bornWolfNodes(k0 * optics.na * r, (k0 * dz * optics.na ** 2) / 2);
        expect(Math.abs(bornWolfIntensity(r, { ...optics, defocusUm: dz, nodes: 2 * n }) - h)).toBeLessThan(1e-9);
      }
    }
  });

  it('has the on-axis intensity (sin(b/2)/(b/2))² of a defocused paraxial pupil', () => {
    for (const dz of [0.5, 1.7, 3]) {
      const b = (k0 * dz * optics.na ** 2) / (2 * optics.refractiveIndex);
      expect(bornWolfIntensity(0, { ...optics, defocusUm: dz })).toBeCloseTo((Math.sin(b / 2) / (b / 2)) ** 2, 12);
    }
  });

  it('widens with |defocus| (FWHM at 0, 0.5, 1, 2, 4 µm)', () => {
    const widths = [0, 0.5, 1, 2, 4].map(fwhm);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThan(widths[i - 1]);
    // in focus: FWHM of the Airy disc ≈ 0.514·λ/NA
    expect(widths[0]).toBeCloseTo((0.5145 * optics.wavelengthUm) / optics.na, 2);
  });

  it('n enters as NA²/n in the defocus term: water-immersion PSF at Δz equals the dry one at Δz/1.33', () => {
    const water = { na: 0.75, refractiveIndex: 1.33, wavelengthUm: 0.5 };
    for (let r = 0; r < 3; r += 0.21) {
      expect(bornWolfIntensity(r, { ...water, defocusUm: 2 })).toBeCloseTo(bornWolfIntensity(r, { ...optics, defocusUm: 2 / 1.33 }), 10);
    }
  });
});

describe('bornWolfPsf', () => {
  const base = { ...optics, pixelSizeUm: 0.1, sizePx: 41 };

  it('integrates the Airy pattern over pixels (interpolated profile matches exact sub-samples to 1e-6 of the peak)', () => {
    const psf = bornWolfPsf({ ...base, defocusUm: 0 });
    expect(psf).toHaveLength(41 * 41);
    expect(sum(psf)).toBeCloseTo(1, 6);
    const exact = new Float64Array(41 * 41);
    const sub = [-1 / 3, 0, 1 / 3];
    for (let y = 0; y < 41; y++) for (let x = 0; x < 41; x++) for (const sy of sub) for (const sx of sub) exact[y * 41 + x] += airy(Math.hypot((x - 20 + sx) * 0.1, (y - 20 + sy) * 0.1));
    const s = sum(exact);
    let maxDiff = 0;
    for (let i = 0; i < exact.length; i++) maxDiff = Math.max(maxDiff, Math.abs(exact[i] / s - psf[i]));
    expect(maxDiff / psf[20 * 41 + 20]).toBeLessThan(1e-6);
    // centred and 4-fold symmetric
    expect(psf[20 * 41 + 20]).toBe(Math.max(...psf));
    expect(psf[20 * 41 + 25]).toBeCloseTo(psf[25 * 41 + 20], 7);
    expect(psf[20 * 41 + 15]).toBeCloseTo(psf[20 * 41 + 25], 7);
  });

  it('stacks: one unit-sum plane per defocus, ±Δz identical, peak falls with |Δz|', () => {
    const planes = bornWolfPsfStack({ ...base, defocusUm: [-1, 0, 1, 2] });
    expect(planes).toHaveLength(4);
    for (const p of planes) expect(sum(p)).toBeCloseTo(1, 6);
    expect([...planes[0]]).toEqual([...planes[2]]);
    const c = 20 * 41 + 20;
    expect(planes[1][c]).toBeGreaterThan(planes[2][c]);
    expect(planes[2][c]).toBeGreaterThan(planes[3][c]);
  });

  it('rejects bad optics and sampling with errors naming the field', () => {
    const cases: [Record<string, number>, string][] = [
      [{ sizePx: 40 }, 'sizePx'],
      [{ na: 1.0 }, 'na'],
      [{ na: 1.2, refractiveIndex: 1.0 }, 'na'],
      [{ wavelengthUm: -0.5 }, 'wavelengthUm'],
      [{ pixelSizeUm: 0 }, 'pixelSizeUm'],
      [{ oversampling: 0 }, 'oversampling'],
      [{ defocusUm: Number.NaN }, 'defocusUm[0]'],
      [{ refractiveIndex: 0.9 }, 'refractiveIndex'],
    ];
    for (const [patch, field] of cases) {
      let err: unknown;
      try {
        bornWolfPsf({ ...base, defocusUm: 0, ...patch });
      } catch (e) {
        err = e;
      }
      expect(isFocalError(err), field).toBe(true);
      expect((err as { details: { field: string } }).details.field).toBe(field);
      expect((err as Error).message).toContain(field);
    }
  });
});

describe('gaussianPsf', () => {
  it('is a centred unit-sum Gaussian', () => {
    const g = gaussianPsf({ sigmaPx: 1.5, sizePx: 15 });
    expect(sum(g)).toBeCloseTo(1, 6);
    expect(g[7 * 15 + 8] / g[7 * 15 + 7]).toBeCloseTo(Math.exp(-1 / (2 * 2.25)), 6);
    expect(() => gaussianPsf({ sigmaPx: 0, sizePx: 15 })).toThrow(/sigmaPx/);
    expect(() => gaussianPsf({ sigmaPx: 1, sizePx: 14 })).toThrow(/sizePx/);
  });
});
