/**
 * Deep-R networks (Luo et al., Methods "Network structure" and Fig. S9) in tf.layers, using
 * only the layer set core's ONNX exporter supports (generator and DPM model; the
 * discriminator is never exported). Choices the paper leaves open are listed in docs/deepr.md.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError } from '../../core/index.js';
import type { Tf } from './tf.js';

type SymbolicTensor = tfTypes.SymbolicTensor;
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

const LEAK = 0.1;

function check(o: Required<Omit<GeneratorOptions, 'seed'>>): void {
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isInteger(v) || v < 1) throw new FocalError('E_ARGUMENT', `${k}: must be a positive integer, got ${v}`, { field: k });
  }
  if (o.levels > 8) throw new FocalError('E_ARGUMENT', `levels: at most 8, got ${o.levels}`, { field: 'levels' });
}

/** Seeded initialisers: each call hands out the next seed (undefined: tfjs's own random). */
let nextSeed: number | undefined;
function init(tf: Tf): ReturnType<Tf['initializers']['glorotNormal']> {
  const seed = nextSeed;
  if (nextSeed !== undefined) nextSeed++;
  return tf.initializers.glorotNormal({ seed });
}

function conv(tf: Tf, x: SymbolicTensor, filters: number, kernel: number, name: string): SymbolicTensor {
  return tf.layers.conv2d({ filters, kernelSize: kernel, padding: 'same', useBias: true, kernelInitializer: init(tf), name }).apply(x) as SymbolicTensor;
}

function lrelu(tf: Tf, x: SymbolicTensor, name: string): SymbolicTensor {
  return tf.layers.leakyReLU({ alpha: LEAK, name }).apply(x) as SymbolicTensor;
}

/** Channels at level k (0-based) of a U-Net with this base. */
export function levelChannels(baseChannels: number, k: number): number {
  return baseChannels * 2 ** k;
}

/**
 * The contracting path: input conv, then per level a residual block (two 3×3 conv +
 * LeakyReLU, plus a 1×1-conv projection of the block's input added to the result) whose
 * output is the skip connection, followed by 2×2 max-pooling; then a bridge of two 3×3 convs.
 * Layer names start with `enc_` (frozen when the DPM decoder is trained).
 */
function encoder(tf: Tf, input: SymbolicTensor, base: number, levels: number): { skips: SymbolicTensor[]; bridge: SymbolicTensor } {
  let x = lrelu(tf, conv(tf, input, base, 3, 'enc_in_conv'), 'enc_in_act');
  const skips: SymbolicTensor[] = [];
  for (let k = 0; k < levels; k++) {
    const c = levelChannels(base, k);
    const shortcut = conv(tf, x, c, 1, `enc${k}_proj`);
    let h = lrelu(tf, conv(tf, x, c, 3, `enc${k}_conv1`), `enc${k}_act1`);
    h = conv(tf, h, c, 3, `enc${k}_conv2`);
    h = tf.layers.add({ name: `enc${k}_add` }).apply([h, shortcut]) as SymbolicTensor;
    h = lrelu(tf, h, `enc${k}_act2`);
    skips.push(h);
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `enc${k}_pool` }).apply(h) as SymbolicTensor;
  }
  const cb = levelChannels(base, levels - 1);
  x = lrelu(tf, conv(tf, x, cb, 3, 'enc_bridge_conv1'), 'enc_bridge_act1');
  x = lrelu(tf, conv(tf, x, cb, 3, 'enc_bridge_conv2'), 'enc_bridge_act2');
  return { skips, bridge: x };
}

/**
 * The expanding path: per level (coarsest first) nearest-neighbour 2× up-sampling and a
 * 3×3 conv to the level's channels, concatenation with the skip, two 3×3 conv + LeakyReLU;
 * a final 1×1 conv (linear) to `outChannels`.
 */
function decoder(tf: Tf, skips: SymbolicTensor[], bridge: SymbolicTensor, base: number, outChannels: number, prefix: string): SymbolicTensor {
  let x = bridge;
  for (let k = skips.length - 1; k >= 0; k--) {
    const c = levelChannels(base, k);
    x = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${prefix}${k}_up` }).apply(x) as SymbolicTensor;
    x = lrelu(tf, conv(tf, x, c, 3, `${prefix}${k}_upconv`), `${prefix}${k}_upact`);
    x = tf.layers.concatenate({ axis: -1, name: `${prefix}${k}_concat` }).apply([x, skips[k]]) as SymbolicTensor;
    x = lrelu(tf, conv(tf, x, c, 3, `${prefix}${k}_conv1`), `${prefix}${k}_act1`);
    x = lrelu(tf, conv(tf, x, c, 3, `${prefix}${k}_conv2`), `${prefix}${k}_act2`);
  }
  return conv(tf, x, outChannels, 1, `${prefix}_out`);
}

/**
 * Deep-R generator: a U-Net with `levels` (5) residual down-sampling blocks with max-pooling
 * and `levels` up-sampling blocks with skip concatenation. Fully convolutional: input
 * [N, H, W, inputChannels] with H and W multiples of 2^levels (32).
 */
export function buildGenerator(tf: Tf, options: GeneratorOptions = {}): LayersModel {
  const { seed, ...rest } = options;
  const o = { baseChannels: 32, levels: 5, inputChannels: 1, outputChannels: 1, ...rest };
  check(o);
  nextSeed = seed;
  const input = tf.input({ shape: [null, null, o.inputChannels] as unknown as number[], name: 'input' });
  const { skips, bridge } = encoder(tf, input, o.baseChannels, o.levels);
  const out = decoder(tf, skips, bridge, o.baseChannels, o.outputChannels, 'dec');
  return tf.model({ inputs: input, outputs: out, name: 'deepr_generator' });
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
 * Any input size ≥ 2^blocks px.
 */
export function buildDiscriminator(tf: Tf, options: DiscriminatorOptions = {}): LayersModel {
  const { seed, ...rest } = options;
  const o = { baseChannels: 32, blocks: 5, inputChannels: 1, ...rest };
  nextSeed = seed;
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isInteger(v) || v < 1) throw new FocalError('E_ARGUMENT', `${k}: must be a positive integer, got ${v}`, { field: k });
  }
  const input = tf.input({ shape: [null, null, o.inputChannels] as unknown as number[], name: 'd_input' });
  let x = lrelu(tf, conv(tf, input, o.baseChannels, 3, 'd_in_conv'), 'd_in_act');
  for (let k = 0; k < o.blocks; k++) {
    const c = levelChannels(o.baseChannels, k);
    x = lrelu(tf, conv(tf, x, c, 3, `d${k}_conv1`), `d${k}_act1`);
    x = tf.layers.conv2d({ filters: 2 * c, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(tf), name: `d${k}_conv2` }).apply(x) as SymbolicTensor;
    x = lrelu(tf, x, `d${k}_act2`);
  }
  x = tf.layers.globalAveragePooling2d({ name: 'd_gap' }).apply(x) as SymbolicTensor;
  const hidden = levelChannels(o.baseChannels, o.blocks);
  x = lrelu(tf, tf.layers.dense({ units: hidden, kernelInitializer: init(tf), name: 'd_fc1' }).apply(x) as SymbolicTensor, 'd_fc1_act');
  const out = tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.constant({ value: 0.1 }), name: 'd_fc2' }).apply(x) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'deepr_discriminator' });
}

/**
 * The DPM model of Deep-R's Fig. 7(a): the trained generator's contracting path, frozen
 * (its layers are shared with `generator` and marked non-trainable), feeding a new decoder
 * with the structure of the generator's up-sampling path whose single output channel is
 * the per-pixel defocus distance (µm).
 *
 * @param generator A model from {@link buildGenerator} (same `baseChannels` and `levels`).
 */
export function buildDpmModel(tf: Tf, generator: LayersModel, options: { baseChannels: number; levels: number; seed?: number }): LayersModel {
  nextSeed = options.seed;
  const skips: SymbolicTensor[] = [];
  for (let k = 0; k < options.levels; k++) {
    let layer;
    try {
      layer = generator.getLayer(`enc${k}_act2`);
    } catch {
      throw new FocalError('E_ARGUMENT', `generator: has no layer enc${k}_act2; levels (${options.levels}) must match the generator's`, { field: 'levels' });
    }
    skips.push(layer.output as SymbolicTensor);
  }
  const bridge = generator.getLayer('enc_bridge_act2').output as SymbolicTensor;
  for (const layer of generator.layers) if (layer.name.startsWith('enc')) layer.trainable = false;
  const out = decoder(tf, skips, bridge, options.baseChannels, 1, 'dpm');
  return tf.model({ inputs: generator.inputs, outputs: out, name: 'deepr_dpm' });
}

/** Total number of weights (parameters) of a model. */
export function parameterCount(model: LayersModel): number {
  return model.countParams();
}
