/**
 * Top-floor entry of Deep-R's evaluation tool (plugins/deepr/tools/evaluate.ts): hands it the
 * deconvolution plugin's Richardson–Lucy and Landweber as baselines (a plugin imports no other
 * plugin).
 *
 *   npm run build && node dist/scripts/evaluate-deepr.js [model dir] [--pairs 12] [--out plugins/deepr/docs/img] [--oracle]
 */
import { landweber, richardsonLucy } from '../plugins/deconvolution/deconvolve.js';
import { evaluateDeepR } from '../plugins/deepr/tools/evaluate.js';

evaluateDeepR({ 'richardson-lucy': richardsonLucy, landweber }).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
