/**
 * Deep-R's trainer contribution (`focal train deepr`): its options as a zod schema (flags in
 * each field's meta, parsed by the CLI) and the run: data (an autofocus dataset or synthetic
 * defocus), core's trainer through {@link trainDeepR}, the optional DPM decoder and the model
 * package. The training stack (tfjs) is imported when a run starts.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineTrainer, formatDuration, FocalError, readTiff, z, type TrainerContext } from '../../core/index.js';
import { type NamedArray } from '../../core/ml.js';
import { deeprTrainingFields, LossWeightsSchema, nonNegativeInt, unitFraction } from './config.js';
import type { LossRow, TrainProgress } from './train.js';

const flag = <T extends z.ZodType>(schema: T, flags: string, description: string): T => schema.meta({ flags, description }) as T;
const fields = deeprTrainingFields.shape;
const weights = LossWeightsSchema.shape;
/** A config number field that takes the command line's text (coerced with `Number()`, as z.coerce does): same checks and messages. */
const coerced = (field: z.ZodNumber): z.ZodNumber => field.clone({ ...field.def, coerce: true });
/** A config field with a default, given as text: the field's own check, message and default. */
const numeric = (field: z.ZodDefault<z.ZodNumber>) => coerced(field.unwrap()).default(field.def.defaultValue);
/** A config field without a default, given as text, with a CLI default. */
const numericOr = (field: z.ZodNumber, byDefault: number) => coerced(field).default(byDefault);
/**
 * Comma-separated values, each checked by the config's element schema (the refused element is
 * named); one value stays a number when `single`.
 */
const list = (element: z.ZodType<number>, single = false) =>
  z.string().transform((v, ctx): number | readonly number[] => {
    const out: number[] = [];
    for (const x of v.split(',').map((s) => s.trim())) {
      const r = element.safeParse(x === '' ? NaN : Number(x));
      if (!r.success) {
        ctx.addIssue({ code: 'custom', message: `${r.error.issues[0].message}, got '${x}'` });
        return z.NEVER;
      }
      out.push(r.data);
    }
    return single && out.length === 1 ? out[0] : out;
  });
const NON_NEGATIVE = 'must be an integer ≥ 0';
const cliNonNegativeInt = () => z.coerce.number({ error: NON_NEGATIVE }).int({ error: NON_NEGATIVE }).min(0, { error: NON_NEGATIVE });
const POSITIVE = 'must be a positive integer';
const cliPositiveInt = () => z.coerce.number({ error: POSITIVE }).int({ error: POSITIVE }).min(1, { error: POSITIVE });

/** `focal train deepr` options (every option the command had before trainers were contributions). */
export const deeprTrainOptions = z.object({
  dataset: flag(z.string().optional(), '--dataset <dir>', 'autofocus dataset folder (docs/autofocus-dataset.md): FOV sub-folders of input/target pairs'),
  synthetic: flag(z.array(z.string()).optional(), '--synthetic <images...>', 'in-focus TIFFs: pairs are made on the fly (Born & Wolf PSF, NA 0.75, n 1.0, 0.53 µm, 0.325 µm px, defocus −5…+5 µm, Poisson–Gaussian noise); every plane is a source'),
  validation: flag(z.array(z.string()).optional(), '--validation <images...>', 'with --synthetic: in-focus TIFFs for the validation pairs (default: the training images, other crops and noise)'),
  out: flag(z.string(), '-o, --out <dir>', 'output folder: model/ (the package), loss.csv, loss.png, checkpoint/'),
  iterations: flag(numericOr(fields.iterations, 100000), '--iterations <n>', 'iterations (each: 6 generator + 3 discriminator updates; default 100000)'),
  baseChannels: flag(numeric(fields.baseChannels), '--base-channels <c>', 'channels of the first U-Net level (paper and default: 32)'),
  patch: flag(numeric(fields.patchPx), '--patch <px>', 'training patch side, multiple of 32 (paper: 512 patches; default 256)'),
  batch: flag(numeric(fields.batchSize), '--batch <n>', 'batch size (default 5)'),
  lrDecayAt: flag(list(nonNegativeInt()).optional().pipe(fields.learningRateDecayAt), '--lr-decay-at <iterations>', 'step decay: after each of these iterations (comma-separated, ascending) both learning rates are multiplied by --lr-decay-factor (default 0: constant, as in the paper); a step may be added when resuming at or before it'),
  lrDecayFactor: flag(list(unitFraction(), true).optional().pipe(fields.learningRateDecayFactor), '--lr-decay-factor <f>', 'factor of each decay step, in (0, 1]: one for all steps, or one per step (comma-separated; default 0.1)'),
  adversarialOffAt: flag(numeric(fields.adversarialOffAt), '--adversarial-off-at <iteration>', 'after this iteration train on the MS-SSIM and BerHu terms only, without the discriminator (0: never, as in the paper); may be added when resuming at or before it'),
  ssimWeight: flag(numericOr(weights.ssim.unwrap(), 0), '--ssim-weight <w>', 'weight of an added single-scale 1 − SSIM term in the generator loss (0: none, as in the paper)'),
  ssimAfter: flag(numeric(fields.ssimTermAfter), '--ssim-after <iteration>', 'with --ssim-weight: add the term after this iteration (0: from the start); may be added when resuming at or before it'),
  averageAfter: flag(numeric(fields.averageAfter), '--average-after <iteration>', 'weight averaging (SWA): from the first validation after this iteration, validate (and keep as best) the mean of the generator weights at each validation (0: off, as in the paper); may be added when resuming at or before it'),
  bestBy: flag(fields.bestBy, '--best-by <score>', "validation score that picks the best generator: 'berhu' (lowest, the paper's rule, default) or 'ssim' (highest); a change on resume starts the choice afresh"),
  initFrom: flag(z.string().optional(), '--init-from <model>', "start the generator from a trained model package (a folder, or a bundled model's name) instead of random weights: fine-tuning; same --base-channels; the starting weights are validated first and kept if nothing beats them"),
  adversarialWeight: flag(numeric(weights.adversarial), '--adversarial-weight <λ>', 'weight of the least-squares adversarial term (0: no discriminator at all, pixel losses only; default 0.4)'),
  generatorLr: flag(numeric(fields.generatorLearningRate), '--generator-lr <rate>', "generator's Adam learning rate, in (0, 1] (paper and default: 5e-4)"),
  validateEvery: flag(numeric(fields.validateEvery), '--validate-every <n>', 'validate and checkpoint every n iterations (default 50)'),
  validationPairs: flag(cliPositiveInt().default(25), '--validation-pairs <n>', 'with --synthetic: number of fixed validation pairs (default 25)'),
  maxDefocus: flag(z.coerce.number().optional(), '--max-defocus <um>', 'with --dataset: use pairs with |defocus| ≤ this, µm'),
  dpmIterations: flag(cliNonNegativeInt().default(0), '--dpm-iterations <n>', 'then train the DPM decoder (defocus map) this many iterations on the frozen encoder (0: none)'),
  seed: flag(numeric(fields.seed), '--seed <n>', 'seed of weights, sampling, augmentation and synthetic noise (default 1)'),
  na: flag(z.coerce.number().default(0.75), '--na <value>', 'objective NA recorded in the manifest (synthetic pairs always use 0.75)'),
  ensemble: flag(z.enum(['none', 'dihedral8'], { error: "must be 'none' or 'dihedral8'" }).default('none'), '--ensemble <mode>', "recommended inference, recorded in the manifest (extra.ensemble) and used by deepr.autofocus by default: 'none' (one pass) or 'dihedral8' (mean over the 8 flips/rotations)"),
  trainingFamilies: flag(z.string().regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, { error: 'must be comma-separated specimen family names' }).optional(), '--training-families <names>', 'specimen-library families the --synthetic sources were rendered from (comma-separated), recorded in the manifest (extra.trainingFamilies)'),
  heldOutFamilies: flag(z.string().regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, { error: 'must be comma-separated specimen family names' }).optional(), '--held-out-families <names>', 'families kept out of training for the generalisation evaluation (comma-separated), recorded in the manifest (extra.heldOutFamilies); one also in --training-families is refused'),
  resume: flag(z.boolean().optional(), '--resume', 'continue from <out>/checkpoint'),
  name: flag(z.string().default('deepr'), '--name <name>', 'model name in the manifest (default deepr)'),
  modelVersion: flag(z.string().regex(/^\d+\.\d+\.\d+([-+].*)?$/, { error: 'must be a semantic version (e.g. 1.0.0)' }).default('0.1.0'), '--model-version <semver>', 'model version in the manifest (default 0.1.0)'),
  onnx: flag(z.boolean().default(true), '--no-onnx', 'do not export ONNX weights'),
  dpmOnnx: flag(z.boolean().default(true), '--no-dpm-onnx', "do not export the DPM decoder's ONNX weights (smaller package; the DPM runs on tfjs)"),
  workers: flag(cliPositiveInt().default(1), '--workers <n>', 'threads computing each update (data-parallel: the batch is split, gradients averaged; same batches and, to float rounding, the same result as 1); default 1, see docs/benchmarks.md'),
  json: flag(z.boolean().optional(), '--json', 'print one JSON line per iteration (loss row, iterationsPerSecond, etaMs, eta)'),
});
export type DeepRTrainOptions = z.output<typeof deeprTrainOptions>;

/** Iterations per second for a progress line: 3 significant digits ('0.0412', '1.23', '12.3'), '?' before there is a rate. */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return '?';
  return perSecond >= 1000 ? perSecond.toFixed(0) : perSecond.toPrecision(3);
}

/** The log line of one training iteration (stderr): losses, validation scores, elapsed time, it/s and the ETA (h:mm:ss) to the last iteration. */
export function iterationLine(r: LossRow, p: TrainProgress): string {
  return `  it ${r.iteration}/${p.iterations}: G ${r.generator.toFixed(4)} (${r.adversarial !== undefined ? `adv ${r.adversarial.toFixed(3)}, ` : ''}1-MS-SSIM ${r.msSsim.toFixed(3)}, BerHu ${r.berhu.toFixed(3)}${r.ssim !== undefined ? `, 1-SSIM ${r.ssim.toFixed(3)}` : ''}), D ${r.discriminator?.toFixed(4) ?? 'off'}${r.validationBerhu !== undefined ? `, validation BerHu ${r.validationBerhu.toFixed(4)}${r.validationSsim !== undefined ? ` SSIM ${r.validationSsim.toFixed(4)}` : ''}` : ''}, ${r.seconds.toFixed(0)} s, ${formatRate(p.iterationsPerSecond)} it/s, ETA ${formatDuration(p.etaMs)}\n`;
}

/** The `--json` event of one training iteration: the loss row and the same rate and ETA as the log line (iterationsPerSecond and etaMs absent until measured). */
export function iterationEvent(r: LossRow, p: TrainProgress): { event: string } & Record<string, unknown> {
  return {
    event: 'iteration', ...r, iterations: p.iterations,
    ...(p.iterationsPerSecond !== undefined ? { iterationsPerSecond: p.iterationsPerSecond } : {}),
    ...(p.etaMs !== undefined ? { etaMs: Math.round(p.etaMs) } : {}),
    eta: formatDuration(p.etaMs),
  };
}

async function readSources(files: string[]): Promise<{ data: Float32Array; width: number; height: number }[]> {
  const out: { data: Float32Array; width: number; height: number }[] = [];
  for (const f of files) {
    const s = await readTiff(f);
    for (const p of s.planes) out.push({ data: Float32Array.from(p), width: s.width, height: s.height });
  }
  return out;
}

/** Deep-R's training stack, loaded on use (the plugin's barrel exports only its definition). */
async function trainingStack() {
  return {
    ...(await import('./tf.js')),
    ...(await import('./data.js')),
    ...(await import('./package.js')),
    ...(await import('./train.js')),
    ...(await import('./losses.js')),
    ...(await import('./dpm.js')),
  };
}
type TrainingStack = Awaited<ReturnType<typeof trainingStack>>;

/** Where a run's pairs come from, and what the manifest says about them. */
interface TrainingData {
  sample: import('./train.js').PairSampler;
  validation: import('./data.js').TrainingPair[];
  pixelSizeUm: number;
  defocusRangeUm: [number, number];
  /** The manifest's `training.data` line. */
  description: string;
}

/** Step 1: the options' checks that need no training stack (E_USAGE naming the flag). */
function checkOptions(opts: DeepRTrainOptions, levels: number): void {
  if ((opts.dataset === undefined) === (opts.synthetic === undefined)) throw new FocalError('E_USAGE', 'give exactly one of --dataset <dir> and --synthetic <images...>');
  if (opts.patch % 2 ** levels !== 0) throw new FocalError('E_USAGE', `--patch must be a multiple of ${2 ** levels} (${levels} pooling levels), got ${opts.patch}`);
  const overlap = (opts.heldOutFamilies?.split(',') ?? []).filter((f) => opts.trainingFamilies?.split(',').includes(f));
  if (overlap.length) throw new FocalError('E_USAGE', `--held-out-families ${overlap.join(', ')}: also in --training-families; a held-out family must not be trained on`, { field: 'heldOutFamilies' });
}

/** Step 2: training and validation pairs, from an autofocus dataset (split by FOV) or simulated on the fly from in-focus images. */
async function trainingData(ctx: TrainerContext, opts: DeepRTrainOptions, deepr: TrainingStack): Promise<TrainingData> {
  if (opts.dataset !== undefined) {
    const fovs = await deepr.readAutofocusDataset(opts.dataset, { maxDefocusUm: opts.maxDefocus });
    const split = deepr.splitByFov(fovs);
    if (split.note) ctx.log(`warning: ${split.note}`);
    if (split.train.length === 0) throw new FocalError('E_USAGE', `--dataset ${opts.dataset}: no training pairs`);
    const pairs = split.train;
    const dz = [...split.train, ...split.validation].map((p) => p.defocusUm);
    return {
      sample: (rng) => pairs[rng.int(pairs.length)],
      validation: split.validation,
      pixelSizeUm: fovs[0].pixelSizeUm,
      defocusRangeUm: [Math.min(...dz), Math.max(...dz)],
      description: `autofocus dataset ${opts.dataset}: ${fovs.length} FOV, ${split.train.length} training / ${split.validation.length} validation pairs (split by FOV)`,
    };
  }
  const sources = await readSources(opts.synthetic!);
  const valSources = opts.validation ? await readSources(opts.validation) : sources;
  const syn = deepr.SYNTHETIC_DEFAULTS;
  const { SeededRandom } = await import('../../core/index.js');
  const vrng = new SeededRandom(opts.seed + 7919);
  return {
    sample: (rng) => deepr.syntheticPair(sources, opts.patch, rng),
    validation: Array.from({ length: opts.validationPairs }, () => deepr.syntheticPair(valSources, opts.patch, vrng)),
    pixelSizeUm: syn.pixelSizeUm,
    defocusRangeUm: syn.defocusRangeUm,
    description: `synthetic pairs from ${opts.synthetic!.join(', ')} (${sources.length} planes): Born & Wolf PSF NA ${syn.na}, n ${syn.refractiveIndex}, λ ${syn.wavelengthUm} µm, ${syn.pixelSizeUm} µm px, defocus uniform ${syn.defocusRangeUm[0]}…${syn.defocusRangeUm[1]} µm, ${syn.photons} e⁻ peak, read noise ${syn.readNoiseE} e⁻, background ${syn.backgroundPhotons} e⁻; validation ${opts.validationPairs} pairs from ${opts.validation ? opts.validation.join(', ') : 'the same images (other crops and noise)'}`,
  };
}

/** Step 3 (--init-from): the starting generator's weights from a model package of the same architecture. */
async function initialGeneratorOf(opts: DeepRTrainOptions, levels: number, deepr: TrainingStack, tf: unknown): Promise<{ weights: NamedArray[]; source: string } | undefined> {
  if (opts.initFrom === undefined) return undefined;
  const dir = deepr.resolveModelDir(opts.initFrom);
  const { autofocus: pkg } = await deepr.loadDeepRPackage(dir);
  const { extra } = pkg.manifest;
  if (extra.baseChannels !== opts.baseChannels || extra.levels !== levels) {
    throw new FocalError('E_USAGE', `--init-from ${opts.initFrom}: the package's generator has base ${extra.baseChannels} channels and ${extra.levels} levels; this run asks for --base-channels ${opts.baseChannels} and ${levels} levels`, { file: dir, field: 'baseChannels' });
  }
  const { loadTfjsModel, modelArrays, weightsSource } = await import('../../core/ml.js');
  const model = await loadTfjsModel(pkg, tf as Parameters<typeof loadTfjsModel>[1]);
  const weights = modelArrays(model).map((a) => ({ ...a, data: Float32Array.from(a.data) }));
  model.dispose();
  return { weights, source: weightsSource(pkg.manifest) };
}

async function runDeepRTrainer(ctx: TrainerContext, opts: DeepRTrainOptions): Promise<void> {
  // the CLI trains the config's default depth (no --levels flag)
  const levels = fields.levels.def.defaultValue;
  checkOptions(opts, levels);
  const deepr = await trainingStack();
  const { tf, backend } = await deepr.getTf();
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const data = await trainingData(ctx, opts, deepr);
  const initialGenerator = await initialGeneratorOf(opts, levels, deepr, tf);

  // Step 4: the generator (and discriminator) on core's trainer; the best generator is left in <out>/generator
  ctx.log(`deepr: training on ${backend}, ${opts.iterations} iterations, base ${opts.baseChannels} channels, ${opts.patch}-px patches, batch ${opts.batch}`);
  const result = await deepr.trainDeepR(tf, {
    sample: data.sample, validation: data.validation, outDir: out, initialGenerator, resume: opts.resume, signal: ctx.signal, workers: opts.workers,
    iterations: opts.iterations, baseChannels: opts.baseChannels, patchPx: opts.patch, batchSize: opts.batch, validateEvery: opts.validateEvery, seed: opts.seed,
    generatorLearningRate: opts.generatorLr, learningRateDecayAt: opts.lrDecayAt, learningRateDecayFactor: opts.lrDecayFactor,
    adversarialOffAt: opts.adversarialOffAt, bestBy: opts.bestBy, averageAfter: opts.averageAfter,
    lossWeights: { adversarial: opts.adversarialWeight, ...(opts.ssimWeight > 0 ? { ssim: opts.ssimWeight } : {}) }, ...(opts.ssimWeight > 0 ? { ssimTermAfter: opts.ssimAfter } : {}),
    onIteration: (r, p) => {
      if (ctx.json) ctx.event(iterationEvent(r, p));
      else if (r.validationBerhu !== undefined || r.iteration % 10 === 0) ctx.log(iterationLine(r, p).replace(/\n$/, ''));
    },
  });
  result.generator.dispose();
  const best = await deepr.loadLayersModel(tf, join(out, 'generator'));

  // Step 5 (--dpm-iterations): the defocus-map decoder on the frozen encoder
  let dpm;
  let dpmTarget: 'signed' | 'absolute' | undefined;
  if (opts.dpmIterations > 0) {
    // synthetic pairs use the symmetric Born & Wolf PSF: only |Δz| can be told from an image
    const target = opts.synthetic ? 'absolute' : 'signed';
    const r = await deepr.trainDpmDecoder(tf, best, { sample: data.sample, iterations: opts.dpmIterations, baseChannels: opts.baseChannels, patchPx: opts.patch, batchSize: opts.batch, seed: opts.seed, signal: ctx.signal, target });
    dpmTarget = target;
    dpm = r.model;
    ctx.log(`  DPM decoder: L2 ${r.losses[0].toFixed(3)} → ${r.losses[r.losses.length - 1].toFixed(3)} µm² over ${opts.dpmIterations} iterations`);
  }

  // Step 6: the model package, with the loss curves and the command in its manifest
  const pkgDir = join(out, 'model');
  await deepr.saveDeepRPackage(pkgDir, best, {
    name: opts.name, version: opts.modelVersion, baseChannels: opts.baseChannels, levels, patchPx: opts.patch, iterations: result.iteration,
    bestIteration: result.bestIteration, bestValidationBerhu: result.bestValidationBerhu, bestValidationSsim: result.bestValidationSsim, bestBy: opts.bestBy, pixelSizeUm: data.pixelSizeUm, objectiveNa: opts.synthetic ? deepr.SYNTHETIC_DEFAULTS.na : opts.na,
    defocusRangeUm: data.defocusRangeUm, command: `focal ${ctx.argv.join(' ')}`, data: data.description, exportOnnx: opts.onnx, exportDpmOnnx: opts.onnx && opts.dpmOnnx, dpmTarget, ensemble: opts.ensemble, initFrom: initialGenerator?.source,
    trainingFamilies: opts.trainingFamilies?.split(','), heldOutFamilies: opts.heldOutFamilies?.split(','),
  }, dpm);
  for (const f of ['loss.csv', 'loss.png']) await copyFile(join(out, f), join(pkgDir, f)).catch(() => undefined);
  if (ctx.json) ctx.event({ event: 'result', ok: true, model: pkgDir, iteration: result.iteration, bestIteration: result.bestIteration, bestValidationBerhu: result.bestValidationBerhu });
  else process.stdout.write(`deepr: model package ${pkgDir} (${result.initialValidation ? `started from ${initialGenerator!.source}: validation BerHu ${result.initialValidation.berhu.toFixed(4)}, SSIM ${result.initialValidation.ssim.toFixed(4)}; ` : ''}best iteration ${result.bestIteration} by validation ${opts.bestBy === 'ssim' ? 'SSIM' : 'BerHu'}: BerHu ${result.bestValidationBerhu.toFixed(4)}${Number.isFinite(result.bestValidationSsim) ? `, SSIM ${result.bestValidationSsim.toFixed(4)}` : ''})\n`);
}

/** `focal train deepr`. */
export const deeprTrainer = defineTrainer({
  id: 'deepr',
  description: 'train Deep-R (single-shot autofocus) from an autofocus dataset or synthetic defocus; writes <out>/model (model package) and training logs',
  options: deeprTrainOptions,
  run: runDeepRTrainer,
});
