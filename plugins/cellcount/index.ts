/**
 * Built-in plugin `cellcount`: ImageJ-compatible pre-processing, thresholding, binary
 * operations and particle analysis (cell / nucleus counting). See docs/cellcount.md.
 */
import { definePlugin } from '../../core/index.js';
import { distanceMapOp, fillHolesOp, morphologyOp, watershedOp } from './ops/binary.js';
import { count } from './ops/count.js';
import { colourDeconvolutionOp, normaliseContrastOp, rgbToGreyOp, subtractBackgroundOp } from './ops/preprocess.js';
import { thresholdOp } from './ops/threshold.js';

export const cellcountPlugin = definePlugin({
  id: 'cellcount',
  version: '0.1.0',
  description:
    "Cell and nucleus counting as ImageJ does it: RGB to grey, colour deconvolution, rolling-ball background subtraction, contrast normalisation, ImageJ's 16 auto-threshold methods, binary fill holes / erode / dilate / open / close / watershed, and Analyze Particles.",
  sampleData: [{ id: 'he-tissue', path: 'samples/he-tissue.tif', description: 'Brightfield H&E tissue image (RGB)' }],
  pipelines: [
    { id: 'count-nuclei', path: 'pipelines/count-nuclei.json', description: 'Count nuclei in a fluorescence z-stack as ImageJ users do' },
    { id: 'count-he-nuclei', path: 'pipelines/count-he-nuclei.json', description: 'Count nuclei in brightfield H&E-stained tissue' },
    { id: 'preprocess-he', path: 'pipelines/preprocess-he.json', description: 'Classic ImageJ preprocessing of a brightfield H&E image into a nuclei mask' },
  ],
  operations: [
    rgbToGreyOp, colourDeconvolutionOp, subtractBackgroundOp, normaliseContrastOp, thresholdOp,
    fillHolesOp, morphologyOp, watershedOp, distanceMapOp, count,
  ],
});

export default cellcountPlugin;
