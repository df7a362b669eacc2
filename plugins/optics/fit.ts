/**
 * The Gaussian models used for bead analysis, fitted by core's Levenberg–Marquardt.
 */
import { levenbergMarquardt, type LeastSquaresModel } from '../../core/imaging.js';

/** Parameters of a 2D elliptical (axis-aligned) Gaussian on a constant offset. */
export interface Gaussian2d {
  amplitude: number;
  x0: number;
  y0: number;
  sigmaX: number;
  sigmaY: number;
  offset: number;
  rms: number;
  converged: boolean;
}

/**
 * Least-squares fit of offset + A·exp(−(x−x0)²/(2σx²) − (y−y0)²/(2σy²)) to the pixels of a
 * box (x from bx, y from by, w × h pixels, values at pixel centres, coordinates in image px).
 * Start values: the box minimum as offset, the intensity-weighted centroid and second moments.
 */
export function fitGaussian2d(image: ArrayLike<number>, width: number, bx: number, by: number, w: number, h: number): Gaussian2d {
  const data = new Float64Array(w * h);
  let min = Infinity;
  let max = -Infinity;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = image[(by + j) * width + bx + i];
      data[j * w + i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = data[j * w + i] - min;
      s += v;
      sx += v * i;
      sy += v * j;
    }
  }
  const cx = s > 0 ? sx / s : (w - 1) / 2;
  const cy = s > 0 ? sy / s : (h - 1) / 2;
  let vx = 0;
  let vy = 0;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = data[j * w + i] - min;
      vx += v * (i - cx) ** 2;
      vy += v * (j - cy) ** 2;
    }
  }
  const clampSigma = (v: number) => Math.min(Math.max(v, 0.5), Math.max(w, h) / 2);
  const p0 = [max - min, cx, cy, clampSigma(Math.sqrt(s > 0 ? vx / s : 1)), clampSigma(Math.sqrt(s > 0 ? vy / s : 1)), min];
  const model: LeastSquaresModel = (p, k, g) => {
    const i = k % w;
    const j = (k - i) / w;
    const dx = i - p[1];
    const dy = j - p[2];
    const ex = (dx * dx) / (p[3] * p[3]);
    const ey = (dy * dy) / (p[4] * p[4]);
    const e = Math.exp(-0.5 * (ex + ey));
    g[0] = e;
    g[1] = (p[0] * e * dx) / (p[3] * p[3]);
    g[2] = (p[0] * e * dy) / (p[4] * p[4]);
    g[3] = (p[0] * e * ex) / p[3];
    g[4] = (p[0] * e * ey) / p[4];
    g[5] = 1;
    return p[5] + p[0] * e;
  };
  const fit = levenbergMarquardt(model, data, p0, {
    constrain: (p) => {
      p[3] = Math.max(Math.abs(p[3]), 0.05);
      p[4] = Math.max(Math.abs(p[4]), 0.05);
    },
  });
  const p = fit.params;
  return { amplitude: p[0], x0: bx + p[1], y0: by + p[2], sigmaX: p[3], sigmaY: p[4], offset: p[5], rms: fit.rms, converged: fit.converged };
}

/** Least-squares fit of offset + A·exp(−(t−t0)²/(2σ²)) to values at t = 0…n−1. */
export function fitGaussian1d(values: ArrayLike<number>): { amplitude: number; center: number; sigma: number; offset: number; rms: number; converged: boolean } {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < n; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) {
      max = values[i];
      arg = i;
    }
  }
  // half-maximum width of the peak for the start value of σ
  const half = min + (max - min) / 2;
  let lo = arg;
  let hi = arg;
  while (lo > 0 && values[lo - 1] > half) lo--;
  while (hi < n - 1 && values[hi + 1] > half) hi++;
  const sigma0 = Math.max(0.5, (hi - lo + 1) / 2.3548);
  const model: LeastSquaresModel = (p, i, g) => {
    const d = i - p[1];
    const q = (d * d) / (p[2] * p[2]);
    const e = Math.exp(-0.5 * q);
    g[0] = e;
    g[1] = (p[0] * e * d) / (p[2] * p[2]);
    g[2] = (p[0] * e * q) / p[2];
    g[3] = 1;
    return p[3] + p[0] * e;
  };
  const fit = levenbergMarquardt(model, values, [max - min, arg, sigma0, min], {
    constrain: (p) => {
      p[2] = Math.max(Math.abs(p[2]), 0.05);
    },
  });
  const p = fit.params;
  return { amplitude: p[0], center: p[1], sigma: p[2], offset: p[3], rms: fit.rms, converged: fit.converged };
}
