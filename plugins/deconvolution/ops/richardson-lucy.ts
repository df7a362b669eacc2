import { defineOperation, z } from '../../../core/index.js';
import { MAX_TV_LAMBDA } from '../engine.js';
import { commonFields, commonInputs, commonOutputs, deconvolutionTiling, deconvolveStack } from './common.js';

export const richardsonLucyParams = z.strictObject({
  ...commonFields,
  tvLambda: z
    .number()
    .min(0)
    .max(MAX_TV_LAMBDA)
    .default(0)
    .describe(`Total-variation regularisation weight λ (RL-TV, Dey et al. 2006), 0…${MAX_TV_LAMBDA}; 0 = plain Richardson–Lucy; try 0.002–0.03 for noisy images`),
});

export const richardsonLucyOp = defineOperation({
  id: 'deconvolution.richardson-lucy',
  title: 'Richardson–Lucy deconvolution',
  description:
    'Richardson–Lucy deconvolution (optionally RL-TV) with a given PSF, 2D or 3D, FFT-based with mirrored, tapered padding; float32 out. With a reference, reports PSNR/SSIM per iteration (as DeconvolutionLab2 -stats).',
  inputs: commonInputs,
  outputs: commonOutputs,
  params: richardsonLucyParams,
  run(ctx, inputs, params) {
    return deconvolveStack(ctx, inputs, params, 'rl', { tvLambda: params.tvLambda });
  },
  tiling: (params, _input, others) => deconvolutionTiling(params, others),
});
