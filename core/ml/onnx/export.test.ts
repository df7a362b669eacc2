import { describe, expect, it, beforeAll } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { loadOnnxRuntime } from '../inference.js';
import { exportOnnx } from './export.js';
import { buildUNetFixture, onnxAgreement, seededUniform } from './fixtures.js';
import { isFocalError } from '../../errors.js';

let tf: typeof tfType;
let ort: typeof import('onnxruntime-node');

beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  ort = await loadOnnxRuntime();
});

const random = (n: number, seed: number) => seededUniform(n, seed);

/** Runs the tfjs model and its ONNX export on the same random NHWC input; returns max |Δ| and the output shape. */
async function compare(model: tfType.LayersModel, shape: [number, number, number, number], seed = 3): Promise<{ maxDiff: number; maxAbs: number; shape: readonly number[] }> {
  const r = await onnxAgreement(tf, ort, exportOnnx(model), model, [random(shape.reduce((a, b) => a * b, 1), seed)], [shape]);
  expect(r.shape).toEqual(r.expectedShape);
  return r;
}

describe('exportOnnx (onnxruntime-node vs tfjs cpu)', () => {
  it('conv2d (k 3 and 1, biases), activations, LeakyReLU, ReLU (with and without maxValue)', async () => {
    const input = tf.input({ shape: [null, null, 3] });
    let x = tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu', biasInitializer: 'randomNormal' }).apply(input) as tfType.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 4, kernelSize: 1, padding: 'same', activation: 'tanh' }).apply(x) as tfType.SymbolicTensor;
    x = tf.layers.leakyReLU({ alpha: 0.2 }).apply(x) as tfType.SymbolicTensor;
    x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'sigmoid', useBias: false }).apply(x) as tfType.SymbolicTensor;
    x = tf.layers.activation({ activation: 'tanh' }).apply(x) as tfType.SymbolicTensor;
    const a = tf.layers.reLU({ maxValue: 0.5 }).apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(x)) as tfType.SymbolicTensor;
    const b = tf.layers.reLU().apply(tf.layers.activation({ activation: 'linear' }).apply(x)) as tfType.SymbolicTensor;
    const c = tf.layers.activation({ activation: 'relu' }).apply(tf.layers.activation({ activation: 'sigmoid' }).apply(x)) as tfType.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.add().apply([a, b, c]) as tfType.SymbolicTensor });
    const r = await compare(model, [2, 13, 21, 3]);
    expect(r.maxAbs).toBeGreaterThan(0.1);
    expect(r.maxDiff).toBeLessThan(1e-4);
  });

  it('max-pooling, nearest up-sampling, add, concatenate', async () => {
    const input = tf.input({ shape: [null, null, 2] });
    const c1 = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as tfType.SymbolicTensor;
    const p = tf.layers.maxPooling2d({ poolSize: 2 }).apply(c1) as tfType.SymbolicTensor;
    const u = tf.layers.upSampling2d({ size: [2, 2] }).apply(p) as tfType.SymbolicTensor;
    const s = tf.layers.add().apply([u, c1]) as tfType.SymbolicTensor;
    const cat = tf.layers.concatenate({ axis: -1 }).apply([s, input, c1]) as tfType.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(cat) as tfType.SymbolicTensor });
    const r = await compare(model, [1, 16, 22, 2]);
    expect(r.shape).toEqual([1, 16, 22, 2]);
    expect(r.maxDiff).toBeLessThan(1e-4);
  });

  it.each([
    [3, 2],
    [2, 2],
    [1, 2],
    [3, 1],
  ])('conv2dTranspose kernel %i stride %i, padding same (odd and even sizes)', async (k, s) => {
    const input = tf.input({ shape: [null, null, 3] });
    const out = tf.layers.conv2dTranspose({ filters: 4, kernelSize: k, strides: s, padding: 'same', biasInitializer: 'randomNormal' }).apply(input) as tfType.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    for (const [h, w] of [[5, 7], [8, 6]]) {
      const r = await compare(model, [1, h, w, 3], h * w);
      expect(r.shape).toEqual([1, h * s, w * s, 4]);
      expect(r.maxDiff).toBeLessThan(1e-4);
    }
  });

  it('a Sequential model', async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [null, null, 1], filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 1, kernelSize: 1 }),
      ],
    });
    const r = await compare(model, [1, 10, 12, 1]);
    expect(r.shape).toEqual([1, 5, 6, 1]);
    expect(r.maxDiff).toBeLessThan(1e-4);
  });

  it.each(['transpose', 'nearest'] as const)('a 5-level U-Net (up-sampling: %s)', async (up) => {
    const model = buildUNetFixture(tf, { baseChannels: 4, levels: 5, up, seed: 11 });
    const r = await compare(model, [1, 32, 96, 1], 5);
    expect(r.shape).toEqual([1, 32, 96, 1]);
    expect(r.maxAbs).toBeGreaterThan(1e-2);
    expect(r.maxDiff).toBeLessThan(1e-4);
    model.dispose();
  });

  it('the Deep-R generator of plugins/deepr (buildGenerator, baseChannels 8, 5 levels)', async (ctx) => {
    // plugins/deepr is optional here (core must not depend on it); the test runs whenever it is present.
    const path = '../../../plugins/deepr/index.js';
    const deepr = (await import(/* @vite-ignore */ path).catch(() => undefined)) as
      | { buildGenerator?: (t: typeof tfType, o: { baseChannels: number; levels: number }) => tfType.LayersModel }
      | undefined;
    if (!deepr?.buildGenerator) return ctx.skip();
    const model = deepr.buildGenerator(tf, { baseChannels: 8, levels: 5 });
    const r = await compare(model, [1, 32, 64, 1], 8);
    expect(r.shape).toEqual([1, 32, 64, 1]);
    expect(r.maxAbs).toBeGreaterThan(1e-3);
    expect(r.maxDiff).toBeLessThan(1e-4);
    model.dispose();
  });

  it('rejects layers outside the supported set with E_UNSUPPORTED naming the layer', () => {
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1], name: 'my_flatten' }), tf.layers.dense({ units: 2 })] });
    let err: unknown;
    try { exportOnnx(model); } catch (e) { err = e; }
    expect(isFocalError(err) && err.code).toBe('E_UNSUPPORTED');
    expect((err as Error).message).toContain('my_flatten');
    const bad = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 1, kernelSize: 3, padding: 'same', activation: 'elu', name: 'elu_conv' })] });
    expect(() => exportOnnx(bad)).toThrow(/elu_conv.*activation 'elu'/);
  });
});
