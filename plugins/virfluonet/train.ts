/**
 * VirFluoNet training on the learning kit's loop (core/ml/trainer.ts): the plugin's networks,
 * its loss (paper 003, Eqs. 3–6) and its data; the kit owns the loop, Adam, validation,
 * checkpoints and loss.csv/png.
 *
 *   l = 0.99·MAE + 0.01·(−log D(I, G(I))) + 0.001·‖θ_G‖₁
 *
 * - MAE: mean |Φ − G(I)| over pixels (the printed ‖|Φ| − |G(I)|‖ with absolute values inside
 *   would equate −1 and +1 in the [−1, 1] range; we use the usual MAE).
 * - ‖θ_G‖₁: the *mean* absolute value of the generator's convolution kernels (no biases, no BN
 *   parameters). A sum over all parameters (≈ 10⁵ here, 10⁷ in pix2pix) with weight 0.001 would
 *   dominate the loss by orders of magnitude; the mean keeps the paper's relative weighting
 *   meaningful. Logged as `weights` (unweighted) in loss.csv.
 * - The discriminator: binary cross-entropy (Eq. 2), conditional on the generator's input.
 * - Adam, learning rate 2e-4 for both networks (the paper); tfjs's default β1 = 0.9 (not stated).
 * - Best generator: lowest validation MAE (in the [−1, 1] units of the target).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError, type SeededRandom } from '../../core/index.js';
import { train, type LossRowValues, type Tf, type TrainerResult, type TrainerSpec } from '../../core/ml.js';
import { fixedCrops, randomBatch, type NormalisedField } from './data.js';
import { buildDiscriminator, buildGenerator, generatorKernels, type VirFluoNetOptions } from './model.js';

type Tensor = tfTypes.Tensor;

/** The paper's loss weights λ1, λ2, λ3 (Eq. 3). */
export const LOSS_WEIGHTS = { mae: 0.99, adversarial: 0.01, weights: 0.001 } as const;
export const LEARNING_RATE = 2e-4;
const EPS = 1e-7;

export interface TrainVirFluoNetOptions {
  net: VirFluoNetOptions;
  train: NormalisedField[];
  validation: NormalisedField[];
  patchPx: number;
  batchSize: number;
  iterations: number;
  validateEvery: number;
  /** Dihedral augmentation of the training crops (the paper: MDA-MB-231 only). */
  augment: boolean;
  seed: number;
  outDir: string;
  checkpointDir?: string;
  resume?: boolean;
  signal?: AbortSignal;
  /** Recorded in the checkpoint and compared on resume. */
  fixed?: Record<string, string | number | boolean>;
  onRow?: (row: LossRowValues, progress: { iterationsPerSecond?: number; etaMs?: number }) => void;
}

/** Mean absolute error of the generator over fixed validation crops (the [−1, 1] units). */
export function validationMae(tf: Tf, g: tfTypes.LayersModel, crops: { x: Float32Array; y: Float32Array }[], P: number, C: number, batch: number): number {
  let sum = 0;
  for (let i = 0; i < crops.length; i += batch) {
    const part = crops.slice(i, i + batch);
    const x = new Float32Array(part.length * P * P * C);
    const y = new Float32Array(part.length * P * P);
    part.forEach((c, k) => {
      x.set(c.x, k * P * P * C);
      y.set(c.y, k * P * P);
    });
    const v = tf.tidy(() => {
      const out = g.predict(tf.tensor4d(x, [part.length, P, P, C])) as Tensor;
      return tf.sum(tf.abs(tf.sub(out, tf.tensor4d(y, [part.length, P, P, 1])))).dataSync()[0];
    });
    sum += v;
  }
  return sum / (crops.length * P * P);
}

export async function trainVirFluoNet(tf: Tf, o: TrainVirFluoNetOptions): Promise<TrainerResult> {
  if (o.train.length === 0) throw new FocalError('E_ARGUMENT', 'train: no training fields', { field: 'train' });
  if (o.validation.length === 0) throw new FocalError('E_ARGUMENT', 'validation: no validation fields', { field: 'validation' });
  const m = 2 ** o.net.levels;
  if (o.patchPx % m !== 0 || o.patchPx % 16 !== 0) throw new FocalError('E_ARGUMENT', `patch: ${o.patchPx} px must be a multiple of ${Math.max(m, 16)} (2^levels and the discriminator's 16)`, { field: 'patch' });
  const C = o.net.inputChannels;
  if (o.train[0].channels !== C) throw new FocalError('E_ARGUMENT', `inputChannels: the network takes ${C} channels, the data has ${o.train[0].channels}`, { field: 'inputChannels' });
  const P = o.patchPx;
  const crops = fixedCrops(o.validation, P, 4);
  let generator: tfTypes.LayersModel | undefined;
  const spec: TrainerSpec = {
    buildGenerator: () => (generator = buildGenerator(tf, o.net, o.seed * 1000)),
    buildDiscriminator: () => buildDiscriminator(tf, o.net, P, o.seed * 1000 + 500),
    terms: [
      { name: 'mae', weight: LOSS_WEIGHTS.mae },
      { name: 'adversarial', weight: LOSS_WEIGHTS.adversarial },
      { name: 'weights', weight: LOSS_WEIGHTS.weights },
    ],
    adversarialTerm: 'adversarial',
    termValues: (t, { batch, output, critic, active }) => {
      const v: Record<string, Tensor> = {};
      if (active.has('mae')) v.mae = t.mean(t.abs(t.sub(batch.target, output)));
      if (active.has('adversarial') && critic) v.adversarial = t.neg(t.mean(t.log(t.add(critic, EPS))));
      if (active.has('weights')) {
        const kernels = generatorKernels(generator!).map((w) => w.read());
        const count = kernels.reduce((s, k) => s + k.size, 0);
        v.weights = t.div(t.addN(kernels.map((k) => t.sum(t.abs(k)))), count);
      }
      return v;
    },
    // conditional: D judges the image together with the generator's input (Fig. 9), in training mode (batch statistics)
    critic: (d, batch, image) => d.apply([image, batch.inputs[0]], { training: true }) as Tensor,
    discriminatorLoss: (t, fake, real) => t.neg(t.mean(t.add(t.log(t.add(real, EPS)), t.log(t.add(t.sub(1, fake), EPS))))),
    sampleBatch: (t, rng: SeededRandom) => {
      const b = randomBatch(o.train, P, o.batchSize, rng, o.augment);
      return { inputs: [t.tensor4d(b.x, [o.batchSize, P, P, C])], target: t.tensor4d(b.y, [o.batchSize, P, P, 1]) };
    },
    validate: (t, g) => ({ mae: validationMae(t, g, crops, P, C, 8) }),
    bestBy: { metric: 'mae', better: 'lower' },
    fixed: { ...o.net, patchPx: P, augment: o.augment, ...(o.fixed ?? {}) },
    generatedBy: 'focal virfluonet',
    architecture: `a VirFluoNet generator with ${C} input channels, baseChannels ${o.net.baseChannels} and levels ${o.net.levels}${o.net.inputResidual ? ', input residual (identity start)' : ''}`,
    config: { net: o.net, patchPx: P, batchSize: o.batchSize, augment: o.augment, lossWeights: LOSS_WEIGHTS },
  };
  return train(tf, spec, {
    iterations: o.iterations, generatorLearningRate: LEARNING_RATE, discriminatorLearningRate: LEARNING_RATE, validateEvery: o.validateEvery, seed: o.seed,
  }, {
    outDir: o.outDir, ...(o.checkpointDir ? { checkpointDir: o.checkpointDir } : {}), resume: o.resume, signal: o.signal,
    onEvent: (e) => {
      if (e.event === 'iteration') o.onRow?.(e.row, e.progress);
    },
  });
}
