import { gaussianBlur2d } from '../../core/imaging.js';
/**
 * Small separable filters over Float32Array planes used by the EDOF methods: squared
 * Laplacian, box sum (running sums), confidence-weighted Gaussian smoothing, 3×3 majority
 * filter of an index map. No allocation per pixel.
 */

/**
 * Squared 5-point Laplacian of `src` (edge pixels replicated) into `out`.
 * @param src width × height plane. @param out width × height, overwritten.
 */
export function squaredLaplacian(src: ArrayLike<number>, width: number, height: number, out: Float32Array): Float32Array {
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const up = (y > 0 ? y - 1 : 0) * width;
    const down = (y < height - 1 ? y + 1 : y) * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const c = src[i];
      const l = src[x > 0 ? i - 1 : i];
      const r = src[x < width - 1 ? i + 1 : i];
      const v = l + r + src[up + x] + src[down + x] - 4 * c;
      out[i] = v * v;
    }
  }
  return out;
}

/**
 * Sum over a (2·radius+1)² window clipped at the image edges, with running sums along rows
 * then columns (O(1) per pixel whatever the radius). In place on `data`; `tmp` is a
 * width × height scratch buffer. The EDOF focus measure uses sums, not means: at a given
 * pixel every plane has the same window, so the argmax over z and the three-point fit do not
 * depend on the normalisation.
 */
export function boxSum(data: Float32Array, width: number, height: number, radius: number, tmp: Float32Array): Float32Array {
  if (radius <= 0) return data;
  const r = radius;
  // rows → tmp
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let acc = 0;
    const first = Math.min(r, width - 1);
    for (let x = 0; x <= first; x++) acc += data[row + x];
    const a = Math.min(r, width); // x < a: no pixel leaves the window yet
    let x = 0;
    for (; x < a; x++) {
      tmp[row + x] = acc;
      if (x + r + 1 < width) acc += data[row + x + r + 1];
    }
    const b = width - r - 1; // x < b: a pixel enters and one leaves
    for (; x < b; x++) {
      tmp[row + x] = acc;
      acc += data[row + x + r + 1] - data[row + x - r];
    }
    for (; x < width; x++) {
      tmp[row + x] = acc;
      if (x + r + 1 < width) acc += data[row + x + r + 1];
      if (x - r >= 0) acc -= data[row + x - r];
    }
  }
  // columns, row by row with a running column-sum vector (float64 against drift)
  const colAcc = new Float64Array(width);
  const lastRow = Math.min(r, height - 1);
  for (let y = 0; y <= lastRow; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) colAcc[x] += tmp[row + x];
  }
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) data[row + x] = colAcc[x];
    const hi = y + r + 1;
    const lo = y - r;
    if (hi < height && lo >= 0) {
      const add = hi * width;
      const sub = lo * width;
      for (let x = 0; x < width; x++) colAcc[x] += tmp[add + x] - tmp[sub + x];
    } else {
      if (hi < height) {
        const add = hi * width;
        for (let x = 0; x < width; x++) colAcc[x] += tmp[add + x];
      }
      if (lo >= 0) {
        const sub = lo * width;
        for (let x = 0; x < width; x++) colAcc[x] -= tmp[sub + x];
      }
    }
  }
  return data;
}

/**
 * Normalised (confidence-weighted) Gaussian smoothing: G∗(w·v) / G∗w, so that pixels with
 * little focus information (low weight, e.g. empty background) take their value from
 * confident neighbours. Where G∗w vanishes the value is kept.
 * @returns a new Float32Array.
 */
export function weightedSmooth(values: Float32Array, weights: Float32Array, width: number, height: number, sigmaPx: number): Float32Array {
  const n = values.length;
  const wv = new Float32Array(n);
  let wMax = 0;
  for (let i = 0; i < n; i++) {
    wv[i] = weights[i] * values[i];
    if (weights[i] > wMax) wMax = weights[i];
  }
  if (!(wMax > 0)) return gaussianBlur2d(values, width, height, sigmaPx, sigmaPx, { truncate: 3 });
  const num = gaussianBlur2d(wv, width, height, sigmaPx, sigmaPx, { truncate: 3 });
  const den = gaussianBlur2d(weights, width, height, sigmaPx, sigmaPx, { truncate: 3 });
  const floor = wMax * 1e-9;
  for (let i = 0; i < n; i++) num[i] = den[i] > floor ? num[i] / den[i] : values[i];
  return num;
}

/**
 * 3×3 majority (mode) filter of an integer index map, edges replicated; ties keep the
 * centre value when it is among the most frequent, otherwise the first most frequent
 * neighbour in raster order. Returns a new array.
 */
export function majority3x3(idx: Uint16Array, width: number, height: number): Uint16Array {
  const out = new Uint16Array(idx.length);
  const win = new Uint16Array(9);
  for (let y = 0; y < height; y++) {
    const ys = [y > 0 ? y - 1 : 0, y, y < height - 1 ? y + 1 : y];
    for (let x = 0; x < width; x++) {
      const xs0 = x > 0 ? x - 1 : 0;
      const xs2 = x < width - 1 ? x + 1 : x;
      let k = 0;
      for (let j = 0; j < 3; j++) {
        const r = ys[j] * width;
        win[k++] = idx[r + xs0];
        win[k++] = idx[r + x];
        win[k++] = idx[r + xs2];
      }
      const centre = win[4];
      let best = centre;
      let bestCount = 0;
      for (let a = 0; a < 9; a++) if (win[a] === centre) bestCount++;
      if (bestCount < 5) {
        for (let a = 0; a < 9; a++) {
          const v = win[a];
          if (v === centre) continue;
          let c = 0;
          for (let b = 0; b < 9; b++) if (win[b] === v) c++;
          if (c > bestCount) {
            bestCount = c;
            best = v;
          }
        }
      }
      out[y * width + x] = best;
    }
  }
  return out;
}
