/**
 * samples/beads-zstack.tif — a synthetic widefield z-stack of sub-resolution fluorescent beads
 * (e.g. 100 nm beads), for measuring the PSF with optics.psf-from-beads.
 *
 * 128×128 px, one channel, 11 slices from −1 to +1 µm in 0.2 µm steps, uint16, calibrated
 * (0.1 µm/px, 0.2 µm z step): a 60×/1.4 NA oil objective (n 1.518), emission 0.52 µm. The
 * in-focus Airy FWHM (≈ 0.51·λ/NA ≈ 0.19 µm) spans ~2 px, and the axial FWHM of this (scalar,
 * paraxial) model, as pipelines/psf-from-beads.json measures it, ≈ 0.69 µm, spans ~3.5 slices
 * (lateral ≈ 0.21 µm); coarser steps (e.g. 0.5 µm over ±2.5 µm) would under-sample the bead
 * along z, and the ±2.5 µm blur would spread the beads into each other.
 *
 * 16 beads on a jittered 4×4 grid (≥ 22 px apart, ≥ 16 px from the border), at sub-pixel
 * positions (each bead is a bilinear point splat), all in the focal plane z = 0, with
 * 30 000 ± 20 % expected photo-electrons each. Every slice is the object blurred by the
 * Born & Wolf PSF at its defocus (optics' defocusSeries, which convolves with bornWolfPsfStack),
 * plus a uniform 40 e⁻ background, Poisson shot noise, 2 e⁻ rms read noise and a 100 ADU
 * camera offset. Seeded: the same bytes every run.
 *
 * Run: node dist/scripts/make-sample-beads.js
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, type Stack, writeTiff, Xoshiro128 } from '../core/index.js';
import { defocusSeries } from '../core/imaging.js';

export const BEADS_SAMPLE = {
  seed: 2024,
  sizePx: 128,
  pixelSizeUm: 0.1,
  zUm: [-1, -0.8, -0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6, 0.8, 1],
  zStepUm: 0.2,
  na: 1.4,
  refractiveIndex: 1.518,
  wavelengthUm: 0.52,
  beadPhotons: 30000,
  backgroundPhotons: 40,
  readNoiseE: 2,
  offsetAdu: 100,
} as const;

/** Bead centres, px (pixel centres at integers), and their expected photo-electrons. */
export function beadPositions(): { x: number; y: number; photons: number }[] {
  const { seed, sizePx, beadPhotons } = BEADS_SAMPLE;
  const rng = new Xoshiro128(seed, 1000);
  const beads: { x: number; y: number; photons: number }[] = [];
  const grid = 4;
  const margin = 16;
  const cell = (sizePx - 2 * margin) / grid; // 24 px
  for (let j = 0; j < grid; j++) {
    for (let i = 0; i < grid; i++) {
      const x = margin + (i + 0.5) * cell + (rng.uniform() - 0.5) * 2; // ±1 px jitter
      const y = margin + (j + 0.5) * cell + (rng.uniform() - 0.5) * 2;
      beads.push({ x, y, photons: beadPhotons * (0.8 + 0.4 * rng.uniform()) });
    }
  }
  return beads;
}

/** The bead z-stack (uint16 ADU, calibrated). */
export function makeBeadsZStack(): Stack {
  const s = BEADS_SAMPLE;
  const n = s.sizePx;
  const object = new Float64Array(n * n);
  for (const b of beadPositions()) {
    const x0 = Math.floor(b.x), y0 = Math.floor(b.y);
    const fx = b.x - x0, fy = b.y - y0;
    object[y0 * n + x0] += b.photons * (1 - fx) * (1 - fy);
    object[y0 * n + x0 + 1] += b.photons * fx * (1 - fy);
    object[(y0 + 1) * n + x0] += b.photons * (1 - fx) * fy;
    object[(y0 + 1) * n + x0 + 1] += b.photons * fx * fy;
  }
  // blurred object in photo-electrons, no noise: the noise is added below (background, offset)
  const blurred = defocusSeries(object, n, n, {
    na: s.na,
    refractiveIndex: s.refractiveIndex,
    wavelengthUm: s.wavelengthUm,
    pixelSizeUm: s.pixelSizeUm,
    defocusUm: [...s.zUm],
  });
  const planes = blurred.map(({ image }, z) => {
    const rng = new Xoshiro128(s.seed, z);
    const out = new Uint16Array(n * n);
    for (let i = 0; i < out.length; i++) {
      const electrons = rng.poisson(Math.max(0, image[i]) + s.backgroundPhotons) + s.readNoiseE * rng.normal();
      out[i] = Math.min(65535, Math.max(0, Math.round(electrons + s.offsetAdu)));
    }
    return out;
  });
  return createStack({
    width: n,
    height: n,
    dtype: 'uint16',
    sizeZ: s.zUm.length,
    planes,
    calibration: { pixelWidthUm: s.pixelSizeUm, pixelHeightUm: s.pixelSizeUm, zStepUm: s.zStepUm },
    channelNames: ['beads'],
    metadata: {
      source: 'scripts/make-sample-beads.ts: 16 sub-resolution beads, Born & Wolf PSF 60×/1.4 oil (n 1.518), λ 0.52 µm, 0.1 µm px, z −1…+1 µm step 0.2 µm, Poisson + 2 e⁻ read noise, offset 100 ADU',
      seed: s.seed,
    },
  });
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(root, 'samples', 'beads-zstack.tif');
  mkdirSync(dirname(out), { recursive: true });
  await writeTiff(out, makeBeadsZStack());
  console.log(`wrote ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
