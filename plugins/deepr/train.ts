/**
 * Deep-R training loop (Methods, "Network structure, training and validation"): GAN with
 * 6 generator and 3 discriminator updates per iteration, Adam (5e-4 / 1e-6), batch 5,
 * validation every 50 iterations, best model by validation BerHu, resumable checkpoints.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError, type SeededRandom } from '../../core/index.js';
import { standardise } from '../../core/imaging.js';
import { AUGMENT_COUNT, augment, type NamedArray, type Tf, berhuTf, msSsimTf, rangePerImage, ssimTf, train, termActive, learningRatesAt as kitLearningRatesAt, type DecaySchedule, type LossTerm, type TrainerProgress, type TrainerSpec } from '../../core/ml.js';
export { validationsAfter, saveLayersModel, loadLayersModel } from '../../core/ml.js';
import type { TrainingPair } from './data.js';
import { parseTrainingConfig, type DeepRTrainingConfig, type DeepRTrainingConfigInput, type LossWeights } from './config.js';
import { discriminatorLoss, generatorTerms } from './losses.js';
import { buildDiscriminator, buildGenerator } from './model.js';
import { renderLinePlot } from './plot.js';

type Tensor4D = tfTypes.Tensor4D;

/** Draws one raw training pair (before cropping, augmentation and normalisation). */
export type PairSampler = (rng: SeededRandom) => TrainingPair;

/**
 * Options of {@link trainDeepR}: the training configuration (config.ts, `z.input` of
 * {@link deeprTrainingConfig}: fields, defaults and checks) and the run's own inputs.
 */
export type TrainOptions = DeepRTrainingConfigInput & {
  /** Source of training pairs. */
  sample: PairSampler;
  /** Validation pairs (not augmented; centre-cropped to `patchPx`). */
  validation: TrainingPair[];
  /** Folder for checkpoint/, loss.csv, loss.png and generator/ (the best model). */
  outDir: string;
  /**
   * Start the generator from these weights instead of a random initialisation (fine-tuning a
   * trained model, e.g. a model package's generator; same baseChannels and levels). The starting
   * weights are validated before iteration 1 and are the best so far (iteration 0), so the run
   * never returns a generator that validates worse than the one it started from. A resumed run
   * takes its weights from the checkpoint and must name the same `source`.
   */
  initialGenerator?: { weights: NamedArray[]; source: string };
  /** Continue from outDir/checkpoint when it exists. */
  resume?: boolean;
  signal?: AbortSignal;
  /** Called after every iteration (after its validation) with its loss row and the run's progress: rate and ETA. */
  onIteration?: (row: LossRow, progress: TrainProgress) => void;
  /** Clock of the rate and ETA, ms (default `performance.now`); read once before and once after each iteration's updates. For tests. */
  now?: () => number;
  /** Threads computing each update's gradients (the kit's data-parallel training; default 1). */
  workers?: number;
};

/** Progress of {@link trainDeepR} after an iteration: the kit's progress (rate over the updates only, ETA with the validations left). */
export type TrainProgress = TrainerProgress;

/** One row of loss.csv: means over the iteration's updates; validation columns on validation iterations. */
export interface LossRow {
  iteration: number;
  generator: number;
  /** Unweighted adversarial term; undefined where the term is off. */
  adversarial?: number;
  msSsim: number;
  berhu: number;
  /** Unweighted 1 − SSIM term; undefined where the term is off. */
  ssim?: number;
  /** Undefined where the discriminator is not trained. */
  discriminator?: number;
  /** Validation scores: of the averaged weights after `averageAfter`, else of the generator. */
  validationBerhu?: number;
  validationMsSsim?: number;
  /** Mean single-scale SSIM on the validation pairs. */
  validationSsim?: number;
  seconds: number;
}

export interface TrainResult {
  iteration: number;
  bestIteration: number;
  /** Validation BerHu of the best generator (whichever `bestBy`). */
  bestValidationBerhu: number;
  /** Validation SSIM of the best generator (NaN for checkpoints written before it was logged). */
  bestValidationSsim: number;
  rows: LossRow[];
  generator: tfTypes.LayersModel;
  /** The options the run used (written to checkpoint/state.json). */
  config: ResolvedConfig;
  /** With `initialGenerator`: validation of the starting weights (before iteration 1). */
  initialValidation?: { berhu: number; ssim: number };
}

/** The configuration a run used (`z.output` of {@link deeprTrainingConfig}) and where its generator started. */
export type ResolvedConfig = DeepRTrainingConfig & {
  /** `initialGenerator.source`, or '' for a random initialisation (absent in older checkpoints). */
  initFrom: string;
};

// new columns go last, so loss.csv files of older runs still parse when resuming
const CSV_COLUMNS = ['iteration', 'generator', 'adversarial', 'msSsim', 'berhu', 'discriminator', 'validationBerhu', 'validationMsSsim', 'seconds', 'ssim', 'validationSsim'] as const;

function crop(p: TrainingPair, size: number, rng: SeededRandom | undefined): { input: Float32Array; target: Float32Array } {
  if (p.sizePx < size) throw new FocalError('E_ARGUMENT', `patch: training pairs are ${p.sizePx} px, smaller than the ${size}-px patch`, { field: 'patch' });
  if (p.sizePx === size) return { input: p.input, target: p.target };
  const x0 = rng ? rng.int(p.sizePx - size + 1) : Math.floor((p.sizePx - size) / 2);
  const y0 = rng ? rng.int(p.sizePx - size + 1) : Math.floor((p.sizePx - size) / 2);
  const cut = (a: Float32Array) => {
    const out = new Float32Array(size * size);
    for (let y = 0; y < size; y++) out.set(a.subarray((y0 + y) * p.sizePx + x0, (y0 + y) * p.sizePx + x0 + size), y * size);
    return out;
  };
  return { input: cut(p.input), target: cut(p.target) };
}

/** A normalised, augmented batch as [N, P, P, 1] tensors. */
function makeBatch(tf: Tf, pairs: { input: Float32Array; target: Float32Array }[], size: number): { x: Tensor4D; y: Tensor4D } {
  const xs = new Float32Array(pairs.length * size * size);
  const ys = new Float32Array(pairs.length * size * size);
  pairs.forEach((p, i) => {
    xs.set(standardise(p.input).data, i * size * size);
    ys.set(standardise(p.target).data, i * size * size);
  });
  return { x: tf.tensor4d(xs, [pairs.length, size, size, 1]), y: tf.tensor4d(ys, [pairs.length, size, size, 1]) };
}

function trainingBatch(tf: Tf, o: ResolvedConfig, sample: PairSampler, rng: SeededRandom): { x: Tensor4D; y: Tensor4D } {
  const pairs = [];
  for (let i = 0; i < o.batchSize; i++) {
    const c = crop(sample(rng), o.patchPx, rng);
    const k = rng.int(AUGMENT_COUNT);
    pairs.push({ input: augment(c.input, o.patchPx, o.patchPx, k).data, target: augment(c.target, o.patchPx, o.patchPx, k).data });
  }
  return makeBatch(tf, pairs, o.patchPx);
}

/** Mean validation BerHu, MS-SSIM and single-scale SSIM of the generator on the (centre-cropped, normalised) validation pairs. */
export function validate(tf: Tf, generator: tfTypes.LayersModel, pairs: TrainingPair[], patchPx: number, batchSize: number, scales: number): { berhu: number; msSsim: number; ssim: number } {
  let sb = 0;
  let sm = 0;
  let ss = 0;
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize).map((p) => crop(p, patchPx, undefined));
    const { x, y } = makeBatch(tf, chunk, patchPx);
    const [b, m, si] = tf.tidy(() => {
      const g = generator.predict(x) as Tensor4D;
      const range = rangePerImage(tf, y);
      return [tf.sum(berhuTf(tf, y, g)).dataSync()[0], tf.sum(msSsimTf(tf, y, g, range, scales)).dataSync()[0], tf.sum(ssimTf(tf, y, g, range)).dataSync()[0]];
    });
    sb += b;
    sm += m;
    ss += si;
    tf.dispose([x, y]);
  }
  return { berhu: sb / pairs.length, msSsim: sm / pairs.length, ssim: ss / pairs.length };
}

/** loss.png: generator total, its terms, discriminator, validation BerHu and 1 − validation SSIM (log scale). */
export function lossPlot(rows: LossRow[]): Uint8Array {
  const it = rows.map((r) => r.iteration);
  const val = rows.filter((r) => r.validationBerhu !== undefined);
  const png = renderLinePlot([
    { label: 'generator', colour: [0, 0, 0], x: it, y: rows.map((r) => r.generator) },
    { label: 'adversarial', colour: [230, 120, 0], x: it, y: rows.map((r) => r.adversarial ?? NaN) },
    { label: '1 - MS-SSIM', colour: [0, 110, 220], x: it, y: rows.map((r) => r.msSsim) },
    { label: 'BerHu', colour: [0, 160, 60], x: it, y: rows.map((r) => r.berhu) },
    ...(rows.some((r) => r.ssim !== undefined) ? [{ label: '1 - SSIM', colour: [120, 190, 240] as [number, number, number], x: it, y: rows.map((r) => r.ssim ?? NaN) }] : []),
    { label: 'discriminator', colour: [160, 0, 160], x: it, y: rows.map((r) => r.discriminator ?? NaN) },
    { label: 'validation BerHu', colour: [220, 0, 0], x: val.map((r) => r.iteration), y: val.map((r) => r.validationBerhu!) },
    ...(val.some((r) => r.validationSsim !== undefined) ? [{ label: '1 - validation SSIM', colour: [240, 110, 170] as [number, number, number], x: val.map((r) => r.iteration), y: val.map((r) => (r.validationSsim === undefined ? NaN : 1 - r.validationSsim)) }] : []),
  ], 800, 400, { xTitle: 'iteration (generator updates)', yTitle: 'loss (unitless, log scale)' });
  return png;
}


/** A decay schedule (the learning-rate fields of options, a resolved config or an older checkpoint). */
export const learningRatesAt = (c: DecaySchedule, it: number) => kitLearningRatesAt(c, it);

type TermConfig = { adversarialOffAt?: number; ssimTermAfter?: number; lossWeights: LossWeights };

/** Deep-R's generator loss terms in the kit's form, in the order eq. 1 sums them (λ, ν, ξ, then σ). */
function lossTerms(c: TermConfig): LossTerm[] {
  return [
    { name: 'adversarial', weight: c.lossWeights.adversarial, offAfter: c.adversarialOffAt ?? 0, fields: { weight: 'adversarialWeight', offAfter: 'adversarialOffAt' } },
    { name: 'msSsim', weight: c.lossWeights.msSsim },
    { name: 'berhu', weight: c.lossWeights.berhu },
    { name: 'ssim', weight: c.lossWeights.ssim ?? 0, after: c.ssimTermAfter ?? 0, fields: { weight: 'ssimTermAfter', after: 'ssimTermAfter' } },
  ];
}

/** Whether iteration `it` trains with the adversarial term (and updates the discriminator). */
export function adversarialActive(c: TermConfig, it: number): boolean {
  return termActive(lossTerms(c)[0], it);
}

/** Whether iteration `it` trains with the added 1 − SSIM term. */
export function ssimTermActive(c: TermConfig, it: number): boolean {
  return termActive(lossTerms(c)[3], it);
}

/** What a gradient of Deep-R needs (structured-cloneable: a data-parallel worker gets it). */
export interface DeepRGradientOptions {
  baseChannels: number;
  levels: number;
  seed: number;
  msSsimScales: number;
}

/** Deep-R's networks, generator terms and discriminator loss: the part of its spec a data-parallel worker rebuilds (core/ml parallel.ts). */
export function deeprGradientSpec(tf: Tf, o: DeepRGradientOptions): Pick<TrainerSpec, 'buildGenerator' | 'buildDiscriminator' | 'termValues' | 'discriminatorLoss'> {
  return {
    buildGenerator: () => buildGenerator(tf, { baseChannels: o.baseChannels, levels: o.levels, seed: o.seed * 1000 }),
    buildDiscriminator: () => buildDiscriminator(tf, { baseChannels: o.baseChannels, seed: o.seed * 1000 + 500 }),
    termValues: (t, { batch, output, critic, active }) => {
      const v = generatorTerms(t, batch.target as Tensor4D, output as Tensor4D, critic, active.has('ssim'), o.msSsimScales);
      return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)) as Record<string, tfTypes.Tensor>;
    },
    discriminatorLoss,
  };
}

/**
 * Trains Deep-R on core's trainer ({@link train}). Writes into `outDir`: loss.csv (one row per
 * iteration), loss.png (redrawn at each validation), checkpoint/ (generator, discriminator and
 * both Adam states, RNG state and iteration, written at each validation and at the end) and
 * generator/ (the best generator by validation BerHu or SSIM, tfjs layers format). With
 * `resume`, continues from checkpoint/ exactly where it stopped.
 */
export async function trainDeepR(tf: Tf, options: TrainOptions): Promise<TrainResult> {
  const o: ResolvedConfig = { ...parseTrainingConfig(options), initFrom: options.initialGenerator?.source ?? '' };
  if (options.validation.length === 0) throw new FocalError('E_ARGUMENT', 'validation: no validation pairs', { field: 'validation' });

  const gradientOptions: DeepRGradientOptions = { baseChannels: o.baseChannels, levels: o.levels, seed: o.seed, msSsimScales: o.msSsimScales };
  const spec: TrainerSpec = {
    ...deeprGradientSpec(tf, gradientOptions),
    terms: lossTerms(o),
    adversarialTerm: 'adversarial',
    parallel: { module: import.meta.url, export: 'deeprGradientSpec', options: gradientOptions },
    sampleBatch: (t, rng) => {
      const { x, y } = trainingBatch(t, o, options.sample, rng);
      return { inputs: [x], target: y };
    },
    validate: (t, g) => validate(t, g, options.validation, o.patchPx, o.batchSize, o.msSsimScales),
    bestBy: o.bestBy === 'ssim' ? { metric: 'ssim', better: 'higher' } : { metric: 'berhu', better: 'lower' },
    fixed: { baseChannels: o.baseChannels, levels: o.levels },
    csvColumns: CSV_COLUMNS,
    plot: (rows) => lossPlot(rows as unknown as LossRow[]),
    generatedBy: 'focal deepr',
    architecture: `a generator with baseChannels ${o.baseChannels} and levels ${o.levels}`,
    config: o,
  };
  const r = await train(tf, spec, {
    iterations: o.iterations, generatorUpdates: o.generatorUpdates, discriminatorUpdates: o.discriminatorUpdates,
    generatorLearningRate: o.generatorLearningRate, discriminatorLearningRate: o.discriminatorLearningRate,
    learningRateDecayAt: o.learningRateDecayAt, learningRateDecayFactor: o.learningRateDecayFactor,
    validateEvery: o.validateEvery, averageAfter: o.averageAfter, seed: o.seed,
  }, {
    outDir: options.outDir, resume: options.resume, signal: options.signal, now: options.now, workers: options.workers,
    ...(options.initialGenerator ? { initialWeights: options.initialGenerator } : {}),
    onEvent: (e) => { if (e.event === 'iteration') options.onIteration?.(e.row as unknown as LossRow, e.progress); },
  });
  const iv = r.initialValidation;
  return {
    iteration: r.iteration, bestIteration: r.bestIteration, bestValidationBerhu: r.best.berhu ?? Infinity, bestValidationSsim: r.best.ssim ?? NaN,
    rows: r.rows as unknown as LossRow[], generator: r.generator, config: o, ...(iv ? { initialValidation: { berhu: iv.berhu, ssim: iv.ssim } } : {}),
  };
}
