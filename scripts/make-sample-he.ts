/**
 * Makes samples/he-tissue.tif: a synthetic brightfield H&E image of tissue with nuclei
 * (deterministic: same bytes every run).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/make-sample-he.js
 *
 * 512×512 px RGB (uint8), calibrated 0.5 µm/px (a 20× objective). Pink eosin-stained tissue
 * with a few pale gaps (lumens), and purple-blue haematoxylin nuclei: ellipses of 6–13 µm
 * diameter with chromatin texture and soft edges, some in touching pairs and small clusters.
 * Colour follows Beer–Lambert: the optical density of each channel is
 * OD_c = H·h_c + E·e_c with Ruifrok & Johnston's unit H&E vectors (h, e) — the same vectors
 * cellcount.colour-deconvolution uses — and the transmitted intensity is 255·10^(−OD) (white
 * light, I0 = 255), with Gaussian camera noise (σ = 2 grey levels) added per channel.
 * The nucleus centres and sizes are kept in the file's metadata (ground truth for counting).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, gaussianRandom, mulberry32, writeTiff, type Stack } from '../core/index.js';
import { stainMatrix } from '../plugins/cellcount/colour.js';

export const HE_WIDTH = 512;
export const HE_HEIGHT = 512;
export const HE_PIXEL_UM = 0.5;

/** Smooth random field in [−1, 1]: a sum of random plane waves (cheap, seamless, deterministic). */
function waveField(rand: () => number, w: number, h: number, waves: number, minPeriodPx: number, maxPeriodPx: number): Float32Array {
  const out = new Float32Array(w * h);
  const comps = Array.from({ length: waves }, () => {
    const period = minPeriodPx + rand() * (maxPeriodPx - minPeriodPx);
    const angle = rand() * Math.PI;
    return { kx: (2 * Math.PI * Math.cos(angle)) / period, ky: (2 * Math.PI * Math.sin(angle)) / period, phase: rand() * 2 * Math.PI };
  });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const c of comps) s += Math.sin(c.kx * x + c.ky * y + c.phase);
      out[y * w + x] = s / Math.sqrt(waves / 2) / 2;
    }
  }
  return out;
}

export interface Nucleus {
  x: number;
  y: number;
  /** Semi-axes in px. */
  a: number;
  b: number;
  angle: number;
  density: number;
}

/** Nuclei: scattered singles plus touching pairs and small clusters, without heavy overlap. */
function placeNuclei(rand: () => number, w: number, h: number): Nucleus[] {
  const nuclei: Nucleus[] = [];
  const make = (x: number, y: number): Nucleus => {
    const diameterUm = 6 + rand() * 7;
    const r = diameterUm / HE_PIXEL_UM / 2;
    const elong = 1 + rand() * 0.5;
    return { x, y, a: r * Math.sqrt(elong), b: r / Math.sqrt(elong), angle: rand() * Math.PI, density: 0.55 + rand() * 0.45 };
  };
  const fits = (n: Nucleus, touching: boolean) =>
    n.x > -n.a && n.x < w + n.a && n.y > -n.a && n.y < h + n.a &&
    nuclei.every((m) => {
      const d = Math.hypot(n.x - m.x, n.y - m.y);
      const rr = Math.min(n.a, n.b) + Math.min(m.a, m.b);
      return touching ? d > 0.85 * rr : d > Math.max(n.a, n.b) + Math.max(m.a, m.b) + 3;
    });
  let tries = 0;
  while (nuclei.length < 95 && tries++ < 20000) {
    const n = make(rand() * w, rand() * h);
    if (fits(n, false)) nuclei.push(n);
  }
  // touching partners for about a third of them (pairs; some grow into clusters of 3–4)
  const seeds = nuclei.slice();
  for (const s of seeds) {
    if (rand() > 0.35) continue;
    const k = 1 + (rand() < 0.3 ? 1 + Math.floor(rand() * 2) : 0);
    let anchor = s;
    for (let j = 0; j < k; j++) {
      for (let t = 0; t < 30; t++) {
        const dir = rand() * 2 * Math.PI;
        const n = make(0, 0);
        const dist = 0.92 * (Math.min(anchor.a, anchor.b) + Math.min(n.a, n.b));
        n.x = anchor.x + dist * Math.cos(dir);
        n.y = anchor.y + dist * Math.sin(dir);
        if (fits(n, true)) {
          nuclei.push(n);
          anchor = n;
          break;
        }
      }
    }
  }
  return nuclei;
}

/** The synthetic H&E stack (RGB, uint8, 0.5 µm/px) and its nuclei. */
export function makeHeTissue(seed = 20261121): { stack: Stack; nuclei: Nucleus[] } {
  const w = HE_WIDTH;
  const h = HE_HEIGHT;
  const rand = mulberry32(seed);
  const [hv, ev] = stainMatrix('H&E');
  const n = w * h;
  const H = new Float32Array(n);
  const E = new Float32Array(n);
  // eosin: tissue with slow density changes, fibre texture, and a few pale gaps
  const slow = waveField(rand, w, h, 12, 150, 500);
  const fibres = waveField(rand, w, h, 24, 6, 18);
  const gaps = Array.from({ length: 3 }, () => ({ x: rand() * w, y: rand() * h, r: 25 + rand() * 35 }));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let tissue = 1;
      for (const g of gaps) {
        const d = Math.hypot(x - g.x, y - g.y) / g.r;
        tissue = Math.min(tissue, Math.min(1, Math.max(0, (d - 0.8) / 0.3)));
      }
      E[i] = tissue * Math.max(0.04, 0.2 + 0.07 * slow[i] + 0.04 * fibres[i]) + 0.02;
      H[i] = tissue * 0.05;
    }
  }
  const nuclei = placeNuclei(rand, w, h);
  const chromatin = waveField(rand, w, h, 30, 3, 7);
  for (const nu of nuclei) {
    const c = Math.cos(nu.angle);
    const s = Math.sin(nu.angle);
    const R = Math.ceil(Math.max(nu.a, nu.b) + 3);
    for (let y = Math.max(0, Math.floor(nu.y - R)); y <= Math.min(h - 1, Math.ceil(nu.y + R)); y++) {
      for (let x = Math.max(0, Math.floor(nu.x - R)); x <= Math.min(w - 1, Math.ceil(nu.x + R)); x++) {
        const dx = x - nu.x;
        const dy = y - nu.y;
        const u = (dx * c + dy * s) / nu.a;
        const v = (-dx * s + dy * c) / nu.b;
        const rho = Math.sqrt(u * u + v * v);
        // soft edge over ~1.5 px: 1 inside, 0 outside
        const edge = Math.min(1, Math.max(0, (1 - rho) * Math.min(nu.a, nu.b) / 1.5 + 0.5));
        if (edge <= 0) continue;
        const i = y * w + x;
        const d = nu.density * (0.85 + 0.15 * chromatin[i]) * (1 + 0.15 * rho * rho);
        H[i] = Math.max(H[i], edge * d);
        E[i] = E[i] * (1 - 0.6 * edge);
      }
    }
  }
  const planes = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)];
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const od = H[i] * hv[ch] + E[i] * ev[ch];
      const v = Math.round(255 * Math.pow(10, -od) + 2 * gaussianRandom(rand));
      planes[ch][i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  const stack = createStack({
    width: w,
    height: h,
    dtype: 'uint8',
    sizeC: 3,
    rgb: true,
    planes,
    calibration: { pixelWidthUm: HE_PIXEL_UM, pixelHeightUm: HE_PIXEL_UM },
    metadata: {
      source: 'synthetic H&E (scripts/make-sample-he.ts)',
      seed,
      nucleusCount: nuclei.length,
      nuclei: nuclei.map((nu) => [Math.round(nu.x * 10) / 10, Math.round(nu.y * 10) / 10, Math.round(nu.a * 10) / 10, Math.round(nu.b * 10) / 10]),
    },
  });
  return { stack, nuclei };
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(root, 'samples', 'he-tissue.tif');
  mkdirSync(dirname(out), { recursive: true });
  const { stack, nuclei } = makeHeTissue();
  await writeTiff(out, stack);
  console.log(`wrote ${out}: ${stack.width}×${stack.height} RGB, ${nuclei.length} nuclei`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
