import { describe, expect, it } from 'vitest';
import { cornerError, invert, similarityAbout, type Affine } from './affine.js';
import { registerImages, type TransformType } from './register.js';
import { blobScene, renderScene } from './synthetic.js';
import { splineCoefficients, SplineImage } from '../../core/imaging.js';

describe('cubic B-spline model', () => {
  it('interpolates the samples (mirror boundary, any length)', () => {
    for (const [w, h] of [[7, 5], [40, 33], [3, 2]]) {
      const data = Float64Array.from({ length: w * h }, (_, i) => Math.sin(i * 0.7) * 50 + (i % 7));
      const s = new SplineImage(data, w, h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(s.value(x, y)).toBeCloseTo(data[y * w + x], 8);
      // coefficients reconstruct samples with the [1 4 1]/6 kernel (interior point)
      if (w > 4 && h > 4) {
        const c = splineCoefficients(data, w, h);
        const k = [1 / 6, 4 / 6, 1 / 6];
        let v = 0;
        for (let j = 0; j < 3; j++) for (let i = 0; i < 3; i++) v += k[j] * k[i] * c[(2 + j - 1) * w + 2 + i - 1];
        expect(v).toBeCloseTo(data[2 * w + 2], 8);
      }
    }
  });

  it('reproduces quadratics exactly and its gradient matches finite differences', () => {
    const w = 64;
    const h = 60;
    const f = (x: number, y: number) => 3 + 0.5 * x - 0.25 * y + 0.02 * x * y + 0.01 * x * x;
    const data = Float64Array.from({ length: w * h }, (_, i) => f(i % w, Math.floor(i / w)));
    const s = new SplineImage(data, w, h);
    for (const [x, y] of [[30.3, 27.7], [33.5, 32.25], [28.9, 30.1]]) {
      expect(s.valueAndGradient(x, y)).toBeCloseTo(f(x, y), 6);
      const eps = 1e-5;
      expect(s.gx).toBeCloseTo((s.value(x + eps, y) - s.value(x - eps, y)) / (2 * eps), 5);
      expect(s.gy).toBeCloseTo((s.value(x, y + eps) - s.value(x, y - eps)) / (2 * eps), 5);
    }
  });
});

const W = 128;
const H = 112;
const cx = (W - 1) / 2;
const cy = (H - 1) / 2;
const cases: [TransformType, Affine][] = [
  ['translation', [1, 0, 3.37, 0, 1, -5.81]],
  ['rigid', similarityAbout(cx, cy, 0.12, 1, -2.4, 4.15)],
  ['scaled-rotation', similarityAbout(cx, cy, -0.08, 1.06, 1.7, 2.2)],
  ['affine', [1.04, 0.05, -4.2, -0.03, 0.97, 3.1]],
];

describe('registerImages', () => {
  const scene = blobScene(W, H, { seed: 3 });
  const ref = renderScene(scene, W, H, [1, 0, 0, 0, 1, 0], { noiseSigma: 2, seed: 11 });
  for (const [type, truth] of cases) {
    it(`recovers a known ${type} transform with noise to < 0.1 px corner error`, () => {
      const moving = renderScene(scene, W, H, invert(truth), { noiseSigma: 2, seed: 12 });
      const t0 = performance.now();
      const r = registerImages(ref, moving, W, H, { transform: type });
      const err = cornerError(r.matrix, truth, W, H);
      console.log(type, r.matrix.map((v) => v.toFixed(4)).join(' '), 'corner error px', err.toFixed(4), 'ms', (performance.now() - t0).toFixed(0), 'evals', r.evaluations);
      expect(err).toBeLessThan(0.1);
      expect(r.overlap).toBeGreaterThan(0.7);
    });
  }
});
