/**
 * Focal's imaging library: the numeric tools several plugins share, for built-in and
 * third-party plugins alike (its own public entry, `focal/imaging`: core/imaging.ts). Plain functions
 * over typed arrays, row-major planes (x = column), lengths in the unit their name says.
 *
 * - filtering: Gaussian kernel and separable blur;
 * - image quality: PSNR, MSE/RMSE/MAE, Pearson r, BerHu, SSIM and MS-SSIM;
 * - cubic B-splines: the interpolation prefilter (Unser) and a spline image model; resampling to another pixel grid;
 * - optimisation: linear solve, Levenberg–Marquardt, L-BFGS;
 * - optics: Born & Wolf and Gaussian PSFs, the defocus simulator, Bessel functions;
 * - regions and intensities: flood fill from the border, standardisation;
 * - safety: the consistency check of a restoration against its own input (Deep-R, TSVA).
 */
export { assertParamAllocation, paramAllocationBudget } from './budget.js';
export { gaussianBlur2d, gaussianBlur2dInteger, gaussianBlur2dJs, gaussianBlur2dWasm, gaussianKernel1d, GAUSSIAN_WASM_MAX_BYTES, type GaussianOptions } from './gaussian.js';
export {
  psnr, mse, rmse, mae, pearson, berhu, cropBorder, resolveDataRange, standardDeviation,
  range as valueRange, assertNoNaN,
} from './pixelwise.js';
export { ssim, ssimMap, msSsim, msSsimMinSize, ssimWindowSize, MS_SSIM_WEIGHTS, type SsimOptions } from './ssim.js';
export {
  SplineImage, splineCoefficients, prefilterLine, cubicWeights, cubicWeightDerivatives, CUBIC_POLE,
  mirrorIndex as splineMirrorIndex,
} from './bspline.js';
export { solveLinear, levenbergMarquardt, type LeastSquaresModel, type LeastSquaresResult } from './linalg.js';
export { lbfgs, type LbfgsOptions, type LbfgsResult } from './lbfgs.js';
export {
  bornWolfPsf, bornWolfPsfStack, bornWolfIntensity, bornWolfRadialProfile, bornWolfHalfSizePx,
  gaussianPsf, validateOptics, FWHM_PER_SIGMA, type OpticsOptions, type BornWolfPsfOptions,
} from './psf.js';
export { defocus, defocusImage, defocusSeries, defocusMap, type DefocusOptions } from './defocus.js';
export { brenner } from './brenner.js';
export { resamplePlane, resampleInterleaved, antiAliasSigmaPx } from './resample.js';
export { besselJ0, besselJ1 } from './bessel.js';
export { rgbToYcbcr601, ycbcr601ToRgb } from './colour.js';
export { floodFillFromBorder } from './flood-fill.js';
export { standardise, destandardise, normaliseImage, type NormalisationMode } from './normalise.js';
export { TiledComponents, type ClosedComponent, type ComponentTile, type TiledComponent } from './tiled-components.js';
export { applySafety, fitSafety, noiseVariance, SAFETY_SIGMAS_PX, type SafetyFit, type SafetyOptions, type SafetyResult } from './consistency.js';
