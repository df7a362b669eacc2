/**
 * Focal's learning kit, `focal/ml`: TensorFlow.js/onnxruntime backends, model packages and
 * their extras, ONNX export, tiled inference engines, the image-to-image networks, losses,
 * augmentation, checkpoints and the trainer (docs/architecture.md, "Learning kit").
 * A public entry of its own, beside `focal` (core/index.ts), so that a run whose operations
 * learn nothing never loads it; every module here loads TensorFlow.js and onnxruntime lazily.
 */
export { loadTf, detectBackends, activeBackend, type BackendReport, type Tf } from './ml/backend.js';
export {
  ModelManifestSchema, NormalisationSchema, TensorDescriptionSchema, WeightsEntrySchema, MODEL_MANIFEST_FILE, MODEL_MANIFEST_FORMAT,
  loadModelPackage, saveModelPackage, parseModelManifest, loadTfjsModel, tfjsFileLoader, bundledModelsDir, resolveModelDir, weightsSource,
  type ModelManifest, type ModelManifestInput, type ModelPackage, type WeightsEntry, type SaveModelPackageOptions, type LoadModelPackageOptions,
} from './ml/model-package.js';
export { MAX_GRID_RATIO, modelGrid, modelGridSize, onModelGrid, pixelSizeMismatch, PIXEL_SIZE_TOLERANCE, type ModelGrid, type ModelGridWords, type ResampleMode } from './ml/pixel-size.js';
export { defineModelExtras, parseModelExtras, ModelExtrasRegistry, type ModelExtrasDef, type ModelExtrasResolver } from './ml/model-extras.js';
export { exportOnnx, ONNX_OPSET, ONNX_SUPPORTED_LAYERS, type ExportOnnxOptions } from './ml/onnx/export.js';
export {
  createInferenceEngine, createOnnxEngine, loadOnnxRuntime, createTfjsEngine, tiledInference, tiledInferenceStreaming, inferenceWorkingBytes, planAxis, AUTO_ENGINE_ORDER,
  type InferenceEngine, type InferenceEngineOptions, type EngineChoice, type TiledInferenceOptions, type Nhwc,
} from './ml/inference.js';
// the image-to-image learning kit (core/ml; docs/architecture.md "Learning kit")
export { buildUNet, unetReachPx, unetActivationFloats, withNewDecoder, copyLayerWeights, registerBatchAxisLayers, buildDiscriminator, featureExtractor, levelChannels, seedCounter, type UNetOptions, type DiscriminatorOptions, type SeedCounter } from './ml/nets.js';
export {
  MS_SSIM_POWER_FACTORS, msSsimScalesFor, msSsimWeights, msSsimTf, ssimTf, berhuTf, stdPerImage, rangePerImage,
  lsganGeneratorLoss, lsganDiscriminatorLoss, maeLoss, mseLoss, totalVariation, l1WeightPenalty, featureLoss, weightedLoss,
} from './ml/losses.js';
export { AUGMENT_COUNT, augment, augmentPlanes, inverseAugment, selfEnsemble, type Ensemble } from './ml/augment.js';
export { saveArrays, loadArrays, modelArrays, setModelArrays, optimizerArrays, setOptimizerArrays, type NamedArray } from './ml/checkpoint.js';
export {
  train, TrainerSettingsSchema, parseTrainerSettings, termActive, resolveDecay, learningRatesAt, validationsAfter, validationColumn, parseLossCsv, lossPlotSeries, renderLossPlot, saveLayersModel, loadLayersModel, matchWeights,
  type TrainerSettings, type TrainerSettingsInput, type DecaySchedule, type LossTerm, type TrainBatch, type TrainerSpec, type InitialWeights, type LossRowValues, type TrainerProgress, type TrainerEvent, type TrainerRun, type TrainerResult,
} from './ml/trainer.js';
