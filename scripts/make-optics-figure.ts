/**
 * Makes docs/img/optics-psf.png: top row, Born & Wolf PSFs of a 20×/0.75 NA dry objective
 * (λ = 0.447 µm, 0.325 µm pixels, Deep-R's DAPI setting) at 0, 1, 2 and 4 µm defocus, each
 * shown as √(h / max h) and enlarged 3× (41 × 41 px windows); bottom row, the sample's
 * in-focus nuclei (samples/cells-zstack.tif, c = 0, z = 5; 123 × 123 px crop) defocused by
 * the same amounts (noise-free, one shared grey scale).
 *
 *   node dist/plugins/optics/figure.js [sample.tif] [out.png]
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, readTiff, writePng } from '../core/index.js';
import { bornWolfPsfStack, defocusSeries } from '../core/imaging.js';

const SETTINGS = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.447, pixelSizeUm: 0.325 };
const DEFOCUS_UM = [0, 1, 2, 4];

export async function makeOpticsFigure(samplePath: string, outPath: string): Promise<void> {
  const panel = 123;
  const gap = 4;
  const W = DEFOCUS_UM.length * panel + (DEFOCUS_UM.length - 1) * gap;
  const H = 2 * panel + gap;
  const out = new Uint8Array(W * H).fill(255);
  const psfs = bornWolfPsfStack({ ...SETTINGS, sizePx: 41, defocusUm: DEFOCUS_UM });
  psfs.forEach((psf, k) => {
    const max = Math.max(...psf);
    for (let y = 0; y < panel; y++) {
      for (let x = 0; x < panel; x++) {
        const v = psf[Math.floor(y / 3) * 41 + Math.floor(x / 3)] / max;
        out[y * W + k * (panel + gap) + x] = Math.round(255 * Math.sqrt(Math.max(0, v)));
      }
    }
  });
  const stack = await readTiff(samplePath);
  const nuclei = stack.planes[0 + 5 * stack.sizeC];
  const offset = Float32Array.from(nuclei, (v) => Math.max(0, v - 100));
  const planes = defocusSeries(offset, stack.width, stack.height, { ...SETTINGS, defocusUm: DEFOCUS_UM }).map((p) => p.image);
  const x0 = 60;
  const y0 = 60;
  let hi = 0;
  for (let y = 0; y < panel; y++) for (let x = 0; x < panel; x++) hi = Math.max(hi, planes[0][(y0 + y) * stack.width + x0 + x]);
  planes.forEach((p, k) => {
    for (let y = 0; y < panel; y++) {
      for (let x = 0; x < panel; x++) {
        const v = p[(y0 + y) * stack.width + x0 + x] / hi;
        out[(panel + gap + y) * W + k * (panel + gap) + x] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
    }
  });
  await writePng(outPath, createImage({ width: W, height: H, data: out }), { saturatedPercent: 0, mkdir: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const sample = process.argv[2] ?? join(root, 'samples', 'cells-zstack.tif');
  const target = process.argv[3] ?? join(root, 'docs', 'img', 'optics-psf.png');
  makeOpticsFigure(sample, target).then(
    () => console.log(`wrote ${target}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
