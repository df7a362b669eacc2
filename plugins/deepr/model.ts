/**
 * Deep-R networks (Luo et al., Methods "Network structure" and Fig. S9), built with core's
 * learning kit (core/ml/nets.ts): the generator is the kit's U-Net with its defaults (residual
 * down blocks, max pooling, nearest + conv up-sampling, LeakyReLU 0.1, linear output), the
 * discriminator the kit's global-head LSGAN classifier, the DPM model a new decoder on the
 * frozen encoder. Choices the paper leaves open are listed in plugins/deepr/docs/deepr.md.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { buildDiscriminator as kitDiscriminator, buildUNet, withNewDecoder, type Tf, type UNetOptions } from '../../core/ml.js';

type LayersModel = tfTypes.LayersModel;

/** Options of {@link buildGenerator}. */
export interface GeneratorOptions {
  /** Channels of the first level; level k has baseChannels·2^k (default 32, the paper's). */
  baseChannels?: number;
  /** Down- / up-sampling blocks (default 5; inputs must be a multiple of 2^levels px). */
  levels?: number;
  inputChannels?: number;
  outputChannels?: number;
  /** Seed of the Glorot-normal weight initialisers (layer i uses seed + i); default: unseeded. */
  seed?: number;
}

/**
 * Deep-R generator: a U-Net with `levels` (5) residual down-sampling blocks with max-pooling
 * and `levels` up-sampling blocks with skip concatenation. Fully convolutional: input
 * [N, H, W, inputChannels] with H and W multiples of 2^levels (32).
 */
export function buildGenerator(tf: Tf, options: GeneratorOptions = {}): LayersModel {
  return buildUNet(tf, deeprGeneratorOptions(options));
}

/** The kit's U-Net options of {@link buildGenerator} (also for counting its tensors: core's unetActivationFloats). */
export function deeprGeneratorOptions(options: GeneratorOptions = {}): UNetOptions {
  const { inputChannels = 1, ...rest } = options;
  return { ...rest, inputChannels: [inputChannels], name: 'deepr_generator' };
}

/** Options of {@link buildDiscriminator}. */
export interface DiscriminatorOptions {
  /** Channels of the first block (default 32); block k has baseChannels·2^k. */
  baseChannels?: number;
  /** Conv blocks, each halving the resolution (default 5). */
  blocks?: number;
  inputChannels?: number;
  /** Seed of the weight initialisers (as {@link GeneratorOptions.seed}). */
  seed?: number;
}

/**
 * Deep-R discriminator (LSGAN): an input 3×3 conv, `blocks` blocks of [3×3 conv, LeakyReLU,
 * 3×3 conv stride 2, LeakyReLU], global average pooling, a dense layer with LeakyReLU and a
 * dense output unit with a sigmoid (so D ∈ (0, 1), the range of the least-squares targets
 * 0 and 1). The output unit's weights start at 0.1 (the paper: FC weights initialised to
 * 0.1; the hidden FC layer uses Glorot, as constant weights would make its units identical).
 */
export function buildDiscriminator(tf: Tf, options: DiscriminatorOptions = {}): LayersModel {
  return kitDiscriminator(tf, { ...options, head: 'global', outputActivation: 'sigmoid', outputInit: 0.1, name: 'deepr_discriminator' });
}

/**
 * The DPM model of Deep-R's Fig. 7(a): the trained generator's contracting path, frozen,
 * feeding a new decoder (prefix `dpm`) with the structure of the generator's up-sampling path
 * whose single output channel is the per-pixel defocus distance (µm).
 *
 * @param generator A model from {@link buildGenerator} (same `baseChannels` and `levels`).
 */
export function buildDpmModel(tf: Tf, generator: LayersModel, options: { baseChannels: number; levels: number; seed?: number }): LayersModel {
  return withNewDecoder(tf, generator, { ...options, decoderPrefix: 'dpm', outputChannels: 1, name: 'deepr_dpm' });
}

/** Total number of weights (parameters) of a model. */
export function parameterCount(model: LayersModel): number {
  return model.countParams();
}
