/**
 * Built-in plugin `cellcount`: ImageJ-compatible pre-processing, thresholding, binary
 * operations and particle analysis (cell / nucleus counting). See docs/cellcount.md.
 */
import { definePlugin } from '../../core/index.js';
import { distanceMapOp, fillHolesOp, morphologyOp, watershedOp } from './ops/binary.js';
import { count } from './ops/count.js';
import { colourDeconvolutionOp, normaliseContrastOp, rgbToGreyOp, subtractBackgroundOp } from './ops/preprocess.js';
import { thresholdOp } from './ops/threshold.js';

export * from './threshold.js';
export * from './colour.js';
export * from './contrast.js';
export * from './background.js';
export { requireGrey } from './ops/threshold.js';
export {
  analyzeParticles, labelComponents, labelOutlines, traceOutline, tracedPerimeter,
  type Particle, type ParticleOptions, type ParticleResult,
} from './particles.js';
export {
  close, dilate, distanceMap, erode, fillHoles, findMaximaRegions, open, watershed,
  type BinaryOptions, type WatershedOptions,
} from './binary.js';
export { autoContrast8, countPlane, countParamProblems, OUTLINE_RGB, type CountParams, type PlaneCount } from './ops/count.js';
export { assertMaskStack, MORPHOLOGY_OPERATIONS } from './ops/binary.js';

export const cellcountPlugin = definePlugin({
  id: 'cellcount',
  version: '0.1.0',
  description:
    "Cell and nucleus counting as ImageJ does it: RGB to grey, colour deconvolution, rolling-ball background subtraction, contrast normalisation, ImageJ's 16 auto-threshold methods, binary fill holes / erode / dilate / open / close / watershed, and Analyze Particles.",
  operations: [
    rgbToGreyOp, colourDeconvolutionOp, subtractBackgroundOp, normaliseContrastOp, thresholdOp,
    fillHolesOp, morphologyOp, watershedOp, distanceMapOp, count,
  ],
});

export default cellcountPlugin;
