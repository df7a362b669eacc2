import { createStack, defineOperation, FocalError, z } from '../../../core/index.js';
import { assertParamAllocation, FWHM_PER_SIGMA, gaussianPsf } from '../../../core/imaging.js';

export const psfGaussianParams = z
  .strictObject({
    sigmaPx: z.number().positive().max(1000).optional().describe('Standard deviation, px (give this, or fwhmUm with pixelSizeUm)'),
    fwhmUm: z.number().positive().max(10000).optional().describe('Full width at half maximum, µm (needs pixelSizeUm); σ = FWHM / (2√(2 ln 2))'),
    pixelSizeUm: z.number().positive().max(1000).optional().describe('Pixel size, µm: converts fwhmUm and calibrates the output'),
    size: z.number().int().positive().max(65535).optional().describe('PSF width and height, px (odd); default 2·ceil(4σ) + 1'),
  })
  .superRefine((p, ctx) => {
    if ((p.sigmaPx === undefined) === (p.fwhmUm === undefined)) ctx.addIssue({ code: 'custom', path: ['sigmaPx'], message: 'give exactly one of sigmaPx and fwhmUm' });
    if (p.fwhmUm !== undefined && p.pixelSizeUm === undefined) ctx.addIssue({ code: 'custom', path: ['pixelSizeUm'], message: 'fwhmUm needs pixelSizeUm' });
    if (p.size !== undefined && p.size % 2 === 0) ctx.addIssue({ code: 'custom', path: ['size'], message: 'size must be odd' });
  });

export const psfGaussian = defineOperation({
  id: 'optics.psf-gaussian',
  title: 'Gaussian PSF',
  description: 'Isotropic 2D Gaussian PSF sampled at pixel centres, centred, unit sum.',
  inputs: {},
  outputs: { psf: { type: 'stack', description: 'float32 PSF, one plane' } },
  params: psfGaussianParams,
  run(ctx, _inputs, params) {
    // the schema's refinement guarantees one of sigmaPx and fwhmUm (the latter with pixelSizeUm), and an odd size
    const sigmaPx = params.sigmaPx ?? params.fwhmUm! / FWHM_PER_SIGMA / params.pixelSizeUm!;
    const size = params.size ?? 2 * Math.ceil(4 * sigmaPx) + 1;
    // float64 work values plus the float32 plane, per pixel of the window.
    assertParamAllocation(params.size !== undefined ? 'size' : params.sigmaPx !== undefined ? 'sigmaPx' : 'fwhmUm', size * size * 12, `a ${size}×${size}-px PSF`);
    const psf = gaussianPsf({ sigmaPx, sizePx: size });
    ctx.progress(1);
    const cal = params.pixelSizeUm !== undefined ? { pixelWidthUm: params.pixelSizeUm, pixelHeightUm: params.pixelSizeUm } : {};
    return {
      psf: createStack({ width: size, height: size, dtype: 'float32', planes: [psf], calibration: cal, metadata: { psf: { model: 'gaussian', sigmaPx } } }),
    };
  },
});
