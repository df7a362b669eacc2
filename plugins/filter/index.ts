/**
 * Built-in plugin `filter`: image filters.
 */
import { definePlugin } from '../../core/index.js';
import { gaussian } from './ops/gaussian.js';

export const filterPlugin = definePlugin({
  id: 'filter',
  version: '0.1.0',
  description: 'Image filters: Gaussian blur.',
  operations: [gaussian],
});

export default filterPlugin;
