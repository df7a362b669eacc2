/**
 * Trains TSVA or the U-Net baseline on the demo recipe and writes a model package.
 *   node dist/plugins/tsva/tools/train.js --arch tsva|unet [--minutes 20] [--iterations 5000]
 *     [--ckpt /work/ckpt/tsva] [--out DIR] [--base 8] [--levels 3] [--batch 8]
 * Checkpoints (resumable) in <ckpt>/<arch>/, data cache in <ckpt>/data/.
 */
import { join } from 'node:path';
import { loadTf } from '../../../core/index.js';
import { datasetFromRecipe } from '../data.js';
import { TsvaNetSchema } from '../model.js';
import { saveTsvaPackage } from '../package.js';
import { TRAIN_RECIPE, VAL_TILES } from '../recipes.js';
import { trainTsvaModel } from '../train.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const arch = arg('arch', 'tsva') as 'tsva' | 'unet';
if (arch !== 'tsva' && arch !== 'unet') throw new Error(`--arch: tsva or unet, got ${arch}`);
const ckpt = arg('ckpt', '/work/ckpt/tsva');
const net = TsvaNetSchema.parse({ baseChannels: Number(arg('base', '8')), levels: Number(arg('levels', '3')) });
const batchSize = Number(arg('batch', '8'));
const minutes = Number(arg('minutes', '20'));
const iterations = Number(arg('iterations', '100000'));
const out = arg('out', join(ckpt, `${arch}-package`));
const command = `node dist/plugins/tsva/tools/train.js ${process.argv.slice(2).join(' ')}`.trim();

const t0 = Date.now();
const patches = await datasetFromRecipe(join(ckpt, 'data', 'train'), TRAIN_RECIPE, (d, n) => process.stdout.write(`\rsimulating training tiles ${d}/${n}`));
console.log(`\n${patches.length} patches (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
const firstVal = TRAIN_RECIPE.tiles - VAL_TILES;
const train = patches.filter((p) => p.tile < firstVal);
const val = patches.filter((p) => p.tile >= firstVal);
const { tf, backend } = await loadTf();
console.log(`backend ${backend}; ${train.length} train / ${val.length} validation patches`);
const r = await trainTsvaModel(tf, {
  arch, net, train, val, patchPx: TRAIN_RECIPE.patchPx, batchSize, learningRate: 5e-4, iterations, maxSeconds: minutes * 60,
  validateEvery: 25, seed: 7, checkpointDir: join(ckpt, arch), log: (l) => console.log(l),
});
await saveTsvaPackage(out, {
  arch, net, model: r.model, history: r.history, bestIteration: r.bestIteration, iterations: r.iterations, batchSize,
  trainPatches: train.length, valPatches: val.length, command,
});
console.log(`package ${out}: best val MSE ${r.bestValMse.toExponential(3)} at iteration ${r.bestIteration} of ${r.iterations}`);
