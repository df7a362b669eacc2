/**
 * Built-in plugin `metrics`: full-reference image quality (PSNR, SSIM, MS-SSIM, RMSE, MAE,
 * BerHu, Pearson r) and YCbCr colour differences. The numeric functions are public so that
 * other plugins (deconvolution, deepr, staining) report the same numbers.
 */
import { definePlugin } from '../../core/index.js';
import { compare } from './ops/compare.js';
import { compareColour } from './ops/compare-colour.js';
import { toleranceIndexOp } from './ops/tolerance-index.js';

export const metricsPlugin = definePlugin({
  id: 'metrics',
  version: '0.1.0',
  description: 'Image quality metrics against a reference: PSNR, SSIM, MS-SSIM, RMSE, MAE, BerHu, Pearson r; YCbCr colour differences; the tolerance-level error index of predicted images.',
  pipelines: [
    { id: 'compare-he-colour', path: 'pipelines/compare-he-colour.json', description: 'Colour fidelity check for brightfield H&E' },
    { id: 'quality-metrics', path: 'pipelines/quality-metrics.json', description: 'How much 2 µm of defocus degrades an image: the in-focus and +2 µm nuclei planes compared' },
  ],
  operations: [compare, compareColour, toleranceIndexOp],
});

export default metricsPlugin;
