import { createStack, defineOperation, z } from '../../../core/index.js';
import { FAMILIES, renderSpecimen } from '../../../core/specimens.js';

const familyList = FAMILIES.map((f) => `${f.name} (${f.modality}: ${f.description}; params ${Object.keys(f.params).join(', ')})`).join('; ');

export const renderParams = z.strictObject({
  family: z.string().min(1).max(100).describe(`Specimen family: ${FAMILIES.map((f) => f.name).join(', ')}`),
  sizePx: z.number().int().min(8).max(4096).default(256).describe('Field width and height, px'),
  pixelSizeUm: z.number().min(0.01).max(10).default(0.325).describe('Pixel size in the sample, µm'),
  seed: z.number().int().min(0).max(4294967295).default(0).describe('Seed: same family, parameters and seed give the same object'),
  peakPhotons: z.number().positive().max(1e9).optional().describe('Fluorescence: photons at the brightest object pixel above background; brightfield: illumination photons per pixel. Default drawn in 100–20 000'),
  backgroundPhotons: z.number().min(0).max(1e9).optional().describe('Fluorescence: uniform background, photons per pixel. Default drawn in 0–5 % of peakPhotons'),
  params: z.record(z.string().max(100), z.number()).default({}).describe('Family parameters by name (ranges in plugins/specimens/docs/specimens.md and the family list); missing ones are drawn from the seed'),
});

export const renderOp = defineOperation({
  id: 'specimens.render',
  title: 'Render a specimen',
  description: `Renders a simulated in-focus specimen of a family (deterministic from family, params and seed; unspecified params randomised). Families: ${familyList}. Fluorescence output: expected photons per pixel (feed to optics.defocus with inputOffset 0). Brightfield: RGB transmitted photons (Beer–Lambert through all layers) and the per-layer stain absorbance.`,
  inputs: {},
  outputs: {
    image: { type: 'stack', description: 'float32 in-focus object: 1 channel of photons (fluorescence) or 3 RGB channels of transmitted photons (brightfield)' },
    layers: { type: 'stack', description: 'float32 layered object: brightfield, optical density per stain (channels hematoxylin, eosin) and layer (z, top first); fluorescence, the image as one layer' },
  },
  params: renderParams,
  run(ctx, _inputs, p) {
    const r = renderSpecimen({ family: p.family, widthPx: p.sizePx, heightPx: p.sizePx, pixelSizeUm: p.pixelSizeUm, seed: p.seed, peakPhotons: p.peakPhotons, backgroundPhotons: p.backgroundPhotons, params: p.params });
    ctx.progress(1);
    const calibration = { pixelWidthUm: p.pixelSizeUm, pixelHeightUm: p.pixelSizeUm };
    const metadata = { specimen: { family: r.family, modality: r.modality, seed: p.seed, peakPhotons: r.peakPhotons, params: r.params, ...(r.modality === 'fluorescence' ? { backgroundPhotons: r.backgroundPhotons } : {}) } };
    if (r.modality === 'fluorescence') {
      const image = createStack({ width: r.width, height: r.height, dtype: 'float32', planes: [r.image], calibration, metadata });
      return { image, layers: image };
    }
    const image = createStack({ width: r.width, height: r.height, dtype: 'float32', sizeC: 3, planes: r.rgb, calibration, channelNames: ['red', 'green', 'blue'], metadata });
    const s = r.section;
    const layers = createStack({
      width: r.width,
      height: r.height,
      dtype: 'float32',
      sizeC: s.stainNames.length,
      sizeZ: s.layers.length,
      planes: s.layers.flat(),
      calibration: { ...calibration, zStepUm: s.thicknessUm / s.layers.length },
      channelNames: s.stainNames,
      metadata: { specimen: { ...metadata.specimen, stainVectors: s.stainVectors, thicknessUm: s.thicknessUm, units: 'optical density (base 10)' } },
    });
    return { image, layers };
  },
});
