/**
 * Built-in plugin `focus`: focus criteria (Deep-R's Vollath F4/F5, STD, NVAR; Brenner; Tenengrad),
 * sharpest-plane selection and Deep-R's row-wise relative sharpness coefficient.
 */
import { definePlugin } from '../../core/index.js';
import { bestPlane } from './ops/best-plane.js';
import { rowSharpness } from './ops/row-sharpness.js';

export const focusPlugin = definePlugin({
  id: 'focus',
  version: '0.1.0',
  description: 'Focus criteria (Vollath F4/F5, STD, NVAR, Brenner, Tenengrad), sharpest z plane, row-wise relative sharpness (Deep-R).',
  pipelines: [{ id: 'best-focus', path: 'pipelines/best-focus.json', description: "Pick the sharpest z plane of the nuclei channel of a fluorescence z-stack with Vollath's F4, and list every plane's score" }],
  operations: [bestPlane, rowSharpness],
});

export default focusPlugin;
