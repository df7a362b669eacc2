/**
 * Network builders of the image-to-image learning kit (tf.layers, fully convolutional NHWC),
 * using only layers core's ONNX exporter handles (discriminators' Dense and global pooling
 * excepted: discriminators are never exported). Seeds are passed in: each builder numbers
 * its Glorot-normal initialisers from `seed` in creation order (layer i gets seed + i), so the
 * same options and seed give the same weights, with no state outside the call — but for the
 * two batch-axis layer classes of `jointEncoderBatch`, made once per tfjs module, because tfjs
 * registers layer classes by name for loading.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError } from '../errors.js';
import type { Tf } from './backend.js';

type SymbolicTensor = tfTypes.SymbolicTensor;
type LayersModel = tfTypes.LayersModel;

/** Hands out initialiser seeds seed, seed + 1, … (undefined seed: tfjs's own random). */
export interface SeedCounter {
  next(): number | undefined;
}

export function seedCounter(seed: number | undefined): SeedCounter {
  let s = seed;
  return { next: () => (s === undefined ? undefined : s++) };
}

/** Options of {@link buildUNet}. */
export interface UNetOptions {
  /** Channels of each input (one entry per input; several inputs share the encoder's weights). Default [1]. */
  inputChannels?: number[];
  outputChannels?: number;
  /** Channels of the first level; level k has baseChannels·2^k. Default 32. */
  baseChannels?: number;
  /** Down- and up-sampling levels (inputs must be multiples of 2^levels px). Default 5. */
  levels?: number;
  /** 3×3 convolutions per block (≥ 1). Default 2. */
  convsPerBlock?: number;
  /** Residual blocks (a 1×1-projected shortcut added before the last activation) on the down path, the up path, both or neither. Default 'down'. */
  residual?: 'down' | 'up' | 'both' | 'none';
  /** Down-sampling: 2×2 max or average pooling, or the block's last convolution with stride 2 (no pooling layer). Default 'max'. */
  downsampling?: 'max' | 'average' | 'stride2';
  /** Up-sampling: nearest ×2 + 3×3 conv, bilinear ×2 + 3×3 conv, or a 2×2 stride-2 transposed conv. Default 'nearest'. */
  upsampling?: 'nearest' | 'bilinear' | 'transpose';
  /** Batch normalisation after every 3×3 convolution of the blocks. Default false. */
  batchNorm?: boolean;
  /** Hidden activation. Default 'leakyRelu'. */
  activation?: 'leakyRelu' | 'relu';
  /** LeakyReLU slope. Default 0.1. */
  leak?: number;
  /** Output activation. Default 'linear'. */
  outputActivation?: 'linear' | 'tanh';
  /** Adds channels firstChannel … firstChannel + outputChannels − 1 of input `input` to the output before its activation. */
  inputResidual?: { input: number; firstChannel: number };
  /** Initialiser seed (see the module comment). */
  seed?: number;
  /** Layer-name prefixes of the encoder and decoder. Default 'enc' and 'dec'. */
  encoderPrefix?: string;
  decoderPrefix?: string;
  /** Model name. Default 'unet'. */
  name?: string;
  /**
   * With several inputs, run the shared encoder once on the inputs stacked along the batch axis
   * (then split back), so its batch normalisation normalises every input by one set of batch
   * statistics while learning, instead of each input by its own. Inference (moving averages)
   * gives the same outputs either way. A training graph: its stack/split layers are Focal's
   * own (registered for tfjs loading, not exported to ONNX) — rebuild without it and
   * {@link copyLayerWeights} to export. Default false.
   */
  jointEncoderBatch?: boolean;
}

type Resolved = Required<Omit<UNetOptions, 'inputResidual' | 'seed'>> & Pick<UNetOptions, 'inputResidual' | 'seed'>;

const DEFAULTS: Resolved = {
  inputChannels: [1], outputChannels: 1, baseChannels: 32, levels: 5, convsPerBlock: 2, residual: 'down', downsampling: 'max',
  upsampling: 'nearest', batchNorm: false, activation: 'leakyRelu', leak: 0.1, outputActivation: 'linear', encoderPrefix: 'enc', decoderPrefix: 'dec', name: 'unet',
  jointEncoderBatch: false,
};

function positiveInt(v: unknown, field: string): void {
  if (!Number.isInteger(v) || (v as number) < 1) throw new FocalError('E_ARGUMENT', `${field}: must be a positive integer, got ${String(v)}`, { field });
}

function resolve(options: UNetOptions): Resolved {
  const o: Resolved = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Resolved;
  if (!Array.isArray(o.inputChannels) || o.inputChannels.length === 0) throw new FocalError('E_ARGUMENT', 'inputChannels: must list at least one input', { field: 'inputChannels' });
  o.inputChannels.forEach((c, i) => positiveInt(c, `inputChannels[${i}]`));
  if (o.inputChannels.some((c) => c !== o.inputChannels[0])) throw new FocalError('E_ARGUMENT', `inputChannels: inputs share one encoder, so they need the same channels, got [${o.inputChannels}]`, { field: 'inputChannels' });
  for (const k of ['outputChannels', 'baseChannels', 'levels', 'convsPerBlock'] as const) positiveInt(o[k], k);
  if (o.levels > 8) throw new FocalError('E_ARGUMENT', `levels: at most 8, got ${o.levels}`, { field: 'levels' });
  if (!(o.leak >= 0 && o.leak < 1)) throw new FocalError('E_ARGUMENT', `leak: must be in [0, 1), got ${o.leak}`, { field: 'leak' });
  const r = o.inputResidual;
  if (r) {
    if (!Number.isInteger(r.input) || r.input < 0 || r.input >= o.inputChannels.length) throw new FocalError('E_ARGUMENT', `inputResidual.input: must name one of the ${o.inputChannels.length} inputs, got ${r.input}`, { field: 'inputResidual.input' });
    if (!Number.isInteger(r.firstChannel) || r.firstChannel < 0 || r.firstChannel + o.outputChannels > o.inputChannels[r.input]) {
      throw new FocalError('E_ARGUMENT', `inputResidual.firstChannel: channels ${r.firstChannel}…${r.firstChannel + o.outputChannels - 1} do not exist in input ${r.input} (${o.inputChannels[r.input]} channels)`, { field: 'inputResidual.firstChannel' });
    }
  }
  return o;
}

/** Channels at level k (0-based) of a U-Net with this base. */
export function levelChannels(baseChannels: number, k: number): number {
  return baseChannels * 2 ** k;
}

/** Layer factory over one build's options and seed counter. */
class Builder {
  constructor(readonly tf: Tf, readonly o: Resolved, readonly seeds: SeedCounter) {}

  init(): ReturnType<Tf['initializers']['glorotNormal']> {
    return this.tf.initializers.glorotNormal({ seed: this.seeds.next() });
  }

  conv(filters: number, kernel: number, name: string, strides = 1): tfTypes.layers.Layer {
    return this.tf.layers.conv2d({ filters, kernelSize: kernel, strides, padding: 'same', useBias: true, kernelInitializer: this.init(), name });
  }

  act(name: string): tfTypes.layers.Layer {
    return this.o.activation === 'relu' ? this.tf.layers.reLU({ name }) : this.tf.layers.leakyReLU({ alpha: this.o.leak, name });
  }

  /**
   * A block's layers: [projection,] then per convolution conv (stride 2 on the last one when
   * `strideLast`), batch norm, activation — where the block is residual the last activation
   * follows the add. Returns a function applying the block (several times: shared weights).
   */
  block(channels: number, prefix: string, residual: boolean, strideLast: boolean): (x: SymbolicTensor) => SymbolicTensor {
    const { tf, o } = this;
    const n = o.convsPerBlock;
    const proj = residual ? this.conv(channels, 1, `${prefix}_proj`, strideLast ? 2 : 1) : undefined;
    const convs = Array.from({ length: n }, (_, i) => this.conv(channels, 3, `${prefix}_conv${i + 1}`, strideLast && i === n - 1 ? 2 : 1));
    const bns = o.batchNorm ? convs.map((_, i) => tf.layers.batchNormalization({ axis: -1, name: `${prefix}_bn${i + 1}` })) : undefined;
    const acts = convs.map((_, i) => this.act(`${prefix}_act${i + 1}`));
    const add = residual ? tf.layers.add({ name: `${prefix}_add` }) : undefined;
    return (x) => {
      const shortcut = proj ? (proj.apply(x) as SymbolicTensor) : undefined;
      let h = x;
      for (let i = 0; i < n; i++) {
        h = convs[i].apply(h) as SymbolicTensor;
        if (bns) h = bns[i].apply(h) as SymbolicTensor;
        if (i === n - 1 && add) h = add.apply([h, shortcut!]) as SymbolicTensor;
        h = acts[i].apply(h) as SymbolicTensor;
      }
      return h;
    };
  }
}

interface EncoderOut {
  skips: SymbolicTensor[];
  bridge: SymbolicTensor;
}

/**
 * The contracting path's layers (created once, so applying it to several inputs shares the
 * weights): an input 3×3 conv; per level a block whose output is the skip, then the
 * down-sampling; a bridge of `convsPerBlock` 3×3 convs at the deepest level's channels.
 * With 'stride2' each level's block ends in a stride-2 conv and the skip is taken before it
 * (the previous level's output, or the input conv's for level 0).
 */
function encoderLayers(b: Builder): (input: SymbolicTensor) => EncoderOut {
  const { tf, o } = b;
  const p = o.encoderPrefix;
  const inConv = b.conv(o.baseChannels, 3, `${p}_in_conv`);
  const inAct = b.act(`${p}_in_act`);
  const down = o.residual === 'down' || o.residual === 'both';
  const levels = Array.from({ length: o.levels }, (_, k) => {
    const block = b.block(levelChannels(o.baseChannels, k), `${p}${k}`, down, o.downsampling === 'stride2');
    const pool = o.downsampling === 'max' ? tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `${p}${k}_pool` })
      : o.downsampling === 'average' ? tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `${p}${k}_pool` }) : undefined;
    return { block, pool };
  });
  const cb = levelChannels(o.baseChannels, o.levels - 1);
  const bridge = Array.from({ length: o.convsPerBlock }, (_, i) => [b.conv(cb, 3, `${p}_bridge_conv${i + 1}`), b.act(`${p}_bridge_act${i + 1}`)]);
  return (input) => {
    let x = inAct.apply(inConv.apply(input)) as SymbolicTensor;
    const skips: SymbolicTensor[] = [];
    for (const { block, pool } of levels) {
      if (pool) {
        x = block(x);
        skips.push(x);
        x = pool.apply(x) as SymbolicTensor;
      } else {
        skips.push(x);
        x = block(x);
      }
    }
    for (const [c, a] of bridge) x = a.apply(c.apply(x)) as SymbolicTensor;
    return { skips, bridge: x };
  };
}

/**
 * The expanding path: per level (coarsest first) up-sampling to the level's channels,
 * concatenation with the skip(s), a block; a final 1×1 conv to `outputChannels`.
 */
function decoder(b: Builder, skips: SymbolicTensor[][], bridge: SymbolicTensor, prefix: string, outputChannels: number): SymbolicTensor {
  const { tf, o } = b;
  const up = o.residual === 'up' || o.residual === 'both';
  let x = bridge;
  for (let k = o.levels - 1; k >= 0; k--) {
    const c = levelChannels(o.baseChannels, k);
    if (o.upsampling === 'transpose') {
      x = tf.layers.conv2dTranspose({ filters: c, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: b.init(), name: `${prefix}${k}_up` }).apply(x) as SymbolicTensor;
      x = b.act(`${prefix}${k}_upact`).apply(x) as SymbolicTensor;
    } else {
      x = tf.layers.upSampling2d({ size: [2, 2], interpolation: o.upsampling, name: `${prefix}${k}_up` }).apply(x) as SymbolicTensor;
      x = b.act(`${prefix}${k}_upact`).apply(b.conv(c, 3, `${prefix}${k}_upconv`).apply(x)) as SymbolicTensor;
    }
    x = tf.layers.concatenate({ axis: -1, name: `${prefix}${k}_concat` }).apply([x, ...skips.map((s) => s[k])]) as SymbolicTensor;
    x = b.block(c, `${prefix}${k}`, up, false)(x);
  }
  return b.conv(outputChannels, 1, `${prefix}_out`).apply(x) as SymbolicTensor;
}

function output(b: Builder, x: SymbolicTensor, inputs: SymbolicTensor[], prefix: string): SymbolicTensor {
  const { tf, o } = b;
  let y = x;
  if (o.inputResidual) {
    const { input, firstChannel } = o.inputResidual;
    const cin = o.inputChannels[input];
    // a fixed 1×1 convolution selecting the channel group: exported to ONNX as a plain Conv
    const kernel = new Float32Array(cin * o.outputChannels);
    for (let j = 0; j < o.outputChannels; j++) kernel[(firstChannel + j) * o.outputChannels + j] = 1;
    const select = tf.layers.conv2d({ filters: o.outputChannels, kernelSize: 1, useBias: false, trainable: false, weights: [tf.tensor4d(kernel, [1, 1, cin, o.outputChannels])], name: `${prefix}_residual_select` });
    y = tf.layers.add({ name: `${prefix}_residual_add` }).apply([y, select.apply(inputs[input]) as SymbolicTensor]) as SymbolicTensor;
  }
  if (o.outputActivation === 'tanh') y = tf.layers.activation({ activation: 'tanh', name: `${prefix}_tanh` }).apply(y) as SymbolicTensor;
  return y;
}

/**
 * How far an input pixel can be from an output pixel of {@link buildUNet}'s network and still
 * change it, px at the input's scale: the halo with which tiled inference equals one pass over
 * the whole image (core's `tiledInference` discards `haloPx` on each side). Counted along the
 * deepest path (input conv, every level's block and down-sampling, the bridge, every
 * up-sampling and block back up), each layer on the side where it reaches further: a 3×3 conv
 * at a scale of j input px reaches j; a 2×2 pooling window j more on one side; nearest or
 * transposed up-sampling j (which input pixel a fine pixel takes), bilinear 2j. An upper bound,
 * within 2^(levels + 1) px of the farthest change an impulse makes (nets.test.ts: four kinds of
 * network, the TSVA demo's exactly).
 */
export function unetReachPx(options: UNetOptions = {}): number {
  const o = resolve(options);
  const c = o.convsPerBlock;
  let reach = 1; // the input conv
  for (let k = 0; k < o.levels; k++) {
    const j = 2 ** k;
    reach += c * j; // the block's convs (with stride2, its last conv is the down-sampling)
    if (o.downsampling !== 'stride2') reach += j; // the 2×2 window
  }
  reach += c * 2 ** o.levels; // the bridge
  for (let k = o.levels - 1; k >= 0; k--) {
    const j = 2 ** k;
    reach += o.upsampling === 'bilinear' ? 2 * j : j; // which coarse pixels a fine pixel takes
    if (o.upsampling !== 'transpose') reach += j; // the 3×3 conv after the up-sampling
    reach += c * j; // the block
  }
  return reach;
}

/**
 * Floats per input pixel that one forward pass of {@link buildUNet}'s network makes: every
 * tensor of the graph once, with each convolution's batch norm and activation folded into it
 * and a residual block's add into its last convolution (as onnxruntime's full graph optimisation
 * fuses them), summed over the levels at their scale (level k: 1/4^k of the pixels). An
 * inference runtime that keeps a buffer per tensor holds about 4 bytes × this per pixel of a
 * network tile: onnxruntime's arena, measured on 256–1024 px tiles of five bundled U-Net packages,
 * was 0.53–1.12 × that (bench/network-memory.ts; TSVA demo: 209 floats, 836 B/px; measured
 * 832–938 B/px). Plus the session (core's inferenceWorkingBytes).
 */
export function unetActivationFloats(options: UNetOptions = {}): number {
  const o = resolve(options);
  const paths = o.inputChannels.length;
  const c = o.convsPerBlock;
  const down = o.residual === 'down' || o.residual === 'both';
  const up = o.residual === 'up' || o.residual === 'both';
  let floats = o.inputChannels.reduce((a, b) => a + b, 0); // the inputs
  let path = o.baseChannels; // the input conv
  for (let k = 0; k < o.levels; k++) {
    const ch = levelChannels(o.baseChannels, k) / 4 ** k;
    path += c * ch + (down ? ch : 0); // the block's convs (and its projection; the add is fused into the last conv)
    if (o.downsampling !== 'stride2') path += ch / 4; // the pooled map
  }
  const deepest = levelChannels(o.baseChannels, o.levels - 1) / 4 ** o.levels;
  path += c * deepest; // the bridge
  floats += paths * path + (paths > 1 ? paths * deepest : 0); // the bridges concatenated
  for (let k = o.levels - 1; k >= 0; k--) {
    const ch = levelChannels(o.baseChannels, k) / 4 ** k;
    const coarser = k === o.levels - 1 ? paths * levelChannels(o.baseChannels, k) : levelChannels(o.baseChannels, k + 1);
    floats += o.upsampling === 'transpose' ? ch : coarser / 4 ** k + ch; // up-sampled (and its conv)
    floats += ch * (1 + paths) + c * ch + (up ? ch : 0); // the concatenation, the block (and its projection)
  }
  floats += o.outputChannels * (o.inputResidual ? 3 : 1) + (o.outputActivation === 'tanh' ? o.outputChannels : 0); // output, residual select and add
  return floats;
}

/**
 * A configurable U-Net (see {@link UNetOptions}). With several inputs, one encoder (shared
 * weights) runs on each; their bridges are concatenated and every level's skips are all
 * concatenated in the decoder. Inputs are named `input` (one) or `input0`, `input1`, ….
 * Defaults reproduce Deep-R's generator (residual down blocks, max pooling, nearest + conv,
 * LeakyReLU 0.1, linear output).
 */
export function buildUNet(tf: Tf, options: UNetOptions = {}): LayersModel {
  const o = resolve(options);
  const b = new Builder(tf, o, seedCounter(o.seed));
  const many = o.inputChannels.length > 1;
  const inputs = o.inputChannels.map((c, i) => tf.input({ shape: [null, null, c] as unknown as number[], name: many ? `input${i}` : 'input' }));
  const encode = encoderLayers(b);
  const encoded = many && o.jointEncoderBatch ? encodeJointly(tf, encode, inputs, o.encoderPrefix) : inputs.map((x) => encode(x));
  const bridge = many ? (tf.layers.concatenate({ axis: -1, name: `${o.encoderPrefix}_bridge_concat` }).apply(encoded.map((e) => e.bridge)) as SymbolicTensor) : encoded[0].bridge;
  const out = output(b, decoder(b, encoded.map((e) => e.skips), bridge, o.decoderPrefix, o.outputChannels), inputs, o.decoderPrefix);
  return tf.model({ inputs, outputs: out, name: o.name });
}

/** Focal's two batch-axis layers of {@link UNetOptions.jointEncoderBatch}, made and registered once per tfjs module. */
interface BatchAxisLayers {
  Stack: new (args: { name: string }) => tfTypes.layers.Layer;
  Split: new (args: { name: string; parts: number }) => tfTypes.layers.Layer;
}
const batchAxisLayers = new WeakMap<Tf, BatchAxisLayers>();

/**
 * Registers (once per tfjs module) and returns the layers that stack inputs along the batch
 * axis and split them back, so that a model saved with {@link UNetOptions.jointEncoderBatch} loads.
 */
export function registerBatchAxisLayers(tf: Tf): BatchAxisLayers {
  const known = batchAxisLayers.get(tf);
  if (known) return known;
  type Shape = (number | null)[];
  class FocalBatchStack extends tf.layers.Layer {
    static className = 'FocalBatchStack';
    override computeOutputShape(shapes: Shape | Shape[]): Shape {
      return [null, ...(shapes as Shape[])[0].slice(1)];
    }
    override call(inputs: tfTypes.Tensor | tfTypes.Tensor[]): tfTypes.Tensor {
      return tf.concat(inputs as tfTypes.Tensor[], 0);
    }
  }
  class FocalBatchSplit extends tf.layers.Layer {
    static className = 'FocalBatchSplit';
    readonly parts: number;
    constructor(args: { name: string; parts: number }) {
      super(args);
      this.parts = args.parts;
    }
    override computeOutputShape(shape: Shape | Shape[]): Shape[] {
      const s = (Array.isArray(shape[0]) ? shape[0] : shape) as Shape;
      return Array.from({ length: this.parts }, () => [null, ...s.slice(1)]);
    }
    override call(inputs: tfTypes.Tensor | tfTypes.Tensor[]): tfTypes.Tensor[] {
      return tf.split(Array.isArray(inputs) ? inputs[0] : inputs, this.parts, 0);
    }
    override getConfig() {
      return { ...super.getConfig(), parts: this.parts };
    }
  }
  tf.serialization.registerClass(FocalBatchStack);
  tf.serialization.registerClass(FocalBatchSplit);
  const made = { Stack: FocalBatchStack, Split: FocalBatchSplit };
  batchAxisLayers.set(tf, made);
  return made;
}

/** The shared encoder run once on the inputs stacked along the batch axis; its skips and bridge split back per input. */
function encodeJointly(tf: Tf, encode: (input: SymbolicTensor) => EncoderOut, inputs: SymbolicTensor[], prefix: string): EncoderOut[] {
  const { Stack, Split } = registerBatchAxisLayers(tf);
  const joint = encode(new Stack({ name: `${prefix}_batch_stack` }).apply(inputs) as SymbolicTensor);
  const split = (x: SymbolicTensor, name: string) => new Split({ name, parts: inputs.length }).apply(x) as SymbolicTensor[];
  const skips = joint.skips.map((s, k) => split(s, `${prefix}${k}_batch_split`));
  const bridge = split(joint.bridge, `${prefix}_bridge_batch_split`);
  return inputs.map((_, i) => ({ skips: skips.map((s) => s[i]), bridge: bridge[i] }));
}

/**
 * Copies every weighted layer's weights from `from` to the layer of the same name in `to`
 * (e.g. a {@link UNetOptions.jointEncoderBatch} training graph into the plain graph of the same
 * options, for export). Refuses a layer of `to` that `from` lacks or whose weights differ in shape.
 */
export function copyLayerWeights(from: LayersModel, to: LayersModel): void {
  for (const layer of to.layers) {
    const target = layer.getWeights();
    if (target.length === 0) continue;
    let source: tfTypes.Tensor[];
    try {
      source = from.getLayer(layer.name).getWeights();
    } catch {
      throw new FocalError('E_ARGUMENT', `from: has no layer ${layer.name}`, { field: 'from' });
    }
    if (source.length !== target.length || source.some((w, i) => w.shape.join() !== target[i].shape.join())) {
      throw new FocalError('E_ARGUMENT', `from: layer ${layer.name} has weights of other shapes`, { field: 'from' });
    }
    layer.setWeights(source);
  }
}

/**
 * A new decoder on a trained U-Net's contracting path, which is frozen (its layers are
 * shared with `unet` and marked non-trainable): "frozen encoder + new head" (Deep-R's DPM).
 * `options` must describe `unet` (same levels, base channels, prefixes, block shape); the new
 * decoder's layers are named with `decoderPrefix` and may use other outputs and activation.
 * Single-input U-Nets only.
 */
export function withNewDecoder(tf: Tf, unet: LayersModel, options: UNetOptions & { decoderPrefix: string }): LayersModel {
  const o = resolve(options);
  if (unet.inputs.length !== 1) throw new FocalError('E_ARGUMENT', `unet: has ${unet.inputs.length} inputs; withNewDecoder takes single-input U-Nets`, { field: 'unet' });
  const b = new Builder(tf, o, seedCounter(o.seed));
  const p = o.encoderPrefix;
  const last = `act${o.convsPerBlock}`;
  const layerOut = (name: string): SymbolicTensor => {
    try {
      return unet.getLayer(name).output as SymbolicTensor;
    } catch {
      throw new FocalError('E_ARGUMENT', `unet: has no layer ${name}; levels (${o.levels}) and convsPerBlock (${o.convsPerBlock}) must match the network's`, { field: 'levels' });
    }
  };
  const skips: SymbolicTensor[] = [];
  for (let k = 0; k < o.levels; k++) skips.push(o.downsampling === 'stride2' ? (k === 0 ? layerOut(`${p}_in_act`) : layerOut(`${p}${k - 1}_${last}`)) : layerOut(`${p}${k}_${last}`));
  const bridge = layerOut(`${p}_bridge_act${o.convsPerBlock}`);
  for (const layer of unet.layers) if (layer.name.startsWith(p)) layer.trainable = false;
  const out = output(b, decoder(b, [skips], bridge, o.decoderPrefix, o.outputChannels), unet.inputs, o.decoderPrefix);
  return tf.model({ inputs: unet.inputs, outputs: out, name: o.name === DEFAULTS.name ? `${o.decoderPrefix}_model` : o.name });
}

/** Options of {@link buildDiscriminator}. */
export interface DiscriminatorOptions {
  /** Channels of the image judged. Default 1. */
  inputChannels?: number;
  /** Conditional (pix2pix-style): channels of the condition concatenated with the image (0: unconditional). Default 0. */
  conditionChannels?: number;
  /** Channels of the first block; block k has baseChannels·2^k. Default 32. */
  baseChannels?: number;
  /** Blocks of [3×3 conv, activation, 3×3 conv stride 2, activation], each halving the resolution. Default 5. */
  blocks?: number;
  batchNorm?: boolean;
  leak?: number;
  /**
   * Head: 'global' = global average pooling, a dense hidden layer (LeakyReLU) and a dense unit
   * whose weights start at `outputInit` (Deep-R); 'patch' = a 1×1 conv to one channel per
   * location (PatchGAN). Default 'global'.
   */
  head?: 'global' | 'patch';
  /** Output activation. Default 'sigmoid'. */
  outputActivation?: 'sigmoid' | 'linear';
  /** Constant initial weight of the global head's output unit. Default 0.1. */
  outputInit?: number;
  seed?: number;
  /** Layer-name prefix. Default 'd'. */
  prefix?: string;
  name?: string;
}

/**
 * A convolutional discriminator: an input 3×3 conv, `blocks` blocks, then the head (see
 * {@link DiscriminatorOptions}). Input `image` [N, H, W, C] (plus `condition` when
 * conditional); any size ≥ 2^blocks px.
 */
export function buildDiscriminator(tf: Tf, options: DiscriminatorOptions = {}): LayersModel {
  const o = {
    inputChannels: 1, conditionChannels: 0, baseChannels: 32, blocks: 5, batchNorm: false, leak: 0.1, head: 'global' as const,
    outputActivation: 'sigmoid' as const, outputInit: 0.1, prefix: 'd', name: 'discriminator',
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as Required<Omit<DiscriminatorOptions, 'seed'>> & { seed?: number };
  for (const k of ['inputChannels', 'baseChannels', 'blocks'] as const) positiveInt(o[k], k);
  if (!Number.isInteger(o.conditionChannels) || o.conditionChannels < 0) throw new FocalError('E_ARGUMENT', `conditionChannels: must be an integer ≥ 0, got ${o.conditionChannels}`, { field: 'conditionChannels' });
  const seeds = seedCounter(o.seed);
  const init = () => tf.initializers.glorotNormal({ seed: seeds.next() });
  const p = o.prefix;
  const lrelu = (x: SymbolicTensor, name: string) => tf.layers.leakyReLU({ alpha: o.leak, name }).apply(x) as SymbolicTensor;
  const conv = (x: SymbolicTensor, filters: number, name: string, strides = 1) => {
    const y = tf.layers.conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: true, kernelInitializer: init(), name }).apply(x) as SymbolicTensor;
    return o.batchNorm ? (tf.layers.batchNormalization({ axis: -1, name: `${name}_bn` }).apply(y) as SymbolicTensor) : y;
  };
  const image = tf.input({ shape: [null, null, o.inputChannels] as unknown as number[], name: `${p}_input` });
  const inputs = [image];
  let x: SymbolicTensor = image;
  if (o.conditionChannels > 0) {
    const condition = tf.input({ shape: [null, null, o.conditionChannels] as unknown as number[], name: `${p}_condition` });
    inputs.push(condition);
    x = tf.layers.concatenate({ axis: -1, name: `${p}_concat` }).apply([image, condition]) as SymbolicTensor;
  }
  x = lrelu(tf.layers.conv2d({ filters: o.baseChannels, kernelSize: 3, padding: 'same', useBias: true, kernelInitializer: init(), name: `${p}_in_conv` }).apply(x) as SymbolicTensor, `${p}_in_act`);
  for (let k = 0; k < o.blocks; k++) {
    const c = levelChannels(o.baseChannels, k);
    x = lrelu(conv(x, c, `${p}${k}_conv1`), `${p}${k}_act1`);
    x = lrelu(conv(x, 2 * c, `${p}${k}_conv2`, 2), `${p}${k}_act2`);
  }
  const activation = o.outputActivation;
  if (o.head === 'patch') {
    x = tf.layers.conv2d({ filters: 1, kernelSize: 1, activation, kernelInitializer: init(), name: `${p}_out` }).apply(x) as SymbolicTensor;
  } else {
    x = tf.layers.globalAveragePooling2d({ name: `${p}_gap` }).apply(x) as SymbolicTensor;
    x = lrelu(tf.layers.dense({ units: levelChannels(o.baseChannels, o.blocks), kernelInitializer: init(), name: `${p}_fc1` }).apply(x) as SymbolicTensor, `${p}_fc1_act`);
    x = tf.layers.dense({ units: 1, activation, kernelInitializer: tf.initializers.constant({ value: o.outputInit }), name: `${p}_fc2` }).apply(x) as SymbolicTensor;
  }
  return tf.model({ inputs, outputs: x, name: o.name });
}

/** The outputs of a network's named layers, in order, as one model (for {@link featureLoss}-style losses); the network is shared, not copied. */
export function featureExtractor(tf: Tf, network: LayersModel, layerNames: readonly string[]): LayersModel {
  if (layerNames.length === 0) throw new FocalError('E_ARGUMENT', 'layerNames: name at least one layer', { field: 'layerNames' });
  const outputs = layerNames.map((n) => {
    try {
      return network.getLayer(n).output as SymbolicTensor;
    } catch {
      throw new FocalError('E_ARGUMENT', `layerNames: network ${network.name} has no layer ${n}`, { field: 'layerNames' });
    }
  });
  return tf.model({ inputs: network.inputs, outputs, name: `${network.name}_features` });
}
