import { defineOperation, z } from '../../../core/index.js';
import { createInferenceEngine, loadModelPackage, pixelSizeMismatch, resolveModelDir } from '../../../core/ml.js';
import { stainField } from '../stain.js';
import { afChannels, channelStatistics, checkTiling, DEMO_STAINING, givenStatistics, manifestTiling, networksWorkingBytes, rgbStack, stainingTiling, tilingParams } from './common.js';

export const virtualHe = defineOperation({
  id: 'staining.virtual-he',
  title: 'Virtual H&E staining',
  description:
    'Virtual H&E staining of a label-free two-channel autofluorescence field (DAPI and TxRed cubes): each channel is normalised to zero mean and unit variance (by the field\'s own statistics, or by channelMean/channelStd: a streamed slide\'s), the staining network G_VS predicts Y, Cb, Cr (BT.601) in overlapping tiles with blended seams, and the result is converted to RGB. Trained on in-focus fields; defocused input needs staining.cascade.',
  inputs: { image: { type: 'stack', description: 'Two-channel autofluorescence field (channel 0 DAPI, channel 1 TxRed), one plane' } },
  outputs: { image: { type: 'stack', description: 'Virtual H&E, RGB (uint8, or float32 in [0, 1])' } },
  params: z.strictObject({
    model: z.string().min(1).default(DEMO_STAINING).describe(`Staining model package folder, or a bundled model's name (default '${DEMO_STAINING}')`),
    ...tilingParams,
  }),
  planeStatistics: channelStatistics,
  // Streamed slide by slide only with the channels' statistics given (the streamer measures them);
  // pieces reproduce the whole field's network tiles, so the result is the whole-field one.
  tiling(params, input) {
    if (!givenStatistics(params) || (input.sizeC !== undefined && input.sizeC !== 2)) return undefined;
    const m = manifestTiling(params.model ?? DEMO_STAINING, 'model');
    const dtype = params.outputType ?? 'uint8';
    const tilePx = params.tileSize ?? m.tilePx;
    return stainingTiling({ tilePx, haloPx: params.overlapPx ?? m.haloPx, multipleOf: m.multipleOf, workingBytes: networksWorkingBytes([m.activationFloats], tilePx) }, { dtype, channels: 3, rgb: dtype === 'uint8', names: ['R', 'G', 'B'] });
  },
  async run(ctx, { image }, params) {
    const af = afChannels(image);
    const pkg = await loadModelPackage(resolveModelDir(params.model ?? DEMO_STAINING, { field: 'model' }));
    const m = pkg.manifest;
    const mismatch = pixelSizeMismatch(image.calibration, m, 'image');
    if (mismatch) ctx.log.warn(mismatch);
    const tilePx = params.tileSize ?? m.tilePx;
    const haloPx = params.overlapPx ?? m.haloPx;
    checkTiling(tilePx, haloPx, m.multipleOf ?? 1);
    const engine = await createInferenceEngine(pkg, { engine: params.engine ?? 'auto' });
    try {
      const r = await stainField(af, image.width, image.height, engine, { tilePx, haloPx, multipleOf: m.multipleOf ?? 1, signal: ctx.signal, onProgress: (f) => ctx.progress(f), statistics: givenStatistics(params), keep: ctx.keep });
      return { image: rgbStack(r.rgb, image.width, image.height, params.outputType ?? 'uint8', image.calibration) };
    } finally {
      await engine.dispose();
    }
  },
});
