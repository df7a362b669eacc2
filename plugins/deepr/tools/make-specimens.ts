/**
 * Procedural in-focus fluorescent specimens for training and evaluating the Deep-R demo model
 * (deterministic: same bytes every run).
 *
 *   npm run build && node dist/plugins/deepr/tools/make-specimens.js   (npm run deepr:specimens)
 *
 * samples/deepr-specimens-{train,validation,heldout}.tif (12, 3 and 6 planes): 384 × 384 px
 * uint16 planes (0.325 µm/px, the 20×/0.75 NA setting of the Deep-R paper), each the in-focus
 * emitter density of one field of view. Planes cycle through three kinds, so that the model
 * sees the structures a fluorescence user images every day:
 *
 * - `nuclei`: DAPI-like nuclei (ellipses 4–10 µm across, smooth edge, chromatin texture,
 *   1–3 nucleoli), some touching;
 * - `cells`: cytoplasm (irregular blobs 10–25 µm), a darker nucleus, filaments (random-walk
 *   fibres one pixel wide) and puncta (sub-resolution vesicles);
 * - `tissue`: band-pass noise made fibrous by a soft threshold (tissue section texture) with
 *   scattered nuclei.
 *
 * Each file uses its own seeds: no field of view is shared. Training draws pairs from `train`,
 * picks its best checkpoint on `validation`, and plugins/deepr/docs/deepr.md evaluates on `heldout`. The
 * values are a relative density (the brightest pixel of a plane is 4000); `focal train deepr
 * --synthetic` and the evaluation script image them with the Born & Wolf defocus simulator.
 *
 * samples/deepr-defocus-series.tif: one held-out field imaged at −4, −2, 0, +2, +4 µm
 * (pipelines/deepr-autofocus.json).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, gaussianRandom, mulberry32, type Stack, writeTiff } from '../../../core/index.js';
import { defocusSeries, gaussianBlur2d } from '../../../core/imaging.js';

export const SPECIMEN_SIZE_PX = 384;
export const SPECIMEN_PIXEL_UM = 0.325;
const KINDS = ['nuclei', 'cells', 'tissue'] as const;
type Kind = (typeof KINDS)[number];
type Rand = () => number;

function noiseField(n: number, sigmaPx: number, rand: Rand): Float32Array {
  const white = new Float32Array(n * n);
  for (let i = 0; i < white.length; i++) white[i] = gaussianRandom(rand);
  const f = gaussianBlur2d(white, n, n, sigmaPx, sigmaPx);
  let s = 0;
  for (const v of f) s += v * v;
  const sd = Math.sqrt(s / f.length) || 1;
  for (let i = 0; i < f.length; i++) f[i] /= sd;
  return f;
}

/** Adds a textured ellipse (a nucleus) to `img` with the max rule. */
function addNucleus(img: Float32Array, n: number, texture: Float32Array, rand: Rand, cx: number, cy: number, rPx: number, brightness: number): void {
  const rx = rPx;
  const ry = rPx * (0.65 + 0.35 * rand());
  const a = rand() * Math.PI;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const nucleoli = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({ u: (rand() - 0.5) * 0.9, v: (rand() - 0.5) * 0.9, r: 0.12 + 0.1 * rand() }));
  const r = Math.ceil(rx) + 3;
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(n - 1, Math.ceil(cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(n - 1, Math.ceil(cx + r)); x++) {
      const dx = x - cx;
      const dy = y - cy;
      const u = (dx * cos + dy * sin) / rx;
      const v = (-dx * sin + dy * cos) / ry;
      const d = Math.hypot(u, v);
      if (d > 1.3) continue;
      const edge = 1 / (1 + Math.exp((d - 1) * 14));
      let val = edge * (0.7 + 0.3 * Math.tanh(texture[y * n + x])) * (0.85 + 0.15 * d); // chromatin, brighter rim
      for (const nu of nucleoli) if (Math.hypot(u - nu.u, v - nu.v) < nu.r) val *= 0.45;
      const i = y * n + x;
      img[i] = Math.max(img[i], val * brightness);
    }
  }
}

function scatterNuclei(img: Float32Array, n: number, rand: Rand, count: number, rMin: number, rMax: number, brightness: [number, number]): void {
  const texture = noiseField(n, 1.2, rand);
  const placed: { x: number; y: number; r: number }[] = [];
  for (let tries = 0; placed.length < count && tries < count * 40; tries++) {
    const r = rMin + rand() * (rMax - rMin);
    const x = rand() * n;
    const y = rand() * n;
    if (placed.some((p) => Math.hypot(p.x - x, p.y - y) < (p.r + r) * 0.95)) continue; // some touch
    placed.push({ x, y, r });
    addNucleus(img, n, texture, rand, x, y, r, brightness[0] + rand() * (brightness[1] - brightness[0]));
  }
}

function addPuncta(img: Float32Array, n: number, rand: Rand, count: number, mask?: Float32Array): void {
  for (let k = 0; k < count; k++) {
    const x = rand() * n;
    const y = rand() * n;
    const w = mask ? mask[Math.floor(y) * n + Math.floor(x)] : 1;
    if (w < 0.2) continue;
    const s = 0.6 + 0.6 * rand();
    const amp = (0.4 + 0.6 * rand()) * w;
    for (let yy = Math.max(0, Math.floor(y - 4)); yy <= Math.min(n - 1, Math.ceil(y + 4)); yy++) {
      for (let xx = Math.max(0, Math.floor(x - 4)); xx <= Math.min(n - 1, Math.ceil(x + 4)); xx++) {
        img[yy * n + xx] += amp * Math.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s));
      }
    }
  }
}

function addFilaments(img: Float32Array, n: number, rand: Rand, count: number, mask: Float32Array): void {
  for (let k = 0; k < count; k++) {
    let x = rand() * n;
    let y = rand() * n;
    let a = rand() * 2 * Math.PI;
    const amp = 0.35 + 0.4 * rand();
    const steps = 40 + Math.floor(rand() * 160);
    for (let s = 0; s < steps; s++) {
      a += (rand() - 0.5) * 0.25;
      x += Math.cos(a) * 0.7;
      y += Math.sin(a) * 0.7;
      if (x < 0 || y < 0 || x >= n - 1 || y >= n - 1) break;
      // bilinear splat: a fibre about one pixel wide
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      const w = amp * (0.3 + 0.7 * mask[y0 * n + x0]);
      img[y0 * n + x0] += w * (1 - fx) * (1 - fy);
      img[y0 * n + x0 + 1] += w * fx * (1 - fy);
      img[(y0 + 1) * n + x0] += w * (1 - fx) * fy;
      img[(y0 + 1) * n + x0 + 1] += w * fx * fy;
    }
  }
}

/** One field of view of the given kind: relative emitter density, ≥ 0. */
export function makeSpecimen(kind: Kind, n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const img = new Float32Array(n * n);
  if (kind === 'nuclei') {
    scatterNuclei(img, n, rand, 45 + Math.floor(rand() * 40), 7, 15, [0.5, 1]);
  } else if (kind === 'cells') {
    // cytoplasm: smooth blobs from thresholded low-frequency noise
    const low = noiseField(n, 14, rand);
    const mid = noiseField(n, 3, rand);
    const mask = new Float32Array(n * n);
    for (let i = 0; i < img.length; i++) {
      mask[i] = 1 / (1 + Math.exp(-(low[i] - 0.3) * 6));
      img[i] = mask[i] * (0.25 + 0.08 * mid[i]);
    }
    addFilaments(img, n, rand, 60 + Math.floor(rand() * 60), mask);
    addPuncta(img, n, rand, 500, mask);
    const nuclei = new Float32Array(n * n);
    scatterNuclei(nuclei, n, rand, 10 + Math.floor(rand() * 10), 8, 13, [0.15, 0.3]);
    for (let i = 0; i < img.length; i++) img[i] = img[i] * (1 - 0.6 * Math.min(1, nuclei[i] / 0.15)) + nuclei[i] * mask[i];
  } else {
    const fine = noiseField(n, 1.5, rand);
    const coarse = noiseField(n, 6, rand);
    for (let i = 0; i < img.length; i++) {
      const fibre = 1 / (1 + Math.exp(-(Math.abs(fine[i] + 0.6 * coarse[i]) - 1.0) * -5)); // ridges where the field crosses 0
      img[i] = 0.35 * fibre * (0.6 + 0.4 / (1 + Math.exp(-coarse[i] * 2))) + 0.05;
    }
    scatterNuclei(img, n, rand, 25 + Math.floor(rand() * 25), 5, 10, [0.6, 1]);
  }
  for (let i = 0; i < img.length; i++) img[i] = Math.max(0, img[i]);
  return img;
}

/** A stack of `count` specimens (kinds cycling nuclei, cells, tissue) as uint16, brightest pixel 4000 per plane. */
export function makeSpecimenStack(count: number, seed: number, name: string): Stack {
  const n = SPECIMEN_SIZE_PX;
  const planes: Uint16Array[] = [];
  const kinds: Kind[] = [];
  for (let k = 0; k < count; k++) {
    const kind = KINDS[k % KINDS.length];
    const img = makeSpecimen(kind, n, seed * 1000 + k);
    let max = 0;
    for (const v of img) if (v > max) max = v;
    const plane = new Uint16Array(n * n);
    for (let i = 0; i < plane.length; i++) plane[i] = Math.round((img[i] / max) * 4000);
    planes.push(plane);
    kinds.push(kind);
  }
  return createStack({
    width: n,
    height: n,
    dtype: 'uint16',
    sizeZ: count,
    planes,
    calibration: { pixelWidthUm: SPECIMEN_PIXEL_UM, pixelHeightUm: SPECIMEN_PIXEL_UM },
    metadata: { source: `synthetic in-focus specimens (scripts/make-deepr-specimens.ts, ${name}, seed ${seed})`, kinds },
  });
}

/** Defocus distances of samples/deepr-defocus-series.tif, µm. */
export const SERIES_DEFOCUS_UM = [-4, -2, 0, 2, 4];

/**
 * A 256² crop of a held-out `cells` specimen imaged like the training data (Born & Wolf PSF,
 * NA 0.75, n 1.0, 0.53 µm, 0.325 µm px; 1000 e⁻ at the brightest in-focus pixel, 10 e⁻
 * background, 1.5 e⁻ read noise) at −4, −2, 0, +2, +4 µm: uint16 e⁻ plus a 100-ADU offset.
 */
export function makeDefocusSeries(): Stack {
  const n = SPECIMEN_SIZE_PX;
  const full = makeSpecimen('cells', n, 202 * 1000 + 100);
  const c = 256;
  const off = (n - c) / 2;
  const crop = new Float32Array(c * c);
  for (let y = 0; y < c; y++) for (let x = 0; x < c; x++) crop[y * c + x] = full[(y + off) * n + x + off];
  const planes = defocusSeries(crop, c, c, { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: SPECIMEN_PIXEL_UM, defocusUm: SERIES_DEFOCUS_UM, photons: 1000, backgroundPhotons: 10, readNoiseE: 1.5, seed: 5 }).map(
    (p) => Uint16Array.from(p.image, (v) => Math.min(65535, Math.max(0, Math.round(v + 100)))),
  );
  return createStack({
    width: c,
    height: c,
    dtype: 'uint16',
    sizeZ: planes.length,
    planes,
    calibration: { pixelWidthUm: SPECIMEN_PIXEL_UM, pixelHeightUm: SPECIMEN_PIXEL_UM, zStepUm: 2 },
    metadata: { source: 'synthetic defocus series of a held-out specimen (scripts/make-deepr-specimens.ts)', defocusUm: SERIES_DEFOCUS_UM, offsetAdu: 100 },
  });
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  for (const [file, count, seed] of [['deepr-specimens-train.tif', 12, 101], ['deepr-specimens-validation.tif', 3, 303], ['deepr-specimens-heldout.tif', 6, 202]] as const) {
    const out = join(root, 'samples', file);
    mkdirSync(dirname(out), { recursive: true });
    await writeTiff(out, makeSpecimenStack(count, seed, file));
    console.log(`wrote ${out}`);
  }
  const series = join(root, 'samples', 'deepr-defocus-series.tif');
  await writeTiff(series, makeDefocusSeries());
  console.log(`wrote ${series}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
