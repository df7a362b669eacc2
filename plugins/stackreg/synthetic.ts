/**
 * Synthetic test scenes with exactly known geometry: a continuous function (a sum of
 * Gaussian blobs of various sizes on a smooth background) sampled through an affine map,
 * so a "warped slice" is sampled analytically rather than interpolated, plus seeded noise.
 */
import { mulberry32 } from '../../core/index.js';
import { applyAffine, type Affine } from './affine.js';

/**
 * Standard normal samples from a uniform generator (Box–Muller with log(1 − u), which differs
 * from core's `gaussianRandom` in its first uniform; kept so that the synthetic scenes
 * the tests and benchmark use stay the same).
 */
export function gaussianNoise(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface Scene {
  /** Intensity of the scene at continuous point (x, y), px. */
  at(x: number, y: number): number;
}

/**
 * A textured scene over roughly [−margin, width+margin] × [−margin, height+margin]:
 * `blobs` Gaussian blobs (σ 1.5–8 px, amplitude 20–100) on a background of 10.
 */
export function blobScene(width: number, height: number, options: { seed?: number; blobs?: number; margin?: number } = {}): Scene {
  const rand = mulberry32(options.seed ?? 1);
  const margin = options.margin ?? 40;
  const n = options.blobs ?? Math.round((width * height) / 150);
  const bx = new Float64Array(n);
  const by = new Float64Array(n);
  const inv2s2 = new Float64Array(n);
  const amp = new Float64Array(n);
  const radius = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    bx[i] = -margin + rand() * (width + 2 * margin);
    by[i] = -margin + rand() * (height + 2 * margin);
    const s = 1.5 + rand() * 6.5;
    inv2s2[i] = 1 / (2 * s * s);
    amp[i] = 20 + rand() * 80;
    radius[i] = 4 * s;
  }
  // bucket blobs on a coarse grid so evaluation costs O(nearby blobs)
  const cell = 32;
  const gx0 = -margin - cell;
  const gy0 = -margin - cell;
  const gw = Math.ceil((width + 2 * margin + 2 * cell) / cell) + 1;
  const gh = Math.ceil((height + 2 * margin + 2 * cell) / cell) + 1;
  const buckets: number[][] = Array.from({ length: gw * gh }, () => []);
  for (let i = 0; i < n; i++) {
    const x0 = Math.max(0, Math.floor((bx[i] - radius[i] - gx0) / cell));
    const x1 = Math.min(gw - 1, Math.floor((bx[i] + radius[i] - gx0) / cell));
    const y0 = Math.max(0, Math.floor((by[i] - radius[i] - gy0) / cell));
    const y1 = Math.min(gh - 1, Math.floor((by[i] + radius[i] - gy0) / cell));
    for (let yy = y0; yy <= y1; yy++) for (let xx = x0; xx <= x1; xx++) buckets[yy * gw + xx].push(i);
  }
  return {
    at(x: number, y: number): number {
      let v = 10;
      const cx = Math.floor((x - gx0) / cell);
      const cy = Math.floor((y - gy0) / cell);
      if (cx < 0 || cy < 0 || cx >= gw || cy >= gh) return v;
      for (const i of buckets[cy * gw + cx]) {
        const dx = x - bx[i];
        const dy = y - by[i];
        v += amp[i] * Math.exp(-(dx * dx + dy * dy) * inv2s2[i]);
      }
      return v;
    },
  };
}

/**
 * Samples `scene` through `m` (pixel p of the result shows scene point m(p)), adds Gaussian
 * noise of standard deviation `noiseSigma`, and returns a float32 plane.
 * With m mapping the reference frame to a slice, pass m⁻¹ here: the slice's pixel q shows
 * the scene at m⁻¹(q).
 */
export function renderScene(scene: Scene, width: number, height: number, m: Readonly<Affine>, options: { noiseSigma?: number; seed?: number } = {}): Float32Array {
  const out = new Float32Array(width * height);
  const noise = gaussianNoise(mulberry32(options.seed ?? 7));
  const sigma = options.noiseSigma ?? 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = applyAffine(m, x, y);
      out[y * width + x] = scene.at(sx, sy) + (sigma > 0 ? sigma * noise() : 0);
    }
  }
  return out;
}
