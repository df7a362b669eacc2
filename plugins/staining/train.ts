/**
 * Training of G_VS (`focal train staining`) and of the cascade's G_DR (`focal train
 * staining-deepr`) with core's trainer; the model packages they write. tfjs is imported by
 * the callers (trainer.ts loads it when a run starts).
 */
import { type SeededRandom } from '../../core/index.js';
import { featureExtractor, lsganGeneratorLoss, maeLoss, saveModelPackage, type LossTerm, type ModelPackage, type Tf, type TrainBatch, type TrainerEvent, type TrainerSpec } from '../../core/ml.js';
import type * as tfTypes from '@tensorflow/tfjs';
import { sampleCrops, simulateFields, toHwc, type StainField } from './data.js';
import { meanFeatureLoss, msSsimLoss, tvSum } from './losses.js';
import { buildCritic, buildRefocuser, buildStainer, criticBlockLayers, DR_LEVELS, stainerDownBlockLayers, VS_LEVELS } from './model.js';
import { stainingLink, type StainingLink } from './package.js';

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;
type LayersModel = tfTypes.LayersModel;

export const PIXEL_SIZE_UM = 0.1625;
/** The paper's G_DR training planes: −2…+2 µm in 0.5 µm steps, focus included. */
export const DR_TRAIN_DEFOCUS_UM = [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2];

export interface DataOptions {
  fields: number;
  fieldPx: number;
  validationFields: number;
  seed: number;
}

export interface StainingTrainOptions extends DataOptions {
  out: string;
  checkpointDir?: string;
  resume?: boolean;
  iterations: number;
  baseChannels: number;
  discriminatorChannels: number;
  patch: number;
  batch: number;
  adversarialWeight: number;
  tvWeight: number;
  generatorLr: number;
  discriminatorLr: number;
  validateEvery: number;
}

export interface DeepRTrainOptions extends Omit<StainingTrainOptions, 'adversarialWeight' | 'tvWeight'> {
  /** The frozen G_VS (tfjs) and its package. */
  stainer: LayersModel;
  stainerPackage: ModelPackage;
  weights: { adversarial: number; perceptual: number; style: number; mae: number; msssim: number };
  /** G_DR adds its input to its output and starts as the identity (default true). */
  inputResidual?: boolean;
}

export interface Progress {
  (e: TrainerEvent): void;
}

/** G_VS's loss terms (Eq. 1); MAE weight 1. */
export function stainingTerms(o: Pick<StainingTrainOptions, 'adversarialWeight' | 'tvWeight'>): LossTerm[] {
  return [
    { name: 'mae', weight: 1 },
    { name: 'adversarial', weight: o.adversarialWeight },
    { name: 'tv', weight: o.tvWeight, fields: { weight: 'tvWeight' } },
  ];
}

/** G_DR's loss terms (Eq. 6). */
export function deeprTerms(w: DeepRTrainOptions['weights']): LossTerm[] {
  return [
    { name: 'adversarial', weight: w.adversarial },
    { name: 'perceptual', weight: w.perceptual },
    { name: 'style', weight: w.style },
    { name: 'mae', weight: w.mae },
    { name: 'msssim', weight: w.msssim },
  ];
}

function batchOf(tf: Tf, fields: StainField[], input: (f: StainField) => Float32Array[], target: (f: StainField) => Float32Array[]): TrainBatch {
  const n = fields[0].width * fields[0].height;
  const s = fields[0].width;
  const x = new Float32Array(fields.length * n * input(fields[0]).length);
  const cin = input(fields[0]).length;
  const cout = target(fields[0]).length;
  const y = new Float32Array(fields.length * n * cout);
  fields.forEach((f, i) => {
    x.set(toHwc(input(f), n), i * n * cin);
    y.set(toHwc(target(f), n), i * n * cout);
  });
  return { inputs: [tf.tensor4d(x, [fields.length, s, s, cin])], target: tf.tensor4d(y, [fields.length, s, s, cout]) };
}

/** The G_VS trainer spec over simulated fields (in-focus AF → true H&E in YCbCr). */
export function stainingSpec(tf: Tf, o: StainingTrainOptions, train: StainField[], validation: StainField[]): TrainerSpec {
  const terms = stainingTerms(o);
  const val = batchOf(tf, validation, (f) => f.af.get(0)!, (f) => f.heYcc);
  return {
    buildGenerator: () => buildStainer(tf, o.baseChannels, o.seed),
    ...(o.adversarialWeight > 0 ? { buildDiscriminator: () => buildCritic(tf, 3, o.discriminatorChannels, o.seed + 1000, 'dvs') } : {}),
    terms,
    adversarialTerm: 'adversarial',
    termValues(t, { batch, output, critic, active }) {
      const v: Record<string, Tensor> = {};
      v.mae = maeLoss(t, batch.target, output);
      if (active.has('adversarial') && critic) v.adversarial = lsganGeneratorLoss(t, critic);
      if (active.has('tv')) v.tv = tvSum(t, output as Tensor4D);
      return v;
    },
    sampleBatch: (t: Tf, rng: SeededRandom) => sampleCrops(t, rng, train, o.patch, o.batch, (f) => f.af.get(0)!, (f) => f.heYcc),
    validate(t, g) {
      return t.tidy(() => {
        const out = g.predict(val.inputs[0]) as Tensor;
        const d = t.abs(t.sub(out, val.target));
        const per = t.mean(d, [0, 1, 2]).dataSync();
        return { mae: t.mean(d).dataSync()[0], maeY: per[0], maeCb: per[1], maeCr: per[2] };
      });
    },
    bestBy: { metric: 'mae', better: 'lower' },
    fixed: { baseChannels: o.baseChannels, discriminatorChannels: o.discriminatorChannels, patch: o.patch, batch: o.batch, fields: o.fields, fieldPx: o.fieldPx, seed: o.seed },
    generatedBy: 'focal staining trainer',
    architecture: `G_VS with baseChannels ${o.baseChannels}`,
    config: { ...o },
  };
}

/** The G_DR trainer spec: defocused AF (−2…+2 µm) → in-focus AF, with the style loss through the frozen G_VS. */
export function deeprSpec(tf: Tf, o: DeepRTrainOptions, train: StainField[], validation: StainField[]): TrainerSpec {
  const terms = deeprTerms(o.weights);
  for (const l of o.stainer.layers) l.trainable = false;
  const style = featureExtractor(tf, o.stainer, stainerDownBlockLayers());
  let perceptual: LayersModel | undefined;
  const valDefocus = [-2, -1, 1, 2];
  const valFields = validation.flatMap((f) => valDefocus.map((d) => ({ ...f, af: new Map([[0, f.af.get(0)!], [99, f.af.get(d)!]]) })));
  const val = batchOf(tf, valFields, (f) => f.af.get(99)!, (f) => f.af.get(0)!);
  const stainedTruth = o.stainer.predict(val.target) as Tensor;
  return {
    buildGenerator: () => buildRefocuser(tf, o.baseChannels, o.seed, o.inputResidual ?? true),
    buildDiscriminator: () => {
      const d = buildCritic(tf, 2, o.discriminatorChannels, o.seed + 1000, 'ddr');
      perceptual = featureExtractor(tf, d, criticBlockLayers('ddr'));
      return d;
    },
    terms,
    adversarialTerm: 'adversarial',
    termValues(t, { batch, output, critic, active }) {
      const g = output as Tensor4D;
      const y = batch.target as Tensor4D;
      const v: Record<string, Tensor> = {};
      if (active.has('adversarial') && critic) v.adversarial = lsganGeneratorLoss(t, critic);
      if (active.has('perceptual') && perceptual) v.perceptual = meanFeatureLoss(t, perceptual, y, g);
      if (active.has('style')) v.style = meanFeatureLoss(t, style, y, g);
      if (active.has('mae')) v.mae = maeLoss(t, y, g);
      if (active.has('msssim')) v.msssim = msSsimLoss(t, y, g);
      return v;
    },
    sampleBatch: (t: Tf, rng: SeededRandom) => sampleCrops(t, rng, train, o.patch, o.batch, (f, r) => f.af.get(DR_TRAIN_DEFOCUS_UM[Math.floor(r.next() * DR_TRAIN_DEFOCUS_UM.length)])!, (f) => f.af.get(0)!),
    validate(t, g) {
      return t.tidy(() => {
        const out = g.predict(val.inputs[0]) as Tensor;
        const stained = o.stainer.predict(out) as Tensor;
        return { mae: t.mean(t.abs(t.sub(out, val.target))).dataSync()[0], stainMae: t.mean(t.abs(t.sub(stained, stainedTruth))).dataSync()[0] };
      });
    },
    bestBy: { metric: 'mae', better: 'lower' },
    fixed: { baseChannels: o.baseChannels, discriminatorChannels: o.discriminatorChannels, patch: o.patch, batch: o.batch, fields: o.fields, fieldPx: o.fieldPx, seed: o.seed, staining: stainingLink(o.stainerPackage).weightsSha256, inputResidual: o.inputResidual ?? true },
    generatedBy: 'focal staining-deepr trainer',
    architecture: `G_DR with baseChannels ${o.baseChannels}${(o.inputResidual ?? true) ? ', input residual, identity start' : ''}`,
    config: { ...o, stainer: undefined, stainerPackage: o.stainerPackage.dir },
  };
}

/** Simulated training and validation fields (validation from a disjoint seed range). */
export function trainingData(o: DataOptions, defocusUm: number[], log?: (s: string) => void): { train: StainField[]; validation: StainField[] } {
  const t0 = Date.now();
  const train = simulateFields({ count: o.fields, sizePx: o.fieldPx, seed: o.seed, defocusUm });
  const validation = simulateFields({ count: o.validationFields, sizePx: o.fieldPx, seed: o.seed + 100_000, defocusUm });
  log?.(`simulated ${o.fields} + ${o.validationFields} lung fields of ${o.fieldPx}² px at ${defocusUm.length} plane(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { train, validation };
}

export interface PackageInfo {
  name: string;
  version: string;
  command: string;
  iterations: number;
  extra: Record<string, unknown>;
}

const DATA = 'simulated lung-like sections (core renderLungTissue): autofluorescence DAPI/TxRed (Born & Wolf 0.447/0.624 µm, NA 0.95, 0.1625 µm px, Poisson-Gaussian) and the co-registered H&E (Beer-Lambert)';

export async function saveStainingPackage(dir: string, model: LayersModel, o: StainingTrainOptions, info: PackageInfo): Promise<ModelPackage> {
  return saveModelPackage(dir, {
    tfModel: model,
    manifest: {
      name: info.name, version: info.version, task: 'virtual-staining',
      description: 'G_VS: two-channel label-free autofluorescence (DAPI, TxRed; normalised per channel) → virtual H&E as Y, Cb, Cr (BT.601 studio range, divided by 255, minus 0.5). Demo width; simulated lung tissue.',
      tags: ['virtual-staining', 'autofluorescence', 'H&E', 'demo'],
      inputs: { channels: 2, axes: 'YXC', channelNames: ['DAPI', 'TxRed'], normalisation: { kind: 'zero-mean-unit-variance', epsilon: 1e-6 } },
      outputs: { channels: 3, axes: 'YXC', channelNames: ['Y', 'Cb', 'Cr'] },
      pixelSizeUm: PIXEL_SIZE_UM, objectiveNa: 0.95, trainedDefocusRangeUm: [0, 0], tilePx: 256, haloPx: 32, multipleOf: 2 ** VS_LEVELS,
      training: { command: info.command, data: DATA, iterations: info.iterations, date: new Date().toISOString().slice(0, 10) },
      extra: { arch: 'g_vs', levels: VS_LEVELS, baseChannels: o.baseChannels, colour: 'ycbcr-bt601-studio/255', outputOffset: -0.5, losses: { mae: 1, adversarial: o.adversarialWeight, tv: o.tvWeight }, ...info.extra },
    },
  });
}

export async function saveCascadePackage(dir: string, model: LayersModel, o: DeepRTrainOptions, info: PackageInfo): Promise<ModelPackage> {
  const link: StainingLink = stainingLink(o.stainerPackage);
  return saveModelPackage(dir, {
    tfModel: model,
    manifest: {
      name: info.name, version: info.version, task: 'staining-cascade',
      description: `G_DR of the staining cascade: defocused two-channel autofluorescence → refocused (normalised), trained ${o.weights.style > 0 ? 'with' : 'without'} the style loss through the frozen G_VS ${link.name} ${link.version}; stain the result with that package (the link is checked on load).`,
      tags: ['deep-r', 'virtual-staining', 'cascade', 'demo'],
      inputs: { channels: 2, axes: 'YXC', channelNames: ['DAPI', 'TxRed'], normalisation: { kind: 'zero-mean-unit-variance', epsilon: 1e-6 } },
      outputs: { channels: 2, axes: 'YXC', channelNames: ['DAPI', 'TxRed'] },
      pixelSizeUm: PIXEL_SIZE_UM, objectiveNa: 0.95, trainedDefocusRangeUm: [-2, 2], tilePx: 256, haloPx: 48, multipleOf: 2 ** DR_LEVELS,
      training: { command: info.command, data: DATA, iterations: info.iterations, date: new Date().toISOString().slice(0, 10) },
      extra: { arch: 'g_dr', levels: DR_LEVELS, baseChannels: o.baseChannels, inputResidual: o.inputResidual ?? true, losses: o.weights, styleLoss: o.weights.style > 0, stainingPackage: link, ...info.extra },
    },
  });
}

