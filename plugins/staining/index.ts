/**
 * Built-in plugin `staining`: virtual H&E staining of label-free autofluorescence and the
 * Deep-R + staining cascade trained with a style loss (issue 19): networks, losses, trainers,
 * model packages with a checked cascade link, ops and the slide simulation.
 * tfjs / onnxruntime are loaded lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { cascade } from './ops/cascade.js';
import { slide } from './ops/slide.js';
import { virtualHe } from './ops/virtual-he.js';
import { stainingDeepRTrainer, stainingTrainer } from './trainer.js';

export const stainingPlugin = definePlugin({
  id: 'staining',
  version: '0.1.0',
  description: 'Virtual H&E staining of two-channel autofluorescence, and the Deep-R + staining cascade (style loss) for defocused fields.',
  models: [
    { id: 'staining-demo', path: 'models/staining-demo', description: 'Virtual staining G_VS demo package (two-channel autofluorescence → H&E, simulated lung sections)' },
    { id: 'staining-cascade-demo', path: 'models/staining-cascade-demo', description: 'Cascade G_DR demo package trained with the style loss through staining-demo (framework 2)' },
    { id: 'staining-cascade-nostyle-demo', path: 'models/staining-cascade-nostyle-demo', description: 'Cascade G_DR demo package trained without the style loss (framework 4)' },
  ],
  operations: [virtualHe, cascade, slide],
  trainers: [stainingTrainer, stainingDeepRTrainer],
});

export default stainingPlugin;
