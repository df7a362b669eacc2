import { defineOperation, z } from '../../../core/index.js';
import { commonFields, commonInputs, commonOutputs, deconvolutionTiling, deconvolveStack } from './common.js';

export const landweberParams = z.strictObject({
  ...commonFields,
  step: z
    .number()
    .gt(0)
    .lt(2)
    .default(1)
    .describe('Gradient step γ relative to the unit-sum PSF (γ / max|OTF|²; max|OTF| = 1 for a non-negative PSF), 0 < step < 2; Deep-R used 0.1 in DeconvolutionLab2'),
  nonNegative: z.boolean().default(true).describe('Clip negative values to 0 after every iteration (projected Landweber)'),
});

export const landweberOp = defineOperation({
  id: 'deconvolution.landweber',
  title: 'Landweber deconvolution',
  description:
    'Landweber (projected gradient) deconvolution with a given PSF, 2D or 3D, FFT-based with mirrored, tapered padding; float32 out. With a reference, reports PSNR/SSIM per iteration.',
  inputs: commonInputs,
  outputs: commonOutputs,
  params: landweberParams,
  run(ctx, inputs, params) {
    return deconvolveStack(ctx, inputs, params, 'landweber', { step: params.step, nonNegative: params.nonNegative });
  },
  tiling: (params, _input, others) => deconvolutionTiling(params, others),
});
