/** What the staining ops share: model params and resolution, reading the two AF channels, RGB output stacks. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStack, FocalError, planeIndex, z, type DType, type Stack, type TilingPlan } from '../../../core/index.js';
import { inferenceWorkingBytes, resolveModelDir, tiledInferenceStreaming, unetActivationFloats } from '../../../core/ml.js';
import { refocuserOptions, stainerOptions } from '../model.js';

export const DEMO_STAINING = 'staining-demo';
export const DEMO_CASCADE = 'staining-cascade-demo';

export const tilingParams = {
  tileSize: z.number().int().positive().max(65536).optional().describe("Tile side, px (a multiple of the model's multipleOf); default: the package's tilePx"),
  overlapPx: z.number().int().nonnegative().max(32768).optional().describe("Halo of context on each tile side, px (blended seams); default: the package's haloPx (the cascade: the larger of both)"),
  engine: z.enum(['auto', 'onnxruntime', 'tfjs']).default('auto').describe("Inference engine: 'auto' (onnxruntime when the package has ONNX weights, else tfjs)"),
  outputType: z.enum(['uint8', 'float32']).default('uint8').describe("Pixel type of the H&E result: 'uint8' RGB (0–255) or 'float32' RGB in [0, 1]"),
  channelMean: z
    .array(z.number().min(-1e12).max(1e12))
    .length(2)
    .optional()
    .describe("Normalise the two channels (DAPI, TxRed) with these means instead of the field's own (with channelStd). A streamed run (focal run on a slide) passes the whole slide's, so its tiles are normalised as the whole is"),
  channelStd: z.array(z.number().positive().max(1e12)).length(2).optional().describe("Normalise the two channels with these population standard deviations instead of the field's own (with channelMean)"),
};

/** The streamer measures each channel's mean and σ of a slide and passes them as these params (OperationDef.planeStatistics). */
export const channelStatistics = { meanParam: 'channelMean', stdParam: 'channelStd', perChannel: true } as const;

/** Each channel's mean and σ when both params are given, else undefined (each field is normalised by its own). */
export function givenStatistics(p: { channelMean?: number[]; channelStd?: number[] }): { mean: number; std: number }[] | undefined {
  if (!p.channelMean || !p.channelStd) return undefined;
  const std = p.channelStd;
  return p.channelMean.map((mean, c) => ({ mean, std: std[c] }));
}

/**
 * tilePx, haloPx and multipleOf of a model package's manifest (read synchronously: an op's
 * `tiling` is synchronous), and the floats per pixel of a network tile its U-Net makes (core's
 * unetActivationFloats; 0 for an arch this plugin does not build).
 */
export function manifestTiling(model: string, field: string): { tilePx: number; haloPx: number; multipleOf: number; activationFloats: number } {
  const m = JSON.parse(readFileSync(join(resolveModelDir(model, { field }), 'manifest.json'), 'utf8')) as { tilePx: number; haloPx: number; multipleOf?: number; extra?: { arch?: string; baseChannels?: number; inputResidual?: boolean } };
  const x = m.extra ?? {};
  const net = typeof x.baseChannels !== 'number' ? undefined : x.arch === 'g_vs' ? stainerOptions(x.baseChannels) : x.arch === 'g_dr' ? refocuserOptions(x.baseChannels, undefined, x.inputResidual !== false) : undefined;
  return { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf ?? 1, activationFloats: net ? unetActivationFloats(net) : 0 };
}

/** What the ops' networks hold beside the image when run in tiles of `tilePx` (each its session and one tile's tensors): TilingPlan.workingBytes. */
export function networksWorkingBytes(activationFloats: readonly number[], tilePx: number): number {
  return activationFloats.reduce((sum, a) => sum + inferenceWorkingBytes({ activationFloats: a, tilePx }), 0);
}

/**
 * The streamed tiling of a staining op that runs its network in overlapping tiles (core's
 * tiledInference: tiles of `tilePx` stepping by `step` from −haloPx, blended seams): pieces start
 * on that step (gridPx) and reach one network tile past what they keep (halo = tile − haloPx),
 * so every piece runs exactly the whole field's tiles on the same pixels, and the streamed
 * result equals the whole-field one. Only with the channels' statistics given (else each piece
 * would be normalised by its own). Every channel of a tile goes in together.
 */
export function stainingTiling(
  t: { tilePx: number; haloPx: number; multipleOf: number; workingBytes?: number },
  out: { dtype: DType; channels: number; rgb: boolean; names: readonly string[] },
): TilingPlan {
  checkTiling(t.tilePx, t.haloPx, t.multipleOf);
  return {
    ...tiledInferenceStreaming(t), dtype: out.dtype, channels: 'together', outputChannels: out.channels, outputRgb: out.rgb, outputChannelNames: out.names,
    ...(t.workingBytes ? { workingBytes: t.workingBytes } : {}),
  };
}

/** The two autofluorescence channels (DAPI, TxRed) of a one-plane stack, as float planes. */
export function afChannels(stack: Stack, field = 'image'): [Float32Array, Float32Array] {
  if (stack.sizeC !== 2) throw new FocalError('E_PORT', `${field}: has ${stack.sizeC} channels; give the two autofluorescence channels (DAPI, TxRed)`, { field });
  if (stack.sizeZ !== 1 || stack.sizeT !== 1) throw new FocalError('E_PORT', `${field}: has ${stack.sizeZ} z planes and ${stack.sizeT} time points; give one field (one plane per channel)`, { field });
  return [0, 1].map((c) => Float32Array.from(stack.planes[planeIndex(stack, c, 0, 0)] as ArrayLike<number>, Number)) as [Float32Array, Float32Array];
}

/** An RGB stack from planes in [0, 1] (clipped): uint8 (×255, rounded; `rgb: true`) or float32 (three channels R, G, B). */
export function rgbStack(rgb: readonly Float32Array[], width: number, height: number, dtype: 'uint8' | 'float32', calibration?: Stack['calibration']): Stack {
  const planes = rgb.map((p) => {
    const out = dtype === 'uint8' ? new Uint8Array(p.length) : new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const v = Math.min(1, Math.max(0, p[i]));
      out[i] = dtype === 'uint8' ? Math.round(255 * v) : v;
    }
    return out;
  });
  return createStack({ width, height, dtype, sizeC: 3, rgb: dtype === 'uint8', planes, channelNames: ['R', 'G', 'B'], ...(calibration ? { calibration } : {}) });
}

export function checkTiling(tilePx: number, haloPx: number, multipleOf: number): void {
  if (tilePx % multipleOf !== 0) throw new FocalError('E_PARAMS', `tileSize: ${tilePx} px is not a multiple of ${multipleOf} (the model's)`, { field: 'tileSize' });
  if (2 * haloPx >= tilePx) throw new FocalError('E_PARAMS', `overlapPx: ${haloPx} px leaves nothing of a ${tilePx}-px tile (needs 2·overlapPx < tileSize)`, { field: 'overlapPx' });
}
