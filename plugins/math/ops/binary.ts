import { FocalError, convertPlanes, defineOperation, planeCount, throwIfAborted, withPlanes, z, type PixelArray, type Stack } from '../../../core/index.js';
import { BINARY_OPS, binaryPlane, type BinaryOp } from '../binary.js';

/**
 * Combines two stacks pixel by pixel. `b` has `a`'s c/z/t sizes, or is a single plane
 * applied to every plane of `a`. The result takes `a`'s geometry, calibration, channel
 * names and metadata.
 *
 * - `outputDtype: 'float32'` (default): no clipping; division by zero follows IEEE
 *   (±Infinity, NaN for 0/0).
 * - `outputDtype: 'same'`: rounded (halves up) and clamped to `a`'s dtype, as ImageJ's
 *   Image Calculator does without "32-bit result"; NaN becomes 0 and ±Infinity clamps.
 *
 * @throws FocalError `E_PORT` when width/height differ, or b is neither one plane nor a's dims.
 */
export function combineStacks(a: Stack, b: Stack, op: BinaryOp, outputDtype: 'float32' | 'same', onPlane?: (done: number, total: number) => void): Stack {
  if (a.width !== b.width || a.height !== b.height) {
    throw new FocalError('E_PORT', `b is ${b.width}×${b.height} px but a is ${a.width}×${a.height} px; both inputs must have the same width and height`, { field: 'b' });
  }
  const single = planeCount(b) === 1;
  if (!single && (a.sizeC !== b.sizeC || a.sizeZ !== b.sizeZ || a.sizeT !== b.sizeT)) {
    throw new FocalError(
      'E_PORT',
      `b has c=${b.sizeC}, z=${b.sizeZ}, t=${b.sizeT} but a has c=${a.sizeC}, z=${a.sizeZ}, t=${a.sizeT}; b must have a's dimensions or be a single plane`,
      { field: 'b' },
    );
  }
  const total = planeCount(a);
  const planes: PixelArray[] = [];
  for (let i = 0; i < total; i++) {
    const result = binaryPlane(a.planes[i], single ? b.planes[0] : b.planes[i], op);
    planes.push(outputDtype === 'same' && a.dtype !== 'float32' ? convertPlanes([result], 'float32', a.dtype, { scale: 'none' })[0] : result);
    onPlane?.(i + 1, total);
  }
  return withPlanes(a, planes);
}

export const binaryParams = z.strictObject({
  op: z
    .enum(BINARY_OPS as [BinaryOp, ...BinaryOp[]])
    .describe('add: a + b; subtract: a − b; multiply: a · b; divide: a / b; min, max; difference: |a − b|'),
  outputDtype: z
    .enum(['float32', 'same'])
    .default('float32')
    .describe("float32: exact, no clipping (x/0 = ±Infinity, 0/0 = NaN); same: rounded and clamped to a's pixel type, as ImageJ's Image Calculator"),
});

export const binary = defineOperation({
  id: 'math.binary',
  title: 'Image calculator',
  description: 'Combines two stacks pixel by pixel (add, subtract, multiply, divide, min, max, difference); b may be a single plane applied to every plane of a.',
  inputs: {
    a: { type: 'stack', description: 'First operand' },
    b: { type: 'stack', description: "Second operand: same dimensions as a, or a single plane applied to every plane of a" },
  },
  outputs: { stack: { type: 'stack', description: "The result, with a's geometry, calibration and metadata" } },
  params: binaryParams,
  run(ctx, { a, b }, { op, outputDtype }) {
    return {
      stack: combineStacks(a, b, op, outputDtype, (done, total) => {
        ctx.progress(done / total);
        throwIfAborted(ctx.signal);
      }),
    };
  },
});
