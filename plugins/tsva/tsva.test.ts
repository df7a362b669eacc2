import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureStdio, createStack, runOp, testContext, type Stack } from '../../core/index.js';
import { bundledModelsDir, createInferenceEngine, createTfjsEngine, loadTf, modelArrays } from '../../core/ml.js';
import { tsvaPlugin } from './index.js';
import { buildTsvaNet, convLayerCount, widenForEarlyFusion } from './model.js';
import { loadTsvaPackage, saveTsvaPackage, tsvaTiling, tsvaWorkingBytes } from './package.js';
import { guardOutput, refocusPair } from './refocus.js';
import { brenner, gaussianBlur2d, psnr } from '../../core/imaging.js';
import { DEFAULT_OPTICS, DEFAULT_PROTOCOL, FOCUS_SEARCH_UM, greyOf, imageAt, orderShots, psfHalfPx, renderSection, sectionFromImage, simulateDataset, simulateFromImage } from './simulate.js';
import { evaluateMse, evaluatePsnr, interleaveShots, negPsnrLoss, rot90Hwc, trainTsvaModel, tsvaTrainerSpec } from './train.js';
import { atPatchSize, TEST_RECIPES, TRAIN_RECIPE, VAL_TILES, valTilesOf } from './recipes.js';
import { tsvaTrainOptions } from './trainer.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
const op = (id: string) => tsvaPlugin.operations.find((o) => o.id === id)!;

function randomHwc(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = s / 2147483648;
  }
  return a;
}

function rgb(w: number, h: number, seed = 1): Stack {
  const planes = [0, 1, 2].map((c) => Uint8Array.from(randomHwc(w * h, seed + c), (v) => Math.round(v * 255)));
  return createStack({ width: w, height: h, dtype: 'uint8', sizeC: 3, rgb: true, planes });
}

describe('TSVA network', () => {
  it('has one set of encoder weights used by both paths (shared), and the baseline the same encoder', async () => {
    const { tf } = await loadTf();
    const tsva = buildTsvaNet(tf, 'tsva', { baseChannels: 2, levels: 2 }, 1);
    const unet = buildTsvaNet(tf, 'unet', { baseChannels: 2, levels: 2 }, 1);
    const encWeights = (m: typeof tsva) => m.weights.filter((w) => w.name.startsWith('enc')).map((w) => w.shape.join('x'));
    expect(encWeights(tsva)).toEqual(encWeights(unet));
    // every encoder layer is applied twice (Y1 and Y2) in TSVA, once in the baseline
    for (const l of tsva.layers.filter((l) => l.name.startsWith('enc') && l.getClassName() === 'Conv2D')) expect(l.inboundNodes.length).toBe(2);
    // a perturbation of one encoder kernel changes the output through both paths: zeroing it changes Y2's contribution too
    expect(convLayerCount(tsva)).toBe(convLayerCount(unet) + 0);
    tsva.dispose();
    unet.dispose();
  });

  it('is residual: with the output layer zeroed, X = Y1 exactly (TSVA and baseline)', async () => {
    const { tf } = await loadTf();
    for (const arch of ['tsva', 'unet'] as const) {
      const m = buildTsvaNet(tf, arch, { baseChannels: 2, levels: 2 }, 3);
      const out = m.getLayer('dec_out');
      out.setWeights(out.getWeights().map((w) => tf.zerosLike(w)));
      const y1 = tf.tensor4d(randomHwc(16 * 16 * 3, 5), [1, 16, 16, 3]);
      const y2 = tf.tensor4d(randomHwc(16 * 16 * 3, 6), [1, 16, 16, 3]);
      const x = m.predict(arch === 'tsva' ? [y1, y2] : y1) as import('@tensorflow/tfjs').Tensor;
      expect(Array.from(await x.data())).toEqual(Array.from(await y1.data()));
      m.dispose();
    }
    // the no-residual ablation (`--residual off`): the same network without +Y1, so the zeroed output layer gives 0
    const plain = buildTsvaNet(tf, 'unet', { baseChannels: 2, levels: 2 }, 3, false);
    const out = plain.getLayer('dec_out');
    out.setWeights(out.getWeights().map((w) => tf.zerosLike(w)));
    const x = plain.predict(tf.tensor4d(randomHwc(16 * 16 * 3, 5), [1, 16, 16, 3])) as import('@tensorflow/tfjs').Tensor;
    expect(Array.from(await x.data()).every((v) => v === 0)).toBe(true);
    expect(plain.countParams()).toBe(buildTsvaNet(tf, 'unet', { baseChannels: 2, levels: 2 }, 3).countParams() - 3 * 3);
    plain.dispose();
  });

  it('early-fusion ablation: one six-channel input; started from a baseline U-Net it is that U-Net exactly, whatever Y2', async () => {
    const { tf } = await loadTf();
    const net = { baseChannels: 2, levels: 2 };
    const unet = buildTsvaNet(tf, 'unet', net, 3);
    const ef = buildTsvaNet(tf, 'early-fusion', net, 4);
    expect(ef.inputs.map((i) => i.shape[3])).toEqual([6]);
    const widened = widenForEarlyFusion(ef.weights.map((w) => ({ name: w.name, shape: w.shape as number[] })), modelArrays(unet));
    // the first convolution and the residual's channel selection take 6 channels, Y2's weights zero
    const first = widened.find((a) => a.shape[2] === 6 && a.shape[0] === 3)!;
    expect(first.shape).toEqual([3, 3, 6, 2]);
    expect(first.data.filter((_, i) => Math.floor(i / 2) % 6 >= 3).every((v) => v === 0)).toBe(true);
    ef.setWeights(widened.map((a) => tf.tensor(a.data, a.shape)));
    const y1 = randomHwc(16 * 16 * 3, 5);
    const x = unet.predict(tf.tensor4d(y1, [1, 16, 16, 3])) as import('@tensorflow/tfjs').Tensor;
    for (const seed of [6, 7]) {
      const both = interleaveShots(y1, randomHwc(16 * 16 * 3, seed), 3);
      expect(Array.from(both.subarray(0, 6))).toEqual([...Array.from(y1.subarray(0, 3)), ...Array.from(both.subarray(3, 6))]);
      const z = ef.predict(tf.tensor4d(both, [1, 16, 16, 6])) as import('@tensorflow/tfjs').Tensor;
      const a = await x.data();
      const b = await z.data();
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      expect(maxDiff).toBeLessThan(1e-5);
    }
    unet.dispose();
    ef.dispose();
  });

  it('exports to ONNX with the same outputs as tfjs (two inputs, channels split between them)', async () => {
    const { tf } = await loadTf();
    const model = buildTsvaNet(tf, 'tsva', { baseChannels: 2, levels: 2 }, 9);
    const dir = await mkdtemp(join(tmpdir(), 'tsva-'));
    dirs.push(dir);
    const pkg = await saveTsvaPackage(join(dir, 'p'), { arch: 'tsva', net: { baseChannels: 2, levels: 2, convsPerBlock: 2, colourChannels: 3 }, model, history: [], bestIteration: 0, iterations: 0, batchSize: 1, trainPatches: 0, valPatches: 0, command: 'test' });
    const input = randomHwc(2 * 16 * 16 * 6, 11);
    const onnx = await createInferenceEngine(pkg, { engine: 'onnxruntime' });
    const tfjs = await createInferenceEngine(pkg, { engine: 'tfjs' });
    const a = await onnx.run(input, [2, 16, 16, 6]);
    const b = await tfjs.run(input, [2, 16, 16, 6]);
    expect(a.shape).toEqual([2, 16, 16, 3]);
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i] - b.data[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    await onnx.dispose();
    await tfjs.dispose();
  });

  it('an early-fusion package refocuses through the engines: Y1 then Y2 as six channels of one input (ONNX = tfjs = the network)', async () => {
    const { tf } = await loadTf();
    const net = { baseChannels: 2, levels: 2, convsPerBlock: 2, colourChannels: 3 };
    const model = buildTsvaNet(tf, 'early-fusion', net, 12);
    const dir = await mkdtemp(join(tmpdir(), 'tsva-ef-'));
    dirs.push(dir);
    const pkg = await saveTsvaPackage(join(dir, 'p'), { arch: 'early-fusion', net, model, history: [], bestIteration: 0, iterations: 0, batchSize: 1, trainPatches: 0, valPatches: 0, command: 'test' });
    expect(pkg.manifest.name).toBe('tsva-early-fusion-ablation');
    expect(pkg.manifest.inputs.channels).toBe(6);
    const w = 32;
    const a = { hwc: randomHwc(w * w * 3, 31), width: w, height: w };
    const b = { hwc: randomHwc(w * w * 3, 32), width: w, height: w };
    const direct = (await (model.predict(tf.tensor4d(interleaveShots(a.hwc, b.hwc, 3), [1, w, w, 6])) as import('@tensorflow/tfjs').Tensor).data()) as Float32Array;
    for (const engineName of ['onnxruntime', 'tfjs'] as const) {
      const engine = await createInferenceEngine(pkg, { engine: engineName });
      const r = await refocusPair(a, b, engine, { tilePx: w, haloPx: 0, multipleOf: 4, arch: 'early-fusion', order: 'as-given' });
      let maxDiff = 0;
      for (let i = 0; i < direct.length; i++) maxDiff = Math.max(maxDiff, Math.abs(r.hwc[i] - direct[i]));
      expect(maxDiff).toBeLessThan(1e-4);
      await engine.dispose();
    }
    model.dispose();
  });

  it('tiled inference equals whole-image inference away from the borders', async () => {
    const { tf } = await loadTf();
    const model = buildTsvaNet(tf, 'tsva', { baseChannels: 2, levels: 2 }, 4);
    const engine = createTfjsEngine(tf as unknown as Parameters<typeof createTfjsEngine>[0], model);
    const w = 160;
    const a = { hwc: randomHwc(w * w * 3, 21), width: w, height: w };
    const b = { hwc: randomHwc(w * w * 3, 22), width: w, height: w };
    const whole = await refocusPair(a, b, engine, { tilePx: 256, haloPx: 48, multipleOf: 4, arch: 'tsva', order: 'as-given' });
    const tiled = await refocusPair(a, b, engine, { tilePx: 128, haloPx: 40, multipleOf: 4, arch: 'tsva', order: 'as-given' });
    let maxDiff = 0;
    for (let y = 40; y < w - 40; y++) for (let x = 40; x < w - 40; x++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(whole.hwc[(y * w + x) * 3 + c] - tiled.hwc[(y * w + x) * 3 + c]));
    expect(maxDiff).toBeLessThan(1e-4);
    model.dispose();
  });

  it("a new package's halo is its network's reach (core's unetReachPx): tiled with it, small tiles equal one pass", async () => {
    const demo = { baseChannels: 8, levels: 3, convsPerBlock: 2, colourChannels: 3 };
    expect(tsvaTiling('tsva', demo)).toEqual({ tilePx: 512, haloPx: 72 });
    expect(tsvaTiling('unet', demo)).toEqual({ tilePx: 512, haloPx: 72 });
    expect(tsvaTiling('tsva', { ...demo, baseChannels: 64, levels: 4 })).toEqual({ tilePx: 864, haloPx: 144 });
    const net = { baseChannels: 2, levels: 2, convsPerBlock: 2, colourChannels: 3 };
    const { haloPx } = tsvaTiling('tsva', net);
    expect(haloPx).toBe(32);
    const { tf } = await loadTf();
    const model = buildTsvaNet(tf, 'tsva', net, 5);
    const dir = await mkdtemp(join(tmpdir(), 'tsva-'));
    dirs.push(dir);
    const pkg = await saveTsvaPackage(join(dir, 'p'), { arch: 'tsva', net, model, history: [], bestIteration: 0, iterations: 0, batchSize: 1, trainPatches: 0, valPatches: 0, command: 'test' });
    expect([pkg.manifest.tilePx, pkg.manifest.haloPx]).toEqual([512, 32]);
    const engine = createTfjsEngine(tf as unknown as Parameters<typeof createTfjsEngine>[0], model);
    const w = 200;
    const a = { hwc: randomHwc(w * w * 3, 41), width: w, height: w };
    const b = { hwc: randomHwc(w * w * 3, 42), width: w, height: w };
    const whole = await refocusPair(a, b, engine, { tilePx: 256, haloPx: 28, multipleOf: 4, arch: 'tsva', order: 'as-given' });
    // 80-px tiles with the package's halo: 16 px kept per tile, several seams across the image
    const tiled = await refocusPair(a, b, engine, { tilePx: 80, haloPx, multipleOf: 4, arch: 'tsva', order: 'as-given' });
    let maxDiff = 0;
    for (let y = 32; y < w - 32; y++) for (let x = 32; x < w - 32; x++) for (let c = 0; c < 3; c++) maxDiff = Math.max(maxDiff, Math.abs(whole.hwc[(y * w + x) * 3 + c] - tiled.hwc[(y * w + x) * 3 + c]));
    expect(maxDiff).toBeLessThan(1e-5);
    await engine.dispose();
  });

  it("a streamed slide's budget counts the network's session and one tile's tensors (209 floats a pixel for the demo's TSVA)", async () => {
    const { meta } = await loadTsvaPackage(join(bundledModelsDir(), 'tsva-demo'));
    expect(tsvaWorkingBytes(meta, 512)).toBe(48 * 1024 * 1024 + 512 * 512 * 209 * 4);
    const unet = await loadTsvaPackage(join(bundledModelsDir(), 'tsva-unet-baseline-demo'));
    expect(tsvaWorkingBytes(unet.meta, 512)).toBe(48 * 1024 * 1024 + 512 * 512 * 148.5 * 4);
  });

  it("the shipped packages' tiling (512 px, 48 px halo) equals one whole-image pass away from the border; the old 128/32 did not", async () => {
    const w = 704;
    const h = 576;
    const a = { hwc: randomHwc(w * h * 3, 31), width: w, height: h };
    const b = { hwc: randomHwc(w * h * 3, 32), width: w, height: h };
    for (const name of ['tsva-demo', 'tsva-unet-baseline-demo']) {
      const { pkg, meta } = await loadTsvaPackage(join(bundledModelsDir(), name));
      expect([pkg.manifest.tilePx, pkg.manifest.haloPx]).toEqual([512, 48]);
      const engine = await createInferenceEngine(pkg, { engine: 'onnxruntime', threads: 1 });
      const run = (tilePx: number, haloPx: number) => refocusPair(a, b, engine, { tilePx, haloPx, multipleOf: pkg.manifest.multipleOf!, arch: meta.arch, order: 'as-given' });
      const whole = (await run(w, 0)).hwc;
      const maxDiff = (out: Float32Array) => {
        let max = 0;
        for (let y = 64; y < h - 64; y++) for (let i = (y * w + 64) * 3; i < (y * w + w - 64) * 3; i++) max = Math.max(max, Math.abs(out[i] - whole[i]));
        return max;
      };
      // the package's tiling: 2 × 2 network tiles, the same values as one pass (float rounding only)
      expect(maxDiff((await run(pkg.manifest.tilePx!, pkg.manifest.haloPx!)).hwc)).toBeLessThan(1e-4);
      // 32 px is less than the networks see: seams, well above float rounding
      expect(maxDiff((await run(128, 32)).hwc)).toBeGreaterThan(3e-4);
      await engine.dispose();
    }
  });

  it('varies stains and thickness on the asked fraction of tiles, deterministically, and leaves the others as before', () => {
    const base = { family: 'he-gland', tiles: 6, patchPx: 16, patchesPerSide: 1, seed: 12, deltaD: [0] };
    const plain = simulateDataset(base);
    expect(simulateDataset({ ...base, varietyFraction: 0 })).toEqual(plain);
    const all = simulateDataset({ ...base, varietyFraction: 1 });
    expect(simulateDataset({ ...base, varietyFraction: 1 })).toEqual(all);
    const differs = all.map((p, i) => p.x.some((v, k) => v !== plain[i].x[k]));
    expect(differs.every(Boolean)).toBe(true);
    // colour: H&E tiles are pink-purple (green absorbed most); re-stained ones are not all so
    const meanRgb = (p: { x: Float32Array }) => [0, 1, 2].map((c) => p.x.filter((_, k) => k % 3 === c).reduce((a, v) => a + v, 0) / (p.x.length / 3));
    expect(plain.every((p) => { const [r, g] = meanRgb(p); return g < r; })).toBe(true);
    expect(all.some((p) => { const [r, g] = meanRgb(p); return g >= r; })).toBe(true);
    // a fraction re-stains some tiles and leaves the rest exactly as the plain recipe
    const half = simulateDataset({ ...base, varietyFraction: 0.5 });
    const same = half.map((p, i) => p.x.every((v, k) => v === plain[i].x[k]));
    expect(same.some(Boolean) && !same.every(Boolean)).toBe(true);
    expect(() => simulateDataset({ ...base, varietyFraction: 1.5 })).toThrow(/varietyFraction/);
    expect(() => simulateDataset({ ...base, varietyFraction: 1, thicknessRangeUm: [0.2, 2] })).toThrow(/thicknessRangeUm/);
  });

  it('darkens the varied tiles under a uniform absorber (uniformOdMax): same structure, fewer photons, other draws unchanged', () => {
    const base = { family: 'he-gland', tiles: 4, patchPx: 16, patchesPerSide: 1, seed: 12, deltaD: [0], varietyFraction: 1 };
    const varied = simulateDataset(base);
    expect(simulateDataset({ ...base, uniformOdMax: 0 })).toEqual(varied);
    const dim = simulateDataset({ ...base, uniformOdMax: 0.6 });
    expect(simulateDataset({ ...base, uniformOdMax: 0.6 })).toEqual(dim);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    // every tile darker, none darker than OD 0.6 allows (10^-0.6 ≈ 0.25, plus noise)
    const ratios = dim.map((p, i) => mean(p.x) / mean(varied[i].x));
    expect(ratios.every((r) => r < 1 && r > 0.2)).toBe(true);
    // the same tissue: the dim tile's expectation is the bright one's times one factor per channel
    const section = renderSection('he-gland', 40, 40, 5, DEFAULT_OPTICS);
    const tinted = renderSection('he-gland', 40, 40, 5, DEFAULT_OPTICS, 0, { uniformOd: [0.3, 0.5, 0.1] });
    const half = 4;
    const a = imageAt(section, half, half, 32, 32, 0, DEFAULT_OPTICS, half, 1, 0, false);
    const b = imageAt(tinted, half, half, 32, 32, 0, DEFAULT_OPTICS, half, 1, 0, false);
    [0.3, 0.5, 0.1].forEach((od, c) => { for (let k = c; k < a.length; k += 3) expect(b[k]).toBeCloseTo(a[k] * Math.pow(10, -od), 5); });
    expect(() => renderSection('he-gland', 40, 40, 5, DEFAULT_OPTICS, 0, { uniformOd: [0.3, -1, 0] as [number, number, number] })).toThrow(/uniformOd/);
    expect(() => simulateDataset({ ...base, uniformOdMax: 3 })).toThrow(/uniformOdMax/);
    expect(() => simulateDataset({ ...base, varietyFraction: 0, uniformOdMax: 0.5 })).toThrow(/uniformOdMax.*varietyFraction/);
  });

  it('renders the same scenes whatever the shot offset when the PSF margin is fixed (marginDefocusUm): a paired s ablation', () => {
    const base = { family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 1, seed: 9, focus: 'brenner' as const, deltaD: [-0.5, 0.5] };
    const margin = 0.5 + 1.5 + 2.5 + 1.5; // the largest |ΔD| + s + half a 5 µm section + the focus search
    const at = (s: number) => simulateDataset({ ...base, marginDefocusUm: margin, protocol: { ...DEFAULT_PROTOCOL, shotOffsetUm: s } });
    const [a, b] = [at(0.5), at(1.5)];
    expect(b.map((p) => Math.abs(p.y1OffsetUm))).toEqual(b.map(() => 1.5));
    // same target, in-focus plane and ΔD per patch; different shots
    expect(b.map((p) => [p.deltaDUm, p.focusUm, p.tile])).toEqual(a.map((p) => [p.deltaDUm, p.focusUm, p.tile]));
    b.forEach((p, i) => expect(p.x).toEqual(a[i].x));
    expect(b.every((p, i) => p.y1.some((v, k) => v !== a[i].y1[k]))).toBe(true);
    // without the fixed margin the section's size, and so the scene, follows s
    const free = simulateDataset(base);
    expect(free.some((p, i) => p.x.some((v, k) => v !== a[i].x[k]))).toBe(true);
    expect(() => simulateDataset({ ...base, marginDefocusUm: 2 })).toThrow(/marginDefocusUm.*largest defocus/);
  });

  it('trains on the kit\'s trainer: loss falls, loss.csv/png, best by validation MSE, resume continues', async () => {
    const { tf } = await loadTf();
    const patches = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 3, seed: 3, deltaD: [-2, 2] });
    const dir = await mkdtemp(join(tmpdir(), 'tsva-train-'));
    dirs.push(dir);
    const o = {
      arch: 'tsva' as const, net: { baseChannels: 4, levels: 2, convsPerBlock: 2, colourChannels: 3 }, train: patches.slice(0, 14), val: patches.slice(14),
      patchPx: 16, batchSize: 4, learningRate: 5e-3, iterations: 40, validateEvery: 20, seed: 1, outDir: dir, zeroInitOutput: false,
      recipe: { family: 'he-gland', tiles: 1, focus: 'brenner' },
    };
    const first = await trainTsvaModel(tf, o);
    first.model.dispose();
    const r = await trainTsvaModel(tf, { ...o, iterations: 60, resume: true });
    expect(r.iterations).toBe(60);
    expect(r.history.map((h) => h.iteration)).toEqual([20, 40, 60]);
    expect(r.history.at(-1)!.trainMse!).toBeLessThan(r.history[0].trainMse!);
    const best = r.history.reduce((a, b) => (b.valMse < a.valMse ? b : a));
    expect(r.bestIteration).toBe(best.iteration);
    expect(r.bestValMse).toBeCloseTo(best.valMse, 10);
    const csv = (await readFile(join(dir, 'loss.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('iteration,generator,mse,validationMse,seconds');
    expect(csv).toHaveLength(61);
    expect((await readFile(join(dir, 'loss.png')).then((b) => b.subarray(1, 4).toString()))).toBe('PNG');
    // the returned model is the best one: its validation MSE is the best's
    expect(evaluateMse(tf, r.model, 'tsva', o.val, 16)).toBeCloseTo(r.bestValMse, 6);
    // a resume with another network is refused naming the field
    await expect(trainTsvaModel(tf, { ...o, net: { ...o.net, baseChannels: 2 }, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'baseChannels' } });
    // …and one on other data (here: the old mid-plane focus rule) naming the option
    await expect(trainTsvaModel(tf, { ...o, recipe: { ...o.recipe, focus: 'mid-plane' }, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'focus' } });
    await expect(trainTsvaModel(tf, { ...o, recipe: { ...o.recipe, softnessMaxUm: 0.5 }, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'softness' } });
    await expect(trainTsvaModel(tf, { ...o, recipe: { ...o.recipe, varietyFraction: 0.5 }, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'variety' } });
    await expect(trainTsvaModel(tf, { ...o, recipe: { ...o.recipe, uniformOdMax: 0.5 }, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'uniform-od' } });
    await expect(trainTsvaModel(tf, { ...o, recipe: { ...o.recipe, protocol: { ...DEFAULT_PROTOCOL, shotOffsetUm: 1 } }, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'shot-offset' } });
    // …and one without the residual (recorded only when off) is refused, in both directions
    await expect(trainTsvaModel(tf, { ...o, residual: false, iterations: 80, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'residual' } });
    r.model.dispose();
    const plainDir = join(dir, 'plain');
    const plain = await trainTsvaModel(tf, { ...o, outDir: plainDir, residual: false, iterations: 20 });
    plain.model.dispose();
    await expect(trainTsvaModel(tf, { ...o, outDir: plainDir, iterations: 40, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'residual' } });
  }, 120_000);

  it("batchNorm 'joint': both paths learn under one set of batch statistics; the result is the plain graph with the learnt weights; a resume in another mode is refused; one-path archs refuse it", async () => {
    const { tf } = await loadTf();
    const patches = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 2, seed: 4, deltaD: [-1, 1] });
    const net = { baseChannels: 2, levels: 2, convsPerBlock: 2, colourChannels: 3 };
    const dir = await mkdtemp(join(tmpdir(), 'tsva-joint-'));
    dirs.push(dir);
    const o = { arch: 'tsva' as const, net, train: patches.slice(0, 6), val: patches.slice(6), patchPx: 16, batchSize: 2, learningRate: 1e-3, iterations: 4, validateEvery: 2, seed: 1, outDir: dir, zeroInitOutput: false, batchNorm: 'joint' as const };
    const r = await trainTsvaModel(tf, o);
    // the kit's best generator is the training graph (one encoder call on the stacked shots)…
    const saved = JSON.parse(await readFile(join(dir, 'generator', 'model.json'), 'utf8')) as { modelTopology: unknown };
    expect(JSON.stringify(saved.modelTopology)).toContain('FocalBatchStack');
    // …the returned model the paper's graph (one encoder applied to each shot), exportable, with the same outputs
    expect(r.model.layers.some((l) => l.getClassName().startsWith('Focal'))).toBe(false);
    expect(r.model.getLayer('enc0_conv1').inboundNodes).toHaveLength(2);
    expect(evaluateMse(tf, r.model, 'tsva', o.val, 16)).toBeCloseTo(r.bestValMse, 7);
    const pkg = join(dir, 'pkg');
    await saveTsvaPackage(pkg, { arch: 'tsva', net, model: r.model, history: r.history, bestIteration: r.bestIteration, iterations: r.iterations, batchSize: 2, trainPatches: 6, valPatches: patches.length - 6, recipe: { ...TRAIN_RECIPE }, command: 'test', batchNorm: 'joint' });
    expect((await loadTsvaPackage(pkg)).meta.batchNorm).toBe('joint');
    r.model.dispose();
    await expect(trainTsvaModel(tf, { ...o, batchNorm: 'batch', iterations: 6, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'batchNorm' } });
    expect(() => tsvaTrainerSpec(tf, { ...o, arch: 'unet' })).toThrow(/batchNorm: 'joint' normalises TSVA's two paths together; unet has one path/);
    expect(tsvaTrainOptions.parse({ out: 'x', batchNorm: 'joint' }).batchNorm).toBe('joint');
  }, 60_000);

  it('fine-tunes from given weights (--init-from): they are validated first, and a package of another arch is refused before any data is made', async () => {
    const { tf } = await loadTf();
    const patches = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 2, seed: 4, deltaD: [-1, 1] });
    const net = { baseChannels: 2, levels: 2, convsPerBlock: 2, colourChannels: 3 };
    const source = buildTsvaNet(tf, 'tsva', net, 9);
    const dir = await mkdtemp(join(tmpdir(), 'tsva-init-'));
    dirs.push(dir);
    const events: { event: string; metrics?: Record<string, number> }[] = [];
    const o = { arch: 'tsva' as const, net, train: patches.slice(0, 6), val: patches.slice(6), patchPx: 16, batchSize: 2, learningRate: 1e-3, iterations: 2, validateEvery: 2, seed: 1, outDir: join(dir, 'run') };
    const r = await trainTsvaModel(tf, { ...o, initialWeights: { weights: modelArrays(source), source: 'test net' }, onEvent: (e) => events.push(e as never) });
    // the run started from exactly these weights: its initial validation is theirs
    expect(events.find((e) => e.event === 'initial')!.metrics!.mse).toBeCloseTo(evaluateMse(tf, source, 'tsva', o.val, 16), 7);
    r.model.dispose();
    // the early-fusion ablation from a baseline U-Net (Y2's weights zero) starts where that U-Net is
    const baseline = buildTsvaNet(tf, 'unet', net, 5);
    const shape = buildTsvaNet(tf, 'early-fusion', net, 5);
    const widened = widenForEarlyFusion(shape.weights.map((w) => ({ name: w.name, shape: w.shape as number[] })), modelArrays(baseline));
    shape.dispose();
    const efEvents: typeof events = [];
    const ef = await trainTsvaModel(tf, { ...o, arch: 'early-fusion', outDir: join(dir, 'ef'), initialWeights: { weights: widened, source: 'baseline' }, onEvent: (e) => efEvents.push(e as never) });
    expect(efEvents.find((e) => e.event === 'initial')!.metrics!.mse).toBeCloseTo(evaluateMse(tf, baseline, 'unet', o.val, 16), 7);
    ef.model.dispose();
    baseline.dispose();
    // through the CLI: a U-Net package offered to a TSVA run
    const pkgDir = join(dir, 'unet-pkg');
    const unet = buildTsvaNet(tf, 'unet', { baseChannels: 8, levels: 3 }, 1);
    await saveTsvaPackage(pkgDir, { arch: 'unet', net: { baseChannels: 8, levels: 3, convsPerBlock: 2, colourChannels: 3 }, model: unet, history: [], bestIteration: 0, iterations: 0, batchSize: 8, trainPatches: 0, valPatches: 0, command: 'test' });
    // a package trained at another shot offset records it (meta and description)
    const s1Dir = join(dir, 's1-pkg');
    await saveTsvaPackage(s1Dir, { arch: 'unet', net: { baseChannels: 8, levels: 3, convsPerBlock: 2, colourChannels: 3 }, model: unet, history: [], bestIteration: 0, iterations: 0, batchSize: 8, trainPatches: 0, valPatches: 0, command: 'test', recipe: { ...TRAIN_RECIPE, protocol: { ...DEFAULT_PROTOCOL, shotOffsetUm: 1 } } });
    const s1 = await loadTsvaPackage(s1Dir);
    expect(s1.meta.protocol.shotOffsetUm).toBe(1);
    expect(s1.pkg.manifest.description).toMatch(/shots at F ± 1 µm/);
    expect((await loadTsvaPackage(pkgDir)).meta.protocol.shotOffsetUm).toBe(0.5);
    // …and a no-residual ablation says so; a package with the residual records nothing
    const plainDir = join(dir, 'plain-pkg');
    await saveTsvaPackage(plainDir, { arch: 'unet', net: { baseChannels: 8, levels: 3, convsPerBlock: 2, colourChannels: 3 }, model: unet, history: [], bestIteration: 0, iterations: 0, batchSize: 8, trainPatches: 0, valPatches: 0, command: 'test', residual: false });
    const plain = await loadTsvaPackage(plainDir);
    expect(plain.meta.residual).toBe(false);
    expect(plain.pkg.manifest.description).toMatch(/without the residual/);
    expect((await loadTsvaPackage(pkgDir)).meta.residual).toBeUndefined();
    // an ablation is not named as the shipped model: by default it says what it lacks, and a run may name it
    expect(plain.pkg.manifest.name).toBe('tsva-unet-baseline-demo-no-residual');
    expect((await loadTsvaPackage(pkgDir)).pkg.manifest.name).toBe('tsva-unet-baseline-demo');
    const namedDir = join(dir, 'named-pkg');
    await saveTsvaPackage(namedDir, { arch: 'unet', net: { baseChannels: 8, levels: 3, convsPerBlock: 2, colourChannels: 3 }, model: unet, history: [], bestIteration: 0, iterations: 0, batchSize: 8, trainPatches: 0, valPatches: 0, command: 'test', name: 'unet-scratch-3000' });
    expect((await loadTsvaPackage(namedDir)).pkg.manifest.name).toBe('unet-scratch-3000');
    unet.dispose();
    source.dispose();
    const { main } = await import('../../cli/main.js');
    // each refusal names what is wrong and comes before any data is simulated
    const refused = async (argv: string[], message: RegExp) => {
      const { value: code, stderr } = await captureStdio(() => main(argv));
      expect(code).not.toBe(0);
      expect(stderr).toMatch(message);
      expect(existsSync(join(dir, 'data'))).toBe(false);
    };
    // a U-Net package offered to a TSVA run
    await refused(['train', 'tsva', '--arch', 'tsva', '--init-from', pkgDir, '--out', join(dir, 'cli'), '--data', join(dir, 'data')], /--init-from .*unet.*asks for tsva/);
    // …and one with the residual offered to a --residual off run, also before any data
    await refused(['train', 'tsva', '--arch', 'unet', '--residual', 'off', '--init-from', pkgDir, '--out', join(dir, 'cli'), '--data', join(dir, 'data')], /--init-from .*trained with the residual.*--residual off/);
    // --uniform-od darkens the varied tiles: without --variety it is refused, before any data
    await refused(['train', 'tsva', '--arch', 'tsva', '--uniform-od', '0.5', '--out', join(dir, 'cli'), '--data', join(dir, 'data')], /--uniform-od.*--variety/);
    // --shot-offset is bounded, and named
    await refused(['train', 'tsva', '--shot-offset', '3', '--out', join(dir, 'cli'), '--data', join(dir, 'data')], /shot-?[oO]ffset.*\(0, 2\]/);
    // --name must be a plain name (it names the package in its manifest), refused before any data
    await refused(['train', 'tsva', '--name', '../shipped', '--out', join(dir, 'cli'), '--data', join(dir, 'data')], /name.*letters, digits/);
    await refused(['train', 'tsva', '--patch', '100', '--out', join(dir, 'cli'), '--data', join(dir, 'data')], /patch.*\[32, 512\], a multiple of 8/);
  }, 120_000);

  it("loss 'psnr': minus the mean per-patch PSNR, capped at 60 dB; a run picks its best by validation PSNR", async () => {
    const { tf } = await loadTf();
    // two 2×2 RGB patches: one exact (60 dB cap), one with every value off by 0.1 (MSE 0.01: 20 dB)
    const x = tf.zeros([2, 2, 2, 3]);
    const y = tf.concat([tf.zeros([1, 2, 2, 3]), tf.fill([1, 2, 2, 3], 0.1)]);
    expect((await negPsnrLoss(tf, y, x).data())[0]).toBeCloseTo(-(10 * Math.log10(1 / 1e-6) + 10 * Math.log10(1 / (0.01 + 1e-6))) / 2, 3);
    tf.dispose([x, y]);
    const patches = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 2, seed: 6, deltaD: [-1, 1] });
    const dir = await mkdtemp(join(tmpdir(), 'tsva-psnr-'));
    dirs.push(dir);
    const o = { arch: 'tsva' as const, net: { baseChannels: 2, levels: 2, convsPerBlock: 2, colourChannels: 3 }, train: patches.slice(0, 6), val: patches.slice(6), patchPx: 16, batchSize: 2, learningRate: 1e-3, iterations: 4, validateEvery: 2, seed: 1, outDir: dir, loss: 'psnr' as const };
    const r = await trainTsvaModel(tf, o);
    expect(r.history.map((h) => h.trainMse)).toEqual([null, null]);
    const best = r.history.reduce((a, b) => (b.valPsnr! > a.valPsnr! ? b : a));
    expect(r.bestIteration).toBe(best.iteration);
    expect(evaluatePsnr(tf, r.model, 'tsva', o.val, 16)).toBeCloseTo(best.valPsnr!, 4);
    expect(r.history.every((h) => Number.isFinite(h.trainPsnr) && h.trainPsnr! > 0)).toBe(true);
    r.model.dispose();
    // resuming with the other loss is refused naming it
    await expect(trainTsvaModel(tf, { ...o, loss: 'mse', iterations: 6, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'loss' } });
  }, 120_000);

  it('is a trainer contribution: `focal train --list` shows tsva', async () => {
    const { main } = await import('../../cli/main.js');
    const { value: code, stdout: out, stderr } = await captureStdio(() => main(['train', '--list']));
    expect(code, stderr).toBe(0);
    expect(out).toMatch(/^tsva +train TSVA .*\(plugin tsva\)$/m);
  });
});

describe('TSVA data', () => {
  it('orders shots by Brenner: the shot nearer focus is Y1 (ΔD = ±1 µm, s = 0.5 µm)', () => {
    const half = psfHalfPx(DEFAULT_OPTICS, 4);
    const sec = renderSection('he-gland', 48 + 2 * half, 48 + 2 * half, 5);
    for (const d of [-1, 1]) {
      const lo = imageAt(sec, half, half, 48, 48, d - 0.5, DEFAULT_OPTICS, half, 1, 1);
      const hi = imageAt(sec, half, half, 48, 48, d + 0.5, DEFAULT_OPTICS, half, 1, 2);
      // d = −1: F + s is 0.5 µm from focus, F − s 1.5 µm
      expect(orderShots(lo, hi, 48, 48).firstIsY1).toBe(d > 0);
    }
  });

  it("noise 'stack' (the paper's z-stack): a shot on the in-focus plane is the target image; 'independent': no shot is", () => {
    const sweep = [-0.5, 0, 0.5];
    const stack = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 1, seed: 5, deltaD: sweep, noise: 'stack' });
    const indep = simulateDataset({ family: 'he-gland', tiles: 1, patchPx: 16, patchesPerSide: 1, seed: 5, deltaD: sweep, noise: 'independent' });
    const equalsTarget = (p: (typeof stack)[number]) => [p.y1, p.y2].some((y) => y.every((v, i) => v === p.x[i]));
    // ΔD = ±0.5 µm: one shot (F ∓ s) is at z_focus
    expect(stack.map(equalsTarget)).toEqual([true, false, true]);
    expect(indep.map(equalsTarget)).toEqual([false, false, false]);
    // the same scene: the targets are the same image under both models
    expect(Array.from(stack[1].x)).toEqual(Array.from(indep[1].x));
    expect(tsvaTrainOptions.parse({ out: 'x' }).noise).toBe('stack');
    const bad = tsvaTrainOptions.safeParse({ out: 'x', noise: 'poisson' });
    expect(bad.error?.issues[0].path).toEqual(['noise']);
  });

  it("focus 'brenner' (the paper's rule): the target is the stack's plane of highest Brenner, and ΔD counts from it", () => {
    const o = { family: 'he-gland', tiles: 3, patchPx: 24, patchesPerSide: 1, seed: 9, deltaD: [-0.5, 0.5], noise: 'stack' as const };
    const byBrenner = simulateDataset({ ...o, focus: 'brenner' });
    const midPlane = simulateDataset(o);
    const half = psfHalfPx(DEFAULT_OPTICS, 0.5 + 0.5 + 2.5 + FOCUS_SEARCH_UM); // as simulateDataset: max |ΔD| + s + 2.5 + the search
    const grey = (hwc: Float32Array) => brenner(greyOf(hwc, 24, 24), 24, 24);
    for (const p of byBrenner) {
      expect(Number.isInteger(p.focusUm! * 2)).toBe(true);
      expect(Math.abs(p.focusUm!)).toBeLessThanOrEqual(FOCUS_SEARCH_UM);
      // the target's Brenner is at least that of the (noise-free) planes 1 µm either side
      const sec = renderSection('he-gland', 24 + 2 * half, 24 + 2 * half, (9 * 7919 + p.tile * 104729) >>> 0);
      const clean = (zUm: number) => grey(imageAt(sec, half, half, 24, 24, zUm, DEFAULT_OPTICS, half, 0, 0, false));
      expect(clean(p.focusUm!)).toBeGreaterThan(0.95 * Math.max(clean(p.focusUm! - 1), clean(p.focusUm! + 1)));
      // ΔD = ±0.5 µm: the shot on the Brenner plane is the sharpest plane of the searched stack, so it is Y1 and the target
      expect(p.y1).toBe(p.x);
    }
    expect(midPlane.every((p) => p.focusUm === undefined)).toBe(true);
    expect(byBrenner.some((p) => p.focusUm !== 0)).toBe(true);
    expect(tsvaTrainOptions.parse({ out: 'x' }).focus).toBe('brenner');
    expect(tsvaTrainOptions.safeParse({ out: 'x', focus: 'middle' }).error?.issues[0].path).toEqual(['focus']);
    expect(tsvaTrainOptions.parse({ out: 'x' }).batchNorm).toBe('batch');
    expect(tsvaTrainOptions.safeParse({ out: 'x', batchNorm: 'off' }).error?.issues[0].path).toEqual(['batchNorm']);
  });

  it('specimen softness: a softened section keeps its absorbance and loses sharpness; 0 leaves it as rendered', () => {
    const crisp = renderSection('he-gland', 64, 64, 12);
    const same = renderSection('he-gland', 64, 64, 12, DEFAULT_OPTICS, 0);
    const soft = renderSection('he-gland', 64, 64, 12, DEFAULT_OPTICS, 0.6);
    expect(Array.from(same.absorb[0][1])).toEqual(Array.from(crisp.absorb[0][1]));
    const sum = (a: Float32Array) => a.reduce((t, v) => t + v, 0);
    const inner = (a: Float32Array) => a.filter((_, i) => i % 64 >= 8 && i % 64 < 56 && i >= 8 * 64 && i < 56 * 64);
    crisp.absorb.forEach((layer, m) => {
      expect(sum(inner(soft.absorb[m][1]))).toBeCloseTo(sum(inner(layer[1])), -1); // mass kept away from the edges
      expect(brenner(soft.absorb[m][1], 64, 64)).toBeLessThan(0.8 * brenner(layer[1], 64, 64));
    });
    expect(() => renderSection('he-gland', 32, 32, 1, DEFAULT_OPTICS, -1)).toThrow(/softnessUm/);
    expect(tsvaTrainOptions.parse({ out: 'x' }).softness).toBe(0);
    expect(tsvaTrainOptions.parse({ out: 'x', softness: '0.5' }).softness).toBe(0.5);
    expect(tsvaTrainOptions.safeParse({ out: 'x', softness: '-1' }).error?.issues[0].path).toEqual(['softness']);
  });

  it('a real image as a thin section: its patches, in focus at the image plane, the sharper shot Y1; bad sizes named', () => {
    // a 48 × 40 px RGB "image": dark dots on white
    const w = 48, h = 40;
    const hwc = new Float32Array(w * h * 3).fill(1);
    for (let y = 2; y < h; y += 5) for (let x = 1; x < w; x += 4) for (let c = 0; c < 3; c++) hwc[(y * w + x) * 3 + c] = 0.2 + 0.1 * c;
    const section = sectionFromImage('dots', hwc, w, h, 6);
    expect([section.width, section.height, section.depthUm]).toEqual([60, 52, [0]]);
    expect(section.absorb[0][0][(6 + 2) * 60 + 6 + 1]).toBeCloseTo(0.8, 6); // 1 − I at (1, 2)
    expect(section.absorb[0][0][6 * 60 + 5]).toBe(section.absorb[0][0][6 * 60 + 6]); // reflected margin
    const patches = simulateFromImage({ name: 'dots', hwc, width: w, height: h, patchPx: 16, seed: 3, deltaD: [-1, 0, 1] });
    expect(patches.length).toBe(3 * 2 * 3); // 3 × 2 whole patches, 3 ΔD each
    for (const p of patches) {
      expect(p.family).toBe('dots');
      expect(p.focusUm).toBe(0); // a thin section is sharpest at its own plane
      expect(brenner(greyOf(p.y1, 16, 16), 16, 16)).toBeGreaterThanOrEqual(brenner(greyOf(p.y2, 16, 16), 16, 16));
    }
    expect(() => sectionFromImage('dots', hwc.subarray(3), w, h, 6)).toThrow(/dots: .*48×40 RGB/);
    expect(() => simulateFromImage({ name: 'tiny', hwc: new Float32Array(8 * 8 * 3), width: 8, height: 8, patchPx: 16, seed: 1 })).toThrow(/tiny: .*no 16-px patch/);
  });

  it('atPatchSize: the same tissue per tile at another patch side; keepPatches keeps the set\'s number of patches', () => {
    expect(atPatchSize(TRAIN_RECIPE, TRAIN_RECIPE.patchPx)).toBe(TRAIN_RECIPE);
    const p192 = atPatchSize(TRAIN_RECIPE, 192);
    expect([p192.patchPx, p192.patchesPerSide, p192.tiles, p192.seed]).toEqual([192, 1, TRAIN_RECIPE.tiles, TRAIN_RECIPE.seed]);
    expect(atPatchSize(TRAIN_RECIPE, 96).patchesPerSide).toBe(2);
    expect(atPatchSize(TRAIN_RECIPE, 512).patchesPerSide).toBe(1); // never fewer than one patch a tile
    for (const name of ['d1-gauss', 'd2-sweep-indep']) {
      const r = TEST_RECIPES[name];
      const k = atPatchSize(r, 192, { keepPatches: true });
      expect(k.tiles * k.patchesPerSide ** 2, name).toBe(r.tiles * r.patchesPerSide ** 2);
      expect([k.family, k.noise, k.deltaD], name).toEqual([r.family, r.noise, r.deltaD]);
    }
  });

  it('sizes the training set: --tiles (default the demo recipe\'s 40), ≈ 15 % validation tiles, bad values refused', () => {
    expect(tsvaTrainOptions.parse({ out: 'x' }).tiles).toBe(TRAIN_RECIPE.tiles);
    expect(tsvaTrainOptions.parse({ out: 'x', tiles: '160' }).tiles).toBe(160);
    expect(valTilesOf(TRAIN_RECIPE.tiles)).toBe(VAL_TILES);
    expect([valTilesOf(160), valTilesOf(2), valTilesOf(3)]).toEqual([24, 1, 1]);
    for (const tiles of ['0', '1.5', 'many']) {
      const r = tsvaTrainOptions.safeParse({ out: 'x', tiles });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0].path).toEqual(['tiles']);
    }
  });

  it('rotates HWC patches by quarter turns (four turns = identity)', () => {
    const a = randomHwc(4 * 4 * 3, 2);
    let r = a;
    for (let k = 0; k < 4; k++) r = rot90Hwc(r, 4, 3, 1);
    expect(Array.from(r)).toEqual(Array.from(a));
    expect(Array.from(rot90Hwc(a, 4, 3, 2))).not.toEqual(Array.from(a));
  });
});

describe('tsva consistency guard', () => {
  // a sharp RGB scene of dark dots on white, and a Gaussian-blurred copy of it (σ = 2 px)
  const n = 48;
  const sharp = new Float32Array(n * n * 3).fill(0.9);
  for (let y = 4; y < n; y += 8) for (let x = 4; x < n; x += 8) for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) for (let c = 0; c < 3; c++) sharp[((y + dy) * n + x + dx) * 3 + c] = 0.2;
  const blurred = new Float32Array(sharp.length);
  for (let c = 0; c < 3; c++) {
    const plane = Float32Array.from({ length: n * n }, (_, i) => sharp[i * 3 + c]);
    const b = gaussianBlur2d(plane, n, n, 2, 2);
    for (let i = 0; i < n * n; i++) blurred[i * 3 + c] = b[i] + 0.002 * Math.sin(i * 12.9898);
  }
  it('keeps an output that, re-blurred, explains Y1', () => {
    expect(guardOutput(blurred, sharp, n, n).weight).toBe(1);
  });
  it('returns Y1 when Y1 is already as sharp as the output, and when the output does not explain it (a colour cast)', () => {
    const g = guardOutput(sharp, sharp.map((v, i) => v + (i % 37 === 0 ? 0.003 : 0)), n, n);
    expect(g.weight).toBe(0);
    expect(Array.from(g.hwc)).toEqual(Array.from(sharp));
    const cast = guardOutput(blurred, sharp.map((v, i) => (i % 3 === 0 ? v - 0.3 : v)), n, n);
    expect(cast.weight).toBe(0);
  });
  it("tsva.slide with guard 'consistency' reports each tile's weight", async () => {
    const shots = createStack({ width: 32, height: 32, dtype: 'uint8', sizeC: 3, rgb: true, sizeZ: 2, planes: [0, 1].flatMap((z) => [0, 1, 2].map((c) => Uint8Array.from(randomHwc(32 * 32, 3 * z + c + 1), (v) => Math.round(200 + 40 * v)))) });
    const positions = { kind: 'table' as const, columns: ['xPx', 'yPx'], rows: [{ xPx: 0, yPx: 0 }] };
    const r = (await runOp(op('tsva.slide'), { shots, positions }, { guard: 'consistency' })) as { tiles: import('../../core/index.js').Table };
    expect(r.tiles.columns).toContain('guardWeight');
    const w = r.tiles.rows[0].guardWeight as number;
    expect(w >= 0 && w <= 1).toBe(true);
  }, 60_000);
});

describe('tsva ops: white level', () => {
  it('reads shots on [0, 1] of whiteLevel (a 12-bit camera in uint16 = the same shots in uint8), and warns when they are dim on their scale', async () => {
    const u8 = (seed: number) => createStack({ width: 32, height: 32, dtype: 'uint8', sizeC: 3, rgb: true, planes: [0, 1, 2].map((c) => Uint8Array.from(randomHwc(32 * 32, seed + c), (v) => Math.round(150 + 100 * v))) });
    const u16 = (s8: Stack) => createStack({ width: 32, height: 32, dtype: 'uint16', sizeC: 3, planes: s8.planes.map((p) => Uint16Array.from(p as Uint8Array, (v) => 16 * v)) });
    const [a, b] = [u8(1), u8(7)];
    const c8 = testContext();
    const r8 = (await runOp(op('tsva.refocus'), { y1: a, y2: b }, { outputType: 'float32' }, c8)) as { image: Stack };
    expect(c8.logs.filter((l) => l.level === 'warn')).toEqual([]);
    const c16 = testContext();
    const r16 = (await runOp(op('tsva.refocus'), { y1: u16(a), y2: u16(b) }, { outputType: 'float32', whiteLevel: 16 * 255 }, c16)) as { image: Stack };
    expect(c16.logs.filter((l) => l.level === 'warn')).toEqual([]);
    for (let c = 0; c < 3; c++) (r16.image.planes[c] as Float32Array).forEach((v, i) => expect(v).toBeCloseTo((r8.image.planes[c] as Float32Array)[i], 5));
    // the same uint16 shots read on the full uint16 scale are dim: a warning names the shot, the level and the param
    const dim = testContext();
    await runOp(op('tsva.refocus'), { y1: u16(a), y2: u16(b) }, {}, dim);
    expect(dim.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/^y1: .*reach 6\.\d % of the white level 65535.*whiteLevel/), expect.stringMatching(/^y2: /)]);
    const slideDim = testContext();
    const shots = createStack({ width: 32, height: 32, dtype: 'uint16', sizeC: 3, sizeZ: 2, planes: [...u16(a).planes, ...u16(b).planes] });
    await runOp(op('tsva.slide'), { shots, positions: { kind: 'table', columns: ['xPx', 'yPx'], rows: [{ xPx: 0, yPx: 0 }] } }, {}, slideDim);
    expect(slideDim.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/^shots \(tile 0, F − s\).*65535.*\(2 of the 2 shots are as dim\)/)]);
    expect(() => op('tsva.refocus').params.parse({ whiteLevel: 0 })).toThrow();
  }, 60_000);
});

describe('tsva ops: pixel size', () => {
  const shot = (seed: number, pixelWidthUm?: number) => createStack({ width: 32, height: 32, dtype: 'uint8', sizeC: 3, rgb: true, planes: [0, 1, 2].map((c) => Uint8Array.from(randomHwc(32 * 32, seed + c), (v) => Math.round(150 + 100 * v))), ...(pixelWidthUm !== undefined ? { calibration: { pixelWidthUm, pixelHeightUm: pixelWidthUm } } : {}) });
  const logs = async (a: Stack, b: Stack, params: Record<string, unknown> = {}) => {
    const c = testContext();
    const out = (await runOp(op('tsva.refocus'), { y1: a, y2: b }, params, c)) as { image: Stack };
    return { out: out.image, info: c.logs.filter((l) => l.level === 'info' && /pixels/.test(l.message)).map((l) => l.message), warn: c.logs.filter((l) => l.level === 'warn').map((l) => l.message) };
  };

  it("refocuses shots of another calibrated pixel size on the model's grid (resample 'auto', the default), saying so; the result keeps their size and calibration", async () => {
    expect((await logs(shot(1), shot(7))).info).toEqual([]);
    expect((await logs(shot(1, 0.33), shot(7, 0.3))).info).toEqual([]); // within 10 %
    const r = await logs(shot(1, 0.65), shot(7, 0.65));
    expect(r.warn).toEqual([]);
    expect(r.info).toEqual([expect.stringMatching(/^y1: 0\.65 µm pixels.*tsva-demo was trained on 0\.325 µm pixels.*its grid \(×2\.000\).*resampled back/)]);
    expect([r.out.width, r.out.height]).toEqual([32, 32]);
    expect(r.out.calibration.pixelWidthUm).toBe(0.65);
    // the same shots with no calibration are fed as they are: another result
    const plain = await logs(shot(1), shot(7));
    expect(Array.from(r.out.planes[0])).not.toEqual(Array.from(plain.out.planes[0]));
  }, 60_000);

  it("resample 'off' feeds them as they are and warns, naming the shot and both sizes; the slide says it once", async () => {
    const r = await logs(shot(1, 0.65), shot(7, 0.65), { resample: 'off' });
    expect(r.warn).toEqual([expect.stringMatching(/^y1: 0\.65 µm pixels.*tsva-demo was trained on 0\.325 µm pixels.*0\.50×.*resample/)]);
    expect(Array.from(r.out.planes[0])).toEqual(Array.from((await logs(shot(1), shot(7))).out.planes[0]));
    // a calibration more than 4× off (a unit lost?) is not resampled: fed as given, with a warning naming it
    const far = await logs(shot(1, 5), shot(7, 5));
    expect(far.warn).toEqual([expect.stringMatching(/^y1: 5 µm pixels.*more than 4× from the 0\.325 µm.*not resampled.*calibration/)]);
    expect(Array.from(far.out.planes[0])).toEqual(Array.from((await logs(shot(1), shot(7))).out.planes[0]));
    for (const resample of ['auto', 'off'] as const) {
      const c = testContext();
      const planes = [...shot(1, 0.5).planes, ...shot(7).planes];
      await runOp(op('tsva.slide'), { shots: createStack({ width: 32, height: 32, dtype: 'uint8', sizeC: 3, rgb: true, sizeZ: 2, planes, calibration: { pixelWidthUm: 0.5 } }), positions: { kind: 'table', columns: ['xPx', 'yPx'], rows: [{ xPx: 0, yPx: 0 }] } }, { resample }, c);
      expect(c.logs.filter((l) => l.level === (resample === 'off' ? 'warn' : 'info') && /pixels/.test(l.message)).map((l) => l.message)).toEqual([expect.stringMatching(/^shots: 0\.5 µm pixels.*0\.325 µm/)]);
    }
  }, 60_000);

  it("on shots simulated at 0.5 µm pixels, refocusing on the model's grid comes nearer the in-focus plane than feeding them as they are; at the model's own grid the scale changes nothing", async () => {
    const patches = simulateDataset({ family: 'he-skin', tiles: 1, patchPx: 64, patchesPerSide: 1, seed: 31, optics: { ...DEFAULT_OPTICS, pixelSizeUm: 0.5 }, deltaD: [-2, 2], noise: 'independent', focus: 'brenner' });
    const { pkg, meta } = await loadTsvaPackage(join(bundledModelsDir(), 'tsva-demo'));
    const engine = await createInferenceEngine(pkg, { engine: 'onnxruntime' });
    try {
      const o = { tilePx: pkg.manifest.tilePx, haloPx: pkg.manifest.haloPx, multipleOf: pkg.manifest.multipleOf ?? 1, arch: meta.arch, order: 'as-given' as const };
      const gain: number[] = [];
      for (const p of patches) {
        const s = (hwc: Float32Array) => ({ hwc, width: 64, height: 64 });
        const asGiven = await refocusPair(s(p.y1), s(p.y2), engine, o);
        const one = await refocusPair(s(p.y1), s(p.y2), engine, { ...o, scale: 1 });
        expect(Array.from(one.hwc)).toEqual(Array.from(asGiven.hwc));
        const resampled = await refocusPair(s(p.y1), s(p.y2), engine, { ...o, scale: 0.5 / 0.325 });
        expect(resampled.hwc.length).toBe(64 * 64 * 3);
        gain.push(psnr(resampled.hwc, p.x, { dataRange: 1 }) - psnr(asGiven.hwc, p.x, { dataRange: 1 }));
      }
      expect(gain.length).toBe(2);
      for (const g of gain) expect(g).toBeGreaterThan(0.5);
    } finally {
      await engine.dispose();
    }
  }, 60_000);
});

describe('tsva ops: bad input', () => {
  it('shots of different sizes: E_PORT naming y2', async () => {
    await expect(runOp(op('tsva.refocus'), { y1: rgb(32, 32), y2: rgb(32, 24) })).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/y2.*different sizes.*32×32.*32×24/) });
  });
  it('one shot missing: E_PORT naming it', async () => {
    await expect(runOp(op('tsva.refocus'), { y1: rgb(32, 32) })).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/y2.*missing/) });
  });
  it('shotOffsetUm other than the model\'s: E_PARAMS naming it and both offsets (the baseline takes any s; the model\'s own s runs)', async () => {
    await expect(runOp(op('tsva.refocus'), { y1: rgb(32, 32), y2: rgb(32, 32) }, { shotOffsetUm: 1 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'shotOffsetUm' }, message: expect.stringMatching(/F ± 1 µm.*tsva-demo.*F ± 0\.5 µm/) });
    const shots = createStack({ width: 32, height: 32, dtype: 'uint8', sizeC: 3, rgb: true, sizeZ: 2, planes: [0, 1, 2, 3, 4, 5].map(() => new Uint8Array(32 * 32).fill(200)) });
    await expect(runOp(op('tsva.slide'), { shots, positions: { kind: 'table', columns: ['xPx', 'yPx'], rows: [{ xPx: 0, yPx: 0 }] } }, { shotOffsetUm: 1.5 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'shotOffsetUm' } });
    const same = (await runOp(op('tsva.refocus'), { y1: rgb(32, 32), y2: rgb(32, 32) }, { shotOffsetUm: 0.5 })) as { image: Stack };
    expect(same.image.width).toBe(32);
    // without the param the log says which offset the model expects
    const told = testContext();
    await runOp(op('tsva.refocus'), { y1: rgb(32, 32), y2: rgb(32, 32) }, {}, told);
    expect(told.logs.filter((l) => l.level === 'info').map((l) => l.message)).toContainEqual(expect.stringMatching(/tsva-demo was trained on shots at F ± 0\.5 µm/));
    const baseline = (await runOp(op('tsva.refocus'), { y1: rgb(32, 32), y2: rgb(32, 32) }, { model: 'tsva-unet-baseline-demo', shotOffsetUm: 1 })) as { image: Stack };
    expect(baseline.image.width).toBe(32);
  }, 60_000);
  it('slide: an odd number of planes or positions that do not match', async () => {
    const three = createStack({ width: 8, height: 8, dtype: 'uint8', sizeC: 1, sizeZ: 3, planes: [0, 1, 2].map(() => new Uint8Array(64)) });
    await expect(runOp(op('tsva.slide'), { shots: three, positions: { kind: 'table', columns: ['xPx', 'yPx'], rows: [] } })).rejects.toMatchObject({ code: 'E_PORT', message: expect.stringMatching(/shots.*3 z planes/) });
  });
});
