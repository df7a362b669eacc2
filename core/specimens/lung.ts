/**
 * A lung-like tissue section rendered two ways on one grid (default 0.1625 µm = a 6.5 µm
 * camera pixel behind a 40× objective): (a) label-free two-channel autofluorescence (DAPI
 * cube, emission 0.447 µm; TxRed cube, 0.624 µm) through a 0.95 NA dry objective with the
 * Born & Wolf PSF, any uniform or per-pixel defocus and Poisson–Gaussian noise, and (b) the
 * H&E brightfield image of the same section (Beer–Lambert, stain strength varied per slide).
 * Both renderings come from the same component maps, so they are co-registered exactly.
 *
 * Components (fractions 0…1 per pixel): alveolar septa (a Voronoi network of walls around
 * alveolar spaces), extracellular-matrix fibres in the septa (collagen/elastin), cytoplasm of
 * the septal cells, nuclei with chromatin texture, red blood cells in septal capillaries, and
 * optional alveolar macrophages with pigment granules.
 *
 * Autofluorescence coefficients (relative emitter density per unit fraction; physical
 * reasoning, not measured spectra):
 * - Elastin and collagen fibres fluoresce strongly under UV/blue excitation (cross-linked
 *   pyridinoline / dityrosine; emission 400–500 nm): the brightest DAPI-channel structure
 *   (1.0), weaker in TxRed (0.35).
 * - Cytoplasm: NAD(P)H and flavins, weak in both (DAPI 0.22, TxRed 0.18); the septal
 *   matrix between fibres 0.35 / 0.2.
 * - Nuclei: DNA and chromatin are hardly autofluorescent, so nuclei are darker than the
 *   cytoplasm around them (DAPI 0.07, TxRed 0.05): the staining network has to infer them
 *   from context (the paper's point).
 * - Red blood cells: haem/porphyrin fluorescence in the red, so bright in TxRed (1.0); the
 *   Soret band absorbs the blue, so dim in DAPI (0.12).
 * - Macrophage pigment (lipofuscin / haemosiderin-laden granules): broad emission, bright in
 *   both (0.8 / 0.7).
 * - A uniform background (mounting medium and glass) of 0.03 in both.
 *
 * H&E optical densities per unit fraction (base 10, before the per-slide strength factors):
 * haematoxylin in nuclei 0.9 (× chromatin texture), eosin: cytoplasm 0.25, septal matrix
 * 0.3, fibres 0.55, red blood cells 0.9 (the most eosinophilic), macrophage cytoplasm 0.2;
 * pigment a brown absorber (OD 0.8). Stain colour vectors are the usual H, E references
 * (as core's he-* families), perturbed per slide.
 */
import { FocalError } from '../errors.js';
import { defocusImage } from '../imaging/defocus.js';
import { mulberry32, gaussianRandom } from '../numeric/random.js';
import { blur, newField, noiseField, paintEllipse, softEdge, uniform, type Ellipse, type Field, type Rand } from './field.js';
import { resolveParams, type BrightfieldFamily, type ParamSpec, type RenderGeometry, type Section } from './family.js';

/** Pixel size of the paper's 40× / 6.5 µm camera (µm). */
export const LUNG_PIXEL_SIZE_UM = 0.1625;
/** Emission wavelengths of the two autofluorescence channels (µm): DAPI and TxRed cubes. */
export const LUNG_AF_WAVELENGTHS_UM = [0.447, 0.624] as const;
export const LUNG_AF_CHANNELS = ['DAPI', 'TxRed'] as const;
export const LUNG_OBJECTIVE_NA = 0.95;

/** Relative autofluorescence per unit of each component: [DAPI, TxRed]. */
export const LUNG_AF_COEFFICIENTS = {
  background: [0.03, 0.03],
  matrix: [0.35, 0.2],
  fibres: [1.0, 0.35],
  cytoplasm: [0.22, 0.18],
  nuclei: [0.07, 0.05],
  redCells: [0.12, 1.0],
  pigment: [0.8, 0.7],
} as const;

/** H&E optical densities per unit of each component (haematoxylin / eosin / pigment). */
export const LUNG_HE_OD = { nucleiH: 0.9, cytoplasmE: 0.25, matrixE: 0.3, fibresE: 0.55, redCellsE: 0.9, macrophageE: 0.2, pigment: 0.8 } as const;

const HEMATOXYLIN: [number, number, number] = [0.65, 0.7, 0.29];
const EOSIN: [number, number, number] = [0.07, 0.99, 0.11];
/** Brown pigment (haemosiderin / anthracotic): absorbs blue most. */
const PIGMENT: [number, number, number] = [0.3, 0.5, 0.81];

export const lungParams: Record<string, ParamSpec> = {
  alveolusDiameterUm: { min: 8, max: 300, description: 'mean alveolar space diameter, µm (real lung ~200 µm; default small enough for a few septa per field)', draw: (r, g) => Math.min(uniform(r, 18, 40), 0.9 * Math.min(g.width, g.height) * g.pixelSizeUm) },
  septumWidthUm: { min: 1, max: 20, description: 'alveolar septum (wall) thickness, µm', draw: (r) => uniform(r, 3, 7) },
  nucleusDiameterUm: { min: 3, max: 12, description: 'mean septal nucleus length, µm', draw: (r) => uniform(r, 5, 8) },
  cellDensity: { min: 0, max: 3, description: 'septal nuclei per 100 µm² of septum', draw: (r) => uniform(r, 0.6, 1.4) },
  redCellDensity: { min: 0, max: 3, description: 'red blood cells per 100 µm² of septum', draw: (r) => uniform(r, 0.3, 1.2) },
  macrophages: { min: 0, max: 1, description: 'probability of an alveolar macrophage per alveolus', draw: (r) => uniform(r, 0, 0.4) },
  hematoxylin: { min: 0.1, max: 3, description: 'haematoxylin strength (× a typical slide)', draw: (r) => uniform(r, 0.7, 1.3) },
  eosin: { min: 0.1, max: 3, description: 'eosin strength (× a typical slide)', draw: (r) => uniform(r, 0.7, 1.3) },
  stainVariation: { min: 0, max: 0.5, description: 'per-slide relative perturbation of the stain colour vectors', draw: (r) => uniform(r, 0, 0.1) },
};

/** The section's component maps (fractions, width × height) and its resolved parameters. */
export interface LungTissue {
  width: number;
  height: number;
  pixelSizeUm: number;
  params: Record<string, number>;
  matrix: Float32Array;
  fibres: Float32Array;
  cytoplasm: Float32Array;
  nuclei: Float32Array;
  /** Chromatin texture inside nuclei (multiplies the haematoxylin), around 1. */
  chromatin: Float32Array;
  redCells: Float32Array;
  macrophage: Float32Array;
  pigment: Float32Array;
  /** Per-slide stain vectors (H, E, pigment) after perturbation. */
  stainVectors: [number, number, number][];
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Renders the lung-like section's components, deterministic from (geometry, params, seed).
 * @throws FocalError `E_PARAMS` naming `params.<name>` for a value out of range, or the
 *   geometry field for a bad size.
 */
export function renderLungTissue(g: RenderGeometry, given: Record<string, number>, seed: number): LungTissue {
  if (!Number.isInteger(g.width) || !Number.isInteger(g.height) || g.width < 8 || g.height < 8 || g.width * g.height > 4096 * 4096) {
    throw new FocalError('E_PARAMS', `widthPx: field must be integer sides ≥ 8 px and ≤ 4096² px, got ${g.width}×${g.height}`, { field: 'widthPx' });
  }
  if (!(g.pixelSizeUm >= 0.01 && g.pixelSizeUm <= 10)) throw new FocalError('E_PARAMS', `pixelSizeUm: must be in [0.01, 10] µm, got ${g.pixelSizeUm}`, { field: 'pixelSizeUm' });
  if (!Number.isInteger(seed)) throw new FocalError('E_PARAMS', `seed: must be an integer, got ${seed}`, { field: 'seed' });
  const p = resolveParams({ name: 'lung', description: '', modality: 'brightfield', params: lungParams, render: () => { throw new Error('unused'); } } as BrightfieldFamily, given, mulberry32((seed ^ 0x5f3759df) >>> 0), g);
  const rand = mulberry32(seed >>> 0);
  const { width: w, height: h } = g;
  const pxOf = (um: number) => um / g.pixelSizeUm;
  const n = w * h;

  // alveolar network: Voronoi cells of jittered seeds (a margin outside the field so walls cross the borders)
  const cellPx = pxOf(p.alveolusDiameterUm);
  const margin = cellPx;
  const seeds: [number, number][] = [];
  const area = (w + 2 * margin) * (h + 2 * margin);
  const nSeeds = Math.max(2, Math.round(area / (cellPx * cellPx * 0.866)));
  for (let k = 0; k < nSeeds; k++) seeds.push([uniform(rand, -margin, w + margin), uniform(rand, -margin, h + margin)]);
  const wobble = noiseField(w, h, pxOf(6), rand);
  const halfWall = pxOf(p.septumWidthUm) / 2;
  const septum = newField(w, h);
  const wallDist = new Float32Array(n);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let d1 = Infinity;
    let d2 = Infinity;
    for (const [sx, sy] of seeds) {
      const d = Math.hypot(x - sx, y - sy);
      if (d < d1) {
        d2 = d1;
        d1 = d;
      } else if (d < d2) d2 = d;
    }
    const i = y * w + x;
    const dist = (d2 - d1) / 2; // distance to the bisector wall, px
    wallDist[i] = dist;
    const hw = halfWall * (1 + 0.35 * wobble.data[i]);
    septum.data[i] = softEdge(dist / Math.max(1, hw), Math.min(0.5, 1.5 / Math.max(1, hw)));
  }
  // fibres: thin ridges (zero crossings of band-limited noise) inside the septa, plus a fibre along each wall's midline
  const ridgeA = noiseField(w, h, pxOf(1.5), rand);
  const ridgeB = noiseField(w, h, pxOf(2.5), rand);
  const fibres = new Float32Array(n);
  const matrix = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = septum.data[i];
    const r = Math.exp(-((ridgeA.data[i] / 0.12) ** 2)) * 0.8 + Math.exp(-((ridgeB.data[i] / 0.1) ** 2)) * 0.6;
    const mid = Math.exp(-((wallDist[i] / Math.max(1, pxOf(0.4))) ** 2));
    fibres[i] = clamp01(s * (0.7 * r + 0.8 * mid));
    matrix[i] = s;
  }
  const cytoplasm = newField(w, h);
  const nuclei = newField(w, h);
  const redCells = newField(w, h);
  const macrophage = newField(w, h);
  const pigment = newField(w, h);
  // septal cells: nuclei on walls, elongated along the wall, with a rim of cytoplasm
  const septumArea = septum.data.reduce((a, v) => a + v, 0) * g.pixelSizeUm ** 2;
  const onWall = (): [number, number] | undefined => {
    for (let t = 0; t < 60; t++) {
      const x = uniform(rand, 0, w);
      const y = uniform(rand, 0, h);
      if (septum.data[Math.floor(y) * w + Math.floor(x)] > 0.6) return [x, y];
    }
    return undefined;
  };
  const wallAngle = (x: number, y: number): number => {
    // along the wall: perpendicular to the gradient of the wall distance
    const xi = Math.min(w - 2, Math.max(1, Math.round(x)));
    const yi = Math.min(h - 2, Math.max(1, Math.round(y)));
    const gx = wallDist[yi * w + xi + 1] - wallDist[yi * w + xi - 1];
    const gy = wallDist[(yi + 1) * w + xi] - wallDist[(yi - 1) * w + xi];
    return Math.atan2(gy, gx) + Math.PI / 2;
  };
  const nCells = Math.round((p.cellDensity * septumArea) / 100);
  for (let k = 0; k < nCells; k++) {
    const at = onWall();
    if (!at) continue;
    const [x, y] = at;
    const len = pxOf(p.nucleusDiameterUm * uniform(rand, 0.8, 1.2));
    const elong = uniform(rand, 1.3, 2.6);
    const ang = wallAngle(x, y) + 0.2 * gaussianRandom(rand);
    const nuc: Ellipse = { cx: x, cy: y, a: len / 2, b: len / 2 / elong, angle: ang, wobble: [{ amp: 0.06 * rand(), phase: 6 * rand() }] };
    paintEllipse(cytoplasm, { ...nuc, a: nuc.a * 1.8, b: nuc.b * 2.2 }, (r) => softEdge(r, 0.3), 'max');
    paintEllipse(nuclei, nuc, (r) => softEdge(r, Math.min(0.5, 1.5 / Math.max(1, nuc.b))), 'max');
  }
  // red blood cells: biconcave discs ~7 µm in septal capillaries
  const nRbc = Math.round((p.redCellDensity * septumArea) / 100);
  for (let k = 0; k < nRbc; k++) {
    const at = onWall();
    if (!at) continue;
    const r = pxOf(uniform(rand, 3.2, 3.8));
    const e: Ellipse = { cx: at[0], cy: at[1], a: r, b: r * uniform(rand, 0.7, 1), angle: Math.PI * rand() };
    paintEllipse(redCells, e, (q) => (q < 1 ? softEdge(q, 0.2) * (0.6 + 0.4 * q * q) : 0), 'max', true);
  }
  // alveolar macrophages: large round cells in the air spaces with pigment granules
  for (const [sx, sy] of seeds) {
    if (sx < 0 || sy < 0 || sx >= w || sy >= h || rand() >= p.macrophages) continue;
    const r = pxOf(uniform(rand, 7, 10));
    const cx = sx + uniform(rand, -0.2, 0.2) * cellPx;
    const cy = sy + uniform(rand, -0.2, 0.2) * cellPx;
    paintEllipse(macrophage, { cx, cy, a: r, b: r * uniform(rand, 0.8, 1), angle: Math.PI * rand(), wobble: [{ amp: 0.08, phase: 6 * rand() }] }, (q) => softEdge(q, 0.15), 'max');
    const nr = pxOf(uniform(rand, 2.5, 3.5));
    paintEllipse(nuclei, { cx: cx + uniform(rand, -0.4, 0.4) * r, cy: cy + uniform(rand, -0.4, 0.4) * r, a: nr * 1.2, b: nr, angle: Math.PI * rand() }, (q) => softEdge(q, 0.3), 'max');
    const granules = Math.round(uniform(rand, 10, 40));
    for (let j = 0; j < granules; j++) {
      const th = 2 * Math.PI * rand();
      const rr = Math.sqrt(rand()) * 0.85 * r;
      const gr = pxOf(uniform(rand, 0.3, 0.8));
      paintEllipse(pigment, { cx: cx + rr * Math.cos(th), cy: cy + rr * Math.sin(th), a: gr, b: gr, angle: 0 }, (q) => softEdge(q, 0.4), 'max', true);
    }
  }
  blur(pigment, 0.6);
  const chromatin = noiseField(w, h, pxOf(0.35), rand);
  const chrom = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    chrom[i] = Math.max(0.3, 1 + 0.45 * chromatin.data[i]);
    // cells replace matrix where they sit; nuclei replace cytoplasm
    cytoplasm.data[i] = clamp01(Math.max(cytoplasm.data[i] * (0.5 + 0.5 * matrix[i]), macrophage.data[i]) - nuclei.data[i]);
    redCells.data[i] = clamp01(redCells.data[i]);
    const occupied = clamp01(nuclei.data[i] + cytoplasm.data[i] + redCells.data[i]);
    matrix[i] = clamp01(matrix[i] - occupied);
    fibres[i] = clamp01(fibres[i] * (1 - occupied));
  }
  const perturb = (v: [number, number, number]) => {
    const q = v.map((c) => Math.max(0.01, c * (1 + p.stainVariation * (2 * rand() - 1)))) as [number, number, number];
    const m = Math.hypot(...q);
    return q.map((c) => c / m) as [number, number, number];
  };
  return {
    width: w, height: h, pixelSizeUm: g.pixelSizeUm, params: p, matrix, fibres, cytoplasm: cytoplasm.data, nuclei: nuclei.data, chromatin: chrom, redCells: redCells.data,
    macrophage: macrophage.data, pigment: pigment.data, stainVectors: [perturb(HEMATOXYLIN), perturb(EOSIN), perturb(PIGMENT)],
  };
}

/** In-focus relative autofluorescence emitter density of one channel (0: DAPI, 1: TxRed). */
export function lungAutofluorescenceDensity(t: LungTissue, channel: 0 | 1): Float32Array {
  const c = LUNG_AF_COEFFICIENTS;
  const out = new Float32Array(t.width * t.height);
  for (let i = 0; i < out.length; i++) {
    out[i] = c.background[channel] + c.matrix[channel] * t.matrix[i] + c.fibres[channel] * t.fibres[i] + c.cytoplasm[channel] * t.cytoplasm[i] + c.nuclei[channel] * t.nuclei[i]
      + c.redCells[channel] * t.redCells[i] + c.pigment[channel] * t.pigment[i];
  }
  return out;
}

/** Options of {@link renderLungAutofluorescence}. */
export interface LungAfOptions {
  /** Uniform defocus, µm (added to `heightMapUm`). */
  defocusUm: number;
  /** Per-pixel defocus, µm (spatially varying focus), width × height. */
  heightMapUm?: ArrayLike<number>;
  /** Photo-electrons at a unit emitter density per channel [DAPI, TxRed] (enables Poisson noise). Default [600, 900] (exposures ~100 / 300 ms). Give null for no noise. */
  photons?: [number, number] | null;
  /** Camera read noise, e⁻ rms. Default 1.6 (sCMOS). */
  readNoiseE?: number;
  /** Noise seed. */
  seed?: number;
  /** Objective NA (default 0.95, dry). */
  na?: number;
}

/**
 * Two-channel autofluorescence of the section (DAPI, TxRed), each blurred with the Born &
 * Wolf PSF of its emission wavelength (NA 0.95, n = 1) at the given defocus, with Poisson
 * photon noise and Gaussian read noise. Values in photo-electrons (noise) or relative density.
 */
export function renderLungAutofluorescence(t: LungTissue, o: LungAfOptions): [Float32Array, Float32Array] {
  const photons = o.photons === undefined ? [600, 900] : o.photons;
  const na = o.na ?? LUNG_OBJECTIVE_NA;
  return ([0, 1] as const).map((c) => {
    const d = lungAutofluorescenceDensity(t, c);
    let max = 0;
    for (const v of d) if (v > max) max = v;
    const r = defocusImage(d, t.width, t.height, {
      na, refractiveIndex: 1, wavelengthUm: LUNG_AF_WAVELENGTHS_UM[c], pixelSizeUm: t.pixelSizeUm, defocusUm: o.defocusUm, heightMapUm: o.heightMapUm, oversampling: 1,
      ...(photons ? { photons: photons[c] * max, readNoiseE: o.readNoiseE ?? 1.6, seed: o.seed ?? 0, noiseStream: c } : {}),
    });
    return r.image;
  }) as [Float32Array, Float32Array];
}

/** Haematoxylin / eosin / pigment optical density maps of the section (with the slide's strengths). */
export function lungStainDensities(t: LungTissue): [Float32Array, Float32Array, Float32Array] {
  const od = LUNG_HE_OD;
  const n = t.width * t.height;
  const H = new Float32Array(n);
  const E = new Float32Array(n);
  const P = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    H[i] = t.params.hematoxylin * od.nucleiH * t.nuclei[i] * t.chromatin[i];
    E[i] = t.params.eosin * (od.cytoplasmE * t.cytoplasm[i] + od.matrixE * t.matrix[i] + od.fibresE * t.fibres[i] + od.redCellsE * t.redCells[i] + od.macrophageE * t.macrophage[i]);
    P[i] = od.pigment * t.pigment[i];
  }
  return [H, E, P];
}

/** The H&E brightfield image, RGB transmittance in (0, 1] per plane (Beer–Lambert, unit illumination, in focus). */
export function renderLungHE(t: LungTissue): [Float32Array, Float32Array, Float32Array] {
  const stains = lungStainDensities(t);
  const n = t.width * t.height;
  const rgb = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      let od = 0;
      for (let s = 0; s < 3; s++) od += stains[s][i] * t.stainVectors[s][c];
      rgb[c][i] = Math.pow(10, -od);
    }
  }
  return rgb;
}

/** The section as a one-layer brightfield {@link Section} (for the specimen library's brightfield renderers). */
export function lungSection(t: LungTissue, thicknessUm = 4): Section {
  const [H, E, P] = lungStainDensities(t);
  return { stainNames: ['hematoxylin', 'eosin', 'pigment'], stainVectors: t.stainVectors, layers: [[H, E, P]], thicknessUm };
}

/** Brightfield family `he-lung`: the H&E rendering of the lung section (the autofluorescence needs {@link renderLungAutofluorescence}). */
export const heLungFamily: BrightfieldFamily = {
  name: 'he-lung',
  modality: 'brightfield',
  description: 'H&E lung-like section (alveolar septa with fibres, septal cells, red blood cells, pigment-laden macrophages); the same tissue renders as two-channel autofluorescence (core renderLungAutofluorescence)',
  params: lungParams,
  render(g, p, rand) {
    return lungSection(renderLungTissue(g, p, Math.floor(rand() * 2 ** 31)));
  },
};

export type { Field, Rand };
