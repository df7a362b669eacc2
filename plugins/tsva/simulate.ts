/**
 * TSVA's data simulator: a layered H&E section (core's specimen library, `he-gland` or
 * `he-skin`) imaged in brightfield at any focal position with the paper's layered
 * depth-of-field model (Eq. 2–3: X = Σ_m x_m ∗ h_m, h_m the Born & Wolf PSF of Eq. 1 for
 * layer m's defocus), per colour channel at its own wavelength, then shot noise, read noise
 * and 8-bit quantisation.
 *
 * Layer m (depth z_m µm, + = towards the objective) absorbs a_m,c = (1 − 10^−OD_c) · OD_m,c / OD_c
 * of the light (OD_c = Σ_m OD_m,c): the section's total absorbance split between its layers in
 * proportion to their optical density, so the image in focus of a thin section is exactly
 * Beer–Lambert and the defocused image stays in [0, I0]. The image with the focal plane at z is
 * I_c(z) = I0 · (1 − Σ_m a_m,c ∗ h(z − z_m; λ_c)).
 *
 * Per patch (the paper's §IV-B-1 data trick): the initial focal error ΔD ~ N(0, σ) µm rounded to
 * the stack grid and clipped, F = z_focus + ΔD, two shots at F − s and F + s, Y1 = the sharper by
 * Brenner, the target = the plane at z_focus. Noise (`noise`): 'stack' (the paper's data, default)
 * draws one noise realisation per plane of the patch's z-stack, so a shot that lands on z_focus
 * (ΔD = ±s) *is* the target, as in the paper, where shots and target are planes of one recorded
 * stack; 'independent' gives every image its own realisation (the target never equals a shot).
 */
import { FocalError, Xoshiro128, z } from '../../core/index.js';
import { bornWolfHalfSizePx, bornWolfPsf, brenner, gaussianBlur2d } from '../../core/imaging.js';
import { drawStainPair, renderSpecimen, restainSection, type Restain } from '../../core/specimens.js';
import { LayeredConvolver } from '../../core/spectral.js';

/** Optics and camera of the simulated scanner (paper: not given; a 20×/0.75 dry objective). */
export const TsvaOpticsSchema = z.object({
  na: z.number().gt(0).max(1.5).default(0.75).describe('Objective numerical aperture'),
  refractiveIndex: z.number().min(1).max(2).default(1).describe('Immersion refractive index'),
  wavelengthsUm: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.61, 0.54, 0.47]).describe('Wavelength of the R, G, B channels, µm'),
  pixelSizeUm: z.number().positive().max(5).default(0.325).describe('Pixel size in the sample plane, µm'),
  photons: z.number().positive().default(20000).describe('Photo-electrons per pixel of unstained (white) light'),
  readNoiseE: z.number().min(0).default(2).describe('Camera read noise, e⁻ rms'),
});
export type TsvaOptics = z.infer<typeof TsvaOpticsSchema>;
export const DEFAULT_OPTICS: TsvaOptics = TsvaOpticsSchema.parse({});

/** How patches' focal errors and shots are drawn. */
export const TsvaProtocolSchema = z.object({
  shotOffsetUm: z.number().positive().max(5).default(0.5).describe('s: the shots are at F − s and F + s, µm'),
  deltaDSigmaUm: z.number().positive().default(1).describe('σ of the initial focal error ΔD ~ N(0, σ), µm'),
  deltaDStepUm: z.number().positive().default(0.5).describe('ΔD is rounded to this stack grid, µm'),
  deltaDMaxUm: z.number().positive().default(3).describe('|ΔD| is clipped to this, µm'),
});
export type TsvaProtocol = z.infer<typeof TsvaProtocolSchema>;
export const DEFAULT_PROTOCOL: TsvaProtocol = TsvaProtocolSchema.parse({});

/** Depth groups of the layered model (the specimen's 4–8 layers merged into at most this many). */
export const MAX_GROUPS = 4;

/** A rendered section: per layer and colour the absorbed fraction a_m,c, and the layer depths. */
export interface AbsorbingSection {
  family: string;
  width: number;
  height: number;
  /** absorb[m][c]: a_m,c, width × height. */
  absorb: Float32Array[][];
  /** Depth of each layer's centre, µm (+ = towards the objective), quantised to 0.125 µm so PSFs can be cached. */
  depthUm: number[];
  /** Per colour channel, the transmission of a uniform absorber over the whole section (absent: 1, none). */
  transmission?: [number, number, number];
}

/** How a rendered section departs from its family's H&E draw (all optional). */
export interface SectionVariant {
  /** Section thickness, µm (instead of the family's draw; the families accept 1–10). */
  thicknessUm?: number;
  /** Replace the family's two stains (core's `restainSection`): e.g. haematoxylin + DAB. */
  stains?: readonly Restain[];
  /**
   * A uniform absorber over the whole section, optical density per colour channel (R, G, B): a
   * dense evenly stained region, a tinted mountant or a dimmer lamp. It darkens every plane alike
   * (a uniform layer is the same in and out of focus) and so leaves fewer photons per pixel: the
   * same shot noise is relatively stronger.
   */
  uniformOd?: readonly [number, number, number];
}

/**
 * `softnessUm`: σ (µm) of a Gaussian applied to every layer's absorbance — the section's finest
 * structure made softer, as real sections differ in how crisp they are (fixation, cutting, stain
 * diffusion, smooth cytoplasm against granular chromatin). 0 (default) leaves the render as drawn.
 * `variant`: another thickness or other stains than the family draws.
 */
export function renderSection(family: string, widthPx: number, heightPx: number, seed: number, optics: TsvaOptics = DEFAULT_OPTICS, softnessUm = 0, variant: SectionVariant = {}): AbsorbingSection {
  if (!(softnessUm >= 0)) throw new FocalError('E_PARAMS', `softnessUm: must be ≥ 0, got ${softnessUm}`, { field: 'softnessUm' });
  const uniform = variant.uniformOd;
  if (uniform && !(uniform.length === 3 && uniform.every((v) => v >= 0 && Number.isFinite(v)))) throw new FocalError('E_PARAMS', `uniformOd: need three finite optical densities ≥ 0 (R, G, B), got ${JSON.stringify(uniform)}`, { field: 'uniformOd' });
  const r = renderSpecimen({ family, widthPx, heightPx, pixelSizeUm: optics.pixelSizeUm, seed, peakPhotons: 1, ...(variant.thicknessUm !== undefined ? { params: { thicknessUm: variant.thicknessUm } } : {}) });
  if (r.modality !== 'brightfield') throw new FocalError('E_PARAMS', `family: ${family} is not a brightfield (H&E) family`, { field: 'family' });
  const { layers, stainVectors, thicknessUm } = variant.stains ? restainSection(r.section, variant.stains) : r.section;
  const n = widthPx * heightPx;
  const K = layers.length;
  const od = layers.map(() => [0, 1, 2].map(() => new Float32Array(n)));
  for (let m = 0; m < K; m++) {
    for (let s = 0; s < layers[m].length; s++) {
      const L = layers[m][s];
      const v = stainVectors[s];
      for (let c = 0; c < 3; c++) {
        const o = od[m][c];
        for (let i = 0; i < n; i++) o[i] += L[i] * v[c];
      }
    }
  }
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let m = 0; m < K; m++) total += od[m][c][i];
      const f = total > 0 ? (1 - Math.pow(10, -total)) / total : 0;
      for (let m = 0; m < K; m++) od[m][c][i] *= f;
    }
  }
  const dz = thicknessUm / K;
  const depth = Array.from({ length: K }, (_, m) => thicknessUm / 2 - (m + 0.5) * dz);
  // at most MAX_GROUPS depth groups (neighbouring layers merged, at their mean depth): the cost is one FFT per group and colour
  const groups = Math.min(K, MAX_GROUPS);
  const absorb: Float32Array[][] = [];
  const depthUm: number[] = [];
  for (let g = 0; g < groups; g++) {
    const m0 = Math.floor((g * K) / groups);
    const m1 = Math.floor(((g + 1) * K) / groups);
    const sum = [0, 1, 2].map((c) => {
      const a = new Float32Array(n);
      for (let m = m0; m < m1; m++) for (let i = 0; i < n; i++) a[i] += od[m][c][i];
      return a;
    });
    const sigmaPx = softnessUm / optics.pixelSizeUm;
    absorb.push(sigmaPx > 0 ? sum.map((a) => gaussianBlur2d(a, widthPx, heightPx, sigmaPx, sigmaPx)) : sum);
    depthUm.push(Math.round((depth.slice(m0, m1).reduce((s, v) => s + v, 0) / (m1 - m0)) * 8) / 8);
  }
  return { family: r.family, width: widthPx, height: heightPx, absorb, depthUm, ...(uniform ? { transmission: uniform.map((v) => Math.pow(10, -v)) as [number, number, number] } : {}) };
}

/** Born & Wolf PSFs cached by (wavelength, |defocus|, size). */
const psfCache = new Map<string, Float32Array>();
function psfFor(optics: TsvaOptics, wavelengthUm: number, defocusUm: number, sizePx: number): Float32Array {
  const d = Math.abs(Math.round(defocusUm * 1000) / 1000);
  const key = `${optics.na}|${optics.refractiveIndex}|${optics.pixelSizeUm}|${wavelengthUm}|${d}|${sizePx}`;
  let p = psfCache.get(key);
  if (!p) {
    p = bornWolfPsf({ na: optics.na, refractiveIndex: optics.refractiveIndex, wavelengthUm, pixelSizeUm: optics.pixelSizeUm, defocusUm: d, sizePx, oversampling: 2 });
    if (psfCache.size > 4000) psfCache.clear();
    psfCache.set(key, p);
  }
  return p;
}

/** PSF half-width used for focal positions up to |zMaxUm| from a section of the given thickness. */
export function psfHalfPx(optics: TsvaOptics, maxDefocusUm: number): number {
  return bornWolfHalfSizePx({ na: optics.na, refractiveIndex: optics.refractiveIndex, wavelengthUm: Math.max(...optics.wavelengthsUm), pixelSizeUm: optics.pixelSizeUm, maxDefocusUm });
}

/**
 * The RGB image (interleaved HWC, in [0, 1] of the white level) of the window (x0, y0, w, h)
 * of `section` with the focal plane at `focusUm` (relative to the section's mid-plane), plus
 * per-pixel extra defocus `heightUm` (tile topography, a constant here). The window must lie
 * `halfPx` inside the section. Noise from `seed`/`stream`; `noise: false` gives the expectation.
 */
export function imageAt(section: AbsorbingSection, x0: number, y0: number, w: number, h: number, focusUm: number, optics: TsvaOptics, halfPx: number, seed: number, stream: number, noise = true): Float32Array {
  if (x0 - halfPx < 0 || y0 - halfPx < 0 || x0 + w + halfPx > section.width || y0 + h + halfPx > section.height) {
    throw new FocalError('E_ARGUMENT', `window (${x0}, ${y0}, ${w}×${h}) with a ${halfPx}-px PSF margin leaves the ${section.width}×${section.height} section`, { field: 'window' });
  }
  const cw = w + 2 * halfPx;
  const ch = h + 2 * halfPx;
  const size = 2 * halfPx + 1;
  const out = new Float32Array(w * h * 3);
  const crop = new Float32Array(cw * ch);
  const rng = new Xoshiro128(seed, stream);
  for (let c = 0; c < 3; c++) {
    const conv = new LayeredConvolver(cw, ch, halfPx, halfPx, { boundary: 'reflect' });
    section.absorb.forEach((layer, m) => {
      for (let y = 0; y < ch; y++) {
        const src = (y0 - halfPx + y) * section.width + (x0 - halfPx);
        crop.set(layer[c].subarray(src, src + cw), y * cw);
      }
      conv.add(crop, psfFor(optics, optics.wavelengthsUm[c], focusUm - section.depthUm[m], size), size);
    });
    const absorbed = conv.result();
    const through = section.transmission?.[c] ?? 1;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const t = through * Math.min(1, Math.max(0, 1 - absorbed[(y + halfPx) * cw + x + halfPx]));
        let v = t;
        if (noise) {
          const e = rng.poisson(t * optics.photons) + optics.readNoiseE * rng.normal();
          v = Math.min(255, Math.max(0, Math.round((255 * e) / optics.photons))) / 255;
        }
        out[(y * w + x) * 3 + c] = v;
      }
    }
  }
  return out;
}

/** Mean of the RGB channels of an interleaved HWC image (Brenner is computed on it). */
export function greyOf(hwc: ArrayLike<number>, w: number, h: number, channels = 3): Float32Array {
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += hwc[i * channels + c];
    g[i] = s / channels;
  }
  return g;
}

/** Brenner of each shot and whether the first is Y1 (the sharper; ties go to the first). */
export function orderShots(a: ArrayLike<number>, b: ArrayLike<number>, w: number, h: number, channels = 3): { brennerA: number; brennerB: number; firstIsY1: boolean } {
  const brennerA = brenner(greyOf(a, w, h, channels), w, h);
  const brennerB = brenner(greyOf(b, w, h, channels), w, h);
  return { brennerA, brennerB, firstIsY1: brennerA >= brennerB };
}

/** One training/test example: Y1, Y2 and the in-focus target X, interleaved HWC RGB in [0, 1]. */
export interface TsvaPatch {
  y1: Float32Array;
  y2: Float32Array;
  x: Float32Array;
  /** ΔD = F − z_focus, µm. */
  deltaDUm: number;
  /** Signed offset of Y1's shot from F (−s or +s), µm. */
  y1OffsetUm: number;
  /** z_focus, the in-focus plane, relative to the section's mid-plane, µm (0 with `focus: 'mid-plane'`). */
  focusUm?: number;
  family: string;
  tile: number;
}

export function drawDeltaD(rng: Xoshiro128, p: TsvaProtocol): number {
  const d = Math.round((rng.normal() * p.deltaDSigmaUm) / p.deltaDStepUm) * p.deltaDStepUm;
  return Math.max(-p.deltaDMaxUm, Math.min(p.deltaDMaxUm, d)) + 0; // + 0: no −0
}

/**
 * Which plane of a patch's z-stack is "in focus" (the target, and the origin of ΔD): 'brenner'
 * (the paper's rule: the plane that maximises the Brenner gradient, searched on the ΔD grid within
 * ±FOCUS_SEARCH_UM of the section's mid-plane) or 'mid-plane' (the section's geometric mid-plane,
 * the datasets made before 2026-12-06).
 */
export const TsvaFocusRuleSchema = z.enum(['brenner', 'mid-plane']);
export type TsvaFocusRule = z.infer<typeof TsvaFocusRuleSchema>;
/** Half-range of the Brenner focus search, µm (the families' sections are 3–4 µm thick: their layers lie within ±1.5 µm; `varietyFraction` tiles up to 5 µm thick may have their sharpest plane beyond it, and then take the sharpest plane within it). */
export const FOCUS_SEARCH_UM = 1.5;

/** How images of one patch share noise: one realisation per z-stack plane (the paper), or one per image. */
export const TsvaNoiseSchema = z.enum(['stack', 'independent']);
export type TsvaNoise = z.infer<typeof TsvaNoiseSchema>;

export interface DatasetOptions {
  family: string;
  tiles: number;
  /** Patch side, px. */
  patchPx: number;
  /** Patches per tile side (the tile is patchesPerSide · patchPx px square, plus the PSF margin). */
  patchesPerSide: number;
  seed: number;
  optics?: TsvaOptics;
  protocol?: TsvaProtocol;
  /** 'gaussian' (the paper's protocol) or a fixed list of ΔD values, each simulated for every patch (a uniform sweep). */
  deltaD?: 'gaussian' | number[];
  /** 'stack' (default): a shot at the in-focus plane is the target image, noise and all; 'independent': every image has its own noise. */
  noise?: TsvaNoise;
  /**
   * Specimen softness: each tile's section is softened by a Gaussian of σ ~ U(0, softnessMaxUm) µm
   * (drawn per tile; 0 or absent: every tile as rendered). Real sections are not all equally
   * crisp, so a single shot cannot tell its own defocus from a soft specimen.
   */
  softnessMaxUm?: number;
  /** The in-focus plane: 'mid-plane' when absent (datasets before 2026-12-06); 'brenner' is the paper's rule. */
  focus?: TsvaFocusRule;
  /**
   * Stain and thickness variety: this fraction of the tiles (drawn per tile; 0 or absent: none)
   * is re-stained with a random stain pair (core's `drawStainPair`: haematoxylin + DAB, Giemsa,
   * methyl green + PAS, grey, arbitrary colours…) and cut at a thickness ~ U(thicknessRangeUm).
   * Defocus is the same optics whatever the dye and however thin the section: a network that
   * sees only H&E 3–4 µm thick learns H&E's colours and a thick section's blur as its prior.
   */
  varietyFraction?: number;
  /** Thickness range of the varied tiles, µm (default [1, 5]). */
  thicknessRangeUm?: [number, number];
  /**
   * The varied tiles also lie under a uniform absorber (`SectionVariant.uniformOd`) of optical
   * density ~ U(0, uniformOdMax), greyish (each channel 0.6–1 of it), drawn per tile from its own
   * stream (0 or absent: none; the other draws are unchanged). Real fields are not all bright:
   * a network that only ever saw bright backgrounds sharpens the noise of a dark, even field.
   */
  uniformOdMax?: number;
  /**
   * The defocus (µm) the tiles' PSF margin is sized for; absent: the largest the recipe reaches
   * (|ΔD| + s + half a 5 µm section + the focus search). The margin sets the rendered section's
   * size and so its content: give the same value to recipes that differ only in the shot offset
   * and they render the same scenes, with the same in-focus planes and ΔD (a paired comparison).
   */
  marginDefocusUm?: number;
  onTile?: (done: number, total: number) => void;
}

interface SectionPatchOptions {
  patchPx: number;
  /** Patches across and down the section (inside its `halfPx` PSF margin). */
  across: number;
  down: number;
  halfPx: number;
  optics: TsvaOptics;
  protocol: TsvaProtocol;
  sweep?: number[];
  noise: TsvaNoise;
  byBrenner: boolean;
  tile: number;
  tileSeed: number;
  /** ΔD draws (Gaussian protocol), shared across the sections of a dataset. */
  rng: Xoshiro128;
}

/** The patches of one section: per patch its z-stack (or independent images), in-focus plane, ΔD and the two shots. */
function patchesOfSection(section: AbsorbingSection, q: SectionPatchOptions): TsvaPatch[] {
  const { patchPx: P, halfPx: half, optics, protocol, tileSeed } = q;
  const stackNoise = q.noise === 'stack';
  const out: TsvaPatch[] = [];
  let stream = 0;
  for (let py = 0; py < q.down; py++) {
    for (let px = 0; px < q.across; px++) {
      const x0 = half + px * P;
      const y0 = half + py * P;
      // the patch's z-stack: with 'stack' noise each focal plane is imaged once and reused
      const planes = new Map<number, Float32Array>();
      const plane = (zUm: number): Float32Array => {
        const key = Math.round(zUm * 1e6) / 1e6;
        const seen = stackNoise ? planes.get(key) : undefined;
        if (seen) return seen;
        const img = imageAt(section, x0, y0, P, P, zUm, optics, half, tileSeed, stream++);
        if (stackNoise) planes.set(key, img);
        return img;
      };
      // the in-focus plane: the section's mid-plane, or the paper's rule (the stack's plane of highest Brenner)
      let focusUm = 0;
      if (q.byBrenner) {
        const step = protocol.deltaDStepUm;
        const n = Math.floor(FOCUS_SEARCH_UM / step + 1e-9);
        let best = -Infinity;
        for (let k = -n; k <= n; k++) {
          const b = brenner(greyOf(plane(k * step), P, P), P, P);
          if (b > best) [best, focusUm] = [b, k * step + 0];
        }
      }
      const x = plane(focusUm);
      for (const d of q.sweep ?? [drawDeltaD(q.rng, protocol)]) {
        const s = protocol.shotOffsetUm;
        const lo = plane(focusUm + d - s);
        const hi = plane(focusUm + d + s);
        const { firstIsY1 } = orderShots(lo, hi, P, P);
        out.push({ y1: firstIsY1 ? lo : hi, y2: firstIsY1 ? hi : lo, x, deltaDUm: d, y1OffsetUm: firstIsY1 ? -s : s, family: section.family, tile: q.tile, ...(q.byBrenner ? { focusUm } : {}) });
      }
    }
  }
  return out;
}

/**
 * A thin section made from a real brightfield RGB image (interleaved HWC, [0, 1] of the white
 * level): one layer at the mid-plane that absorbs 1 − I per colour, reflect-padded by `halfPx` so
 * that every pixel of the image can be a patch pixel. Real texture and colour, but no depth: the
 * image is taken as the object, and its own (unknown) blur stays in it.
 */
export function sectionFromImage(name: string, hwc: ArrayLike<number>, width: number, height: number, halfPx: number): AbsorbingSection {
  if (hwc.length !== width * height * 3) throw new FocalError('E_ARGUMENT', `${name}: ${hwc.length} values for a ${width}×${height} RGB image (${width * height * 3} expected)`, { field: 'image' });
  if (width <= halfPx || height <= halfPx) throw new FocalError('E_ARGUMENT', `${name}: ${width}×${height} px is smaller than the ${halfPx}-px PSF margin`, { field: 'image' });
  const W = width + 2 * halfPx;
  const H = height + 2 * halfPx;
  const reflect = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
  const absorb = [0, 1, 2].map((c) => {
    const a = new Float32Array(W * H);
    for (let y = 0; y < H; y++) {
      const sy = reflect(y - halfPx, height);
      for (let x = 0; x < W; x++) a[y * W + x] = Math.min(1, Math.max(0, 1 - hwc[(sy * width + reflect(x - halfPx, width)) * 3 + c]));
    }
    return a;
  });
  return { family: name, width: W, height: H, absorb: [absorb], depthUm: [0] };
}

export interface ImageDatasetOptions {
  /** Names the patches' `family`. */
  name: string;
  hwc: ArrayLike<number>;
  width: number;
  height: number;
  patchPx: number;
  seed: number;
  /** 'gaussian' (default) or a uniform sweep of ΔD values. */
  deltaD?: 'gaussian' | number[];
  noise?: TsvaNoise;
  focus?: TsvaFocusRule;
  optics?: TsvaOptics;
  protocol?: TsvaProtocol;
}

/** TSVA patches from a real image taken as a thin section ({@link sectionFromImage}): every whole patch of the image. Deterministic from the options. */
export function simulateFromImage(o: ImageDatasetOptions): TsvaPatch[] {
  const optics = o.optics ?? DEFAULT_OPTICS;
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  const sweep = o.deltaD === undefined || o.deltaD === 'gaussian' ? undefined : o.deltaD;
  const byBrenner = (o.focus ?? 'brenner') === 'brenner';
  const half = psfHalfPx(optics, (sweep ? Math.max(...sweep.map(Math.abs)) : protocol.deltaDMaxUm) + protocol.shotOffsetUm + (byBrenner ? FOCUS_SEARCH_UM : 0));
  const across = Math.floor(o.width / o.patchPx);
  const down = Math.floor(o.height / o.patchPx);
  if (across === 0 || down === 0) throw new FocalError('E_ARGUMENT', `${o.name}: ${o.width}×${o.height} px holds no ${o.patchPx}-px patch`, { field: 'patchPx' });
  const section = sectionFromImage(o.name, o.hwc, o.width, o.height, half);
  return patchesOfSection(section, { patchPx: o.patchPx, across, down, halfPx: half, optics, protocol, sweep, noise: o.noise ?? 'stack', byBrenner, tile: 0, tileSeed: o.seed >>> 0, rng: new Xoshiro128(o.seed, 1) });
}

/** The tile's variant under `varietyFraction` (none for the other tiles), from its own stream of the tile seed. */
function varietyOf(o: DatasetOptions, tileSeed: number): SectionVariant {
  const f = o.varietyFraction ?? 0;
  if (!(f >= 0 && f <= 1)) throw new FocalError('E_PARAMS', `varietyFraction: must be in [0, 1], got ${f}`, { field: 'varietyFraction' });
  const odMax = o.uniformOdMax ?? 0;
  if (!(odMax >= 0 && odMax <= 2)) throw new FocalError('E_PARAMS', `uniformOdMax: must be in [0, 2], got ${odMax}`, { field: 'uniformOdMax' });
  if (odMax > 0 && f === 0) throw new FocalError('E_PARAMS', `uniformOdMax: darkens the varied tiles; give varietyFraction > 0 too`, { field: 'uniformOdMax' });
  if (f === 0) return {};
  const r = new Xoshiro128(tileSeed, 0x57a1);
  if (r.uniform() >= f) return {};
  const [lo, hi] = o.thicknessRangeUm ?? [1, 5];
  if (!(lo >= 1 && hi >= lo && hi <= 5)) throw new FocalError('E_PARAMS', `thicknessRangeUm: need 1 ≤ min ≤ max ≤ 5 µm (the PSF margin allows 5), got [${lo}, ${hi}]`, { field: 'thicknessRangeUm' });
  const variant: SectionVariant = { thicknessUm: lo + (hi - lo) * r.uniform(), stains: drawStainPair(() => r.uniform()) };
  if (odMax === 0) return variant;
  const u = new Xoshiro128(tileSeed, 0x0d0d);
  const amount = odMax * u.uniform();
  return { ...variant, uniformOd: [0, 1, 2].map(() => amount * (0.6 + 0.4 * u.uniform())) as [number, number, number] };
}

/** Simulated patches (Dataset 1: he-gland; Dataset 2: he-skin). Deterministic from the options. */
export function simulateDataset(o: DatasetOptions): TsvaPatch[] {
  const optics = o.optics ?? DEFAULT_OPTICS;
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  const sweep = o.deltaD === undefined || o.deltaD === 'gaussian' ? undefined : o.deltaD;
  const byBrenner = (o.focus ?? 'mid-plane') === 'brenner';
  const maxD = (sweep ? Math.max(...sweep.map(Math.abs)) : protocol.deltaDMaxUm) + protocol.shotOffsetUm + 2.5 + (byBrenner ? FOCUS_SEARCH_UM : 0); // + half of a 5 µm section (the families draw 3–4 µm) + the focus search
  if (o.marginDefocusUm !== undefined && !(o.marginDefocusUm >= maxD && o.marginDefocusUm <= 20)) {
    throw new FocalError('E_PARAMS', `marginDefocusUm: must cover the recipe's largest defocus, ${maxD} µm, and be ≤ 20 µm; got ${o.marginDefocusUm}`, { field: 'marginDefocusUm' });
  }
  const half = psfHalfPx(optics, o.marginDefocusUm ?? maxD);
  const P = o.patchPx;
  const side = o.patchesPerSide * P + 2 * half;
  const out: TsvaPatch[] = [];
  const rng = new Xoshiro128(o.seed, 1);
  for (let t = 0; t < o.tiles; t++) {
    const tileSeed = (o.seed * 7919 + t * 104729) >>> 0;
    const softnessUm = (o.softnessMaxUm ?? 0) > 0 ? new Xoshiro128(tileSeed, 0x50f7).uniform() * o.softnessMaxUm! : 0;
    const section = renderSection(o.family, side, side, tileSeed, optics, softnessUm, varietyOf(o, tileSeed));
    out.push(...patchesOfSection(section, { patchPx: P, across: o.patchesPerSide, down: o.patchesPerSide, halfPx: half, optics, protocol, sweep, noise: o.noise ?? 'stack', byBrenner, tile: t, tileSeed, rng }));
    o.onTile?.(t + 1, o.tiles);
  }
  return out;
}
