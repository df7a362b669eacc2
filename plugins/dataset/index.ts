/**
 * Built-in plugin `dataset`: training-data preparation. `dataset.autofocus-pairs` is Deep-R's
 * pre-processing (patches, in-focus plane by SSIM to the EDOF image, defocus-labelled pairs);
 * its folder format is described in docs/autofocus-dataset.md.
 */
import { definePlugin } from '../../core/index.js';
import { autofocusPairs } from './ops/autofocus-pairs.js';

export const datasetPlugin = definePlugin({
  id: 'dataset',
  version: '0.1.0',
  description: "Training-data preparation: Deep-R autofocus input/target pairs with defocus distances from aligned z-stacks and their EDOF images.",
  pipelines: [{ id: 'prepare-autofocus-dataset', path: 'pipelines/prepare-autofocus-dataset.json', description: "Deep-R's data preparation for one field of view" }],
  operations: [autofocusPairs],
});

export default datasetPlugin;
