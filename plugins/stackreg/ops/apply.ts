import { FocalError, defineOperation, throwIfAborted, withPlanes, z, type PixelArray } from '../../../core/index.js';
import { matricesFromJson, matricesFromTable, seriesOf } from '../series.js';
import { warpPlane } from '../warp.js';

export const applyParams = z.strictObject({});

export const apply = defineOperation({
  id: 'stackreg.apply',
  title: 'Apply stack transforms',
  description:
    'Resamples every slice (all channels) of a stack with saved affine transforms, e.g. those stackreg.align found on one channel or another stack. Same slice axis rule as stackreg.align (z when sizeZ > 1, else t).',
  inputs: {
    stack: { type: 'stack', description: 'Stack to transform (not modified)' },
    transforms: { type: 'table', optional: true, description: 'Transform table of stackreg.align (columns slice, [t,] m00 m01 m02 m10 m11 m12); give this or matrices' },
    matrices: { type: 'json', optional: true, description: 'Array of 3×3 matrices [[m00,m01,m02],[m10,m11,m12],[0,0,1]] (px), one per slice, or an object with such a "matrices" array; give this or transforms' },
  },
  outputs: { stack: { type: 'stack', description: 'Transformed stack, same pixel type; values clamped to each input plane\'s range; areas outside the input are 0' } },
  params: applyParams,
  run(ctx, { stack, transforms, matrices }) {
    if ((transforms === undefined) === (matrices === undefined)) {
      throw new FocalError('E_PORT', 'transforms: connect exactly one of transforms (table) and matrices (JSON)', { field: 'transforms' });
    }
    const series = seriesOf(stack);
    const perGroup = transforms !== undefined ? matricesFromTable(transforms, series, 'transforms') : matricesFromJson(matrices!, series, 'matrices');
    const planes: PixelArray[] = new Array(stack.planes.length);
    const total = series.groups * series.slices;
    let done = 0;
    for (let g = 0; g < series.groups; g++) {
      for (let s = 0; s < series.slices; s++) {
        throwIfAborted(ctx.signal);
        for (let c = 0; c < stack.sizeC; c++) {
          const i = series.plane(c, s, g);
          planes[i] = warpPlane(stack.planes[i], stack.width, stack.height, perGroup[g][s]);
        }
        ctx.progress(++done / total);
      }
    }
    return { stack: withPlanes(stack, planes) };
  },
});
