/**
 * A U-Net built with tf.layers from exactly the layer set the ONNX exporter supports,
 * shaped like the Deep-R generator of the design (issue 6): `levels` down blocks of
 * two 3×3 convolutions + LeakyReLU with a residual (1×1-projected) shortcut, each
 * followed by 2×2 max-pooling; a bottleneck block; `levels` up blocks (2×2 stride-2
 * transposed convolution or nearest up-sampling, concatenation with the skip, two 3×3
 * convolutions + LeakyReLU with a residual shortcut); a final 1×1 convolution.
 * Used by the exporter's tests and by bench/deepr.ts when plugins/deepr is absent.
 */
import type * as tfType from '@tensorflow/tfjs';

export interface UNetOptions {
  baseChannels?: number;
  levels?: number;
  inputChannels?: number;
  outputChannels?: number;
  /** Up-sampling: 'transpose' (Conv2DTranspose k=2, s=2) or 'nearest' (UpSampling2D + 3×3 conv). */
  up?: 'transpose' | 'nearest';
  /** Seed of the kernel initialiser. */
  seed?: number;
}

export function buildUNetFixture(tf: typeof tfType, options: UNetOptions = {}): tfType.LayersModel {
  const { baseChannels = 8, levels = 5, inputChannels = 1, outputChannels = 1, up = 'transpose', seed = 1 } = options;
  let s = seed;
  const init = () => tf.initializers.glorotNormal({ seed: s++ });
  const conv = (filters: number, kernelSize: number, x: tfType.SymbolicTensor) =>
    tf.layers.conv2d({ filters, kernelSize, padding: 'same', kernelInitializer: init(), biasInitializer: 'zeros' }).apply(x) as tfType.SymbolicTensor;
  const lrelu = (x: tfType.SymbolicTensor) => tf.layers.leakyReLU({ alpha: 0.1 }).apply(x) as tfType.SymbolicTensor;
  const block = (filters: number, x: tfType.SymbolicTensor) => {
    const y = lrelu(conv(filters, 3, lrelu(conv(filters, 3, x))));
    const shortcut = conv(filters, 1, x);
    return tf.layers.add().apply([y, shortcut]) as tfType.SymbolicTensor;
  };
  const input = tf.input({ shape: [null, null, inputChannels] });
  let x = block(baseChannels, input);
  const skips: tfType.SymbolicTensor[] = [];
  for (let l = 1; l <= levels; l++) {
    skips.push(x);
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }).apply(x) as tfType.SymbolicTensor;
    x = block(baseChannels * 2 ** Math.min(l, 4), x);
  }
  for (let l = levels - 1; l >= 0; l--) {
    const filters = baseChannels * 2 ** Math.min(l, 4);
    x = up === 'transpose'
      ? tf.layers.conv2dTranspose({ filters, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: init() }).apply(x) as tfType.SymbolicTensor
      : conv(filters, 3, tf.layers.upSampling2d({ size: [2, 2] }).apply(x) as tfType.SymbolicTensor);
    x = tf.layers.concatenate().apply([x, skips[l]]) as tfType.SymbolicTensor;
    x = block(filters, x);
  }
  const out = conv(outputChannels, 1, x);
  return tf.model({ inputs: input, outputs: out, name: 'unet_fixture' });
}

/** Multiply–accumulates of one forward pass of a model at the given input size, from its config (convolutions only). */
export function convMacs(model: tfType.LayersModel, height: number, width: number): number {
  // Propagate spatial sizes through the layer graph from the config.
  const config = model.getConfig() as unknown as { layers: { name: string; className: string; config: Record<string, unknown>; inboundNodes: [string, number, number, unknown][][] }[] };
  const size = new Map<string, [number, number]>();
  let macs = 0;
  for (const layer of config.layers) {
    if (layer.className === 'InputLayer') { size.set(layer.name, [height, width]); continue; }
    const inName = layer.inboundNodes[0]?.[0]?.[0];
    const [h, w] = size.get(inName) ?? [height, width];
    const cfg = layer.config;
    const weights = model.getLayer(layer.name).getWeights();
    if (layer.className === 'Conv2D') {
      const [kh, kw, ci, co] = weights[0].shape;
      macs += h * w * kh * kw * ci * co;
      size.set(layer.name, [h, w]);
    } else if (layer.className === 'Conv2DTranspose') {
      const [kh, kw, co, ci] = weights[0].shape;
      const [sh, sw] = cfg.strides as number[];
      macs += h * w * kh * kw * ci * co; // every input pixel scatters a kh×kw×co patch
      size.set(layer.name, [h * sh, w * sw]);
    } else if (layer.className === 'MaxPooling2D') {
      const [sh, sw] = (cfg.strides ?? cfg.poolSize) as number[];
      size.set(layer.name, [Math.floor(h / sh), Math.floor(w / sw)]);
    } else if (layer.className === 'UpSampling2D') {
      const [fh, fw] = cfg.size as number[];
      size.set(layer.name, [h * fh, w * fw]);
    } else size.set(layer.name, [h, w]);
  }
  return macs;
}

/** Uniform values in [lo, hi) from a small LCG: the same inputs on every run. */
export function seededUniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}

/**
 * Runs the tfjs model and its ONNX export (through onnxruntime) on the same NHWC inputs, one per
 * model input; returns max |tfjs − onnx|, max |tfjs| and the ONNX output's shape.
 */
export async function onnxAgreement(
  tf: typeof tfType,
  ort: typeof import('onnxruntime-node'),
  onnx: Uint8Array,
  model: tfType.LayersModel,
  inputs: Float32Array[],
  shapes: [number, number, number, number][],
): Promise<{ maxDiff: number; maxAbs: number; shape: readonly number[]; expectedShape: number[] }> {
  const expected = tf.tidy(() => model.predict(inputs.length === 1 ? tf.tensor4d(inputs[0], shapes[0]) : inputs.map((d, i) => tf.tensor4d(d, shapes[i]))) as tfType.Tensor);
  const want = expected.dataSync();
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
  const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
  session.inputNames.forEach((name, i) => { feeds[name] = new ort.Tensor('float32', inputs[i], shapes[i]); });
  const got = (await session.run(feeds))[session.outputNames[0]];
  const g = got.data as Float32Array;
  let maxDiff = 0;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(g[i] - want[i]));
    maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  }
  const expectedShape = expected.shape;
  expected.dispose();
  await session.release();
  return { maxDiff, maxAbs, shape: got.dims, expectedShape };
}
