/**
 * Built-in plugin `elastic`: non-rigid (cubic B-spline) registration, displacement-field
 * warping, and the virtual-staining paper's coarse-to-fine co-registration.
 */
import { definePlugin } from '../../core/index.js';
import { apply } from './ops/apply.js';
import { coregister } from './ops/coregister.js';
import { register } from './ops/register.js';

export const elasticPlugin = definePlugin({
  id: 'elastic',
  version: '0.1.0',
  description: 'Elastic registration: multi-resolution cubic B-spline FFD (SSD/NCC/MI, bending energy), field warping, cross-correlation → affine → elastic co-registration.',
  sampleData: [{ id: 'cells-deformed', path: 'samples/cells-deformed.tif', description: 'Two-channel image deformed by a smooth warp, for elastic registration' }],
  pipelines: [
    { id: 'elastic-register', path: 'pipelines/elastic-register.json', description: 'Elastic (B-spline) registration of a deformed two-channel image onto the in-focus plane of the reference z-stack' },
    { id: 'coregister', path: 'pipelines/coregister.json', description: 'Find a small field inside a larger, deformed image and register it' },
  ],
  operations: [register, apply, coregister],
});

export default elasticPlugin;
