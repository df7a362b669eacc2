import { describe, expect, it } from 'vitest';
import { BENDING_WEIGHT_DEFAULTS, ELASTIC_DEFAULTS, registerElastic, warpImage } from './register.js';
import { endpointError } from './synthetic.js';
import { HELDOUT_FAMILIES, TUNING_FAMILIES, registrationCases, renderCase } from './testset.js';

describe('registration test set (issue 24)', () => {
  it('tuning and held-out parts share no generator family', () => {
    for (const f of HELDOUT_FAMILIES) expect(TUNING_FAMILIES as readonly string[]).not.toContain(f);
    const tuning = registrationCases('tuning', 64, 2);
    const heldout = registrationCases('heldout', 64, 2);
    expect(new Set(tuning.map((c) => c.family)).size).toBe(TUNING_FAMILIES.length);
    expect(heldout.every((c) => (HELDOUT_FAMILIES as readonly string[]).includes(c.family))).toBe(true);
    // both metrics, several amplitudes, noise levels and remaps
    expect(new Set(heldout.map((c) => c.maxDisplacementPx)).size).toBeGreaterThan(2);
    expect(new Set(heldout.map((c) => c.noiseFraction)).size).toBeGreaterThan(2);
    expect(new Set(heldout.filter((c) => c.metric === 'mi').map((c) => c.remap)).size).toBeGreaterThan(1);
  });

  it('pairs are deterministic and follow the field convention (moving(x + u) = fixed(x) before noise)', () => {
    const c = { ...registrationCases('heldout', 64, 1).find((q) => q.metric === 'ssd')!, noiseFraction: 0 };
    const a = renderCase(c), b = renderCase(c);
    expect(a.fixed).toEqual(b.fixed);
    expect(a.moving).toEqual(b.moving);
    const back = warpImage({ data: a.moving, width: 64, height: 64 }, a.ux, a.uy, 64, 64);
    let d2 = 0, v2 = 0, mean = 0;
    for (let y = 12; y < 52; y++) for (let x = 12; x < 52; x++) mean += a.fixed[y * 64 + x] / 1600;
    for (let y = 12; y < 52; y++) {
      for (let x = 12; x < 52; x++) {
        d2 += (back[y * 64 + x] - a.fixed[y * 64 + x]) ** 2;
        v2 += (a.fixed[y * 64 + x] - mean) ** 2;
      }
    }
    expect(Math.sqrt(d2 / v2)).toBeLessThan(0.02);
  });
});

/** Limits ≈ 2× the errors measured with the defaults when this test was written (stated in docs/elastic.md). */
const LIMIT_SSD_PX = 0.2; // measured 0.100 px (before 0.80 px)
const LIMIT_MI_PX = 0.04; // measured 0.014 px (before 0.58 px)

describe('elastic.register defaults on a held-out-style pair (a family the tuning did not use)', () => {
  it('registers a 160² he-skin pair (SSD) and a 160² blob-texture pair (MI) below the stated error', () => {
    const cases = registrationCases('heldout', 160, 1);
    for (const [family, metric, limitPx] of [['he-skin', 'ssd', LIMIT_SSD_PX], ['blobs', 'mi', LIMIT_MI_PX]] as const) {
      const c = cases.find((q) => q.family === family && q.metric === metric)!;
      const p = renderCase(c);
      const zero = new Float32Array(p.ux.length);
      const before = endpointError(zero, zero, p.ux, p.uy, p.width, p.height, 16).mean;
      const r = registerElastic({ data: p.moving, width: p.width, height: p.height }, { data: p.fixed, width: p.width, height: p.height }, { metric });
      const e = endpointError(r.ux, r.uy, p.ux, p.uy, p.width, p.height, 16);
      console.log(`defaults ${JSON.stringify({ ...ELASTIC_DEFAULTS, metric, bendingWeight: BENDING_WEIGHT_DEFAULTS[metric] })} on ${c.id} 160²: mean endpoint error ${e.mean.toFixed(3)} px (before ${before.toFixed(2)} px)`);
      expect(before).toBeGreaterThan(0.5);
      expect(e.mean).toBeLessThan(limitPx);
    }
  });
});
