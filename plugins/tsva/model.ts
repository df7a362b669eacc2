/**
 * TSVA's network (paper Fig. 4) and its single-shot baseline, both from the learning kit's
 * U-Net builder (core/ml nets.ts): two contracting paths with shared weights (one encoder
 * applied to Y1 and to Y2), their deepest layers concatenated, an expansive path that
 * concatenates the skips of both paths, a linear 1×1 output and the residual +Y1. The
 * baseline is the same U-Net with one contracting path on Y1 (and the same residual).
 */
import { z } from '../../core/index.js';
import { buildUNet, type Tf } from '../../core/ml.js';

/** Network size: the only knobs that differ between the paper's scale and a CPU demo. */
export const TsvaNetSchema = z.object({
  baseChannels: z.number().int().min(1).max(128).default(8).describe('Channels of the first level (paper reading: 64; level k has base·2^k)'),
  levels: z.number().int().min(1).max(6).default(3).describe('Max-pooling steps (paper reading: 4); inputs must be multiples of 2^levels px'),
  convsPerBlock: z.number().int().min(1).max(4).default(2).describe('3×3 conv + BN + ReLU per block (paper: 2)'),
  colourChannels: z.number().int().min(1).max(3).default(3).describe('Channels per shot: 3 (RGB) or 1 (grey)'),
});
export type TsvaNetOptions = z.infer<typeof TsvaNetSchema>;

export type TsvaArch = 'tsva' | 'unet';

/** The kit options of TSVA (arch 'tsva': inputs Y1, Y2) or the baseline (arch 'unet': input Y1). */
export function unetOptionsFor(arch: TsvaArch, net: TsvaNetOptions, seed?: number): Parameters<typeof buildUNet>[1] {
  const c = net.colourChannels;
  return {
    inputChannels: arch === 'tsva' ? [c, c] : [c],
    outputChannels: c,
    baseChannels: net.baseChannels,
    levels: net.levels,
    convsPerBlock: net.convsPerBlock,
    residual: 'none',
    downsampling: 'max',
    upsampling: 'nearest',
    batchNorm: true,
    activation: 'relu',
    outputActivation: 'linear',
    inputResidual: { input: 0, firstChannel: 0 },
    encoderPrefix: 'enc',
    decoderPrefix: 'dec',
    name: arch,
    seed,
  };
}

/** Builds TSVA (two inputs, shared encoder) or the single-input U-Net baseline. */
export function buildTsvaNet(tf: Tf, arch: TsvaArch, net: Partial<TsvaNetOptions> = {}, seed?: number) {
  return buildUNet(tf, unetOptionsFor(arch, TsvaNetSchema.parse(net), seed));
}

/** 3×3 convolutions (+ the 1×1 output) of a network, counting shared layers once (the paper counts 27). */
export function convLayerCount(model: { layers: { getClassName(): string; name: string }[] }): number {
  return model.layers.filter((l) => l.getClassName() === 'Conv2D' && !l.name.endsWith('_residual_select')).length;
}
