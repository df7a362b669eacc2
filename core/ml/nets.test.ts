import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { isFocalError } from '../errors.js';
import { loadOnnxRuntime } from './inference.js';
import { exportOnnx } from './onnx/export.js';
import { onnxAgreement, seededUniform } from './onnx/fixtures.js';
import { buildDiscriminator, buildUNet, copyLayerWeights, featureExtractor, unetActivationFloats, unetReachPx, withNewDecoder, type UNetOptions } from './nets.js';

let tf: typeof tfType;
let ort: typeof import('onnxruntime-node');

beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  ort = await loadOnnxRuntime();
});

const random = seededUniform;

/** Gives every batch-norm layer random statistics and affine parameters (variance > 0), so the export is checked on non-trivial values. */
function randomiseBatchNorm(model: tfType.LayersModel): number {
  let n = 0;
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    n++;
    const ws = l.getWeights();
    l.setWeights(ws.map((w, i) => tf.tensor(random(w.size, 17 + i + n, i === ws.length - 1 ? 0.5 : -0.5, i === ws.length - 1 ? 2 : 0.5), w.shape)));
  }
  return n;
}

/** max |tfjs − onnxruntime| over the model's output on random inputs of `shapes`. */
async function onnxDifference(model: tfType.LayersModel, shapes: [number, number, number, number][]): Promise<{ maxDiff: number; maxAbs: number }> {
  const data = shapes.map((s, i) => random(s.reduce((a, b) => a * b, 1), 5 + i));
  const r = await onnxAgreement(tf, ort, exportOnnx(model), model, data, shapes);
  expect(r.shape).toEqual(r.expectedShape);
  return r;
}

describe('buildUNet', () => {
  it('defaults (Deep-R\'s generator): shape-preserving, parameter count by hand, layer names, same seed → same weights', () => {
    const m = buildUNet(tf, { baseChannels: 2, levels: 2, seed: 4 });
    // in conv 20; level 0: proj 6 + convs 38 + 38; level 1: 12 + 76 + 148; bridge 2 × 148;
    // up level 1: upconv 148, convs 292 + 148; up level 0: 74, 74 + 38; out 3
    expect(m.countParams()).toBe(20 + 82 + 236 + 296 + 588 + 186 + 3);
    const y = m.predict(tf.zeros([1, 8, 12, 1])) as tfType.Tensor;
    expect(y.shape).toEqual([1, 8, 12, 1]);
    for (const n of ['enc_in_conv', 'enc0_proj', 'enc1_act2', 'enc1_pool', 'enc_bridge_act2', 'dec0_up', 'dec0_concat', 'dec_out']) expect(() => m.getLayer(n)).not.toThrow();
    const again = buildUNet(tf, { baseChannels: 2, levels: 2, seed: 4 });
    const a = m.getWeights().map((w) => Array.from(w.dataSync()));
    expect(again.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(a);
    const other = buildUNet(tf, { baseChannels: 2, levels: 2, seed: 5 });
    expect(other.getWeights()[0].dataSync()[0]).not.toBe(a[0][0]);
  });

  it('several inputs share one encoder: encoder layers applied once per input, no extra encoder weights, skips all concatenated', () => {
    const one = buildUNet(tf, { baseChannels: 2, levels: 2, inputChannels: [1] });
    const two = buildUNet(tf, { baseChannels: 2, levels: 2, inputChannels: [1, 1] });
    expect(two.inputs).toHaveLength(2);
    expect(two.getLayer('enc0_conv1').inboundNodes).toHaveLength(2);
    const encoderParams = (m: tfType.LayersModel) => m.layers.filter((l) => l.name.startsWith('enc')).reduce((s, l) => s + l.countParams(), 0);
    expect(encoderParams(two)).toBe(encoderParams(one));
    // the decoder's first conv of level 0 sees 2 (up) + 2 × 2 (skips) channels
    expect(two.getLayer('dec0_conv1').getWeights()[0].shape).toEqual([3, 3, 6, 2]);
    const y = two.predict([tf.zeros([2, 8, 8, 1]), tf.ones([2, 8, 8, 1])]) as tfType.Tensor;
    expect(y.shape).toEqual([2, 8, 8, 1]);
  });

  it('jointEncoderBatch: one encoder call on the stacked inputs; the plain graph with its weights gives the same outputs at inference; while learning, batch statistics of both inputs together', async () => {
    const o: UNetOptions = { baseChannels: 2, levels: 2, inputChannels: [1, 1], batchNorm: true, seed: 3 };
    const joint = buildUNet(tf, { ...o, jointEncoderBatch: true });
    const plain = buildUNet(tf, o);
    expect(joint.getLayer('enc0_conv1').inboundNodes).toHaveLength(1);
    expect(plain.getLayer('enc0_conv1').inboundNodes).toHaveLength(2);
    expect(joint.countParams()).toBe(plain.countParams());
    randomiseBatchNorm(joint);
    copyLayerWeights(joint, plain);
    const a = tf.tensor4d(random(2 * 8 * 8, 41), [2, 8, 8, 1]);
    const b = tf.tensor4d(random(2 * 8 * 8, 42, 0.2, 0.9), [2, 8, 8, 1]);
    const diff = (x: tfType.Tensor, y: tfType.Tensor) => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0];
    expect(diff(joint.predict([a, b]) as tfType.Tensor, plain.predict([a, b]) as tfType.Tensor)).toBeLessThan(1e-5);
    // learning: the first encoder BN's moving mean moves by (1 − momentum) × the batch mean of its input, over both inputs at once
    const bn = (m: tfType.LayersModel) => m.getLayer('enc0_bn1');
    const conv1 = tf.model({ inputs: plain.inputs[0], outputs: plain.getLayer('enc0_conv1').getOutputAt(0) as tfType.SymbolicTensor });
    const convMean = (x: tfType.Tensor) => tf.mean(conv1.predict(x) as tfType.Tensor, [0, 1, 2]);
    const before = bn(joint).getWeights()[2].clone(); // getWeights hands out the variable itself
    const momentum = 0.99;
    joint.apply([a, b], { training: true });
    const expected = tf.add(tf.mul(before, momentum), tf.mul(tf.div(tf.add(convMean(a), convMean(b)), 2), 1 - momentum));
    expect(diff(bn(joint).getWeights()[2], expected)).toBeLessThan(1e-5);
    // the plain graph normalises each input by its own statistics: with the same input twice the two graphs learn alike, with different inputs not
    const outJ = (x: tfType.Tensor, y: tfType.Tensor) => joint.apply([x, y], { training: true }) as tfType.Tensor;
    const outP = (x: tfType.Tensor, y: tfType.Tensor) => plain.apply([x, y], { training: true }) as tfType.Tensor;
    expect(diff(outJ(a, a), outP(a, a))).toBeLessThan(1e-5);
    expect(diff(outJ(a, b), outP(a, b))).toBeGreaterThan(1e-3);
    // saved and loaded with its own layers; the plain copy exports to ONNX
    const artifacts: tfType.io.ModelArtifacts[] = [];
    await joint.save(tf.io.withSaveHandler(async (art) => { artifacts.push(art); return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts[0]));
    expect(diff(loaded.predict([a, b]) as tfType.Tensor, joint.predict([a, b]) as tfType.Tensor)).toBe(0);
    expect((await onnxDifference(plain, [[1, 8, 8, 1], [1, 8, 8, 1]])).maxDiff).toBeLessThan(1e-4);
    expect(() => copyLayerWeights(buildUNet(tf, { ...o, levels: 1 }), plain)).toThrow(/has no layer|other shapes/);
  });

  it('stride-2 encoder: no pooling layers, stride-2 last conv per level, shape-preserving', () => {
    const m = buildUNet(tf, { baseChannels: 2, levels: 3, downsampling: 'stride2', residual: 'none' });
    expect(m.layers.some((l) => l.name.endsWith('_pool'))).toBe(false);
    expect((m.getLayer('enc0_conv2').getConfig() as { strides: number[] }).strides).toEqual([2, 2]);
    expect((m.predict(tf.zeros([1, 16, 24, 1])) as tfType.Tensor).shape).toEqual([1, 16, 24, 1]);
  });

  it('refuses bad options, naming the field', () => {
    for (const [o, field] of [[{ levels: 0 }, 'levels'], [{ inputChannels: [1, 2] }, 'inputChannels'], [{ inputResidual: { input: 0, firstChannel: 1 } }, 'inputResidual.firstChannel']] as const) {
      try {
        buildUNet(tf, o as never);
        expect.unreachable();
      } catch (e) {
        expect(isFocalError(e) && e.details?.field).toBe(field);
      }
    }
  });

  it('ONNX export agrees with tfjs to 1e-4: batch norm, bilinear up-sampling, average pooling, ReLU, tanh output', async () => {
    const m = buildUNet(tf, { baseChannels: 3, levels: 2, inputChannels: [2], outputChannels: 2, batchNorm: true, upsampling: 'bilinear', downsampling: 'average', activation: 'relu', outputActivation: 'tanh', residual: 'both', seed: 1 });
    expect(randomiseBatchNorm(m)).toBeGreaterThan(0);
    const r = await onnxDifference(m, [[2, 12, 20, 2]]);
    expect(r.maxAbs).toBeGreaterThan(0.05);
    expect(r.maxDiff).toBeLessThan(1e-4);
  });

  it('ONNX export agrees with tfjs to 1e-4: transposed-conv up-sampling, stride-2 encoder, residual add of an input channel group', async () => {
    const m = buildUNet(tf, { baseChannels: 3, levels: 2, inputChannels: [3], outputChannels: 1, upsampling: 'transpose', downsampling: 'stride2', inputResidual: { input: 0, firstChannel: 2 }, seed: 2 });
    const r = await onnxDifference(m, [[1, 16, 12, 3]]);
    expect(r.maxAbs).toBeGreaterThan(0.05);
    expect(r.maxDiff).toBeLessThan(1e-4);
  });

  it('ONNX export agrees with tfjs to 1e-4 for a two-input shared-encoder U-Net', async () => {
    const m = buildUNet(tf, { baseChannels: 2, levels: 2, inputChannels: [1, 1], seed: 3 });
    const r = await onnxDifference(m, [[1, 8, 16, 1], [1, 8, 16, 1]]);
    expect(r.maxAbs).toBeGreaterThan(0.01);
    expect(r.maxDiff).toBeLessThan(1e-4);
  });

  it('residual add of an input channel group: with a zeroed network the output is that channel group', () => {
    const m = buildUNet(tf, { baseChannels: 2, levels: 1, inputChannels: [3], outputChannels: 2, inputResidual: { input: 0, firstChannel: 1 } });
    // zero every weight but the fixed channel selection (the model's last weight)
    const ws = m.getWeights();
    expect(m.weights[ws.length - 1].name).toMatch(/residual_select/);
    m.setWeights(ws.map((w, i) => (i === ws.length - 1 ? w : tf.zerosLike(w))));
    const x = tf.tensor4d(random(2 * 2 * 3, 9), [1, 2, 2, 3]);
    const y = (m.predict(x) as tfType.Tensor).arraySync() as number[][][][];
    const xa = x.arraySync();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(y[0][i][j]).toEqual([xa[0][i][j][1], xa[0][i][j][2]].map((v) => expect.closeTo(v, 6)));
  });
});

describe('withNewDecoder', () => {
  it('shares and freezes the encoder, adds a decoder with its own prefix', () => {
    const g = buildUNet(tf, { baseChannels: 2, levels: 2, seed: 1 });
    const d = withNewDecoder(tf, g, { baseChannels: 2, levels: 2, decoderPrefix: 'head', outputChannels: 3, seed: 9 });
    expect(d.getLayer('enc0_conv1')).toBe(g.getLayer('enc0_conv1'));
    expect(g.getLayer('enc0_conv1').trainable).toBe(false);
    expect(d.trainableWeights.every((w) => w.name.startsWith('head'))).toBe(true);
    expect((d.predict(tf.zeros([1, 8, 8, 1])) as tfType.Tensor).shape).toEqual([1, 8, 8, 3]);
    expect(() => withNewDecoder(tf, g, { baseChannels: 2, levels: 3, decoderPrefix: 'x' })).toThrow(/levels/);
  });
});

describe('buildDiscriminator', () => {
  it('global head: one score per image in (0, 1); patch head: a map; conditional: two inputs', () => {
    const g = buildDiscriminator(tf, { baseChannels: 2, blocks: 2, seed: 1 });
    const s = (g.predict(tf.ones([3, 16, 16, 1])) as tfType.Tensor);
    expect(s.shape).toEqual([3, 1]);
    for (const v of s.dataSync()) expect(v > 0 && v < 1).toBe(true);
    const p = buildDiscriminator(tf, { baseChannels: 2, blocks: 2, head: 'patch', outputActivation: 'linear', conditionChannels: 3, inputChannels: 3, batchNorm: true });
    expect(p.inputs).toHaveLength(2);
    expect((p.predict([tf.ones([1, 32, 16, 3]), tf.ones([1, 32, 16, 3])]) as tfType.Tensor).shape).toEqual([1, 8, 4, 1]);
    // Deep-R's: in conv 20; block 0: 38 + (9·2·4 + 4); block 1: 9·4·4+4 + 9·4·8+8; fc1 8·8+8; fc2 9
    expect(g.countParams()).toBe(20 + 38 + 76 + 148 + 296 + 72 + 9);
  });
});

describe('featureExtractor', () => {
  it('returns the named layers\' outputs in order and refuses unknown names', () => {
    const d = buildDiscriminator(tf, { baseChannels: 2, blocks: 2 });
    const f = featureExtractor(tf, d, ['d0_act2', 'd1_act2']);
    const out = f.predict(tf.ones([1, 16, 16, 1])) as tfType.Tensor[];
    expect(out.map((t) => t.shape)).toEqual([[1, 8, 8, 4], [1, 4, 4, 8]]);
    expect(() => featureExtractor(tf, d, ['nope'])).toThrow(/nope/);
  });
});

describe('unetActivationFloats: the floats per input pixel of one forward pass', () => {
  it('counts every tensor once at its level\'s scale, by hand', () => {
    // 1 level, 2 channels, one conv per block, one input: input 1; in conv 2, block 2, pooled 2/4, bridge 2/4;
    // up-sampled 2 and its conv 2, concatenation 2 + 2, block 2; output 1
    const tiny: UNetOptions = { inputChannels: [1], baseChannels: 2, levels: 1, convsPerBlock: 1, residual: 'none' };
    expect(unetActivationFloats(tiny)).toBe(1 + 2 + 2 + 0.5 + 0.5 + 2 + 2 + 4 + 2 + 1);
    // two inputs: two encoder paths, the bridges concatenated, both skips in the concatenation
    expect(unetActivationFloats({ ...tiny, inputChannels: [1, 1] })).toBe(2 + 2 * (2 + 2 + 0.5 + 0.5) + 2 * 0.5 + (4 / 1 + 2) + 2 * 3 + 2 + 1);
    // the TSVA demo (3 levels, base 8, two RGB inputs, residual output): 209, as counted in the docs
    const tsva: UNetOptions = { inputChannels: [3, 3], outputChannels: 3, baseChannels: 8, levels: 3, convsPerBlock: 2, residual: 'none', batchNorm: true, activation: 'relu', inputResidual: { input: 0, firstChannel: 0 } };
    expect(unetActivationFloats(tsva)).toBe(209);
    expect(unetActivationFloats({ ...tsva, inputChannels: [3] })).toBe(148.5);
  });
});

describe('unetReachPx: how far an input pixel changes the output', () => {
  /** Farthest output pixel (Chebyshev distance from the changed input pixel) that changes when one input pixel of a noise image changes. */
  function measuredReach(options: UNetOptions, size: number, at: number): number {
    const model = buildUNet(tf, { ...options, inputChannels: [1], outputChannels: 1, seed: 3 });
    const noise = random(size * size, 11, 0, 1);
    const changed = Float32Array.from(noise);
    changed[at * size + at] += 5;
    const [a, b] = [noise, changed].map((d) => (model.predict(tf.tensor4d(d, [1, size, size, 1])) as tfType.Tensor).dataSync());
    let far = 0;
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (a[y * size + x] !== b[y * size + x]) far = Math.max(far, Math.abs(x - at), Math.abs(y - at));
    model.dispose();
    return far;
  }

  const cases: [string, UNetOptions][] = [
    ['TSVA-like: 3 levels, 2 convs, max pooling, nearest, batch norm, ReLU', { levels: 3, convsPerBlock: 2, baseChannels: 4, residual: 'none', batchNorm: true, activation: 'relu' }],
    ['2 levels, 2 convs, residual blocks (Deep-R defaults)', { levels: 2, convsPerBlock: 2, baseChannels: 4 }],
    ['2 levels, 1 conv, stride-2 down, transposed up', { levels: 2, convsPerBlock: 1, baseChannels: 4, downsampling: 'stride2', upsampling: 'transpose' }],
    ['2 levels, 3 convs, average pooling, bilinear', { levels: 2, convsPerBlock: 3, baseChannels: 4, downsampling: 'average', upsampling: 'bilinear' }],
  ];
  for (const [name, options] of cases) {
    it(name, () => {
      const reach = unetReachPx(options);
      const step = 2 ** (options.levels ?? 5);
      const size = Math.ceil((2 * reach + 3 * step) / step) * step;
      // impulses at two phases of the pooling grid: the farthest change is within the bound and close to it
      const far = Math.max(measuredReach(options, size, size / 2), measuredReach(options, size, size / 2 + 1));
      expect(far).toBeLessThanOrEqual(reach);
      expect(far).toBeGreaterThanOrEqual(reach - 2 * step);
    });
  }

  it('the TSVA demo configuration reaches 66 px; the paper-size one (4 levels) 138 px', () => {
    const tsva = { levels: 3, convsPerBlock: 2, residual: 'none', downsampling: 'max', upsampling: 'nearest' } as const;
    expect(unetReachPx(tsva)).toBe(66);
    expect(unetReachPx({ ...tsva, levels: 4 })).toBe(138);
  });
});
