/**
 * TSVA's training on the learning kit's trainer (core/ml trainer.ts): this file only describes
 * the network, the loss (one MSE term, paper Eq. 4), the batch sampler (random patches with
 * random quarter turns) and the validation metric (MSE, lower is better); the kit owns the
 * loop, Adam, validation, best-by, resumable checkpoints, loss.csv and loss.png. The paper's
 * recipe: MSE, Adam 5e-4, batch 20, rotations, 85/15 split. TSVA and the U-Net baseline go
 * through the same function with the same options. `focal train tsva` (trainer.ts) runs it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError, type SeededRandom } from '../../core/index.js';
import { copyLayerWeights, loadLayersModel, registerBatchAxisLayers, mseLoss, parseLossCsv, train, type InitialWeights, type LossRowValues, type Tf, type TrainBatch, type TrainerEvent, type TrainerSpec } from '../../core/ml.js';
import { buildTsvaNet, type TsvaArch, type TsvaNetOptions } from './model.js';
import type { TsvaPatch } from './simulate.js';

/** Rotates an interleaved HWC square image by k·90° (counter-clockwise). */
export function rot90Hwc(src: Float32Array, size: number, channels: number, k: number): Float32Array {
  const r = ((k % 4) + 4) % 4;
  if (r === 0) return src;
  const out = new Float32Array(src.length);
  const n = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const [ty, tx] = r === 1 ? [n - x, y] : r === 2 ? [n - y, n - x] : [x, n - y];
      const s = (y * size + x) * channels;
      const d = (ty * size + tx) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = src[s + c];
    }
  }
  return out;
}

export interface TrainOptions {
  arch: TsvaArch;
  net: TsvaNetOptions;
  train: TsvaPatch[];
  val: TsvaPatch[];
  patchPx: number;
  /** Paper: 20. */
  batchSize: number;
  /** Paper: 5e-4. */
  learningRate: number;
  /** Iterations to reach (total, including those of a resumed run). */
  iterations: number;
  validateEvery: number;
  seed: number;
  /**
   * Start the output 1×1 convolution at zero, so the network starts as the identity X = Y1
   * (its residual) and learns the correction from there. Default true: with random output
   * weights a short CPU run ended worse than Y1 itself (docs/tsva.md). Not in the paper.
   */
  zeroInitOutput?: boolean;
  /**
   * Y1 added to the output (default true, the paper's). False: the no-residual ablation (the
   * reading's "also report without"): the network must produce the whole image, so its output
   * convolution starts at random (Glorot) weights whatever `zeroInitOutput` says.
   */
  residual?: boolean;
  /** loss.csv, loss.png and generator/ (the best weights, tfjs layers format). */
  outDir: string;
  /** The kit's checkpoint folder (default `<outDir>/checkpoint`; keep it outside the source tree). */
  checkpointDir?: string;
  /** Continue from the checkpoint (refused when arch, network, batch or learning rate differ). */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: TrainerEvent) => void;
  /** Start from these weights (a package of the same arch and network: fine-tuning); a resumed run must name the same source. */
  initialWeights?: InitialWeights;
  /**
   * 'mse' (the paper's Eq. 4, default): the MSE over the batch; best by validation MSE. 'psnr' (not
   * the paper): the batch mean of each patch's 10·log10(MSE + 1e-6), i.e. minus its PSNR capped at
   * 60 dB, the figure the paper reports; best by validation mean PSNR. Patches that are nearly
   * right weigh as much as badly blurred ones, which the MSE does not do.
   */
  loss?: TsvaLoss;
  /**
   * 'batch' (default, the paper): batch statistics in training. 'frozen' (fine-tuning, not the
   * paper): the moving averages normalise in training as at inference. TSVA's encoder is shared,
   * so with 'batch' each path is normalised by its own shot's batch statistics while learning
   * (which removes the batch-level difference in sharpness between Y1 and Y2, the cue TSVA needs)
   * and by moving averages of both at inference; 'frozen' makes the two agree. 'joint' (TSVA
   * only, not the paper's wording but one reading of its shared layers): batch statistics, with
   * the shared encoder run on Y1 and Y2 as one batch, so both paths are normalised alike while
   * learning, from the start.
   */
  batchNorm?: 'batch' | 'frozen' | 'joint';
  /**
   * The training data's recipe (family, tiles, noise, focus rule, softness…), recorded in the
   * checkpoint (`config.recipe`); a resume whose recipe differs is refused naming the option
   * (checkpoints made before 2026-12-06 recorded none and are not checked).
   */
  recipe?: Record<string, unknown>;
}

export type TsvaLoss = 'mse' | 'psnr';
/** MSE floor of the 'psnr' loss and of the validation PSNR: 1e-6 ≡ 60 dB (data range 1). */
export const PSNR_LOSS_FLOOR = 1e-6;

/** Batch mean of 10·log10(per-patch MSE + floor): minus the mean per-patch PSNR (dB, capped at 60). */
export function negPsnrLoss(tf: Tf, y: tfTypes.Tensor, x: tfTypes.Tensor): tfTypes.Tensor {
  return tf.tidy(() => {
    const perPatch = tf.mean(tf.squaredDifference(y, x), [1, 2, 3]);
    return tf.mul(tf.mean(tf.log(tf.add(perPatch, PSNR_LOSS_FLOOR))), 10 / Math.LN10);
  });
}

/** One validation of a run (the package manifest's loss curve): mean training MSE since the previous one. */
export interface HistoryRow {
  iteration: number;
  /** Mean training MSE since the previous validation; null when the loss was not the MSE (`loss: 'psnr'`). */
  trainMse: number | null;
  /** With `loss: 'psnr'`: mean training per-patch PSNR since the previous validation, and the validation's. */
  trainPsnr?: number;
  valPsnr?: number;
  valMse: number;
  seconds: number;
}

export interface TrainResult {
  /** The best generator by validation MSE. */
  model: tfTypes.LayersModel;
  history: HistoryRow[];
  bestIteration: number;
  bestValMse: number;
  iterations: number;
}

/** Y1 and Y2 (interleaved, c channels each) as one 2·c-channel image, Y1's channels first: the early-fusion ablation's input. */
export function interleaveShots(y1: Float32Array, y2: Float32Array, c: number): Float32Array {
  const px = y1.length / c;
  const out = new Float32Array(2 * y1.length);
  for (let i = 0; i < px; i++) {
    for (let k = 0; k < c; k++) {
      out[i * 2 * c + k] = y1[i * c + k];
      out[i * 2 * c + c + k] = y2[i * c + k];
    }
  }
  return out;
}

function batchTensors(tf: Tf, arch: TsvaArch, patches: TsvaPatch[], P: number, rots: number[]): TrainBatch {
  const n = patches.length;
  const per = P * P * 3;
  const y1 = new Float32Array(n * per);
  const y2 = new Float32Array(n * per);
  const x = new Float32Array(n * per);
  patches.forEach((p, i) => {
    y1.set(rot90Hwc(p.y1, P, 3, rots[i]), i * per);
    y2.set(rot90Hwc(p.y2, P, 3, rots[i]), i * per);
    x.set(rot90Hwc(p.x, P, 3, rots[i]), i * per);
  });
  const shape: [number, number, number, number] = [n, P, P, 3];
  const inputs = arch === 'tsva' ? [tf.tensor4d(y1, shape), tf.tensor4d(y2, shape)]
    : arch === 'early-fusion' ? [tf.tensor4d(interleaveShots(y1, y2, 3), [n, P, P, 6])]
    : [tf.tensor4d(y1, shape)];
  return { inputs, target: tf.tensor4d(x, shape) };
}

/** Mean MSE of `model` over `patches` (no augmentation, inference mode). */
export function evaluateMse(tf: Tf, model: tfTypes.LayersModel, arch: TsvaArch, patches: TsvaPatch[], P: number, batch = 16): number {
  let sum = 0;
  for (let i = 0; i < patches.length; i += batch) {
    const part = patches.slice(i, i + batch);
    const { inputs, target } = batchTensors(tf, arch, part, P, part.map(() => 0));
    const loss = tf.tidy(() => mseLoss(tf, target, model.predict(inputs.length === 1 ? inputs[0] : inputs) as tfTypes.Tensor));
    sum += loss.dataSync()[0] * part.length;
    tf.dispose([loss, target, ...inputs]);
  }
  return sum / patches.length;
}

/** The network's output for each patch (interleaved HWC RGB, clipped to [0, 1]; inference mode). */
export async function predictPatches(tf: Tf, model: tfTypes.LayersModel, arch: TsvaArch, patches: TsvaPatch[], P: number, batch = 16): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const per = P * P * 3;
  for (let i = 0; i < patches.length; i += batch) {
    const part = patches.slice(i, i + batch);
    const { inputs, target } = batchTensors(tf, arch, part, P, part.map(() => 0));
    const y = model.predict(inputs.length === 1 ? inputs[0] : inputs) as tfTypes.Tensor;
    const data = (await y.data()) as Float32Array;
    part.forEach((_, j) => out.push(data.slice(j * per, (j + 1) * per).map((v) => Math.min(1, Math.max(0, v)))));
    tf.dispose([y, target, ...inputs]);
  }
  return out;
}

/** Mean per-patch PSNR (dB, data range 1, capped at 60) of `model` over `patches` (inference mode). */
export function evaluatePsnr(tf: Tf, model: tfTypes.LayersModel, arch: TsvaArch, patches: TsvaPatch[], P: number, batch = 16): number {
  let sum = 0;
  for (let i = 0; i < patches.length; i += batch) {
    const part = patches.slice(i, i + batch);
    const { inputs, target } = batchTensors(tf, arch, part, P, part.map(() => 0));
    const loss = tf.tidy(() => negPsnrLoss(tf, model.predict(inputs.length === 1 ? inputs[0] : inputs) as tfTypes.Tensor, target));
    sum -= loss.dataSync()[0] * part.length;
    tf.dispose([loss, target, ...inputs]);
  }
  return sum / patches.length;
}

/** TSVA (or its baseline) as the kit's {@link TrainerSpec}. */
export function tsvaTrainerSpec(tf: Tf, o: TrainOptions): TrainerSpec {
  if (o.train.length === 0) throw new FocalError('E_ARGUMENT', 'train: no training patches', { field: 'train' });
  if (o.val.length === 0) throw new FocalError('E_ARGUMENT', 'val: no validation patches', { field: 'val' });
  const psnrLoss = o.loss === 'psnr';
  const joint = o.batchNorm === 'joint';
  if (joint && o.arch !== 'tsva') throw new FocalError('E_ARGUMENT', `batchNorm: 'joint' normalises TSVA's two paths together; ${o.arch} has one path`, { field: 'batchNorm' });
  return {
    buildGenerator: () => {
      const model = buildTsvaNet(tf, o.arch, o.net, o.seed, o.residual !== false, joint);
      // a resumed run loads its weights over these; a fresh one starts as the identity X = Y1
      if (o.zeroInitOutput !== false && o.residual !== false) {
        const out = model.getLayer('dec_out');
        out.setWeights(out.getWeights().map((w) => tf.zerosLike(w)));
      }
      return model;
    },
    // a resume with the other loss is refused by the kit's term check, naming `loss`
    terms: [{ name: psnrLoss ? 'negPsnr' : 'mse', weight: 1, fields: { weight: 'loss' } }],
    termValues: (t, { batch, output }): Record<string, tfTypes.Tensor> => (psnrLoss ? { negPsnr: negPsnrLoss(t, output, batch.target) } : { mse: mseLoss(t, batch.target, output) }),
    sampleBatch: (t, rng: SeededRandom) => {
      const picks = Array.from({ length: o.batchSize }, () => o.train[rng.int(o.train.length)]);
      const rots = picks.map(() => rng.int(4));
      return batchTensors(t, o.arch, picks, o.patchPx, rots);
    },
    validate: (t, generator) => ({ mse: evaluateMse(t, generator, o.arch, o.val, o.patchPx), ...(psnrLoss ? { psnr: evaluatePsnr(t, generator, o.arch, o.val, o.patchPx) } : {}) }),
    bestBy: psnrLoss ? { metric: 'psnr', better: 'higher' } : { metric: 'mse', better: 'lower' },
    batchNorm: o.batchNorm === 'frozen' ? 'frozen' : 'batch',
    fixed: {
      arch: o.arch, ...Object.fromEntries(Object.entries(o.net).map(([k, v]) => [k, v as number])), patchPx: o.patchPx, batchSize: o.batchSize,
      zeroInitOutput: o.zeroInitOutput !== false && o.residual !== false, trainPatches: o.train.length, valPatches: o.val.length,
      // recorded only when off, so checkpoints made before the option resume unchanged
      ...(o.residual === false ? { residual: false } : {}),
      ...(joint ? { batchNorm: 'joint' } : {}), // recorded only when joint, as residual
    },
    ...(o.recipe ? { config: { recipe: o.recipe } } : {}),
    generatedBy: 'focal tsva',
    architecture: `a ${o.arch} network ${JSON.stringify(o.net)}`,
  };
}

/** The manifest's loss curve from the kit's loss rows: one row per validation, training MSE averaged since the previous. */
export function historyOf(rows: readonly LossRowValues[]): HistoryRow[] {
  const out: HistoryRow[] = [];
  let mse = 0;
  let negPsnr = 0;
  let n = 0;
  let np = 0;
  for (const r of rows) {
    if (r.mse !== undefined) {
      mse += r.mse;
      n++;
    }
    if (r.negPsnr !== undefined) {
      negPsnr += r.negPsnr;
      np++;
    }
    if (r.validationMse !== undefined) {
      out.push({
        iteration: r.iteration, trainMse: n > 0 ? mse / n : null, valMse: r.validationMse, seconds: r.seconds,
        ...(np > 0 ? { trainPsnr: -negPsnr / np } : {}), ...(r.validationPsnr !== undefined ? { valPsnr: r.validationPsnr } : {}),
      });
      mse = negPsnr = n = np = 0;
    }
  }
  return out;
}

/**
 * Trains TSVA or the baseline on the kit's trainer; see {@link TrainOptions}. The returned model
 * holds the best validation weights. With `maxSeconds`, the run stops at the first iteration
 * that starts after that time (the checkpoint is the last validation's, so `resume` continues
 * from there) and returns what it has.
 */
/** The `focal train tsva` option behind each recipe key (for the resume check's error). */
const RECIPE_OPTION: Record<string, string> = { tiles: 'tiles', noise: 'noise', focus: 'focus', softnessMaxUm: 'softness', varietyFraction: 'variety', uniformOdMax: 'uniform-od', protocol: 'shot-offset' };

/** Refuses a resume whose data recipe differs from the checkpoint's (when the checkpoint recorded one). */
async function checkResumeRecipe(o: TrainOptions): Promise<void> {
  if (!o.resume || !o.recipe) return;
  const stateFile = join(o.checkpointDir ?? join(o.outDir, 'checkpoint'), 'state.json');
  const saved = await readFile(stateFile, 'utf8').then((t) => (JSON.parse(t) as { config?: { recipe?: Record<string, unknown> } }).config?.recipe).catch(() => undefined);
  if (!saved) return;
  for (const k of new Set([...Object.keys(saved), ...Object.keys(o.recipe)])) {
    if (JSON.stringify(saved[k]) !== JSON.stringify(o.recipe[k])) {
      throw new FocalError('E_ARGUMENT', `resume: the checkpoint was trained on data with ${k} ${JSON.stringify(saved[k]) ?? '(none)'}, this run asks for ${JSON.stringify(o.recipe[k]) ?? '(none)'}`, { field: RECIPE_OPTION[k] ?? 'data', file: stateFile });
    }
  }
}

export async function trainTsvaModel(tf: Tf, o: TrainOptions & { maxSeconds?: number }): Promise<TrainResult> {
  await checkResumeRecipe(o);
  const spec = tsvaTrainerSpec(tf, o);
  const clock = new AbortController();
  const timer = o.maxSeconds !== undefined ? setTimeout(() => clock.abort(), o.maxSeconds * 1000) : undefined;
  const signal = o.signal ? AbortSignal.any([o.signal, clock.signal]) : clock.signal;
  let rows: LossRowValues[];
  let bestIteration: number;
  let bestValMse: number;
  let iterations: number;
  try {
    const r = await train(tf, spec, { iterations: o.iterations, generatorLearningRate: o.learningRate, validateEvery: o.validateEvery, seed: o.seed }, {
      outDir: o.outDir, checkpointDir: o.checkpointDir, resume: o.resume, signal, onEvent: o.onEvent, ...(o.initialWeights ? { initialWeights: o.initialWeights } : {}),
    });
    r.generator.dispose();
    ({ rows, bestIteration } = r);
    bestValMse = r.best.mse ?? NaN;
    iterations = r.iteration;
  } catch (e) {
    // the time limit (not the caller's signal): keep what the last validation saved
    if (!(clock.signal.aborted && !o.signal?.aborted && (e as { code?: string }).code === 'E_CANCELLED')) throw e;
    rows = parseLossCsv(await readFile(join(o.outDir, 'loss.csv'), 'utf8').catch(() => ''));
    const validated = rows.filter((r) => r.validationMse !== undefined);
    if (validated.length === 0) throw new FocalError('E_CANCELLED', `maxSeconds: ${o.maxSeconds} s passed before the first validation (iteration ${o.validateEvery})`, { field: 'maxSeconds' });
    // the checkpoint's state names the best (it may be the starting weights of --init-from, iteration 0, which loss.csv has no row for)
    const state = await readFile(join(o.checkpointDir ?? join(o.outDir, 'checkpoint'), 'state.json'), 'utf8').then((t) => JSON.parse(t) as { bestIteration?: number; best?: { mse?: number } }).catch(() => undefined);
    const score = (r: LossRowValues) => (o.loss === 'psnr' ? -(r.validationPsnr ?? -Infinity) : r.validationMse!);
    const best = validated.reduce((a, b) => (score(b) < score(a) ? b : a));
    const fromState = state?.bestIteration !== undefined && state.best?.mse !== undefined;
    bestIteration = fromState ? state.bestIteration! : best.iteration;
    bestValMse = fromState ? state.best!.mse! : best.validationMse!;
    iterations = rows.at(-1)!.iteration;
  } finally {
    clearTimeout(timer);
  }
  if (o.batchNorm === 'joint') registerBatchAxisLayers(tf);
  let model = await loadLayersModel(tf, join(o.outDir, 'generator'));
  if (o.batchNorm === 'joint') {
    // the joint graph's stack/split layers are a training device: the package holds the plain graph (same weights, same outputs)
    const plain = buildTsvaNet(tf, o.arch, o.net, o.seed, o.residual !== false);
    copyLayerWeights(model, plain);
    model.dispose();
    model = plain;
  }
  return { model, history: historyOf(rows), bestIteration, bestValMse, iterations };
}
