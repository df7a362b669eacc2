import { describe, expect, it } from 'vitest';
import { DEFAULT_LOSS_WEIGHTS, generatorLoss } from './losses.js';
import { getTf } from './tf.js';
import { SeededRandom } from '../../core/index.js';
import { berhu, msSsim, ssim } from '../../core/imaging.js';
import { berhuTf, msSsimScalesFor, msSsimTf, msSsimWeights, ssimTf } from '../../core/ml.js';

function pair(size: number, seed: number): { ref: Float32Array; img: Float32Array } {
  const rng = new SeededRandom(seed);
  const ref = new Float32Array(size * size);
  const img = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const i = y * size + x;
    ref[i] = Math.sin(x / 5) * Math.cos(y / 7) + 0.3 * rng.next();
    img[i] = 0.8 * ref[i] + 0.2 * Math.sin((x + y) / 3) + 0.3 * (rng.next() - 0.5);
  }
  return { ref, img };
}

describe('losses vs plugins/metrics (float32 tf vs float64 reference)', () => {
  it('BerHu per image equals metrics.berhu (c = 0.1·σ of the target) to 1e-5 relative', async () => {
    const { tf } = await getTf();
    const a = pair(32, 1);
    const b = pair(32, 2);
    const y = tf.tensor4d([...a.ref, ...b.ref], [2, 32, 32, 1]);
    const x = tf.tensor4d([...a.img, ...b.img], [2, 32, 32, 1]);
    const got = berhuTf(tf, y, x).dataSync();
    expect(got[0]).toBeGreaterThan(0);
    expect(Math.abs(got[0] - berhu(a.img, a.ref)) / berhu(a.img, a.ref)).toBeLessThan(1e-5);
    expect(Math.abs(got[1] - berhu(b.img, b.ref)) / berhu(b.img, b.ref)).toBeLessThan(1e-5);
    tf.dispose([x, y]);
  });

  it('MS-SSIM per image equals metrics.msSsim (5 scales at 176 px; 3 scales at 64 px) to 2e-4', async () => {
    const { tf } = await getTf();
    expect(msSsimScalesFor(176)).toBe(5);
    expect(msSsimScalesFor(64)).toBe(3);
    for (const [size, scales] of [[176, 5], [64, 3]] as const) {
      const a = pair(size, 3 + size);
      const R = 2.5;
      const y = tf.tensor4d(a.ref, [1, size, size, 1]);
      const x = tf.tensor4d(a.img, [1, size, size, 1]);
      const got = msSsimTf(tf, y, x, R, scales).dataSync()[0];
      const want = msSsim(a.img, a.ref, size, size, { dataRange: R, weights: msSsimWeights(scales) });
      expect(want).toBeGreaterThan(0.2);
      expect(want).toBeLessThan(0.99);
      expect(Math.abs(got - want)).toBeLessThan(2e-4);
      // identical images give 1
      expect(msSsimTf(tf, y, y, R, scales).dataSync()[0]).toBeCloseTo(1, 5);
      tf.dispose([x, y]);
    }
  });

  it('single-scale SSIM per image equals metrics.ssim (the evaluation index) to 2e-4', async () => {
    const { tf } = await getTf();
    const a = pair(64, 11);
    const b = pair(64, 12);
    const y = tf.tensor4d([...a.ref, ...b.ref], [2, 64, 64, 1]);
    const x = tf.tensor4d([...a.img, ...b.img], [2, 64, 64, 1]);
    const got = ssimTf(tf, y, x, 2.5).dataSync();
    for (const [k, p] of [a, b].entries()) {
      const want = ssim(p.img, p.ref, 64, 64, { dataRange: 2.5 });
      expect(want).toBeGreaterThan(0.2);
      expect(want).toBeLessThan(0.99);
      expect(Math.abs(got[k] - want)).toBeLessThan(2e-4);
    }
    expect(ssimTf(tf, y, y, 2.5).dataSync()[0]).toBeCloseTo(1, 5);
    tf.dispose([x, y]);
  });
});

describe('generatorLoss', () => {
  it('adds weight·(1 − SSIM) only when its weight is > 0, and reports the unweighted term', async () => {
    const { tf } = await getTf();
    const a = pair(64, 21);
    const y = tf.tensor4d(a.ref, [1, 64, 64, 1]);
    const x = tf.tensor4d(a.img, [1, 64, 64, 1]);
    const off = generatorLoss(tf, y, x, null, DEFAULT_LOSS_WEIGHTS, 3);
    const on = generatorLoss(tf, y, x, null, { ...DEFAULT_LOSS_WEIGHTS, ssim: 2 }, 3);
    expect(off.ssim).toBeNull();
    const term = on.ssim!.dataSync()[0];
    const R = Math.max(...a.ref) - Math.min(...a.ref);
    expect(term).toBeCloseTo(1 - ssim(a.img, a.ref, 64, 64, { dataRange: R }), 3);
    expect(on.total.dataSync()[0] - off.total.dataSync()[0]).toBeCloseTo(2 * term, 5);
    tf.dispose([x, y, off.total, off.msSsim, off.berhu, on.total, on.msSsim, on.berhu, on.ssim!]);
  });
});
