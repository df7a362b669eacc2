/**
 * Built-in plugin `tsva`: two-shot virtual autofocusing for whole-slide imaging (TSVA, issue
 * 18): the network (two shared-weight contracting paths, residual Y1) and its single-shot
 * U-Net baseline, the layered H&E data simulator, training, model packages and the ops.
 * tfjs / onnxruntime are loaded lazily (only when an op runs or training starts).
 */
import { definePlugin } from '../../core/index.js';
import { refocus } from './ops/refocus.js';
import { slide } from './ops/slide.js';

export const tsvaPlugin = definePlugin({
  id: 'tsva',
  version: '0.1.0',
  description: 'TSVA two-shot virtual autofocusing (whole-slide brightfield): recover the in-focus tile from two shots at F ± s, tile by tile or for a whole slide.',
  operations: [refocus, slide],
});

export default tsvaPlugin;
