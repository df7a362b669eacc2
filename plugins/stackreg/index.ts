/**
 * Built-in plugin `stackreg`: StackReg-style stack alignment (Thévenaz, Ruttimann & Unser
 * 1998: B-spline pyramid, intensity-based least squares, Marquardt–Levenberg, sub-pixel).
 */
import { definePlugin } from '../../core/index.js';
import { align } from './ops/align.js';
import { apply } from './ops/apply.js';

export { applyAffine, compose, cornerError, fromMatrix3, identity, invert, similarityAbout, toMatrix3, IDENTITY, type Affine } from './affine.js';
export { alignSlices, movingAverage, REFERENCE_MODES, type AlignOptions, type ReferenceMode } from './align.js';
export { prepareImage, registerImages, registerPrepared, TRANSFORM_TYPES, type PreparedImage, type RegisterOptions, type RegistrationResult, type TransformType } from './register.js';
export { buildPyramid, pyramidDepth, reduce, smoothBinomial, REDUCE_KERNEL, type PyramidLevel } from './pyramid.js';
export { SplineImage, splineCoefficients, prefilterLine, mirrorIndex, cubicWeights, cubicWeightDerivatives, CUBIC_POLE } from './spline.js';
export { warpPlane } from './warp.js';
export { seriesOf, transformsTable, transformsJson, matricesFromTable, matricesFromJson, MATRIX_COLUMNS, type Series } from './series.js';
export { blobScene, renderScene, mulberry32, gaussianNoise, type Scene } from './synthetic.js';

export const stackregPlugin = definePlugin({
  id: 'stackreg',
  version: '0.1.0',
  description: 'StackReg-style alignment of z-stacks and time series (translation, rigid, scaled rotation, affine) and application of saved transforms.',
  operations: [align, apply],
});

export default stackregPlugin;
