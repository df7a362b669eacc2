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
  models: [
    { id: 'virfluonet-cp-dapi', path: 'models/virfluonet-cp-dapi', description: 'VirFluoNet demo: Cell Painting TxRed + Cy3 → DAPI (nucleus), simulated U2OS fields' },
    { id: 'virfluonet-cp-cy5', path: 'models/virfluonet-cp-cy5', description: 'VirFluoNet demo: Cell Painting TxRed + Cy3 → Cy5 (mitochondria), simulated U2OS fields' },
    { id: 'virfluonet-cp-gfp', path: 'models/virfluonet-cp-gfp', description: 'VirFluoNet demo: Cell Painting TxRed + Cy3 → GFP (endoplasmic reticulum), simulated U2OS fields' },
    { id: 'virfluonet-mda-factin-vinculin', path: 'models/virfluonet-mda-factin-vinculin', description: 'VirFluoNet demo: F-actin → vinculin (focal adhesions), simulated MDA-MB-231 cells at 0.3 µm px' },
    { id: 'virfluonet-mda-phc-vinculin', path: 'models/virfluonet-mda-phc-vinculin', description: 'VirFluoNet demo: phase contrast → vinculin (the paper\'s weak case), simulated MDA-MB-231 cells at 0.3 µm px' },
    { id: 'virfluonet-mda-phc-dapi', path: 'models/virfluonet-mda-phc-dapi', description: 'VirFluoNet demo: phase contrast → DAPI (nucleus), simulated MDA-MB-231 cells at 0.3 µm px (1500 iterations)' },
  ],
  sampleData: [
    { id: 'virfluonet-cell-painting-field', path: 'plugins/virfluonet/samples/cell-painting-field.ome.tif', description: 'One simulated five-channel Cell Painting field (DAPI, GFP, Cy3, TxRed, Cy5; 192² px, 16 bit; seed 300001, never trained on)' },
  ],
  pipelines: [
    { id: 'virfluonet-mitochondria', path: 'plugins/virfluonet/pipelines/virfluonet-mitochondria.json', description: 'VirFluoNet: mitochondria predicted from TxRed + Cy3, compared with the real Cy5' },
    { id: 'virfluonet-cell-painting', path: 'plugins/virfluonet/pipelines/virfluonet-cell-painting.json', description: 'VirFluoNet: nucleus, ER and mitochondria each predicted from TxRed + Cy3 (hybrid-virtual Cell Painting), each compared with the real channel' },
  ],
  trainers: [virfluonetTrainer],
  operations: [predict],
});

export default virfluonetPlugin;
