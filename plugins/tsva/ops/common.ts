/** What the TSVA ops share: the model params, model resolution, engines and RGB output stacks. */
import { createStack, FocalError, z, type Stack } from '../../../core/index.js';
import { createInferenceEngine, MAX_GRID_RATIO, modelGrid, resolveModelDir, type InferenceEngine, type ModelGrid, type ResampleMode } from '../../../core/ml.js';
import { loadTsvaPackage, type TsvaMeta } from '../package.js';
import { TwoShotDefocus } from '../defocus-estimate.js';

export const DEMO_MODEL = 'tsva-demo';

/** How the ops meet shots whose pixel size is not the model's: resampled to its grid ('auto') or fed as they are ('off'). */
export const resampleParam = z
  .enum(['auto', 'off'])
  .default('auto')
  .describe("When the shots' calibration gives a pixel size more than 10 % (and at most 4×) from the model's: 'auto' refocuses them on the model's pixel grid (resampled, cubic spline) and adds the network's correction, resampled back, to Y1 at the shots' own pixels, so the result keeps their size and detail; 'off' feeds them as they are (with a warning: a defocus then spans another number of pixels than the network learned). Shots without a calibration are fed as they are");

export const modelParams = {
  model: z.string().min(1).default(DEMO_MODEL).describe(`TSVA model package folder, or the name of a bundled model (default '${DEMO_MODEL}'; 'tsva-unet-baseline-demo' is the single-shot baseline)`),
  tileSize: z.number().int().positive().max(65536).optional().describe("Tile side, px (a multiple of the model's multipleOf); default: the package's tilePx"),
  overlapPx: z.number().int().nonnegative().max(32768).optional().describe("Halo of context on each tile side, px (blended seams); default: the package's haloPx"),
  engine: z.enum(['auto', 'onnxruntime', 'tfjs']).default('auto').describe("Inference engine: 'auto' (onnxruntime when the package has ONNX weights, else tfjs)"),
  outputType: z.enum(['uint8', 'float32']).default('uint8').describe("Pixel type of the result: 'uint8' RGB (0–255, like the shots; ready for cellcount) or 'float32' RGB in [0, 1]"),
  whiteLevel: z.number().positive().max(3.4e38).optional().describe("The shots' value of empty glass (the white level of the camera): the network works on [0, 1] of it and the result is on that scale. Default: the pixel type's full scale (255 for uint8, 65535 for uint16, 1 for float); a 12-bit camera writing uint16 needs 4095. A shot whose brightest pixels reach under 25 % of it gets a warning"),
  order: z.enum(['brenner', 'as-given']).default('brenner').describe("Which shot is Y1: 'brenner' = the sharper by the Brenner gradient (the paper); 'as-given' = the first"),
  shotOffsetUm: z.number().positive().max(2).optional().describe("s of the acquisition, µm: the two shots at F − s and F + s. When given it is checked against the s the model was trained at (its package records it; 0.5 µm for the bundled models) and a mismatch is refused: a two-shot network fed shots at another offset does worse than the sharper shot alone (plugins/tsva/docs/offset/). The single-shot baseline takes any s"),
  resample: resampleParam,
  gate: z
    .enum(['focus', 'off'])
    .default('focus')
    .describe("'focus' (default; not the paper): the tile's focus error, estimated from the two shots without the network (depth from defocus; tiles of 64 px or more), says how far Y1 is from focus; within a quarter of the optics' depth of field (n·λ/(4·NA²), 0.24 µm for the demo) Y1 is returned as it is, beyond half of it the network's output, blended between: an in-focus shot is left untouched rather than redrawn by the network (+0.1 to +1.3 dB on every test set, plugins/tsva/docs/gate/). 'off': the network's output, as the paper"),
  guard: z.enum(['consistency', 'off']).default('off').describe("'consistency' (not the paper): the output, re-blurred by its best-fitting defocus, must explain Y1 up to Y1's noise, else the result falls back towards Y1 (and Y1 is returned when it is already as sharp as the output): it limits the damage on images unlike the training data, and costs some of the gain on like ones (plugins/tsva/docs/tsva.md); 'off': the network's output"),
};

export interface OpenModel {
  engine: InferenceEngine;
  meta: TsvaMeta;
  tilePx: number;
  haloPx: number;
  multipleOf: number;
  name: string;
}

export async function openModel(params: { model?: string; tileSize?: number; overlapPx?: number; engine?: 'auto' | 'onnxruntime' | 'tfjs'; shotOffsetUm?: number }): Promise<OpenModel> {
  const { pkg, meta } = await loadTsvaPackage(resolveModelDir(params.model ?? DEMO_MODEL));
  const m = pkg.manifest;
  const trainedS = meta.protocol.shotOffsetUm;
  if (params.shotOffsetUm !== undefined && meta.arch !== 'unet' && Math.abs(params.shotOffsetUm - trainedS) > 1e-6) {
    throw new FocalError('E_PARAMS', `shotOffsetUm: the shots are at F ± ${params.shotOffsetUm} µm, but the model ${m.name} was trained on shots at F ± ${trainedS} µm; fed another offset it does worse than the sharper shot alone. Use a model trained at ${params.shotOffsetUm} µm (focal train tsva --shot-offset ${params.shotOffsetUm}) or acquire at ± ${trainedS} µm`, { field: 'shotOffsetUm' });
  }
  const multipleOf = m.multipleOf ?? 1;
  const tilePx = params.tileSize ?? m.tilePx;
  const haloPx = params.overlapPx ?? m.haloPx;
  if (tilePx % multipleOf !== 0) throw new FocalError('E_PARAMS', `tileSize: ${tilePx} px is not a multiple of ${multipleOf} (the model's)`, { field: 'tileSize' });
  if (2 * haloPx >= tilePx) throw new FocalError('E_PARAMS', `overlapPx: ${haloPx} px leaves nothing of a ${tilePx}-px tile (needs 2·overlapPx < tileSize)`, { field: 'overlapPx' });
  const engine = await createInferenceEngine(pkg, { engine: params.engine ?? 'auto' });
  return { engine, meta, tilePx, haloPx, multipleOf, name: m.name };
}

/** The shots' calibrated pixel size (undefined when the file does not say), the model's, and whether the first is within MAX_GRID_RATIO× of the second. */
function shotsPixel(calibration: Stack['calibration'] | undefined, m: Pick<OpenModel, 'meta'>): { px?: number; trained: number; trusted: boolean } {
  const given = calibration?.pixelWidthUm ?? calibration?.pixelHeightUm;
  const px = given !== undefined && given > 0 ? given : undefined;
  const trained = m.meta.optics.pixelSizeUm;
  return { px, trained, trusted: px === undefined || (px / trained <= MAX_GRID_RATIO && trained / px <= MAX_GRID_RATIO) };
}

/** What an op does about the shots' pixel size: the scale for refocusPair (the shots' pixel size ÷ the model's) and what to say in the log. */
export type PixelGrid = ModelGrid;

/**
 * The shots' pixel grid against the model's (see {@link resampleParam}; core's `modelGrid`):
 * within 10 %, or with no calibration in the file, the shots are taken as they are.
 */
export function pixelGrid(calibration: Stack['calibration'] | undefined, field: string, m: Pick<OpenModel, 'meta' | 'name'>, mode: ResampleMode = 'auto'): PixelGrid {
  return modelGrid(calibration, field, { name: m.name, pixelSizeUm: m.meta.optics.pixelSizeUm }, mode, { subject: 'the shots are', verb: 'refocused', back: 'the correction is resampled back to their pixels' });
}

/**
 * The two-shot focus-error estimator for tiles of `width` × `height` px (depth from defocus,
 * defocus-estimate.ts) with the model's optics at the shots' pixel size (their calibration, else
 * the model's): 128-px analysis windows when a tile holds at least 2 × 2 of them, else 64 px;
 * none for tiles under 64 px, or at a calibrated pixel size more than MAX_GRID_RATIO× the model's.
 */
export function focusEstimator(m: Pick<OpenModel, 'meta'>, calibration: Stack['calibration'] | undefined, width: number, height: number, shotOffsetUm?: number): TwoShotDefocus | undefined {
  const side = Math.min(width, height);
  const { px, trusted } = shotsPixel(calibration, m);
  if (side < 64 || !trusted) return undefined;
  const optics = { ...m.meta.optics, ...(px !== undefined ? { pixelSizeUm: px } : {}) };
  return new TwoShotDefocus({ optics, shotOffsetUm: shotOffsetUm ?? m.meta.protocol.shotOffsetUm, windowPx: side >= 256 ? 128 : 64 });
}

/** A warning naming the tiles whose estimated focus error is beyond the range the model was trained on (none when all are within). */
export function outOfRangeWarning(estimates: readonly { tile: number; deltaDUm: number | null }[], m: Pick<OpenModel, 'meta' | 'name'>): string | undefined {
  const max = m.meta.protocol.deltaDMaxUm;
  const out = estimates.filter((e) => e.deltaDUm !== null && Math.abs(e.deltaDUm) > max);
  if (out.length === 0) return undefined;
  const listed = out.slice(0, 8).map((e) => `${e.tile} (${e.deltaDUm! > 0 ? '+' : ''}${e.deltaDUm!.toFixed(1)} µm)`).join(', ');
  return `${out.length} of ${estimates.length} tiles are estimated more than ${max} µm from focus, beyond the range ${m.name} was trained on (±${max} µm): tile ${listed}${out.length > 8 ? ', …' : ''}. Their recovery is unreliable; acquire them again nearer focus (deltaDUm in the tiles table: F minus the in-focus plane, from the two shots' spectra)`;
}

/** Says in the run's log which shot offset a two-shot model expects (when the op was not told the acquisition's). */
export function logShotOffset(ctx: { log: { info(message: string): void } }, m: Pick<OpenModel, 'meta' | 'name'>): void {
  if (m.meta.arch !== 'unet') ctx.log.info(`${m.name} was trained on shots at F ± ${m.meta.protocol.shotOffsetUm} µm; shots at another offset need a model trained at it (shotOffsetUm checks this)`);
}

/** The R, G, B planes of interleaved HWC (values on the [0, 1] scale of the shots, clipped): uint8 (×255, rounded) or float32. */
export function rgbPlanes(hwc: Float32Array, n: number, dtype: 'uint8' | 'float32'): (Uint8Array | Float32Array)[] {
  return [0, 1, 2].map((c) => {
    const p = dtype === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const v = Math.min(1, Math.max(0, hwc[i * 3 + c]));
      p[i] = dtype === 'uint8' ? Math.round(255 * v) : v;
    }
    return p;
  });
}

/** An RGB stack from interleaved HWC (see {@link rgbPlanes}). */
export function rgbStack(hwc: Float32Array, width: number, height: number, dtype: 'uint8' | 'float32', calibration?: Stack['calibration']): Stack {
  const planes = rgbPlanes(hwc, width * height, dtype);
  return createStack({ width, height, dtype, sizeC: 3, rgb: dtype === 'uint8', planes, channelNames: ['R', 'G', 'B'], ...(calibration ? { calibration } : {}) });
}
