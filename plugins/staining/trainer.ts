/**
 * The staining plugin's trainer contributions: `focal train staining` (G_VS, Eq. 1) and
 * `focal train staining.deepr` (the cascade's G_DR, Eq. 6, with or without the style loss
 * through a frozen staining package). Options are zod schemas with CLI flags in their meta;
 * tfjs and the training stack are imported when a run starts.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineTrainer, formatDuration, z, type TrainerContext } from '../../core/index.js';
import { type TrainerEvent } from '../../core/ml.js';

const flag = <T extends z.ZodType>(schema: T, flags: string, description: string): T => schema.meta({ flags, description }) as T;
const POSITIVE = 'must be a positive integer';
const positiveInt = () => z.coerce.number({ error: POSITIVE }).int({ error: POSITIVE }).min(1, { error: POSITIVE });
const nonNegative = () => z.coerce.number({ error: 'must be a number ≥ 0' }).min(0, { error: 'must be a number ≥ 0' });
const rate = () => z.coerce.number({ error: 'must be a number in (0, 1]' }).gt(0, { error: 'must be a number in (0, 1]' }).max(1, { error: 'must be a number in (0, 1]' });

const common = {
  out: flag(z.string(), '-o, --out <dir>', 'output folder: model/ (the package), loss.csv, loss.png'),
  checkpointDir: flag(z.string().optional(), '--checkpoint-dir <dir>', 'checkpoint folder (default <out>/checkpoint); keep it outside the source tree'),
  resume: flag(z.boolean().optional(), '--resume', 'continue from the checkpoint'),
  iterations: flag(positiveInt().default(2000), '--iterations <n>', 'iterations (default 2000; the paper: ~40 000 for G_VS, ~100 000 for G_DR)'),
  baseChannels: flag(positiveInt().default(8), '--base-channels <c>', 'channels of the first generator block (paper: 64 for G_VS, 32 for G_DR; default 8 for CPU)'),
  discriminatorChannels: flag(positiveInt().default(8), '--discriminator-channels <c>', 'channels of the first discriminator block (paper: 64 / 32; default 8)'),
  patch: flag(positiveInt().default(64), '--patch <px>', 'training patch side (paper 512; default 64; multiple of 16 for G_VS, 32 for G_DR)'),
  batch: flag(positiveInt().default(4), '--batch <n>', 'batch size (paper 4 for G_VS, 5 for G_DR; default 4)'),
  fields: flag(positiveInt().default(32), '--fields <n>', 'simulated training fields (lung-like sections)'),
  fieldPx: flag(positiveInt().default(128), '--field-px <px>', 'side of each simulated field, px (0.1625 µm px)'),
  validationFields: flag(positiveInt().default(4), '--validation-fields <n>', 'simulated validation fields (disjoint seeds)'),
  validateEvery: flag(positiveInt().default(50), '--validate-every <n>', 'validate and checkpoint every n iterations'),
  seed: flag(z.coerce.number().int().min(0).default(1), '--seed <n>', 'seed of data, weights and sampling'),
  name: flag(z.string().optional(), '--name <name>', 'model name in the manifest'),
  modelVersion: flag(z.string().regex(/^\d+\.\d+\.\d+([-+].*)?$/, { error: 'must be a semantic version (e.g. 1.0.0)' }).default('0.1.0'), '--model-version <semver>', 'model version in the manifest'),
};

export const stainingTrainOptions = z.object({
  ...common,
  adversarialWeight: flag(nonNegative().default(2000), '--adversarial-weight <η>', 'η, weight of the LSGAN term (paper 2000; 0: no discriminator)'),
  tvWeight: flag(nonNegative().default(0.02), '--tv-weight <λ>', 'λ, weight of the total variation (summed over pixels, as Eq. 4 prints; paper 0.02)'),
  generatorLr: flag(rate().default(1e-4), '--generator-lr <rate>', "G_VS's Adam learning rate (paper 1e-4)"),
  discriminatorLr: flag(rate().default(1e-5), '--discriminator-lr <rate>', "D_VS's Adam learning rate (paper 1e-5)"),
});

export const deeprTrainOptions = z.object({
  ...common,
  staining: flag(z.string(), '--staining <model>', 'the trained staining package (G_VS, frozen; the style loss runs through its down blocks); the cascade package names it'),
  adversarialWeight: flag(nonNegative().default(300), '--adversarial-weight <a>', 'a, LSGAN term (paper 300)'),
  perceptualWeight: flag(nonNegative().default(2000), '--perceptual-weight <b>', "b, perceptual loss through D_DR's blocks (paper 2000)"),
  styleWeight: flag(nonNegative().default(500), '--style-weight <c>', "c, style loss through the frozen G_VS's down blocks (paper 500; 0 = framework 4)"),
  styleLoss: flag(z.boolean().default(true), '--no-style-loss', 'train without the style loss (framework 4; same as --style-weight 0)'),
  inputResidual: flag(z.boolean().default(true), '--no-input-residual', "G_DR without the input residual (output = network alone, random start; the 0.1.0 demo packages); by default G_DR adds its input and starts as the identity"),
  maeWeight: flag(nonNegative().default(100), '--mae-weight <d>', 'd, MAE (paper 100)'),
  msssimWeight: flag(nonNegative().default(100), '--msssim-weight <e>', 'e, 1 − MS-SSIM (paper 100)'),
  generatorLr: flag(rate().default(1e-5), '--generator-lr <rate>', "G_DR's Adam learning rate (paper 1e-5)"),
  discriminatorLr: flag(rate().default(1e-6), '--discriminator-lr <rate>', "D_DR's Adam learning rate (paper 1e-6)"),
});

function progress(ctx: TrainerContext, what: string): (e: TrainerEvent) => void {
  return (e) => {
    if (ctx.json) return ctx.event(e as unknown as { event: string } & Record<string, unknown>);
    if (e.event === 'iteration' && (e.row.iteration % 10 === 0 || e.progress.iteration === e.progress.iterations)) {
      const eta = e.progress.etaMs === undefined ? '?' : formatDuration(e.progress.etaMs);
      ctx.log(`${what} ${e.row.iteration}/${e.progress.iterations} loss ${e.row.generator.toPrecision(4)} (${Object.entries(e.row).filter(([k]) => !['iteration', 'generator', 'seconds'].includes(k) && e.row[k] !== undefined).map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`).join(', ')}) eta ${eta}`);
    }
    if (e.event === 'best') ctx.log(`${what}: best at ${e.iteration}: ${JSON.stringify(e.metrics)}`);
  };
}

async function runStaining(ctx: TrainerContext, o: z.output<typeof stainingTrainOptions>): Promise<void> {
  const { FocalError } = await import('../../core/index.js');
  const { loadTf, train, loadLayersModel } = await import('../../core/ml.js');
  if (o.patch % 16 !== 0) throw new FocalError('E_USAGE', `--patch must be a multiple of 16 (4 pooling levels), got ${o.patch}`, { field: 'patch' });
  const { tf } = await loadTf();
  const t = await import('./train.js');
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const data = t.trainingData(o, [0], ctx.log);
  const spec = t.stainingSpec(tf, o, data.train, data.validation);
  const r = await train(tf, spec, { iterations: o.iterations, generatorLearningRate: o.generatorLr, discriminatorLearningRate: o.discriminatorLr, validateEvery: o.validateEvery, seed: o.seed },
    { outDir: out, checkpointDir: o.checkpointDir, resume: o.resume, signal: ctx.signal, onEvent: progress(ctx, 'staining') });
  r.generator.dispose();
  const best = await loadLayersModel(tf, join(out, 'generator'));
  const pkg = await t.saveStainingPackage(join(out, 'model'), best, o, {
    name: o.name ?? 'staining', version: o.modelVersion, command: `focal ${ctx.argv.join(' ')}`, iterations: r.iteration,
    extra: { bestIteration: r.bestIteration, validation: r.best, patch: o.patch, batch: o.batch, fields: o.fields, fieldPx: o.fieldPx },
  });
  ctx.log(`staining: wrote ${pkg.dir} (best iteration ${r.bestIteration}: ${JSON.stringify(r.best)})`);
}

async function runDeepR(ctx: TrainerContext, o: z.output<typeof deeprTrainOptions>): Promise<void> {
  const { FocalError } = await import('../../core/index.js');
  const { loadTf, train, loadLayersModel, loadModelPackage, loadTfjsModel } = await import('../../core/ml.js');
  if (o.patch % 32 !== 0) throw new FocalError('E_USAGE', `--patch must be a multiple of 32 (5 pooling levels), got ${o.patch}`, { field: 'patch' });
  const { tf } = await loadTf();
  const t = await import('./train.js');
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const stainerPackage = await loadModelPackage(resolve(o.staining));
  const stainer = await loadTfjsModel(stainerPackage, tf as unknown as Parameters<typeof loadTfjsModel>[1]);
  const weights = { adversarial: o.adversarialWeight, perceptual: o.perceptualWeight, style: o.styleLoss === false ? 0 : o.styleWeight, mae: o.maeWeight, msssim: o.msssimWeight };
  const data = t.trainingData(o, t.DR_TRAIN_DEFOCUS_UM, ctx.log);
  const opts = { ...o, stainer, stainerPackage, weights };
  const spec = t.deeprSpec(tf, opts, data.train, data.validation);
  const r = await train(tf, spec, { iterations: o.iterations, generatorLearningRate: o.generatorLr, discriminatorLearningRate: o.discriminatorLr, validateEvery: o.validateEvery, seed: o.seed },
    { outDir: out, checkpointDir: o.checkpointDir, resume: o.resume, signal: ctx.signal, onEvent: progress(ctx, 'staining.deepr') });
  r.generator.dispose();
  const best = await loadLayersModel(tf, join(out, 'generator'));
  const pkg = await t.saveCascadePackage(join(out, 'model'), best, opts, {
    name: o.name ?? (weights.style > 0 ? 'staining-cascade' : 'staining-cascade-nostyle'), version: o.modelVersion, command: `focal ${ctx.argv.join(' ')}`, iterations: r.iteration,
    extra: { bestIteration: r.bestIteration, validation: r.best, patch: o.patch, batch: o.batch, fields: o.fields, fieldPx: o.fieldPx, trainDefocusUm: t.DR_TRAIN_DEFOCUS_UM },
  });
  ctx.log(`staining.deepr: wrote ${pkg.dir} (best iteration ${r.bestIteration}: ${JSON.stringify(r.best)})`);
}

export const stainingTrainer = defineTrainer({
  id: 'staining',
  description: 'train the virtual-staining network G_VS (autofluorescence DAPI/TxRed → H&E in YCbCr) on simulated lung sections; writes <out>/model',
  options: stainingTrainOptions,
  run: runStaining,
});

export const stainingDeepRTrainer = defineTrainer({
  id: 'staining.deepr',
  description: "train the cascade's Deep-R G_DR (defocused → in-focus autofluorescence) with the style loss through a frozen staining package (or without: --no-style-loss); writes <out>/model",
  options: deeprTrainOptions,
  run: runDeepR,
});
