import { defineOperation, FocalError, type PixelArray, planeCount, type Stack, throwIfAborted, withPlanes, z } from '../../../core/index.js';
import { gaussianBlur2d, gaussianBlur2dInteger, gaussianKernel1d } from '../../../core/imaging.js';

/**
 * σ in pixels along x and y from the op's params. `sigmaUm` is divided by the stack's
 * pixel size (`pixelWidthUm`; `pixelHeightUm`, or the width when only that is known).
 * @throws FocalError `E_PARAMS` unless exactly one of sigmaPx / sigmaUm is given, or when
 *   sigmaUm is given for a stack without pixel calibration.
 */
export function sigmasPx(stack: Pick<Stack, 'calibration'>, params: { sigmaPx?: number; sigmaUm?: number }): { sigmaXPx: number; sigmaYPx: number } {
  const { sigmaPx, sigmaUm } = params;
  if ((sigmaPx === undefined) === (sigmaUm === undefined)) {
    throw new FocalError('E_PARAMS', 'sigmaPx: give exactly one of sigmaPx (pixels) and sigmaUm (micrometres)', { field: 'sigmaPx' });
  }
  if (sigmaPx !== undefined) return { sigmaXPx: sigmaPx, sigmaYPx: sigmaPx };
  const { pixelWidthUm, pixelHeightUm } = stack.calibration;
  const pw = pixelWidthUm ?? pixelHeightUm;
  const ph = pixelHeightUm ?? pixelWidthUm;
  if (pw === undefined || ph === undefined || !(pw > 0) || !(ph > 0)) {
    throw new FocalError(
      'E_PARAMS',
      'sigmaUm: the stack has no pixel size calibration (pixelWidthUm), so a sigma in micrometres cannot be converted to pixels; give sigmaPx instead, or use a calibrated image',
      { field: 'sigmaUm' },
    );
  }
  return { sigmaXPx: sigmaUm! / pw, sigmaYPx: sigmaUm! / ph };
}

export const gaussianParams = z
  .strictObject({
    sigmaPx: z.number().positive().max(1000).optional().describe('Standard deviation of the Gaussian, px (give this or sigmaUm)'),
    sigmaUm: z.number().positive().max(1000).optional().describe('Standard deviation of the Gaussian, µm; needs the image\'s pixel size calibration (give this or sigmaPx)'),
    truncate: z.number().positive().max(100).default(4).describe('Kernel half-width in standard deviations (radius = round(truncate · sigma) px)'),
  })
  .superRefine((p, ctx) => {
    if ((p.sigmaPx === undefined) === (p.sigmaUm === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['sigmaPx'], message: 'give exactly one of sigmaPx (pixels) and sigmaUm (micrometres)' });
    }
  });

export const gaussian = defineOperation({
  id: 'filter.gaussian',
  title: 'Gaussian blur',
  description:
    'Blurs each plane with a 2D Gaussian (separable, edge pixels replicated, float accumulation); integer images are rounded and clamped back to their type.',
  inputs: { stack: { type: 'stack', description: 'Hyperstack to blur (each plane in 2D)' } },
  outputs: { stack: { type: 'stack', description: 'The blurred hyperstack, same pixel type' } },
  params: gaussianParams,
  run(ctx, { stack }, params) {
    const { sigmaXPx, sigmaYPx } = sigmasPx(stack, params);
    ctx.log.debug('gaussian blur', { sigmaXPx, sigmaYPx, truncate: params.truncate });
    const total = planeCount(stack);
    const planes: PixelArray[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      const opts = { truncate: params.truncate };
      // integer types: rounded and clamped in the blur's last pass (as convertPlanes would, bitwise)
      planes.push(stack.dtype === 'float32' ? gaussianBlur2d(stack.planes[i], stack.width, stack.height, sigmaXPx, sigmaYPx, opts) : gaussianBlur2dInteger(stack.planes[i], stack.width, stack.height, sigmaXPx, sigmaYPx, stack.dtype, opts));
      ctx.progress((i + 1) / total);
    }
    return { stack: withPlanes(stack, planes) };
  },
  // each output pixel reads the kernel's radius around it (edges replicated by gaussianBlur2d itself)
  tiling(params, input) {
    const { sigmaXPx, sigmaYPx } = sigmasPx(input, params);
    const radius = (sigma: number): number => (gaussianKernel1d(sigma, params.truncate).length - 1) / 2;
    return { haloPx: Math.max(radius(sigmaXPx), radius(sigmaYPx)), dtype: input.dtype };
  },
});
