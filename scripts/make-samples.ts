/**
 * Makes the bundled sample data in samples/ (deterministic: same bytes every run).
 *
 *   npm run samples
 *
 * samples/cells-zstack.tif — a synthetic widefield fluorescence z-stack of cultured cells,
 * 256×256 px, 2 channels (nuclei "DAPI", cytoplasm "FITC"), 11 slices from −5 to +5 µm in
 * 1 µm steps, uint16, calibrated (0.325 µm/px, as a 20×/0.75 NA objective on a 6.5 µm-pixel
 * camera). Cells lie at heights between −1.5 and +1.5 µm, so the sharpest slices are near
 * the middle of the stack.
 *
 * Defocus is modelled with a Gaussian PSF whose width grows with the distance to the
 * focal plane: σ(Δz) = sqrt(σ0² + (0.42·|Δz| / pixel)²) px, where σ0 = 0.21·λ/NA and 0.42·|Δz|
 * is half the geometric blur radius of a 0.75 NA cone (tan(asin 0.75) ≈ 0.85). This is
 * a coarse stand-in for a real defocus PSF (the optics plugin has the Born & Wolf model);
 * the blur conserves energy (unit-sum kernel). Noise is Poisson shot noise on the photon
 * counts plus Gaussian read noise, then a camera offset of 100 ADU.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, gaussianRandom, mulberry32, poissonRandom, writeTiff } from '../core/index.js';
import { gaussianBlur2d } from '../core/imaging.js';

const WIDTH = 256;
const HEIGHT = 256;
const PIXEL_UM = 0.325;
const Z_UM = [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5];
const NA = 0.75;
const WAVELENGTHS_UM = [0.46, 0.52];
const PEAK_PHOTONS = [900, 350];
const READ_NOISE_E = 2.0;
const OFFSET_ADU = 100;
const HEIGHT_LAYERS_UM = [-1.5, -0.5, 0.5, 1.5];

interface Cell {
  x: number;
  y: number;
  rx: number;
  ry: number;
  angle: number;
  layer: number;
  brightness: number;
}

function makeCells(rand: () => number): Cell[] {
  const cells: Cell[] = [];
  let attempts = 0;
  while (cells.length < 28 && attempts++ < 5000) {
    const rx = 7 + rand() * 4;
    const ry = rx * (0.7 + rand() * 0.3);
    const x = 14 + rand() * (WIDTH - 28);
    const y = 14 + rand() * (HEIGHT - 28);
    if (cells.some((c) => Math.hypot(c.x - x, c.y - y) < (c.rx + rx) * 1.9)) continue;
    cells.push({ x, y, rx, ry, angle: rand() * Math.PI, layer: Math.floor(rand() * HEIGHT_LAYERS_UM.length), brightness: 0.6 + rand() * 0.4 });
  }
  return cells;
}

/** In-focus emitter density (0..1) of one channel for the cells of one height layer. */
function renderLayer(cells: Cell[], layer: number, channel: number, rand: () => number): Float32Array {
  const out = new Float32Array(WIDTH * HEIGHT);
  for (const cell of cells) {
    if (cell.layer !== layer) continue;
    const scale = channel === 0 ? 1 : 2.3; // cytoplasm extends beyond the nucleus
    const rx = cell.rx * scale;
    const ry = cell.ry * scale;
    const cos = Math.cos(cell.angle);
    const sin = Math.sin(cell.angle);
    const r = Math.ceil(Math.max(rx, ry)) + 2;
    for (let y = Math.max(0, Math.floor(cell.y - r)); y <= Math.min(HEIGHT - 1, Math.ceil(cell.y + r)); y++) {
      for (let x = Math.max(0, Math.floor(cell.x - r)); x <= Math.min(WIDTH - 1, Math.ceil(cell.x + r)); x++) {
        const dx = x - cell.x;
        const dy = y - cell.y;
        const u = (dx * cos + dy * sin) / rx;
        const v = (-dx * sin + dy * cos) / ry;
        const d = Math.sqrt(u * u + v * v);
        if (d > 1.15) continue;
        const edge = 1 / (1 + Math.exp((d - 1) * 18));
        // nuclei: chromatin texture; cytoplasm: dimmer where the nucleus sits
        const texture = channel === 0 ? 0.75 + 0.25 * rand() : d < 1 / scale ? 0.35 : 0.8 + 0.2 * rand();
        out[y * WIDTH + x] = Math.max(out[y * WIDTH + x], edge * texture * cell.brightness);
      }
    }
  }
  return out;
}

export function makeCellsZStack() {
  const rand = mulberry32(20261121);
  const cells = makeCells(rand);
  const layers = [0, 1].map((c) => HEIGHT_LAYERS_UM.map((_, l) => renderLayer(cells, l, c, rand)));
  const planes: Uint16Array[] = [];
  for (let zi = 0; zi < Z_UM.length; zi++) {
    for (let c = 0; c < 2; c++) {
      const sigma0Px = (0.21 * WAVELENGTHS_UM[c]) / NA / PIXEL_UM;
      const photons = new Float32Array(WIDTH * HEIGHT).fill(0.02 * PEAK_PHOTONS[c]); // out-of-focus background
      HEIGHT_LAYERS_UM.forEach((hUm, l) => {
        const dzUm = Z_UM[zi] - hUm;
        const sigmaPx = Math.sqrt(sigma0Px ** 2 + ((0.42 * Math.abs(dzUm)) / PIXEL_UM) ** 2);
        const blurred = gaussianBlur2d(layers[c][l], WIDTH, HEIGHT, sigmaPx, sigmaPx);
        for (let i = 0; i < photons.length; i++) photons[i] += blurred[i] * PEAK_PHOTONS[c];
      });
      const plane = new Uint16Array(WIDTH * HEIGHT);
      for (let i = 0; i < plane.length; i++) {
        const v = poissonRandom(photons[i], rand) + READ_NOISE_E * gaussianRandom(rand) + OFFSET_ADU;
        plane[i] = Math.min(65535, Math.max(0, Math.round(v)));
      }
      planes.push(plane); // XYCZT: channel varies fastest
    }
  }
  return createStack({
    width: WIDTH,
    height: HEIGHT,
    dtype: 'uint16',
    sizeC: 2,
    sizeZ: Z_UM.length,
    planes,
    calibration: { pixelWidthUm: PIXEL_UM, pixelHeightUm: PIXEL_UM, zStepUm: 1 },
    channelNames: ['DAPI', 'FITC'],
    metadata: { source: 'synthetic (scripts/make-samples.ts)', cellCount: cells.length, zRangeUm: [Z_UM[0], Z_UM[Z_UM.length - 1]] },
  });
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(root, 'samples', 'cells-zstack.tif');
  mkdirSync(dirname(out), { recursive: true });
  await writeTiff(out, makeCellsZStack());
  console.log(`wrote ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
