/**
 * Built-in plugin `optics`: PSF models (Born & Wolf, Gaussian), a defocus simulator with
 * camera noise, and measured PSFs from bead images.
 */
import { definePlugin } from '../../core/index.js';
import { defocusOp } from './ops/defocus.js';
import { psfBornWolf } from './ops/psf-born-wolf.js';
import { psfFromBeadsOp } from './ops/psf-from-beads.js';
import { psfGaussian } from './ops/psf-gaussian.js';

export const opticsPlugin = definePlugin({
  id: 'optics',
  version: '0.1.0',
  description: 'Optics: Born & Wolf and Gaussian PSFs, defocus simulation with Poisson–Gaussian noise, measured PSFs and FWHM from bead images.',
  operations: [psfBornWolf, psfGaussian, defocusOp, psfFromBeadsOp],
});

export default opticsPlugin;
