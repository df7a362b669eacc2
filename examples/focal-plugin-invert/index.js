/**
 * focal-plugin-invert: an example third-party Focal plugin.
 *
 * The default export is a factory: Focal calls it with its public API (`focal`), so this
 * package needs no dependencies, no build step and no resolvable `focal` package — it
 * uses the host's zod (`focal.z`) and helpers.
 *
 * Besides its operation it contributes a reader (`readers`): binary greyscale Netpbm files
 * (`.pgm`), so `focal run` and `focal info` take them as inputs.
 */
import { readFile } from 'node:fs/promises';

export default (focal) => {
  const { z, defineOperation, definePlugin, integerRange, minMax, withPlanes, allocate, throwIfAborted, createStack, FocalError } = focal;

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

  /**
   * Reads a binary greyscale Netpbm file (P5): the header `P5 <width> <height> <maxval>` (fields
   * separated by whitespace, `#` comments to the end of a line), one whitespace byte, then the
   * pixels row by row, one byte each (maxval < 256) or two, big-endian.
   */
  async function readPgm(path, options = {}) {
    throwIfAborted(options.signal);
    const bytes = await readFile(path);
    const fields = [];
    let i = 0;
    while (fields.length < 4 && i < bytes.length) {
      if (bytes[i] === 0x23) while (i < bytes.length && bytes[i] !== 0x0a) i++; // a comment
      else if (bytes[i] <= 0x20) i++;
      else {
        const start = i;
        while (i < bytes.length && bytes[i] > 0x20) i++;
        fields.push(bytes.toString('latin1', start, i));
      }
    }
    const [magic, width, height, maxval] = [fields[0], ...fields.slice(1).map(Number)];
    const ok = (n, max) => Number.isInteger(n) && n > 0 && n <= max;
    if (magic !== 'P5' || !ok(width, 65535) || !ok(height, 65535) || !ok(maxval, 65535)) {
      throw new FocalError('E_FORMAT', `${path}: not a binary PGM file (expected the header "P5 <width> <height> <maxval>")`, { file: path });
    }
    const offset = i + 1; // the single whitespace byte after maxval
    const wide = maxval > 255;
    const need = width * height * (wide ? 2 : 1);
    if (bytes.length - offset < need) {
      throw new FocalError('E_FORMAT', `${path}: a ${width}×${height} PGM needs ${need} bytes of pixels, the file has ${Math.max(0, bytes.length - offset)}`, { file: path });
    }
    const plane = wide ? new Uint16Array(width * height) : new Uint8Array(width * height);
    for (let k = 0; k < plane.length; k++) plane[k] = wide ? bytes.readUInt16BE(offset + 2 * k) : bytes[offset + k];
    return createStack({ width, height, dtype: wide ? 'uint16' : 'uint8', planes: [plane] });
  }

  return definePlugin({
    id: 'invert',
    version: '0.1.0',
    description: 'Inverts image intensities (example Focal plugin).',
    operations: [apply],
    readers: [{ id: 'pgm', description: 'Binary greyscale Netpbm (P5), 8 or 16 bit', extensions: ['.pgm'], open: readPgm }],
  });
};
