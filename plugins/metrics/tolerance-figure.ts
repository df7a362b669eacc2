/**
 * Makes docs/img/tolerance-index.png: the three readings of VirFluoNet's tolerance-level index on
 * one synthetic pair (8-bit, 256 × 256 px): a sparse ground truth of elongated plaques (about 5 %
 * of the field, like vinculin) on a dim background, and a "prediction" that blurs the plaques,
 * misses a few, adds a few false ones and noise. Prints each variant's tolerance level and index.
 *
 *   npm run build && node dist/plugins/metrics/tolerance-figure.js [out.png]
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32, renderLinePlot, type Series } from '../../core/index.js';
import { gaussianBlur2d } from '../../core/imaging.js';
import { otsuThreshold, TOLERANCE_VARIANTS, toleranceIndex } from './tolerance-index.js';

const SIZE = 256;

function plaques(rng: () => number, count: number): Float32Array {
  const img = new Float32Array(SIZE * SIZE);
  for (let k = 0; k < count; k++) {
    const cx = rng() * SIZE;
    const cy = rng() * SIZE;
    const angle = rng() * Math.PI;
    const len = 4 + 8 * rng();
    const peak = 120 + 120 * rng();
    for (let s = -len; s <= len; s += 0.5) {
      for (let w = -1.5; w <= 1.5; w += 0.5) {
        const x = Math.round(cx + s * Math.cos(angle) - w * Math.sin(angle));
        const y = Math.round(cy + s * Math.sin(angle) + w * Math.cos(angle));
        if (x >= 0 && y >= 0 && x < SIZE && y < SIZE) img[y * SIZE + x] = Math.max(img[y * SIZE + x], peak);
      }
    }
  }
  return img;
}

export function tolerancePair(seed: number): { truth: Uint8Array; prediction: Uint8Array } {
  const rng = mulberry32(seed);
  const truePlaques = plaques(rng, 60);
  const falsePlaques = plaques(rng, 8);
  const truthF = gaussianBlur2d(truePlaques, SIZE, SIZE, 0.8, 0.8);
  const missed = plaques(rng, 10); // plaques the prediction drops where they overlap true ones
  const predF = gaussianBlur2d(Float32Array.from(truePlaques, (v, i) => (missed[i] > 0 ? 0 : 0.8 * v) + falsePlaques[i]), SIZE, SIZE, 1.6, 1.6);
  const q = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  const truth = Uint8Array.from(truthF, (v) => q(8 + v + 3 * (rng() - 0.5)));
  const prediction = Uint8Array.from(predF, (v) => q(8 + v + 6 * (rng() - 0.5)));
  return { truth, prediction };
}

export function makeToleranceFigure(outPath: string): string[] {
  const { truth, prediction } = tolerancePair(20);
  const signalThreshold = otsuThreshold(truth);
  const colours: [number, number, number][] = [[31, 119, 180], [214, 39, 40], [44, 160, 44]];
  const lines: string[] = [];
  const series: Series[] = TOLERANCE_VARIANTS.map((variant, k) => {
    const r = toleranceIndex(prediction, truth, { fullScale: 255, variant, signalThreshold });
    lines.push(`${variant}: TL = ${r.levelAtMinPercent} % (t = ${r.tolerance[r.argmin].toFixed(2)}), index = ${r.indexValue.toFixed(4)}; max |D| = ${r.maxError}, MAE = ${r.mae.toFixed(3)}, signal > ${signalThreshold.toFixed(1)}: ${(100 * r.signalFraction!).toFixed(1)} % of the field, mean ${r.signalMean!.toFixed(1)}`);
    return { label: variant, colour: colours[k], x: Array.from(r.levelPercent), y: Array.from(r.sum) };
  });
  writeFileSync(outPath, renderLinePlot(series, 720, 420, { xTitle: 'tolerance (% of 255)', yTitle: 'S = IE + SE (unitless, log scale)', markers: false }));
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const here = dirname(fileURLToPath(import.meta.url));
  const out = process.argv[2] ?? join(here, '..', '..', '..', 'docs', 'img', 'tolerance-index.png');
  for (const line of makeToleranceFigure(out)) console.log(line);
  console.log(`wrote ${out}`);
}
