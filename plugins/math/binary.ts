import { FocalError } from '../../core/index.js';

/** Pixel-wise binary operations of `math.binary`. */
export type BinaryOp = 'add' | 'subtract' | 'multiply' | 'divide' | 'min' | 'max' | 'difference';
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'subtract', 'multiply', 'divide', 'min', 'max', 'difference'];

/**
 * Applies `op` pixel by pixel: out[i] = a[i] op b[i], computed in float64 and stored as
 * float32. `subtract` is a − b, `divide` is a / b with IEEE semantics (x/0 = ±Infinity,
 * 0/0 = NaN), `difference` is |a − b|; `min`/`max` return NaN when either value is NaN.
 *
 * @param a First operand plane (not modified).
 * @param b Second operand plane, same length (not modified).
 * @param op Operation.
 * @returns A new Float32Array.
 * @throws FocalError `E_ARGUMENT` when the lengths differ or `op` is unknown.
 */
export function binaryPlane(a: ArrayLike<number>, b: ArrayLike<number>, op: BinaryOp): Float32Array {
  if (a.length !== b.length) throw new FocalError('E_ARGUMENT', `planes differ in length: ${a.length} and ${b.length}`);
  const n = a.length;
  const out = new Float32Array(n);
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
      break;
    case 'subtract':
      for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
      break;
    case 'multiply':
      for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
      break;
    case 'divide':
      for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
      break;
    case 'min':
      for (let i = 0; i < n; i++) out[i] = Math.min(a[i], b[i]);
      break;
    case 'max':
      for (let i = 0; i < n; i++) out[i] = Math.max(a[i], b[i]);
      break;
    case 'difference':
      for (let i = 0; i < n; i++) out[i] = Math.abs(a[i] - b[i]);
      break;
    default:
      throw new FocalError('E_ARGUMENT', `unknown operation '${String(op)}'`);
  }
  return out;
}
