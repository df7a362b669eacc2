/**
 * Multi-channel specimen families: one cell geometry drawn once per field and imaged in
 * several channels (stains sharing the geometry, so one channel partly predicts another),
 * for virtual staining (VirFluoNet, issue 20). Each family gives the in-focus object of every
 * channel (fluorescence: emitter density; phase contrast: the phase-contrast intensity of an
 * optical-path-difference map) and the truth (cell and nucleus labels, stress fibres, focal
 * adhesion plaques). {@link renderMultiChannel} images each channel with core's Born & Wolf
 * defocus simulator at its own emission wavelength, adds Poisson–Gaussian camera noise and
 * quantises to 16 bit (camera offset, 1 ADU/e⁻).
 */
import { FocalError } from '../errors.js';
import { defocusImage } from '../imaging/defocus.js';
import { mulberry32 } from '../numeric/random.js';
import { cellPaintingFamily } from './families/cell-painting.js';
import { mdaMb231Family } from './families/mda-mb-231.js';
import type { Fibre } from './cells.js';
import { resolveParams, type ParamSpec, type RenderGeometry } from './family.js';
import { logUniform, uniform, type Rand } from './field.js';

/** One channel of a multi-channel family. */
export interface ChannelInfo {
  /** Channel (filter set) name, e.g. 'DAPI', 'Cy5', 'PhC'. */
  name: string;
  kind: 'fluorescence' | 'phase-contrast';
  /** Stains (or contrast) imaged in this channel. */
  stains: string;
  /** Structures the channel shows. */
  shows: string;
  /** Emission (fluorescence) or illumination (phase contrast) wavelength, µm: the PSF's λ. */
  wavelengthUm: number;
  /** Excitation wavelength, µm (fluorescence; for the record). */
  excitationUm?: number;
}

/** What a field really holds (for tests, features and evaluation). */
export interface MultiChannelTruth {
  /** Owning cell per pixel, 1-based (0 = background). */
  cellLabels: Int32Array;
  /** Nucleus per pixel, labelled with its cell's number (0 = none). */
  nucleusLabels: Int32Array;
  fibres: Fibre[];
  /** Focal-adhesion plaques (vinculin), px; `fibre` indexes `fibres`. */
  plaques: { x: number; y: number; angle: number; cell: number; fibre: number }[];
  /** Per cell (row) and channel (column): the staining gain drawn for it. */
  stainGain: number[][];
}

export interface MultiChannelFamily {
  name: string;
  description: string;
  channels: ChannelInfo[];
  /** Imaging defaults (the paper's set-up or the reading's assumption). */
  defaults: { pixelSizeUm: number; na: number; refractiveIndex: number };
  params: Record<string, ParamSpec>;
  /** In-focus objects, one per channel (same order as `channels`), and the truth. */
  render(g: RenderGeometry, p: Record<string, number>, rand: Rand): { objects: Float32Array[]; truth: MultiChannelTruth };
}

export const MULTICHANNEL_FAMILIES: readonly MultiChannelFamily[] = [cellPaintingFamily, mdaMb231Family];

export function multiChannelFamilyNames(): string[] {
  return MULTICHANNEL_FAMILIES.map((f) => f.name);
}

export function multiChannelFamilyByName(name: string): MultiChannelFamily {
  const f = MULTICHANNEL_FAMILIES.find((q) => q.name === name);
  if (!f) throw new FocalError('E_PARAMS', `family: unknown multi-channel family "${name}"; known: ${multiChannelFamilyNames().join(', ')}`, { field: 'family' });
  return f;
}

export interface MultiChannelOptions {
  family: string;
  widthPx: number;
  heightPx: number;
  seed: number;
  /** Default: the family's. */
  pixelSizeUm?: number;
  na?: number;
  refractiveIndex?: number;
  /** Channels to image (names; default all, in the family's order). */
  channels?: string[];
  /** Defocus of every imaged channel, µm (default 0: in focus). The objects (and the truth) do not depend on it. */
  defocusUm?: number;
  /** Photo-electrons at each channel's brightest in-focus pixel; default drawn per channel, log-uniform in 1000–3000 (phase contrast: ×10). */
  peakPhotons?: number;
  /** Camera read noise, e⁻ rms. Default 2. */
  readNoiseE?: number;
  /** Camera offset, ADU (1 ADU/e⁻). Default 100. */
  offsetAdu?: number;
  /** No noise: the expected image (still offset and clipped to 16 bit, not rounded). For tests and figures. */
  noiseless?: boolean;
  params?: Record<string, number>;
}

export interface MultiChannelImage {
  name: string;
  kind: ChannelInfo['kind'];
  stains: string;
  wavelengthUm: number;
  /** 16-bit camera image (ADU); Float32Array when `noiseless`. */
  image: Uint16Array | Float32Array;
  peakPhotons: number;
}

export interface MultiChannelRendered {
  family: string;
  width: number;
  height: number;
  pixelSizeUm: number;
  na: number;
  refractiveIndex: number;
  defocusUm: number;
  offsetAdu: number;
  params: Record<string, number>;
  channels: MultiChannelImage[];
  /** The in-focus objects of the imaged channels (same order). */
  objects: Float32Array[];
  truth: MultiChannelTruth;
}

function check(field: string, ok: boolean, message: string): void {
  if (!ok) throw new FocalError('E_PARAMS', `${field}: ${message}`, { field });
}

/**
 * Renders and images one field of a multi-channel family. Deterministic from (options, seed):
 * the geometry and stains from `seed`, each channel's noise from its own stream, so the same
 * seed at another defocus gives the same cells (the autofocus pairs).
 * @throws FocalError E_PARAMS naming the field (sizes, pixel size, optics, unknown channel or parameter).
 */
export function renderMultiChannel(o: MultiChannelOptions): MultiChannelRendered {
  const family = multiChannelFamilyByName(o.family);
  check('widthPx', Number.isInteger(o.widthPx) && o.widthPx >= 16 && o.widthPx <= 4096, `must be an integer in [16, 4096], got ${o.widthPx}`);
  check('heightPx', Number.isInteger(o.heightPx) && o.heightPx >= 16 && o.heightPx <= 4096, `must be an integer in [16, 4096], got ${o.heightPx}`);
  check('seed', Number.isInteger(o.seed), `must be an integer, got ${o.seed}`);
  const pixelSizeUm = o.pixelSizeUm ?? family.defaults.pixelSizeUm;
  check('pixelSizeUm', Number.isFinite(pixelSizeUm) && pixelSizeUm >= 0.02 && pixelSizeUm <= 5, `must be in [0.02, 5] µm, got ${pixelSizeUm}`);
  const na = o.na ?? family.defaults.na;
  const refractiveIndex = o.refractiveIndex ?? family.defaults.refractiveIndex;
  const defocusUm = o.defocusUm ?? 0;
  check('defocusUm', Number.isFinite(defocusUm) && Math.abs(defocusUm) <= 100, `must be a finite number within ±100 µm, got ${defocusUm}`);
  const readNoiseE = o.readNoiseE ?? 2;
  check('readNoiseE', Number.isFinite(readNoiseE) && readNoiseE >= 0, `must be ≥ 0 e⁻, got ${readNoiseE}`);
  const offsetAdu = o.offsetAdu ?? 100;
  check('offsetAdu', Number.isFinite(offsetAdu) && offsetAdu >= 0 && offsetAdu < 60000, `must be in [0, 60000) ADU, got ${offsetAdu}`);
  if (o.peakPhotons !== undefined) check('peakPhotons', Number.isFinite(o.peakPhotons) && o.peakPhotons > 0 && o.peakPhotons <= 60000, `must be in (0, 60000] e⁻, got ${o.peakPhotons}`);
  const wanted = o.channels ?? family.channels.map((c) => c.name);
  check('channels', wanted.length > 0, 'name at least one channel');
  const indices = wanted.map((name) => {
    const k = family.channels.findIndex((c) => c.name === name);
    check('channels', k >= 0, `family ${family.name} has no channel "${name}" (it has: ${family.channels.map((c) => c.name).join(', ')})`);
    return k;
  });
  const g: RenderGeometry = { width: o.widthPx, height: o.heightPx, pixelSizeUm };
  const paramRand = mulberry32((o.seed ^ 0x5bd1e995) >>> 0);
  // phase contrast is bright-field light: far more photons than a fluorescence channel
  const peaks = family.channels.map((c) => logUniform(paramRand, 1000, 3000) * (c.kind === 'phase-contrast' ? 10 : 1));
  const bgFractions = family.channels.map(() => uniform(paramRand, 0.01, 0.04));
  const params = resolveParams({ name: family.name, description: '', params: family.params, modality: 'fluorescence', render: () => new Float32Array(0) }, o.params ?? {}, paramRand, g);
  const { objects, truth } = family.render(g, params, mulberry32(o.seed >>> 0));
  const channels: MultiChannelImage[] = indices.map((k) => {
    const info = family.channels[k];
    const peak = o.peakPhotons ?? peaks[k];
    const noise = o.noiseless ? {} : { photons: peak, readNoiseE, backgroundPhotons: bgFractions[k] * peak, seed: o.seed >>> 0, noiseStream: 17 * k };
    const { image, electronsPerUnit } = defocusImage(objects[k], g.width, g.height, { na, refractiveIndex, wavelengthUm: info.wavelengthUm, pixelSizeUm, defocusUm, ...noise });
    let out: Uint16Array | Float32Array;
    if (o.noiseless) {
      let max = 0;
      for (const v of objects[k]) max = Math.max(max, v);
      const s = max > 0 ? peak / max : 0;
      out = new Float32Array(image.length);
      for (let i = 0; i < image.length; i++) out[i] = Math.min(65535, Math.max(0, offsetAdu + (image[i] * s) + bgFractions[k] * peak));
    } else {
      out = new Uint16Array(image.length);
      for (let i = 0; i < image.length; i++) out[i] = Math.min(65535, Math.max(0, Math.round(offsetAdu + image[i])));
      void electronsPerUnit;
    }
    return { name: info.name, kind: info.kind, stains: info.stains, wavelengthUm: info.wavelengthUm, image: out, peakPhotons: peak };
  });
  return {
    family: family.name, width: g.width, height: g.height, pixelSizeUm, na, refractiveIndex, defocusUm, offsetAdu, params, channels,
    objects: indices.map((k) => objects[k]), truth,
  };
}
