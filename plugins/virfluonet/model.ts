/**
 * VirFluoNet's networks (paper 003, Methods "cGAN implementation", Fig. 9).
 *
 * Generator: a pix2pix-style U-Net with 3×3 kernels — an initial 3×3 stride-2 convolution,
 * encoder blocks LeakyReLU(0.2) → Conv 3×3 s2 → BN, decoder blocks ReLU → ConvTranspose 3×3 s2
 * → BN, each concatenated with the encoder output of the same size, and a last ReLU →
 * ConvTranspose 3×3 s2 → tanh. The kit's `buildUNet` has a stride-2 encoder and transposed
 * convolutions, but its blocks are conv → BN → activation with 2×2 transposed kernels and
 * convolutions after each up-sampling; the paper's pre-activation blocks with 3×3 transposed
 * kernels are built here from tf.layers (all in core's ONNX exporter's set).
 *
 * Discriminator (conditional, never exported): the judged image concatenated with the
 * generator's input, Conv 5×5 s2 → BN → LeakyReLU, three blocks Conv 5×5 s2 → BN → LeakyReLU,
 * flatten, one dense unit, sigmoid (the paper's "initial convolution with stride 2, a BN, 3
 * convolutional blocks (Conv2S2-BN-LReLU), one fully connected layer and sigmoid", k = 5).
 * Widths are not in the paper; pix2pix's 64…512 are reduced for CPU (`baseChannels`).
 *
 * Input residual (`inputResidual`, one input channel: the autofocus mode; not in the paper):
 * output = input + 2·tanh(ConvTranspose(…)) with that last transposed convolution's kernel and
 * bias at zero, so an untrained generator is exactly the identity and training learns the
 * correction (as the staining plugin's G_DR). The add goes after the tanh: tanh(input + c)
 * would not be the identity at c = 0. The tanh bounds the correction; the factor 2 lets it span
 * the whole [−1, 1] range (a defocused pixel at −1 can reach an in-focus +1). The output is no
 * longer bounded to [−1, 1]: prediction clips it (predict.ts). The ×2 is a fixed, untrained 1×1
 * convolution (a plain ONNX Conv).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError, z } from '../../core/index.js';
import { seedCounter, type Tf } from '../../core/ml.js';

type SymbolicTensor = tfTypes.SymbolicTensor;

export const VirFluoNetSchema = z.object({
  /** Input channels (the stains the model sees). */
  inputChannels: z.number().int().min(1).max(16),
  /** Channels of the first level (pix2pix: 64); level k has base·2^k, capped at 8·base. */
  baseChannels: z.number().int().min(1).max(128),
  /** Stride-2 levels (the initial conv counts as one): inputs must be multiples of 2^levels. */
  levels: z.number().int().min(2).max(8),
  /** Discriminator's first width (pix2pix/DCGAN: 64). */
  discriminatorChannels: z.number().int().min(1).max(128),
  /** Output = input + 2·tanh(correction), the correction's last layer starting at zero (one input channel only; see the module comment). */
  inputResidual: z.boolean().optional(),
});
export type VirFluoNetOptions = z.infer<typeof VirFluoNetSchema>;

export const LEAK = 0.2;

/** The generator's last transposed convolution (zero at the start with `inputResidual`). */
export const GENERATOR_OUTPUT_LAYER = 'g_out_convT';
/** With `inputResidual`, the correction is RESIDUAL_SCALE·tanh(…): it can span the whole [−1, 1] range. */
export const RESIDUAL_SCALE = 2;

const widthAt = (base: number, k: number) => base * Math.min(8, 2 ** k);

/** The generator; input [N, H, W, inputChannels] in [−1, 1], output [N, H, W, 1] in (−1, 1) (with `inputResidual`: in (−3, 3), clipped on prediction). */
export function buildGenerator(tf: Tf, o: VirFluoNetOptions, seed?: number): tfTypes.LayersModel {
  const opts = VirFluoNetSchema.parse(o);
  if (opts.inputResidual && opts.inputChannels !== 1) throw new FocalError('E_ARGUMENT', `inputResidual: the generator adds its input to its output, which needs one input channel (the autofocus mode), got ${opts.inputChannels}`, { field: 'inputResidual' });
  const seeds = seedCounter(seed);
  const init = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: seeds.next() });
  const conv = (filters: number, name: string) => tf.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), name });
  const convT = (filters: number, name: string) => tf.layers.conv2dTranspose({ filters, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), name });
  const bn = (name: string) => tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-3, name });
  const input = tf.input({ shape: [null, null, opts.inputChannels] as unknown as number[], name: 'g_input' });
  const skips: SymbolicTensor[] = [];
  let x = conv(widthAt(opts.baseChannels, 0), 'g_e0_conv').apply(input) as SymbolicTensor;
  skips.push(x);
  for (let k = 1; k < opts.levels; k++) {
    x = tf.layers.leakyReLU({ alpha: LEAK, name: `g_e${k}_act` }).apply(x) as SymbolicTensor;
    x = conv(widthAt(opts.baseChannels, k), `g_e${k}_conv`).apply(x) as SymbolicTensor;
    x = bn(`g_e${k}_bn`).apply(x) as SymbolicTensor;
    skips.push(x);
  }
  for (let k = opts.levels - 2; k >= 0; k--) {
    x = tf.layers.reLU({ name: `g_d${k}_act` }).apply(x) as SymbolicTensor;
    x = convT(widthAt(opts.baseChannels, k), `g_d${k}_convT`).apply(x) as SymbolicTensor;
    x = bn(`g_d${k}_bn`).apply(x) as SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: `g_d${k}_skip` }).apply([x, skips[k]]) as SymbolicTensor;
  }
  x = tf.layers.reLU({ name: 'g_out_act' }).apply(x) as SymbolicTensor;
  const last = convT(1, GENERATOR_OUTPUT_LAYER);
  x = last.apply(x) as SymbolicTensor;
  x = tf.layers.activation({ activation: 'tanh', name: 'g_out_tanh' }).apply(x) as SymbolicTensor;
  if (opts.inputResidual) {
    tf.tidy(() => last.setWeights(last.getWeights().map((w) => tf.zerosLike(w))));
    const scale = tf.layers.conv2d({ filters: 1, kernelSize: 1, useBias: false, trainable: false, weights: [tf.tensor4d([RESIDUAL_SCALE], [1, 1, 1, 1])], name: 'g_out_scale' });
    x = scale.apply(x) as SymbolicTensor;
    x = tf.layers.add({ name: 'g_out_residual' }).apply([input, x]) as SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: x, name: 'virfluonet_generator' });
}

/**
 * Floats per input pixel that one forward pass of {@link buildGenerator}'s network makes, for a
 * streamed run's memory budget (TilingPlan.workingBytes, via core's inferenceWorkingBytes): every
 * tensor once, at its level's scale (the first convolution already halves: level k holds
 * 1/4^(k+1) of the pixels), each convolution's batch norm folded into it (as onnxruntime does);
 * an activation counts as a tensor of its own, since its input is also a skip or a concatenation.
 * Measured against onnxruntime in bench/network-memory.ts.
 */
export function generatorActivationFloats(o: VirFluoNetOptions): number {
  const opts = VirFluoNetSchema.parse(o);
  const at = (k: number) => 1 / 4 ** (k + 1);
  const L = opts.levels;
  let floats = opts.inputChannels + widthAt(opts.baseChannels, 0) * at(0); // the input, the first conv
  for (let k = 1; k < L; k++) floats += widthAt(opts.baseChannels, k - 1) * at(k - 1) + widthAt(opts.baseChannels, k) * at(k); // the activation of the level above, the conv
  let x = widthAt(opts.baseChannels, L - 1) * at(L - 1);
  for (let k = L - 2; k >= 0; k--) {
    const w = widthAt(opts.baseChannels, k) * at(k);
    floats += x + w + 2 * w; // the activation, the transposed conv, the concatenation with the skip
    x = 2 * w;
  }
  floats += x + 1 + 1; // the last activation, transposed conv and tanh
  if (opts.inputResidual) floats += 2; // the ×2 and the add
  return floats;
}

/** The conditional discriminator for `patchPx`² patches: inputs [image (1 channel), condition (inputChannels)], output D ∈ (0, 1) per sample. */
export function buildDiscriminator(tf: Tf, o: VirFluoNetOptions, patchPx: number, seed?: number): tfTypes.LayersModel {
  const opts = VirFluoNetSchema.parse(o);
  if (!Number.isInteger(patchPx) || patchPx < 16 || patchPx % 16 !== 0) throw new FocalError('E_ARGUMENT', `patchPx: the discriminator's four stride-2 convolutions need a multiple of 16, got ${patchPx}`, { field: 'patchPx' });
  const seeds = seedCounter(seed);
  const init = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: seeds.next() });
  const image = tf.input({ shape: [patchPx, patchPx, 1], name: 'd_image' });
  const condition = tf.input({ shape: [patchPx, patchPx, opts.inputChannels], name: 'd_condition' });
  let x = tf.layers.concatenate({ axis: -1, name: 'd_concat' }).apply([image, condition]) as SymbolicTensor;
  for (let k = 0; k < 4; k++) {
    x = tf.layers.conv2d({ filters: opts.discriminatorChannels * 2 ** k, kernelSize: 5, strides: 2, padding: 'same', kernelInitializer: init(), name: `d${k}_conv` }).apply(x) as SymbolicTensor;
    x = tf.layers.batchNormalization({ axis: -1, momentum: 0.9, name: `d${k}_bn` }).apply(x) as SymbolicTensor;
    x = tf.layers.leakyReLU({ alpha: LEAK, name: `d${k}_act` }).apply(x) as SymbolicTensor;
  }
  x = tf.layers.flatten({ name: 'd_flatten' }).apply(x) as SymbolicTensor;
  x = tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(), name: 'd_fc' }).apply(x) as SymbolicTensor;
  return tf.model({ inputs: [image, condition], outputs: x, name: 'virfluonet_discriminator' });
}

/** The generator's convolution kernels (no biases, no BN parameters): what the weight term penalises. */
export function generatorKernels(generator: tfTypes.LayersModel): tfTypes.LayerVariable[] {
  return generator.trainableWeights.filter((w) => /kernel/.test(w.originalName ?? w.name));
}
