import { defineOperation, z } from '../../../core/index.js';
import { DEMO_MODEL, loadDeepRPackage, resolveModelDir } from '../package.js';
import { deeprGrid, modelParams } from './autofocus.js';
import { runPlanes } from './run-model.js';

export const defocusMapOp = defineOperation({
  id: 'deepr.defocus-map',
  title: 'Deep-R defocus map (DPM)',
  description:
    "Per-pixel defocus distance (µm) of a fluorescence image, from the frozen Deep-R encoder and a trained DPM decoder (Luo et al., Fig. 7); needs a model package with a DPM decoder (manifest extra.dpm).",
  inputs: { image: { type: 'stack', description: 'Defocused image (a stack is processed plane by plane)' } },
  outputs: { map: { type: 'stack', description: "float32: defocus distance per pixel, µm: signed Δz, or |Δz| when the DPM manifest's extra.dpmTarget is 'absolute' (models trained on synthetic, symmetric-PSF data)" } },
  params: z.strictObject(modelParams),
  async run(ctx, { image }, params) {
    const dir = resolveModelDir(params.model ?? DEMO_MODEL);
    const { dpm } = await loadDeepRPackage(dir, { dpm: true });
    const grid = deeprGrid(image.calibration, dpm!.manifest, params.resample ?? 'auto', 'map');
    if (grid.message) ctx.log[grid.message.level](grid.message.text);
    return { map: await runPlanes(ctx, image, dpm!, { tileSize: params.tileSize, overlapPx: params.overlapPx, engine: params.engine ?? 'auto', ensemble: params.ensemble, scale: grid.scale }, false) };
  },
});
