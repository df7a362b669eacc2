import { defineOperation, z } from '../../../core/index.js';
import { coregisterElastic, warpImage } from '../register.js';
import { asOpError, fieldStack, levelsTable, registrationFields, singlePlane, toOptions, warpedImage } from './common.js';

export const coregisterParams = z.strictObject({
  ...registrationFields,
  affineInit: z.boolean().default(true).describe('Optimise an affine transform after the cross-correlation match (the paper\'s second step)'),
  marginPx: z.number().int().min(0).max(4096).default(32).describe('Margin around the cross-correlation match kept for the affine and elastic steps, px'),
});

export const coregister = defineOperation({
  id: 'elastic.coregister',
  title: 'Co-register (cross-correlation → affine → elastic)',
  description:
    'Finds the region of a larger moving image that matches the fixed image by normalised cross-correlation (coarse to fine), then refines it with an affine and an elastic B-spline registration (the virtual-staining paper\'s coarse-to-fine co-registration). The field points into the whole moving image.',
  inputs: {
    moving: { type: 'stack', description: 'Larger image to search (one plane), e.g. the stained whole-slide tile' },
    fixed: { type: 'stack', description: 'Reference image (one plane); defines the output grid' },
  },
  outputs: {
    image: { type: 'image', description: 'The matching region of the moving image warped onto the fixed grid (float32)' },
    field: { type: 'stack', description: 'Displacement field, 2 channels (ux, uy) float32, pixels into the whole moving image: moving(x + u(x)) ≈ fixed(x)' },
    offset: { type: 'json', description: '{ x, y, ncc } top-left of the cross-correlation match in the moving image, and affine [a00 a01 a02 a10 a11 a12] (fixed → moving px)' },
    levels: { type: 'table', description: 'Per stage and pyramid level: metric before/after, iterations, time', optional: true },
  },
  params: coregisterParams,
  run(ctx, { moving, fixed }, params) {
    const m = singlePlane(moving, 'moving');
    const f = singlePlane(fixed, 'fixed');
    try {
      const r = coregisterElastic(m, f, { ...toOptions(params), marginPx: params.marginPx, signal: ctx.signal, onProgress: (fr, label) => ctx.progress(fr, label) });
      ctx.log.info('co-registration match', { x: r.match.x, y: r.match.y, ncc: r.match.ncc });
      const warped = warpImage(m, r.ux, r.uy, f.width, f.height);
      return {
        image: warpedImage(warped, fixed),
        field: fieldStack(r.ux, r.uy, fixed, { focalAffine: r.affine }),
        offset: { x: r.match.x, y: r.match.y, ncc: r.match.ncc, affine: r.affine },
        levels: levelsTable(r.levels),
      };
    } catch (err) {
      throw asOpError(err);
    }
  },
});
