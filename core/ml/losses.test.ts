import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { featureLoss, l1WeightPenalty, lsganDiscriminatorLoss, lsganGeneratorLoss, maeLoss, mseLoss, totalVariation, weightedLoss } from './losses.js';

let tf: typeof tfType;
beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
});

function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 4 - 2;
  });
}
const scalar = (t: tfType.Tensor) => t.dataSync()[0];

describe('pixel losses (against plain loops)', () => {
  const shape: [number, number, number, number] = [2, 3, 4, 2];
  const a = values(48, 1);
  const b = values(48, 2);
  it('MAE and MSE', () => {
    const mae = a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;
    const mse = a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length;
    expect(scalar(maeLoss(tf, tf.tensor4d(a, shape), tf.tensor4d(b, shape)))).toBeCloseTo(mae, 5);
    expect(scalar(mseLoss(tf, tf.tensor4d(a, shape), tf.tensor4d(b, shape)))).toBeCloseTo(mse, 5);
  });
  it('total variation per image: mean vertical plus mean horizontal absolute differences', () => {
    const [n, h, w, c] = shape;
    const at = (i: number, y: number, x: number, k: number) => a[((i * h + y) * w + x) * c + k];
    const tv = totalVariation(tf, tf.tensor4d(a, shape)).dataSync();
    for (let i = 0; i < n; i++) {
      let dy = 0;
      let dx = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
        if (y + 1 < h) dy += Math.abs(at(i, y + 1, x, k) - at(i, y, x, k));
        if (x + 1 < w) dx += Math.abs(at(i, y, x + 1, k) - at(i, y, x, k));
      }
      expect(tv[i]).toBeCloseTo(dy / ((h - 1) * w * c) + dx / (h * (w - 1) * c), 5);
    }
    expect(() => totalVariation(tf, tf.zeros([1, 1, 5, 1]))).toThrow(/2×2/);
  });
  it('L1 weight penalty is Σ|w|', () => {
    expect(scalar(l1WeightPenalty(tf, [tf.tensor(a), tf.tensor(b)]))).toBeCloseTo([...a, ...b].reduce((s, v) => s + Math.abs(v), 0), 4);
    expect(scalar(l1WeightPenalty(tf, []))).toBe(0);
  });
});

describe('least-squares adversarial losses', () => {
  it('generator (1 − D)², discriminator D(G)² + (1 − D(y))², batch means', () => {
    const dg = [0.2, 0.9, 0.5];
    const dy = [0.7, 0.1, 1];
    expect(scalar(lsganGeneratorLoss(tf, tf.tensor(dg)))).toBeCloseTo((0.64 + 0.01 + 0.25) / 3, 6);
    expect(scalar(lsganDiscriminatorLoss(tf, tf.tensor(dg), tf.tensor(dy)))).toBeCloseTo((0.04 + 0.81 + 0.25) / 3 + (0.09 + 0.81 + 0) / 3, 6);
  });
});

describe('featureLoss', () => {
  it('sums the weighted mean |ΔF| (or ΔF²) over the feature layers, and its gradient flows to the image', () => {
    const a = values(16, 3);
    const b = values(16, 4);
    // features: the image itself and its 2× scaled square (an independent, known "network")
    const features = (x: tfType.Tensor4D) => [x, tf.mul(tf.square(x), 2)];
    const l1 = a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / 16;
    const sq = a.reduce((s, v, i) => s + Math.abs(2 * v * v - 2 * b[i] * b[i]), 0) / 16;
    const got = featureLoss(tf, features, tf.tensor4d(a, [1, 4, 4, 1]), tf.tensor4d(b, [1, 4, 4, 1]), { layerWeights: [1, 0.5] });
    expect(scalar(got)).toBeCloseTo(l1 + 0.5 * sq, 4);
    const l2 = a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / 16;
    expect(scalar(featureLoss(tf, (x) => [x], tf.tensor4d(a, [1, 4, 4, 1]), tf.tensor4d(b, [1, 4, 4, 1]), { norm: 'l2' }))).toBeCloseTo(l2, 4);
    const grad = tf.grad((x: tfType.Tensor) => featureLoss(tf, (y) => [y], x as tfType.Tensor4D, tf.tensor4d(b, [1, 4, 4, 1]), { norm: 'l2' }))(tf.tensor4d(a, [1, 4, 4, 1]));
    grad.dataSync().forEach((g, i) => expect(g).toBeCloseTo((2 * (a[i] - b[i])) / 16, 5));
    expect(() => featureLoss(tf, features, tf.tensor4d(a, [1, 4, 4, 1]), tf.tensor4d(b, [1, 4, 4, 1]), { layerWeights: [1] })).toThrow(/layerWeights/);
  });
});

describe('weightedLoss', () => {
  it('adds the weighted terms with a non-zero weight, refuses an all-zero weighting', () => {
    const terms = { a: tf.scalar(2), b: tf.scalar(3), c: tf.scalar(100) };
    expect(scalar(weightedLoss(tf, terms, { a: 0.5, b: 2, c: 0 }))).toBeCloseTo(7, 6);
    expect(() => weightedLoss(tf, terms, {})).toThrow(/weights/);
  });
});
