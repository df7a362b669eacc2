/**
 * Built-in plugin `elastic`: non-rigid (cubic B-spline) registration, displacement-field
 * warping, and the virtual-staining paper's coarse-to-fine co-registration.
 */
import { definePlugin } from '../../core/index.js';
import { apply } from './ops/apply.js';
import { coregister } from './ops/coregister.js';
import { register } from './ops/register.js';

export {
  registerElastic, coregisterElastic, warpImage, maxLevels,
  type Plane, type ElasticOptions, type ElasticResult, type LevelRecord, type CoregisterOptions, type CoregisterResult,
} from './register.js';
export { locateTemplate, type LocateResult } from './locate.js';
export { evaluateMetric, type MetricName } from './metrics.js';
export { lbfgs, type LbfgsOptions, type LbfgsResult } from './lbfgs.js';
export { createGrid, evaluateGrid, refineGrid, bendingEnergy, type BSplineGrid } from './bspline.js';
export { syntheticPair, smoothField, texturedImage, endpointError, seededRandom } from './synthetic.js';

export const elasticPlugin = definePlugin({
  id: 'elastic',
  version: '0.1.0',
  description: 'Elastic registration: multi-resolution cubic B-spline FFD (SSD/NCC/MI, bending energy), field warping, cross-correlation → affine → elastic co-registration.',
  operations: [register, apply, coregister],
});

export default elasticPlugin;
