/**
 * In-focus training sources for Deep-R drawn from the specimen library (core/specimens), for
 * `focal train deepr --synthetic`: one uint16 plane per field, `--fields` fields per family,
 * each family rendered with its own seeds (training seeds start at 1000, validation seeds at
 * 2000, so no field is shared). Brightfield (H&E) families contribute their green transmitted
 * channel, inverted so that stain is bright as in fluorescence.
 *
 * The families named by `--families` are the ones a model may be trained on; the generalisation
 * evaluation (scripts/evaluate-deepr-generalisation.ts, HELD_OUT there) scores families that
 * are never in this list.
 *
 *   node dist/plugins/deepr/tools/make-library-sources.js --out <dir> [--families a,b,…] [--fields 4] [--size 384]
 *
 * Writes <out>/library-train.tif and <out>/library-validation.tif.
 */
import { join, resolve } from 'node:path';
import { createStack, FocalError, writeTiff } from '../../../core/index.js';
import { renderSpecimen } from '../../../core/specimens.js';

/** Families Deep-R's demo model trains on; the rest of the library is kept for evaluation. */
export const TRAINING_FAMILIES = ['nuclei', 'cells', 'membranes', 'mitochondria', 'puncta', 'beads', 'tissue', 'he-skin'];
const PIXEL_UM = 0.325;
const PEAK = 4000;

/** One in-focus plane of `family`, scaled so its brightest pixel is {@link PEAK}. */
export function libraryPlane(family: string, sizePx: number, seed: number): Uint16Array {
  const r = renderSpecimen({ family, widthPx: sizePx, heightPx: sizePx, pixelSizeUm: PIXEL_UM, seed });
  let plane: Float32Array;
  if (r.modality === 'fluorescence') plane = r.image;
  else {
    // transmitted light: stain absorbs, so 1 − T makes stained structure bright (emitter-like)
    const green = r.rgb[1];
    let max = 0;
    for (const v of green) max = Math.max(max, v);
    plane = Float32Array.from(green, (v) => Math.max(0, max - v));
  }
  let peak = 0;
  for (const v of plane) peak = Math.max(peak, v);
  if (!(peak > 0)) throw new FocalError('E_ARGUMENT', `family '${family}' seed ${seed}: the rendered field is empty`, { field: 'family' });
  return Uint16Array.from(plane, (v) => Math.round((v / peak) * PEAK));
}

async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const out = arg('--out');
  if (!out) throw new FocalError('E_USAGE', '--out <dir> is required');
  const families = (arg('--families') ?? TRAINING_FAMILIES.join(',')).split(',');
  const fields = Number(arg('--fields') ?? 4);
  const size = Number(arg('--size') ?? 384);
  for (const [name, seed0, n] of [['library-train', 1000, fields], ['library-validation', 2000, 1]] as const) {
    const planes: Uint16Array[] = [];
    for (const family of families) for (let k = 0; k < n; k++) planes.push(libraryPlane(family, size, seed0 + k));
    const file = join(resolve(out), `${name}.tif`);
    await writeTiff(file, createStack({ width: size, height: size, dtype: 'uint16', sizeZ: planes.length, planes, calibration: { pixelWidthUm: PIXEL_UM, pixelHeightUm: PIXEL_UM } }), { mkdir: true });
    process.stdout.write(`${file}: ${planes.length} planes (${families.join(', ')})\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
