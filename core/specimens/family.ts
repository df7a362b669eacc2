/**
 * The family contract: a family is a named, deterministic renderer of an object (fluorescence
 * emitter density, or brightfield stain absorbance per layer of a section) with numeric,
 * physically meaningful parameters. Each parameter has a validated range; a parameter the
 * caller leaves out is drawn from the seed (domain randomisation).
 */
import { FocalError } from '../errors.js';
import { logUniform, uniform, type Rand } from './field.js';

/** Where and how finely the object is sampled. */
export interface RenderGeometry {
  width: number;
  height: number;
  pixelSizeUm: number;
}

/** One numeric parameter of a family. */
export interface ParamSpec {
  min: number;
  max: number;
  description: string;
  /** Draw log-uniformly when not given (min > 0). */
  log?: boolean;
  integer?: boolean;
  /** Custom default draw (e.g. sizes capped by the field); must stay within [min, max]. */
  draw?: (rand: Rand, g: RenderGeometry) => number;
}

/** A brightfield section: absorbance (optical density, base 10) per layer and stain. */
export interface Section {
  stainNames: string[];
  /** RGB optical density of a unit amount of each stain (per stain, [r, g, b]). */
  stainVectors: [number, number, number][];
  /** layers[k][s]: OD of stain s in layer k (top to bottom), width × height. */
  layers: Float32Array[][];
  thicknessUm: number;
}

interface FamilyBase {
  name: string;
  description: string;
  params: Record<string, ParamSpec>;
}

export interface FluorescenceFamily extends FamilyBase {
  modality: 'fluorescence';
  /** Relative emitter density (≥ 0, any scale: the op scales its peak to peakPhotons). */
  render(g: RenderGeometry, p: Record<string, number>, rand: Rand): Float32Array;
}

export interface BrightfieldFamily extends FamilyBase {
  modality: 'brightfield';
  render(g: RenderGeometry, p: Record<string, number>, rand: Rand): Section;
}

export type Family = FluorescenceFamily | BrightfieldFamily;

/**
 * The family's parameters: the given ones checked against their ranges (errors name
 * `params.<name>`), the others drawn from `rand` in the family's order.
 */
export function resolveParams(family: Family, given: Record<string, number>, rand: Rand, g: RenderGeometry): Record<string, number> {
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(family.params, k)) {
      const known = Object.keys(family.params).join(', ') || 'none';
      throw new FocalError('E_PARAMS', `params.${k}: family ${family.name} has no parameter ${k} (it has: ${known})`, { field: `params.${k}` });
    }
  }
  const out: Record<string, number> = {};
  for (const [k, spec] of Object.entries(family.params)) {
    // always draw, so that giving one parameter leaves the draws of the others unchanged
    let drawn = spec.draw ? spec.draw(rand, g) : spec.log ? logUniform(rand, spec.min, spec.max) : uniform(rand, spec.min, spec.max);
    drawn = Math.min(spec.max, Math.max(spec.min, spec.integer ? Math.round(drawn) : drawn));
    const v = given[k];
    if (v === undefined) {
      out[k] = drawn;
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < spec.min || v > spec.max) {
      throw new FocalError('E_PARAMS', `params.${k}: must be a number in [${spec.min}, ${spec.max}] (${spec.description}), got ${v}`, { field: `params.${k}` });
    }
    if (spec.integer && !Number.isInteger(v)) throw new FocalError('E_PARAMS', `params.${k}: must be an integer, got ${v}`, { field: `params.${k}` });
    out[k] = v;
  }
  return out;
}

/** Pixels per µm helper. */
export const px = (g: RenderGeometry, um: number): number => um / g.pixelSizeUm;
/** Field of view, µm (the shorter side). */
export const fieldUm = (g: RenderGeometry): number => Math.min(g.width, g.height) * g.pixelSizeUm;
