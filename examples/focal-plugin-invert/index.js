/**
 * focal-plugin-invert: an example third-party Focal plugin.
 *
 * The default export is a factory: Focal calls it with its public API (`focal`), so this
 * package needs no dependencies, no build step and no resolvable `focal` package — it
 * uses the host's zod (`focal.z`) and helpers.
 */
export default (focal) => {
  const { z, defineOperation, definePlugin, integerRange, minMax, withPlanes, allocate, throwIfAborted, FocalError } = focal;

  /**
   * Inverts one plane: out = maxValue − v, clamped to the integer type's range
   * (float32 is not clamped).
   */
  function invertPlane(plane, dtype, maxValue) {
    const out = allocate(dtype, plane.length);
    const range = integerRange(dtype);
    for (let i = 0; i < plane.length; i++) {
      const v = maxValue - plane[i];
      out[i] = range ? Math.min(range[1], Math.max(range[0], v)) : v;
    }
    return out;
  }

  const apply = defineOperation({
    id: 'invert.apply',
    title: 'Invert',
    description: 'Inverts intensities: max − value, where max is the pixel type\'s maximum (255, 65535) or, for float32, the stack\'s maximum.',
    inputs: { stack: { type: 'stack', description: 'Hyperstack to invert' } },
    outputs: { stack: { type: 'stack', description: 'The inverted hyperstack, same pixel type' } },
    params: z.strictObject({
      maxValue: z
        .number()
        .optional()
        .describe('Value that maps to 0 (out = maxValue − value); default: 255 for uint8, 65535 for uint16, the data maximum for float32'),
    }),
    run(ctx, { stack }, { maxValue }) {
      const range = integerRange(stack.dtype);
      const max = maxValue ?? (range ? range[1] : minMax(stack.planes)[1]);
      if (!Number.isFinite(max)) throw new FocalError('E_PARAMS', 'maxValue must be a finite number', { field: 'maxValue' });
      const planes = stack.planes.map((plane, i) => {
        throwIfAborted(ctx.signal);
        const out = invertPlane(plane, stack.dtype, max);
        ctx.progress((i + 1) / stack.planes.length);
        return out;
      });
      return { stack: withPlanes(stack, planes) };
    },
  });

  return definePlugin({
    id: 'invert',
    version: '0.1.0',
    description: 'Inverts image intensities (example Focal plugin).',
    operations: [apply],
  });
};
