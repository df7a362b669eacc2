/**
 * The family registry: every family by name. `he-lung` is the H&E side of the lung section
 * whose two-channel autofluorescence core/specimens/lung.ts renders (issue 19); multi-channel
 * families (core/specimens/multichannel.ts) have their own registry.
 */
import { FocalError } from '../errors.js';
import { BRIGHTFIELD_FAMILIES } from './families/brightfield.js';
import { heLungFamily } from './lung.js';
import { FLUORESCENCE_FAMILIES } from './families/fluorescence.js';
import { mulberry32 } from '../numeric/random.js';
import { normalise, uniform } from './field.js';
import { resolveParams, type Family, type FluorescenceFamily } from './family.js';

/** Families a `mixture` draws its components from (not the test-only disc, nor points). */
const MIXABLE = ['nuclei', 'cells', 'membranes', 'actin', 'microtubules', 'mitochondria', 'puncta', 'beads', 'tissue'];

export const mixtureFamily: FluorescenceFamily = {
  name: 'mixture',
  modality: 'fluorescence',
  description: `sum of 2–4 randomised fluorescence families (${MIXABLE.join(', ')}) with random weights`,
  params: {
    components: { min: 2, max: 4, integer: true, description: 'number of families mixed', draw: (r) => Math.round(uniform(r, 2, 3)) },
  },
  render(g, p, rand) {
    const out = new Float32Array(g.width * g.height);
    for (let k = 0; k < p.components; k++) {
      const fam = familyByName(MIXABLE[Math.floor(rand() * MIXABLE.length)]) as FluorescenceFamily;
      const sub = mulberry32(Math.floor(rand() * 2 ** 32));
      const d = normalise(fam.render(g, resolveParams(fam, {}, sub, g), sub));
      const w = uniform(rand, 0.3, 1);
      for (let i = 0; i < out.length; i++) out[i] += w * d[i];
    }
    return out;
  },
};

export const FAMILIES: readonly Family[] = [...FLUORESCENCE_FAMILIES, mixtureFamily, ...BRIGHTFIELD_FAMILIES, heLungFamily];

export function familyNames(): string[] {
  return FAMILIES.map((f) => f.name);
}

export function familyByName(name: string): Family {
  const f = FAMILIES.find((q) => q.name === name);
  if (!f) throw new FocalError('E_PARAMS', `family: unknown family "${name}"; known: ${familyNames().join(', ')}`, { field: 'family' });
  return f;
}
