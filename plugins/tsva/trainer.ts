/**
 * TSVA's trainer contribution (`focal train tsva`): the demo recipe's data (simulated he-gland
 * H&E, Dataset 1's training and validation tiles, cached in `<data>`), the kit's trainer through
 * {@link trainTsvaModel}, and a model package. `--arch unet` trains the single-shot baseline the
 * same way; `--arch early-fusion` the ablation (both shots as six channels of one U-Net), which may
 * start from a baseline U-Net package (`--init-from`, Y2's weights zero). The training stack (tfjs) is imported when a run starts.
 */
import { join, resolve } from 'node:path';
import { defineTrainer, FocalError, z, type TrainerContext } from '../../core/index.js';

const flag = <T extends z.ZodType>(schema: T, flags: string, description: string): T => schema.meta({ flags, description }) as T;
const POSITIVE = 'must be a positive integer';
const NON_NEGATIVE = 'must be an integer ≥ 0';
const positiveInt = () => z.coerce.number({ error: POSITIVE }).int({ error: POSITIVE }).min(1, { error: POSITIVE });

/** `focal train tsva` options (those of the former tools/train.ts, same defaults). */
export const tsvaTrainOptions = z.object({
  arch: flag(z.enum(['tsva', 'unet', 'early-fusion'], { error: "must be 'tsva', 'unet' or 'early-fusion'" }).default('tsva'), '--arch <arch>', "'tsva' (two shots, shared-weight encoders, default), 'unet' (the single-shot baseline) or 'early-fusion' (ablation, not the paper's: the baseline with both shots as six input channels)"),
  out: flag(z.string(), '-o, --out <dir>', 'output folder: model/ (the package), loss.csv, loss.png, generator/ (best weights)'),
  name: flag(z.string().trim().min(1, { error: 'must not be empty' }).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'letters, digits, ".", "_" and "-" only, starting with a letter or digit' }).optional(), '--name <name>', "the package's name in its manifest (default by --arch: 'tsva-demo', 'tsva-unet-baseline-demo' or 'tsva-early-fusion-ablation', as the shipped models; with --residual off '<that>-no-residual'); name ablations and experiments so they are not taken for a shipped model"),
  checkpoint: flag(z.string().optional(), '--checkpoint <dir>', 'checkpoint folder (default <out>/checkpoint; keep it outside the source tree)'),
  data: flag(z.string().optional(), '--data <dir>', 'cache of the simulated training data (default <out>/data; reused when its recipe matches)'),
  base: flag(positiveInt().max(128, { error: 'must be ≤ 128' }).default(8), '--base <c>', 'channels of the first level (default 8; paper reading 64)'),
  levels: flag(positiveInt().max(6, { error: 'must be ≤ 6' }).default(3), '--levels <n>', 'pooling levels (default 3; paper reading 4)'),
  tiles: flag(positiveInt().max(1000, { error: 'must be ≤ 1000' }).default(40), '--tiles <n>', "simulated he-gland tiles (of 9 patches each at the default --patch; default 40); the last round(15 %) are the validation split (40 → 34 + 6)"),
  batch: flag(positiveInt().default(8), '--batch <n>', 'batch size (default 8; paper 20)'),
  patch: flag(positiveInt().min(32, { error: 'must be an integer in [32, 512], a multiple of 8' }).max(512, { error: 'must be an integer in [32, 512], a multiple of 8' }).refine((v) => v % 8 === 0, { error: 'must be an integer in [32, 512], a multiple of 8' }).default(64), '--patch <px>', "training patch side (default 64, as the shipped models' first eight stages; 0.7.0 was fine-tuned at 192; paper 224): each tile gives max(1, round(192 / px))² patches, so 192 px gives one a tile. The network runs on 512 px tiles: patches wider than twice its reach (72 px for the demo's size) let it learn interiors, away from the zero padding (plugins/tsva/docs/tsva.md, How much of a tile the network sees)"),
  learningRate: flag(z.coerce.number({ error: 'must be a number in (0, 1]' }).gt(0, { error: 'must be a number in (0, 1]' }).max(1, { error: 'must be a number in (0, 1]' }).default(5e-4), '--learning-rate <rate>', "Adam's learning rate (paper and default 5e-4)"),
  iterations: flag(positiveInt().default(100000), '--iterations <n>', 'iterations to reach, including those of a resumed run (default 100000; --minutes usually stops first)'),
  minutes: flag(z.coerce.number({ error: 'must be a number > 0' }).gt(0, { error: 'must be a number > 0' }).default(20), '--minutes <m>', 'stop after this much training time (default 20); resume continues from the last validation'),
  validateEvery: flag(positiveInt().default(25), '--validate-every <n>', 'validate and checkpoint every n iterations (default 25)'),
  noise: flag(z.enum(['stack', 'independent'], { error: "must be 'stack' or 'independent'" }).default('stack'), '--noise <model>', "'stack' (default, the paper's data: shots and target are planes of one noisy z-stack, so a shot on the in-focus plane is the target) or 'independent' (every image its own noise)"),
  focus: flag(z.enum(['brenner', 'mid-plane'], { error: "must be 'brenner' or 'mid-plane'" }).default('brenner'), '--focus <rule>', "the in-focus plane (target, origin of ΔD): 'brenner' (default, the paper's rule: the patch's z-stack plane of highest Brenner gradient) or 'mid-plane' (the section's mid-plane: the data of the models before 2026-12-06)"),
  loss: flag(z.enum(['mse', 'psnr'], { error: "must be 'mse' or 'psnr'" }).default('mse'), '--loss <loss>', "'mse' (the paper's, default) or 'psnr' (minus each patch's PSNR, capped at 60 dB, averaged over the batch: the figure the paper reports; not the paper's loss); 'psnr' picks the best by validation PSNR"),
  softness: flag(z.coerce.number({ error: 'must be a number ≥ 0 (µm)' }).min(0, { error: 'must be a number ≥ 0 (µm)' }).max(3, { error: 'must be ≤ 3 µm' }).default(0), '--softness <um>', 'specimen softness: each training tile softened by a Gaussian of σ ~ U(0, um) µm (default 0: as rendered); real sections differ in how crisp they are'),
  variety: flag(z.coerce.number({ error: 'must be a number in [0, 1]' }).min(0, { error: 'must be a number in [0, 1]' }).max(1, { error: 'must be a number in [0, 1]' }).default(0), '--variety <fraction>', 'this fraction of the training tiles re-stained with random stain pairs (haematoxylin + DAB, Giemsa, methyl green, grey, arbitrary colours…) and cut 1–5 µm thick (default 0: all H&E, 3–4 µm); defocus is the same physics whatever the dye'),
  uniformOd: flag(z.coerce.number({ error: 'must be a number in [0, 2]' }).min(0, { error: 'must be a number in [0, 2]' }).max(2, { error: 'must be a number in [0, 2]' }).default(0), '--uniform-od <max>', 'the --variety tiles also lie under a uniform greyish absorber of optical density ~ U(0, max) (a dense evenly stained region, a tinted mountant, a dimmer lamp: the whole tile darker, its shot noise relatively stronger; default 0: none); needs --variety'),
  batchNorm: flag(z.enum(['batch', 'joint', 'frozen'], { error: "must be 'batch', 'joint' or 'frozen'" }).default('batch'), '--batch-norm <mode>', "'batch' (default, the paper: batch statistics while learning, each of TSVA's two paths by its own shot's), 'joint' (TSVA: batch statistics of both shots together, the shared encoder running on Y1 and Y2 as one batch) or 'frozen' (fine-tuning: the moving averages normalise while learning, as at inference, and stay fixed; use with --init-from)"),
  initFrom: flag(z.string().optional(), '--init-from <model>', 'start from a trained TSVA package of the same --arch, --base and --levels (a folder, or a bundled model\'s name) instead of random weights: fine-tuning; --arch early-fusion may start from a unet package (Y2\'s input weights zero)'),
  residual: flag(z.enum(['on', 'off'], { error: "must be 'on' or 'off'" }).default('on'), '--residual <on|off>', "'on' (default, the paper's: Y1 is added to the output, which starts at zero so the network starts as X = Y1) or 'off' (ablation: the network makes the whole image from random output weights; the reading asks to report it once)"),
  shotOffset: flag(z.coerce.number({ error: 'must be a number in (0, 2] (µm)' }).gt(0, { error: 'must be a number in (0, 2] (µm)' }).max(2, { error: 'must be a number in (0, 2] (µm)' }).default(0.5), '--shot-offset <um>', "s: the two shots at F − s and F + s (default 0.5 µm, the paper's: one stack step); the shipped models are trained at 0.5, other values are for the s ablation (plugins/tsva/docs/offset/)"),
  seed: flag(z.coerce.number({ error: NON_NEGATIVE }).int({ error: NON_NEGATIVE }).min(0, { error: NON_NEGATIVE }).default(7), '--seed <n>', 'seed of weights, sampling and rotations (default 7)'),
  resume: flag(z.boolean().optional(), '--resume', 'continue from the checkpoint'),
  json: flag(z.boolean().optional(), '--json', 'print one JSON line per iteration'),
});
export type TsvaTrainOptions = z.output<typeof tsvaTrainOptions>;

async function runTsvaTrainer(ctx: TrainerContext, o: TsvaTrainOptions): Promise<void> {
  const { loadTf, loadTfjsModel, modelArrays, resolveModelDir, weightsSource, DEFAULT_PROTOCOL, TRAIN_RECIPE, atPatchSize, valTilesOf, datasetFromRecipe, TsvaNetSchema, buildTsvaNet, widenForEarlyFusion, loadTsvaPackage, saveTsvaPackage, trainTsvaModel } = {
    ...(await import('../../core/ml.js')), ...(await import('./recipes.js')), ...(await import('./data.js')), ...(await import('./model.js')), ...(await import('./package.js')), ...(await import('./train.js')), ...(await import('./simulate.js')),
  };
  if (o.uniformOd > 0 && o.variety === 0) throw new FocalError('E_USAGE', '--uniform-od: darkens the --variety tiles; give --variety too (a fraction > 0)', { field: 'uniformOd' });
  const out = resolve(o.out);
  const net = TsvaNetSchema.parse({ baseChannels: o.base, levels: o.levels });
  // --init-from: the package is checked before any data is simulated
  const init = o.initFrom === undefined ? undefined : await (async () => {
    const dir = resolveModelDir(o.initFrom!, { field: 'initFrom' });
    const { pkg, meta } = await loadTsvaPackage(dir);
    const archFits = meta.arch === o.arch || (o.arch === 'early-fusion' && meta.arch === 'unet');
    if (!archFits || meta.net.baseChannels !== net.baseChannels || meta.net.levels !== net.levels) {
      throw new FocalError('E_USAGE', `--init-from ${o.initFrom}: the package is ${meta.arch} with base ${meta.net.baseChannels} and ${meta.net.levels} levels; this run asks for ${o.arch} with base ${net.baseChannels} and ${net.levels} levels`, { file: dir, field: 'initFrom' });
    }
    if ((meta.residual !== false) !== (o.residual === 'on')) {
      throw new FocalError('E_USAGE', `--init-from ${o.initFrom}: the package was trained ${meta.residual === false ? 'without' : 'with'} the residual +Y1; this run asks for --residual ${o.residual}`, { file: dir, field: 'initFrom' });
    }
    return pkg;
  })();
  const dataBase = join(o.data !== undefined ? resolve(o.data) : join(out, 'data'), 'train');
  const t0 = Date.now();
  const recipe = { ...atPatchSize(TRAIN_RECIPE, o.patch), tiles: o.tiles, noise: o.noise, focus: o.focus, ...(o.softness > 0 ? { softnessMaxUm: o.softness } : {}), ...(o.variety > 0 ? { varietyFraction: o.variety } : {}), ...(o.uniformOd > 0 ? { uniformOdMax: o.uniformOd } : {}), ...(o.shotOffset !== DEFAULT_PROTOCOL.shotOffsetUm ? { protocol: { ...DEFAULT_PROTOCOL, shotOffsetUm: o.shotOffset } } : {}) };
  const patches = await datasetFromRecipe(dataBase, recipe, (d, n) => { if (!ctx.json) ctx.log(`simulating training tiles ${d}/${n} (${((Date.now() - t0) / 1000).toFixed(0)} s)`); });
  const firstVal = recipe.tiles - valTilesOf(recipe.tiles);
  const trainSet = patches.filter((p) => p.tile < firstVal);
  const val = patches.filter((p) => p.tile >= firstVal);
  if (trainSet.length === 0 || val.length === 0) throw new FocalError('E_ARGUMENT', `data: ${dataBase} gives ${trainSet.length} training and ${val.length} validation patches`, { field: 'data', file: dataBase });
  const { tf, backend } = await loadTf();
  let initialWeights: { weights: import('../../core/ml.js').NamedArray[]; source: string } | undefined;
  if (init) {
    const model = await loadTfjsModel(init, tf as Parameters<typeof loadTfjsModel>[1]);
    let weights: import('../../core/ml.js').NamedArray[] = modelArrays(model).map((a) => ({ ...a, data: Float32Array.from(a.data) }));
    const fromBaseline = o.arch === 'early-fusion' && model.inputs.length === 1 && model.inputs[0].shape[3] === net.colourChannels;
    model.dispose();
    if (fromBaseline) {
      const target = buildTsvaNet(tf as Parameters<typeof buildTsvaNet>[0], 'early-fusion', net);
      weights = widenForEarlyFusion(target.weights.map((w) => ({ name: w.name, shape: w.shape as number[] })), weights);
      target.dispose();
    }
    initialWeights = { weights, source: weightsSource(init.manifest) };
  }
  ctx.log(`tsva: ${o.arch} on ${backend}, ${trainSet.length} training / ${val.length} validation patches (${((Date.now() - t0) / 1000).toFixed(0)} s to load), base ${net.baseChannels}, ${net.levels} levels, batch ${o.batch}`);
  const r = await trainTsvaModel(tf, {
    arch: o.arch, net, train: trainSet, val, patchPx: recipe.patchPx, batchSize: o.batch, learningRate: o.learningRate, iterations: o.iterations, maxSeconds: o.minutes * 60,
    validateEvery: o.validateEvery, seed: o.seed, residual: o.residual === 'on', outDir: out, checkpointDir: o.checkpoint !== undefined ? resolve(o.checkpoint) : undefined, resume: o.resume, signal: ctx.signal, initialWeights, loss: o.loss, batchNorm: o.batchNorm, recipe,
    onEvent: (e) => {
      if (e.event === 'initial' && !ctx.json) ctx.log(`  ${o.arch} starting weights (${initialWeights?.source}): validation MSE ${e.metrics.mse?.toExponential(3)}${e.metrics.psnr !== undefined ? `, PSNR ${e.metrics.psnr.toFixed(2)} dB` : ''}`);
      if (e.event !== 'iteration') return;
      if (ctx.json) ctx.event({ event: 'iteration', ...e.row, iterations: e.progress.iterations, ...(e.progress.iterationsPerSecond !== undefined ? { iterationsPerSecond: e.progress.iterationsPerSecond } : {}) });
      else if (e.row.validationMse !== undefined) {
        const train = e.row.mse !== undefined ? `train MSE ${e.row.mse.toExponential(3)}` : `train PSNR ${(-(e.row.negPsnr ?? NaN)).toFixed(2)} dB`;
        ctx.log(`  ${o.arch} it ${e.row.iteration}: ${train}, validation MSE ${e.row.validationMse.toExponential(3)}${e.row.validationPsnr !== undefined ? `, PSNR ${e.row.validationPsnr.toFixed(2)} dB` : ''}, ${e.row.seconds.toFixed(0)} s`);
      }
    },
  });
  const pkgDir = join(out, 'model');
  await saveTsvaPackage(pkgDir, {
    arch: o.arch, net, model: r.model, history: r.history, bestIteration: r.bestIteration, iterations: r.iterations, batchSize: o.batch,
    trainPatches: trainSet.length, valPatches: val.length, recipe, command: `focal ${ctx.argv.join(' ')}`, initFrom: initialWeights?.source, loss: o.loss, learningRate: o.learningRate, batchNorm: o.batchNorm, residual: o.residual === 'on', ...(o.name !== undefined ? { name: o.name } : {}),
  });
  r.model.dispose();
  if (ctx.json) ctx.event({ event: 'result', ok: true, model: pkgDir, iteration: r.iterations, bestIteration: r.bestIteration, bestValidationMse: r.bestValMse });
  else process.stdout.write(`tsva: model package ${pkgDir} (best ${o.loss === 'psnr' ? 'validation PSNR' : 'validation MSE'} at iteration ${r.bestIteration} of ${r.iterations}; its validation MSE ${r.bestValMse.toExponential(3)})\n`);
}

/** `focal train tsva`. */
export const tsvaTrainer = defineTrainer({
  id: 'tsva',
  description: 'train TSVA (two-shot virtual autofocus) or its single-shot U-Net baseline on simulated H&E; writes <out>/model (model package) and training logs',
  options: tsvaTrainOptions,
  run: runTsvaTrainer,
});
