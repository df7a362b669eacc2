/**
 * samples/cells-deformed.tif: the in-focus plane (z = 0 µm, both channels) of
 * samples/cells-zstack.tif, deformed by a known smooth field (four Gaussian bumps, largest
 * displacement 4 px), for the elastic registration pipeline and its test.
 *
 * The deformed image is moving(y) = fixed(y + w(y)); the field that elastic.register should
 * recover (moving(x + u(x)) ≈ fixed(x), on the fixed grid) is the inverse, u(x) = −w(x + u(x)),
 * computed by fixed-point iteration in `deformedSampleField`.
 *
 * Run: node dist/scripts/make-sample-elastic.js (after make-samples).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, getPlane, writeTiff, type Stack } from '../core/index.js';
import { smoothField } from '../plugins/elastic/synthetic.js';
import { warpImage } from '../plugins/elastic/register.js';
import { makeCellsZStack } from './make-samples.js';

export const DEFORMED_SAMPLE_SEED = 4242;
export const DEFORMED_SAMPLE_Z_INDEX = 5;

function bilinear(img: Float32Array, W: number, H: number, x: number, y: number): number {
  const cx = Math.min(Math.max(x, 0), W - 1), cy = Math.min(Math.max(y, 0), H - 1);
  const ix = Math.min(Math.floor(cx), W - 2), iy = Math.min(Math.floor(cy), H - 2);
  const fx = cx - ix, fy = cy - iy;
  const i = iy * W + ix;
  return (1 - fx) * (1 - fy) * img[i] + fx * (1 - fy) * img[i + 1] + (1 - fx) * fy * img[i + W] + fx * fy * img[i + W + 1];
}

/**
 * The forward deformation w (used to make the sample) and the field u that registering the
 * deformed sample (moving) onto the original plane (fixed) should recover.
 */
export function deformedSampleField(width = 256, height = 256): { wx: Float32Array; wy: Float32Array; ux: Float32Array; uy: Float32Array } {
  const { ux: wx, uy: wy } = smoothField(width, height, DEFORMED_SAMPLE_SEED, { bumps: 4, sigmaPx: 40, maxDisplacementPx: 4 });
  const ux = new Float32Array(width * height), uy = new Float32Array(width * height);
  for (let it = 0; it < 50; it++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const X = x + ux[i], Y = y + uy[i];
        ux[i] = -bilinear(wx, width, height, X, Y);
        uy[i] = -bilinear(wy, width, height, X, Y);
      }
    }
  }
  return { wx, wy, ux, uy };
}

/** The deformed two-channel plane (uint16, same calibration and channel names). */
export function makeCellsDeformed(source: Stack = makeCellsZStack()): Stack {
  const { width, height } = source;
  const { wx, wy } = deformedSampleField(width, height);
  // sources beyond the border are clamped onto it (edge replication), so no fill values appear
  const cx = new Float32Array(width * height), cy = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      cx[i] = Math.min(Math.max(x + wx[i], 0), width - 1) - x;
      cy[i] = Math.min(Math.max(y + wy[i], 0), height - 1) - y;
    }
  }
  const planes = [0, 1].map((c) => {
    const warped = warpImage(getPlane(source, c, DEFORMED_SAMPLE_Z_INDEX), cx, cy, width, height);
    const out = new Uint16Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(65535, Math.max(0, Math.round(warped[i])));
    return out;
  });
  return createStack({
    width,
    height,
    dtype: 'uint16',
    sizeC: 2,
    planes,
    calibration: { pixelWidthUm: source.calibration.pixelWidthUm, pixelHeightUm: source.calibration.pixelHeightUm },
    channelNames: source.channelNames,
    metadata: { source: 'scripts/make-sample-elastic.ts: cells-zstack.tif z = 0 µm deformed by a smooth field (max 4 px)', seed: DEFORMED_SAMPLE_SEED },
  });
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(root, 'samples', 'cells-deformed.tif');
  mkdirSync(dirname(out), { recursive: true });
  await writeTiff(out, makeCellsDeformed());
  console.log(`wrote ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
