import { defineOperation, z } from '../../../core/index.js';
import { pixelSizeMismatch, resolveModelDir } from '../../../core/ml.js';
import { openCascade } from '../package.js';
import { cascadeField, refocusField } from '../stain.js';
import { afChannels, channelStatistics, checkTiling, DEMO_CASCADE, DEMO_STAINING, givenStatistics, manifestTiling, networksWorkingBytes, rgbStack, stainingTiling, tilingParams } from './common.js';
import { createStack } from '../../../core/index.js';

export const cascade = defineOperation({
  id: 'staining.cascade',
  title: 'Refocus and stain (Deep-R + virtual staining cascade)',
  description:
    "Virtual H&E of a coarsely focused (defocused) two-channel autofluorescence field: the cascade's Deep-R network G_DR refocuses the normalised channels, then the staining network G_VS it was trained against (style loss) stains them; both run on each tile of one tiled pass with blended seams, so any field size works. The cascade package names its staining package; a mismatched pair is refused.",
  inputs: { image: { type: 'stack', description: 'Two-channel autofluorescence field (channel 0 DAPI, channel 1 TxRed), one plane, defocused within about ±2 µm' } },
  outputs: {
    image: { type: 'stack', description: 'Virtual H&E, RGB (uint8, or float32 in [0, 1])' },
    refocused: { type: 'stack', description: 'The refocused autofluorescence (float32, normalised units: zero mean, unit variance per channel)' },
  },
  params: z.strictObject({
    cascade: z.string().min(1).default(DEMO_CASCADE).describe(`Cascade (G_DR) model package folder or bundled name (default '${DEMO_CASCADE}')`),
    model: z.string().min(1).default(DEMO_STAINING).describe(`The staining package the cascade was trained against (default '${DEMO_STAINING}')`),
    ...tilingParams,
  }),
  planeStatistics: channelStatistics,
  // Streamed only with the channels' statistics given (the streamer measures them); each output
  // port is assembled on its own (the H&E, or the refocused channels), from pieces that reproduce
  // the whole field's network tiles, so each equals the whole-field result.
  tiling(params, input) {
    if (!givenStatistics(params) || (input.sizeC !== undefined && input.sizeC !== 2)) return undefined;
    const c = manifestTiling(params.cascade ?? DEMO_CASCADE, 'cascade');
    const s = manifestTiling(params.model ?? DEMO_STAINING, 'model');
    const tilePx = params.tileSize ?? c.tilePx;
    const t = { tilePx, haloPx: params.overlapPx ?? Math.max(c.haloPx, s.haloPx), multipleOf: Math.max(c.multipleOf, s.multipleOf), workingBytes: networksWorkingBytes([c.activationFloats, s.activationFloats], tilePx) };
    if (input.output === 'refocused') return { ...stainingTiling(t, { dtype: 'float32', channels: 2, rgb: false, names: ['DAPI', 'TxRed'] }), output: 'refocused' };
    const dtype = params.outputType ?? 'uint8';
    return { ...stainingTiling(t, { dtype, channels: 3, rgb: dtype === 'uint8', names: ['R', 'G', 'B'] }), output: 'image' };
  },
  async run(ctx, { image }, params) {
    const af = afChannels(image);
    const c = await openCascade(resolveModelDir(params.cascade ?? DEMO_CASCADE, { field: 'cascade' }), resolveModelDir(params.model ?? DEMO_STAINING, { field: 'model' }), params.engine ?? 'auto');
    try {
      for (const m of [c.cascade.manifest, c.staining.manifest]) {
        const mismatch = pixelSizeMismatch(image.calibration, m, 'image');
        if (mismatch) ctx.log.warn(mismatch);
      }
      const multipleOf = Math.max(c.cascade.manifest.multipleOf ?? 1, c.staining.manifest.multipleOf ?? 1);
      const tilePx = params.tileSize ?? c.cascade.manifest.tilePx;
      const haloPx = params.overlapPx ?? Math.max(c.cascade.manifest.haloPx, c.staining.manifest.haloPx);
      checkTiling(tilePx, haloPx, multipleOf);
      const tiling = { tilePx, haloPx, multipleOf, signal: ctx.signal, statistics: givenStatistics(params), keep: ctx.keep };
      // an output nobody uses (a streamed run assembles one port at a time) is not computed
      const wantRefocused = ctx.wants?.('refocused') ?? true;
      const wantImage = ctx.wants?.('image') ?? true;
      const share = wantRefocused && wantImage ? 0.5 : 1;
      const refocused = wantRefocused ? await refocusField(af, image.width, image.height, c.refocus, { ...tiling, onProgress: (f) => ctx.progress(share * f) }) : undefined;
      const r = wantImage ? await cascadeField(af, image.width, image.height, c.refocus, c.stain, { ...tiling, onProgress: (f) => ctx.progress(1 - share + share * f) }) : undefined;
      return {
        ...(r ? { image: rgbStack(r.rgb, image.width, image.height, params.outputType ?? 'uint8', image.calibration) } : {}),
        ...(refocused ? { refocused: createStack({ width: image.width, height: image.height, dtype: 'float32', sizeC: 2, planes: refocused, channelNames: ['DAPI', 'TxRed'], ...(image.calibration ? { calibration: image.calibration } : {}) }) } : {}),
      } as { image: ReturnType<typeof rgbStack>; refocused: ReturnType<typeof createStack> };
    } finally {
      await c.dispose();
    }
  },
});
