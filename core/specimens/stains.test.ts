import { describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { mulberry32 } from '../numeric/random.js';
import { renderSpecimen } from './render.js';
import { COUNTER_STAINS, drawStainPair, NUCLEAR_STAINS, restainSection, STAIN_OD } from './stains.js';

function section() {
  const r = renderSpecimen({ family: 'he-gland', widthPx: 48, heightPx: 48, pixelSizeUm: 0.325, seed: 3 });
  if (r.modality !== 'brightfield') throw new Error('he-gland is brightfield');
  return r.section;
}

describe('stains', () => {
  it('tables unit-length, non-negative OD vectors, and every listed stain has one', () => {
    for (const [name, v] of Object.entries(STAIN_OD)) {
      expect(Math.hypot(...v), name).toBeCloseTo(1, 2);
      expect(v.every((c) => c >= 0), name).toBe(true);
    }
    for (const n of [...NUCLEAR_STAINS, ...COUNTER_STAINS]) expect(STAIN_OD[n], n).toBeDefined();
    // DAB absorbs blue most, eosin green most, haematoxylin red and green more than blue
    expect(STAIN_OD.dab[2]).toBeGreaterThan(STAIN_OD.dab[0]);
    expect(STAIN_OD.eosin[1]).toBeGreaterThan(STAIN_OD.eosin[0]);
    expect(STAIN_OD.hematoxylin[0]).toBeGreaterThan(STAIN_OD.hematoxylin[2]);
  });

  it('re-staining swaps the vectors and scales the amounts, leaving the tissue where it was', () => {
    const s = section();
    const r = restainSection(s, [{ name: 'hematoxylin', od: STAIN_OD.hematoxylin, strength: 1 }, { name: 'dab', od: [0.536, 1.14, 1.552], strength: 2 }]);
    expect(r.stainNames).toEqual(['hematoxylin', 'dab']);
    expect(r.stainVectors[1][0]).toBeCloseTo(0.268, 3); // normalised to unit length
    expect(r.thicknessUm).toBe(s.thicknessUm);
    expect(r.layers.length).toBe(s.layers.length);
    const k = s.layers.findIndex((l) => l[1].some((v) => v > 0));
    const i = s.layers[k][1].findIndex((v) => v > 0);
    expect(r.layers[k][1][i]).toBeCloseTo(2 * s.layers[k][1][i], 6);
    expect(r.layers[k][0]).toBe(s.layers[k][0]); // strength 1: the same array
    expect(s.stainNames).toEqual(['hematoxylin', 'eosin']); // the input is not modified
  });

  it('draws stain pairs deterministically: a nuclear stain and a counterstain, strengths in range', () => {
    const a = Array.from({ length: 40 }, (_, i) => drawStainPair(mulberry32(i)));
    const b = Array.from({ length: 40 }, (_, i) => drawStainPair(mulberry32(i)));
    expect(a).toEqual(b);
    for (const [n, c] of a) {
      for (const s of [n, c]) {
        expect(s.strength).toBeGreaterThanOrEqual(0.4);
        expect(s.strength).toBeLessThanOrEqual(1.6);
        expect(Math.hypot(...s.od)).toBeCloseTo(1, 5);
      }
      expect(n.name.startsWith('random(') || (NUCLEAR_STAINS as readonly string[]).includes(n.name)).toBe(true);
      expect(c.name.startsWith('random(') || (COUNTER_STAINS as readonly string[]).includes(c.name)).toBe(true);
    }
    expect(new Set(a.map(([n, c]) => `${n.name}+${c.name}`)).size).toBeGreaterThan(10);
  });

  it('names the field of a bad re-staining', () => {
    const s = section();
    const err = (f: () => unknown) => { try { f(); } catch (e) { if (isFocalError(e)) return { message: e.message, field: e.details.field }; throw e; } throw new Error('no error'); };
    expect(err(() => restainSection(s, [{ name: 'x', od: [1, 0, 0], strength: 1 }]))).toMatchObject({ field: 'stains', message: expect.stringContaining('2 stains') });
    expect(err(() => restainSection(s, [{ name: 'x', od: [1, 0, 0], strength: 1 }, { name: 'y', od: [0, 0, 0], strength: 1 }]))).toMatchObject({ field: 'stains[1].od' });
    expect(err(() => restainSection(s, [{ name: 'x', od: [1, 0, 0], strength: -1 }, { name: 'y', od: [0, 1, 0], strength: 1 }]))).toMatchObject({ field: 'stains[0].strength' });
  });
});
