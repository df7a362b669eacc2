/**
 * Focal's imaging library, `focal/imaging` (core/imaging/index.ts lists it): Gaussian
 * filtering, image-quality metrics (PSNR, SSIM, MS-SSIM, …), cubic B-splines, linear solve,
 * Levenberg–Marquardt and L-BFGS, optics (PSFs, the defocus simulator), flood fill,
 * standardisation, shared by built-in and third-party plugins alike.
 * A public entry of its own, beside `focal` (core/index.ts), so that a run that filters
 * nothing never loads it.
 */
export * from './imaging/index.js';
