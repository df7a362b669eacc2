/**
 * Built-in plugin `tsva`: two-shot virtual autofocusing for whole-slide imaging (TSVA, issue
 * 18): the network (two shared-weight contracting paths, residual Y1) and its single-shot
 * U-Net baseline, the layered H&E data simulator, training, model packages and the ops.
 * tfjs / onnxruntime are loaded lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { refocus } from './ops/refocus.js';
import { slide } from './ops/slide.js';
import { tsvaTrainer } from './trainer.js';

export const tsvaPlugin = definePlugin({
  id: 'tsva',
  version: '0.1.0',
  description: 'TSVA two-shot virtual autofocusing (whole-slide brightfield): recover the in-focus tile from two shots at F ± s, tile by tile or for a whole slide.',
  models: [
    { id: 'tsva-demo', path: 'models/tsva-demo', description: 'TSVA demo model package (two shots at F ± 0.5 µm → in-focus RGB tile, simulated H&E)' },
    { id: 'tsva-unet-baseline-demo', path: 'models/tsva-unet-baseline-demo', description: "TSVA's single-shot U-Net baseline (same size and training), for comparisons" },
  ],
  sampleData: [
    { id: 'tsva-slide', path: 'plugins/tsva/samples/tsva-slide-shots.tif', description: 'Simulated two-shot acquisition of a small H&E slide (two planes per tile position)' },
    { id: 'tsva-slide-positions', path: 'plugins/tsva/samples/tsva-slide-positions.csv', description: 'Tile positions of the simulated slide' },
    { id: 'tsva-slide-infocus', path: 'plugins/tsva/samples/tsva-slide-infocus.tif', description: 'In-focus truth of the simulated slide' },
    { id: 'tsva-slide-truth', path: 'plugins/tsva/samples/tsva-slide-truth.csv', description: 'Per-tile truth (focal error) of the simulated slide' },
    { id: 'tsva-tile-shot-a', path: 'plugins/tsva/samples/tsva-tile-shot-a.tif', description: 'One simulated tile, shot at F − s' },
    { id: 'tsva-tile-shot-b', path: 'plugins/tsva/samples/tsva-tile-shot-b.tif', description: 'The same tile, shot at F + s' },
  ],
  pipelines: [
    { id: 'tsva-refocus', path: 'plugins/tsva/pipelines/tsva-refocus.json', description: 'TSVA: two shots of one tile → in-focus tile' },
    { id: 'tsva-slide-count', path: 'plugins/tsva/pipelines/tsva-slide-count.json', description: 'TSVA on a simulated slide, then a nuclei count on the mosaic' },
    { id: 'tsva-slide', path: 'plugins/tsva/pipelines/tsva-slide.json', description: 'TSVA whole-slide workflow: mosaic and per-tile table (streams band by band on a large acquisition)' },
  ],
  operations: [refocus, slide],
  trainers: [tsvaTrainer],
});

export default tsvaPlugin;
