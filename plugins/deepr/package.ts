/**
 * Deep-R model packages (core's model-package format) and the bundled-model lookup.
 * The DPM decoder ships as a nested package in `<model>/dpm/` (task `defocus-map`), named by
 * the autofocus manifest's `extra.dpm`.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError } from '../../core/index.js';
import { loadModelPackage, resolveModelDir as resolveModelDirInCore, saveModelPackage, type ModelPackage, type Ensemble } from '../../core/ml.js';
import { SYNTHETIC_DEFAULTS } from './data.js';
import { deeprAutofocusExtras, deeprDpmExtras, type DeepRAutofocusExtras, type DeepRDpmExtras } from './extras.js';

/** Name of the demo model bundled with Focal (models/deepr-demo/). */
export const DEMO_MODEL = 'deepr-demo';
/** Sub-folder of a Deep-R package holding its DPM decoder package. */
export const DPM_FOLDER = 'dpm';

/**
 * A `model` param: a folder or the name of a bundled model (core's {@link resolveModelDir}), with a
 * hint when the demo model is missing.
 * @throws FocalError `E_PARAMS` (field `model`) when neither exists.
 */
export function resolveModelDir(model: string): string {
  return resolveModelDirInCore(model, { hint: model === DEMO_MODEL ? '; the demo model has not been trained yet: train one with `focal train deepr` (plugins/deepr/docs/deepr.md) and pass its folder' : '' });
}

/** A Deep-R autofocus package, its `extra` validated and typed. */
export type DeepRPackage = ModelPackage<DeepRAutofocusExtras> & { manifest: { extra: DeepRAutofocusExtras } };
/** A Deep-R DPM decoder package, its `extra` validated and typed. */
export type DeepRDpmPackage = ModelPackage<DeepRDpmExtras> & { manifest: { extra: DeepRDpmExtras } };

/**
 * Loads the autofocus package (task 'autofocus', `extra` checked with {@link deeprAutofocusExtras})
 * and, when asked, its DPM package (task 'defocus-map').
 */
export async function loadDeepRPackage(dir: string, options: { dpm?: boolean } = {}): Promise<{ autofocus: DeepRPackage; dpm?: DeepRDpmPackage }> {
  const autofocus = await loadModelPackage(dir, { extras: deeprAutofocusExtras });
  if (!options.dpm) return { autofocus };
  const rel = autofocus.manifest.extra.dpm;
  if (rel === undefined) {
    throw new FocalError('E_PARAMS', `model: package ${dir} has no DPM decoder (manifest extra.dpm is missing); train one with \`focal train deepr --dpm-iterations N\``, { field: 'model', file: dir });
  }
  return { autofocus, dpm: await loadModelPackage(dpmFolder(autofocus.dir, rel), { extras: deeprDpmExtras }) };
}

/**
 * The DPM package folder named by `extra.dpm`: it must lie inside the autofocus package (real
 * paths, symlinks resolved) and not be the package itself; E_MANIFEST naming the field otherwise.
 */
export function dpmFolder(dir: string, rel: string): string {
  const field = 'extra.dpm';
  if (isAbsolute(rel)) throw new FocalError('E_MANIFEST', `model package ${dir}: ${field} '${rel}' is an absolute path; it must name a folder inside the package`, { file: join(dir, 'manifest.json'), field });
  const root = realpathSync(dir);
  let real: string;
  try {
    real = realpathSync(resolve(dir, rel));
  } catch {
    throw new FocalError('E_IO', `model package ${dir}: the DPM folder '${rel}' (${field}) does not exist`, { file: join(dir, rel), field });
  }
  if (!real.startsWith(root + sep)) {
    throw new FocalError('E_MANIFEST', `model package ${dir}: ${field} '${rel}' leads outside the package (to ${real}); every file a package loads must lie inside its folder`, { file: join(dir, 'manifest.json'), field, target: real });
  }
  return real;
}

/** What a Deep-R package records about its training. */
export interface DeepRPackageInfo {
  name?: string;
  version?: string;
  description?: string;
  baseChannels: number;
  levels: number;
  patchPx: number;
  iterations: number;
  bestIteration: number;
  bestValidationBerhu: number;
  /** Validation SSIM of the chosen generator, where measured. */
  bestValidationSsim?: number;
  /** The validation score that chose it (default 'berhu'). */
  bestBy?: 'berhu' | 'ssim';
  pixelSizeUm: number;
  objectiveNa: number;
  defocusRangeUm: [number, number];
  command: string;
  data: string;
  exportOnnx?: boolean;
  /** Export the DPM decoder's ONNX weights too (default: as exportOnnx). Off keeps a package with a DPM under the demo model's 20 MB: the DPM then runs on tfjs. */
  exportDpmOnnx?: boolean;
  /** What the DPM decoder outputs: the signed defocus Δz (default) or its magnitude |Δz| (see DpmTrainOptions.target). */
  dpmTarget?: 'signed' | 'absolute';
  /** Recommended way to apply the autofocus network (manifest `extra.ensemble`; deepr.autofocus's default). Default 'none'. */
  ensemble?: Ensemble;
  /** The model the generator was fine-tuned from (`focal train deepr --init-from`), recorded as `extra.initFrom`. */
  initFrom?: string;
  /** Specimen-library families the synthetic sources came from (`extra.trainingFamilies`). */
  trainingFamilies?: string[];
  /** Families kept out of training for the generalisation evaluation (`extra.heldOutFamilies`). */
  heldOutFamilies?: string[];
}

function manifestFor(info: DeepRPackageInfo, task: 'autofocus' | 'defocus-map', extra: Record<string, unknown>) {
  const halo = 2 ** info.levels * 2; // 64 px for 5 levels: about the receptive field radius of the bottleneck convs, rounded to the tile multiple
  return {
    name: task === 'autofocus' ? (info.name ?? 'deepr') : `${info.name ?? 'deepr'}-dpm`,
    version: info.version ?? '0.1.0',
    task,
    description:
      task === 'autofocus'
        ? (info.description ?? 'Deep-R single-shot autofocusing (Luo et al.): defocused fluorescence image in, in-focus image out (both zero-mean, unit-variance per image).')
        : `Deep-R DPM decoder (Luo et al., Fig. 7): per-pixel ${info.dpmTarget === 'absolute' ? 'absolute defocus distance |Δz|' : 'defocus distance Δz'}, µm, from the frozen Deep-R encoder.`,
    inputs: { channels: 1, axes: 'YXC' as const, normalisation: { kind: 'zero-mean-unit-variance' as const } },
    outputs: { channels: 1, axes: 'YXC' as const, ...(task === 'autofocus' ? { normalisation: { kind: 'zero-mean-unit-variance' as const } } : {}) },
    pixelSizeUm: info.pixelSizeUm,
    objectiveNa: info.objectiveNa,
    trainedDefocusRangeUm: info.defocusRangeUm,
    tilePx: 512,
    haloPx: halo,
    multipleOf: 2 ** info.levels,
    training: { command: info.command, data: info.data, iterations: info.iterations, date: new Date().toISOString() },
    extra: { baseChannels: info.baseChannels, levels: info.levels, patchPx: info.patchPx, bestIteration: info.bestIteration, bestValidationBerhu: info.bestValidationBerhu, ...(info.bestValidationSsim !== undefined && Number.isFinite(info.bestValidationSsim) ? { bestValidationSsim: info.bestValidationSsim } : {}), ...(info.bestBy ? { bestBy: info.bestBy } : {}), ...(info.initFrom ? { initFrom: info.initFrom } : {}), ...(info.trainingFamilies ? { trainingFamilies: info.trainingFamilies } : {}), ...(info.heldOutFamilies ? { heldOutFamilies: info.heldOutFamilies } : {}), ...extra },
  };
}

/**
 * Writes a Deep-R model package at `dir` with core's saveModelPackage (tfjs layers + ONNX,
 * sha256s, manifest), and the DPM decoder (when given) as the nested package `dir/dpm/`
 * (written first, then named by the outer manifest's `extra.dpm`).
 */
export async function saveDeepRPackage(dir: string, generator: tfTypes.LayersModel, info: DeepRPackageInfo, dpm?: tfTypes.LayersModel): Promise<ModelPackage> {
  const exportOnnx = info.exportOnnx ?? true;
  // the outer package replaces the folder, so the DPM package is saved beside it and moved in afterwards
  let dpmTmp: string | undefined;
  if (dpm) {
    dpmTmp = `${resolve(dir)}.dpm-${process.pid}`;
    await saveModelPackage(dpmTmp, { manifest: manifestFor(info, 'defocus-map', { dpmTarget: info.dpmTarget ?? 'signed' }), tfModel: dpm, exportOnnx: info.exportDpmOnnx ?? exportOnnx });
  }
  const pkg = await saveModelPackage(dir, { manifest: manifestFor(info, 'autofocus', { ...(dpm ? { dpm: DPM_FOLDER } : {}), ...(info.ensemble && info.ensemble !== 'none' ? { ensemble: info.ensemble } : {}) }), tfModel: generator, exportOnnx });
  if (dpmTmp) {
    const { rename } = await import('node:fs/promises');
    await rename(dpmTmp, join(pkg.dir, DPM_FOLDER));
  }
  return pkg;
}

export { SYNTHETIC_DEFAULTS };
