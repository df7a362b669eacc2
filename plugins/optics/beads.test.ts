import { describe, expect, it } from 'vitest';
import { isFocalError, Xoshiro128 } from '../../core/index.js';
import { FWHM_PER_SIGMA, gaussianPsf } from '../../core/imaging.js';
import { psfFromBeadStack, psfFromBeads } from './beads.js';
import { fitGaussian1d } from './fit.js';

interface TrueBead {
  x: number;
  y: number;
  z: number;
}

/** Beads = Gaussians (σ = sigmaPx laterally, sigmaZ planes axially) on a background of 100 with N(0, noise²) noise. */
function beadPlanes(w: number, h: number, beads: TrueBead[], o: { sigmaPx: number; sigmaZ: number; planes: number; noise: number; seed: number }): Float32Array[] {
  const rng = new Xoshiro128(o.seed);
  return Array.from({ length: o.planes }, (_, z) => {
    const img = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = 100;
        for (const b of beads) {
          const r2 = (x - b.x) ** 2 + (y - b.y) ** 2;
          if (r2 > 100) continue;
          v += 1000 * Math.exp(-r2 / (2 * o.sigmaPx ** 2) - (z - b.z) ** 2 / (2 * o.sigmaZ ** 2));
        }
        img[y * w + x] = v + o.noise * rng.normal();
      }
    }
    return img;
  });
}

function grid(seed: number): TrueBead[] {
  const rng = new Xoshiro128(seed);
  const beads: TrueBead[] = [];
  for (let j = 0; j < 4; j++) for (let i = 0; i < 4; i++) beads.push({ x: 16 + 24 * i + rng.uniform() - 0.5, y: 16 + 24 * j + rng.uniform() - 0.5, z: 3 + (rng.uniform() - 0.5) });
  return beads;
}

describe('psfFromBeads', () => {
  const w = 112;
  const truth = grid(9);
  // plus a crowded pair and a bead at the edge, which must not be used
  const extra = [{ x: 100.2, y: 50.3, z: 3 }, { x: 104.9, y: 52.1, z: 3 }, { x: 2.4, y: 60.2, z: 3 }];
  // a single plane through the beads' centres (z = 0)
  const [focus] = beadPlanes(w, w, [...truth, ...extra].map((b) => ({ ...b, z: 0 })), { sigmaPx: 1.6, sigmaZ: 1.5, planes: 1, noise: 5, seed: 2 });

  it('finds the isolated beads, to 0.1 px and 5 % FWHM, and skips crowded and edge ones', () => {
    const r = psfFromBeads(focus, w, w, { boxPx: 13, minSeparationPx: 10, pixelSizeUm: 0.1 });
    expect(r.beads).toHaveLength(16);
    expect(r.rejected.crowded).toBe(2);
    expect(r.rejected.edge).toBe(1);
    expect(Math.abs(r.background - 100)).toBeLessThan(5);
    for (const t of truth) {
      const b = r.beads.find((q) => Math.hypot(q.x - t.x, q.y - t.y) < 1)!;
      expect(b).toBeDefined();
      expect(Math.abs(b.x - t.x)).toBeLessThan(0.1);
      expect(Math.abs(b.y - t.y)).toBeLessThan(0.1);
      expect(Math.abs(b.fwhmXPx / (1.6 * FWHM_PER_SIGMA) - 1)).toBeLessThan(0.05);
      expect(Math.abs(b.fwhmYPx / (1.6 * FWHM_PER_SIGMA) - 1)).toBeLessThan(0.05);
      expect(b.fwhmXUm).toBeCloseTo(b.fwhmXPx * 0.1, 12);
      expect(Math.abs(b.amplitude / 1000 - 1)).toBeLessThan(0.03);
    }
    // averaged PSF ≈ the true Gaussian
    const expected = gaussianPsf({ sigmaPx: 1.6, sizePx: 13 });
    let sum = 0;
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++) {
      sum += r.psf[i];
      maxDiff = Math.max(maxDiff, Math.abs(r.psf[i] - expected[i]));
    }
    expect(sum).toBeCloseTo(1, 5);
    expect(maxDiff / expected[6 * 13 + 6]).toBeLessThan(0.03);
  });

  it('z-stack: axial centre and FWHM from a Gaussian fit along z', () => {
    const planes = beadPlanes(w, w, truth, { sigmaPx: 1.6, sigmaZ: 1.5, planes: 7, noise: 5, seed: 4 });
    const r = psfFromBeadStack(planes, w, w, { boxPx: 13, pixelSizeUm: 0.1, zStepUm: 0.2 });
    expect(r.focusPlane).toBe(3);
    expect(r.planes).toBe(7);
    expect(r.psf).toHaveLength(7 * 13 * 13);
    expect(r.beads).toHaveLength(16);
    for (const t of truth) {
      const b = r.beads.find((q) => Math.hypot(q.x - t.x, q.y - t.y) < 1)!;
      expect(Math.abs(b.z! - t.z)).toBeLessThan(0.1);
      expect(Math.abs(b.fwhmZUm! / (1.5 * FWHM_PER_SIGMA * 0.2) - 1)).toBeLessThan(0.05);
    }
    // lateral FWHM on every plane: the synthetic beads keep σ = 1.6 px at every z
    expect(r.fwhmByPlane).toHaveLength(16 * 7);
    const mid = r.fwhmByPlane.filter((f) => f.plane === 3);
    for (const f of mid) expect(Math.abs(f.fwhmXPx! / (1.6 * FWHM_PER_SIGMA) - 1)).toBeLessThan(0.05);
    // the averaged 3D PSF peaks on the middle plane and is symmetric about it
    const planeSum = (q: number) => r.psf.slice(q * 169, (q + 1) * 169).reduce((s, v) => s + v, 0);
    expect(planeSum(3)).toBeGreaterThan(planeSum(2));
    expect(planeSum(2) / planeSum(4)).toBeCloseTo(1, 1);
  });

  it('fits a 1D Gaussian exactly on noise-free data', () => {
    const v = Array.from({ length: 21 }, (_, i) => 5 + 40 * Math.exp(-((i - 9.3) ** 2) / (2 * 2.2 ** 2)));
    const f = fitGaussian1d(v);
    expect(f.center).toBeCloseTo(9.3, 8);
    expect(f.sigma).toBeCloseTo(2.2, 8);
    expect(f.amplitude).toBeCloseTo(40, 7);
    expect(f.offset).toBeCloseTo(5, 7);
  });

  it('errors name the field', () => {
    const cases: [() => unknown, string][] = [
      [() => psfFromBeads(new Float32Array(0), 0, 0, { boxPx: 13 }), 'image'],
      [() => psfFromBeads(focus, w, w, { boxPx: 12 }), 'boxPx'],
      [() => psfFromBeads(focus, w, w, { boxPx: 13, thresholdSigma: 0 }), 'thresholdSigma'],
      [() => psfFromBeads(new Float32Array(w * w).fill(7), w, w, { boxPx: 13 }), 'image'],
      [() => psfFromBeadStack([focus, focus], w, w, { boxPx: 13 }), 'planes'],
    ];
    for (const [fn, field] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(isFocalError(err), field).toBe(true);
      expect((err as { details: { field: string } }).details.field, field).toBe(field);
    }
  });
});
