/**
 * Rendering a family: the object at a pixel size and field size, deterministic from
 * (family, parameters, seed). Fluorescence: expected photons per pixel in focus
 * (backgroundPhotons + peakPhotons · density / max density). Brightfield: the transmitted
 * photons per RGB channel of the whole section (Beer–Lambert over all layers), and the layers.
 */
import { FocalError } from '../errors.js';
import { mulberry32 } from '../numeric/random.js';
import { logUniform, maxOf, uniform } from './field.js';
import { resolveParams, type RenderGeometry, type Section } from './family.js';
import { familyByName } from './registry.js';

export interface RenderOptions {
  family: string;
  widthPx: number;
  heightPx: number;
  pixelSizeUm: number;
  seed: number;
  /** Fluorescence: photons at the brightest object pixel (above background); brightfield: photons per pixel of the unstained illumination. Default: drawn log-uniformly in 100–20 000. */
  peakPhotons?: number;
  /** Fluorescence: uniform background (autofluorescence, out-of-focus light), photons per pixel. Default: drawn in 0–5 % of peakPhotons. */
  backgroundPhotons?: number;
  /** Family parameters (see the family's ranges); missing ones are drawn from the seed. */
  params?: Record<string, number>;
}

export type Rendered =
  | { modality: 'fluorescence'; family: string; image: Float32Array; width: number; height: number; peakPhotons: number; backgroundPhotons: number; params: Record<string, number> }
  | { modality: 'brightfield'; family: string; rgb: [Float32Array, Float32Array, Float32Array]; section: Section; width: number; height: number; peakPhotons: number; params: Record<string, number> };

const MAX_PIXELS = 4096 * 4096;

function check(field: string, ok: boolean, message: string): void {
  if (!ok) throw new FocalError('E_PARAMS', `${field}: ${message}`, { field });
}

export function renderSpecimen(o: RenderOptions): Rendered {
  const family = familyByName(o.family);
  check('widthPx', Number.isInteger(o.widthPx) && o.widthPx >= 8, `must be an integer ≥ 8, got ${o.widthPx}`);
  check('heightPx', Number.isInteger(o.heightPx) && o.heightPx >= 8, `must be an integer ≥ 8, got ${o.heightPx}`);
  check('widthPx', o.widthPx * o.heightPx <= MAX_PIXELS, `field of ${o.widthPx}×${o.heightPx} px exceeds ${MAX_PIXELS} px`);
  check('pixelSizeUm', Number.isFinite(o.pixelSizeUm) && o.pixelSizeUm >= 0.01 && o.pixelSizeUm <= 10, `must be in [0.01, 10] µm, got ${o.pixelSizeUm}`);
  check('seed', Number.isInteger(o.seed), `must be an integer, got ${o.seed}`);
  if (o.peakPhotons !== undefined) check('peakPhotons', Number.isFinite(o.peakPhotons) && o.peakPhotons > 0 && o.peakPhotons <= 1e9, `must be in (0, 1e9], got ${o.peakPhotons}`);
  if (o.backgroundPhotons !== undefined) check('backgroundPhotons', Number.isFinite(o.backgroundPhotons) && o.backgroundPhotons >= 0 && o.backgroundPhotons <= 1e9, `must be in [0, 1e9], got ${o.backgroundPhotons}`);
  if (o.backgroundPhotons !== undefined && family.modality === 'brightfield') check('backgroundPhotons', false, 'applies to fluorescence families only');
  const g: RenderGeometry = { width: o.widthPx, height: o.heightPx, pixelSizeUm: o.pixelSizeUm };
  // parameter draws and structure draws come from separate streams of the seed
  const paramRand = mulberry32((o.seed ^ 0x2545f491) >>> 0);
  const peakDrawn = logUniform(paramRand, 100, 20000);
  const bgFraction = uniform(paramRand, 0, 0.05);
  const params = resolveParams(family, o.params ?? {}, paramRand, g);
  const rand = mulberry32(o.seed >>> 0);
  const peakPhotons = o.peakPhotons ?? peakDrawn;
  if (family.modality === 'fluorescence') {
    const density = family.render(g, params, rand);
    const m = maxOf(density);
    const bg = o.backgroundPhotons ?? bgFraction * peakPhotons;
    const image = new Float32Array(density.length);
    for (let i = 0; i < image.length; i++) image[i] = bg + (m > 0 ? (peakPhotons * Math.max(0, density[i])) / m : 0);
    return { modality: 'fluorescence', family: family.name, image, width: g.width, height: g.height, peakPhotons, backgroundPhotons: bg, params };
  }
  const section = family.render(g, params, rand);
  const rgb = [0, 1, 2].map(() => new Float32Array(g.width * g.height)) as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < g.width * g.height; i++) {
    for (let c = 0; c < 3; c++) {
      let od = 0;
      for (const layer of section.layers) for (let s = 0; s < layer.length; s++) od += layer[s][i] * section.stainVectors[s][c];
      rgb[c][i] = peakPhotons * Math.pow(10, -od);
    }
  }
  return { modality: 'brightfield', family: family.name, rgb, section, width: g.width, height: g.height, peakPhotons, params };
}
