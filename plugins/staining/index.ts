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
import { stainingCascadeExtras } from './extras.js';

export const stainingPlugin = definePlugin({
  id: 'staining',
  version: '0.1.0',
  description: 'Virtual H&E staining of two-channel autofluorescence, and the Deep-R + staining cascade (style loss) for defocused fields.',
  models: [
    { id: 'staining-demo', path: 'models/staining-demo', description: 'Virtual staining G_VS demo package (two-channel autofluorescence → H&E, simulated lung sections)' },
    { id: 'staining-cascade-demo', path: 'models/staining-cascade-demo', description: 'Cascade G_DR demo package trained with the style loss through staining-demo (framework 2)' },
    { id: 'staining-cascade-nostyle-demo', path: 'models/staining-cascade-nostyle-demo', description: 'Cascade G_DR demo package trained without the style loss (framework 4)' },
  ],
  sampleData: [
    { id: 'staining-af-infocus', path: 'plugins/staining/samples/staining-af-infocus.tif', description: 'Simulated lung-like field, two-channel autofluorescence (DAPI, TxRed) in focus, 192² px at 0.1625 µm' },
    { id: 'staining-af-defocus', path: 'plugins/staining/samples/staining-af-defocus-1p5um.tif', description: 'The same field defocused by 1.5 µm' },
    { id: 'staining-he-truth', path: 'plugins/staining/samples/staining-he-truth.tif', description: 'The true (simulated) H&E of that field' },
  ],
  pipelines: [
    { id: 'staining-virtual-he', path: 'plugins/staining/pipelines/staining-virtual-he.json', description: 'Virtual H&E of an in-focus autofluorescence field' },
    { id: 'staining-cascade', path: 'plugins/staining/pipelines/staining-cascade.json', description: 'Refocus (Deep-R, style loss) and stain a defocused field' },
    { id: 'staining-compare', path: 'plugins/staining/pipelines/staining-compare.json', description: 'Frameworks 1, 2 and 4 against framework 3: YCbCr colour differences' },
    { id: 'staining-slide', path: 'plugins/staining/pipelines/staining-slide.json', description: 'Slide focus maps (fine and coarse) and the scan-time model' },
  ],
  operations: [virtualHe, cascade, slide],
  trainers: [stainingTrainer, stainingDeepRTrainer],
  modelExtras: [stainingCascadeExtras],
});

export default stainingPlugin;
