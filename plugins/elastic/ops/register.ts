import { defineOperation, z } from '../../../core/index.js';
import { registerElastic } from '../register.js';
import { asOpError, fieldStack, levelsTable, registrationFields, singlePlane, toOptions, warpedImage } from './common.js';
import { warpImage } from '../register.js';

export const registerParams = z.strictObject({
  ...registrationFields,
  affineInit: z.boolean().default(false).describe('Optimise an affine transform (same metric and pyramid) before the B-spline stage'),
});

export const register = defineOperation({
  id: 'elastic.register',
  title: 'Elastic (B-spline) registration',
  description:
    'Registers a moving image onto a fixed image with a multi-resolution cubic B-spline free-form deformation (SSD, NCC or Mattes MI; bending-energy regularisation; L-BFGS), optionally after an affine step. The field follows transformix -def all: moving(x + u(x)) ≈ fixed(x).',
  inputs: {
    moving: { type: 'stack', description: 'Image to deform (one plane)' },
    fixed: { type: 'stack', description: 'Reference image (one plane); defines the output grid' },
  },
  outputs: {
    image: { type: 'image', description: 'The moving image warped onto the fixed grid (float32, cubic B-spline interpolation, 0 outside)' },
    field: { type: 'stack', description: 'Displacement field, 2 channels (ux, uy) float32, pixels, on the fixed grid' },
    levels: { type: 'table', description: 'Per stage and pyramid level: metric before/after, iterations, time' },
  },
  params: registerParams,
  run(ctx, { moving, fixed }, params) {
    const m = singlePlane(moving, 'moving');
    const f = singlePlane(fixed, 'fixed');
    try {
      const r = registerElastic(m, f, { ...toOptions(params), signal: ctx.signal, onProgress: (fr, label) => ctx.progress(fr, label) });
      ctx.log.debug('elastic registration', { levels: r.levels.length, affine: r.affine });
      const warped = warpImage(m, r.ux, r.uy, f.width, f.height);
      return {
        image: warpedImage(warped, fixed),
        field: fieldStack(r.ux, r.uy, fixed, { focalAffine: r.affine }),
        levels: levelsTable(r.levels),
      };
    } catch (err) {
      throw asOpError(err);
    }
  },
});
