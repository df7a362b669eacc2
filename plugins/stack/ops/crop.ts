import { FocalError, defineOperation, planeCount, throwIfAborted, withPlanes, z, allocate, dtypeOf, type PixelArray, type Stack } from '../../../core/index.js';

/**
 * Copies the rectangle [x, x + width) × [y, y + height) out of a row-major plane.
 *
 * @param data Plane of `planeWidth` × (data.length / planeWidth) pixels (not modified).
 * @param planeWidth Width of the plane, px.
 * @param x Left edge of the rectangle, px.
 * @param y Top edge of the rectangle, px.
 * @param width Width of the rectangle, px.
 * @param height Height of the rectangle, px.
 * @returns A new plane of width × height pixels and the same dtype.
 */
export function cropPlane<T extends PixelArray>(data: T, planeWidth: number, x: number, y: number, width: number, height: number): T {
  const out = allocate(dtypeOf(data), width * height) as T;
  for (let row = 0; row < height; row++) {
    const start = (y + row) * planeWidth + x;
    out.set(data.subarray(start, start + width), row * width);
  }
  return out;
}

/** Checks that the rectangle lies inside a width × height image; `E_PARAMS` names the offending field. */
export function checkRectangle(rect: { x: number; y: number; width: number; height: number }, imageWidth: number, imageHeight: number): void {
  const fail = (field: string, message: string): never => {
    throw new FocalError('E_PARAMS', `${field}: ${message} (the image is ${imageWidth}×${imageHeight} px)`, { field });
  };
  if (rect.x >= imageWidth) fail('x', `x = ${rect.x} lies outside the image`);
  if (rect.y >= imageHeight) fail('y', `y = ${rect.y} lies outside the image`);
  if (rect.x + rect.width > imageWidth) fail('width', `x + width = ${rect.x} + ${rect.width} = ${rect.x + rect.width} exceeds the image width`);
  if (rect.y + rect.height > imageHeight) fail('height', `y + height = ${rect.y} + ${rect.height} = ${rect.y + rect.height} exceeds the image height`);
}

/** Crops every plane of a stack to the rectangle (which must lie inside); calibration and metadata are kept. */
export function cropStack(stack: Stack, rect: { x: number; y: number; width: number; height: number }, onPlane?: (done: number, total: number) => void): Stack {
  checkRectangle(rect, stack.width, stack.height);
  const total = planeCount(stack);
  const planes = stack.planes.map((p, i) => {
    const out = cropPlane(p, stack.width, rect.x, rect.y, rect.width, rect.height);
    onPlane?.(i + 1, total);
    return out;
  });
  return withPlanes({ ...stack, width: rect.width, height: rect.height }, planes);
}

export const cropParams = z.strictObject({
  x: z.number().int().min(0).max(65535).default(0).describe('Left edge of the rectangle, px (0 = first column)'),
  y: z.number().int().min(0).max(65535).default(0).describe('Top edge of the rectangle, px (0 = first row)'),
  width: z.number().int().min(1).max(65536).describe('Width of the rectangle, px'),
  height: z.number().int().min(1).max(65536).describe('Height of the rectangle, px'),
});

export const crop = defineOperation({
  id: 'stack.crop',
  title: 'Crop',
  description: 'Crops every plane of a hyperstack to a rectangle, which must lie inside the image.',
  inputs: { stack: { type: 'stack', description: 'Hyperstack to crop' } },
  outputs: { stack: { type: 'stack', description: 'The cropped hyperstack' } },
  params: cropParams,
  window(rect, input) {
    checkRectangle(rect, input.width, input.height);
    return rect;
  },
  run(ctx, { stack }, rect) {
    return {
      stack: cropStack(stack, rect, (done, total) => {
        ctx.progress(done / total);
        throwIfAborted(ctx.signal);
      }),
    };
  },
});
