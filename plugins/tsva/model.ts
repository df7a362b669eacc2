/**
 * TSVA's network (paper Fig. 4) and its single-shot baseline, both from the learning kit's
 * U-Net builder (core/ml nets.ts): two contracting paths with shared weights (one encoder
 * applied to Y1 and to Y2), their deepest layers concatenated, an expansive path that
 * concatenates the skips of both paths, a linear 1×1 output and the residual +Y1. The
 * baseline is the same U-Net with one contracting path on Y1 (and the same residual). The
 * early-fusion ablation (not the paper's) is that U-Net with both shots as six input channels:
 * it has the second shot but not the two-path design.
 */
import { z } from '../../core/index.js';
import { buildUNet, type NamedArray, type Tf, type UNetOptions } from '../../core/ml.js';

/** Network size: the only knobs that differ between the paper's scale and a CPU demo. */
export const TsvaNetSchema = z.object({
  baseChannels: z.number().int().min(1).max(128).default(8).describe('Channels of the first level (paper reading: 64; level k has base·2^k)'),
  levels: z.number().int().min(1).max(6).default(3).describe('Max-pooling steps (paper reading: 4); inputs must be multiples of 2^levels px'),
  convsPerBlock: z.number().int().min(1).max(4).default(2).describe('3×3 conv + BN + ReLU per block (paper: 2)'),
  colourChannels: z.number().int().min(1).max(3).default(3).describe('Channels per shot: 3 (RGB) or 1 (grey)'),
});
export type TsvaNetOptions = z.infer<typeof TsvaNetSchema>;

export const TSVA_ARCHS = ['tsva', 'unet', 'early-fusion'] as const;
export type TsvaArch = (typeof TSVA_ARCHS)[number];

/** Whether the network takes the second shot Y2 (TSVA and the early-fusion ablation). */
export const usesBothShots = (arch: TsvaArch): boolean => arch !== 'unet';

/**
 * The kit options of TSVA (arch 'tsva': inputs Y1, Y2), the baseline ('unet': input Y1) or the early-fusion ablation ('early-fusion': one input, Y1 then Y2 as 2·c channels).
 * `residual` (default true, the paper's): Y1 added to the output; false only for the no-residual ablation the reading asks to report once.
 */
export function unetOptionsFor(arch: TsvaArch, net: TsvaNetOptions, seed?: number, residual = true, jointEncoderBatch = false): UNetOptions {
  const c = net.colourChannels;
  return {
    inputChannels: arch === 'tsva' ? [c, c] : arch === 'early-fusion' ? [2 * c] : [c],
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
    ...(residual ? { inputResidual: { input: 0, firstChannel: 0 } } : {}),
    encoderPrefix: 'enc',
    decoderPrefix: 'dec',
    name: arch.replace('-', '_'),
    seed,
    ...(jointEncoderBatch ? { jointEncoderBatch: true } : {}),
  };
}

/**
 * Builds TSVA (two inputs, shared encoder) or the single-input U-Net baseline; `residual: false`
 * drops the +Y1 (ablation). `jointEncoderBatch` (TSVA only, a training graph): the shared encoder
 * runs on Y1 and Y2 as one batch, so both paths learn under one set of batch statistics
 * (`--batch-norm joint`); the same weights in the plain graph give the same outputs at inference.
 */
export function buildTsvaNet(tf: Tf, arch: TsvaArch, net: Partial<TsvaNetOptions> = {}, seed?: number, residual = true, jointEncoderBatch = false) {
  return buildUNet(tf, unetOptionsFor(arch, TsvaNetSchema.parse(net), seed, residual, jointEncoderBatch));
}

/** 3×3 convolutions (+ the 1×1 output) of a network, counting shared layers once (the paper counts 27). */
export function convLayerCount(model: { layers: { getClassName(): string; name: string }[] }): number {
  return model.layers.filter((l) => l.getClassName() === 'Conv2D' && !l.name.endsWith('_residual_select')).length;
}

/**
 * Starting weights for the early-fusion ablation from a trained baseline U-Net of the same size:
 * every weight is the U-Net's, and where the U-Net's takes c input channels and the ablation's 2·c
 * (the first convolution, the residual's channel selection) the Y2 channels get zero weights, so
 * the ablation starts as exactly the baseline and learns what Y2 adds. Other misfits are left to
 * the kit's own check (it names the weight).
 */
export function widenForEarlyFusion(target: readonly { name: string; shape: number[] }[], unet: readonly NamedArray[]): NamedArray[] {
  const base = (name: string) => name.replace(/(_\d+)+$/, '');
  return unet.map((a) => {
    const t = target.find((w) => base(w.name) === base(a.name));
    if (!t || t.shape.length !== 4 || a.shape.length !== 4 || t.shape[2] !== 2 * a.shape[2] || [0, 1, 3].some((k) => t.shape[k] !== a.shape[k])) return a;
    const [kh, kw, cin, cout] = a.shape;
    const data = new Float32Array(kh * kw * 2 * cin * cout);
    for (let p = 0; p < kh * kw; p++) data.set(a.data.subarray(p * cin * cout, (p + 1) * cin * cout), p * 2 * cin * cout);
    return { name: a.name, shape: [kh, kw, 2 * cin, cout], data };
  });
}
