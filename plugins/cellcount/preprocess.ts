/**
 * Pre-processing for cell counting (ImageJ semantics): colour → grey, colour deconvolution,
 * rolling-ball background subtraction and contrast normalisation.
 */
export { rgbToGrey, colourDeconvolution, stainMatrix, STAIN_VECTORS, type RgbToGreyOptions, type StainSet, type ColourDeconvolution } from './colour.js';
export { subtractBackground, rollingBallBackground, rollingBallGeometry, type SubtractBackgroundOptions } from './background.js';
export { normaliseContrast, saturatedLimits, type NormaliseContrastOptions } from './contrast.js';
