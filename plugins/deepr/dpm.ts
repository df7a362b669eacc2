/**
 * The DPM decoder of Deep-R's Fig. 7: after Deep-R is trained and frozen, a decoder with the
 * structure of the generator's up-sampling path learns the per-pixel defocus distance (a
 * "digital propagation matrix") from the frozen contracting path. Methods: Adam, learning
 * rate 1e-4, L2 objective Σ(x − y)², trained on uniformly defocused images only (uniform DPMs).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError, throwIfAborted, SeededRandom } from '../../core/index.js';
import { standardise } from '../../core/imaging.js';
import { AUGMENT_COUNT, augment, type Tf } from '../../core/ml.js';
import type { PairSampler } from './train.js';
import { buildDpmModel } from './model.js';

export interface DpmTrainOptions {
  /** Source of pairs; only `input` and `defocusUm` are used (the target DPM is uniform). */
  sample: PairSampler;
  iterations: number;
  baseChannels: number;
  levels?: number;
  patchPx: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  /**
   * 'signed' (default): the target is the pair's defocus Δz. 'absolute': |Δz| — for data whose
   * PSF is the same above and below focus (the synthetic Born & Wolf pairs: the scalar model
   * without aberrations is symmetric in ±Δz), where the sign cannot be learned from the image
   * and a signed target would only teach the decoder to answer ≈ 0.
   */
  target?: 'signed' | 'absolute';
  signal?: AbortSignal;
  onIteration?: (iteration: number, loss: number) => void;
}

/**
 * Trains the DPM decoder on a frozen generator (its encoder layers are shared and set
 * non-trainable). The loss is the per-pixel mean of (DPM − Δz)² (the paper's sum divided by
 * the pixel count, so the learning rate does not depend on the patch size).
 * @returns The DPM model (image → defocus µm per pixel) and the loss per iteration.
 */
export async function trainDpmDecoder(tf: Tf, generator: tfTypes.LayersModel, options: DpmTrainOptions): Promise<{ model: tfTypes.LayersModel; losses: number[] }> {
  const levels = options.levels ?? 5;
  const batch = options.batchSize ?? 5;
  const P = options.patchPx;
  if (!Number.isInteger(options.iterations) || options.iterations < 1) throw new FocalError('E_ARGUMENT', `iterations: must be a positive integer, got ${options.iterations}`, { field: 'iterations' });
  if (P % 2 ** levels !== 0) throw new FocalError('E_ARGUMENT', `patch: ${P} px is not a multiple of ${2 ** levels}`, { field: 'patch' });
  const model = buildDpmModel(tf, generator, { baseChannels: options.baseChannels, levels, seed: (options.seed ?? 1) * 1000 + 700 });
  const vars = model.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const opt = tf.train.adam(options.learningRate ?? 1e-4);
  const rng = new SeededRandom(options.seed ?? 1);
  const losses: number[] = [];
  for (let it = 0; it < options.iterations; it++) {
    throwIfAborted(options.signal);
    const xs = new Float32Array(batch * P * P);
    const ys = new Float32Array(batch * P * P);
    for (let b = 0; b < batch; b++) {
      const p = options.sample(rng);
      if (p.sizePx < P) throw new FocalError('E_ARGUMENT', `patch: pairs are ${p.sizePx} px, smaller than ${P}`, { field: 'patch' });
      const x0 = rng.int(p.sizePx - P + 1);
      const y0 = rng.int(p.sizePx - P + 1);
      const crop = new Float32Array(P * P);
      for (let y = 0; y < P; y++) crop.set(p.input.subarray((y0 + y) * p.sizePx + x0, (y0 + y) * p.sizePx + x0 + P), y * P);
      xs.set(standardise(augment(crop, P, P, rng.int(AUGMENT_COUNT)).data).data, b * P * P);
      ys.fill(options.target === 'absolute' ? Math.abs(p.defocusUm) : p.defocusUm, b * P * P, (b + 1) * P * P);
    }
    const x = tf.tensor4d(xs, [batch, P, P, 1]);
    const y = tf.tensor4d(ys, [batch, P, P, 1]);
    const cost = opt.minimize(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as tfTypes.Tensor, y))) as tfTypes.Scalar, true, vars);
    const v = cost!.dataSync()[0];
    losses.push(v);
    options.onIteration?.(it + 1, v);
    tf.dispose([x, y, cost!]);
  }
  opt.dispose();
  return { model, losses };
}
