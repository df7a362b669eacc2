import { FocalError, defineOperation, throwIfAborted, withPlanes, z, type PixelArray } from '../../../core/index.js';
import type { Affine } from '../affine.js';
import { alignSlices, REFERENCE_MODES } from '../align.js';
import { TRANSFORM_TYPES } from '../register.js';
import { seriesOf, transformsJson, transformsTable } from '../series.js';
import { warpPlane } from '../warp.js';

export const alignParams = z.strictObject({
  transform: z.enum(TRANSFORM_TYPES).default('rigid').describe('Transform family: translation, rigid (rotation + translation), scaled-rotation (+ isotropic scale) or affine'),
  reference: z
    .union([z.enum(REFERENCE_MODES), z.number().int().min(0).max(1000000)])
    .default('first')
    .describe("Reference: 'first' slice, 'previous' slice (pairwise, composed into the first slice's frame), 'mean' of all slices, 'moving-average' (as previous, on a centred moving average of movingAverageWindow slices), or a 0-based slice index"),
  movingAverageWindow: z.number().int().min(1).max(10000).default(3).describe("Slices in the centred moving average used by reference 'moving-average'"),
  channel: z.number().int().min(0).max(65535).default(0).describe('0-based channel registered; its transforms are applied to every channel'),
});

export const align = defineOperation({
  id: 'stackreg.align',
  title: 'Align stack (StackReg)',
  description:
    'Registers every slice of a stack to a reference (multi-resolution, intensity-based least squares, cubic B-splines, sub-pixel) and resamples all channels; along z when the stack has several z-slices (each time point on its own), otherwise along t.',
  inputs: { stack: { type: 'stack', description: 'Stack to align (not modified)' } },
  outputs: {
    stack: { type: 'stack', description: 'Aligned stack, same pixel type; values clamped to each input plane\'s range; areas outside the input are 0' },
    transforms: { type: 'table', description: 'One row per slice: slice, [t,] m00 m01 m02 m10 m11 m12 — the 2×3 matrix (px; x = column, y = row, origin at the centre of pixel (0,0)) mapping an output point to the same feature in that input slice' },
    matrices: { type: 'json', description: 'The same transforms as { axis, convention, matrices: [3×3 …] } for stackreg.apply', optional: true },
  },
  params: alignParams,
  run(ctx, { stack }, params) {
    if (params.channel >= stack.sizeC) {
      throw new FocalError('E_PARAMS', `channel: ${params.channel} is not a channel of this stack (it has ${stack.sizeC}: 0…${stack.sizeC - 1})`, { field: 'channel' });
    }
    if (stack.width < 4 || stack.height < 4) throw new FocalError('E_PORT', `stackreg needs planes of at least 4×4 pixels, got ${stack.width}×${stack.height}`);
    const series = seriesOf(stack);
    const ref = params.reference;
    if (typeof ref === 'number' && ref >= series.slices) {
      throw new FocalError('E_PARAMS', `reference: slice ${ref} is outside the ${series.slices} slices along ${series.axis} (0…${series.slices - 1})`, { field: 'reference' });
    }
    ctx.log.debug('stackreg align', { axis: series.axis, slices: series.slices, groups: series.groups, transform: params.transform, reference: ref });
    const total = series.groups * series.slices * 2;
    let done = 0;
    const matrices: Affine[][] = [];
    for (let g = 0; g < series.groups; g++) {
      throwIfAborted(ctx.signal);
      const slices = Array.from({ length: series.slices }, (_, s) => stack.planes[series.plane(params.channel, s, g)]);
      matrices.push(
        alignSlices(slices, stack.width, stack.height, {
          transform: params.transform,
          reference: ref,
          movingAverageWindow: params.movingAverageWindow,
          onSlice: () => {
            throwIfAborted(ctx.signal);
            ctx.progress(++done / total, 'registering');
          },
        }),
      );
    }
    const planes: PixelArray[] = new Array(stack.planes.length);
    for (let g = 0; g < series.groups; g++) {
      for (let s = 0; s < series.slices; s++) {
        throwIfAborted(ctx.signal);
        for (let c = 0; c < stack.sizeC; c++) {
          const i = series.plane(c, s, g);
          planes[i] = warpPlane(stack.planes[i], stack.width, stack.height, matrices[g][s]);
        }
        ctx.progress(++done / total, 'resampling');
      }
    }
    return {
      stack: withPlanes(stack, planes),
      transforms: transformsTable(series, matrices),
      matrices: transformsJson(series, matrices),
    };
  },
});
