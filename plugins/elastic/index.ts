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
  operations: [register, apply, coregister],
});

export default elasticPlugin;
