/**
 * Staining model packages and the cascade's link: a cascade (G_DR) package names the staining
 * (G_VS) package it was trained against — name, version and the sha256 of its tfjs weights —
 * and opening a cascade with another staining package is refused.
 */
import { FocalError } from '../../core/index.js';
import { createInferenceEngine, loadModelPackage, MODEL_MANIFEST_FILE, parseModelExtras, type EngineChoice, type InferenceEngine, type ModelPackage } from '../../core/ml.js';
import { join } from 'node:path';
import { stainingCascadeExtras, type StainingLink } from './extras.js';

export type { StainingLink };

/** The link a cascade records for a staining package. */
export function stainingLink(pkg: ModelPackage): StainingLink {
  if (pkg.manifest.task !== 'virtual-staining') throw new FocalError('E_MANIFEST', `model package ${pkg.dir}: task is '${pkg.manifest.task}', a staining package has task 'virtual-staining'`, { file: join(pkg.dir, MODEL_MANIFEST_FILE), field: 'task' });
  const tfjs = pkg.manifest.weights.find((w) => w.format === 'tfjs-layers');
  const sha = tfjs?.shards?.[0]?.sha256 ?? tfjs?.sha256;
  if (!sha) throw new FocalError('E_MANIFEST', `model package ${pkg.dir}: has no tfjs weights to link to`, { file: join(pkg.dir, MODEL_MANIFEST_FILE), field: 'weights' });
  return { name: pkg.manifest.name, version: pkg.manifest.version, weightsSha256: sha };
}

/** Checks that `cascade` was trained against `staining` (its `extra` parsed with {@link stainingCascadeExtras}); E_MANIFEST naming `stainingModel` (or the bad `extra` field) otherwise. */
export function checkCascadeLink(cascade: ModelPackage, staining: ModelPackage): void {
  if (cascade.manifest.task !== 'staining-cascade') {
    throw new FocalError('E_MANIFEST', `model package ${cascade.dir}: task is '${cascade.manifest.task}', a cascade package has task 'staining-cascade'`, { file: join(cascade.dir, MODEL_MANIFEST_FILE), field: 'task' });
  }
  const want = parseModelExtras(stainingCascadeExtras, cascade.manifest.extra, join(cascade.dir, MODEL_MANIFEST_FILE)).stainingPackage;
  if (!want?.weightsSha256) throw new FocalError('E_MANIFEST', `model package ${cascade.dir}: extra.stainingPackage is missing; a cascade must name the staining package it was trained against`, { file: join(cascade.dir, MODEL_MANIFEST_FILE), field: 'extra.stainingPackage' });
  const have = stainingLink(staining);
  if (have.weightsSha256 !== want.weightsSha256) {
    throw new FocalError(
      'E_MANIFEST',
      `stainingModel: cascade ${cascade.manifest.name} ${cascade.manifest.version} was trained against staining package ${want.name} ${want.version} (weights ${want.weightsSha256.slice(0, 12)}…), but ${staining.dir} is ${have.name} ${have.version} (weights ${have.weightsSha256.slice(0, 12)}…); its style loss ties it to those exact weights`,
      { field: 'stainingModel', file: join(cascade.dir, MODEL_MANIFEST_FILE), expected: want, got: have },
    );
  }
}

/** A cascade and its staining package, linked and opened as engines. */
export interface OpenCascade {
  cascade: ModelPackage;
  staining: ModelPackage;
  refocus: InferenceEngine;
  stain: InferenceEngine;
  dispose(): Promise<void>;
}

export async function openCascade(cascadeDir: string, stainingDir: string, engine: EngineChoice = 'auto'): Promise<OpenCascade> {
  const cascade = await loadModelPackage(cascadeDir);
  const staining = await loadModelPackage(stainingDir);
  checkCascadeLink(cascade, staining);
  const refocus = await createInferenceEngine(cascade, { engine });
  const stain = await createInferenceEngine(staining, { engine });
  return { cascade, staining, refocus, stain, async dispose() { await refocus.dispose(); await stain.dispose(); } };
}

/** An engine running `first` then `second` on each batch (the cascade as one network for tiled inference). */
export function chainEngines(first: InferenceEngine, second: InferenceEngine): InferenceEngine {
  return {
    kind: first.kind,
    async run(input, shape) {
      const a = await first.run(input, shape);
      return second.run(a.data, a.shape);
    },
    async dispose() { /* the parts are disposed by their owner */ },
  };
}
