import { FocalError, defineOperation, planeCount, throwIfAborted, withPlanes, z, type PixelArray } from '../../../core/index.js';
import { warpImage } from '../register.js';

export const applyParams = z.strictObject({
  interpolation: z.enum(['cubic', 'linear']).default('cubic').describe('Interpolation of the image: cubic B-spline or bilinear'),
  fill: z.number().min(-3.4e38).max(3.4e38).default(0).describe('Value of output pixels that map outside the image'),
});

export const apply = defineOperation({
  id: 'elastic.apply',
  title: 'Apply a displacement field',
  description:
    'Warps every plane of an image or stack with a displacement field from elastic.register / elastic.coregister (out(x) = image(x + u(x)), on the field\'s grid), e.g. register one channel and apply the field to the others. Output is float32.',
  inputs: {
    image: { type: 'stack', description: 'Image or stack to warp (every plane); may be larger than the field (coregister)' },
    field: { type: 'stack', description: 'Displacement field: 2 channels (ux, uy), pixels' },
  },
  outputs: { image: { type: 'stack', description: 'The warped planes on the field\'s grid (float32)' } },
  params: applyParams,
  run(ctx, { image, field }, params) {
    if (field.sizeC !== 2 || field.sizeZ * field.sizeT !== 1) {
      throw new FocalError('E_PORT', `field: expected a 2-channel (ux, uy) single-plane stack, got c=${field.sizeC}, z=${field.sizeZ}, t=${field.sizeT}`, { field: 'field' });
    }
    const ux = field.planes[0], uy = field.planes[1];
    for (let i = 0; i < ux.length; i++) {
      if (!Number.isFinite(ux[i]) || !Number.isFinite(uy[i])) {
        throw new FocalError('E_PORT', `field: displacement at pixel (${i % field.width}, ${Math.floor(i / field.width)}) is not finite`, { field: 'field' });
      }
    }
    const total = planeCount(image);
    const planes: PixelArray[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      planes.push(warpImage({ data: image.planes[i], width: image.width, height: image.height }, ux, uy, field.width, field.height, params));
      ctx.progress((i + 1) / total);
    }
    const out = withPlanes({ ...image, width: field.width, height: field.height, planes: [] }, planes);
    return { image: out };
  },
});
