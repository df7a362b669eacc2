/**
 * Built-in plugin `filter`: image filters.
 */
import { definePlugin } from '../../core/index.js';
import { gaussian } from './ops/gaussian.js';

export const filterPlugin = definePlugin({
  id: 'filter',
  version: '0.1.0',
  description: 'Image filters: Gaussian blur.',
  pipelines: [{ id: 'denoise-project', path: 'pipelines/denoise-project.json', description: 'Denoise a two-channel fluorescence z-stack, project it along z and keep an 8-bit copy of the nuclei projection' }],
  operations: [gaussian],
});

export default filterPlugin;
