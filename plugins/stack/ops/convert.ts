import { convertPlanes, defineOperation, minMax, planeCount, throwIfAborted, withPlanes, z, type DType, type ScaleMode, type Stack } from '../../../core/index.js';

/**
 * Converts a stack to `dtype` plane by plane with core's `convertPlanes`, one mapping
 * shared by all planes (for `minmax`, the min and max over the whole stack), so the
 * result equals `convertStack(stack, dtype, { scale })`.
 */
export function convertStackByPlane(stack: Stack, dtype: DType, scale: ScaleMode, onPlane?: (done: number, total: number) => void): Stack {
  const range = scale === 'minmax' ? minMax(stack.planes) : undefined;
  const total = planeCount(stack);
  const planes = stack.planes.map((p, i) => {
    const [out] = convertPlanes([p], stack.dtype, dtype, { scale, ...(range ? { range } : {}) });
    onPlane?.(i + 1, total);
    return out;
  });
  return withPlanes(stack, planes);
}

export const convertParams = z.strictObject({
  dtype: z.enum(['uint8', 'uint16', 'float32']).describe('Pixel type of the result'),
  scale: z
    .enum(['none', 'minmax', 'dtype-range'])
    .default('none')
    .describe(
      'none: keep values (rounded, clamped to the target range, NaN → 0); minmax: map the stack\'s min–max onto the target range (0–255, 0–65535, 0–1 for float32; ImageJ\'s "scale when converting"); dtype-range: map the source type\'s full range onto the target\'s',
    ),
});

export const convert = defineOperation({
  id: 'stack.convert',
  title: 'Convert pixel type',
  description: 'Converts a hyperstack to uint8, uint16 or float32, keeping values (default) or rescaling them.',
  inputs: { stack: { type: 'stack', description: 'Hyperstack to convert' } },
  outputs: { stack: { type: 'stack', description: 'The converted hyperstack' } },
  params: convertParams,
  run(ctx, { stack }, { dtype, scale }) {
    return {
      stack: convertStackByPlane(stack, dtype, scale, (done, total) => {
        ctx.progress(done / total);
        throwIfAborted(ctx.signal);
      }),
    };
  },
  // a point operation, except minmax, whose mapping depends on the whole stack
  tiling: ({ dtype, scale }) => (scale === 'minmax' ? undefined : { haloPx: 0, dtype }),
});
