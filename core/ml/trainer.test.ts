import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { isFocalError } from '../errors.js';
import type { SeededRandom } from '../numeric/random.js';
import { buildDiscriminator } from './nets.js';
import { learningRatesAt, loadLayersModel, lossPlotSeries, parseLossCsv, train, validationsAfter, type TrainerEvent, type TrainerSettingsInput, type TrainerSpec } from './trainer.js';
import { modelArrays } from './checkpoint.js';

let tf: typeof tfType;
const dirs: string[] = [];
beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
});
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
const tmp = async () => { const d = await mkdtemp(join(tmpdir(), 'focal-trainer-')); dirs.push(d); return d; };

const S = 8;
/** A pair of the tiny problem: target = 2·input − 0.5, on an 8×8 image. */
function pair(rng: SeededRandom): { x: Float32Array; y: Float32Array } {
  const x = Float32Array.from({ length: S * S }, () => rng.next());
  return { x, y: x.map((v) => 2 * v - 0.5) };
}

/** A one-conv generator learning the affine map; MSE and MAE terms; optionally a tiny discriminator. */
function tinySpec(opts: { gan?: boolean; bestBy?: TrainerSpec['bestBy']; maeWeight?: number; maeAfter?: number } = {}): TrainerSpec {
  const valRng = { s: 7, next() { this.s = (Math.imul(this.s, 1664525) + 1013904223) >>> 0; return this.s / 2 ** 32; } };
  const val = Array.from({ length: 4 }, () => pair(valRng as unknown as SeededRandom));
  return {
    buildGenerator: () => {
      const input = tf.input({ shape: [S, S, 1] });
      const out = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), name: 'g_conv' }).apply(input) as tfType.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out });
    },
    ...(opts.gan ? { buildDiscriminator: () => buildDiscriminator(tf, { baseChannels: 2, blocks: 1, seed: 5 }), adversarialTerm: 'adversarial' } : {}),
    terms: [
      ...(opts.gan ? [{ name: 'adversarial', weight: 0.01 }] : []),
      { name: 'mse', weight: 1 },
      { name: 'mae', weight: opts.maeWeight ?? 0, after: opts.maeAfter ?? 0 },
    ],
    termValues: (t, { batch, output, critic, active }) => ({
      ...(critic ? { adversarial: t.mean(t.square(t.sub(1, critic))) } : {}),
      mse: t.mean(t.square(t.sub(output, batch.target))),
      ...(active.has('mae') ? { mae: t.mean(t.abs(t.sub(output, batch.target))) } : {}),
    }),
    sampleBatch: (t, rng) => {
      const ps = [pair(rng), pair(rng)];
      const xs = new Float32Array(2 * S * S);
      const ys = new Float32Array(2 * S * S);
      ps.forEach((p, i) => { xs.set(p.x, i * S * S); ys.set(p.y, i * S * S); });
      return { inputs: [t.tensor4d(xs, [2, S, S, 1])], target: t.tensor4d(ys, [2, S, S, 1]) };
    },
    validate: (t, g) => {
      const xs = new Float32Array(val.length * S * S);
      const ys = new Float32Array(val.length * S * S);
      val.forEach((p, i) => { xs.set(p.x, i * S * S); ys.set(p.y, i * S * S); });
      return t.tidy(() => {
        const x = t.tensor4d(xs, [val.length, S, S, 1]);
        const y = t.tensor4d(ys, [val.length, S, S, 1]);
        const out = g.predict(x) as tfType.Tensor;
        const mse = t.mean(t.square(t.sub(out, y))).dataSync()[0];
        // a score where higher is better, deliberately not monotone in the MSE
        const odd = Math.cos(mse * 40);
        return { mse, odd };
      });
    },
    bestBy: opts.bestBy ?? { metric: 'mse', better: 'lower' },
    fixed: { kernel: 3 },
    generatedBy: 'focal test',
  };
}

const base: TrainerSettingsInput = { iterations: 6, generatorLearningRate: 0.05, discriminatorLearningRate: 1e-3, validateEvery: 2, seed: 4 };
const strip = (r: Record<string, number | undefined>) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'seconds'));

describe('trainer (learning kit)', () => {
  it('loss falls on a tiny problem, and loss.csv, loss.png, generator/ and the checkpoint are written', async () => {
    const out = await tmp();
    const events: TrainerEvent[] = [];
    const r = await train(tf, tinySpec(), { ...base, iterations: 30, validateEvery: 10 }, { outDir: out, onEvent: (e) => events.push(e) });
    expect(r.rows).toHaveLength(30);
    const first = r.rows[0].mse!;
    const last = r.rows.slice(-3).reduce((a, x) => a + x.mse!, 0) / 3;
    expect(last).toBeLessThan(first * 0.2);
    expect(r.rows[9].validationMse).toBeGreaterThan(r.rows[29].validationMse!);
    const csv = parseLossCsv(await readFile(join(out, 'loss.csv'), 'utf8'));
    expect(csv).toHaveLength(30);
    expect(Object.keys(csv[0])).toEqual(['iteration', 'generator', 'mse', 'mae', 'validationMse', 'validationOdd', 'seconds']);
    expect(csv[29].mse).toBeCloseTo(r.rows[29].mse!, 6);
    expect(csv[0].mae).toBeUndefined();
    expect((await stat(join(out, 'loss.png'))).size).toBeGreaterThan(100);
    expect((await stat(join(out, 'checkpoint', 'state.json'))).isFile()).toBe(true);
    const best = await loadLayersModel(tf, join(out, 'generator'));
    expect(best.weights).toHaveLength(2);
    expect(events[0]).toMatchObject({ event: 'start', iteration: 0, iterations: 30, resumed: false });
    expect(events.filter((e) => e.event === 'iteration')).toHaveLength(30);
    expect(events.filter((e) => e.event === 'checkpoint')).toHaveLength(3);
    expect(JSON.parse(JSON.stringify(events))).toHaveLength(events.length);
    r.generator.dispose();
  });

  it('a resumed run equals an uninterrupted one (GAN, decay, weight averaging, a term switched on later)', async () => {
    const settings: TrainerSettingsInput = { ...base, generatorUpdates: 2, discriminatorUpdates: 1, learningRateDecayAt: [3], learningRateDecayFactor: 0.5, averageAfter: 2 };
    const spec = () => tinySpec({ gan: true, maeWeight: 0.5, maeAfter: 3 });
    const a = await tmp();
    const full = await train(tf, spec(), settings, { outDir: a });
    const b = await tmp();
    const part = await train(tf, spec(), { ...settings, iterations: 4 }, { outDir: b });
    part.generator.dispose();
    const rest = await train(tf, spec(), settings, { outDir: b, resume: true });
    expect(rest.rows.map(strip)).toEqual(full.rows.map(strip));
    expect(rest.bestIteration).toBe(full.bestIteration);
    expect(rest.best).toEqual(full.best);
    const wa = modelArrays(full.generator);
    const wb = modelArrays(rest.generator);
    wa.forEach((w, i) => expect(Array.from(wb[i].data)).toEqual(Array.from(w.data)));
    expect(parseLossCsv(await readFile(join(b, 'loss.csv'), 'utf8')).map(strip)).toEqual(full.rows.map(strip));
    full.generator.dispose();
    rest.generator.dispose();
  });

  it('refuses a resume that would change trained iterations, naming the field, and allows changes from the checkpoint on', async () => {
    const out = await tmp();
    (await train(tf, tinySpec(), { ...base, iterations: 4 }, { outDir: out })).generator.dispose();
    const refuse = async (p: Promise<unknown>, field: string) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(isFocalError(e) && e.code === 'E_ARGUMENT' ? e.details?.field : e).toBe(field);
    };
    await refuse(train(tf, tinySpec(), { ...base, learningRateDecayAt: 2 }, { outDir: out, resume: true }), 'learningRateDecayAt');
    await refuse(train(tf, tinySpec(), { ...base, generatorLearningRate: 0.01 }, { outDir: out, resume: true }), 'learningRateDecayAt');
    await refuse(train(tf, tinySpec({ maeWeight: 1, maeAfter: 2 }), base, { outDir: out, resume: true }), 'maeWeight');
    await refuse(train(tf, tinySpec(), { ...base, averageAfter: 1 }, { outDir: out, resume: true }), 'averageAfter');
    await refuse(train(tf, { ...tinySpec(), fixed: { kernel: 5 } }, base, { outDir: out, resume: true }), 'kernel');
    await refuse(train(tf, tinySpec(), base, { outDir: out, resume: true, initialWeights: { weights: [], source: 'x' } }), 'initFrom');
    // from iteration 4 on, anything may change
    const r = await train(tf, tinySpec({ maeWeight: 1, maeAfter: 4 }), { ...base, learningRateDecayAt: 4, averageAfter: 4 }, { outDir: out, resume: true });
    expect(r.iteration).toBe(6);
    expect(r.rows[4].mae).toBeGreaterThan(0);
    r.generator.dispose();
  });

  it('best-by picks the validation with the best named metric (lower or higher), and weight files match it', async () => {
    for (const bestBy of [{ metric: 'mse', better: 'lower' }, { metric: 'odd', better: 'higher' }] as const) {
      const out = await tmp();
      const bests: number[] = [];
      const r = await train(tf, tinySpec({ bestBy }), { ...base, iterations: 12, validateEvery: 1 }, { outDir: out, onEvent: (e) => { if (e.event === 'best') bests.push(e.iteration); } });
      const col = bestBy.metric === 'mse' ? 'validationMse' : 'validationOdd';
      const scores = r.rows.map((x) => x[col]!);
      const want = bestBy.better === 'lower' ? scores.indexOf(Math.min(...scores)) + 1 : scores.indexOf(Math.max(...scores)) + 1;
      expect(r.bestIteration).toBe(want);
      expect(bests.at(-1)).toBe(want);
      const saved = await loadLayersModel(tf, join(out, 'generator'));
      const spec = tinySpec();
      expect(spec.validate(tf, saved)[bestBy.metric]).toBeCloseTo(r.best[bestBy.metric], 6);
      saved.dispose();
      r.generator.dispose();
    }
  });

  it('fine-tunes from initial weights (validated as iteration 0) and refuses weights that do not fit', async () => {
    const out = await tmp();
    const first = await train(tf, tinySpec(), { ...base, iterations: 20 }, { outDir: out });
    const init = modelArrays(first.generator).map((a) => ({ ...a, name: `${a.name}_3`, data: Float32Array.from(a.data) }));
    const ft = await tmp();
    const events: TrainerEvent[] = [];
    const r = await train(tf, tinySpec(), { ...base, iterations: 2, generatorLearningRate: 1e-6 }, { outDir: ft, initialWeights: { weights: init, source: 'first' }, onEvent: (e) => events.push(e) });
    expect(r.initialValidation!.mse).toBeCloseTo(first.rows.at(-1)!.validationMse!, 5);
    expect(events[0]).toMatchObject({ event: 'initial' });
    expect(r.rows[0].mse).toBeLessThan(first.rows[0].mse!);
    await expect(train(tf, tinySpec(), base, { outDir: await tmp(), initialWeights: { weights: init.slice(1), source: 'bad' } })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'initFrom' } });
    first.generator.dispose();
    r.generator.dispose();
  });

  it("batchNorm 'frozen' learns with the moving averages and leaves them; 'batch' updates them", async () => {
    const withBn = (batchNorm?: 'batch' | 'frozen'): TrainerSpec => ({
      ...tinySpec(),
      buildGenerator: () => {
        const input = tf.input({ shape: [S, S, 1] });
        const conv = tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), name: 'g_conv' }).apply(input) as tfType.SymbolicTensor;
        const out = tf.layers.batchNormalization({ name: 'g_bn', momentum: 0.5 }).apply(conv) as tfType.SymbolicTensor;
        return tf.model({ inputs: input, outputs: out });
      },
      ...(batchNorm ? { batchNorm } : {}),
    });
    const moving = (g: tfType.LayersModel) => g.getLayer('g_bn').getWeights().slice(2).map((w) => w.dataSync()[0]); // [moving mean, moving variance]
    const kernel = (g: tfType.LayersModel) => Array.from(g.getLayer('g_conv').getWeights()[0].dataSync());
    const fresh = withBn().buildGenerator();
    const [mean0, var0] = moving(fresh);
    const k0 = kernel(fresh);
    fresh.dispose();
    const frozen = await train(tf, withBn('frozen'), { ...base, iterations: 4 }, { outDir: await tmp() });
    expect(moving(frozen.generator)).toEqual([mean0, var0]);
    expect(kernel(frozen.generator)).not.toEqual(k0);
    const batch = await train(tf, withBn(), { ...base, iterations: 4 }, { outDir: await tmp() });
    expect(moving(batch.generator)[0]).not.toBe(mean0);
    expect(moving(batch.generator)[1]).not.toBe(var0);
    frozen.generator.dispose();
    batch.generator.dispose();
  });

  it('stops on an aborted signal with E_CANCELLED, leaving the last checkpoint to resume from', async () => {
    const out = await tmp();
    const ac = new AbortController();
    const p = train(tf, tinySpec(), base, { outDir: out, signal: ac.signal, onEvent: (e) => { if (e.event === 'checkpoint' && e.iteration === 2) ac.abort(); } });
    await expect(p).rejects.toMatchObject({ code: 'E_CANCELLED' });
    const r = await train(tf, tinySpec(), base, { outDir: out, resume: true });
    expect(r.rows.map((x) => x.iteration)).toEqual([1, 2, 3, 4, 5, 6]);
    r.generator.dispose();
  });

  it('schedules and settings: step decay, validations left, zod errors name the field', async () => {
    const s = { generatorLearningRate: 1, discriminatorLearningRate: 0.1, learningRateDecayAt: [2, 4], learningRateDecayFactor: [0.5, 0.1] };
    expect([1, 2, 3, 5].map((i) => learningRatesAt(s, i).generator)).toEqual([1, 1, 0.5, 0.05]);
    expect(validationsAfter(0, 10, 4)).toBe(3);
    expect(validationsAfter(8, 10, 4)).toBe(1);
    await expect(train(tf, tinySpec(), { ...base, iterations: 0 }, { outDir: await tmp() })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'iterations' } });
    await expect(train(tf, tinySpec(), { ...base, learningRateDecayAt: [4, 2] }, { outDir: await tmp() })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'learningRateDecayAt' } });
  });
});

describe('loss.png series', () => {
  it('draws a column equal to an earlier one once, labelled with both names; a column that differs anywhere keeps its own line; camel-case names in words', () => {
    const rows = [1, 2, 3].map((iteration) => ({ iteration, generator: 1 / iteration, mse: 1 / iteration, mae: 1 / iteration + (iteration === 3 ? 0.01 : 0), validationSsim: 0.5 + iteration / 10, seconds: iteration }));
    const series = lossPlotSeries(rows, ['iteration', 'generator', 'mse', 'mae', 'validationSsim', 'seconds'], new Set(['validationSsim']));
    expect(series.map((s) => s.label)).toEqual(['generator = mse', 'mae', '1 - validation ssim']);
    expect(series[0].y).toEqual([1, 0.5, 1 / 3]);
    expect(series[2].y[0]).toBeCloseTo(0.4, 12);
    expect(new Set(series.map((s) => s.colour.join()))).toHaveProperty('size', 3);
  });
});
