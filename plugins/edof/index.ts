/**
 * Built-in plugin `edof`: extended depth of field — fuse a z-stack into an all-in-focus
 * image and a height map (sharpness-based and wavelet-based methods, colour support).
 */
import { definePlugin } from '../../core/index.js';
import { fuse } from './ops/fuse.js';

export const edofPlugin = definePlugin({
  id: 'edof',
  version: '0.1.0',
  description: 'Extended depth of field: all-in-focus fusion of z-stacks (sharpness and wavelet methods, colour) with a height map.',
  pipelines: [{ id: 'edof-fuse', path: 'pipelines/edof-fuse.json', description: 'Extended depth of field' }],
  operations: [fuse],
});

export default edofPlugin;
