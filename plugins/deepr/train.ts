/**
 * Deep-R training loop (Methods, "Network structure, training and validation"): GAN with
 * 6 generator and 3 discriminator updates per iteration, Adam (5e-4 / 1e-6), batch 5,
 * validation every 50 iterations, best model by validation BerHu, resumable checkpoints.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError, RateEstimator, throwIfAborted, AUGMENT_COUNT, augment, loadArrays, modelArrays, optimizerArrays, saveArrays, setModelArrays, setOptimizerArrays, type NamedArray, standardise, SeededRandom, type Tf, berhuTf, msSsimScalesFor, msSsimTf, rangePerImage, ssimTf } from '../../core/index.js';
import type { TrainingPair } from './data.js';
import { DEFAULT_LOSS_WEIGHTS, discriminatorLoss, generatorLoss, type LossWeights } from './losses.js';
import { buildDiscriminator, buildGenerator } from './model.js';
import { renderLinePlot } from './plot.js';

type Tensor4D = tfTypes.Tensor4D;

/** Draws one raw training pair (before cropping, augmentation and normalisation). */
export type PairSampler = (rng: SeededRandom) => TrainingPair;

/** Options of {@link trainDeepR}. */
export interface TrainOptions {
  /** Source of training pairs. */
  sample: PairSampler;
  /** Validation pairs (not augmented; centre-cropped to `patchPx`). */
  validation: TrainingPair[];
  /** Folder for checkpoint/, loss.csv, loss.png and generator/ (the best model). */
  outDir: string;
  /** Iterations to reach (total, including those of a resumed run). */
  iterations: number;
  baseChannels?: number;
  levels?: number;
  /** Training patch side, px (multiple of 2^levels). Default 256. */
  patchPx?: number;
  batchSize?: number;
  generatorUpdates?: number;
  discriminatorUpdates?: number;
  generatorLearningRate?: number;
  discriminatorLearningRate?: number;
  /**
   * Step decay: after each of these iterations (ascending) both learning rates are multiplied by
   * the matching `learningRateDecayFactor` (0 or []: constant rates, the paper's schedule). A step
   * at or after a checkpoint's iteration can be added when resuming: the iterations already
   * trained are unchanged.
   */
  learningRateDecayAt?: number | readonly number[];
  /** Factor of each decay step, in (0, 1]: one value for every step, or one per step. Default 0.1. */
  learningRateDecayFactor?: number | readonly number[];
  /**
   * Iterations after this one drop the adversarial term (λ = 0) and do not update the
   * discriminator: a pixel-loss fine-tuning phase (0: never, the paper's schedule). Like the
   * decay, it can be added when resuming at or before it.
   */
  adversarialOffAt?: number;
  /**
   * With `lossWeights.ssim` > 0: iterations after this one add the term ssim·(1 − SSIM) to the
   * generator loss (0: from the start). Like the decay, it can be added when resuming at or
   * before it.
   */
  ssimTermAfter?: number;
  /**
   * Which validation score picks the best generator: 'berhu' (lowest mean BerHu, the paper's rule,
   * default) or 'ssim' (highest mean single-scale SSIM, the index the evaluation reports). Changing
   * it when resuming starts the choice afresh from the checkpoint's generator.
   */
  bestBy?: 'berhu' | 'ssim';
  /**
   * Weight averaging (stochastic weight averaging, Izmailov et al. 2018; not in the paper): from
   * the first validation after this iteration, the generator's weights at each validation are
   * added to an equal-weight running mean, and that mean is what is validated and may become the
   * best generator; training itself continues from the raw weights (0: off). Like the decay, it
   * can be added when resuming at or before it.
   */
  averageAfter?: number;
  /**
   * Start the generator from these weights instead of a random initialisation (fine-tuning a
   * trained model, e.g. a model package's generator; same baseChannels and levels). The starting
   * weights are validated before iteration 1 and are the best so far (iteration 0), so the run
   * never returns a generator that validates worse than the one it started from. A resumed run
   * takes its weights from the checkpoint and must name the same `source`.
   */
  initialGenerator?: { weights: NamedArray[]; source: string };
  /** Validate (and checkpoint) every this many iterations. Default 50. */
  validateEvery?: number;
  lossWeights?: LossWeights;
  /** MS-SSIM scales (default: the most the patch allows, ≤ 5). */
  msSsimScales?: number;
  seed?: number;
  /** Continue from outDir/checkpoint when it exists. */
  resume?: boolean;
  signal?: AbortSignal;
  /** Called after every iteration (after its validation) with its loss row and the run's progress: rate and ETA. */
  onIteration?: (row: LossRow, progress: TrainProgress) => void;
  /** Clock of the rate and ETA, ms (default `performance.now`); read once before and once after each iteration's updates. For tests. */
  now?: () => number;
}

/** Progress of {@link trainDeepR} after an iteration. */
export interface TrainProgress {
  iteration: number;
  /** The last iteration (`iterations`). */
  iterations: number;
  /**
   * Training iterations per second over the last minute (at least the last 10 iterations),
   * measured on the updates only: validation, checkpoints and logging are left out.
   * Undefined until one iteration has been timed.
   */
  iterationsPerSecond: number | undefined;
  /**
   * Time to the last iteration, ms: the iterations left at that rate, plus the validations
   * left (every `validateEvery` and the last iteration) at the mean time validations took
   * so far (with their checkpoint). 0 after the last iteration; undefined without a rate.
   */
  etaMs: number | undefined;
}

/** Validations still to come after iteration `it`: every `every`-th iteration and the last one. */
export function validationsAfter(it: number, iterations: number, every: number): number {
  if (it >= iterations) return 0;
  return Math.floor(iterations / every) - Math.floor(it / every) + (iterations % every !== 0 ? 1 : 0);
}

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

type ResolvedConfig = Omit<Required<TrainOptions>, 'sample' | 'validation' | 'signal' | 'onIteration' | 'now' | 'resume' | 'outDir' | 'learningRateDecayAt' | 'learningRateDecayFactor' | 'initialGenerator'> & {
  /** `initialGenerator.source`, or '' for a random initialisation (absent in older checkpoints). */
  initFrom: string;
  /** Decay steps, ascending (checkpoints written before multi-step decay hold one number; 0: none). */
  learningRateDecayAt: number[];
  /** One factor per step. */
  learningRateDecayFactor: number[];
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

function csvLine(r: LossRow): string {
  return CSV_COLUMNS.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(',');
}

function parseCsvRows(text: string): LossRow[] {
  const lines = text.trim().split('\n').slice(1).filter((l) => l !== '');
  return lines.map((l) => {
    const v = l.split(',');
    const row: Record<string, number | undefined> = {};
    CSV_COLUMNS.forEach((c, i) => (row[c] = v[i] === '' || v[i] === undefined ? undefined : Number(v[i])));
    return row as unknown as LossRow;
  });
}

/** Writes loss.png: generator total, its terms, discriminator, validation BerHu and 1 − validation SSIM (log scale). */
export async function writeLossPlot(file: string, rows: LossRow[]): Promise<void> {
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
  await writeFile(file, png);
}

/** The tfjs layers-format artifacts of a model (model.json + weights.bin in one folder). */
export async function saveLayersModel(tf: Tf, model: tfTypes.LayersModel, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(await new Blob((a.weightData ?? []) as ArrayBuffer[]).arrayBuffer());
      await writeFile(join(dir, 'weights.bin'), data);
      await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy: 'focal deepr', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Loads what {@link saveLayersModel} wrote. */
export async function loadLayersModel(tf: Tf, dir: string): Promise<tfTypes.LayersModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const buf = await readFile(join(dir, 'weights.bin'));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }));
}

/** A learning-rate schedule as options, a resolved config or an older checkpoint's state hold it. */
interface Schedule {
  generatorLearningRate: number;
  discriminatorLearningRate: number;
  learningRateDecayAt?: number | readonly number[];
  learningRateDecayFactor?: number | readonly number[];
}

/** Decay steps (0 / [] → none) and one factor per step; a single factor applies to every step. */
function decaySteps(c: Schedule): { at: number[]; factor: number[] } {
  const raw = c.learningRateDecayAt ?? [];
  const at = (typeof raw === 'number' ? [raw] : [...raw]).filter((v) => v !== 0);
  const f = c.learningRateDecayFactor ?? 0.1;
  const factor = typeof f === 'number' ? at.map(() => f) : [...f];
  return { at, factor };
}

/** The generator's and discriminator's learning rates at (1-based) iteration `it`. */
export function learningRatesAt(c: Schedule, it: number): { generator: number; discriminator: number } {
  const { at, factor } = decaySteps(c);
  let f = 1;
  for (let i = 0; i < at.length; i++) if (it > at[i]) f *= factor[i];
  return { generator: c.generatorLearningRate * f, discriminator: c.discriminatorLearningRate * f };
}

/** First iteration ≤ `done` at which two schedules' learning rates differ (undefined: none). */
function firstScheduleDifference(a: Schedule, b: Schedule, done: number): number | undefined {
  // Both schedules are piecewise constant: compare at the start of every piece of either.
  const points = [1, ...decaySteps(a).at.map((k) => k + 1), ...decaySteps(b).at.map((k) => k + 1)].filter((p) => p >= 1 && p <= done);
  for (const it of points.sort((x, y) => x - y)) {
    const ra = learningRatesAt(a, it);
    const rb = learningRatesAt(b, it);
    if (ra.generator !== rb.generator || ra.discriminator !== rb.discriminator) return it;
  }
  return undefined;
}

/** Whether iteration `it` trains with the adversarial term (and updates the discriminator). */
export function adversarialActive(c: { adversarialOffAt?: number; lossWeights: LossWeights }, it: number): boolean {
  const off = c.adversarialOffAt ?? 0;
  return c.lossWeights.adversarial !== 0 && !(off > 0 && it > off);
}

/** Whether iteration `it` trains with the added 1 − SSIM term. */
export function ssimTermActive(c: { ssimTermAfter?: number; lossWeights: LossWeights }, it: number): boolean {
  return (c.lossWeights.ssim ?? 0) > 0 && it > (c.ssimTermAfter ?? 0);
}

/** First iteration ≤ `done` at which two configs' SSIM terms differ (undefined: none). */
function firstSsimTermDifference(a: { ssimTermAfter?: number; lossWeights: LossWeights }, b: { ssimTermAfter?: number; lossWeights: LossWeights }, done: number): number | undefined {
  const points = [1, (a.ssimTermAfter ?? 0) + 1, (b.ssimTermAfter ?? 0) + 1].filter((p) => p <= done).sort((x, y) => x - y);
  for (const it of points) {
    const wa = ssimTermActive(a, it) ? a.lossWeights.ssim : 0;
    const wb = ssimTermActive(b, it) ? b.lossWeights.ssim : 0;
    if (wa !== wb) return it;
  }
  return undefined;
}

/** tfjs' Adam reads its `learningRate` field at each update. */
function setLearningRate(opt: tfTypes.Optimizer, rate: number): void {
  (opt as unknown as { learningRate: number }).learningRate = rate;
}

/** Validates and normalises the decay options (fields named in errors). */
function resolveDecay(options: Pick<TrainOptions, 'learningRateDecayAt' | 'learningRateDecayFactor'>): { learningRateDecayAt: number[]; learningRateDecayFactor: number[] } {
  const raw = options.learningRateDecayAt ?? [];
  const list = typeof raw === 'number' ? [raw] : [...raw];
  for (const v of list) {
    if (!Number.isInteger(v) || v < 0) throw new FocalError('E_ARGUMENT', `learningRateDecayAt: must be integers ≥ 0, got ${v}`, { field: 'learningRateDecayAt' });
  }
  const at = list.filter((v) => v !== 0);
  if (at.length !== list.length && list.length > 1) throw new FocalError('E_ARGUMENT', `learningRateDecayAt: 0 (no decay) cannot be combined with steps, got ${list.join(',')}`, { field: 'learningRateDecayAt' });
  for (let i = 1; i < at.length; i++) {
    if (at[i] <= at[i - 1]) throw new FocalError('E_ARGUMENT', `learningRateDecayAt: steps must be strictly ascending, got ${at.join(',')}`, { field: 'learningRateDecayAt' });
  }
  const f = options.learningRateDecayFactor ?? 0.1;
  const factors = typeof f === 'number' ? at.map(() => f) : [...f];
  if (typeof f !== 'number' && factors.length !== at.length) throw new FocalError('E_ARGUMENT', `learningRateDecayFactor: ${factors.length} factors for ${at.length} decay steps (give one factor, or one per step)`, { field: 'learningRateDecayFactor' });
  for (const v of typeof f === 'number' ? [f] : factors) {
    if (!(v > 0 && v <= 1)) throw new FocalError('E_ARGUMENT', `learningRateDecayFactor: must be in (0, 1], got ${v}`, { field: 'learningRateDecayFactor' });
  }
  return { learningRateDecayAt: at, learningRateDecayFactor: factors };
}

interface State {
  iteration: number;
  rngState: number;
  bestIteration: number;
  bestValidationBerhu: number;
  /** Absent in checkpoints written before validation SSIM was logged. */
  bestValidationSsim?: number;
  /** Snapshots in the weight average (checkpoint/generator-average holds it when > 0). */
  averageCount?: number;
  /** With `initialGenerator`: validation of the starting weights. */
  initialValidation?: { berhu: number; ssim: number };
  config: ResolvedConfig;
}

/**
 * Trains Deep-R. Writes into `outDir`: loss.csv (one row per iteration), loss.png (redrawn at
 * each validation), checkpoint/ (generator, discriminator and both Adam states, RNG state and
 * iteration, written at each validation and at the end) and generator/ (the best generator by
 * validation BerHu, tfjs layers format). With `resume`, continues from checkpoint/ exactly
 * where it stopped (same iteration, weights, optimizer moments and sampling RNG state).
 */
export async function trainDeepR(tf: Tf, options: TrainOptions): Promise<TrainResult> {
  const o: ResolvedConfig = {
    iterations: options.iterations,
    baseChannels: options.baseChannels ?? 32,
    levels: options.levels ?? 5,
    patchPx: options.patchPx ?? 256,
    batchSize: options.batchSize ?? 5,
    generatorUpdates: options.generatorUpdates ?? 6,
    discriminatorUpdates: options.discriminatorUpdates ?? 3,
    generatorLearningRate: options.generatorLearningRate ?? 5e-4,
    discriminatorLearningRate: options.discriminatorLearningRate ?? 1e-6,
    ...resolveDecay(options),
    adversarialOffAt: options.adversarialOffAt ?? 0,
    ssimTermAfter: options.ssimTermAfter ?? 0,
    averageAfter: options.averageAfter ?? 0,
    bestBy: options.bestBy ?? 'berhu',
    validateEvery: options.validateEvery ?? 50,
    lossWeights: options.lossWeights ?? DEFAULT_LOSS_WEIGHTS,
    msSsimScales: options.msSsimScales ?? msSsimScalesFor(options.patchPx ?? 256),
    seed: options.seed ?? 1,
    initFrom: options.initialGenerator?.source ?? '',
  };
  for (const k of ['iterations', 'baseChannels', 'levels', 'patchPx', 'batchSize', 'generatorUpdates', 'discriminatorUpdates', 'validateEvery', 'msSsimScales'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new FocalError('E_ARGUMENT', `${k}: must be a positive integer, got ${o[k]}`, { field: k });
  }
  if (o.bestBy !== 'berhu' && o.bestBy !== 'ssim') throw new FocalError('E_ARGUMENT', `bestBy: must be 'berhu' or 'ssim', got ${String(o.bestBy)}`, { field: 'bestBy' });
  if (!Number.isInteger(o.averageAfter) || o.averageAfter < 0) throw new FocalError('E_ARGUMENT', `averageAfter: must be an integer ≥ 0, got ${o.averageAfter}`, { field: 'averageAfter' });
  if (!Number.isInteger(o.ssimTermAfter) || o.ssimTermAfter < 0) throw new FocalError('E_ARGUMENT', `ssimTermAfter: must be an integer ≥ 0, got ${o.ssimTermAfter}`, { field: 'ssimTermAfter' });
  if (!((o.lossWeights.ssim ?? 0) >= 0)) throw new FocalError('E_ARGUMENT', `lossWeights.ssim: must be ≥ 0, got ${o.lossWeights.ssim}`, { field: 'ssimWeight' });
  if (!Number.isInteger(o.adversarialOffAt) || o.adversarialOffAt < 0) throw new FocalError('E_ARGUMENT', `adversarialOffAt: must be an integer ≥ 0, got ${o.adversarialOffAt}`, { field: 'adversarialOffAt' });
  const mult = 2 ** o.levels;
  if (o.patchPx % mult !== 0) throw new FocalError('E_ARGUMENT', `patch: ${o.patchPx} px is not a multiple of ${mult} (2^levels)`, { field: 'patch' });
  if (o.msSsimScales > msSsimScalesFor(o.patchPx)) throw new FocalError('E_ARGUMENT', `msSsimScales: ${o.patchPx}-px patches allow at most ${msSsimScalesFor(o.patchPx)} MS-SSIM scales`, { field: 'msSsimScales' });
  if (options.validation.length === 0) throw new FocalError('E_ARGUMENT', 'validation: no validation pairs', { field: 'validation' });

  const ckpt = join(options.outDir, 'checkpoint');
  const csv = join(options.outDir, 'loss.csv');
  await mkdir(ckpt, { recursive: true });
  // Read and check a checkpoint to resume before any tensor is allocated: a refusal leaks nothing.
  let saved: State | undefined;
  if (options.resume) {
    try {
      saved = JSON.parse(await readFile(join(ckpt, 'state.json'), 'utf8')) as State;
    } catch {
      saved = undefined;
    }
    if (saved) {
      for (const k of ['baseChannels', 'levels'] as const) {
        if (saved.config[k] !== o[k]) throw new FocalError('E_ARGUMENT', `resume: the checkpoint was trained with ${k} ${saved.config[k]}, this run asks for ${o[k]}`, { field: k });
      }
      const changed = firstScheduleDifference(saved.config, o, saved.iteration);
      if (changed !== undefined) {
        throw new FocalError('E_ARGUMENT', `resume: this run's learning rates differ from the checkpoint's at iteration ${changed}, which is already trained (${saved.iteration}); a decay may start at iteration ${saved.iteration} or later`, { field: 'learningRateDecayAt' });
      }
      const savedOff = saved.config.adversarialOffAt ?? 0;
      if (savedOff !== o.adversarialOffAt && Math.min(...[savedOff, o.adversarialOffAt].filter((v) => v > 0)) < saved.iteration) {
        throw new FocalError('E_ARGUMENT', `resume: adversarialOffAt ${o.adversarialOffAt} would change iterations already trained (${saved.iteration}; the checkpoint's value: ${savedOff}); it may be set to ${saved.iteration} or later`, { field: 'adversarialOffAt' });
      }
      const savedAvg = saved.config.averageAfter ?? 0;
      if (savedAvg !== o.averageAfter && Math.min(...[savedAvg, o.averageAfter].filter((v) => v > 0)) < saved.iteration) {
        throw new FocalError('E_ARGUMENT', `resume: averageAfter ${o.averageAfter} would change the weight average of iterations already trained (${saved.iteration}; the checkpoint's value: ${savedAvg}); it may be set to ${saved.iteration} or later`, { field: 'averageAfter' });
      }
      // λ shapes every trained iteration from the first (adversarialOffAt only ends it later)
      if ((saved.config.lossWeights?.adversarial ?? DEFAULT_LOSS_WEIGHTS.adversarial) !== o.lossWeights.adversarial && saved.iteration > 0) {
        throw new FocalError('E_ARGUMENT', `resume: adversarial weight ${o.lossWeights.adversarial} differs from the checkpoint's (${saved.config.lossWeights?.adversarial}), which trained iterations 1–${saved.iteration}; to drop the term from now on use adversarialOffAt ${saved.iteration}`, { field: 'adversarialWeight' });
      }
      if ((saved.config.initFrom ?? '') !== o.initFrom) {
        throw new FocalError('E_ARGUMENT', `resume: the checkpoint's generator started from ${saved.config.initFrom ? `'${saved.config.initFrom}'` : 'a random initialisation'}, this run from ${o.initFrom ? `'${o.initFrom}'` : 'a random initialisation'}`, { field: 'initFrom' });
      }
      const ssimChanged = firstSsimTermDifference(saved.config, o, saved.iteration);
      if (ssimChanged !== undefined) {
        throw new FocalError('E_ARGUMENT', `resume: the SSIM term (weight ${o.lossWeights.ssim ?? 0} after iteration ${o.ssimTermAfter}) differs from the checkpoint's at iteration ${ssimChanged}, which is already trained (${saved.iteration}); it may start at iteration ${saved.iteration} or later`, { field: 'ssimTermAfter' });
      }
    }
  }
  const generator = buildGenerator(tf, { baseChannels: o.baseChannels, levels: o.levels, seed: o.seed * 1000 });
  const discriminator = buildDiscriminator(tf, { baseChannels: o.baseChannels, seed: o.seed * 1000 + 500 });
  const optG = tf.train.adam(o.generatorLearningRate);
  const optD = tf.train.adam(o.discriminatorLearningRate);
  const gVars = generator.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const dVars = discriminator.trainableWeights.map((w) => w.read() as tfTypes.Variable);

  let state: State = { iteration: 0, rngState: new SeededRandom(o.seed).state, bestIteration: 0, bestValidationBerhu: Infinity, bestValidationSsim: -Infinity, averageCount: 0, config: o };
  let average: NamedArray[] | undefined;
  let rows: LossRow[] = [];
  if (saved) {
    setModelArrays(tf, generator, await loadArrays(join(ckpt, 'generator')));
    setModelArrays(tf, discriminator, await loadArrays(join(ckpt, 'discriminator')));
    await setOptimizerArrays(tf, optG, await loadArrays(join(ckpt, 'adam-generator')));
    await setOptimizerArrays(tf, optD, await loadArrays(join(ckpt, 'adam-discriminator')));
    state = { ...saved, bestValidationBerhu: saved.bestValidationBerhu ?? Infinity, bestValidationSsim: saved.bestValidationSsim ?? NaN, averageCount: saved.averageCount ?? 0, config: o };
    if (state.averageCount! > 0) average = await loadArrays(join(ckpt, 'generator-average'));
    // another selection rule: the best so far was chosen by the other score, so the choice starts
    // afresh from the checkpoint's generator (scored now; earlier generators are not kept)
    if ((saved.config.bestBy ?? 'berhu') !== o.bestBy) {
      const v = validate(tf, generator, options.validation, o.patchPx, o.batchSize, o.msSsimScales);
      state = { ...state, bestIteration: saved.iteration, bestValidationBerhu: v.berhu, bestValidationSsim: v.ssim };
      await saveLayersModel(tf, generator, join(options.outDir, 'generator'));
    }
    try {
      rows = parseCsvRows(await readFile(csv, 'utf8')).filter((r) => r.iteration <= state.iteration);
    } catch {
      rows = [];
    }
  }
  if (!saved && options.initialGenerator) {
    // fine-tuning: start from the given weights, and let them be the best so far
    // match by layer/weight name (a loaded model lists its weights in another order, and tfjs
    // may suffix names with _1, _2… when several models live in one process)
    const base = (name: string) => name.replace(/(_\d+)+$/, '');
    const byName = new Map(options.initialGenerator.weights.map((a) => [base(a.name), a]));
    const ws = generator.weights;
    const init = ws.map((w) => byName.get(base(w.name)));
    const missing = ws.findIndex((_, i) => init[i] === undefined);
    const misfit = ws.findIndex((w, i) => init[i] !== undefined && init[i]!.shape.join('x') !== w.shape.join('x'));
    const mismatch = byName.size !== ws.length ? `${byName.size} weight tensors for a generator with ${ws.length}` : missing >= 0 ? `no weight ${base(ws[missing].name)}` : misfit >= 0 ? `weight ${base(ws[misfit].name)} has shape [${init[misfit]!.shape}], the generator's is [${ws[misfit].shape}]` : undefined;
    if (mismatch) {
      generator.dispose();
      discriminator.dispose();
      optG.dispose();
      optD.dispose();
      throw new FocalError('E_ARGUMENT', `initFrom: ${options.initialGenerator.source} does not fit a generator with baseChannels ${o.baseChannels} and levels ${o.levels} (${mismatch})`, { field: 'initFrom' });
    }
    setModelArrays(tf, generator, init as NamedArray[]);
    const v = validate(tf, generator, options.validation, o.patchPx, o.batchSize, o.msSsimScales);
    state = { ...state, bestIteration: 0, bestValidationBerhu: v.berhu, bestValidationSsim: v.ssim, initialValidation: { berhu: v.berhu, ssim: v.ssim } };
    await saveLayersModel(tf, generator, join(options.outDir, 'generator'));
  }
  await writeFile(csv, `${CSV_COLUMNS.join(',')}\n${rows.map(csvLine).join('\n')}${rows.length ? '\n' : ''}`);
  const rng = new SeededRandom(0);
  rng.state = state.rngState;

  const saveCheckpoint = async () => {
    await saveArrays(join(ckpt, 'generator'), modelArrays(generator));
    await saveArrays(join(ckpt, 'discriminator'), modelArrays(discriminator));
    await saveArrays(join(ckpt, 'adam-generator'), await optimizerArrays(optG));
    await saveArrays(join(ckpt, 'adam-discriminator'), await optimizerArrays(optD));
    if (average) await saveArrays(join(ckpt, 'generator-average'), average);
    const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : (null as unknown as number));
    const s: State = { ...state, rngState: rng.state, bestValidationBerhu: finite(state.bestValidationBerhu), bestValidationSsim: finite(state.bestValidationSsim) };
    await writeFile(join(ckpt, 'state.json'), JSON.stringify(s, null, 1));
  };

  const weightsWithoutSsim: LossWeights = { ...o.lossWeights, ssim: 0 };
  const t0 = Date.now();
  // rate and ETA: the rate counts the time of the updates only (validation would make it jump
  // every validateEvery iterations); validations are timed apart and added to the ETA
  const now = options.now ?? (() => performance.now());
  const rate = new RateEstimator({ windowMs: 60_000, minSamples: 11 });
  let trainingMs = 0;
  rate.add(state.iteration, o.iterations, trainingMs);
  let validationMs = 0;
  let validations = 0;
  let previous: { updatedAt: number; validated: boolean } | undefined;
  while (state.iteration < o.iterations) {
    throwIfAborted(options.signal);
    const startedAt = now();
    if (previous?.validated) {
      // from the end of the last iteration's updates: its validation, best model, checkpoint and plot
      validationMs += startedAt - previous.updatedAt;
      validations++;
    }
    const it = state.iteration + 1;
    const rates = learningRatesAt(o, it);
    setLearningRate(optG, rates.generator);
    setLearningRate(optD, rates.discriminator);
    const adversarialOn = adversarialActive(o, it);
    const ssimOn = ssimTermActive(o, it);
    const weights = ssimOn ? o.lossWeights : weightsWithoutSsim;
    let g = 0, adv = 0, ms = 0, bh = 0, ss = 0, d = 0;
    for (let u = 0; u < o.generatorUpdates; u++) {
      const { x, y } = trainingBatch(tf, o, options.sample, rng);
      let terms: number[] = [];
      const cost = optG.minimize(() => {
        const gx = generator.apply(x, { training: true }) as Tensor4D;
        const dg = adversarialOn ? (discriminator.apply(gx) as tfTypes.Tensor) : null;
        const l = generatorLoss(tf, y, gx, dg, weights, o.msSsimScales);
        terms = [l.adversarial ? l.adversarial.dataSync()[0] : NaN, l.msSsim.dataSync()[0], l.berhu.dataSync()[0], l.ssim ? l.ssim.dataSync()[0] : NaN];
        return l.total as tfTypes.Scalar;
      }, true, gVars);
      g += cost!.dataSync()[0];
      adv += terms[0];
      ms += terms[1];
      bh += terms[2];
      ss += terms[3];
      tf.dispose([cost!, x, y]);
    }
    for (let u = 0; adversarialOn && u < o.discriminatorUpdates; u++) {
      const { x, y } = trainingBatch(tf, o, options.sample, rng);
      const gx = generator.predict(x) as Tensor4D;
      const cost = optD.minimize(() => discriminatorLoss(tf, discriminator.apply(gx) as tfTypes.Tensor, discriminator.apply(y) as tfTypes.Tensor) as tfTypes.Scalar, true, dVars);
      d += cost!.dataSync()[0];
      tf.dispose([cost!, x, y, gx]);
    }
    state.iteration = it;
    const updatedAt = now();
    trainingMs += updatedAt - startedAt;
    const estimate = rate.add(it, o.iterations, trainingMs);
    const row: LossRow = {
      iteration: it,
      generator: g / o.generatorUpdates,
      adversarial: adversarialOn ? adv / o.generatorUpdates : undefined,
      msSsim: ms / o.generatorUpdates,
      berhu: bh / o.generatorUpdates,
      ssim: ssimOn ? ss / o.generatorUpdates : undefined,
      discriminator: adversarialOn ? d / o.discriminatorUpdates : undefined,
      seconds: (Date.now() - t0) / 1000,
    };
    const validating = it % o.validateEvery === 0 || it === o.iterations;
    let raw: NamedArray[] | undefined;
    if (validating && o.averageAfter > 0 && it > o.averageAfter) {
      // add this snapshot to the running mean and validate the mean; training goes on from the raw weights
      raw = modelArrays(generator).map((a) => ({ ...a, data: Float32Array.from(a.data) }));
      const n = (state.averageCount ?? 0) + 1;
      if (!average) average = raw.map((a) => ({ ...a, data: Float32Array.from(a.data) }));
      else {
        for (let i = 0; i < average.length; i++) {
          const m = average[i].data;
          const w = raw[i].data;
          for (let j = 0; j < m.length; j++) m[j] += (w[j] - m[j]) / n;
        }
      }
      state.averageCount = n;
      setModelArrays(tf, generator, average);
    }
    if (validating) {
      const v = validate(tf, generator, options.validation, o.patchPx, o.batchSize, o.msSsimScales);
      row.validationBerhu = v.berhu;
      row.validationMsSsim = v.msSsim;
      row.validationSsim = v.ssim;
      // a NaN best (a checkpoint from before SSIM was logged) is beaten by any score
      const better = o.bestBy === 'ssim' ? !(v.ssim <= (state.bestValidationSsim ?? -Infinity)) : v.berhu < state.bestValidationBerhu;
      if (better) {
        state.bestValidationBerhu = v.berhu;
        state.bestValidationSsim = v.ssim;
        state.bestIteration = it;
        await saveLayersModel(tf, generator, join(options.outDir, 'generator'));
      }
      if (raw) setModelArrays(tf, generator, raw);
    }
    rows.push(row);
    await appendFile(csv, `${csvLine(row)}\n`);
    if (options.onIteration) {
      const validationsLeft = validationsAfter(it, o.iterations, o.validateEvery);
      const etaMs = estimate.etaMs === undefined ? undefined : estimate.etaMs + (validations > 0 ? (validationsLeft * validationMs) / validations : 0);
      options.onIteration(row, { iteration: it, iterations: o.iterations, iterationsPerSecond: estimate.ratePerSecond, etaMs });
    }
    previous = { updatedAt, validated: validating };
    if (validating) {
      await saveCheckpoint();
      await writeLossPlot(join(options.outDir, 'loss.png'), rows);
    }
  }
  discriminator.dispose();
  optG.dispose();
  optD.dispose();
  return { iteration: state.iteration, bestIteration: state.bestIteration, bestValidationBerhu: state.bestValidationBerhu, bestValidationSsim: state.bestValidationSsim ?? NaN, rows, generator, config: o, ...(state.initialValidation ? { initialValidation: state.initialValidation } : {}) };
}
