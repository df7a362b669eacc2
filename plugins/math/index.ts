/**
 * Built-in plugin `math`: pixel arithmetic.
 */
import { definePlugin } from '../../core/index.js';
import { binary } from './ops/binary.js';

export const mathPlugin = definePlugin({
  id: 'math',
  version: '0.1.0',
  description: 'Pixel arithmetic between images: add, subtract, multiply, divide, min, max, difference.',
  operations: [binary],
});

export default mathPlugin;
