import { describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { FAMILIES } from './registry.js';
import { renderSpecimen } from './render.js';

const G = { widthPx: 96, heightPx: 96, pixelSizeUm: 0.325 };

function errorOf(f: () => unknown): { code: string; message: string; field?: unknown } {
  try {
    f();
  } catch (e) {
    if (isFocalError(e)) return { code: e.code, message: e.message, field: e.details.field };
    throw e;
  }
  throw new Error('no error thrown');
}

describe('specimen families', () => {
  for (const fam of FAMILIES) {
    describe(fam.name, () => {
      it('is deterministic from its seed and differs between seeds', () => {
        const a = renderSpecimen({ family: fam.name, ...G, seed: 7 });
        const b = renderSpecimen({ family: fam.name, ...G, seed: 7 });
        const c = renderSpecimen({ family: fam.name, ...G, seed: 8 });
        const px = (r: typeof a) => (r.modality === 'fluorescence' ? r.image : r.rgb[1]);
        expect(a.params).toEqual(b.params);
        expect(Array.from(px(a))).toEqual(Array.from(px(b)));
        expect(Array.from(px(a))).not.toEqual(Array.from(px(c)));
      });

      it('honours the photon budget', () => {
        for (const peakPhotons of [100, 20000]) {
          const r = renderSpecimen({ family: fam.name, ...G, seed: 3, peakPhotons, ...(fam.modality === 'fluorescence' ? { backgroundPhotons: 10 } : {}) });
          if (r.modality === 'fluorescence') {
            let max = -Infinity;
            let min = Infinity;
            for (const v of r.image) [max, min] = [Math.max(max, v), Math.min(min, v)];
            expect(max - 10).toBeCloseTo(peakPhotons, 3);
            expect(min).toBeGreaterThanOrEqual(10 - 1e-3);
            expect(max - min).toBeGreaterThan(0.2 * peakPhotons); // the object has contrast
          } else {
            // transmitted light never exceeds the illumination, and the section absorbs
            let max = -Infinity;
            let mean = 0;
            for (const v of r.rgb[1]) [max, mean] = [Math.max(max, v), mean + v / r.rgb[1].length];
            expect(max).toBeLessThanOrEqual(peakPhotons * (1 + 1e-6));
            expect(mean).toBeLessThan(0.9 * peakPhotons);
            expect(mean).toBeGreaterThan(0.05 * peakPhotons);
          }
        }
      });

      it('draws defaults within range and refuses out-of-range parameters naming the field', () => {
        const r = renderSpecimen({ family: fam.name, ...G, seed: 11 });
        for (const [k, spec] of Object.entries(fam.params)) {
          expect(r.params[k], k).toBeGreaterThanOrEqual(spec.min);
          expect(r.params[k], k).toBeLessThanOrEqual(spec.max);
        }
        const [first, spec] = Object.entries(fam.params)[0];
        const e = errorOf(() => renderSpecimen({ family: fam.name, ...G, seed: 1, params: { [first]: spec.max + 1 } }));
        expect(e.code).toBe('E_PARAMS');
        expect(e.field).toBe(`params.${first}`);
        expect(e.message).toContain(`params.${first}`);
        expect(errorOf(() => renderSpecimen({ family: fam.name, ...G, seed: 1, params: { bogus: 1 } })).field).toBe('params.bogus');
      });
    });
  }

  it('a given parameter is used and leaves the others drawn as before', () => {
    const a = renderSpecimen({ family: 'nuclei', ...G, seed: 5 });
    const b = renderSpecimen({ family: 'nuclei', ...G, seed: 5, params: { diameterUm: 9 } });
    expect(b.params.diameterUm).toBe(9);
    expect({ ...b.params, diameterUm: 0 }).toEqual({ ...a.params, diameterUm: 0 });
  });

  it('the disc is uniform inside with an area matching its diameter', () => {
    const r = renderSpecimen({ family: 'disc', widthPx: 128, heightPx: 128, pixelSizeUm: 0.5, seed: 1, peakPhotons: 1000, backgroundPhotons: 0, params: { diameterUm: 30, offsetX: 0, offsetY: 0 } });
    if (r.modality !== 'fluorescence') throw new Error('fluorescence expected');
    let sum = 0;
    for (const v of r.image) sum += v;
    const areaPx = Math.PI * (15 / 0.5) ** 2;
    expect(sum / 1000 / areaPx).toBeCloseTo(1, 2);
    expect(r.image[64 * 128 + 64]).toBe(1000);
    expect(r.image[64 * 128 + 64 + 25]).toBe(1000);
  });

  it('refuses bad geometry and unknown families naming the field', () => {
    expect(errorOf(() => renderSpecimen({ family: 'nope', ...G, seed: 1 })).field).toBe('family');
    expect(errorOf(() => renderSpecimen({ family: 'nuclei', ...G, pixelSizeUm: 0, seed: 1 })).field).toBe('pixelSizeUm');
    expect(errorOf(() => renderSpecimen({ family: 'nuclei', ...G, widthPx: 3, seed: 1 })).field).toBe('widthPx');
    expect(errorOf(() => renderSpecimen({ family: 'nuclei', ...G, seed: 1, peakPhotons: -5 })).field).toBe('peakPhotons');
    expect(errorOf(() => renderSpecimen({ family: 'he-skin', ...G, seed: 1, backgroundPhotons: 5 })).field).toBe('backgroundPhotons');
  });
});
