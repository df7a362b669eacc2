/**
 * Simulates (or loads from the cache) TSVA's test sets: Dataset 1 (he-gland) and Dataset 2
 * (he-skin), Gaussian ΔD and a uniform sweep, z-stack and independent noise, and the cell-count sets.   node dist/plugins/tsva/tools/make-data.js [--ckpt /work/ckpt/tsva]
 */
import { join } from 'node:path';
import { datasetFromRecipe } from '../data.js';
import { COUNT_RECIPES, TEST_RECIPES } from '../recipes.js';

const i = process.argv.indexOf('--ckpt');
const ckpt = i >= 0 ? process.argv[i + 1] : '/work/ckpt/tsva';
for (const [name, recipe] of Object.entries({ ...TEST_RECIPES, ...COUNT_RECIPES })) {
  const t0 = Date.now();
  const patches = await datasetFromRecipe(join(ckpt, 'data', name), recipe);
  console.log(`${name}: ${patches.length} patches (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
