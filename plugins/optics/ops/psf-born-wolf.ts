import { createStack, defineOperation, FocalError, z } from '../../../core/index.js';
import { assertParamAllocation, bornWolfPsfStack, validateOptics } from '../../../core/imaging.js';

/** zStepUm of a list of defocus values when it is evenly spaced (≥ 2 values), else undefined. */
export function evenStep(values: number[]): number | undefined {
  if (values.length < 2) return undefined;
  const step = values[1] - values[0];
  if (step === 0) return undefined;
  for (let i = 2; i < values.length; i++) if (Math.abs(values[i] - values[i - 1] - step) > 1e-6 * Math.abs(step)) return undefined;
  return Math.abs(step);
}

export const opticsFields = {
  na: z.number().positive().max(2).describe('Numerical aperture of the objective (must be < refractiveIndex), e.g. 0.75 for a 20×/0.75 dry objective'),
  refractiveIndex: z.number().min(1).max(5).default(1).describe('Refractive index of the immersion medium (1.0 air, 1.33 water, 1.515 oil)'),
  wavelengthUm: z.number().positive().max(100).describe('Emission wavelength in vacuum, µm (e.g. 0.447 for DAPI emission)'),
};

export const psfBornWolfParams = z
  .strictObject({
    ...opticsFields,
    pixelSizeUm: z.number().positive().max(1000).describe('Pixel size in the sample plane, µm (e.g. 0.325 for Deep-R\'s 20× setup)'),
    defocusUm: z
      .union([z.number().min(-10000).max(10000), z.array(z.number().min(-10000).max(10000)).min(1)])
      .default(0)
      .describe('Defocus, µm: one value gives one plane, a list gives one plane per value (a 3D PSF when evenly spaced)'),
    size: z.number().int().positive().max(65535).default(65).describe('PSF width and height, px (odd)'),
    oversampling: z.number().int().min(1).max(15).default(3).describe('Sub-samples per pixel along x and y for pixel integration'),
  })
  .superRefine((p, ctx) => {
    if (p.na >= p.refractiveIndex) ctx.addIssue({ code: 'custom', path: ['na'], message: `na must be smaller than refractiveIndex (${p.refractiveIndex})` });
    if (p.size % 2 === 0) ctx.addIssue({ code: 'custom', path: ['size'], message: 'size must be odd (the PSF is centred on the middle pixel)' });
  });

export const psfBornWolf = defineOperation({
  id: 'optics.psf-born-wolf',
  title: 'Born & Wolf PSF',
  description:
    'Scalar Born & Wolf defocus PSF (TSVA paper, Eq. 1): Bessel integral by adaptive Gauss–Legendre quadrature, pixel-integrated, centred, each plane normalised to unit sum.',
  inputs: {},
  outputs: { psf: { type: 'stack', description: 'float32 PSF, size × size px, one z plane per defocus value' } },
  params: psfBornWolfParams,
  run(ctx, _inputs, params) {
    const optics = { na: params.na, refractiveIndex: params.refractiveIndex, wavelengthUm: params.wavelengthUm };
    const values = Array.isArray(params.defocusUm) ? params.defocusUm : [params.defocusUm];
    assertParamAllocation('size', params.size * params.size * 8 * values.length, `${values.length} plane(s) of ${params.size}×${params.size} px`);
    const planes = bornWolfPsfStack({ ...optics, pixelSizeUm: params.pixelSizeUm, sizePx: params.size, oversampling: params.oversampling, defocusUm: values });
    ctx.progress(1);
    const zStepUm = evenStep(values);
    return {
      psf: createStack({
        width: params.size,
        height: params.size,
        dtype: 'float32',
        sizeZ: planes.length,
        planes,
        calibration: { pixelWidthUm: params.pixelSizeUm, pixelHeightUm: params.pixelSizeUm, ...(zStepUm !== undefined ? { zStepUm } : {}) },
        metadata: { psf: { model: 'born-wolf', ...optics, pixelSizeUm: params.pixelSizeUm, defocusUm: values, oversampling: params.oversampling } },
      }),
    };
  },
});
