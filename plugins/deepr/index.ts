/**
 * Built-in plugin `deepr`: Deep-R single-shot autofocusing (Luo et al.) — U-Net generator,
 * discriminator, losses, training loop, dataset and synthetic data, DPM decoder, and the
 * inference ops. tfjs is loaded lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { autofocus } from './ops/autofocus.js';
import { defocusMapOp } from './ops/defocus-map.js';
import { deeprTrainer } from './trainer.js';

export const deeprPlugin = definePlugin({
  id: 'deepr',
  version: '0.1.0',
  description: 'Deep-R single-shot autofocusing (Luo et al.): autofocus and per-pixel defocus maps with trained U-Net model packages.',
  operations: [autofocus, defocusMapOp],
  trainers: [deeprTrainer],
});

export default deeprPlugin;
