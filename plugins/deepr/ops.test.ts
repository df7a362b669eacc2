import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack, isFocalError, runOp, testContext, type Stack } from '../../core/index.js';
import { standardise } from '../../core/imaging.js';
import { selfEnsemble } from '../../core/ml.js';
import { deeprPlugin } from './index.js';
import { buildGenerator } from './model.js';
import { getTf } from './tf.js';
import { loadDeepRPackage, saveDeepRPackage } from './package.js';
import { trainDpmDecoder } from './dpm.js';
import { type TrainingPair } from './data.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
const op = (id: string) => deeprPlugin.operations.find((o) => o.id === id)!;

function blobs(w: number, h: number, seed: number): Float32Array {
  const a = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = 100 + 50 * Math.sin((x + seed) / 4) * Math.cos(y / 5) + 20 * Math.sin(x * y / 50);
  return a;
}

describe('DPM decoder target', () => {
  it("learns |Δz| with target 'absolute' and Δz with 'signed' (a pair defocused by −3 µm)", async () => {
    const { tf } = await getTf();
    const generator = buildGenerator(tf, { baseChannels: 4, seed: 5 });
    const pair: TrainingPair = { input: blobs(64, 64, 1), target: blobs(64, 64, 1), sizePx: 64, defocusUm: -3 };
    const x = tf.tensor4d(standardise(pair.input).data, [1, 64, 64, 1]);
    const means: Record<string, number> = {};
    for (const target of ['absolute', 'signed'] as const) {
      const { model, losses } = await trainDpmDecoder(tf, generator, { sample: () => pair, iterations: 16, baseChannels: 4, patchPx: 64, batchSize: 1, learningRate: 1e-2, seed: 3, target });
      expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
      const y = model.predict(x) as import('@tensorflow/tfjs').Tensor;
      means[target] = (await tf.mean(y).data())[0];
      y.dispose();
    }
    x.dispose();
    // the untrained decoder answers ≈ 0; a few steps move it towards +3 or −3
    expect(means.absolute).toBeGreaterThan(0.2);
    expect(means.signed).toBeLessThan(-0.2);
    expect(means.absolute - means.signed).toBeGreaterThan(0.6);
  });
});

describe('deepr ops on a tiny model package (baseChannels 4)', () => {
  it('packages generator + DPM decoder; autofocus equals the generator (denormalised); defocus-map runs; the encoder stays frozen', async () => {
    const { tf } = await getTf();
    const generator = buildGenerator(tf, { baseChannels: 4, seed: 11 });
    const encBefore = generator.getLayer('enc2_conv1').getWeights()[0].dataSync().slice();
    const pairs: TrainingPair[] = [2, -3].map((dz, k) => ({ input: blobs(64, 64, k), target: blobs(64, 64, k), sizePx: 64, defocusUm: dz }));
    const { model: dpm, losses } = await trainDpmDecoder(tf, generator, { sample: (r) => pairs[r.int(2)], iterations: 4, baseChannels: 4, patchPx: 64, batchSize: 2, learningRate: 3e-3, seed: 2 });
    expect(losses).toHaveLength(4);
    expect([...generator.getLayer('enc2_conv1').getWeights()[0].dataSync()]).toEqual([...encBefore]);
    const out = await mkdtemp(join(tmpdir(), 'deepr-pkg-'));
    dirs.push(out);
    const dir = join(out, 'model');
    await saveDeepRPackage(dir, generator, {
      name: 'deepr-test', baseChannels: 4, levels: 5, patchPx: 64, iterations: 0, bestIteration: 0, bestValidationBerhu: 1,
      pixelSizeUm: 0.325, objectiveNa: 0.75, defocusRangeUm: [-5, 5], command: 'test', data: 'test',
    }, dpm);
    const { autofocus, dpm: dpmPkg } = await loadDeepRPackage(dir, { dpm: true });
    expect(autofocus.manifest.extra?.dpm).toBe('dpm');
    expect(dpmPkg!.manifest.task).toBe('defocus-map');

    const W = 96;
    const H = 64;
    const plane = blobs(W, H, 3);
    const image = createStack({ width: W, height: H, dtype: 'float32', planes: [plane], calibration: { pixelWidthUm: 0.325 } });
    const res = (await runOp(op('deepr.autofocus'), { image }, { model: dir, engine: 'tfjs', tileSize: 96, overlapPx: 0, safety: 'off' })).image as Stack;
    expect(res.dtype).toBe('float32');
    expect(res.calibration.pixelWidthUm).toBe(0.325);
    const n = standardise(plane);
    const direct = tf.tidy(() => (generator.predict(tf.tensor4d(n.data, [1, H, W, 1])) as import('@tensorflow/tfjs').Tensor).dataSync());
    // overlapPx 0 and a 96-px tile: one 96×64 tile covers the image exactly, so: the op must equal the generator, mapped back with the plane's mean and σ
    let maxErr = 0;
    for (let i = 0; i < W * H; i++) maxErr = Math.max(maxErr, Math.abs(res.planes[0][i] - (direct[i] * n.std + n.mean)));
    expect(maxErr).toBeLessThan(1e-3 * n.std);

    const onnx = (await runOp(op('deepr.autofocus'), { image }, { model: dir, engine: 'onnxruntime', tileSize: 96, overlapPx: 0, safety: 'off' })).image as Stack;
    let d = 0;
    for (let i = 0; i < W * H; i++) d = Math.max(d, Math.abs(onnx.planes[0][i] - res.planes[0][i]));
    expect(d).toBeLessThan(1e-3 * n.std);

    // ×8 self-ensemble: one 64² tile per transform, so the op equals selfEnsemble over the generator
    const sq = blobs(64, 64, 5);
    const ns = standardise(sq);
    const ens = (await runOp(op('deepr.autofocus'), { image: createStack({ width: 64, height: 64, dtype: 'float32', planes: [sq] }) }, { model: dir, engine: 'tfjs', tileSize: 64, overlapPx: 0, ensemble: 'dihedral8', safety: 'off' })).image as Stack;
    const ref = await selfEnsemble(ns.data, 64, 64, 'dihedral8', async (d, w, h) => Float32Array.from(tf.tidy(() => (generator.predict(tf.tensor4d(d, [1, h, w, 1])) as import('@tensorflow/tfjs').Tensor).dataSync())));
    const single = (await runOp(op('deepr.autofocus'), { image: createStack({ width: 64, height: 64, dtype: 'float32', planes: [sq] }) }, { model: dir, engine: 'tfjs', tileSize: 64, overlapPx: 0, safety: 'off' })).image as Stack;
    let de = 0;
    let ds = 0;
    for (let i = 0; i < 64 * 64; i++) {
      de = Math.max(de, Math.abs(ens.planes[0][i] - (ref[i] * ns.std + ns.mean)));
      ds = Math.max(ds, Math.abs(single.planes[0][i] - ens.planes[0][i]));
    }
    expect(de).toBeLessThan(1e-3 * ns.std);
    expect(ds).toBeGreaterThan(1e-3 * ns.std); // an untrained network is not flip/rotation-equivariant: the default (none) differs

    const map = (await runOp(op('deepr.defocus-map'), { image }, { model: dir, engine: 'tfjs', tileSize: 64, overlapPx: 16 })).map as Stack;
    expect(map.planes[0]).toHaveLength(W * H);
    expect(Number.isFinite(map.planes[0][0])).toBe(true);
    // an image of 0.1 µm pixels (beyond 2× of the model's 0.325): mapped on the model's grid, the map resampled back to the image's pixels
    const fineCtx = testContext();
    const fine = (await runOp(op('deepr.defocus-map'), { image: { ...image, calibration: { pixelWidthUm: 0.1, pixelHeightUm: 0.1 } } }, { model: dir, engine: 'tfjs', tileSize: 64, overlapPx: 16 }, fineCtx)).map as Stack;
    expect([fine.width, fine.height, fine.planes[0].length]).toEqual([W, H, W * H]);
    expect(fine.planes[0].every(Number.isFinite)).toBe(true);
    expect(fineCtx.logs.filter((l) => l.level === 'info')).toEqual([{ level: 'info', message: expect.stringMatching(/^image: 0\.1 µm pixels .*mapped on its grid \(×0\.308\) and the map is resampled back/) }]);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.multipleOf).toBe(32);
  });

  it('clear errors: unknown model, missing DPM decoder, bad tile size', async () => {
    const image = createStack({ width: 32, height: 32, dtype: 'uint16' });
    const e1 = await runOp(op('deepr.autofocus'), { image }, { model: '/nonexistent/model' }).catch((e: unknown) => e);
    expect(isFocalError(e1) && e1.details.field).toBe('model');
    const e2 = await runOp(op('deepr.autofocus'), { image }, { model: 'no-such-bundled-model' }).catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(/neither a folder nor a bundled model/);
    const { tf } = await getTf();
    const out = await mkdtemp(join(tmpdir(), 'deepr-pkg2-'));
    dirs.push(out);
    await saveDeepRPackage(join(out, 'm'), buildGenerator(tf, { baseChannels: 2 }), {
      baseChannels: 2, levels: 5, patchPx: 64, iterations: 0, bestIteration: 0, bestValidationBerhu: 1, pixelSizeUm: 0.325, objectiveNa: 0.75, defocusRangeUm: [-5, 5], command: 'test', data: 'test', exportOnnx: false,
    });
    const e3 = await runOp(op('deepr.defocus-map'), { image }, { model: join(out, 'm') }).catch((e: unknown) => e);
    expect((e3 as Error).message).toMatch(/has no DPM decoder/);
    const e4 = await runOp(op('deepr.autofocus'), { image }, { model: join(out, 'm'), tileSize: 48 }).catch((e: unknown) => e);
    expect(isFocalError(e4) && e4.details.field).toBe('tileSize');
  });
});
