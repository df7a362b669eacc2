/**
 * A model package from the last weights of a `focal train tsva` checkpoint (the trainer packages
 * the best by validation MSE; an experiment whose validation set does not measure what it is after
 * needs the last):
 *   node dist/plugins/tsva/tools/package-checkpoint.js --checkpoint <dir> --like <package> --out <dir> --name <name>
 * `--like`: a package of the same arch and size (its metadata is kept, the iteration count and
 * patch size come from the checkpoint). For experiments; not a way to make a shipped model.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadArrays, loadTf, loadTfjsModel, setModelArrays } from '../../../core/ml.js';
import { loadTsvaPackage, saveTsvaPackage } from '../package.js';
import { atPatchSize, TRAIN_RECIPE } from '../recipes.js';
import { flagValue } from './report.js';

const argv = process.argv.slice(2);
const required = (name: string) => {
  const v = flagValue(argv, name, '');
  if (v === '') throw new Error(`--${name} is required (usage: --checkpoint <dir> --like <package> --out <dir> --name <name>)`);
  return v;
};
const checkpoint = required('checkpoint');
const like = required('like');
const out = required('out');
const name = required('name');

const { tf } = await loadTf();
const { pkg, meta } = await loadTsvaPackage(like);
const model = await loadTfjsModel(pkg, tf as never);
setModelArrays(tf as never, model as never, await loadArrays(join(checkpoint, 'generator')));
const state = JSON.parse(await readFile(join(checkpoint, 'state.json'), 'utf8')) as { iteration: number; fixed?: { patchPx?: number; batchSize?: number; trainPatches?: number; valPatches?: number } };
const patchPx = state.fixed?.patchPx ?? meta.patchPx;
await saveTsvaPackage(out, {
  arch: meta.arch, net: meta.net, model: model as never, history: [], bestIteration: state.iteration, iterations: state.iteration,
  batchSize: state.fixed?.batchSize ?? meta.batchSize, trainPatches: state.fixed?.trainPatches ?? meta.trainPatches, valPatches: state.fixed?.valPatches ?? meta.valPatches,
  command: `package-checkpoint --checkpoint ${checkpoint} --like ${like}`, name, ...(meta.batchNorm ? { batchNorm: meta.batchNorm } : {}),
  recipe: atPatchSize(TRAIN_RECIPE, patchPx),
});
console.log(`${out}: ${name}, the weights of iteration ${state.iteration} (${patchPx} px patches)`);
