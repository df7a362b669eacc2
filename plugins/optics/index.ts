/**
 * Built-in plugin `optics`: PSF models (Born & Wolf, Gaussian), a defocus simulator with
 * camera noise, and measured PSFs from bead images.
 */
import { definePlugin } from '../../core/index.js';
import { defocusOp } from './ops/defocus.js';
import { psfBornWolf } from './ops/psf-born-wolf.js';
import { psfFromBeadsOp } from './ops/psf-from-beads.js';
import { psfGaussian } from './ops/psf-gaussian.js';

export {
  bornWolfPsf,
  bornWolfPsfStack,
  bornWolfIntensity,
  bornWolfRadialProfile,
  bornWolfHalfSizePx,
  gaussianPsf,
  validateOptics,
  FWHM_PER_SIGMA,
  type OpticsOptions,
  type BornWolfPsfOptions,
} from './psf.js';
export { defocus, defocusImage, defocusSeries, defocusMap, type DefocusOptions } from './defocus.js';
export { psfFromBeads, psfFromBeadStack, robustStats, type Bead, type PsfFromBeadsOptions, type PsfFromBeadsResult, type PsfFromBeadStackResult } from './beads.js';
export { fitGaussian1d, fitGaussian2d, levenbergMarquardt, type Gaussian2d } from './fit.js';
export { besselJ0, besselJ1 } from './bessel.js';
/** The optics simulator's seeded generator (core's Xoshiro128), under its former name. */
export { Xoshiro128 as Rng } from '../../core/index.js';

export const opticsPlugin = definePlugin({
  id: 'optics',
  version: '0.1.0',
  description: 'Optics: Born & Wolf and Gaussian PSFs, defocus simulation with Poisson–Gaussian noise, measured PSFs and FWHM from bead images.',
  operations: [psfBornWolf, psfGaussian, defocusOp, psfFromBeadsOp],
});

export default opticsPlugin;
