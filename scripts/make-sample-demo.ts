/**
 * Makes samples/demo-defocused.tif, the input of `npm run demo` (deterministic: same bytes
 * every run).
 *
 *   npm run build && node dist/scripts/make-sample-demo.js            # writes the sample
 *   node dist/scripts/make-sample-demo.js --truth /tmp/demo-truth.tif # also the in-focus truth
 *
 * A widefield fluorescence field of cultured cells, 384 × 384 px, 2 channels, uint16,
 * 0.325 µm pixels (20×/0.75 NA on a 6.5 µm camera pixel): channel 0 nuclei (H2B-GFP,
 * emission 0.51 µm), channel 1 cytoplasm (a far-red cell stain, emission 0.67 µm). The whole
 * field is 3 µm out of focus (the focus drifted), imaged with the optics plugin's Born & Wolf
 * defocus simulator (NA 0.75, n 1.0) and Poisson–Gaussian camera noise (1000 e⁻ / 400 e⁻ at
 * the brightest in-focus pixel, 10 e⁻ background, 1.5 e⁻ read noise, 100 ADU offset).
 *
 * The nuclei are drawn by this script, not by the Deep-R training generator
 * (make-deepr-specimens.ts): lumpy outlines (low-order harmonics of the radius), a dome profile
 * (thicker in the middle), heterochromatin foci instead of nucleoli, and a few small, bright,
 * compact mitotic nuclei. 3 µm lies inside the range the demo model is evaluated on
 * (plugins/deepr/docs/deepr.md: 1–5 µm).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, mulberry32, type Stack, writeTiff } from '../core/index.js';
import { defocusImage, gaussianBlur2d } from '../core/imaging.js';

export const DEMO_SIZE_PX = 384;
export const DEMO_PIXEL_UM = 0.325;
export const DEMO_DEFOCUS_UM = 3;
const EMISSION_UM = [0.51, 0.67];
const PEAK_PHOTONS = [1000, 400];
const OFFSET_ADU = 100;
const SEED = 20261205;

interface Nucleus {
  x: number;
  y: number;
  r: number;
  aspect: number;
  angle: number;
  harmonics: { k: number; amp: number; phase: number }[];
  brightness: number;
  mitotic: boolean;
}

function placeNuclei(n: number, rand: () => number): Nucleus[] {
  const nuclei: Nucleus[] = [];
  for (let tries = 0; nuclei.length < 46 && tries < 4000; tries++) {
    const mitotic = rand() < 0.08;
    const r = mitotic ? 5 + rand() * 2 : 9 + rand() * 6; // px: 3–9.8 µm across
    const x = rand() * n;
    const y = rand() * n;
    if (nuclei.some((q) => Math.hypot(q.x - x, q.y - y) < (q.r + r) * 1.05)) continue; // a few nearly touch
    nuclei.push({
      x,
      y,
      r,
      aspect: 0.7 + 0.3 * rand(),
      angle: rand() * Math.PI,
      harmonics: [2, 3, 5].map((k) => ({ k, amp: (mitotic ? 0.03 : 0.08) * rand(), phase: rand() * 2 * Math.PI })),
      brightness: mitotic ? 1 : 0.45 + 0.35 * rand(),
      mitotic,
    });
  }
  return nuclei;
}

/** In-focus emitter densities (relative units, ≥ 0) of both channels. */
export function makeDemoTruth(): { nuclei: Float32Array; cytoplasm: Float32Array; count: number } {
  const n = DEMO_SIZE_PX;
  const rand = mulberry32(SEED);
  const list = placeNuclei(n, rand);
  const nuclei = new Float32Array(n * n);
  const cellMask = new Float32Array(n * n);
  const nucMask = new Float32Array(n * n);
  // heterochromatin foci: sparse small bright spots, blurred
  const foci = new Float32Array(n * n);
  for (let i = 0; i < foci.length; i++) if (rand() < 0.02) foci[i] = 1;
  const fociBlur = gaussianBlur2d(foci, n, n, 1, 1);
  const cytoTexture = gaussianBlur2d(Float32Array.from({ length: n * n }, () => rand()), n, n, 2.5, 2.5);
  for (const nu of list) {
    const cos = Math.cos(nu.angle);
    const sin = Math.sin(nu.angle);
    const cellScale = 1.9 + 0.5 * rand();
    const R = Math.ceil(nu.r * cellScale) + 3;
    for (let y = Math.max(0, Math.floor(nu.y - R)); y <= Math.min(n - 1, Math.ceil(nu.y + R)); y++) {
      for (let x = Math.max(0, Math.floor(nu.x - R)); x <= Math.min(n - 1, Math.ceil(nu.x + R)); x++) {
        const dx = x - nu.x;
        const dy = y - nu.y;
        const u = dx * cos + dy * sin;
        const v = (-dx * sin + dy * cos) / nu.aspect;
        const theta = Math.atan2(v, u);
        let rr = nu.r;
        for (const h of nu.harmonics) rr *= 1 + h.amp * Math.cos(h.k * theta + h.phase);
        const d = Math.hypot(u, v) / rr;
        const i = y * n + x;
        // cytoplasm: a larger smooth cell body around the nucleus
        const cell = 1 / (1 + Math.exp((d / cellScale - 1) * 10));
        cellMask[i] = Math.max(cellMask[i], cell);
        if (d > 1.3) continue;
        const edge = 1 / (1 + Math.exp((d - 1) * 12));
        nucMask[i] = Math.max(nucMask[i], edge);
        const dome = Math.sqrt(Math.max(0, 1 - 0.6 * d * d));
        const val = nu.mitotic ? edge * (0.8 + 0.4 * fociBlur[i] * 8) : edge * (0.55 * dome + 0.25 + 2.5 * fociBlur[i]);
        nuclei[i] = Math.max(nuclei[i], val * nu.brightness);
      }
    }
  }
  const cytoplasm = new Float32Array(n * n);
  for (let i = 0; i < cytoplasm.length; i++) cytoplasm[i] = cellMask[i] * (1 - 0.75 * nucMask[i]) * (0.6 + 0.8 * (cytoTexture[i] - 0.5) * 6);
  for (let i = 0; i < cytoplasm.length; i++) cytoplasm[i] = Math.max(0, cytoplasm[i]);
  return { nuclei, cytoplasm, count: list.length };
}

function toUint16(plane: ArrayLike<number>, offset: number): Uint16Array {
  return Uint16Array.from(plane, (v) => Math.min(65535, Math.max(0, Math.round(v + offset))));
}

function stackOf(planes: Uint16Array[], metadata: Record<string, unknown>): Stack {
  const n = DEMO_SIZE_PX;
  return createStack({
    width: n,
    height: n,
    dtype: 'uint16',
    sizeC: planes.length,
    planes,
    calibration: { pixelWidthUm: DEMO_PIXEL_UM, pixelHeightUm: DEMO_PIXEL_UM },
    channelNames: ['H2B-GFP', 'CellMask'],
    metadata,
  });
}

/** Images the truth through the demo optics at `defocusUm`, with noise drawn from `seed`. */
function imageDemoField(defocusUm: number, seed: number): Uint16Array[] {
  const truth = makeDemoTruth();
  return [truth.nuclei, truth.cytoplasm].map((img, c) =>
    toUint16(
      defocusImage(img, DEMO_SIZE_PX, DEMO_SIZE_PX, {
        na: 0.75,
        refractiveIndex: 1,
        wavelengthUm: EMISSION_UM[c],
        pixelSizeUm: DEMO_PIXEL_UM,
        defocusUm,
        photons: PEAK_PHOTONS[c],
        backgroundPhotons: 10,
        readNoiseE: 1.5,
        seed,
        noiseStream: c,
      }).image,
      OFFSET_ADU,
    ),
  );
}

/** The defocused, noisy acquisition (the bundled sample). */
export function makeDemoSample(): Stack {
  const count = makeDemoTruth().count;
  return stackOf(imageDemoField(DEMO_DEFOCUS_UM, SEED), { source: 'synthetic (scripts/make-sample-demo.ts)', defocusUm: DEMO_DEFOCUS_UM, nucleiDrawn: count, offsetAdu: OFFSET_ADU });
}

/** The same field in focus, with its own noise (what a well-focused acquisition would give). */
export function makeDemoInFocus(): Stack {
  const count = makeDemoTruth().count;
  return stackOf(imageDemoField(0, SEED + 1), { source: 'synthetic in-focus truth (scripts/make-sample-demo.ts)', defocusUm: 0, nucleiDrawn: count, offsetAdu: OFFSET_ADU });
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(root, 'samples', 'demo-defocused.tif');
  mkdirSync(dirname(out), { recursive: true });
  await writeTiff(out, makeDemoSample());
  console.log(`wrote ${out}`);
  const t = process.argv.indexOf('--truth');
  if (t > 0 && process.argv[t + 1]) {
    const file = resolve(process.argv[t + 1]);
    await writeTiff(file, makeDemoInFocus());
    console.log(`wrote ${file} (in focus, not bundled)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
