import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FocalError, runOp, type Table } from '../../core/index.js';
import { msSsim } from '../../core/imaging.js';
import { createTfjsEngine, loadModelPackage, loadTf, modelArrays, train, type ModelPackage, type Tf } from '../../core/ml.js';
import type * as tfTypes from '@tensorflow/tfjs';
import { simulateFields } from './data.js';
import { meanFeatureLoss, msSsimLoss, tvSum } from './losses.js';
import { buildRefocuser, buildStainer, stainerDownBlockLayers } from './model.js';
import { checkCascadeLink } from './package.js';
import { histogramPercent, labelledMontage, slideFocusFigure } from './figures.js';
import { slide } from './ops/slide.js';
import { COARSE_MAP, FINE_MAP, measureFocusMap, PAPER_SCAN, timingModel } from './slide.js';
import { cascadeField } from './stain.js';
import { deeprSpec, saveCascadePackage, saveStainingPackage, type StainingTrainOptions } from './train.js';

let tf: Tf;
const dir = mkdtempSync(join(tmpdir(), 'focal-staining-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  tf = (await loadTf()).tf;
});

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}
const randomTensor = (shape: [number, number, number, number], seed: number) => {
  const r = lcg(seed);
  return tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, r), shape);
};

const opts: StainingTrainOptions = {
  out: dir, iterations: 1, baseChannels: 2, discriminatorChannels: 2, patch: 32, batch: 1, fields: 1, fieldPx: 64, validationFields: 1, seed: 1,
  adversarialWeight: 0, tvWeight: 0, generatorLr: 1e-3, discriminatorLr: 1e-4, validateEvery: 1,
};
const info = (name: string) => ({ name, version: '0.0.1', command: 'test', iterations: 0, extra: {} });

describe('staining losses against independent computations', () => {
  it('tvSum is the printed Eq. 4 (sum over pixels and channels, mean over the batch)', () => {
    const x = randomTensor([2, 5, 6, 3], 3);
    const v = x.arraySync() as number[][][][];
    let total = 0;
    for (const img of v) {
      for (let y = 0; y < 5; y++) for (let q = 0; q < 6; q++) for (let c = 0; c < 3; c++) {
        if (y + 1 < 5) total += Math.abs(img[y + 1][q][c] - img[y][q][c]);
        if (q + 1 < 6) total += Math.abs(img[y][q + 1][c] - img[y][q][c]);
      }
    }
    expect(tvSum(tf, x).dataSync()[0]).toBeCloseTo(total / 2, 3);
  });

  it('msSsimLoss is 1 − MS-SSIM per channel as core/imaging computes it (3 scales on 64 px)', () => {
    const y = randomTensor([1, 64, 64, 2], 5);
    const noise = randomTensor([1, 64, 64, 2], 9);
    const x = tf.add(y, tf.mul(noise, 0.3)) as tfTypes.Tensor4D;
    const yv = y.dataSync();
    const xv = x.dataSync();
    let expected = 0;
    for (let c = 0; c < 2; c++) {
      const a = Float32Array.from({ length: 64 * 64 }, (_, i) => xv[i * 2 + c]);
      const b = Float32Array.from({ length: 64 * 64 }, (_, i) => yv[i * 2 + c]);
      let lo = Infinity, hi = -Infinity;
      for (const q of b) { lo = Math.min(lo, q); hi = Math.max(hi, q); }
      expected += 1 - msSsim(a, b, 64, 64, { dataRange: hi - lo, weights: [0.0448, 0.2856, 0.3001] });
    }
    expect(msSsimLoss(tf, y, x).dataSync()[0]).toBeCloseTo(expected / 2, 2);
  });

  it('the style loss is the mean over the 4 down blocks of the mean absolute feature difference', () => {
    const gvs = buildStainer(tf, 2, 3);
    const names = stainerDownBlockLayers();
    expect(names).toHaveLength(4);
    const fx = tf.model({ inputs: gvs.inputs, outputs: names.map((n) => gvs.getLayer(n).output as tfTypes.SymbolicTensor) });
    const a = randomTensor([1, 32, 32, 2], 1);
    const b = randomTensor([1, 32, 32, 2], 2);
    const fa = fx.predict(a) as tfTypes.Tensor[];
    const fb = fx.predict(b) as tfTypes.Tensor[];
    let s = 0;
    fa.forEach((f, i) => {
      const p = f.dataSync();
      const q = fb[i].dataSync();
      let m = 0;
      for (let k = 0; k < p.length; k++) m += Math.abs(p[k] - q[k]);
      s += m / p.length;
    });
    expect(meanFeatureLoss(tf, fx, a, b).dataSync()[0]).toBeCloseTo(s / 4, 5);
  });
});

describe('the cascade', () => {
  let stainA: ModelPackage;
  let stainB: ModelPackage;
  let gvs: tfTypes.LayersModel;
  beforeAll(async () => {
    gvs = buildStainer(tf, 2, 11);
    stainA = await saveStainingPackage(join(dir, 'stain-a'), gvs, opts, info('stain-a'));
    stainB = await saveStainingPackage(join(dir, 'stain-b'), buildStainer(tf, 2, 12), opts, info('stain-b'));
  });

  it("trains G_DR through the frozen G_VS: the style loss's gradients change G_DR and never G_VS", async () => {
    const fields = simulateFields({ count: 1, sizePx: 64, seed: 3, defocusUm: [-2, -1, 0, 1, 2] });
    const before = modelArrays(gvs).map((a) => Float32Array.from(a.data));
    // a random-start G_DR: an identity start gives a style loss of exactly 0 on in-focus samples
    const spec = deeprSpec(tf, { ...opts, inputResidual: false, stainer: gvs, stainerPackage: stainA, weights: { adversarial: 0, perceptual: 0, style: 1, mae: 0, msssim: 0 } }, fields, fields);
    // the samples use the paper's −2…+2 planes; give the field every plane the sampler may draw
    for (const d of [-1.5, -0.5, 0.5, 1.5]) fields[0].af.set(d, fields[0].af.get(-1)!);
    let grOf: tfTypes.LayersModel | undefined;
    const build = spec.buildGenerator;
    spec.buildGenerator = () => (grOf = build());
    const r = await train(tf, { ...spec, buildDiscriminator: undefined }, { iterations: 2, validateEvery: 2, generatorLearningRate: 1e-2 }, { outDir: join(dir, 'dr') });
    expect(r.rows.every((row) => typeof row.style === 'number' && row.style > 0)).toBe(true);
    const after = modelArrays(gvs).map((a) => a.data);
    after.forEach((a, i) => expect(Array.from(a)).toEqual(Array.from(before[i])));
    expect(gvs.layers.every((l) => !l.trainable)).toBe(true);
    // G_DR moved (its initial weights come from the same seed)
    const init = modelArrays(buildRefocuser(tf, opts.baseChannels, opts.seed, false));
    const moved = modelArrays(grOf!).some((a, i) => a.data.some((v, k) => v !== init[i].data[k]));
    expect(moved).toBe(true);
  });

  it('G_DR starts as the identity with the input residual (zero output convolution), not without it', () => {
    const r = lcg(9);
    const x = tf.tensor4d(Float32Array.from({ length: 64 * 64 * 2 }, () => 2 * r() - 1), [1, 64, 64, 2]);
    const diff = (m: tfTypes.LayersModel) => tf.tidy(() => tf.max(tf.abs(tf.sub(m.predict(x) as tfTypes.Tensor, x))).dataSync()[0]);
    expect(diff(buildRefocuser(tf, 2, 3))).toBe(0);
    expect(diff(buildRefocuser(tf, 2, 3, false))).toBeGreaterThan(0.1);
    x.dispose();
  });

  it('refuses a cascade opened with another staining package than it was trained against', async () => {
    const cascade = await saveCascadePackage(join(dir, 'cascade'), buildRefocuser(tf, 2, 1), { ...opts, stainer: gvs, stainerPackage: stainA, weights: { adversarial: 1, perceptual: 1, style: 1, mae: 1, msssim: 1 } }, info('cascade'));
    expect(() => checkCascadeLink(cascade, stainA)).not.toThrow();
    expect(() => checkCascadeLink(cascade, stainB)).toThrow(FocalError);
    expect(() => checkCascadeLink(cascade, stainB)).toThrow(/stainingModel: cascade cascade 0.0.1 was trained against staining package stain-a/);
    const b = await loadModelPackage(join(dir, 'stain-b'));
    expect(() => checkCascadeLink(b, stainA)).toThrow(/task/);
  });

  it('tiled cascade = whole-field cascade away from the borders', async () => {
    const refocus = createTfjsEngine(tf as unknown as Parameters<typeof createTfjsEngine>[0], buildRefocuser(tf, 2, 5, false));
    const stain = createTfjsEngine(tf as unknown as Parameters<typeof createTfjsEngine>[0], buildStainer(tf, 2, 6));
    const w = 160, h = 128;
    const r = lcg(4);
    const af = [0, 1].map(() => Float32Array.from({ length: w * h }, () => r()));
    const whole = await cascadeField(af, w, h, refocus, stain, { tilePx: 160, haloPx: 0, multipleOf: 32 });
    const tiled = await cascadeField(af, w, h, refocus, stain, { tilePx: 96, haloPx: 32, multipleOf: 32 });
    let maxErr = 0, scale = 0;
    for (let c = 0; c < 3; c++) for (let y = 40; y < h - 40; y++) for (let x = 40; x < w - 40; x++) {
      maxErr = Math.max(maxErr, Math.abs(whole.ycc[c][y * w + x] - tiled.ycc[c][y * w + x]));
      scale = Math.max(scale, Math.abs(whole.ycc[c][y * w + x] - 0.5));
    }
    expect(scale).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(0.02 * scale + 1e-3);
  });
});

describe('slide simulation and timing', () => {
  it("reproduces the paper's autofocus and total scan times (9.8 → 1.1 min, 27.1 → 18.4 min)", () => {
    const [fine, coarse] = timingModel({ areaMm2: PAPER_SCAN.areaMm2, fieldSideUm: PAPER_SCAN.fieldSideUm, cascadeSecondsPerField: 0 });
    expect(fine.fields).toBeCloseTo(207.4, 0);
    expect(fine.autofocusMin).toBeCloseTo(9.8, 0);
    expect(Math.abs(fine.autofocusMin - 9.8)).toBeLessThan(0.15);
    expect(coarse.autofocusMin).toBeCloseTo(1.1, 1);
    expect(Math.abs(fine.totalMin - 27.1)).toBeLessThan(0.15);
    expect(Math.abs(coarse.totalMin - 18.4)).toBeLessThan(0.15);
  });
  it('measures focus maps at about 8.5 % and 2.1 % of the fields within their precision', () => {
    const s = { fieldsX: 28, fieldsY: 28, fieldPx: 64, pixelSizeUm: 0.1625, surfaceAmplitudeUm: 5, seed: 2 };
    const fine = measureFocusMap(s, FINE_MAP, 1);
    const coarse = measureFocusMap(s, COARSE_MAP, 1);
    expect(fine.points.length / (28 * 28)).toBeGreaterThan(0.06);
    expect(fine.points.length / (28 * 28)).toBeLessThan(0.12);
    expect(coarse.points.length / (28 * 28)).toBeGreaterThan(0.012);
    expect(coarse.points.length / (28 * 28)).toBeLessThan(0.03);
    expect(() => measureFocusMap({ ...s, fieldsX: 0 }, FINE_MAP, 1)).toThrow(/fieldsX/);
  });
});

describe('evaluation figures', () => {
  it('the montage puts each panel under its label, clipped to [0, 1]', () => {
    const n = 40;
    const grey = [0, 1, 2].map(() => new Float32Array(n * n).fill(0.5));
    const over = [0, 1, 2].map(() => new Float32Array(n * n).fill(2));
    const m = labelledMontage([grey, over], ['AF', 'F1'], n);
    expect(m.width).toBe(2 * n + 4);
    const at = (x: number, y: number) => m.data[(y * m.width + x) * 3];
    expect(at(10, m.height - 5)).toBe(128);
    expect(at(n + 4 + 10, m.height - 5)).toBe(255);
    // label glyphs: dark pixels in the strip above each panel, none in the gap
    const dark = (x0: number, x1: number) => { let k = 0; for (let y = 0; y < 18; y++) for (let x = x0; x < x1; x++) if (at(x, y) === 0) k++; return k; };
    expect(dark(0, n)).toBeGreaterThan(10);
    expect(dark(n + 4, 2 * n + 4)).toBeGreaterThan(10);
    expect(dark(n, n + 4)).toBe(0);
    expect(() => labelledMontage([grey], ['a', 'b'], n)).toThrow(/labels/);
  });

  it('histograms are percentages of all values per integer bin', () => {
    const h = histogramPercent([1, 1.2, 2, 2.6, 9], 1, 3);
    expect(h).toEqual([40, 20, 20]);
  });

  it('the slide figure draws one square per field of staining.slide and outlines the focus points', async () => {
    const out = await runOp(slide, {}, { fieldsX: 10, fieldsY: 6, fieldPx: 64 });
    const t = out.fields as Table;
    const fig = slideFocusFigure(t, 10);
    expect(fig.width).toBe(3 * 100 + 4 * 16);
    const coarse = t.rows.find((r) => r.coarseFocusPoint === 1)!;
    const fine = t.rows.find((r) => r.fineFocusPoint === 0)!;
    const px = (panel: number, fx: number, fy: number, dx: number, dy: number) => Array.from(fig.data.subarray(((22 + fy * 10 + dy) * fig.width + 16 + panel * 116 + fx * 10 + dx) * 3, ((22 + fy * 10 + dy) * fig.width + 16 + panel * 116 + fx * 10 + dx) * 3 + 3));
    expect(px(2, coarse.fx as number, coarse.fy as number, 0, 0)).toEqual([0, 0, 0]);
    expect(px(1, fine.fx as number, fine.fy as number, 0, 0)).not.toEqual([0, 0, 0]);
    expect(px(1, fine.fx as number, fine.fy as number, 0, 0)).toEqual(px(1, fine.fx as number, fine.fy as number, 5, 5));
  });
});
