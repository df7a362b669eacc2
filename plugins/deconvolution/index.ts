/**
 * Built-in plugin `deconvolution`: Richardson–Lucy (with optional TV regularisation) and
 * Landweber deconvolution, 2D and 3D. 2D FFTs run on PFFFT (WebAssembly SIMD), 3D on a
 * mixed-radix real FFT of its own (fft.ts), which other plugins may use too. Large images
 * are split into strips deconvolved on worker threads (parallel.ts).
 */
import { definePlugin } from '../../core/index.js';
import { landweberOp } from './ops/landweber.js';
import { richardsonLucyOp } from './ops/richardson-lucy.js';

export const deconvolutionPlugin = definePlugin({
  id: 'deconvolution',
  version: '0.1.0',
  description: 'Richardson–Lucy (RL-TV) and Landweber deconvolution with a known PSF, 2D and 3D, FFT-based, tiled for large images.',
  pipelines: [
    { id: 'deconvolve-rl', path: 'pipelines/deconvolve-rl.json', description: 'Richardson–Lucy round trip on the sample' },
    { id: 'deconvolve-landweber', path: 'pipelines/deconvolve-landweber.json', description: 'Landweber round trip on the sample' },
  ],
  operations: [richardsonLucyOp, landweberOp],
});

export default deconvolutionPlugin;
