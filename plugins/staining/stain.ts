/**
 * Inference of the staining network and of the cascade over fields of any size: per-field
 * normalisation (zero mean, unit variance per channel, as in training), then core's
 * tiledInference (overlapping tiles, raised-cosine blended seams), YCbCr → RGB.
 */
import { FocalError } from '../../core/index.js';
import { ycbcr601ToRgb } from '../../core/imaging.js';
import { tiledInference, type InferenceEngine } from '../../core/ml.js';
import { normalisePlane, YCC_OFFSET } from './data.js';
import { chainEngines } from './package.js';

export interface Tiling {
  tilePx: number;
  haloPx: number;
  multipleOf: number;
  signal?: AbortSignal;
  onProgress?: (f: number) => void;
  /** Only these pixels are wanted (OpContext.keep of a streamed piece); see TiledInferenceOptions.keep. */
  keep?: { x: number; y: number; width: number; height: number };
  /** Each channel's mean and σ to normalise with (a slide's, when streamed); default: the field's own. */
  statistics?: readonly { mean: number; std: number }[];
}

/** The channels normalised to zero mean and unit variance: by the given statistics (σ + 1e-6, as normalisePlane), else each by its own. */
function normalised(af: readonly ArrayLike<number>[], statistics: Tiling['statistics']): Float32Array[] {
  return af.map((p, c) => {
    const s = statistics?.[c];
    if (!s) return normalisePlane(p);
    const d = s.std + 1e-6;
    return Float32Array.from(p, (q) => (q - s.mean) / d);
  });
}

export type Planes3 = [Float32Array, Float32Array, Float32Array];

function checkAf(af: readonly ArrayLike<number>[], width: number, height: number): void {
  if (af.length !== 2) throw new FocalError('E_PORT', `image: has ${af.length} channels; give the two autofluorescence channels (DAPI, TxRed)`, { field: 'image' });
  af.forEach((p, c) => {
    if (p.length !== width * height) throw new FocalError('E_PORT', `image: channel ${c} has ${p.length} pixels, expected ${width}×${height}`, { field: 'image' });
    for (let i = 0; i < p.length; i++) if (!Number.isFinite(p[i])) throw new FocalError('E_PORT', `image: channel ${c} pixel ${i} is ${p[i]}; all pixels must be finite`, { field: 'image' });
  });
}

/** Virtual H&E of a two-channel autofluorescence field: RGB planes in [0, 1] and the predicted Y/Cb/Cr (/255; the network's output + YCC_OFFSET). */
export async function stainField(af: readonly ArrayLike<number>[], width: number, height: number, stain: InferenceEngine, t: Tiling): Promise<{ rgb: Planes3; ycc: Planes3 }> {
  checkAf(af, width, height);
  const norm = normalised(af, t.statistics);
  const out = await tiledInference(norm, width, height, stain, { tilePx: t.tilePx, haloPx: t.haloPx, multipleOf: t.multipleOf, outChannels: 3, signal: t.signal, onProgress: t.onProgress, keep: t.keep });
  const ycc = out.map((p) => p.map((v) => v + YCC_OFFSET)) as Planes3;
  return { rgb: ycbcr601ToRgb(ycc), ycc };
}

/** Refocused autofluorescence (normalised units) of a field by the cascade's G_DR. */
export async function refocusField(af: readonly ArrayLike<number>[], width: number, height: number, refocus: InferenceEngine, t: Tiling): Promise<[Float32Array, Float32Array]> {
  checkAf(af, width, height);
  const norm = normalised(af, t.statistics);
  return (await tiledInference(norm, width, height, refocus, { tilePx: t.tilePx, haloPx: t.haloPx, multipleOf: t.multipleOf, outChannels: 2, signal: t.signal, onProgress: t.onProgress, keep: t.keep })) as [Float32Array, Float32Array];
}

/** The cascade on a field: G_DR then G_VS on each tile (one tiled pass, seams blended once). */
export async function cascadeField(af: readonly ArrayLike<number>[], width: number, height: number, refocus: InferenceEngine, stain: InferenceEngine, t: Tiling): Promise<{ rgb: Planes3; ycc: Planes3 }> {
  return stainField(af, width, height, chainEngines(refocus, stain), t);
}
