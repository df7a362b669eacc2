/**
 * Histological stains as RGB optical-density (OD) vectors, and re-staining a brightfield section
 * with other stains. A section's layers hold the amount of each stain; its appearance is
 * Beer–Lambert through the stains' OD vectors, so the same tissue can be shown as H&E, as
 * haematoxylin + DAB (immunohistochemistry), as Giemsa and so on by swapping the vectors. Learned
 * brightfield methods train on such re-stained sections so that they learn the optics (defocus is
 * the same physics whatever the dye) rather than one stain's colours.
 *
 * The vectors are the published measured stain directions used for colour deconvolution (Ruifrok
 * & Johnston 2001 and the later measurements collected with it), each normalised to unit length.
 */
import { FocalError } from '../errors.js';
import type { Rand } from './field.js';
import type { Section } from './family.js';

type Od = [number, number, number];

/** Unit RGB OD vectors of common stains (a unit amount of stain absorbs this OD in R, G, B). */
export const STAIN_OD: Readonly<Record<string, Od>> = {
  hematoxylin: [0.65, 0.704, 0.286],
  eosin: [0.072, 0.99, 0.105],
  dab: [0.268, 0.57, 0.776],
  'methylene-blue': [0.835, 0.514, 0.196],
  'fast-blue': [0.749, 0.606, 0.267],
  'fast-red': [0.214, 0.851, 0.478],
  'methyl-green': [0.98, 0.144, 0.133],
  feulgen: [0.464, 0.83, 0.308],
  'light-green': [0.948, 0.24, 0.21],
  aec: [0.274, 0.68, 0.68],
  pas: [0.175, 0.972, 0.155],
  'alcian-blue': [0.875, 0.458, 0.158],
  'aniline-blue': [0.853, 0.509, 0.113],
  azocarmine: [0.093, 0.866, 0.491],
  'orange-g': [0.107, 0.368, 0.924],
  /** A grey absorber (equal OD in R, G, B): unstained but dense material, pigment, a monochrome camera's view. */
  neutral: [0.577, 0.577, 0.577],
};

/** Stains that mark nuclei (the first stain of a two-stain section, haematoxylin's place). */
export const NUCLEAR_STAINS = ['hematoxylin', 'methylene-blue', 'fast-blue', 'methyl-green', 'feulgen', 'alcian-blue', 'neutral'] as const;
/** Counterstains and chromogens (the second stain, eosin's place). */
export const COUNTER_STAINS = ['eosin', 'dab', 'fast-red', 'light-green', 'aec', 'pas', 'aniline-blue', 'azocarmine', 'orange-g', 'neutral'] as const;

/** One stain of a re-staining: its OD vector (unit length) and a factor on its amount. */
export interface Restain {
  name: string;
  od: Od;
  strength: number;
}

function unit(v: readonly number[], field: string): Od {
  const n = Math.hypot(...v);
  if (v.length !== 3 || !(n > 0) || v.some((c) => !(c >= 0))) throw new FocalError('E_PARAMS', `${field}: an OD vector is three non-negative numbers, not all 0; got [${v.join(', ')}]`, { field });
  return v.map((c) => c / n) as Od;
}

/**
 * A random stain pair for a two-stain section: a nuclear stain and a counterstain from the tables
 * (with probability `randomFraction` each, instead an arbitrary positive OD direction, colours no
 * table lists), each amount scaled by a factor drawn log-uniformly in [strengthMin, strengthMax].
 */
export function drawStainPair(rand: Rand, o: { randomFraction?: number; strengthMin?: number; strengthMax?: number } = {}): [Restain, Restain] {
  const rf = o.randomFraction ?? 0.2;
  const lo = o.strengthMin ?? 0.4;
  const hi = o.strengthMax ?? 1.6;
  if (!(lo > 0 && hi >= lo)) throw new FocalError('E_PARAMS', `strength: need 0 < strengthMin ≤ strengthMax, got ${lo}, ${hi}`, { field: 'strengthMin' });
  const pick = (names: readonly string[]): Restain => {
    const strength = lo * Math.pow(hi / lo, rand());
    if (rand() < rf) {
      const od = unit([0.05 + rand(), 0.05 + rand(), 0.05 + rand()], 'od');
      return { name: `random(${od.map((c) => c.toFixed(2)).join(',')})`, od, strength };
    }
    const name = names[Math.min(names.length - 1, Math.floor(rand() * names.length))];
    return { name, od: unit(STAIN_OD[name], name), strength };
  };
  return [pick(NUCLEAR_STAINS), pick(COUNTER_STAINS)];
}

/**
 * The section with its stains replaced: stain s gets `stains[s]`'s OD vector and its amount in
 * every layer multiplied by `stains[s].strength`. The tissue (where each stain sits) is unchanged.
 */
export function restainSection(section: Section, stains: readonly Restain[]): Section {
  if (stains.length !== section.stainVectors.length) {
    throw new FocalError('E_PARAMS', `stains: the section has ${section.stainVectors.length} stains (${section.stainNames.join(', ')}); ${stains.length} given`, { field: 'stains' });
  }
  stains.forEach((s, i) => {
    if (!(s.strength >= 0) || !Number.isFinite(s.strength)) throw new FocalError('E_PARAMS', `stains[${i}].strength: must be a finite number ≥ 0, got ${s.strength}`, { field: `stains[${i}].strength` });
  });
  return {
    stainNames: stains.map((s) => s.name),
    stainVectors: stains.map((s, i) => unit(s.od, `stains[${i}].od`)),
    layers: section.layers.map((layer) => layer.map((amount, s) => (stains[s].strength === 1 ? amount : amount.map((v) => v * stains[s].strength)))),
    thicknessUm: section.thicknessUm,
  };
}
