import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { modelArrays } from '../../core/ml.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainingPair } from './data.js';
import { adversarialActive, learningRatesAt, ssimTermActive, trainDeepR, validationsAfter, type PairSampler, type TrainProgress } from './train.js';
import { DEFAULT_LOSS_WEIGHTS } from './losses.js';
import { buildGenerator } from './model.js';
import { getTf } from './tf.js';

/** A fixed pool of 64² pairs: blobs (target) and the same blobs box-blurred (input). */
function pool(n: number): TrainingPair[] {
  const s = 64;
  const out: TrainingPair[] = [];
  for (let k = 0; k < n; k++) {
    const t = new Float32Array(s * s);
    for (let b = 0; b < 12; b++) {
      const cx = (k * 17 + b * 23) % s;
      const cy = (k * 29 + b * 13) % s;
      for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) t[y * s + x] += Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 6);
    }
    const i = new Float32Array(s * s);
    const r = 3;
    for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
      let acc = 0;
      let c = 0;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < s && yy < s) { acc += t[yy * s + xx]; c++; }
      }
      i[y * s + x] = acc / c;
    }
    out.push({ input: i, target: t, sizePx: s, defocusUm: 2 });
  }
  return out;
}

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('trainDeepR (tiny: baseChannels 4, 64² patches, batch 2)', () => {
  const pairs = pool(4);
  const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
  const common = { sample, validation: pairs.slice(0, 2), baseChannels: 4, patchPx: 64, batchSize: 2, generatorUpdates: 2, discriminatorUpdates: 1, generatorLearningRate: 2e-3, validateEvery: 3, seed: 5 };

  it('the generator loss falls; loss.csv, loss.png, checkpoint and best generator are written; progress carries it/s and the ETA', async () => {
    const { tf } = await getTf();
    const out = await mkdtemp(join(tmpdir(), 'deepr-train-'));
    dirs.push(out);
    // a scripted clock (read before and after each iteration's updates): the updates take 100 ms,
    // the time between iterations 1000 ms (on iterations 3 and 6 that is the validation)
    let clock = 0;
    let reads = 0;
    const now = () => (clock += reads++ % 2 === 0 ? 1000 : 100);
    const progress: TrainProgress[] = [];
    const seen: number[] = [];
    const r = await trainDeepR(tf, { ...common, outDir: out, iterations: 6, now, onIteration: (row, p) => { seen.push(row.iteration); progress.push(p); } });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.map((p) => [p.iteration, p.iterations])).toEqual([[1, 6], [2, 6], [3, 6], [4, 6], [5, 6], [6, 6]]);
    // the rate counts the updates only: 1 iteration per 100 ms, validation left out
    for (const p of progress) expect(p.iterationsPerSecond).toBeCloseTo(10, 9);
    // ETA: iterations left × 100 ms, plus the validations left (at 6) × their measured 1000 ms once one was timed (after iteration 3)
    const eta = progress.map((p) => p.etaMs!);
    [500, 400, 300, 1200, 1100, 0].forEach((ms, i) => expect(eta[i]).toBeCloseTo(ms, 6));
    expect(validationsAfter(0, 100_000, 50)).toBe(2000);
    expect(validationsAfter(3, 7, 3)).toBe(2); // at 6 and the last, 7
    const g = r.rows.map((row) => row.generator);
    const first = (g[0] + g[1]) / 2;
    const last = (g[4] + g[5]) / 2;
    expect(last).toBeLessThan(0.9 * first);
    expect(r.rows[2].validationBerhu).toBeGreaterThan(0);
    expect(r.bestIteration === 3 || r.bestIteration === 6).toBe(true);
    const csv = (await readFile(join(out, 'loss.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('iteration,generator,adversarial,msSsim,berhu,discriminator,validationBerhu,validationMsSsim,seconds,ssim,validationSsim');
    expect(csv).toHaveLength(7);
    const png = await readFile(join(out, 'loss.png'));
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const state = JSON.parse(await readFile(join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.iteration).toBe(6);
    r.generator.dispose();
  });

  it('resumes from the checkpoint at the same iteration and continues exactly as an uninterrupted run', async () => {
    const { tf } = await getTf();
    const a = await mkdtemp(join(tmpdir(), 'deepr-resume-a-'));
    const b = await mkdtemp(join(tmpdir(), 'deepr-resume-b-'));
    dirs.push(a, b);
    const opts = { ...common, generatorUpdates: 1, validateEvery: 1 };
    const straight = await trainDeepR(tf, { ...opts, outDir: a, iterations: 3 });
    const half = await trainDeepR(tf, { ...opts, outDir: b, iterations: 2 });
    half.generator.dispose();
    const resumed = await trainDeepR(tf, { ...opts, outDir: b, iterations: 3, resume: true });
    expect(resumed.rows.map((r) => r.iteration)).toEqual([1, 2, 3]);
    // iteration 3 of the resumed run: same batches (RNG state), same weights and Adam moments
    expect(resumed.rows[2].generator).toBeCloseTo(straight.rows[2].generator, 5);
    expect(resumed.rows[2].discriminator).toBeCloseTo(straight.rows[2].discriminator!, 6);
    expect(resumed.rows[2].validationBerhu).toBeCloseTo(straight.rows[2].validationBerhu!, 5);
    const csv = (await readFile(join(b, 'loss.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(4);
    straight.generator.dispose();
    resumed.generator.dispose();
  });

  it('a step decay added when resuming at the checkpoint equals the same decay in an uninterrupted run; one that rewrites trained iterations is refused', async () => {
    const { tf } = await getTf();
    const a = await mkdtemp(join(tmpdir(), 'deepr-decay-a-'));
    const b = await mkdtemp(join(tmpdir(), 'deepr-decay-b-'));
    const c = await mkdtemp(join(tmpdir(), 'deepr-decay-c-'));
    dirs.push(a, b, c);
    const opts = { ...common, generatorUpdates: 1, validateEvery: 1 };
    const decayed = await trainDeepR(tf, { ...opts, outDir: a, iterations: 3, learningRateDecayAt: 2, learningRateDecayFactor: 0.01 });
    const constant = await trainDeepR(tf, { ...opts, outDir: c, iterations: 3 });
    const half = await trainDeepR(tf, { ...opts, outDir: b, iterations: 2 });
    half.generator.dispose();
    await expect(trainDeepR(tf, { ...opts, outDir: b, iterations: 3, resume: true, learningRateDecayAt: 1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayAt' } });
    const resumed = await trainDeepR(tf, { ...opts, outDir: b, iterations: 3, resume: true, learningRateDecayAt: 2, learningRateDecayFactor: 0.01 });
    // validation after iteration 3 sees the decayed update: equal to the uninterrupted decayed run, not to the constant one
    expect(resumed.rows[2].validationBerhu).toBeCloseTo(decayed.rows[2].validationBerhu!, 5);
    expect(Math.abs(constant.rows[2].validationBerhu! - decayed.rows[2].validationBerhu!)).toBeGreaterThan(1e-4);
    for (const r of [decayed, constant, resumed]) r.generator.dispose();
  });
});

describe('adversarialOffAt (pixel-loss fine-tuning)', () => {
  const pairs = pool(4);
  const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
  const opts = { sample, validation: pairs.slice(0, 2), baseChannels: 4, patchPx: 64, batchSize: 2, generatorUpdates: 1, discriminatorUpdates: 1, validateEvery: 1, seed: 5 };

  it('drops the adversarial term and the discriminator after the given iteration; refuses to change trained iterations on resume', async () => {
    const { tf } = await getTf();
    const a = await mkdtemp(join(tmpdir(), 'deepr-advoff-a-'));
    dirs.push(a);
    const first = await trainDeepR(tf, { ...opts, outDir: a, iterations: 2 });
    first.generator.dispose();
    const dBefore = await readFile(join(a, 'checkpoint', 'discriminator.bin'));
    await expect(trainDeepR(tf, { ...opts, outDir: a, iterations: 3, resume: true, adversarialOffAt: 1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'adversarialOffAt' } });
    const r = await trainDeepR(tf, { ...opts, outDir: a, iterations: 3, resume: true, adversarialOffAt: 2 });
    expect(r.rows[1].adversarial).toBeGreaterThan(0);
    expect(r.rows[1].discriminator).toBeGreaterThan(0);
    expect(r.rows[2].adversarial).toBeUndefined();
    expect(r.rows[2].discriminator).toBeUndefined();
    expect(r.rows[2].validationBerhu).toBeGreaterThan(0);
    // the discriminator is not trained in the pixel-loss phase
    expect((await readFile(join(a, 'checkpoint', 'discriminator.bin'))).equals(dBefore)).toBe(true);
    const csv = (await readFile(join(a, 'loss.csv'), 'utf8')).trim().split('\n');
    expect(csv[3].split(',')[2]).toBe('');
    r.generator.dispose();
  });

  it('adversarialActive follows the weight and the switch-off iteration', () => {
    const w = { adversarial: 0.4, msSsim: 1, berhu: 0.5 };
    expect(adversarialActive({ lossWeights: w }, 10_000)).toBe(true);
    expect(adversarialActive({ lossWeights: w, adversarialOffAt: 560 }, 560)).toBe(true);
    expect(adversarialActive({ lossWeights: w, adversarialOffAt: 560 }, 561)).toBe(false);
    expect(adversarialActive({ lossWeights: { ...w, adversarial: 0 } }, 1)).toBe(false);
  });
});

describe('learningRatesAt', () => {
  it('is constant without a decay and multiplies both rates after the decay iteration', () => {
    const c = { generatorLearningRate: 5e-4, discriminatorLearningRate: 1e-6 };
    expect(learningRatesAt(c, 1000)).toEqual({ generator: 5e-4, discriminator: 1e-6 });
    const d = { ...c, learningRateDecayAt: 420, learningRateDecayFactor: 0.2 };
    expect(learningRatesAt(d, 420)).toEqual({ generator: 5e-4, discriminator: 1e-6 });
    expect(learningRatesAt(d, 421).generator).toBeCloseTo(1e-4, 12);
    expect(learningRatesAt(d, 421).discriminator).toBeCloseTo(2e-7, 14);
  });

  it('applies several steps in turn, with one factor for all or one per step; a single number reads as one step', () => {
    const c = { generatorLearningRate: 5e-4, discriminatorLearningRate: 1e-6 };
    const two = { ...c, learningRateDecayAt: [640, 1100], learningRateDecayFactor: 0.5 };
    expect(learningRatesAt(two, 640).generator).toBe(5e-4);
    expect(learningRatesAt(two, 641).generator).toBeCloseTo(2.5e-4, 12);
    expect(learningRatesAt(two, 1100).generator).toBeCloseTo(2.5e-4, 12);
    expect(learningRatesAt(two, 1101).generator).toBeCloseTo(1.25e-4, 12);
    const perStep = { ...c, learningRateDecayAt: [640, 1100], learningRateDecayFactor: [0.5, 0.2] };
    expect(learningRatesAt(perStep, 1101).generator).toBeCloseTo(5e-5, 12);
    expect(learningRatesAt(perStep, 1101).discriminator).toBeCloseTo(1e-7, 15);
    expect(learningRatesAt({ ...c, learningRateDecayAt: 640, learningRateDecayFactor: 0.5 }, 2000)).toEqual(learningRatesAt({ ...c, learningRateDecayAt: [640], learningRateDecayFactor: [0.5] }, 2000));
    expect(learningRatesAt({ ...c, learningRateDecayAt: 0 }, 2000)).toEqual({ generator: 5e-4, discriminator: 1e-6 });
  });

  it('refuses steps out of order, mismatched factor lists and factors outside (0, 1], naming the field', async () => {
    const { tf } = await getTf();
    const pairs = pool(2);
    const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
    const base = { sample, validation: pairs, outDir: join(tmpdir(), 'deepr-never-written'), iterations: 1, baseChannels: 2, patchPx: 64 };
    await expect(trainDeepR(tf, { ...base, learningRateDecayAt: [1100, 640] })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayAt' } });
    await expect(trainDeepR(tf, { ...base, learningRateDecayAt: [0, 640] })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayAt' } });
    await expect(trainDeepR(tf, { ...base, learningRateDecayAt: [640, 1100], learningRateDecayFactor: [0.5] })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayFactor' } });
    await expect(trainDeepR(tf, { ...base, learningRateDecayAt: [640], learningRateDecayFactor: [1.5] })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayFactor' } });
  });

  it('a second step may be added when resuming at it; changing the first, already trained, is refused without leaking tensors', async () => {
    const { tf } = await getTf();
    const pairs = pool(2);
    const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
    const out = await mkdtemp(join(tmpdir(), 'deepr-decay2-'));
    dirs.push(out);
    const opts = { sample, validation: pairs, outDir: out, baseChannels: 2, patchPx: 64, batchSize: 1, generatorUpdates: 1, discriminatorUpdates: 1, validateEvery: 1 };
    (await trainDeepR(tf, { ...opts, iterations: 2, learningRateDecayAt: 1, learningRateDecayFactor: 0.5 })).generator.dispose();
    const tensorsBefore = tf.memory().numTensors;
    await expect(trainDeepR(tf, { ...opts, iterations: 3, resume: true, learningRateDecayAt: [1, 2], learningRateDecayFactor: [0.4, 0.5] })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayAt' } });
    // the refusal comes before any network is built: no tensor is left behind
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const r = await trainDeepR(tf, { ...opts, iterations: 3, resume: true, learningRateDecayAt: [1, 2], learningRateDecayFactor: 0.5 });
    expect(r.iteration).toBe(3);
    expect(r.config.learningRateDecayAt).toEqual([1, 2]);
    expect(r.config.learningRateDecayFactor).toEqual([0.5, 0.5]);
    r.generator.dispose();
  });
});

describe('the added SSIM term (ssimTermAfter, lossWeights.ssim)', () => {
  it('is logged after the given iteration only; resuming may add it at the checkpoint, not before', async () => {
    const { tf } = await getTf();
    const pairs = pool(2);
    const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
    const out = await mkdtemp(join(tmpdir(), 'deepr-ssim-'));
    dirs.push(out);
    const opts = { sample, validation: pairs, outDir: out, baseChannels: 2, patchPx: 64, batchSize: 1, generatorUpdates: 1, discriminatorUpdates: 1, validateEvery: 1, adversarialOffAt: 1 };
    (await trainDeepR(tf, { ...opts, iterations: 2 })).generator.dispose();
    const withSsim = { ...opts, lossWeights: { adversarial: 0.4, msSsim: 1, berhu: 0.5, ssim: 1 } };
    const tensorsBefore = tf.memory().numTensors;
    await expect(trainDeepR(tf, { ...withSsim, iterations: 3, resume: true, ssimTermAfter: 1 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'ssimTermAfter' } });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const r = await trainDeepR(tf, { ...withSsim, iterations: 3, resume: true, ssimTermAfter: 2 });
    expect(r.rows[1].ssim).toBeUndefined();
    expect(r.rows[2].ssim).toBeGreaterThan(0);
    expect(r.rows[2].ssim).toBeLessThan(1);
    const csv = (await readFile(join(out, 'loss.csv'), 'utf8')).trim().split('\n');
    const col = csv[0].split(',').indexOf('ssim');
    expect(col).toBeGreaterThan(0);
    expect(csv[2].split(',')[col]).toBe('');
    expect(Number(csv[3].split(',')[col])).toBeCloseTo(r.rows[2].ssim!, 6);
    // the same flags again are accepted (nothing trained changes)
    (await trainDeepR(tf, { ...withSsim, iterations: 3, resume: true, ssimTermAfter: 2 })).generator.dispose();
    r.generator.dispose();
    await expect(trainDeepR(tf, { ...opts, iterations: 1, lossWeights: { adversarial: 0.4, msSsim: 1, berhu: 0.5, ssim: -1 } })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'ssimWeight' } });
  });

  it('ssimTermActive follows the weight and the start iteration', () => {
    const w = { adversarial: 0.4, msSsim: 1, berhu: 0.5 };
    expect(ssimTermActive({ lossWeights: w }, 5)).toBe(false);
    expect(ssimTermActive({ lossWeights: { ...w, ssim: 1 } }, 1)).toBe(true);
    expect(ssimTermActive({ lossWeights: { ...w, ssim: 1 }, ssimTermAfter: 1300 }, 1300)).toBe(false);
    expect(ssimTermActive({ lossWeights: { ...w, ssim: 1 }, ssimTermAfter: 1300 }, 1301)).toBe(true);
  });
});

describe('bestBy (the validation score that picks the best generator)', () => {
  it("'ssim' keeps the generator with the highest validation SSIM; switching on resume starts from the checkpoint", async () => {
    const { tf } = await getTf();
    const pairs = pool(2);
    const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
    const out = await mkdtemp(join(tmpdir(), 'deepr-bestby-'));
    dirs.push(out);
    const opts = { sample, validation: pairs, outDir: out, baseChannels: 2, patchPx: 64, batchSize: 1, generatorUpdates: 1, discriminatorUpdates: 1, validateEvery: 1 };
    const first = await trainDeepR(tf, { ...opts, iterations: 3 });
    first.generator.dispose();
    for (const r of first.rows) expect(r.validationSsim).toBeGreaterThan(-1);
    const byBerhu = first.rows.reduce((b, r) => (r.validationBerhu! < b.validationBerhu! ? r : b));
    expect(first.bestIteration).toBe(byBerhu.iteration);
    expect(first.bestValidationSsim).toBeCloseTo(byBerhu.validationSsim!, 6);
    const r = await trainDeepR(tf, { ...opts, iterations: 5, resume: true, bestBy: 'ssim' });
    // candidates: the checkpoint (iteration 3, scored again on resume) and iterations 4 and 5
    const candidates = [{ iteration: 3, ssim: first.rows[2].validationSsim! }, ...r.rows.slice(3).map((x) => ({ iteration: x.iteration, ssim: x.validationSsim! }))];
    const want = candidates.reduce((b, c) => (c.ssim > b.ssim ? c : b));
    expect(r.bestIteration).toBe(want.iteration);
    expect(r.bestValidationSsim).toBeCloseTo(want.ssim, 5);
    const state = JSON.parse(await readFile(join(out, 'checkpoint', 'state.json'), 'utf8'));
    expect(state.config.bestBy).toBe('ssim');
    expect(state.bestIteration).toBe(want.iteration);
    r.generator.dispose();
    await expect(trainDeepR(tf, { ...opts, iterations: 1, bestBy: 'psnr' as 'ssim' })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'bestBy' } });
  });
});

describe('averageAfter (weight averaging)', () => {
  it('validates the running mean of the snapshots, checkpoints it, resumes it exactly and refuses to change it for trained iterations', async () => {
    const { tf } = await getTf();
    const { loadArrays } = await import('../../core/ml.js');
    const pairs = pool(2);
    const sample: PairSampler = (rng) => pairs[rng.int(pairs.length)];
    const [plain, averaged, resumed] = await Promise.all([0, 1, 2].map((k) => mkdtemp(join(tmpdir(), `deepr-avg-${k}-`))));
    dirs.push(plain, averaged, resumed);
    const opts = { sample, validation: pairs, baseChannels: 2, patchPx: 64, batchSize: 1, generatorUpdates: 1, discriminatorUpdates: 1, validateEvery: 1, adversarialOffAt: 1, seed: 3 };
    const p2 = await trainDeepR(tf, { ...opts, outDir: plain, iterations: 2 });
    p2.generator.dispose();
    const w2 = await loadArrays(join(plain, 'checkpoint', 'generator'));
    const a = await trainDeepR(tf, { ...opts, outDir: averaged, iterations: 3, averageAfter: 1 });
    a.generator.dispose();
    const w3 = await loadArrays(join(averaged, 'checkpoint', 'generator'));
    const mean = await loadArrays(join(averaged, 'checkpoint', 'generator-average'));
    // snapshots at iterations 2 and 3: the checkpoint keeps the raw weights and their mean
    let maxErr = 0;
    let maxDiff = 0;
    mean.forEach((m, i) => m.data.forEach((v, j) => {
      maxErr = Math.max(maxErr, Math.abs(v - (w2[i].data[j] + w3[i].data[j]) / 2));
      maxDiff = Math.max(maxDiff, Math.abs(w3[i].data[j] - w2[i].data[j]));
    }));
    expect(maxDiff).toBeGreaterThan(1e-4);
    expect(maxErr).toBeLessThan(1e-6);
    // the first snapshot's mean is the raw generator: same validation as the plain run
    expect(a.rows[1].validationBerhu).toBeCloseTo(p2.rows[1].validationBerhu!, 6);
    expect(JSON.parse(await readFile(join(averaged, 'checkpoint', 'state.json'), 'utf8')).averageCount).toBe(2);
    // stopped at 2 and resumed to 3 gives the same mean
    (await trainDeepR(tf, { ...opts, outDir: resumed, iterations: 2, averageAfter: 1 })).generator.dispose();
    await expect(trainDeepR(tf, { ...opts, outDir: resumed, iterations: 3, resume: true, averageAfter: 0 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'averageAfter' } });
    const r = await trainDeepR(tf, { ...opts, outDir: resumed, iterations: 3, resume: true, averageAfter: 1 });
    r.generator.dispose();
    expect(r.rows[2].validationBerhu).toBeCloseTo(a.rows[2].validationBerhu!, 5);
    const again = await loadArrays(join(resumed, 'checkpoint', 'generator-average'));
    let resumedErr = 0;
    again.forEach((m, i) => m.data.forEach((v, j) => (resumedErr = Math.max(resumedErr, Math.abs(v - mean[i].data[j])))));
    expect(resumedErr).toBeLessThan(1e-6);
  });

  it('starts from given generator weights (fine-tuning): matched by name, validated first as iteration 0, refused when they do not fit or a resume names another source', async () => {
    const { tf } = await getTf();
    const out = await mkdtemp(join(tmpdir(), 'deepr-init-'));
    const other = await mkdtemp(join(tmpdir(), 'deepr-init-b-'));
    dirs.push(out, other);
    const source = buildGenerator(tf, { baseChannels: 4, seed: 99 });
    const init = modelArrays(source).map((a) => ({ name: `${a.name}_7`, shape: a.shape, data: Float32Array.from(a.data) })).reverse();
    source.dispose();
    // a learning rate of 1e-9 leaves the weights where they started (Adam steps ≈ lr)
    const pairs = pool(4);
    const common = { sample: ((rng) => pairs[rng.int(pairs.length)]) as PairSampler, validation: pairs.slice(0, 2), baseChannels: 4, patchPx: 64, batchSize: 2, discriminatorUpdates: 1, seed: 5 };
    const opts = { ...common, generatorUpdates: 1, validateEvery: 1, adversarialOffAt: 0, lossWeights: { ...DEFAULT_LOSS_WEIGHTS, adversarial: 0 }, generatorLearningRate: 1e-9 };
    const r = await trainDeepR(tf, { ...opts, outDir: out, iterations: 1, initialGenerator: { weights: init, source: 'tiny 1.0' } });
    const trained = modelArrays(r.generator);
    r.generator.dispose();
    const byName = new Map(init.map((a) => [a.name.replace(/(_\d+)+$/, ''), a]));
    let maxDiff = 0;
    for (const w of trained) {
      const a = byName.get(w.name.replace(/(_\d+)+$/, ''))!;
      w.data.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - a.data[j]))));
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // a randomly initialised run (the run's own seed) starts elsewhere
    const fresh = await trainDeepR(tf, { ...opts, outDir: other, iterations: 1 });
    expect(Math.abs(fresh.rows[0].validationBerhu! - r.rows[0].validationBerhu!)).toBeGreaterThan(1e-3);
    fresh.generator.dispose();
    // the starting weights were scored before iteration 1 (bestIteration 0 when nothing beat them)
    expect(Number.isFinite(r.bestValidationBerhu)).toBe(true);
    expect([0, 1]).toContain(r.bestIteration);
    expect(r.initialValidation!.berhu).toBeCloseTo(r.rows[0].validationBerhu!, 4);
    expect(JSON.parse(await readFile(join(out, 'checkpoint', 'state.json'), 'utf8')).config.initFrom).toBe('tiny 1.0');
    await expect(trainDeepR(tf, { ...opts, outDir: out, iterations: 2, resume: true, initialGenerator: { weights: init, source: 'tiny 2.0' } })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'initFrom' } });
    await expect(trainDeepR(tf, { ...opts, outDir: out, iterations: 2, resume: true })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'initFrom' } });
    // the adversarial weight trained every iteration so far: a resume may not change it
    await expect(trainDeepR(tf, { ...opts, outDir: out, iterations: 2, resume: true, initialGenerator: { weights: init, source: 'tiny 1.0' }, lossWeights: DEFAULT_LOSS_WEIGHTS })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'adversarialWeight' } });
    const wide = await mkdtemp(join(tmpdir(), 'deepr-init-c-'));
    dirs.push(wide);
    await expect(trainDeepR(tf, { ...opts, outDir: wide, iterations: 1, baseChannels: 8, initialGenerator: { weights: init, source: 'tiny 1.0' } })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'initFrom' } });
  });
});
