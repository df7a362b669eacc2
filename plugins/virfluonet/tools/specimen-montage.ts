/**
 * Looks at the multi-channel specimen families: one field of each, every channel, PNG.
 *   node dist/plugins/virfluonet/tools/specimen-montage.js [outDir]
 */
import { join } from 'node:path';
import { renderMultiChannel } from '../../../core/specimens.js';
import { writeMontage } from '../figures.js';

const out = process.argv[2] ?? 'plugins/virfluonet/docs/img';
for (const [family, size] of [['cell-painting', 256], ['mda-mb-231', 384]] as const) {
  const t0 = Date.now();
  const r = renderMultiChannel({ family, widthPx: size, heightPx: size, seed: 5 });
  console.log(`${family}: ${size}² in ${Date.now() - t0} ms, ${r.truth.stainGain.length} cells, ${r.truth.fibres.length} fibres, ${r.truth.plaques.length} plaques`);
  await writeMontage(join(out, `specimen-${family}.png`), r.channels.map((c) => ({ data: c.image, width: r.width, height: r.height })), r.channels.length);
}
