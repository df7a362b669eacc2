/**
 * A varied, seeded registration test set (issue 24): pairs from several generators — the
 * core specimen library's fluorescence and H&E families, the blurred-noise texture of
 * synthetic.ts and core's Gaussian-blob texture — under smooth synthetic deformations of
 * different amplitude (1.5–6 px) and smoothness, with different noise levels, and for MI
 * with multimodal intensity remaps. Generated in code (nothing committed as images).
 *
 * The set is split by generator family: the defaults of elastic.register were tuned on the
 * `tuning` families only and are reported on the `heldout` families (bench/registration-elastic.ts).
 * `mixture` (a sum of families on both sides) and the degenerate `disc` / `points` are not used.
 */
import { FocalError, mulberry32 } from '../../core/index.js';
import { renderSpecimen, texturedSpecimen } from '../../core/specimens.js';
import { warpImage } from './register.js';
import { gaussianNoise, smoothField, texturedImage } from './synthetic.js';

/** Generator families the defaults were tuned on. */
export const TUNING_FAMILIES = ['texture', 'nuclei', 'membranes', 'actin', 'microtubules', 'mitochondria', 'beads', 'he-gland'] as const;
/** Generator families held out from tuning (reported on). */
export const HELDOUT_FAMILIES = ['tissue', 'cells', 'puncta', 'he-skin', 'blobs'] as const;

export type RegistrationPart = 'tuning' | 'heldout';

/** How the moving image's intensities differ from the fixed image's (MI cases). */
export type Remap = 'none' | 'invert-gamma' | 'nonmonotonic' | 'other-channel';

export interface RegistrationCase {
  id: string;
  family: string;
  part: RegistrationPart;
  metric: 'ssd' | 'mi';
  seed: number;
  sizePx: number;
  /** Largest displacement magnitude of the true field, px. */
  maxDisplacementPx: number;
  /** Gaussian bumps of the true field, and their σ as a fraction of the image size (smaller = less smooth). */
  bumps: number;
  sigmaFraction: number;
  /** Gaussian noise σ on both images, as a fraction of each image's 1–99 % intensity range. */
  noiseFraction: number;
  remap: Remap;
}

export interface RegistrationPair {
  moving: Float32Array;
  fixed: Float32Array;
  /** True field on the fixed grid: moving(x + u(x)) = fixed(x) before noise. */
  ux: Float32Array;
  uy: Float32Array;
  width: number;
  height: number;
}

/** Deformation and noise settings the cases cycle through (amplitude px, bumps, σ fraction, noise fraction). */
const DEFORMATIONS: ReadonlyArray<[number, number, number, number]> = [
  [1.5, 4, 1 / 5, 0.01],
  [4, 6, 1 / 8, 0],
  [6, 5, 1 / 6, 0.02],
  [3, 8, 1 / 10, 0.005],
];

const MI_REMAPS: Remap[] = ['invert-gamma', 'nonmonotonic'];

/**
 * The cases of one part: for every family of the part, `perFamily` SSD cases and `perFamily`
 * MI cases (deformation, noise and remap cycle through fixed lists, offset per family).
 */
export function registrationCases(part: RegistrationPart, sizePx: number, perFamily = 2): RegistrationCase[] {
  const families: readonly string[] = part === 'tuning' ? TUNING_FAMILIES : HELDOUT_FAMILIES;
  const out: RegistrationCase[] = [];
  families.forEach((family, fi) => {
    for (const metric of ['ssd', 'mi'] as const) {
      for (let k = 0; k < perFamily; k++) {
        const j = fi + k * 2 + (metric === 'mi' ? 1 : 0);
        const [maxDisplacementPx, bumps, sigmaFraction, noiseFraction] = DEFORMATIONS[j % DEFORMATIONS.length];
        const brightfield = family.startsWith('he-');
        const remap: Remap = metric === 'ssd' ? 'none' : brightfield && k % 2 === 0 ? 'other-channel' : MI_REMAPS[(fi + k) % MI_REMAPS.length];
        const seed = 1000 * (fi + 1) + 10 * k + (metric === 'mi' ? 5 : 0) + (part === 'heldout' ? 500000 : 0);
        out.push({ id: `${family}/${metric}/${k}`, family, part, metric, seed, sizePx, maxDisplacementPx, bumps, sigmaFraction, noiseFraction, remap });
      }
    }
  });
  return out;
}

/** The undeformed base images of a case on a w×h canvas: the fixed modality and the moving modality (before remap). */
function baseImages(c: RegistrationCase, w: number, h: number): { a: Float32Array; b: Float32Array } {
  if (c.family === 'texture') {
    const a = texturedImage(w, h, c.seed);
    return { a, b: a };
  }
  if (c.family === 'blobs') {
    const a = texturedSpecimen(w, h, c.seed, 0.02);
    return { a, b: a };
  }
  const rand = mulberry32(c.seed ^ 0x5bd1e995);
  const pixelSizeUm = 0.3 + 0.5 * rand();
  const r = renderSpecimen({ family: c.family, widthPx: w, heightPx: h, pixelSizeUm, seed: c.seed, peakPhotons: 1000 });
  if (r.modality === 'fluorescence') return { a: r.image, b: r.image };
  // brightfield: the green channel is the fixed modality; `other-channel` registers the red one onto it
  return { a: r.rgb[1], b: c.remap === 'other-channel' ? r.rgb[0] : r.rgb[1] };
}

function percentileRange(d: Float32Array): { lo: number; hi: number } {
  const s = Float32Array.from(d).sort();
  return { lo: s[Math.floor(0.01 * (s.length - 1))], hi: s[Math.floor(0.99 * (s.length - 1))] };
}

/** The moving image's intensity remap, on values scaled to [0, 1] by the 1–99 % range. */
function remapValues(d: Float32Array, remap: Remap): Float32Array {
  if (remap === 'none' || remap === 'other-channel') return d;
  const { lo, hi } = percentileRange(d);
  const span = hi - lo || 1;
  return d.map((v) => {
    const t = Math.min(1.2, Math.max(-0.2, (v - lo) / span));
    // inverted and non-linear; or non-monotonic (a bright band in the middle of the range)
    return remap === 'invert-gamma' ? 1000 * Math.max(0, 1.2 - t) ** 1.5 : 1000 * (Math.exp(-(((t - 0.45) / 0.25) ** 2)) + 0.3 * t);
  });
}

/**
 * Renders a case: the base image on a padded canvas (so that the fixed image has real content
 * where its source lies beyond the moving image's border), moving = the centre crop, fixed =
 * the canvas warped by the true field; then the remap (moving) and noise (both).
 */
export function renderCase(c: RegistrationCase): RegistrationPair {
  const n = c.sizePx;
  if (!Number.isInteger(n) || n < 32) throw new FocalError('E_ARGUMENT', `sizePx must be an integer ≥ 32, got ${n}`, { field: 'sizePx' });
  const pad = Math.ceil(c.maxDisplacementPx) + 4;
  const bw = n + 2 * pad;
  const { a, b } = baseImages(c, bw, bw);
  const bRemapped = remapValues(b, c.remap);
  const { ux, uy } = smoothField(n, n, c.seed + 1, { bumps: c.bumps, sigmaPx: c.sigmaFraction * n, maxDisplacementPx: c.maxDisplacementPx });
  const sx = new Float32Array(n * n), sy = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    sx[i] = ux[i] + pad;
    sy[i] = uy[i] + pad;
  }
  const fixed = warpImage({ data: a, width: bw, height: bw }, sx, sy, n, n);
  const moving = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) moving[y * n + x] = bRemapped[(y + pad) * bw + x + pad];
  const noise = gaussianNoise(mulberry32(c.seed + 2));
  for (const img of [fixed, moving]) {
    const { lo, hi } = percentileRange(img);
    const sd = c.noiseFraction * (hi - lo);
    if (sd > 0) for (let i = 0; i < img.length; i++) img[i] += sd * noise();
  }
  return { moving, fixed, ux, uy, width: n, height: n };
}
