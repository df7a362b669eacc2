/**
 * The bundled sample: one simulated Cell-Painting field (192² px at 0.645 µm, the five channels
 * DAPI, GFP, Cy3, TxRed, Cy5 as a named 5-channel 16-bit OME-TIFF, which keeps the channel names), seed 300 001 — outside the
 * training (1…), validation (100 001…) and test (200 001…) seeds.
 *   npx tsc -p tsconfig.build.json && node dist/plugins/virfluonet/tools/make-sample.js
 */
import { createStack, writeTiff } from '../../../core/index.js';
import { renderMultiChannel } from '../../../core/specimens.js';

export const SAMPLE_SEED = 300_001;
const r = renderMultiChannel({ family: 'cell-painting', widthPx: 192, heightPx: 192, seed: SAMPLE_SEED });
const stack = createStack({
  width: r.width, height: r.height, dtype: 'uint16', sizeC: r.channels.length, planes: r.channels.map((c) => c.image as Uint16Array),
  channelNames: r.channels.map((c) => c.name), calibration: { pixelWidthUm: r.pixelSizeUm, pixelHeightUm: r.pixelSizeUm },
  metadata: { specimen: { family: r.family, seed: SAMPLE_SEED, na: r.na, refractiveIndex: r.refractiveIndex, stains: r.channels.map((c) => `${c.name}: ${c.stains}`) } },
});
await writeTiff('plugins/virfluonet/samples/cell-painting-field.ome.tif', stack, { mkdir: true, ome: { name: 'cell-painting-field' } });
console.log(`wrote plugins/virfluonet/samples/cell-painting-field.ome.tif (${r.channels.map((c) => c.name).join(', ')}, ${r.width}×${r.height})`);
