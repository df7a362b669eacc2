/**
 * The learning kit's trainer: one loop for every learned plugin (issue 16).
 *
 * The plugin supplies a {@link TrainerSpec}: the network builders (a generator and, for a GAN,
 * a discriminator), the loss terms with their weights and the iterations they are active, a
 * batch sampler (drawing from the trainer's seeded RNG) and the validation metrics. The trainer
 * owns the loop: generator/discriminator update ratio, learning rates with step decay,
 * validation every N iterations with the best generator chosen by a named metric, weight
 * averaging, resumable checkpoints (refusing a resume whose settings would change trained
 * iterations), fine-tuning from initial weights, loss.csv and loss.png, progress with rate and
 * ETA, cancellation by AbortSignal and a JSON-serialisable event stream.
 *
 * Files in `outDir`: loss.csv (one row per iteration), loss.png (redrawn at each validation),
 * generator/ (the best generator, tfjs layers format) and, unless `checkpointDir` says
 * elsewhere, checkpoint/ (both networks, both Adam states, the RNG state, the iteration and the
 * settings; written at each validation and at the last iteration).
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { z } from 'zod';
import { FocalError, throwIfAborted } from '../errors.js';
import { SeededRandom } from '../numeric/random.js';
import { RateEstimator } from '../runtime/eta.js';
import type { Tf } from './backend.js';
import { loadArrays, modelArrays, optimizerArrays, saveArrays, setModelArrays, setOptimizerArrays, type NamedArray } from './checkpoint.js';
import { lsganDiscriminatorLoss } from './losses.js';
import { applyGradientArrays, averageGradients, discriminatorShardGradients, generatorShardGradients, GradientWorkers, splitBatch, type ParallelSpecRef } from './parallel.js';
import { renderLinePlot, type Series } from './plot.js';

type Tensor = tfTypes.Tensor;
type Scalar = tfTypes.Scalar;
type LayersModel = tfTypes.LayersModel;

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);

/** The loop's settings (everything that is not a plugin function). Parsed with zod; the field names are the error fields. */
export const TrainerSettingsSchema = z.object({
  /** Iterations to reach (total, including those of a resumed run). */
  iterations: positiveInt,
  /** Generator updates per iteration, each on a fresh batch. */
  generatorUpdates: positiveInt.default(1),
  /** Discriminator updates per iteration (while the adversarial term is active). */
  discriminatorUpdates: positiveInt.default(1),
  generatorLearningRate: z.number().positive().default(1e-3),
  discriminatorLearningRate: z.number().positive().default(1e-4),
  /**
   * Step decay: after each of these iterations (strictly ascending) both learning rates are
   * multiplied by the matching factor. [] or [0]: constant rates.
   */
  learningRateDecayAt: z.union([nonNegativeInt, z.array(nonNegativeInt)]).default([]),
  /** One factor for every step or one per step, each in (0, 1]. */
  learningRateDecayFactor: z.union([z.number(), z.array(z.number())]).default(0.1),
  /** Validate (and checkpoint) every this many iterations, and at the last. */
  validateEvery: positiveInt.default(50),
  /**
   * Weight averaging (SWA): from the first validation after this iteration the generator's
   * weights at each validation join an equal-weight running mean, which is what is validated
   * and may become the best generator; training continues from the raw weights. 0: off.
   */
  averageAfter: nonNegativeInt.default(0),
  seed: z.number().int().default(1),
});
export type TrainerSettings = z.output<typeof TrainerSettingsSchema>;
export type TrainerSettingsInput = z.input<typeof TrainerSettingsSchema>;

/** A generator loss term. Its weight multiplies the unweighted value the spec computes. */
export interface LossTerm {
  name: string;
  weight: number;
  /** Active only for iterations after this one (default 0: from the start). */
  after?: number;
  /** Inactive for iterations after this one (default 0: never switched off). */
  offAfter?: number;
  /** Error fields for resume refusals (default `<name>Weight`, `<name>After`, `<name>OffAfter`). */
  fields?: { weight?: string; after?: string; offAfter?: string };
}

/** Whether `term` is part of the generator loss at (1-based) iteration `it`: weight ≠ 0, after `after`, not after `offAfter`. */
export function termActive(term: LossTerm, it: number): boolean {
  const off = term.offAfter ?? 0;
  return term.weight !== 0 && it > (term.after ?? 0) && !(off > 0 && it > off);
}

/** A training (or validation) batch: the network's inputs and its target. Disposed by the trainer. */
export interface TrainBatch {
  inputs: Tensor[];
  target: Tensor;
}

/** What a plugin gives the trainer. */
export interface TrainerSpec {
  /** Builds the generator (seeded by the plugin; called once per run). */
  buildGenerator(): LayersModel;
  /** Builds the discriminator of a GAN (absent: no discriminator, `adversarialTerm` is ignored). */
  buildDiscriminator?(): LayersModel;
  /** Generator loss terms, in the order their weighted values are summed. */
  terms: LossTerm[];
  /**
   * The unweighted value (batch mean, scalar) of each active term (`active` names them) for one
   * batch. `critic` is the discriminator's output on the generator's output when the
   * adversarial term is active, else null. Runs inside the optimizer's gradient tape.
   */
  termValues(tf: Tf, a: { batch: TrainBatch; output: Tensor; critic: Tensor | null; active: ReadonlySet<string> }): Record<string, Tensor>;
  /** The term whose activity switches the discriminator on (and feeds `critic`). */
  adversarialTerm?: string;
  /** Discriminator output on an image (default `discriminator.apply(image)`; a conditional one may also take the inputs). */
  critic?(discriminator: LayersModel, batch: TrainBatch, image: Tensor): Tensor;
  /** Discriminator loss from its outputs on generated and real images (default least-squares). */
  discriminatorLoss?(tf: Tf, fake: Tensor, real: Tensor): Tensor;
  /**
   * How the generator runs while it learns: 'batch' (default) normalises each batch-normalisation
   * layer by the batch's own statistics and updates the moving averages; 'frozen' runs the
   * generator in inference mode — the moving averages normalise, and are not updated (gamma and
   * beta still learn) — so training and inference normalise alike: fine-tuning. 'frozen' also
   * switches off any dropout of the generator.
   */
  batchNorm?: 'batch' | 'frozen';
  /** Draws one training batch from `rng` (the trainer's seeded RNG, saved in checkpoints). */
  sampleBatch(tf: Tf, rng: SeededRandom): TrainBatch;
  /** Validation metrics of a generator (means over the plugin's validation set). */
  validate(tf: Tf, generator: LayersModel): Record<string, number>;
  /** The metric that picks the best generator, and whether lower or higher is better. */
  bestBy: { metric: string; better: 'lower' | 'higher' };
  /**
   * Values a resumed run must repeat (architecture, data, the initial weights' source…):
   * a difference is refused with the key as the error field.
   */
  fixed?: Record<string, string | number | boolean>;
  /** loss.csv columns in order (default: iteration, generator, the terms, discriminator, the validation metrics as validation<Metric>, seconds). New columns must go last so older files still parse on resume. */
  csvColumns?: readonly string[];
  /** Draws loss.png from the rows (default {@link renderLossPlot} of every column). */
  plot?(rows: LossRowValues[]): Uint8Array;
  /** Written as `generatedBy` in the best generator's model.json. */
  generatedBy?: string;
  /** The generator in words for error messages (e.g. 'a generator with baseChannels 8 and levels 2'). */
  architecture?: string;
  /** The plugin's own resolved options, recorded as `config` in checkpoint/state.json (for people and tools; not compared on resume, `fixed` is). */
  config?: Record<string, unknown>;
  /** How a worker thread builds this spec's networks and terms (parallel.ts); needed for `workers` > 1. */
  parallel?: ParallelSpecRef;
}

/** Weights a run starts from instead of a random initialisation (fine-tuning). */
export interface InitialWeights {
  weights: NamedArray[];
  /** Names the weights (e.g. a model package and version); a resumed run must name the same. */
  source: string;
}

/** One row of loss.csv: means over the iteration's updates (absent terms were inactive), validation columns on validation iterations. */
export type LossRowValues = Record<string, number | undefined> & { iteration: number; generator: number; seconds: number };

export interface TrainerProgress {
  iteration: number;
  iterations: number;
  /** Iterations per second over the last minute, updates only; undefined until measured. */
  iterationsPerSecond: number | undefined;
  /** Time left, ms, with the validations left at their mean time; undefined until measured. */
  etaMs: number | undefined;
}

/** The trainer's events; every one is JSON-serialisable (the CLI prints them with `--json`). */
export type TrainerEvent =
  | { event: 'start'; iteration: number; iterations: number; resumed: boolean }
  | { event: 'initial'; metrics: Record<string, number> }
  /** One per iteration, after its validation; `row` is its loss.csv row. */
  | { event: 'iteration'; row: LossRowValues; progress: TrainerProgress }
  | { event: 'best'; iteration: number; metrics: Record<string, number> }
  | { event: 'checkpoint'; iteration: number; dir: string };

export interface TrainerRun {
  outDir: string;
  /** Checkpoint folder (default `<outDir>/checkpoint`); keep it outside the source tree. */
  checkpointDir?: string;
  resume?: boolean;
  initialWeights?: InitialWeights;
  signal?: AbortSignal;
  /** Called with every event, in order (synchronously; the loop goes on when it returns). */
  onEvent?: (e: TrainerEvent) => void;
  /** Clock for rate and ETA (ms; default performance.now). For tests. */
  now?: () => number;
  /**
   * Threads that compute each update's gradients (data-parallel, parallel.ts): the main thread
   * and `workers` − 1 worker threads, each on a shard of the batch; default 1. Needs
   * `spec.parallel`. Not part of the checkpoint's settings: a run may resume with another count.
   */
  workers?: number;
}

export interface TrainerResult {
  iteration: number;
  bestIteration: number;
  /** Validation metrics of the best generator. */
  best: Record<string, number>;
  rows: LossRowValues[];
  /** The generator as trained (raw weights, not the best; the best is in `<outDir>/generator`). */
  generator: LayersModel;
  settings: TrainerSettings;
  /** With initial weights: their validation before iteration 1. */
  initialValidation?: Record<string, number>;
}

interface TrainerState {
  format: 'focal-trainer-state';
  iteration: number;
  rngState: number;
  bestIteration: number;
  /** Validation metrics of the best generator (null: none yet). */
  best: Record<string, number> | null;
  averageCount: number;
  initialValidation?: Record<string, number>;
  settings: TrainerSettings;
  terms: { name: string; weight: number; after: number; offAfter: number }[];
  bestBy: TrainerSpec['bestBy'];
  fixed: Record<string, string | number | boolean>;
  initFrom: string;
  config?: Record<string, unknown>;
}

/** A schedule as settings (or an older record) hold it; absent steps: none, absent factor: 0.1. */
export interface DecaySchedule {
  generatorLearningRate: number;
  discriminatorLearningRate: number;
  learningRateDecayAt?: number | readonly number[];
  learningRateDecayFactor?: number | readonly number[];
}

/** Decay steps (0 → none) and one factor per step, validated (fields named in errors). */
export function resolveDecay(s: Pick<DecaySchedule, 'learningRateDecayAt' | 'learningRateDecayFactor'>): { at: number[]; factor: number[] } {
  const raw = s.learningRateDecayAt ?? [];
  const list = typeof raw === 'number' ? [raw] : [...raw];
  for (const v of list) {
    if (!Number.isInteger(v) || v < 0) throw new FocalError('E_ARGUMENT', `learningRateDecayAt: must be integers ≥ 0, got ${v}`, { field: 'learningRateDecayAt' });
  }
  const at = list.filter((v) => v !== 0);
  if (at.length !== list.length && list.length > 1) throw new FocalError('E_ARGUMENT', `learningRateDecayAt: 0 (no decay) cannot be combined with steps, got ${list.join(',')}`, { field: 'learningRateDecayAt' });
  for (let i = 1; i < at.length; i++) {
    if (at[i] <= at[i - 1]) throw new FocalError('E_ARGUMENT', `learningRateDecayAt: steps must be strictly ascending, got ${at.join(',')}`, { field: 'learningRateDecayAt' });
  }
  const f = s.learningRateDecayFactor ?? 0.1;
  const factor = typeof f === 'number' ? at.map(() => f) : [...f];
  if (typeof f !== 'number' && factor.length !== at.length) throw new FocalError('E_ARGUMENT', `learningRateDecayFactor: ${factor.length} factors for ${at.length} decay steps (give one factor, or one per step)`, { field: 'learningRateDecayFactor' });
  for (const v of typeof f === 'number' ? [f] : factor) {
    if (!(v > 0 && v <= 1)) throw new FocalError('E_ARGUMENT', `learningRateDecayFactor: must be in (0, 1], got ${v}`, { field: 'learningRateDecayFactor' });
  }
  return { at, factor };
}

/** Both learning rates at (1-based) iteration `it`. */
export function learningRatesAt(s: DecaySchedule, it: number): { generator: number; discriminator: number } {
  const { at, factor } = resolveDecay(s);
  let f = 1;
  for (let i = 0; i < at.length; i++) if (it > at[i]) f *= factor[i];
  return { generator: s.generatorLearningRate * f, discriminator: s.discriminatorLearningRate * f };
}

/** Validations still to come after iteration `it`: every `every`-th iteration and the last one. */
export function validationsAfter(it: number, iterations: number, every: number): number {
  if (it >= iterations) return 0;
  return Math.floor(iterations / every) - Math.floor(it / every) + (iterations % every !== 0 ? 1 : 0);
}

/** Parses settings, naming the first bad field in a FocalError `E_ARGUMENT`. */
export function parseTrainerSettings(input: TrainerSettingsInput): TrainerSettings {
  const r = TrainerSettingsSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = String(issue.path[0] ?? 'settings');
    throw new FocalError('E_ARGUMENT', `${field}: ${issue.message}`, { field });
  }
  resolveDecay(r.data);
  return r.data;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** The loss.csv column of a validation metric. */
export const validationColumn = (metric: string) => `validation${capitalise(metric)}`;

function csvColumnsOf(spec: TrainerSpec, metrics: string[]): string[] {
  return [...(spec.csvColumns ?? ['iteration', 'generator', ...spec.terms.map((t) => t.name), ...(spec.buildDiscriminator ? ['discriminator'] : []), ...metrics.map(validationColumn), 'seconds'])];
}

function csvLine(columns: readonly string[], r: LossRowValues): string {
  return columns.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(',');
}

/** Reads loss.csv rows (empty cells: undefined); columns from the file's header. */
export function parseLossCsv(text: string): LossRowValues[] {
  const lines = text.trim().split('\n');
  const header = (lines[0] ?? '').split(',');
  return lines.slice(1).filter((l) => l !== '').map((l) => {
    const v = l.split(',');
    const row: Record<string, number | undefined> = {};
    header.forEach((c, i) => (row[c] = v[i] === '' || v[i] === undefined ? undefined : Number(v[i])));
    return row as LossRowValues;
  });
}

const PALETTE: [number, number, number][] = [[0, 0, 0], [230, 120, 0], [0, 110, 220], [0, 160, 60], [120, 190, 240], [160, 0, 160], [220, 0, 0], [240, 110, 170], [120, 120, 0], [0, 150, 150]];

/**
 * The series of loss.png: every loss column and every validation metric over the iterations. A
 * metric in [0, 1] where higher is better (`higherIsBetter`) is drawn as 1 − value. A column
 * equal to an earlier one at every iteration (the total loss of a single unit-weight term, such
 * as TSVA's `generator` and `mse`) is drawn once, labelled with both names (`generator = mse`).
 * A camel-case column name is labelled in words (`validationMse` → `validation mse`): the chart's
 * font has capitals only, which would run the words together.
 */
export function lossPlotSeries(rows: LossRowValues[], columns: readonly string[], higherIsBetter: ReadonlySet<string> = new Set()): Series[] {
  const series: Series[] = [];
  for (const c of columns) {
    if (c === 'iteration' || c === 'seconds') continue;
    const pts = rows.filter((r) => r[c] !== undefined);
    if (pts.length === 0) continue;
    const flip = higherIsBetter.has(c);
    const words = c.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
    const label = flip ? `1 - ${words}` : words;
    const x = pts.map((r) => r.iteration);
    const y = pts.map((r) => (flip ? 1 - r[c]! : r[c]!));
    const same = series.find((s) => s.x.length === x.length && s.x.every((v, i) => v === x[i]) && s.y.every((v, i) => Math.abs(v - y[i]) <= 1e-9 * Math.max(Math.abs(v), Math.abs(y[i]))));
    if (same) same.label = `${same.label} = ${label}`;
    else series.push({ label, colour: PALETTE[series.length % PALETTE.length], x, y });
  }
  return series;
}

/** loss.png: {@link lossPlotSeries} on a log scale. */
export function renderLossPlot(rows: LossRowValues[], columns: readonly string[], higherIsBetter: ReadonlySet<string> = new Set()): Uint8Array {
  return renderLinePlot(lossPlotSeries(rows, columns, higherIsBetter), 800, 400, { xTitle: 'iteration', yTitle: 'loss and validation metrics (unitless, log scale)' });
}

/** The tfjs layers-format artifacts of a model (model.json + weights.bin in one folder). */
export async function saveLayersModel(tf: Tf, model: LayersModel, dir: string, generatedBy = 'focal'): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(await new Blob((a.weightData ?? []) as ArrayBuffer[]).arrayBuffer());
      await writeFile(join(dir, 'weights.bin'), data);
      await writeFile(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', generatedBy, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Loads what {@link saveLayersModel} wrote. */
export async function loadLayersModel(tf: Tf, dir: string): Promise<LayersModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const buf = await readFile(join(dir, 'weights.bin'));
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) }));
}

/**
 * Orders `weights` as `model.weights`, matching by layer/weight name (a loaded model lists its
 * weights in another order, and tfjs suffixes names with _1, _2… when several models share a
 * process). @returns the arrays, or a sentence saying why they do not fit.
 */
export function matchWeights(model: LayersModel, weights: NamedArray[]): NamedArray[] | string {
  const base = (name: string) => name.replace(/(_\d+)+$/, '');
  const byName = new Map(weights.map((a) => [base(a.name), a]));
  const ws = model.weights;
  const init = ws.map((w) => byName.get(base(w.name)));
  const missing = ws.findIndex((_, i) => init[i] === undefined);
  const misfit = ws.findIndex((w, i) => init[i] !== undefined && init[i]!.shape.join('x') !== w.shape.join('x'));
  if (byName.size !== ws.length) return `${byName.size} weight tensors for a generator with ${ws.length}`;
  if (missing >= 0) return `no weight ${base(ws[missing].name)}`;
  if (misfit >= 0) return `weight ${base(ws[misfit].name)} has shape [${init[misfit]!.shape}], the generator's is [${ws[misfit].shape}]`;
  return init as NamedArray[];
}

function termsOf(spec: TrainerSpec): TrainerState['terms'] {
  return spec.terms.map((t) => ({ name: t.name, weight: t.weight, after: t.after ?? 0, offAfter: t.offAfter ?? 0 }));
}

/** Why resuming `saved` with `now` would change iterations already trained; undefined: it would not. */
function resumeConflict(spec: TrainerSpec, saved: TrainerState, now: Omit<TrainerState, 'iteration' | 'rngState' | 'bestIteration' | 'best' | 'averageCount'>): FocalError | undefined {
  const done = saved.iteration;
  for (const [k, v] of Object.entries(now.fixed)) {
    if (saved.fixed[k] !== v) return new FocalError('E_ARGUMENT', `resume: the checkpoint was trained with ${k} ${String(saved.fixed[k])}, this run asks for ${String(v)}`, { field: k });
  }
  // a setting the checkpoint recorded and this run does not (a plugin records some only when not their default)
  for (const [k, v] of Object.entries(saved.fixed ?? {})) {
    if (!(k in now.fixed)) return new FocalError('E_ARGUMENT', `resume: the checkpoint was trained with ${k} ${String(v)}, this run does not set it`, { field: k });
  }
  if (saved.initFrom !== now.initFrom) {
    const name = (s: string) => (s ? `'${s}'` : 'a random initialisation');
    return new FocalError('E_ARGUMENT', `resume: the checkpoint's generator started from ${name(saved.initFrom)}, this run from ${name(now.initFrom)}`, { field: 'initFrom' });
  }
  // learning rates are piecewise constant: compare at the start of every piece of either schedule
  const a = saved.settings;
  const b = now.settings;
  const starts = [1, ...resolveDecay(a).at.map((k) => k + 1), ...resolveDecay(b).at.map((k) => k + 1)].filter((p) => p <= done).sort((x, y) => x - y);
  for (const it of starts) {
    const ra = learningRatesAt(a, it);
    const rb = learningRatesAt(b, it);
    if (ra.generator !== rb.generator || ra.discriminator !== rb.discriminator) {
      return new FocalError('E_ARGUMENT', `resume: this run's learning rates differ from the checkpoint's at iteration ${it}, which is already trained (${done}); a decay may start at iteration ${done} or later`, { field: 'learningRateDecayAt' });
    }
  }
  for (const t of spec.terms) {
    const x = saved.terms.find((s) => s.name === t.name) ?? { name: t.name, weight: 0, after: 0, offAfter: 0 };
    const y = now.terms.find((s) => s.name === t.name)!;
    const points = [1, x.after + 1, y.after + 1, x.offAfter + 1, y.offAfter + 1].filter((p) => p <= done).sort((p, q) => p - q);
    const w = (s: LossTerm, it: number) => (termActive(s, it) ? s.weight : 0);
    const at = points.find((it) => w(x, it) !== w(y, it));
    if (at === undefined) continue;
    const field = x.weight !== y.weight ? (t.fields?.weight ?? `${t.name}Weight`) : x.after !== y.after ? (t.fields?.after ?? `${t.name}After`) : (t.fields?.offAfter ?? `${t.name}OffAfter`);
    return new FocalError('E_ARGUMENT', `resume: the ${t.name} term (weight ${y.weight}, active after iteration ${y.after}${y.offAfter ? ` until ${y.offAfter}` : ''}) differs from the checkpoint's (weight ${x.weight}, after ${x.after}${x.offAfter ? ` until ${x.offAfter}` : ''}) at iteration ${at}, which is already trained (${done}); a change may start at iteration ${done} or later`, { field });
  }
  const sa = a.averageAfter;
  const sb = b.averageAfter;
  if (sa !== sb && Math.min(...[sa, sb].filter((v) => v > 0)) < done) {
    return new FocalError('E_ARGUMENT', `resume: averageAfter ${sb} would change the weight average of iterations already trained (${done}; the checkpoint's value: ${sa}); it may be set to ${done} or later`, { field: 'averageAfter' });
  }
  return undefined;
}

/** tfjs' Adam reads its `learningRate` field at each update. */
function setLearningRate(opt: tfTypes.Optimizer, rate: number): void {
  (opt as unknown as { learningRate: number }).learningRate = rate;
}

function isBetter(bestBy: TrainerSpec['bestBy'], v: Record<string, number>, best: Record<string, number> | null): boolean {
  const x = v[bestBy.metric];
  if (x === undefined) throw new FocalError('E_ARGUMENT', `bestBy: validation gives no metric '${bestBy.metric}' (it gives ${Object.keys(v).join(', ')})`, { field: 'bestBy' });
  const b = best?.[bestBy.metric];
  // no best yet, or a non-finite one, is beaten by any score
  if (b === undefined || b === null || !Number.isFinite(b)) return true;
  return bestBy.better === 'lower' ? x < b : x > b;
}

/** Term schedules are whole iterations; `workers` needs a spec that names its parallel module. */
function checkTermsAndWorkers(spec: TrainerSpec, run: TrainerRun): void {
  for (const t of spec.terms) {
    for (const k of ['after', 'offAfter'] as const) {
      const v = t[k] ?? 0;
      if (!Number.isInteger(v) || v < 0) throw new FocalError('E_ARGUMENT', `${t.name}.${k}: must be an integer ≥ 0, got ${v}`, { field: t.fields?.[k] ?? `${t.name}${capitalise(k)}` });
    }
  }
  if (run.workers !== undefined && (!Number.isInteger(run.workers) || run.workers < 1)) throw new FocalError('E_ARGUMENT', `workers: must be a positive integer, got ${run.workers}`, { field: 'workers' });
  if ((run.workers ?? 1) > 1 && !spec.parallel) throw new FocalError('E_ARGUMENT', `workers: this trainer cannot train in parallel (its spec names no parallel module), got ${run.workers}`, { field: 'workers' });
}

/** The checkpoint's state when there is one to resume (undefined: none), refused when resuming it would change trained iterations. */
async function readResumableState(spec: TrainerSpec, ckpt: string, now: Omit<TrainerState, 'iteration' | 'rngState' | 'bestIteration' | 'best' | 'averageCount'>): Promise<TrainerState | undefined> {
  let saved: TrainerState | undefined;
  try {
    saved = JSON.parse(await readFile(join(ckpt, 'state.json'), 'utf8')) as TrainerState;
  } catch {
    return undefined;
  }
  if (saved.format !== 'focal-trainer-state') throw new FocalError('E_ARGUMENT', `resume: ${join(ckpt, 'state.json')} is not a trainer checkpoint`, { field: 'checkpoint' });
  const conflict = resumeConflict(spec, saved, now);
  if (conflict) throw conflict;
  return saved;
}

/** The networks and optimizers of a run (and its data-parallel workers, if any). */
interface Networks {
  generator: LayersModel;
  discriminator: LayersModel | undefined;
  optG: tfTypes.Optimizer;
  optD: tfTypes.Optimizer | undefined;
  gVars: tfTypes.Variable[];
  dVars: tfTypes.Variable[] | undefined;
  pool: GradientWorkers | undefined;
}

/** Loads both networks' weights and Adam states from a checkpoint folder. */
async function restoreNetworks(tf: Tf, n: Networks, ckpt: string): Promise<void> {
  setModelArrays(tf, n.generator, await loadArrays(join(ckpt, 'generator')));
  await setOptimizerArrays(tf, n.optG, await loadArrays(join(ckpt, 'adam-generator')));
  if (n.discriminator && n.optD) {
    setModelArrays(tf, n.discriminator, await loadArrays(join(ckpt, 'discriminator')));
    await setOptimizerArrays(tf, n.optD, await loadArrays(join(ckpt, 'adam-discriminator')));
  }
}

/** The running mean of weight snapshots with the `count`-th snapshot `raw` added (`average` is updated in place; the first snapshot is copied). */
function addToAverage(average: NamedArray[] | undefined, raw: NamedArray[], count: number): NamedArray[] {
  if (!average) return raw.map((a) => ({ ...a, data: Float32Array.from(a.data) }));
  for (let i = 0; i < average.length; i++) {
    const m = average[i].data;
    const w = raw[i].data;
    for (let j = 0; j < m.length; j++) m[j] += (w[j] - m[j]) / count;
  }
  return average;
}

const defaultCritic = (d: LayersModel, _b: TrainBatch, image: Tensor) => d.apply(image) as Tensor;
const generatorInput = (b: TrainBatch) => (b.inputs.length === 1 ? b.inputs[0] : b.inputs);

/** One generator update on `batch` (disposed here): the weighted sum of the active terms, on one thread or data-parallel. */
async function updateGenerator(tf: Tf, spec: TrainerSpec, n: Networks, batch: TrainBatch, active: ReadonlySet<string>, adversarialOn: boolean): Promise<{ cost: number; values: [string, number][] }> {
  try {
    if (n.pool) {
      const avg = await parallelGeneratorUpdate(tf, spec, n.pool, batch, n.generator, adversarialOn ? n.discriminator : undefined, spec.terms.filter((t) => active.has(t.name)), n.gVars);
      applyGradientArrays(tf, n.optG, n.gVars, avg.grads);
      return { cost: avg.cost, values: avg.values };
    }
    const critic = spec.critic ?? defaultCritic;
    let values: [string, number][] = [];
    const cost = n.optG.minimize(() => {
      const out = n.generator.apply(generatorInput(batch), { training: spec.batchNorm !== 'frozen' }) as Tensor;
      const c = adversarialOn ? critic(n.discriminator!, batch, out) : null;
      const v = spec.termValues(tf, { batch, output: out, critic: c, active });
      const weighted: Tensor[] = [];
      values = [];
      for (const t of spec.terms) {
        if (!active.has(t.name)) continue;
        const x = v[t.name];
        if (!x) throw new FocalError('E_PLUGIN', `trainer: the spec computed no value for the active term '${t.name}'`);
        weighted.push(tf.mul(x, t.weight));
        values.push([t.name, x.dataSync()[0]]);
      }
      return tf.addN(weighted) as Scalar;
    }, true, n.gVars)!;
    const c = cost.dataSync()[0];
    cost.dispose();
    return { cost: c, values };
  } finally {
    tf.dispose([...batch.inputs, batch.target]);
  }
}

/** One discriminator update on `batch` (disposed here), on one thread or data-parallel; its loss. */
async function updateDiscriminator(tf: Tf, spec: TrainerSpec, n: Networks, batch: TrainBatch): Promise<number> {
  const lossOf = spec.discriminatorLoss ?? ((t: Tf, fake: Tensor, real: Tensor) => lsganDiscriminatorLoss(t, fake, real));
  const critic = spec.critic ?? defaultCritic;
  const d = n.discriminator!;
  try {
    if (n.pool) {
      const shards = splitBatch(tf, batch, n.pool.size + 1);
      try {
        const remote = n.pool.discriminator(shards.slice(1), n.generator, d);
        const local = discriminatorShardGradients(tf, spec, n.generator, d, shards[0], n.dVars!, lossOf);
        const avg = averageGradients([local, ...(await Promise.all(remote))], shards.map((x) => x.target.shape[0]));
        applyGradientArrays(tf, n.optD!, n.dVars!, avg.grads);
        return avg.cost;
      } finally {
        tf.dispose(shards.flatMap((x) => [...x.inputs, x.target]));
      }
    }
    const out = n.generator.predict(generatorInput(batch)) as Tensor;
    const cost = n.optD!.minimize(() => lossOf(tf, critic(d, batch, out), critic(d, batch, batch.target)) as Scalar, true, n.dVars)!;
    const c = cost.dataSync()[0];
    tf.dispose([cost, out]);
    return c;
  } finally {
    tf.dispose([...batch.inputs, batch.target]);
  }
}

/** One generator update's gradients over the main thread and the workers, averaged. */
async function parallelGeneratorUpdate(tf: Tf, spec: TrainerSpec, pool: GradientWorkers, batch: TrainBatch, generator: LayersModel, discriminator: LayersModel | undefined, terms: LossTerm[], vars: tfTypes.Variable[]) {
  const shards = splitBatch(tf, batch, pool.size + 1);
  const list = terms.map((t) => ({ name: t.name, weight: t.weight }));
  try {
    const remote = pool.generator(shards.slice(1), generator, discriminator, list);
    const local = generatorShardGradients(tf, spec, generator, discriminator, shards[0], list, vars);
    return averageGradients([local, ...(await Promise.all(remote))], shards.map((x) => x.target.shape[0]));
  } finally {
    tf.dispose(shards.flatMap((x) => [...x.inputs, x.target]));
  }
}

/**
 * Trains a plugin's networks (see the module comment). With `run.resume` and a checkpoint,
 * continues exactly where it stopped: weights, optimizer moments, RNG state, weight average,
 * best so far and loss rows; a resume whose settings would change iterations already trained
 * is refused (FocalError `E_ARGUMENT` naming the field) before any tensor is allocated.
 * A changed `bestBy` restarts the choice of the best from the checkpoint's generator.
 */
export async function train(tf: Tf, spec: TrainerSpec, settingsInput: TrainerSettingsInput, run: TrainerRun): Promise<TrainerResult> {
  const s = parseTrainerSettings(settingsInput);
  checkTermsAndWorkers(spec, run);
  const ckpt = run.checkpointDir ?? join(run.outDir, 'checkpoint');
  const csv = join(run.outDir, 'loss.csv');
  const now: Omit<TrainerState, 'iteration' | 'rngState' | 'bestIteration' | 'best' | 'averageCount'> = {
    format: 'focal-trainer-state', settings: s, terms: termsOf(spec), bestBy: spec.bestBy, fixed: spec.fixed ?? {}, initFrom: run.initialWeights?.source ?? '', ...(spec.config ? { config: spec.config } : {}),
  };
  await mkdir(ckpt, { recursive: true });
  await mkdir(run.outDir, { recursive: true });
  const saved = run.resume ? await readResumableState(spec, ckpt, now) : undefined;

  const generator = spec.buildGenerator();
  const discriminator = spec.buildDiscriminator?.();
  const optG = tf.train.adam(s.generatorLearningRate);
  const optD = discriminator ? tf.train.adam(s.discriminatorLearningRate) : undefined;
  const gVars = generator.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const dVars = discriminator?.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const workers = run.workers ?? 1;
  let pool: GradientWorkers | undefined;
  const nets: Networks = { generator, discriminator, optG, optD, gVars, dVars, pool: undefined };
  const release = () => {
    discriminator?.dispose();
    optG.dispose();
    optD?.dispose();
    void pool?.close();
  };
  const emit = (e: TrainerEvent) => run.onEvent?.(e);
  const generatedBy = spec.generatedBy ?? 'focal';

  let state: TrainerState = { ...now, iteration: 0, rngState: new SeededRandom(s.seed).state, bestIteration: 0, best: null, averageCount: 0 };
  let average: NamedArray[] | undefined;
  let rows: LossRowValues[] = [];
  try {
    if (workers > 1) {
      const { activeBackend } = await import('./backend.js');
      pool = await GradientWorkers.start(spec.parallel!, workers - 1, activeBackend() ?? tf.getBackend());
      nets.pool = pool;
    }
    if (saved) {
      await restoreNetworks(tf, nets, ckpt);
      state = { ...saved, ...now };
      if (state.averageCount > 0) average = await loadArrays(join(ckpt, 'generator-average'));
      if (saved.bestBy.metric !== spec.bestBy.metric || saved.bestBy.better !== spec.bestBy.better) {
        // another rule: the best so far was chosen by another score, so the choice starts afresh
        // from the checkpoint's generator (earlier generators are not kept)
        const v = spec.validate(tf, generator);
        state = { ...state, bestIteration: saved.iteration, best: v };
        await saveLayersModel(tf, generator, join(run.outDir, 'generator'), generatedBy);
      }
      try {
        rows = parseLossCsv(await readFile(csv, 'utf8')).filter((r) => r.iteration <= state.iteration);
      } catch {
        rows = [];
      }
    } else if (run.initialWeights) {
      const init = matchWeights(generator, run.initialWeights.weights);
      if (typeof init === 'string') throw new FocalError('E_ARGUMENT', `initFrom: ${run.initialWeights.source} does not fit ${spec.architecture ?? 'the generator'} (${init})`, { field: 'initFrom' });
      setModelArrays(tf, generator, init);
      const v = spec.validate(tf, generator);
      state = { ...state, bestIteration: 0, best: v, initialValidation: v };
      await saveLayersModel(tf, generator, join(run.outDir, 'generator'), generatedBy);
      emit({ event: 'initial', metrics: v });
    }
  } catch (e) {
    release();
    generator.dispose();
    throw e;
  }
  const metricNames = state.best ? Object.keys(state.best) : [];
  let columns: string[] | undefined = spec.csvColumns ? [...spec.csvColumns] : metricNames.length ? csvColumnsOf(spec, metricNames) : undefined;
  const writeHeader = async () => writeFile(csv, `${columns!.join(',')}\n${rows.map((r) => csvLine(columns!, r)).join('\n')}${rows.length ? '\n' : ''}`);
  if (columns) await writeHeader();
  const rng = new SeededRandom(0);
  rng.state = state.rngState;
  const higherBetter = new Set<string>(spec.bestBy.better === 'higher' ? [validationColumn(spec.bestBy.metric)] : []);

  const saveCheckpoint = async () => {
    await saveArrays(join(ckpt, 'generator'), modelArrays(generator));
    await saveArrays(join(ckpt, 'adam-generator'), await optimizerArrays(optG));
    if (discriminator && optD) {
      await saveArrays(join(ckpt, 'discriminator'), modelArrays(discriminator));
      await saveArrays(join(ckpt, 'adam-discriminator'), await optimizerArrays(optD));
    }
    if (average) await saveArrays(join(ckpt, 'generator-average'), average);
    await writeFile(join(ckpt, 'state.json'), JSON.stringify({ ...state, rngState: rng.state }, null, 1));
    emit({ event: 'checkpoint', iteration: state.iteration, dir: ckpt });
  };

  emit({ event: 'start', iteration: state.iteration, iterations: s.iterations, resumed: saved !== undefined });
  const t0 = Date.now();
  const clock = run.now ?? (() => performance.now());
  const rate = new RateEstimator({ windowMs: 60_000, minSamples: 11 });
  let trainingMs = 0;
  rate.add(state.iteration, s.iterations, trainingMs);
  let validationMs = 0;
  let validations = 0;
  let previous: { updatedAt: number; validated: boolean } | undefined;
  try {
    while (state.iteration < s.iterations) {
      throwIfAborted(run.signal);
      const startedAt = clock();
      if (previous?.validated) {
        validationMs += startedAt - previous.updatedAt;
        validations++;
      }
      const it = state.iteration + 1;
      const rates = learningRatesAt(s, it);
      setLearningRate(optG, rates.generator);
      if (optD) setLearningRate(optD, rates.discriminator);
      const active = new Set(spec.terms.filter((t) => termActive(t, it)).map((t) => t.name));
      const adversarialOn = discriminator !== undefined && spec.adversarialTerm !== undefined && active.has(spec.adversarialTerm);
      const sums = new Map<string, number>();
      let g = 0;
      let d = 0;
      for (let u = 0; u < s.generatorUpdates; u++) {
        const r = await updateGenerator(tf, spec, nets, spec.sampleBatch(tf, rng), active, adversarialOn);
        g += r.cost;
        for (const [k, v] of r.values) sums.set(k, (sums.get(k) ?? 0) + v);
      }
      for (let u = 0; adversarialOn && u < s.discriminatorUpdates; u++) d += await updateDiscriminator(tf, spec, nets, spec.sampleBatch(tf, rng));
      state.iteration = it;
      const updatedAt = clock();
      trainingMs += updatedAt - startedAt;
      const estimate = rate.add(it, s.iterations, trainingMs);
      const row: LossRowValues = { iteration: it, generator: g / s.generatorUpdates, seconds: 0 };
      for (const t of spec.terms) row[t.name] = sums.has(t.name) ? sums.get(t.name)! / s.generatorUpdates : undefined;
      if (discriminator) row.discriminator = adversarialOn ? d / s.discriminatorUpdates : undefined;
      row.seconds = (Date.now() - t0) / 1000;
      const validating = it % s.validateEvery === 0 || it === s.iterations;
      let raw: NamedArray[] | undefined;
      if (validating && s.averageAfter > 0 && it > s.averageAfter) {
        // add this snapshot to the running mean and validate the mean; training goes on from the raw weights
        raw = modelArrays(generator).map((a) => ({ ...a, data: Float32Array.from(a.data) }));
        state.averageCount += 1;
        average = addToAverage(average, raw, state.averageCount);
        setModelArrays(tf, generator, average);
      }
      if (validating) {
        const v = spec.validate(tf, generator);
        for (const [k, x] of Object.entries(v)) row[validationColumn(k)] = x;
        if (!columns) {
          columns = csvColumnsOf(spec, Object.keys(v));
          await writeHeader();
        }
        if (isBetter(spec.bestBy, v, state.best)) {
          state.best = v;
          state.bestIteration = it;
          await saveLayersModel(tf, generator, join(run.outDir, 'generator'), generatedBy);
          emit({ event: 'best', iteration: it, metrics: v });
        }
        if (raw) setModelArrays(tf, generator, raw);
      }
      rows.push(row);
      if (columns) await appendFile(csv, `${csvLine(columns, row)}\n`);
      const validationsLeft = validationsAfter(it, s.iterations, s.validateEvery);
      const etaMs = estimate.etaMs === undefined ? undefined : estimate.etaMs + (validations > 0 ? (validationsLeft * validationMs) / validations : 0);
      const progress: TrainerProgress = { iteration: it, iterations: s.iterations, iterationsPerSecond: estimate.ratePerSecond, etaMs };
      emit({ event: 'iteration', row, progress });
      previous = { updatedAt, validated: validating };
      if (validating) {
        await saveCheckpoint();
        await writeFile(join(run.outDir, 'loss.png'), spec.plot ? spec.plot(rows) : renderLossPlot(rows, columns!, higherBetter));
      }
    }
  } catch (e) {
    release();
    generator.dispose();
    throw e;
  }
  release();
  return { iteration: state.iteration, bestIteration: state.bestIteration, best: state.best ?? {}, rows, generator, settings: s, ...(state.initialValidation ? { initialValidation: state.initialValidation } : {}) };
}
