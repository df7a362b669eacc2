import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { isFocalError } from '../../core/index.js';
import { createOnnxEngine, createTfjsEngine, exportOnnx, tiledInference, type Nhwc } from '../../core/ml.js';
import { checkSpec, crop, fitMaps, makeFields, normaliseField } from './data.js';
import { buildDiscriminator, buildGenerator, GENERATOR_OUTPUT_LAYER, generatorActivationFloats, generatorKernels, RESIDUAL_SCALE } from './model.js';
import { fitChannelMap, fromUnitRange, toUnitRange } from './normalise.js';
import { selectChannels } from './predict.js';

let tf: typeof tfType;
beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
});

function errorOf(f: () => unknown): { code: string; message: string; field?: unknown } {
  try {
    f();
  } catch (e) {
    if (isFocalError(e)) return { code: e.code, message: e.message, field: e.details.field };
    throw e;
  }
  throw new Error('no error thrown');
}

/** Deterministic pseudo-random values in [−1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Gives every layer random weights of order 0.3 (the 0.02 initialisation keeps outputs near 0) and batch norm non-trivial moving statistics, so inference-mode BN is tested, not the identity. */
function randomiseWeights(model: tfType.LayersModel): void {
  let seed = 1;
  for (const layer of model.layers) {
    const bn = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(layer.getWeights().map((w, k) => {
      const v = values(w.size, seed++);
      // BN: gamma, beta, moving mean, moving variance (> 0)
      const scaled = bn ? (k === 3 ? v.map((x) => 0.5 + Math.abs(x)) : k === 0 ? v.map((x) => 1 + 0.3 * x) : v.map((x) => 0.2 * x)) : v.map((x) => 0.3 * x);
      return tf.tensor(scaled, w.shape);
    }));
  }
}

describe('virfluonet: [−1, 1] normalisation map', () => {
  it('round-trips values inside the map and clips outside; the fitted map spans the training percentiles', () => {
    const data = Float32Array.from({ length: 10000 }, (_, i) => 100 + (i % 1000));
    const m = fitChannelMap('DAPI', [data]);
    expect(m.lowAdu).toBeGreaterThanOrEqual(100);
    expect(m.lowAdu).toBeLessThan(103);
    expect(m.highAdu).toBeGreaterThan(1096);
    const x = Float32Array.from([m.lowAdu, 300, 700.5, m.highAdu]);
    const y = toUnitRange(x, m);
    expect(y[0]).toBeCloseTo(-1, 6);
    expect(y[3]).toBeCloseTo(1, 6);
    const back = fromUnitRange(y, m);
    for (let i = 0; i < x.length; i++) expect(back[i]).toBeCloseTo(x[i], 2);
    const clipped = toUnitRange([0, 1e6], m);
    expect(Array.from(clipped)).toEqual([-1, 1]);
  });

  it('fitted on simulated training fields: inputs and targets land in [−1, 1], and crops keep channels interleaved', () => {
    const spec = { family: 'cell-painting', inputs: ['TxRed', 'Cy3'], target: 'DAPI', fieldPx: 64 };
    const fields = makeFields(spec, 1, 2);
    const maps = fitMaps(spec, fields);
    expect(maps.inputs.map((m) => m.channel)).toEqual(['TxRed', 'Cy3']);
    const nf = normaliseField(fields[0], maps);
    for (const v of nf.x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    const c = crop(nf, 3, 5, 16);
    expect(c.x[1]).toBe(nf.x[(5 * 64 + 3) * 2 + 1]);
    expect(c.y[0]).toBe(nf.y[5 * 64 + 3]);
  });
});

describe('virfluonet: networks', () => {
  it('generator: stride-2 encoder and 3×3 transposed-conv decoder keep the size; tanh bounds the output', () => {
    const g = buildGenerator(tf, { inputChannels: 2, baseChannels: 4, levels: 3, discriminatorChannels: 4 }, 1);
    const out = g.predict(tf.tensor4d(values(2 * 32 * 40 * 2, 3), [2, 32, 40, 2])) as tfType.Tensor;
    expect(out.shape).toEqual([2, 32, 40, 1]);
    const v = out.dataSync();
    for (const x of v) expect(Math.abs(x)).toBeLessThan(1);
    expect(g.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').every((l) => JSON.stringify((l.getConfig() as { kernelSize: number[] }).kernelSize) === '[3,3]')).toBe(true);
    g.dispose();
  });

  it("generatorActivationFloats counts every tensor of the built graph per input pixel, batch norms folded (a hand count: 9 for a tiny residual generator)", () => {
    expect(generatorActivationFloats({ inputChannels: 1, baseChannels: 2, levels: 2, discriminatorChannels: 2, inputResidual: true })).toBeCloseTo(9, 12);
    for (const o of [{ inputChannels: 2, baseChannels: 4, levels: 3, discriminatorChannels: 4 }, { inputChannels: 1, baseChannels: 3, levels: 4, discriminatorChannels: 4, inputResidual: true }]) {
      const px = 64;
      const g = buildGenerator(tf, o, 1);
      // every layer's output for a 64-px input (the batch norms are folded into their convolutions)
      const probe = tf.model({ inputs: g.inputs, outputs: g.layers.filter((l) => !['InputLayer', 'BatchNormalization'].includes(l.getClassName())).map((l) => l.output as tfType.SymbolicTensor) });
      const outs = probe.predict(tf.zeros([1, px, px, o.inputChannels])) as tfType.Tensor[];
      const floats = o.inputChannels + outs.reduce((sum, t) => sum + t.size, 0) / (px * px);
      expect(generatorActivationFloats(o)).toBeCloseTo(floats, 9);
      tf.dispose(outs);
      g.dispose();
    }
  });

  it('the conditional discriminator sees the generator input: same image, other condition → other output and a gradient', () => {
    const d = buildDiscriminator(tf, { inputChannels: 2, baseChannels: 4, levels: 3, discriminatorChannels: 4 }, 32, 7);
    randomiseWeights(d);
    expect(d.inputs.map((i) => i.shape)).toEqual([[null, 32, 32, 1], [null, 32, 32, 2]]);
    const image = tf.tensor4d(values(32 * 32, 1), [1, 32, 32, 1]);
    const c1 = tf.tensor4d(values(32 * 32 * 2, 2), [1, 32, 32, 2]);
    const c2 = tf.tensor4d(values(32 * 32 * 2, 9), [1, 32, 32, 2]);
    const a = (d.predict([image, c1]) as tfType.Tensor).dataSync()[0];
    const b = (d.predict([image, c2]) as tfType.Tensor).dataSync()[0];
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThan(1);
    expect(Math.abs(a - b)).toBeGreaterThan(1e-4);
    const grad = tf.grad((c: tfType.Tensor) => tf.sum(d.apply([image, c]) as tfType.Tensor))(c1);
    expect(tf.max(tf.abs(grad)).dataSync()[0]).toBeGreaterThan(0);
    d.dispose();
  });

  it('input residual: an untrained generator returns its input (float tolerance); without it, it does not; more than one input channel is refused', () => {
    const shape = [2, 32, 48, 1] as [number, number, number, number];
    const x = tf.tensor4d(values(2 * 32 * 48, 3), shape);
    const g = buildGenerator(tf, { inputChannels: 1, baseChannels: 4, levels: 4, discriminatorChannels: 4, inputResidual: true }, 7);
    // batch norm in training mode too (batch statistics): the zeroed last layer makes the correction exactly 0 either way
    for (const training of [false, true]) {
      const y = (training ? g.apply(x, { training: true }) : g.predict(x)) as tfType.Tensor;
      expect(y.shape).toEqual(shape);
      expect(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]).toBeLessThan(1e-6);
    }
    expect(g.getLayer(GENERATOR_OUTPUT_LAYER).getWeights().every((w) => tf.max(tf.abs(w)).dataSync()[0] === 0)).toBe(true);
    // the fixed ×2 is not trained (nor penalised by the weight term)
    expect(generatorKernels(g).map((w) => w.originalName ?? w.name).join(' ')).not.toMatch(/g_out_scale/);
    const plain = buildGenerator(tf, { inputChannels: 1, baseChannels: 4, levels: 4, discriminatorChannels: 4 }, 7);
    expect(tf.max(tf.abs(tf.sub(plain.predict(x) as tfType.Tensor, x))).dataSync()[0]).toBeGreaterThan(0.1);
    const e = errorOf(() => buildGenerator(tf, { inputChannels: 2, baseChannels: 4, levels: 4, discriminatorChannels: 4, inputResidual: true }));
    expect(e.code).toBe('E_ARGUMENT');
    expect(e.field).toBe('inputResidual');
    g.dispose();
    plain.dispose();
  });

  /** The generator on tfjs and on its ONNX export, on the same seeded input; same output shape checked, largest difference returned. */
  async function tfjsAndOnnx(g: Parameters<typeof exportOnnx>[0], shape: Nhwc, seed: number) {
    const x = values(shape.reduce((a, b) => a * b, 1), seed);
    const ref = await createTfjsEngine(tf, g).run(x, shape);
    const onnx = await createOnnxEngine(exportOnnx(g));
    const got = await onnx.run(x, shape);
    await onnx.dispose();
    expect(got.shape).toEqual(ref.shape);
    let maxDiff = 0;
    for (let i = 0; i < ref.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref.data[i] - got.data[i]));
    return { x, ref, maxDiff };
  }

  it('ONNX export = tfjs for the input-residual generator (trained-like weights: the correction is not zero)', async () => {
    const g = buildGenerator(tf, { inputChannels: 1, baseChannels: 4, levels: 3, discriminatorChannels: 4, inputResidual: true }, 5);
    randomiseWeights(g);
    g.getLayer('g_out_scale').setWeights([tf.tensor4d([RESIDUAL_SCALE], [1, 1, 1, 1])]);
    const { x, ref, maxDiff } = await tfjsAndOnnx(g, [2, 24, 40, 1], 12);
    let maxCorrection = 0;
    for (let i = 0; i < ref.data.length; i++) maxCorrection = Math.max(maxCorrection, Math.abs(ref.data[i] - x[i]));
    expect(maxCorrection).toBeGreaterThan(1e-2);
    expect(maxCorrection).toBeLessThanOrEqual(RESIDUAL_SCALE);
    expect(maxDiff).toBeLessThan(1e-4);
    g.dispose();
  });

  it('ONNX export = tfjs for the generator (3×3 stride-2 conv, 3×3 stride-2 transposed conv, batch norm, tanh)', async () => {
    const g = buildGenerator(tf, { inputChannels: 2, baseChannels: 4, levels: 3, discriminatorChannels: 4 }, 5);
    randomiseWeights(g);
    const { ref, maxDiff } = await tfjsAndOnnx(g, [2, 24, 40, 2], 11);
    let maxAbs = 0;
    for (let i = 0; i < ref.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs(ref.data[i]));
    expect(maxAbs).toBeGreaterThan(1e-2);
    expect(maxDiff).toBeLessThan(1e-4);
    g.dispose();
  });

  it('tiled prediction equals the whole-field prediction away from the borders (no seams)', async () => {
    const levels = 3;
    const g = buildGenerator(tf, { inputChannels: 2, baseChannels: 4, levels, discriminatorChannels: 4 }, 2);
    randomiseWeights(g);
    const engine = createTfjsEngine(tf, g);
    const W = 120;
    const H = 96;
    const planes = [0, 1].map((c) => Float32Array.from({ length: W * H }, (_, i) => Math.sin((i % W) / (5 + c)) * Math.cos(Math.floor(i / W) / 7) + 0.1 * values(1, i * 3 + c)[0]));
    const [whole] = await tiledInference(planes, W, H, engine, { tilePx: 256, haloPx: 64, outChannels: 1, multipleOf: 2 ** levels });
    const [tiled] = await tiledInference(planes, W, H, engine, { tilePx: 48, haloPx: 16, outChannels: 1, multipleOf: 2 ** levels });
    const border = 24;
    let maxDiff = 0;
    let maxAbs = 0;
    for (let y = border; y < H - border; y++) {
      for (let x = border; x < W - border; x++) {
        maxDiff = Math.max(maxDiff, Math.abs(whole[y * W + x] - tiled[y * W + x]));
        maxAbs = Math.max(maxAbs, Math.abs(whole[y * W + x]));
      }
    }
    expect(maxAbs).toBeGreaterThan(1e-2);
    expect(maxDiff).toBeLessThan(1e-4);
    g.dispose();
  });
});

describe('virfluonet: bad input is refused naming the channel', () => {
  it('a missing channel, a wrong channel count, a bad index', () => {
    const missing = errorOf(() => selectChannels({ sizeC: 2, channelNames: ['DAPI', 'TxRed'] }, ['TxRed', 'Cy3']));
    expect(missing.code).toBe('E_PORT');
    expect(missing.message).toContain("channel 'Cy3' is missing");
    const count = errorOf(() => selectChannels({ sizeC: 3, channelNames: [] }, ['TxRed', 'Cy3']));
    expect(count.message).toContain('takes 2 channel(s) (TxRed, Cy3)');
    expect(count.message).toContain('3 unnamed');
    expect(errorOf(() => selectChannels({ sizeC: 2, channelNames: [] }, ['TxRed', 'Cy3'], 'image', [0, 5])).field).toBe('channels[1]');
    expect(selectChannels({ sizeC: 3, channelNames: ['Cy3', 'DAPI', 'TxRed'] }, ['TxRed', 'Cy3'])).toEqual([2, 0]);
    expect(selectChannels({ sizeC: 2, channelNames: [] }, ['TxRed', 'Cy3'])).toEqual([0, 1]);
  });

  it('training specs with unknown channels, the target among the inputs, or an autofocus mode over other channels', () => {
    const unknown = errorOf(() => checkSpec({ family: 'cell-painting', inputs: ['TxRed', 'FITC'], target: 'DAPI', fieldPx: 64 }));
    expect(unknown).toMatchObject({ code: 'E_ARGUMENT', field: 'FITC' });
    expect(unknown.message).toContain("channel 'FITC'");
    expect(errorOf(() => checkSpec({ family: 'cell-painting', inputs: ['DAPI', 'Cy3'], target: 'DAPI', fieldPx: 64 })).field).toBe('DAPI');
    expect(errorOf(() => checkSpec({ family: 'cell-painting', inputs: ['Cy3'], target: 'TxRed', fieldPx: 64, defocusUm: [4] })).field).toBe('defocusUm');
    expect(() => checkSpec({ family: 'cell-painting', inputs: ['TxRed'], target: 'TxRed', fieldPx: 64, defocusUm: [-4, 4] })).not.toThrow();
  });
});

describe('virfluonet: evaluation scores', () => {
  it('scoreField: identical images score perfectly; a bright square above the tolerance is the error area', async () => {
    const { scoreField, perCell } = await import('./evaluate.js');
    const meta = { normalisation: { target: { channel: 'DAPI', lowAdu: 100, highAdu: 1100 } } } as unknown as Parameters<typeof scoreField>[4];
    const W = 32;
    const truth = Float32Array.from({ length: W * W }, (_, i) => 100 + (i % W) * 10);
    const same = scoreField(truth, truth, W, W, meta, 1);
    expect([same.mae, same.errorArea50, same.ssim]).toEqual([0, 0, 1]);
    const pred = Float32Array.from(truth);
    // +300 ADU = +76.5 of 255 on the target range: above 50/255 on 8×8 of 32×32 pixels
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) pred[y * W + x] += 300;
    const s = scoreField(pred, truth, W, W, meta, 1);
    expect(s.errorArea50).toBeCloseTo(64 / 1024, 10);
    expect(s.mae).toBeCloseTo((64 * 0.3) / 1024, 4);
    const labels = Int32Array.from({ length: W * W }, (_, i) => (i < 512 ? 1 : 2));
    const c = perCell(truth, labels, 100);
    expect(c.mean).toHaveLength(2);
    expect(c.integrated[0]).toBeCloseTo(c.mean[0] * 512, 3);
  });
});

describe('virfluonet: the autofocus shipping rule', () => {
  it('level everywhere and better somewhere ships; worse anywhere, a negligible difference, or unpaired scores do not', async () => {
    const { autofocusSummary } = await import('./evaluate.js');
    const score = (seed: number, defocusUm: number, mae: number, ssim = 0.6) => ({ seed, defocusUm, mae16: mae / 50, psnr16: 60, ssim16: 0.99, mae, psnr: 20, ssim, errorArea50: 0 });
    const seeds = [1, 2, 3, 4, 5, 6];
    const jitter = (k: number) => 0.001 * ((k % 3) - 1);
    const input = seeds.flatMap((s, k) => [score(s, -8, 0.06 + jitter(k)), score(s, -4, 0.03 + jitter(k))]);
    // at −8 µm the output is 0.01 lower on every field, at −4 µm it equals the input
    const better = input.map((f) => (f.defocusUm === -8 ? score(f.seed, f.defocusUm, f.mae - 0.01) : { ...f }));
    const a = autofocusSummary('m', better, input);
    expect(a.perDefocus.map((d) => d.verdict)).toEqual(['better', 'level']);
    expect(a.ship).toBe(true);
    // worse at −4 µm (SSIM 0.02 lower on every field): not shipped
    const worse = better.map((f) => (f.defocusUm === -4 ? { ...f, ssim: f.ssim - 0.02 } : f));
    const b = autofocusSummary('m', worse, input);
    expect(b.perDefocus.map((d) => d.verdict)).toEqual(['better', 'worse']);
    expect(b.ship).toBe(false);
    // a consistent but negligible improvement (1e-6 MAE) is level: nothing better, not shipped
    const tiny = input.map((f) => score(f.seed, f.defocusUm, f.mae - 1e-6));
    expect(autofocusSummary('m', tiny, input).perDefocus.map((d) => d.verdict)).toEqual(['level', 'level']);
    expect(autofocusSummary('m', tiny, input).ship).toBe(false);
    expect(() => autofocusSummary('m', better.slice(1), input)).toThrow(/not paired/);
  });
});

describe('virfluonet: autofocus with the input residual', () => {
  it('input and target share the target\'s map, so an untrained residual generator predicts its input in camera units', async () => {
    const { predictField } = await import('./predict.js');
    const spec = { family: 'cell-painting', inputs: ['TxRed'], target: 'TxRed', fieldPx: 64, defocusUm: [-8] };
    const raw = makeFields(spec, 1, 2);
    const maps = fitMaps(spec, raw, true);
    expect(maps.inputs).toEqual([maps.target]);
    expect(fitMaps(spec, raw).inputs[0]).not.toEqual(maps.target); // a defocused input's own map differs
    const e = errorOf(() => fitMaps({ family: 'cell-painting', inputs: ['TxRed'], target: 'DAPI', fieldPx: 64 }, [], true));
    expect(e.field).toBe('shared');
    const g = buildGenerator(tf, { inputChannels: 1, baseChannels: 4, levels: 4, discriminatorChannels: 4, inputResidual: true }, 3);
    const meta = { inputs: [{ name: 'TxRed' }], normalisation: { inputs: maps.inputs, target: maps.target } } as unknown as Parameters<typeof predictField>[3];
    const input = raw[0].inputs[0];
    const out = await predictField([input], 64, 64, meta, createTfjsEngine(tf, g), { tilePx: 32, haloPx: 4, multipleOf: 16 });
    const { lowAdu, highAdu } = maps.target;
    let maxDiff = 0;
    for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - Math.min(highAdu, Math.max(lowAdu, input[i]))));
    expect(maxDiff).toBeLessThan(1e-3 * (highAdu - lowAdu));
    g.dispose();
  });
});

describe('virfluonet: training end to end (tiny, autofocus mode)', () => {
  it('trains on the kit, writes a package whose [−1, 1] maps are stored and inverted on prediction', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { trainVirFluoNet } = await import('./train.js');
    const { saveVirFluoNetPackage, loadVirFluoNetPackage } = await import('./package.js');
    const { predictField } = await import('./predict.js');
    const { loadLayersModel } = await import('../../core/ml.js');
    const dir = await mkdtemp(join(tmpdir(), 'virfluonet-'));
    try {
      const spec = { family: 'cell-painting', inputs: ['TxRed'], target: 'TxRed', fieldPx: 64, defocusUm: [-6, 6] };
      const raw = makeFields(spec, 1, 2);
      expect(raw.map((f) => f.defocusUm)).toEqual([-6, 6, -6, 6]);
      // the CLI's default for the autofocus mode: input residual, one shared map
      const maps = fitMaps(spec, raw, true);
      const fields = raw.map((f) => normaliseField(f, maps));
      const net = { inputChannels: 1, baseChannels: 4, levels: 4, discriminatorChannels: 4, inputResidual: true };
      const r = await trainVirFluoNet(tf, { net, train: fields, validation: fields.slice(0, 1), patchPx: 32, batchSize: 2, iterations: 3, validateEvery: 3, augment: true, seed: 1, outDir: join(dir, 'run') });
      expect(r.iteration).toBe(3);
      expect(Object.keys(r.rows[0])).toEqual(expect.arrayContaining(['mae', 'adversarial', 'weights', 'discriminator']));
      r.generator.dispose();
      const best = await loadLayersModel(tf, join(dir, 'run', 'generator'));
      await saveVirFluoNetPackage(join(dir, 'pkg'), best, {
        name: 'tiny', version: '0.0.1', family: 'cell-painting', inputs: ['TxRed'], target: 'TxRed', maps, optics: { pixelSizeUm: 0.645, na: 0.45, refractiveIndex: 1 }, defocusUm: [-6, 6],
        net, patchPx: 32, batchSize: 2, fieldPx: 64, trainSeeds: [1, 2], validationSeeds: [1, 1], bestIteration: r.bestIteration, bestValidationMae: r.best.mae, iterations: 3, command: 'test', exportOnnx: false,
      });
      const { meta, pkg } = await loadVirFluoNetPackage(join(dir, 'pkg'));
      expect(meta.mode).toBe('autofocus');
      expect(meta.normalisation.target).toEqual(maps.target);
      expect(meta.net.inputResidual).toBe(true);
      const engine = createTfjsEngine(tf, best);
      const out = await predictField(raw[0].inputs, 64, 64, meta, engine, { tilePx: pkg.manifest.tilePx, haloPx: pkg.manifest.haloPx, multipleOf: pkg.manifest.multipleOf });
      for (const v of out) {
        expect(v).toBeGreaterThanOrEqual(maps.target.lowAdu - 1e-3);
        expect(v).toBeLessThanOrEqual(maps.target.highAdu + 1e-3);
      }
      best.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
