/**
 * The bundled samples of the staining pipelines (plugins/staining/samples/), from source:
 *   npx tsc -p tsconfig.build.json && node dist/plugins/staining/tools/make-sample.js plugins/staining/samples
 * One held-out lung-like field (seed outside every training range), 192 × 192 px at 0.1625 µm:
 * its two-channel autofluorescence in focus and at +1.5 µm defocus (photo-electrons, float32),
 * and its true H&E (uint8 RGB).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, writeTiff } from '../../../core/index.js';
import { renderLungAutofluorescence, renderLungHE, renderLungTissue } from '../../../core/specimens.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] ?? join(here, '..', 'samples');
const SIZE = 192;
const PX = 0.1625;
const t = renderLungTissue({ width: SIZE, height: SIZE, pixelSizeUm: PX }, {}, 987_654);
const calibration = { pixelWidthUm: PX, pixelHeightUm: PX };
for (const [name, d] of [['staining-af-infocus', 0], ['staining-af-defocus-1p5um', 1.5]] as const) {
  const planes = renderLungAutofluorescence(t, { defocusUm: d, seed: 4242 });
  await writeTiff(join(out, `${name}.tif`), createStack({ width: SIZE, height: SIZE, dtype: 'float32', sizeC: 2, planes, channelNames: ['DAPI', 'TxRed'], calibration }));
}
const rgb = renderLungHE(t).map((p) => Uint8Array.from(p, (v) => Math.round(255 * Math.min(1, Math.max(0, v)))));
await writeTiff(join(out, 'staining-he-truth.tif'), createStack({ width: SIZE, height: SIZE, dtype: 'uint8', sizeC: 3, rgb: true, planes: rgb, channelNames: ['R', 'G', 'B'], calibration }));
console.log(`wrote samples to ${out}`);
