/**
 * Built-in plugin `deepr`: Deep-R single-shot autofocusing (Luo et al.) — U-Net generator,
 * discriminator, losses, training loop, dataset and synthetic data, DPM decoder, and the
 * inference ops. tfjs is loaded lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { autofocus } from './ops/autofocus.js';
import { defocusMapOp } from './ops/defocus-map.js';

export { buildGenerator, buildDiscriminator, buildDpmModel, levelChannels, type GeneratorOptions, type DiscriminatorOptions } from './model.js';
export { msSsimTf, berhuTf, generatorLoss, discriminatorLoss, msSsimScalesFor, msSsimWeights, MS_SSIM_POWER_FACTORS, DEFAULT_LOSS_WEIGHTS, type LossWeights } from './losses.js';
export { normalise, denormalise } from './normalise.js';
export { augment, inverseAugment, selfEnsemble, AUGMENT_COUNT, type Ensemble } from './augment.js';
export { trainDeepR, validate, writeLossPlot, saveLayersModel, loadLayersModel, type TrainOptions, type TrainResult, type TrainProgress, type LossRow, type PairSampler } from './train.js';
export { trainDpmDecoder, type DpmTrainOptions } from './dpm.js';
export { readAutofocusDataset, readDatasetFov, splitByFov, syntheticPair, SYNTHETIC_DEFAULTS, type TrainingPair, type DatasetFov, type SyntheticOptions, type SourceImage } from './data.js';
export { saveDeepRPackage, loadDeepRPackage, resolveModelDir, bundledModelsDir, DEMO_MODEL, DPM_FOLDER, type DeepRPackageInfo } from './package.js';
export { SeededRandom } from './random.js';
export { modelArrays, type NamedArray } from './checkpoint.js';
export { getTf, type Tf } from './tf.js';
export { evaluateAutofocus, evaluateDefocusMap, normalisedScores, pairedDifference, EVALUATION_METHODS, type EvaluateOptions, type EvaluationRow, type EvaluationResult, type EvaluationMethod, type DefocusMapRow } from './evaluate.js';
export { renderLinePlot, type Series, type PlotOptions } from './plot.js';

export const deeprPlugin = definePlugin({
  id: 'deepr',
  version: '0.1.0',
  description: 'Deep-R single-shot autofocusing (Luo et al.): autofocus and per-pixel defocus maps with trained U-Net model packages.',
  operations: [autofocus, defocusMapOp],
});

export default deeprPlugin;
