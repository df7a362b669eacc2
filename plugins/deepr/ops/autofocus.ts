import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineOperation, z } from '../../../core/index.js';
import { DEMO_MODEL, loadDeepRPackage, resolveModelDir } from '../package.js';
import { runPlanes } from './run-model.js';
import { deeprGeneratorOptions } from '../model.js';
import { inferenceWorkingBytes, modelGrid, unetActivationFloats, type ModelGrid } from '../../../core/ml.js';
import { SAFETY_MODES, withSafety } from '../safety.js';

export const modelParams = {
  model: z.string().min(1).default(DEMO_MODEL).describe(`Model package folder, or the name of a bundled model (default '${DEMO_MODEL}')`),
  tileSize: z.number().int().positive().max(65536).optional().describe("Tile side, px (multiple of the model's multipleOf, 32); default: the package's tilePx"),
  overlapPx: z.number().int().nonnegative().max(32768).optional().describe("Halo of context on each tile side, px; default: the package's haloPx"),
  engine: z.enum(['auto', 'onnxruntime', 'tfjs']).default('auto').describe("Inference engine: 'auto' (onnxruntime when the package has ONNX weights, else tfjs)"),
  ensemble: z
    .enum(['none', 'dihedral8'])
    .optional()
    .describe("'none': one pass; 'dihedral8': the mean of the outputs over the 8 flips/rotations (8× the time). Default: the model package's extra.ensemble, else 'none'"),
  resample: z
    .enum(['auto', 'always', 'off'])
    .default('auto')
    .describe("When the image's calibration gives another pixel size than the model's (by more than 10 %, at most 4×). 'auto': pixels up to 2× coarser or less than 2× finer are fed as they are (measured: level with resampling there, and +1.1 to +3.2 dB over the input, plugins/deepr/docs/pixel-size.md); otherwise the image is processed on the model's pixel grid (resampled, cubic spline, anti-aliased where it shrinks) and the result resampled back to the image's pixels. 'always': on the model's grid whenever the sizes differ. 'off': fed as it is, with a warning outside that range. An image without a calibration is fed as it is"),
};

/** Up to this factor coarser than the model's pixels, or less than it finer, a Deep-R op feeds an image as it is under `resample: 'auto'` (plugins/deepr/docs/pixel-size.md). */
export const FED_AS_IS_RATIO = 2;

/**
 * What a Deep-R op does about its input's pixel size (core's `modelGrid`; see the `resample`
 * param): 'auto' and 'off' take an image up to {@link FED_AS_IS_RATIO}× coarser than the model's
 * pixels, or less than that finer, as it is.
 */
export function deeprGrid(calibration: Parameters<typeof modelGrid>[0], model: { name: string; pixelSizeUm: number }, mode: 'auto' | 'always' | 'off', what: 'autofocus' | 'map'): ModelGrid {
  const verb = what === 'autofocus' ? 'refocused' : 'mapped';
  const back = what === 'autofocus' ? 'the result is resampled back to its pixels' : 'the map is resampled back to its pixels';
  const px = calibration?.pixelWidthUm ?? calibration?.pixelHeightUm;
  const ratio = px !== undefined && px > 0 && model.pixelSizeUm > 0 ? px / model.pixelSizeUm : 1;
  // up to 2× coarser, or less than 2× finer: at 2× finer a 2.5 µm defocus already spans as many
  // pixels as the ±5 µm the demo model was trained on (measured: +1.45 dB on the grid at 3 µm)
  const near = ratio <= FED_AS_IS_RATIO * (1 + 1e-9) && 1 / ratio < FED_AS_IS_RATIO * (1 - 1e-9);
  const grid = modelGrid(calibration, 'image', model, mode === 'off' ? 'off' : 'auto', { subject: 'the image is', verb, back });
  if (grid.message === undefined || mode === 'always' || !near) return grid;
  // within 2×: as it is, with a line that says so (and no warning: measured, it is level with resampling)
  return { scale: 1, message: { level: 'info', text: `image: ${px} µm pixels (its calibration); ${model.name} was trained on ${model.pixelSizeUm} µm pixels: within ${FED_AS_IS_RATIO}× of it the image is ${verb} as it is (resample '${mode}'; measured level with resampling there, plugins/deepr/docs/pixel-size.md; 'always' resamples)` } };
}

/** Pixels a tile's halo gains when it is resampled onto the model's grid: the cubic spline's reach and the anti-aliasing Gaussian's tail. */
const RESAMPLE_MARGIN_PX = 8;

export const autofocus = defineOperation({
  id: 'deepr.autofocus',
  title: 'Deep-R autofocus',
  description:
    'Single-shot autofocusing (Luo et al., Deep-R): a trained U-Net maps a defocused fluorescence image to an in-focus one. Each plane is normalised to zero mean and unit variance, processed in overlapping tiles, and mapped back to the plane\'s mean and standard deviation (float32).',
  inputs: { image: { type: 'stack', description: 'Defocused image (a stack is processed plane by plane), one fluorescence channel per plane' } },
  outputs: { image: { type: 'stack', description: 'float32: the autofocused planes, same layout, calibration and metadata' } },
  params: z.strictObject({
    ...modelParams,
    // safety hook (issue 17, plugins/deepr/safety.ts)
    planeMean: z.number().min(-1e12).max(1e12).optional().describe("Standardise with this mean instead of each plane's own (with planeStd). A streamed run (focal run on a slide) passes the whole plane's, so tiles match the whole"),
    planeStd: z.number().positive().max(1e12).optional().describe("Standardise with this σ instead of each plane's own (with planeMean)"),
    safety: z.enum(SAFETY_MODES).default('off').describe("Default 'off' for now (see docs/deepr.md). 'consistency': blur the output by the best-fitting defocus and compare with the input; return the input when it is already in focus, blend towards it when the output does not explain it. 'off': the raw network output"),
  }),
  planeStatistics: { meanParam: 'planeMean', stdParam: 'planeStd' },
  // Tile by tile only with the whole plane's statistics (else each tile would be standardised by
  // its own) and without the safety check (it fits a defocus to the whole plane); the halo is the
  // package's context (haloPx). Pieces differ from the whole-plane result near piece borders
  // within the network's receptive field (measured in plugins/deepr/ops/autofocus-tiled.test.ts).
  tiling(params, input) {
    if (params.planeMean === undefined || params.planeStd === undefined || params.safety !== 'off') return undefined;
    const m = JSON.parse(readFileSync(join(resolveModelDir(params.model ?? DEMO_MODEL), 'manifest.json'), 'utf8')) as { name: string; pixelSizeUm: number; haloPx: number; tilePx: number; extra?: { baseChannels?: number; levels?: number } };
    // on another pixel grid the network's halo spans 1/scale as many of the image's pixels, plus
    // a margin for the resampling's spline and anti-aliasing
    const { scale } = deeprGrid(input.calibration, m, params.resample ?? 'auto', 'autofocus');
    const haloPx = scale === 1 ? (params.overlapPx ?? m.haloPx) : Math.ceil((params.overlapPx ?? m.haloPx) / scale) + RESAMPLE_MARGIN_PX;
    // the network's session and one network tile's tensors (bench/network-memory.ts)
    const net = typeof m.extra?.baseChannels === 'number' && typeof m.extra.levels === 'number' ? deeprGeneratorOptions({ baseChannels: m.extra.baseChannels, levels: m.extra.levels }) : undefined;
    const workingBytes = inferenceWorkingBytes({ activationFloats: net ? unetActivationFloats(net) : 0, tilePx: params.tileSize ?? m.tilePx });
    return { haloPx, dtype: 'float32', workingBytes };
  },
  async run(ctx, { image }, params) {
    const dir = resolveModelDir(params.model ?? DEMO_MODEL);
    const { autofocus: pkg } = await loadDeepRPackage(dir);
    const grid = deeprGrid(image.calibration, pkg.manifest, params.resample ?? 'auto', 'autofocus');
    if (grid.message) ctx.log[grid.message.level](grid.message.text);
    ctx.log.debug('deepr.autofocus', { model: dir, name: pkg.manifest.name, engine: params.engine });
    const out = await runPlanes(ctx, image, pkg, { tileSize: params.tileSize, overlapPx: params.overlapPx, engine: params.engine ?? 'auto', ensemble: params.ensemble ?? pkg.manifest.extra.ensemble ?? 'none', planeMean: params.planeMean, planeStd: params.planeStd, scale: grid.scale }, true);
    return { image: params.safety === 'off' ? out : await withSafety(image, out, {}, ctx.signal) };
  },
});
