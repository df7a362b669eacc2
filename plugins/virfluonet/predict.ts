/**
 * Prediction with a VirFluoNet package: pick the model's input channels from a stack (by name,
 * or by position when the stack has no names), map each to [−1, 1] with the package's map, run
 * the generator over the field in overlapping tiles blended with raised-cosine (alpha) weights
 * (core's tiledInference; the paper: "sub-regions with some overlap … stitched … based on alpha
 * blending"), and invert the target's map, so the result is in the target channel's units (ADU).
 */
import { FocalError, type Stack } from '../../core/index.js';
import { tiledInference, type InferenceEngine } from '../../core/ml.js';
import { fromUnitRange, toUnitRange } from './normalise.js';
import type { VirFluoNetMeta } from './package.js';

/**
 * The stack's channel index of each model input. By name when the stack names its channels
 * (`channelNames`), else by `indices` (one per model input), else in order when the stack has
 * exactly as many channels as the model takes.
 * @throws FocalError E_PORT naming the missing channel, or the counts.
 */
export function selectChannels(stack: Pick<Stack, 'sizeC' | 'channelNames'>, inputs: readonly string[], port = 'image', indices?: readonly number[]): number[] {
  if (indices && indices.length > 0) {
    if (indices.length !== inputs.length) throw new FocalError('E_PARAMS', `channels: the model takes ${inputs.length} channel(s) (${inputs.join(', ')}), ${indices.length} index(es) given`, { field: 'channels' });
    indices.forEach((c, k) => {
      if (!Number.isInteger(c) || c < 0 || c >= stack.sizeC) throw new FocalError('E_PARAMS', `channels[${k}]: channel ${c} for '${inputs[k]}' does not exist (the ${port} stack has ${stack.sizeC} channel(s))`, { field: `channels[${k}]` });
    });
    return [...indices];
  }
  const names = stack.channelNames ?? [];
  if (names.length === stack.sizeC && names.some((n) => n !== '')) {
    return inputs.map((c) => {
      const k = names.indexOf(c);
      if (k < 0) throw new FocalError('E_PORT', `${port}: channel '${c}' is missing; the model needs ${inputs.join(', ')} and the stack has ${names.join(', ')} (or give params.channels)`, { field: port, channel: c });
      return k;
    });
  }
  if (stack.sizeC !== inputs.length) {
    throw new FocalError('E_PORT', `${port}: the model takes ${inputs.length} channel(s) (${inputs.join(', ')}), the stack has ${stack.sizeC} unnamed channel(s); name the channels or give params.channels`, { field: port });
  }
  return inputs.map((_, k) => k);
}

export interface PredictOptions {
  tilePx: number;
  haloPx: number;
  multipleOf: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Only these pixels are wanted (OpContext.keep of a streamed piece; TiledInferenceOptions.keep). */
  keep?: { x: number; y: number; width: number; height: number };
}

/** Predicts the target channel (original units) from the input planes (original units, model order). */
export async function predictField(planes: ArrayLike<number>[], width: number, height: number, meta: VirFluoNetMeta, engine: InferenceEngine, o: PredictOptions): Promise<Float32Array> {
  if (planes.length !== meta.inputs.length) throw new FocalError('E_ARGUMENT', `planes: the model takes ${meta.inputs.length} channel(s), got ${planes.length}`, { field: 'planes' });
  const unit = planes.map((p, k) => toUnitRange(p, meta.normalisation.inputs[k]));
  const [out] = await tiledInference(unit, width, height, engine, { tilePx: o.tilePx, haloPx: o.haloPx, outChannels: 1, multipleOf: o.multipleOf, signal: o.signal, onProgress: o.onProgress, keep: o.keep });
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(-1, out[i]));
  return fromUnitRange(out, meta.normalisation.target);
}
