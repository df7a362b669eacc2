import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
// Light imports only: this module registers `focal train` on every start of the CLI; core's
// full entry is imported when a training runs.
import { FocalError, formatDuration } from '../../core/startup.js';
import type { NamedArray } from '../../core/index.js';
import type { LossRow, TrainProgress } from '../../plugins/deepr/train.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

export interface TrainDeepROptions {
  dataset?: string;
  synthetic?: string[];
  validation?: string[];
  out: string;
  iterations: number;
  baseChannels: number;
  patch: number;
  batch: number;
  validateEvery: number;
  lrDecayAt: number[];
  lrDecayFactor: number[];
  adversarialOffAt: number;
  ssimWeight: number;
  ssimAfter: number;
  bestBy: 'berhu' | 'ssim';
  averageAfter: number;
  ensemble: 'none' | 'dihedral8';
  initFrom?: string;
  modelVersion: string;
  adversarialWeight: number;
  generatorLr: number;
  validationPairs: number;
  maxDefocus?: number;
  dpmIterations: number;
  seed: number;
  resume?: boolean;
  name: string;
  onnx: boolean;
  dpmOnnx: boolean;
  na: number;
  json?: boolean;
}

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new FocalError('E_USAGE', `${name} must be a positive integer, got '${v}'`);
    return n;
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new FocalError('E_USAGE', `${name} must be an integer ≥ 0, got '${v}'`);
    return n;
  };
}

function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new FocalError('E_USAGE', `${name} must be a number ≥ 0, got '${v}'`);
    return n;
  };
}

function unitFraction(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n > 0 && n <= 1)) throw new FocalError('E_USAGE', `${name} must be a number in (0, 1], got '${v}'`);
    return n;
  };
}

/** Comma-separated values, each parsed by `one`. */
function list<T>(one: (v: string) => T) {
  return (v: string): T[] => v.split(',').map((x) => one(x.trim()));
}

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
export function iterationEvent(r: LossRow, p: TrainProgress): Record<string, unknown> {
  return {
    event: 'iteration', ...r, iterations: p.iterations,
    ...(p.iterationsPerSecond !== undefined ? { iterationsPerSecond: p.iterationsPerSecond } : {}),
    ...(p.etaMs !== undefined ? { etaMs: Math.round(p.etaMs) } : {}),
    eta: formatDuration(p.etaMs),
  };
}

/** Registers `focal train deepr …` on the program (sub-commands of `train`, one per trainable model). */
export function registerTrainCommand(program: Command): void {
  const train = program.command('train').description('train a deep-learning model (deepr: Deep-R autofocus)');
  train
    .command('deepr')
    .description('train Deep-R (single-shot autofocus) from an autofocus dataset or synthetic defocus; writes <out>/model (model package) and training logs')
    .option('--dataset <dir>', 'autofocus dataset folder (docs/autofocus-dataset.md): FOV sub-folders of input/target pairs')
    .option('--synthetic <images...>', 'in-focus TIFFs: pairs are made on the fly (Born & Wolf PSF, NA 0.75, n 1.0, 0.53 µm, 0.325 µm px, defocus −5…+5 µm, Poisson–Gaussian noise); every plane is a source')
    .option('--validation <images...>', 'with --synthetic: in-focus TIFFs for the validation pairs (default: the training images, other crops and noise)')
    .requiredOption('-o, --out <dir>', 'output folder: model/ (the package), loss.csv, loss.png, checkpoint/')
    .addOption(new Option('--iterations <n>', 'iterations (each: 6 generator + 3 discriminator updates)').default(100000).argParser(positiveInt('--iterations')))
    .addOption(new Option('--base-channels <c>', 'channels of the first U-Net level (paper: 32)').default(32).argParser(positiveInt('--base-channels')))
    .addOption(new Option('--patch <px>', 'training patch side, multiple of 32 (paper: 512 patches)').default(256).argParser(positiveInt('--patch')))
    .addOption(new Option('--batch <n>', 'batch size').default(5).argParser(positiveInt('--batch')))
    .addOption(new Option('--lr-decay-at <iterations>', 'step decay: after each of these iterations (comma-separated, ascending) both learning rates are multiplied by --lr-decay-factor (0: constant, as in the paper); a step may be added when resuming at or before it').default([0], '0').argParser(list(nonNegativeInt('--lr-decay-at'))))
    .addOption(new Option('--lr-decay-factor <f>', 'factor of each decay step, in (0, 1]: one for all steps, or one per step (comma-separated)').default([0.1], '0.1').argParser(list(unitFraction('--lr-decay-factor'))))
    .addOption(new Option('--adversarial-off-at <iteration>', 'after this iteration train on the MS-SSIM and BerHu terms only, without the discriminator (0: never, as in the paper); may be added when resuming at or before it').default(0).argParser(nonNegativeInt('--adversarial-off-at')))
    .addOption(new Option('--ssim-weight <w>', 'weight of an added single-scale 1 − SSIM term in the generator loss (0: none, as in the paper)').default(0).argParser(nonNegativeNumber('--ssim-weight')))
    .addOption(new Option('--ssim-after <iteration>', 'with --ssim-weight: add the term after this iteration (0: from the start); may be added when resuming at or before it').default(0).argParser(nonNegativeInt('--ssim-after')))
    .addOption(new Option('--average-after <iteration>', 'weight averaging (SWA): from the first validation after this iteration, validate (and keep as best) the mean of the generator weights at each validation (0: off, as in the paper); may be added when resuming at or before it').default(0).argParser(nonNegativeInt('--average-after')))
    .addOption(new Option('--best-by <score>', "validation score that picks the best generator: 'berhu' (lowest, the paper's rule) or 'ssim' (highest); a change on resume starts the choice afresh").choices(['berhu', 'ssim']).default('berhu'))
    .addOption(new Option('--init-from <model>', 'start the generator from a trained model package (a folder, or a bundled model\'s name) instead of random weights: fine-tuning; same --base-channels; the starting weights are validated first and kept if nothing beats them').argParser((v) => v))
    .addOption(new Option('--adversarial-weight <λ>', 'weight of the least-squares adversarial term (0: no discriminator at all, pixel losses only)').default(0.4).argParser(nonNegativeNumber('--adversarial-weight')))
    .addOption(new Option('--generator-lr <rate>', "generator's Adam learning rate, in (0, 1] (paper: 5e-4)").default(5e-4).argParser(unitFraction('--generator-lr')))
    .addOption(new Option('--validate-every <n>', 'validate and checkpoint every n iterations').default(50).argParser(positiveInt('--validate-every')))
    .addOption(new Option('--validation-pairs <n>', 'with --synthetic: number of fixed validation pairs').default(25).argParser(positiveInt('--validation-pairs')))
    .addOption(new Option('--max-defocus <um>', 'with --dataset: use pairs with |defocus| ≤ this, µm').argParser((v) => Number(v)))
    .addOption(new Option('--dpm-iterations <n>', 'then train the DPM decoder (defocus map) this many iterations on the frozen encoder (0: none)').default(0).argParser(nonNegativeInt('--dpm-iterations')))
    .addOption(new Option('--seed <n>', 'seed of weights, sampling, augmentation and synthetic noise').default(1).argParser(nonNegativeInt('--seed')))
    .addOption(new Option('--na <value>', 'objective NA recorded in the manifest (synthetic pairs always use 0.75)').default(0.75).argParser((v) => Number(v)))
    .addOption(new Option('--ensemble <mode>', "recommended inference, recorded in the manifest (extra.ensemble) and used by deepr.autofocus by default: 'none' (one pass) or 'dihedral8' (mean over the 8 flips/rotations)").choices(['none', 'dihedral8']).default('none'))
    .option('--resume', 'continue from <out>/checkpoint')
    .option('--name <name>', 'model name in the manifest', 'deepr')
    .addOption(new Option('--model-version <semver>', 'model version in the manifest').default('0.1.0').argParser((v) => {
      if (!/^\d+\.\d+\.\d+([-+].*)?$/.test(v)) throw new FocalError('E_USAGE', `--model-version must be a semantic version (e.g. 1.0.0), got '${v}'`);
      return v;
    }))
    .option('--no-onnx', 'do not export ONNX weights')
    .option('--no-dpm-onnx', 'do not export the DPM decoder\'s ONNX weights (smaller package; the DPM runs on tfjs)')
    .option('--json', 'print one JSON line per iteration (loss row, iterationsPerSecond, etaMs, eta)')
    .action(async (opts: TrainDeepROptions, cmd: Command) => trainDeepRCommand(opts, cmd.optsWithGlobals() as GlobalOptions, rootArgs(cmd)));
}

/** The arguments the program was parsed from (for the manifest's training command). */
function rootArgs(cmd: Command): string[] {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return (root as Command & { rawArgs?: string[] }).rawArgs ?? process.argv.slice(2);
}

async function readSources(files: string[]): Promise<{ data: Float32Array; width: number; height: number }[]> {
  const out: { data: Float32Array; width: number; height: number }[] = [];
  for (const f of files) {
    const { readTiff } = await import('../../core/index.js');
    const s = await readTiff(f);
    for (const p of s.planes) out.push({ data: Float32Array.from(p), width: s.width, height: s.height });
  }
  return out;
}

export async function trainDeepRCommand(opts: TrainDeepROptions, _globals: GlobalOptions, argv: string[]): Promise<void> {
  if ((opts.dataset === undefined) === (opts.synthetic === undefined)) throw new FocalError('E_USAGE', 'give exactly one of --dataset <dir> and --synthetic <images...>');
  if (opts.patch % 32 !== 0) throw new FocalError('E_USAGE', `--patch must be a multiple of 32 (5 pooling levels), got ${opts.patch}`);
  // Deep-R's training stack, loaded on use (its barrel exports only the plugin definition)
  const deepr = {
    ...(await import('../../plugins/deepr/tf.js')),
    ...(await import('../../plugins/deepr/data.js')),
    ...(await import('../../plugins/deepr/package.js')),
    ...(await import('../../plugins/deepr/train.js')),
    ...(await import('../../plugins/deepr/losses.js')),
    ...(await import('../../plugins/deepr/dpm.js')),
  };
  const { tf, backend } = await deepr.getTf();
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });

  let sample: import('../../plugins/deepr/train.js').PairSampler;
  let validation: import('../../plugins/deepr/data.js').TrainingPair[];
  let pixelSizeUm: number;
  let range: [number, number];
  let data: string;
  if (opts.dataset !== undefined) {
    const fovs = await deepr.readAutofocusDataset(opts.dataset, { maxDefocusUm: opts.maxDefocus });
    const split = deepr.splitByFov(fovs);
    if (split.note) process.stderr.write(`warning: ${split.note}\n`);
    if (split.train.length === 0) throw new FocalError('E_USAGE', `--dataset ${opts.dataset}: no training pairs`);
    const pairs = split.train;
    sample = (rng) => pairs[rng.int(pairs.length)];
    validation = split.validation;
    pixelSizeUm = fovs[0].pixelSizeUm;
    const dz = [...split.train, ...split.validation].map((p) => p.defocusUm);
    range = [Math.min(...dz), Math.max(...dz)];
    data = `autofocus dataset ${opts.dataset}: ${fovs.length} FOV, ${split.train.length} training / ${split.validation.length} validation pairs (split by FOV)`;
  } else {
    const sources = await readSources(opts.synthetic!);
    const valSources = opts.validation ? await readSources(opts.validation) : sources;
    const syn = deepr.SYNTHETIC_DEFAULTS;
    sample = (rng) => deepr.syntheticPair(sources, opts.patch, rng);
    const { SeededRandom } = await import('../../core/index.js');
    const vrng = new SeededRandom(opts.seed + 7919);
    validation = Array.from({ length: opts.validationPairs }, () => deepr.syntheticPair(valSources, opts.patch, vrng));
    pixelSizeUm = syn.pixelSizeUm;
    range = syn.defocusRangeUm;
    data = `synthetic pairs from ${opts.synthetic!.join(', ')} (${sources.length} planes): Born & Wolf PSF NA ${syn.na}, n ${syn.refractiveIndex}, λ ${syn.wavelengthUm} µm, ${syn.pixelSizeUm} µm px, defocus uniform ${syn.defocusRangeUm[0]}…${syn.defocusRangeUm[1]} µm, ${syn.photons} e⁻ peak, read noise ${syn.readNoiseE} e⁻, background ${syn.backgroundPhotons} e⁻; validation ${opts.validationPairs} pairs from ${opts.validation ? opts.validation.join(', ') : 'the same images (other crops and noise)'}`;
  }
  let initialGenerator: { weights: NamedArray[]; source: string } | undefined;
  if (opts.initFrom !== undefined) {
    const dir = deepr.resolveModelDir(opts.initFrom);
    const { autofocus: pkg } = await deepr.loadDeepRPackage(dir);
    const extra = (pkg.manifest.extra ?? {}) as Record<string, unknown>;
    if (extra.baseChannels !== opts.baseChannels || (extra.levels ?? 5) !== 5) {
      throw new FocalError('E_USAGE', `--init-from ${opts.initFrom}: the package's generator has base ${String(extra.baseChannels)} channels and ${String(extra.levels ?? 5)} levels; this run asks for --base-channels ${opts.baseChannels} and 5 levels`, { file: dir, field: 'baseChannels' });
    }
    const { loadTfjsModel, modelArrays } = await import('../../core/index.js');
    const model = await loadTfjsModel(pkg, tf as unknown as Parameters<typeof loadTfjsModel>[1]);
    const weights = modelArrays(model).map((a) => ({ ...a, data: Float32Array.from(a.data) }));
    model.dispose();
    const sha = pkg.manifest.weights.find((w) => w.format === 'tfjs-layers')?.sha256.slice(0, 12) ?? '';
    initialGenerator = { weights, source: `${pkg.manifest.name} ${pkg.manifest.version} (tfjs weights sha256 ${sha}…)` };
  }
  process.stderr.write(`deepr: training on ${backend}, ${opts.iterations} iterations, base ${opts.baseChannels} channels, ${opts.patch}-px patches, batch ${opts.batch}\n`);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    const result = await deepr.trainDeepR(tf, {
      sample, validation, outDir: out, iterations: opts.iterations, baseChannels: opts.baseChannels, patchPx: opts.patch,
      batchSize: opts.batch, validateEvery: opts.validateEvery, initialGenerator, generatorLearningRate: opts.generatorLr, learningRateDecayAt: opts.lrDecayAt, learningRateDecayFactor: opts.lrDecayFactor.length === 1 ? opts.lrDecayFactor[0] : opts.lrDecayFactor, adversarialOffAt: opts.adversarialOffAt, bestBy: opts.bestBy, averageAfter: opts.averageAfter,
      lossWeights: { ...deepr.DEFAULT_LOSS_WEIGHTS, adversarial: opts.adversarialWeight, ...(opts.ssimWeight > 0 ? { ssim: opts.ssimWeight } : {}) }, ...(opts.ssimWeight > 0 ? { ssimTermAfter: opts.ssimAfter } : {}), seed: opts.seed, resume: opts.resume, signal: controller.signal,
      onIteration: (r, p) => {
        if (opts.json) printJsonLine(iterationEvent(r, p));
        else if (r.validationBerhu !== undefined || r.iteration % 10 === 0) process.stderr.write(iterationLine(r, p));
      },
    });
    result.generator.dispose();
    const best = await deepr.loadLayersModel(tf, join(out, 'generator'));
    let dpm;
    let dpmTarget: 'signed' | 'absolute' | undefined;
    if (opts.dpmIterations > 0) {
      // synthetic pairs use the symmetric Born & Wolf PSF: only |Δz| can be told from an image
      const target = opts.synthetic ? 'absolute' : 'signed';
      const r = await deepr.trainDpmDecoder(tf, best, { sample, iterations: opts.dpmIterations, baseChannels: opts.baseChannels, patchPx: opts.patch, batchSize: opts.batch, seed: opts.seed, signal: controller.signal, target });
      dpmTarget = target;
      dpm = r.model;
      process.stderr.write(`  DPM decoder: L2 ${r.losses[0].toFixed(3)} → ${r.losses[r.losses.length - 1].toFixed(3)} µm² over ${opts.dpmIterations} iterations\n`);
    }
    const pkgDir = join(out, 'model');
    await deepr.saveDeepRPackage(pkgDir, best, {
      name: opts.name, version: opts.modelVersion, baseChannels: opts.baseChannels, levels: 5, patchPx: opts.patch, iterations: result.iteration,
      bestIteration: result.bestIteration, bestValidationBerhu: result.bestValidationBerhu, bestValidationSsim: result.bestValidationSsim, bestBy: opts.bestBy, pixelSizeUm, objectiveNa: opts.synthetic ? deepr.SYNTHETIC_DEFAULTS.na : opts.na,
      defocusRangeUm: range, command: `focal ${argv.join(' ')}`, data, exportOnnx: opts.onnx, exportDpmOnnx: opts.onnx && opts.dpmOnnx, dpmTarget, ensemble: opts.ensemble, initFrom: initialGenerator?.source,
    }, dpm);
    for (const f of ['loss.csv', 'loss.png']) await copyFile(join(out, f), join(pkgDir, f)).catch(() => undefined);
    if (opts.json) printJsonLine({ event: 'result', ok: true, model: pkgDir, iteration: result.iteration, bestIteration: result.bestIteration, bestValidationBerhu: result.bestValidationBerhu });
    else process.stdout.write(`deepr: model package ${pkgDir} (${result.initialValidation ? `started from ${initialGenerator!.source}: validation BerHu ${result.initialValidation.berhu.toFixed(4)}, SSIM ${result.initialValidation.ssim.toFixed(4)}; ` : ''}best iteration ${result.bestIteration} by validation ${opts.bestBy === 'ssim' ? 'SSIM' : 'BerHu'}: BerHu ${result.bestValidationBerhu.toFixed(4)}${Number.isFinite(result.bestValidationSsim) ? `, SSIM ${result.bestValidationSsim.toFixed(4)}` : ''})\n`);
  } finally {
    process.off('SIGINT', onSignal);
  }
}
