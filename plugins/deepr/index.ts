/**
 * Built-in plugin `deepr`: Deep-R single-shot autofocusing (Luo et al.) — U-Net generator,
 * discriminator, losses, training loop, dataset and synthetic data, DPM decoder, and the
 * inference ops. tfjs is loaded lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { autofocus } from './ops/autofocus.js';
import { defocusMapOp } from './ops/defocus-map.js';
import { deeprTrainer } from './trainer.js';
import { deeprAutofocusExtras, deeprDpmExtras } from './extras.js';

export const deeprPlugin = definePlugin({
  id: 'deepr',
  version: '0.1.0',
  description: 'Deep-R single-shot autofocusing (Luo et al.): autofocus and per-pixel defocus maps with trained U-Net model packages.',
  models: [{ id: 'deepr-demo', path: 'models/deepr-demo', description: 'Deep-R demo model package (20×/0.75 NA), ONNX and TF.js weights' }],
  sampleData: [
    { id: 'deepr-defocus-series', path: 'samples/deepr-defocus-series.tif', description: 'Synthetic defocus series for the Deep-R demo model' },
    { id: 'demo-defocused', path: 'samples/demo-defocused.tif', description: 'Defocused two-channel widefield acquisition used by pipelines/demo.json' },
    { id: 'deepr-specimens-train', path: 'samples/deepr-specimens-train.tif', description: 'Specimen-library training fields for Deep-R' },
    { id: 'deepr-specimens-validation', path: 'samples/deepr-specimens-validation.tif', description: 'Specimen-library validation fields for Deep-R' },
    { id: 'deepr-specimens-heldout', path: 'samples/deepr-specimens-heldout.tif', description: 'Specimen-library held-out fields for Deep-R' },
  ],
  pipelines: [
    { id: 'deepr-autofocus', path: 'pipelines/deepr-autofocus.json', description: 'Deep-R single-shot autofocus with the bundled demo model (20×/0.75 NA, 0.325 µm pixels)' },
    { id: 'demo', path: 'pipelines/demo.json', description: "Focal's main job on a bundled sample: Deep-R autofocus, then a nuclei count" },
  ],
  operations: [autofocus, defocusMapOp],
  trainers: [deeprTrainer],
  modelExtras: [deeprAutofocusExtras, deeprDpmExtras],
});

export default deeprPlugin;
