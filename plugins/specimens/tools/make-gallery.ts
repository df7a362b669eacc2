/**
 * Makes plugins/specimens/docs/gallery.png: every specimen family (seed 1, 256 × 256 px, 0.325 µm
 * pixels, defaults drawn from the seed) in focus (left of each pair) and 2 µm out of focus
 * through the optics model (right: Born & Wolf, 0.75 NA, 0.53 µm, Poisson–Gaussian noise at
 * the rendered photon budget, 2 e⁻ read noise). Fluorescence tiles are auto-contrasted per
 * pair (0.35 % saturated); brightfield tiles show transmitted light / illumination.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/make-specimens-gallery.js [out.png] [seed]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { autoContrastRange, createStack, writePng } from '../../../core/index.js';
import { defocusSeries } from '../../../core/imaging.js';
import { FAMILIES, renderSpecimen } from '../../../core/specimens.js';

const N = 256;
const GAP = 6;
const PAIRS_PER_ROW = 3;
const OPTICS = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325 };

export async function makeGallery(outPath: string, seed = 1): Promise<string[]> {
  const rows = Math.ceil(FAMILIES.length / PAIRS_PER_ROW);
  const W = PAIRS_PER_ROW * (2 * N + GAP) + (PAIRS_PER_ROW - 1) * 3 * GAP;
  const H = rows * N + (rows - 1) * 3 * GAP;
  const rgb = [0, 1, 2].map(() => new Uint8Array(W * H).fill(255));
  const order: string[] = [];
  FAMILIES.forEach((fam, k) => {
    const ox = (k % PAIRS_PER_ROW) * (2 * N + 4 * GAP);
    const oy = Math.floor(k / PAIRS_PER_ROW) * (N + 3 * GAP);
    const r = renderSpecimen({ family: fam.name, widthPx: N, heightPx: N, pixelSizeUm: OPTICS.pixelSizeUm, seed });
    order.push(fam.name);
    const put = (tile: number, chans: ArrayLike<number>[], lo: number, hi: number): void => {
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
        const o = (oy + y) * W + ox + tile * (N + GAP) + x;
        for (let c = 0; c < 3; c++) {
          const v = chans[chans.length === 3 ? c : 0][y * N + x];
          rgb[c][o] = Math.max(0, Math.min(255, Math.round((255 * (v - lo)) / (hi - lo || 1))));
        }
      }
    };
    if (r.modality === 'fluorescence') {
      const [blurred] = defocusSeries(r.image, N, N, { ...OPTICS, defocusUm: [2], photons: Math.max(...r.image), readNoiseE: 2, seed });
      const [lo, hi] = autoContrastRange(r.image, 0.35);
      put(0, [r.image], lo, hi);
      const [lo2, hi2] = autoContrastRange(blurred.image, 0.35);
      put(1, [blurred.image], lo2, hi2);
    } else {
      put(0, r.rgb, 0, r.peakPhotons);
      const blurred = r.rgb.map((ch) => defocusSeries(ch, N, N, { ...OPTICS, defocusUm: [2] })[0].image);
      put(1, blurred, 0, r.peakPhotons);
    }
  });
  await writePng(outPath, createStack({ width: W, height: H, dtype: 'uint8', sizeC: 3, rgb: true, planes: rgb }), { mkdir: true });
  return order;
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(here, '..', '..', '..', '..', 'plugins', 'specimens', 'docs', 'gallery.png');
  const t0 = Date.now();
  const order = await makeGallery(out, Number(process.argv[3] ?? 1));
  console.log(`${out}: ${order.join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
