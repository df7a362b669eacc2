import { describe, expect, it } from 'vitest';
import { FocalError } from '../errors.js';
import { LUNG_PIXEL_SIZE_UM, lungAutofluorescenceDensity, renderLungAutofluorescence, renderLungHE, renderLungTissue } from './lung.js';

const g = { width: 96, height: 80, pixelSizeUm: LUNG_PIXEL_SIZE_UM };

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) { ma += a[i]; mb += b[i]; }
  ma /= a.length; mb /= b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) { const x = a[i] - ma, y = b[i] - mb; sab += x * y; saa += x * x; sbb += y * y; }
  return sab / Math.sqrt(saa * sbb);
}

describe('lung section (autofluorescence + H&E of one tissue)', () => {
  const params = { alveolusDiameterUm: 12, septumWidthUm: 4, cellDensity: 2, redCellDensity: 1.5 };
  it('is deterministic from the seed and differs between seeds', () => {
    const a = renderLungTissue(g, params, 7);
    const b = renderLungTissue(g, params, 7);
    const c = renderLungTissue(g, params, 8);
    expect(Array.from(a.matrix)).toEqual(Array.from(b.matrix));
    expect(Array.from(renderLungHE(a)[1])).toEqual(Array.from(renderLungHE(b)[1]));
    const afA = renderLungAutofluorescence(a, { defocusUm: 1, seed: 3 });
    const afB = renderLungAutofluorescence(b, { defocusUm: 1, seed: 3 });
    expect(Array.from(afA[1])).toEqual(Array.from(afB[1]));
    expect(Array.from(c.matrix)).not.toEqual(Array.from(a.matrix));
  });

  it('renders both modalities co-registered: stained structures sit where the autofluorescence says', () => {
    const t = renderLungTissue(g, params, 11);
    const [r, gg] = renderLungHE(t);
    const [dapi, txred] = renderLungAutofluorescence(t, { defocusUm: 0, photons: null });
    // tissue absorbs green (eosin) where the septa fluoresce; air spaces are bright and dark respectively
    const absorb = Array.from(gg, (v) => -Math.log10(v));
    expect(corr(absorb, dapi)).toBeGreaterThan(0.3);
    // a one-pixel shift lowers the agreement (co-registration to the pixel)
    const shifted = absorb.map((_, i) => absorb[Math.min(absorb.length - 1, i + 3)]);
    expect(corr(absorb, dapi)).toBeGreaterThan(corr(shifted, dapi));
    // red blood cells: bright in TxRed relative to DAPI, strongly eosinophilic
    let rbc = 0, rbcRatio = 0, other = 0, otherRatio = 0;
    for (let i = 0; i < t.redCells.length; i++) {
      if (t.redCells[i] > 0.8) { rbc++; rbcRatio += txred[i] / dapi[i]; } else if (t.matrix[i] > 0.8) { other++; otherRatio += txred[i] / dapi[i]; }
    }
    expect(rbc).toBeGreaterThan(0);
    expect(rbcRatio / rbc).toBeGreaterThan(2 * (otherRatio / other));
    // nuclei are weak in autofluorescence but dark (haematoxylin) in H&E
    const d0 = lungAutofluorescenceDensity(t, 0);
    let nNuc = 0, afNuc = 0, redNuc = 0;
    let nSep = 0, afSep = 0;
    for (let i = 0; i < t.nuclei.length; i++) {
      if (t.nuclei[i] > 0.9) { nNuc++; afNuc += d0[i]; redNuc += r[i]; }
      if (t.matrix[i] > 0.8) { nSep++; afSep += d0[i]; }
    }
    expect(nNuc).toBeGreaterThan(0);
    expect(afNuc / nNuc).toBeLessThan(0.5 * (afSep / nSep));
    expect(redNuc / nNuc).toBeLessThan(0.6);
  });

  it('supports spatially varying defocus and names bad parameters', () => {
    const t = renderLungTissue(g, params, 5);
    const ramp = Float32Array.from({ length: g.width * g.height }, (_, i) => (1.5 * (i % g.width)) / g.width);
    const [v] = renderLungAutofluorescence(t, { defocusUm: 0, heightMapUm: ramp, photons: null });
    const [f] = renderLungAutofluorescence(t, { defocusUm: 0, photons: null });
    // left columns (≈ in focus) agree with the in-focus image better than the right ones (≈ 1.5 µm)
    const err = (x0: number, x1: number) => { let s = 0; for (let y = 0; y < g.height; y++) for (let x = x0; x < x1; x++) s += Math.abs(v[y * g.width + x] - f[y * g.width + x]); return s; };
    expect(err(0, 10)).toBeLessThan(err(g.width - 10, g.width));
    expect(() => renderLungTissue(g, { septumWidthUm: 99 }, 1)).toThrow(FocalError);
    expect(() => renderLungTissue(g, { septumWidthUm: 99 }, 1)).toThrow(/params.septumWidthUm/);
  });
});
