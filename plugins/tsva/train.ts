/**
 * TSVA's training loop — ONE small function on the learning kit (buildUNet, mseLoss, the
 * checkpoint helpers), written so that it can move onto the generic trainer (issue 16,
 * `focal train <trainer>`) when that lands: data in, MSE + Adam, periodic validation, best
 * checkpoint out. The paper's recipe: MSE (Eq. 4), Adam 5e-4, batch 20, rotations, 85/15 split.
 * TSVA and the U-Net baseline go through the same function with the same options.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  FocalError, loadArrays, modelArrays, mseLoss, optimizerArrays, saveArrays, setModelArrays, setOptimizerArrays, writeFileAtomic, Xoshiro128, type Tf,
} from '../../core/index.js';
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
  /** Stop after this many iterations or `maxSeconds`, whichever first. */
  iterations: number;
  maxSeconds?: number;
  validateEvery: number;
  seed: number;
  /**
   * Start the output 1×1 convolution at zero, so the network starts as the identity X = Y1
   * (its residual) and learns the correction from there. Default true: with random output
   * weights a short CPU run ended worse than Y1 itself (docs/tsva.md). Not in the paper.
   */
  zeroInitOutput?: boolean;
  /** Folder of `last.*`, `best.*` (weights) and `history.json`; a run resumes from `last`. */
  checkpointDir: string;
  log?: (line: string) => void;
}

export interface HistoryRow {
  iteration: number;
  trainMse: number;
  valMse: number;
  seconds: number;
}

export interface TrainResult {
  model: import('@tensorflow/tfjs').LayersModel;
  history: HistoryRow[];
  bestIteration: number;
  bestValMse: number;
  iterations: number;
}

function batchTensors(tf: Tf, arch: TsvaArch, patches: TsvaPatch[], P: number, rots: number[]) {
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
  const inputs = arch === 'tsva' ? [tf.tensor4d(y1, shape), tf.tensor4d(y2, shape)] : [tf.tensor4d(y1, shape)];
  return { inputs, target: tf.tensor4d(x, shape) };
}

/** Mean MSE of `model` over `patches` (no augmentation, inference mode). */
export async function evaluateMse(tf: Tf, model: TrainResult['model'], arch: TsvaArch, patches: TsvaPatch[], P: number, batch = 16): Promise<number> {
  let sum = 0;
  for (let i = 0; i < patches.length; i += batch) {
    const part = patches.slice(i, i + batch);
    const { inputs, target } = batchTensors(tf, arch, part, P, part.map(() => 0));
    const loss = tf.tidy(() => mseLoss(tf, target, model.predict(inputs) as import('@tensorflow/tfjs').Tensor));
    sum += (await loss.data())[0] * part.length;
    tf.dispose([loss, target, ...inputs]);
  }
  return sum / patches.length;
}

/** Trains TSVA or the baseline; see {@link TrainOptions}. The returned model holds the best validation weights. */
export async function trainTsvaModel(tf: Tf, o: TrainOptions): Promise<TrainResult> {
  if (o.train.length === 0) throw new FocalError('E_ARGUMENT', 'train: no training patches', { field: 'train' });
  if (o.val.length === 0) throw new FocalError('E_ARGUMENT', 'val: no validation patches', { field: 'val' });
  const log = o.log ?? (() => {});
  const model = buildTsvaNet(tf, o.arch, o.net, o.seed);
  const optimizer = tf.train.adam(o.learningRate);
  const dir = o.checkpointDir;
  const historyFile = join(dir, 'history.json');
  let history: HistoryRow[] = [];
  let start = 0;
  let best = { iteration: -1, valMse: Infinity };
  let elapsed = 0;
  if (existsSync(join(dir, 'last.json')) && existsSync(historyFile)) {
    const saved = JSON.parse(await readFile(historyFile, 'utf8')) as { history: HistoryRow[]; iteration: number; best: typeof best; arch: string; net: TsvaNetOptions };
    if (saved.arch !== o.arch || JSON.stringify(saved.net) !== JSON.stringify(o.net)) {
      throw new FocalError('E_ARGUMENT', `checkpointDir: ${dir} holds a ${saved.arch} ${JSON.stringify(saved.net)} run, not ${o.arch} ${JSON.stringify(o.net)}`, { field: 'checkpointDir', file: dir });
    }
    setModelArrays(tf, model, await loadArrays(join(dir, 'last')));
    if (existsSync(join(dir, 'last-opt.json'))) await setOptimizerArrays(tf, optimizer, await loadArrays(join(dir, 'last-opt')));
    history = saved.history;
    start = saved.iteration;
    best = saved.best;
    elapsed = history.at(-1)?.seconds ?? 0;
    log(`resumed ${o.arch} at iteration ${start} (best val MSE ${best.valMse.toExponential(3)} at ${best.iteration})`);
  }
  if (start === 0 && o.zeroInitOutput !== false) {
    const out = model.getLayer('dec_out');
    out.setWeights(out.getWeights().map((w) => tf.zerosLike(w)));
  }
  const rng = new Xoshiro128(o.seed, 1000 + start);
  const t0 = Date.now() - elapsed * 1000;
  let running = 0;
  let count = 0;
  let it = start;
  const save = async () => {
    await saveArrays(join(dir, 'last'), modelArrays(model));
    await saveArrays(join(dir, 'last-opt'), await optimizerArrays(optimizer));
    await writeFileAtomic(historyFile, JSON.stringify({ arch: o.arch, net: o.net, iteration: it, best, history }), { mkdir: true });
  };
  while (it < o.iterations && (o.maxSeconds === undefined || (Date.now() - t0) / 1000 < o.maxSeconds)) {
    const picks = Array.from({ length: o.batchSize }, () => o.train[Math.floor(rng.uniform() * o.train.length)]);
    const rots = picks.map(() => Math.floor(rng.uniform() * 4));
    const { inputs, target } = batchTensors(tf, o.arch, picks, o.patchPx, rots);
    const loss = optimizer.minimize(() => mseLoss(tf, target, model.apply(inputs, { training: true }) as import('@tensorflow/tfjs').Tensor) as import('@tensorflow/tfjs').Scalar, true)!;
    running += (await loss.data())[0];
    count++;
    tf.dispose([loss, target, ...inputs]);
    it++;
    if (it % o.validateEvery === 0 || it === o.iterations) {
      const valMse = await evaluateMse(tf, model, o.arch, o.val, o.patchPx);
      const row = { iteration: it, trainMse: running / count, valMse, seconds: (Date.now() - t0) / 1000 };
      history.push(row);
      running = 0;
      count = 0;
      if (valMse < best.valMse) {
        best = { iteration: it, valMse };
        await saveArrays(join(dir, 'best'), modelArrays(model));
      }
      await save();
      log(`${o.arch} it ${it} train ${row.trainMse.toExponential(3)} val ${valMse.toExponential(3)} best ${best.valMse.toExponential(3)}@${best.iteration} ${row.seconds.toFixed(0)} s`);
    }
  }
  if (count > 0) {
    const valMse = await evaluateMse(tf, model, o.arch, o.val, o.patchPx);
    history.push({ iteration: it, trainMse: running / count, valMse, seconds: (Date.now() - t0) / 1000 });
    if (valMse < best.valMse) {
      best = { iteration: it, valMse };
      await saveArrays(join(dir, 'best'), modelArrays(model));
    }
    await save();
  }
  if (existsSync(join(dir, 'best.json'))) setModelArrays(tf, model, await loadArrays(join(dir, 'best')));
  optimizer.dispose();
  return { model, history, bestIteration: best.iteration, bestValMse: best.valMse, iterations: it };
}
