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
  sampleData: [{ id: 'beads-zstack', path: 'samples/beads-zstack.tif', description: 'Z-stack of sub-resolution beads (60×/1.4 NA) for PSF measurement' }],
  pipelines: [
    { id: 'simulate-defocus', path: 'pipelines/simulate-defocus.json', description: 'Simulate a widefield z-stack from one in-focus image' },
    { id: 'psf-from-beads', path: 'pipelines/psf-from-beads.json', description: 'Measure the PSF of a 60×/1.4 NA oil objective from a z-stack of sub-resolution beads' },
  ],
  operations: [psfBornWolf, psfGaussian, defocusOp, psfFromBeadsOp],
});

export default opticsPlugin;
