/**
 * Built-in plugin `virfluonet`: VirFluoNet (paper 003, issue 20) — a conditional GAN that
 * predicts one fluorescence channel from others (or from phase contrast), plus its autofocus
 * mode (a defocused channel → the same channel in focus). Networks, [−1, 1] normalisation maps
 * stored in the model package, training on the learning kit (`focal train virfluonet`), the
 * tiled prediction op, evaluation and docs (docs/virfluonet.md). tfjs / onnxruntime are loaded
 * lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { predict } from './ops/predict.js';
import { virfluonetTrainer } from './trainer.js';

export const virfluonetPlugin = definePlugin({
  id: 'virfluonet',
  version: '0.1.0',
  description: 'VirFluoNet virtual fluorescence staining (cGAN): predict one channel from other channels or phase contrast, tiled with blended seams.',
  trainers: [virfluonetTrainer],
  operations: [predict],
});

export default virfluonetPlugin;
