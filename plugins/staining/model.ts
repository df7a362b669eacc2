/**
 * The cascade's networks, built with core's learning kit:
 * - G_VS (paper Eqs. 1–5): a U-Net of 4 down blocks (3 convs each, residual, average pooling)
 *   and 4 up blocks (bilinear ×2 + conv, 3 convs), 2 autofluorescence channels in, Y/Cb/Cr
 *   (BT.601 studio, /255) out;
 * - D_VS: 6 blocks of two convs (the second stride 2), global pooling, two dense layers, sigmoid;
 * - G_DR (Eqs. 6–10): Deep-R with 5 levels, 2 convs per block, residual down and up blocks,
 *   max pooling, bilinear up-sampling; 2 channels in and out;
 * - D_DR: as D_VS.
 * Channel widths are parameters (the paper's 64 / 32 first-block channels are far beyond a
 * CPU budget; the demo packages record theirs).
 */
import { buildDiscriminator, buildUNet, type Tf, type UNetOptions } from '../../core/ml.js';
import type * as tfTypes from '@tensorflow/tfjs';

export const VS_LEVELS = 4;
export const VS_CONVS = 3;
export const DR_LEVELS = 5;
export const DR_CONVS = 2;
export const D_BLOCKS = 6;
export const VS_PREFIX = 'vs_enc';
export const DR_PREFIX = 'dr_enc';

/** G_VS's U-Net options (also for counting its tensors: core's unetActivationFloats). */
export function stainerOptions(baseChannels: number, seed?: number): UNetOptions {
  return {
    inputChannels: [2], outputChannels: 3, baseChannels, levels: VS_LEVELS, convsPerBlock: VS_CONVS, residual: 'down', downsampling: 'average', upsampling: 'bilinear',
    seed, encoderPrefix: VS_PREFIX, decoderPrefix: 'vs_dec', name: 'g_vs',
  };
}

export function buildStainer(tf: Tf, baseChannels: number, seed: number): tfTypes.LayersModel {
  return buildUNet(tf, stainerOptions(baseChannels, seed));
}

/** G_DR's U-Net options (see {@link buildRefocuser}). */
export function refocuserOptions(baseChannels: number, seed?: number, inputResidual = true): UNetOptions {
  return {
    inputChannels: [2], outputChannels: 2, baseChannels, levels: DR_LEVELS, convsPerBlock: DR_CONVS, residual: 'both', downsampling: 'max', upsampling: 'bilinear',
    seed, encoderPrefix: DR_PREFIX, decoderPrefix: 'dr_dec', name: 'g_dr', ...(inputResidual ? { inputResidual: { input: 0, firstChannel: 0 } } : {}),
  };
}

/**
 * G_DR. With `inputResidual` (the default since cascade 0.2.0) the network predicts a correction
 * added to its input, and its 1×1 output convolution starts at zero, so an untrained G_DR is the
 * identity: the cascade starts exactly at framework 1 and training only has to learn the
 * refocusing. (The paper does not state G_DR's output form or initialisation; its G_DR trained
 * ~100 000 iterations, where a plain output converges anyway. At a few hundred CPU iterations a
 * plain G_DR stayed farther from the in-focus AF than its own defocused input: docs/staining.md.)
 */
export function buildRefocuser(tf: Tf, baseChannels: number, seed: number, inputResidual = true): tfTypes.LayersModel {
  const m = buildUNet(tf, refocuserOptions(baseChannels, seed, inputResidual));
  if (inputResidual) {
    const out = m.getLayer(DR_OUTPUT_LAYER);
    tf.tidy(() => out.setWeights(out.getWeights().map((w) => tf.zerosLike(w))));
  }
  return m;
}

/** G_DR's 1×1 output convolution (before the input residual is added). */
export const DR_OUTPUT_LAYER = 'dr_dec_out';

export function buildCritic(tf: Tf, channels: number, baseChannels: number, seed: number, prefix: string): tfTypes.LayersModel {
  return buildDiscriminator(tf, { inputChannels: channels, baseChannels, blocks: D_BLOCKS, seed, prefix, name: `${prefix}_model` });
}

/** G_VS's down-block outputs (before pooling: the skips), the style loss's feature layers (M = 4). */
export function stainerDownBlockLayers(): string[] {
  return Array.from({ length: VS_LEVELS }, (_, k) => `${VS_PREFIX}${k}_act${VS_CONVS}`);
}

/** D_DR's block outputs (after the stride-2 conv), the perceptual loss's feature layers (K = 6). */
export function criticBlockLayers(prefix: string): string[] {
  return Array.from({ length: D_BLOCKS }, (_, k) => `${prefix}${k}_act2`);
}
