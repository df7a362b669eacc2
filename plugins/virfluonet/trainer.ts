/**
 * VirFluoNet's trainer contribution (`focal train virfluonet`): any set of input channels of a
 * multi-channel specimen family → one target channel, or (autofocus mode, `--defocus`) one
 * channel at several defocus values → the same channel in focus. Data are simulated from the
 * specimen library by seed (training 1…, validation 100 001…; test seeds 200 001… are left to
 * the evaluation), the [−1, 1] maps are fitted on the training fields, and the best generator
 * (validation MAE) is written as a model package. tfjs is imported when a run starts.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineTrainer, formatDuration, z, type TrainerContext } from '../../core/index.js';

const flag = <T extends z.ZodType>(schema: T, flags: string, description: string): T => schema.meta({ flags, description }) as T;
const POSITIVE = 'must be a positive integer';
const positiveInt = () => z.coerce.number({ error: POSITIVE }).int({ error: POSITIVE }).min(1, { error: POSITIVE });
const names = () => z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0));
const numbers = () => z.string().transform((v, ctx) => {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isFinite(n))) {
    ctx.addIssue({ code: 'custom', message: `must be comma-separated numbers (µm), got '${v}'` });
    return z.NEVER;
  }
  return out;
});

export const virfluonetTrainOptions = z.object({
  family: flag(z.string().default('cell-painting'), '--family <name>', "multi-channel specimen family (core/specimens): 'cell-painting' (default) or 'mda-mb-231'"),
  inputs: flag(names(), '--inputs <channels>', "input channels, comma-separated (e.g. 'TxRed,Cy3'); autofocus mode: the one channel"),
  target: flag(z.string().min(1), '--target <channel>', "the channel to predict (e.g. 'DAPI')"),
  defocus: flag(numbers().optional(), '--defocus <um>', 'autofocus mode: input defocus values, µm, comma-separated (the paper: -12,-10,-8,-6,-4,4,6,8); inputs must be the target'),
  pixelSize: flag(z.coerce.number().positive().optional(), '--pixel-size <um>', "pixel size, µm (default: the family's)"),
  fieldPx: flag(positiveInt().default(256), '--field-px <px>', 'side of each simulated field (default 256)'),
  trainFields: flag(positiveInt().default(48), '--train-fields <n>', 'training fields (seeds 1…n; default 48)'),
  validationFields: flag(positiveInt().default(6), '--validation-fields <n>', 'validation fields (seeds 100001…; default 6)'),
  patch: flag(positiveInt().default(64), '--patch <px>', 'training patch side, a multiple of 2^levels and 16 (paper: 128 or 256; default 64)'),
  batch: flag(positiveInt().default(4), '--batch <n>', 'batch size (not in the paper; default 4)'),
  baseChannels: flag(positiveInt().default(16), '--base-channels <c>', "generator's first width (pix2pix: 64; default 16)"),
  levels: flag(positiveInt().default(5), '--levels <n>', 'stride-2 levels of the generator (default 5)'),
  discriminatorChannels: flag(positiveInt().default(8), '--discriminator-channels <c>', "discriminator's first width (DCGAN: 64; default 8)"),
  iterations: flag(positiveInt().default(1500), '--iterations <n>', 'iterations (one generator and one discriminator update each; default 1500)'),
  validateEvery: flag(positiveInt().default(100), '--validate-every <n>', 'validate and checkpoint every n iterations (default 100)'),
  inputResidual: flag(z.boolean().default(true), '--no-input-residual', 'autofocus mode: the generator without the input residual (the paper\'s plain tanh output, random start); by default it adds its input to a 2·tanh correction whose last layer starts at zero (identity start), and input and target share the target\'s [−1, 1] map'),
  augment: flag(z.boolean().default(false), '--augment', 'dihedral augmentation of the training crops (the paper: MDA-MB-231 only)'),
  seed: flag(z.coerce.number().int().min(0).default(1), '--seed <n>', 'seed of weights and sampling (default 1)'),
  out: flag(z.string(), '-o, --out <dir>', 'output folder: model/ (the package), loss.csv, loss.png'),
  checkpointDir: flag(z.string().optional(), '--checkpoint-dir <dir>', 'checkpoint folder (default <out>/checkpoint; keep it outside the source tree)'),
  resume: flag(z.boolean().optional(), '--resume', 'continue from the checkpoint'),
  name: flag(z.string().optional(), '--name <name>', "model name (default 'virfluonet-<inputs>-to-<target>')"),
  modelVersion: flag(z.string().regex(/^\d+\.\d+\.\d+([-+].*)?$/, { error: 'must be a semantic version (e.g. 1.0.0)' }).default('0.1.0'), '--model-version <semver>', 'model version (default 0.1.0)'),
  onnx: flag(z.boolean().default(true), '--no-onnx', 'do not export ONNX weights'),
  json: flag(z.boolean().optional(), '--json', 'print one JSON line per iteration'),
});
export type VirFluoNetTrainOptions = z.output<typeof virfluonetTrainOptions>;

const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

async function runTrainer(ctx: TrainerContext, opts: VirFluoNetTrainOptions): Promise<void> {
  const { loadTf } = await import('../../core/ml.js');
  const { multiChannelFamilyByName } = await import('../../core/specimens.js');
  const { checkSpec, fitMaps, makeFields, normaliseField, SEED_BASE } = await import('./data.js');
  const { trainVirFluoNet } = await import('./train.js');
  const { saveVirFluoNetPackage } = await import('./package.js');
  const spec = { family: opts.family, inputs: opts.inputs, target: opts.target, fieldPx: opts.fieldPx, ...(opts.defocus ? { defocusUm: opts.defocus } : {}), ...(opts.pixelSize ? { pixelSizeUm: opts.pixelSize } : {}) };
  checkSpec(spec);
  const fam = multiChannelFamilyByName(opts.family);
  const { tf, backend } = await loadTf();
  const out = resolve(opts.out);
  await mkdir(out, { recursive: true });
  const t0 = Date.now();
  const trainRaw = makeFields(spec, SEED_BASE.train, opts.trainFields);
  const valRaw = makeFields(spec, SEED_BASE.validation, opts.validationFields);
  const residual = opts.defocus !== undefined && opts.inputResidual;
  const maps = fitMaps(spec, trainRaw, residual);
  const train = trainRaw.map((f) => normaliseField(f, maps));
  const validation = valRaw.map((f) => normaliseField(f, maps));
  ctx.log(`virfluonet: ${opts.inputs.join('+')} → ${opts.target}${opts.defocus ? ` (autofocus, defocus ${opts.defocus.join(', ')} µm${residual ? ', input residual' : ''})` : ''}: ${train.length} training / ${validation.length} validation fields of ${opts.fieldPx}² simulated in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${backend}`);
  const net = { inputChannels: opts.inputs.length, baseChannels: opts.baseChannels, levels: opts.levels, discriminatorChannels: opts.discriminatorChannels, ...(residual ? { inputResidual: true } : {}) };
  const r = await trainVirFluoNet(tf, {
    net, train, validation, patchPx: opts.patch, batchSize: opts.batch, iterations: opts.iterations, validateEvery: opts.validateEvery, augment: opts.augment,
    seed: opts.seed, outDir: out, ...(opts.checkpointDir ? { checkpointDir: resolve(opts.checkpointDir) } : {}), resume: opts.resume, signal: ctx.signal,
    fixed: { family: opts.family, inputs: opts.inputs.join(','), target: opts.target, defocus: (opts.defocus ?? []).join(','), fieldPx: opts.fieldPx, trainFields: opts.trainFields, validationFields: opts.validationFields },
    onRow: (row, p) => {
      if (ctx.json) ctx.event({ event: 'iteration', ...row, ...(p.iterationsPerSecond !== undefined ? { iterationsPerSecond: p.iterationsPerSecond } : {}) });
      else if (row.validationMae !== undefined || row.iteration % 25 === 0) {
        ctx.log(`  it ${row.iteration}/${opts.iterations}: G ${row.generator.toFixed(4)} (MAE ${Number(row.mae).toFixed(4)}, −log D ${Number(row.adversarial).toFixed(3)}, |θ| ${Number(row.weights).toFixed(4)}), D ${Number(row.discriminator).toFixed(3)}${row.validationMae !== undefined ? `, validation MAE ${Number(row.validationMae).toFixed(4)}` : ''}, ${row.seconds.toFixed(0)} s, ${p.iterationsPerSecond?.toPrecision(3) ?? '?'} it/s, ETA ${formatDuration(p.etaMs)}`);
      }
    },
  });
  r.generator.dispose();
  const { loadLayersModel } = await import('../../core/ml.js');
  const best = await loadLayersModel(tf, join(out, 'generator'));
  const pkgDir = join(out, 'model');
  await saveVirFluoNetPackage(pkgDir, best, {
    name: opts.name ?? `virfluonet-${opts.inputs.map(slug).join('-')}-to-${slug(opts.target)}`, version: opts.modelVersion, family: opts.family, inputs: opts.inputs, target: opts.target, maps,
    optics: { pixelSizeUm: opts.pixelSize ?? fam.defaults.pixelSizeUm, na: fam.defaults.na, refractiveIndex: fam.defaults.refractiveIndex }, ...(opts.defocus ? { defocusUm: opts.defocus } : {}),
    net, patchPx: opts.patch, batchSize: opts.batch, fieldPx: opts.fieldPx,
    trainSeeds: [SEED_BASE.train, SEED_BASE.train + opts.trainFields - 1], validationSeeds: [SEED_BASE.validation, SEED_BASE.validation + opts.validationFields - 1],
    bestIteration: r.bestIteration, bestValidationMae: r.best.mae ?? NaN, iterations: r.iteration, command: `focal ${ctx.argv.join(' ')}`, exportOnnx: opts.onnx,
  });
  best.dispose();
  for (const f of ['loss.csv', 'loss.png']) await copyFile(join(out, f), join(pkgDir, f)).catch(() => undefined);
  if (ctx.json) ctx.event({ event: 'result', ok: true, model: pkgDir, iteration: r.iteration, bestIteration: r.bestIteration, bestValidationMae: r.best.mae });
  else process.stdout.write(`virfluonet: model package ${pkgDir} (best iteration ${r.bestIteration}, validation MAE ${(r.best.mae ?? NaN).toFixed(4)} in [−1, 1] units)\n`);
}

/** `focal train virfluonet`. */
export const virfluonetTrainer = defineTrainer({
  id: 'virfluonet',
  description: 'train VirFluoNet (cGAN virtual staining: input channels → one target channel, or the autofocus mode) on simulated multi-channel specimens; writes <out>/model',
  options: virfluonetTrainOptions,
  run: runTrainer,
});
