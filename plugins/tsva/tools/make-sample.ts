/**
 * The bundled simulated slide for TSVA's pipelines (plugins/tsva/samples/):
 *   node dist/plugins/tsva/tools/make-sample.js
 * A he-gland section scanned as 3 × 2 tiles of 128 px (16 px overlap) whose heights follow an
 * uneven topography (tilt + a bump, per tile). The workflow of the paper: a z-stack on the first
 * tile only (−3…+3 µm, 0.5 µm steps) gives F (max Brenner); every tile is then shot at F − s and
 * F + s (s = 0.5 µm). Writes the two-shot stack, the tile positions, the in-focus mosaic (ground
 * truth), the first tile's two shots (for the single-tile pipeline) and the true ΔD per tile.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, planeIndex, writeTiff } from '../../../core/index.js';
import { DEFAULT_OPTICS, DEFAULT_PROTOCOL, greyOf, imageAt, psfHalfPx, renderSection } from '../simulate.js';
import { brenner } from '../../../core/imaging.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', '..', '..', 'plugins', 'tsva', 'samples');
const TILE = 128, OVERLAP = 16, COLS = 3, ROWS = 2, STEP = TILE - OVERLAP;
const W = COLS * STEP + OVERLAP, H = ROWS * STEP + OVERLAP;
const optics = DEFAULT_OPTICS;
const s = DEFAULT_PROTOCOL.shotOffsetUm;
const half = psfHalfPx(optics, 3 + s + 2.5);
const section = renderSection('he-gland', W + 2 * half, H + 2 * half, 4242, optics);
/** Surface height of the tile's centre, µm: a tilt of 3 µm across the slide and a bump. */
const heightUm = (cx: number, cy: number) => Math.round((3 * (cx / W - 0.5) + 1.5 * Math.exp(-(((cx - 0.7 * W) / (0.25 * W)) ** 2 + ((cy - 0.6 * H) / (0.4 * H)) ** 2)) - 0.5 * (cy / H - 0.5)) * 4) / 4;
const tiles = Array.from({ length: ROWS * COLS }, (_, k) => {
  const x = (k % COLS) * STEP, y = Math.floor(k / COLS) * STEP;
  return { x, y, z0: heightUm(x + TILE / 2, y + TILE / 2) };
});
// (a) the z-stack on the first tile: the stage position with the highest Brenner is F
const zs = Array.from({ length: 13 }, (_, i) => -3 + 0.5 * i);
const t0 = tiles[0];
const scores = zs.map((z, i) => brenner(greyOf(imageAt(section, half + t0.x, half + t0.y, TILE, TILE, z - t0.z0, optics, half, 1, 100 + i), TILE, TILE), TILE, TILE));
const F = zs[scores.indexOf(Math.max(...scores))];
console.log(`first tile: surface at ${t0.z0} µm, z-stack focus F = ${F} µm`);
// (b) two shots per tile at F ∓ s; (c) the ground truth in focus
const toU8 = (hwc: Float32Array, c: number) => Uint8Array.from({ length: TILE * TILE }, (_, i) => Math.round(255 * hwc[i * 3 + c]));
// the scanner's pixel size, so the ops can check it against the model's (tsva.refocus warns on a mismatch)
const calibration = { pixelWidthUm: optics.pixelSizeUm, pixelHeightUm: optics.pixelSizeUm };
const shotsStack = createStack({ width: TILE, height: TILE, dtype: 'uint8', sizeC: 3, sizeZ: 2 * tiles.length, rgb: true, channelNames: ['R', 'G', 'B'], calibration: { ...calibration } });
const truth = new Float32Array(W * H * 3);
const wsum = new Float32Array(W * H);
const rows = ['tile,xPx,yPx,surfaceUm,deltaDUm'];
const pairs: Float32Array[][] = [];
tiles.forEach((t, k) => {
  const lo = imageAt(section, half + t.x, half + t.y, TILE, TILE, F - s - t.z0, optics, half, 2, 10 * k);
  const hi = imageAt(section, half + t.x, half + t.y, TILE, TILE, F + s - t.z0, optics, half, 2, 10 * k + 1);
  const x = imageAt(section, half + t.x, half + t.y, TILE, TILE, 0, optics, half, 2, 10 * k + 2);
  pairs.push([lo, hi]);
  for (let c = 0; c < 3; c++) {
    shotsStack.planes[planeIndex(shotsStack, c, 2 * k, 0)] = toU8(lo, c);
    shotsStack.planes[planeIndex(shotsStack, c, 2 * k + 1, 0)] = toU8(hi, c);
  }
  for (let v = 0; v < TILE; v++) for (let u = 0; u < TILE; u++) {
    const i = (t.y + v) * W + t.x + u;
    wsum[i] += 1;
    for (let c = 0; c < 3; c++) truth[i * 3 + c] += x[(v * TILE + u) * 3 + c];
  }
  rows.push(`${k},${t.x},${t.y},${t.z0},${F - t.z0}`);
});
const truthStack = createStack({ width: W, height: H, dtype: 'uint8', sizeC: 3, rgb: true, calibration: { ...calibration }, channelNames: ['R', 'G', 'B'], planes: [0, 1, 2].map((c) => Uint8Array.from({ length: W * H }, (_, i) => Math.round((255 * truth[i * 3 + c]) / wsum[i]))) });
const single = (hwc: Float32Array) => createStack({ width: TILE, height: TILE, dtype: 'uint8', sizeC: 3, rgb: true, calibration: { ...calibration }, channelNames: ['R', 'G', 'B'], planes: [0, 1, 2].map((c) => toU8(hwc, c)) });
await mkdir(out, { recursive: true });
await writeTiff(join(out, 'tsva-slide-shots.tif'), shotsStack);
await writeFile(join(out, 'tsva-slide-positions.csv'), `xPx,yPx\n${tiles.map((t) => `${t.x},${t.y}`).join('\n')}\n`);
await writeFile(join(out, 'tsva-slide-truth.csv'), `${rows.join('\n')}\n`);
await writeTiff(join(out, 'tsva-slide-infocus.tif'), truthStack);
// the tile with the largest |ΔD| for the single-tile pipeline
const worst = tiles.map((t, k) => [Math.abs(F - t.z0), k]).sort((a, b) => b[0] - a[0])[0][1];
await writeTiff(join(out, 'tsva-tile-shot-a.tif'), single(pairs[worst][0]));
await writeTiff(join(out, 'tsva-tile-shot-b.tif'), single(pairs[worst][1]));
console.log(`wrote ${out}: ${tiles.length} tiles (ΔD ${tiles.map((t) => F - t.z0).join(', ')} µm), mosaic ${W}×${H}; single-tile pair = tile ${worst}`);
