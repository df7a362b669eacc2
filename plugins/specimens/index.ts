/**
 * Built-in plugin `specimens`: simulated specimens (fluorescence and H&E brightfield
 * families) for training and testing image-restoration methods.
 */
import { definePlugin } from '../../core/index.js';
import { renderOp } from './ops/render.js';

export const specimensPlugin = definePlugin({
  id: 'specimens',
  version: '0.1.0',
  description: 'Specimen simulator: deterministic, randomised fluorescence and H&E families rendered at any pixel and field size.',
  pipelines: [{ id: 'specimen-defocus-stack', path: 'pipelines/specimen-defocus-stack.json', description: 'Render a simulated specimen and image it as a −3…+3 µm widefield z-stack' }],
  operations: [renderOp],
});

export default specimensPlugin;
