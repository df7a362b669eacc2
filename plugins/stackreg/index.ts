/**
 * Built-in plugin `stackreg`: StackReg-style stack alignment (Thévenaz, Ruttimann & Unser
 * 1998: B-spline pyramid, intensity-based least squares, Marquardt–Levenberg, sub-pixel).
 */
import { definePlugin } from '../../core/index.js';
import { align } from './ops/align.js';
import { apply } from './ops/apply.js';

export const stackregPlugin = definePlugin({
  id: 'stackreg',
  version: '0.1.0',
  description: 'StackReg-style alignment of z-stacks and time series (translation, rigid, scaled rotation, affine) and application of saved transforms.',
  pipelines: [
    { id: 'stackreg-align', path: 'pipelines/stackreg-align.json', description: 'Align the slices of a multi-channel z-stack (rigid, on the nuclear channel) and save the transforms' },
    { id: 'stackreg-channels', path: 'pipelines/stackreg-channels.json', description: 'Register a z-stack on one channel and apply the same transforms to another' },
  ],
  operations: [align, apply],
});

export default stackregPlugin;
