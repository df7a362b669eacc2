/**
 * Colour pre-processing for brightfield images: RGB → grey as ImageJ converts, and colour
 * deconvolution of stained tissue (Ruifrok & Johnston 2001).
 */
import { FocalError } from '../../core/index.js';

export interface RgbToGreyOptions {
  /** ImageJ's "weighted RGB conversions": 0.299 R + 0.587 G + 0.114 B; false: (R + G + B)/3. */
  weighted: boolean;
}

function checkChannels(r: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>): void {
  if (g.length !== r.length || b.length !== r.length) {
    throw new FocalError('E_ARGUMENT', `r/g/b: the three channels must have the same length, got ${r.length}, ${g.length}, ${b.length}`);
  }
}

/**
 * ImageJ's RGB → 8-bit conversion (Image › Type › 8-bit): round(R/3 + G/3 + B/3), or with
 * `weighted` round(0.299 R + 0.587 G + 0.114 B) (Edit › Options › Conversions › Weighted).
 * Equal to ImageJ 1.53t's output on every pixel of the test image (rgbToGrey test).
 * @throws FocalError `E_ARGUMENT` when the channels differ in length.
 */
export function rgbToGrey(r: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, options: RgbToGreyOptions): Uint8Array {
  checkChannels(r, g, b);
  const [wr, wg, wb] = options.weighted ? [0.299, 0.587, 0.114] : [1 / 3, 1 / 3, 1 / 3];
  const out = new Uint8Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const v = Math.floor(r[i] * wr + g[i] * wg + b[i] * wb + 0.5);
    out[i] = v > 255 ? 255 : v;
  }
  return out;
}

/** Named stain sets: unit optical-density vectors (R, G, B) from Ruifrok & Johnston (2001), Table 1. */
export const STAIN_VECTORS = {
  /** Haematoxylin, eosin. */
  'H&E': [
    [0.65, 0.7, 0.29],
    [0.07, 0.99, 0.11],
  ],
  /** Haematoxylin, DAB. */
  'H-DAB': [
    [0.65, 0.7, 0.29],
    [0.27, 0.57, 0.78],
  ],
} as const satisfies Record<string, readonly (readonly number[])[]>;

export type StainSet = keyof typeof STAIN_VECTORS;

function normalise(v: readonly number[]): number[] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/**
 * The 3×3 stain matrix (rows = unit OD vectors). With two stains the third is their
 * normalised cross product (a "residual" channel orthogonal to both, signed so that its
 * components sum to a positive number).
 * @throws FocalError `E_ARGUMENT` for malformed or degenerate vectors.
 */
export function stainMatrix(vectors: StainSet | readonly (readonly number[])[]): number[][] {
  const raw = typeof vectors === 'string' ? STAIN_VECTORS[vectors] : vectors;
  if (!raw) throw new FocalError('E_ARGUMENT', `vectors: unknown stain set '${String(vectors)}'; use ${Object.keys(STAIN_VECTORS).join(', ')} or 2–3 RGB vectors`);
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3) throw new FocalError('E_ARGUMENT', 'vectors: give 2 or 3 stain vectors of 3 numbers (R, G, B optical densities)');
  for (const v of raw) {
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => !Number.isFinite(x) || x < 0) || Math.hypot(v[0], v[1], v[2]) === 0) {
      throw new FocalError('E_ARGUMENT', `vectors: each stain vector needs 3 finite numbers, not all zero; got [${String(v)}]`);
    }
  }
  const m = raw.map(normalise);
  if (m.length === 2) {
    const [a, b] = m;
    const c = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    if (Math.hypot(c[0], c[1], c[2]) < 1e-9) throw new FocalError('E_ARGUMENT', 'vectors: the two stain vectors are parallel');
    const sign = c[0] + c[1] + c[2] < 0 ? -1 : 1;
    m.push(normalise(c.map((x) => sign * x)));
  }
  if (Math.abs(det3(m)) < 1e-9) throw new FocalError('E_ARGUMENT', 'vectors: the stain vectors are linearly dependent');
  return m;
}

function det3(m: number[][]): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

function invert3(m: number[][]): number[][] {
  const d = det3(m);
  const [[a, b, c], [d1, e, f], [g, h, i]] = m;
  return [
    [(e * i - f * h) / d, (c * h - b * i) / d, (b * f - c * e) / d],
    [(f * g - d1 * i) / d, (a * i - c * g) / d, (c * d1 - a * f) / d],
    [(d1 * h - e * g) / d, (b * g - a * h) / d, (a * e - b * d1) / d],
  ];
}

export interface ColourDeconvolution {
  /** The stain matrix used (rows: stain 1, 2, 3 unit OD vectors). */
  matrix: number[][];
  /** Per stain, its optical density (concentration × unit vector length 1) at each pixel, float32. */
  density: [Float32Array, Float32Array, Float32Array];
  /** Per stain, the 8-bit transmittance image that stain alone would give: round(255·10^(−density)), clamped to 0…255. */
  transmittance: [Uint8Array, Uint8Array, Uint8Array];
}

/**
 * Colour deconvolution (Ruifrok & Johnston 2001): the optical density of each pixel,
 * OD_c = −log10(max(I_c, 1)/255) per channel c, is written as a combination of the stains'
 * unit OD vectors, OD = C·M, and solved with M⁻¹. For 'H&E' and 'H-DAB' stain 1 is
 * haematoxylin (nuclei), so `transmittance[0]` is the 8-bit haematoxylin image (dark nuclei on
 * a bright background, like the "Colour_1" image of ImageJ's Colour Deconvolution plugin).
 * Negative concentrations (noise, or colours outside the stains' span) are kept in `density`
 * and give 255 in `transmittance`.
 * @throws FocalError `E_ARGUMENT` for channels of different lengths or bad vectors.
 */
export function colourDeconvolution(
  r: ArrayLike<number>,
  g: ArrayLike<number>,
  b: ArrayLike<number>,
  vectors: StainSet | readonly (readonly number[])[],
): ColourDeconvolution {
  checkChannels(r, g, b);
  const matrix = stainMatrix(vectors);
  const inv = invert3(matrix);
  const n = r.length;
  const density: [Float32Array, Float32Array, Float32Array] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  const transmittance: [Uint8Array, Uint8Array, Uint8Array] = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)];
  // OD lookup for the 256 possible 8-bit values (0 treated as 1 to keep the OD finite)
  const odOf = new Float64Array(256);
  for (let v = 0; v < 256; v++) odOf[v] = -Math.log10(Math.max(v, 1) / 255);
  const od = (x: number) => (Number.isInteger(x) && x >= 0 && x <= 255 ? odOf[x] : -Math.log10(Math.min(255, Math.max(x, 1)) / 255));
  for (let i = 0; i < n; i++) {
    const o0 = od(r[i]);
    const o1 = od(g[i]);
    const o2 = od(b[i]);
    for (let s = 0; s < 3; s++) {
      const c = o0 * inv[0][s] + o1 * inv[1][s] + o2 * inv[2][s];
      density[s][i] = c;
      const t = Math.round(255 * Math.pow(10, -c));
      transmittance[s][i] = t > 255 ? 255 : t < 0 ? 0 : t;
    }
  }
  return { matrix, density, transmittance };
}
