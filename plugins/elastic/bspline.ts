/**
 * Cubic B-spline free-form deformation (Rueckert et al. 1999) on a uniform control grid,
 * and the image interpolation used by the elastic registration.
 *
 * Conventions: x = column, y = row, pixel centres at integer coordinates, origin at the
 * centre of pixel (0, 0). A grid of spacing S (pixels) has control point (i, j) at
 * ((i − 1)·S, (j − 1)·S); `nx = floor((W − 1)/S) + 4` points cover [0, W − 1] with the
 * cubic support. Coefficients are displacements in pixels.
 */
import { FocalError } from '../../core/index.js';
import { splineCoefficients, splineMirrorIndex } from '../../core/imaging.js';

/** Uniform cubic B-spline weights for fractional offset `f` ∈ [0, 1) (nodes k−1 … k+2). */
export function cubicWeights(f: number, out: Float64Array, offset = 0): void {
  const f2 = f * f;
  const f3 = f2 * f;
  const g = 1 - f;
  out[offset] = (g * g * g) / 6;
  out[offset + 1] = (3 * f3 - 6 * f2 + 4) / 6;
  out[offset + 2] = (-3 * f3 + 3 * f2 + 3 * f + 1) / 6;
  out[offset + 3] = f3 / 6;
}

/** A 2D displacement field as a cubic B-spline control grid (coefficients in pixels). */
export interface BSplineGrid {
  /** Size of the image domain (pixels) the grid covers. */
  width: number;
  height: number;
  /** Control point spacing, pixels. */
  spacingPx: number;
  nx: number;
  ny: number;
  /** x and y displacement coefficients, ny × nx row-major, pixels. */
  cx: Float64Array;
  cy: Float64Array;
}

/** Number of control points along an axis of `size` pixels with spacing `spacingPx`. */
export function gridPoints(size: number, spacingPx: number): number {
  return Math.floor((size - 1) / spacingPx) + 4;
}

/** A zero-displacement grid. @throws FocalError `E_ARGUMENT` for a spacing ≤ 0 or bad size. */
export function createGrid(width: number, height: number, spacingPx: number): BSplineGrid {
  if (!(spacingPx > 0) || !Number.isFinite(spacingPx)) throw new FocalError('E_ARGUMENT', `spacingPx must be positive, got ${spacingPx}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `grid domain must be positive integers, got ${width}×${height}`);
  }
  const nx = gridPoints(width, spacingPx);
  const ny = gridPoints(height, spacingPx);
  return { width, height, spacingPx, nx, ny, cx: new Float64Array(nx * ny), cy: new Float64Array(nx * ny) };
}

/**
 * Sampling tables for evaluating a grid of spacing `spacingFullPx` (full-resolution pixels)
 * at the pixels of a level image whose pixel p sits at full-resolution coordinate p·step.
 */
export interface AxisTable {
  /** First control index (k) for each sample; nodes k … k+3 contribute. */
  k: Int32Array;
  /** Four weights per sample. */
  w: Float64Array;
}

export function axisTable(samples: number, step: number, spacingFullPx: number, points: number): AxisTable {
  const k = new Int32Array(samples);
  const w = new Float64Array(samples * 4);
  for (let p = 0; p < samples; p++) {
    const t = (p * step) / spacingFullPx;
    let kk = Math.floor(t);
    let f = t - kk;
    if (kk > points - 4) {
      // only at the far edge when (size − 1)/S is an integer: same point, last interval
      kk = points - 4;
      f = t - kk;
    }
    k[p] = kk;
    cubicWeights(f, w, p * 4);
  }
  return { k, w };
}

/**
 * Dense displacement of a grid at the pixels of a level image (`tx` columns, `ty` rows).
 * Writes ux, uy (pixels of the grid's units) into `outX`, `outY` (length tx.k.length × ty.k.length).
 */
export function evaluateGrid(grid: BSplineGrid, tx: AxisTable, ty: AxisTable, outX: Float32Array, outY: Float32Array): void {
  const W = tx.k.length;
  const H = ty.k.length;
  const { nx, ny, cx, cy } = grid;
  // pass 1: along x for every control row
  const rx = new Float64Array(ny * W);
  const ry = new Float64Array(ny * W);
  for (let j = 0; j < ny; j++) {
    const base = j * nx;
    for (let p = 0; p < W; p++) {
      const k = base + tx.k[p];
      const o = p * 4;
      const w0 = tx.w[o], w1 = tx.w[o + 1], w2 = tx.w[o + 2], w3 = tx.w[o + 3];
      rx[j * W + p] = w0 * cx[k] + w1 * cx[k + 1] + w2 * cx[k + 2] + w3 * cx[k + 3];
      ry[j * W + p] = w0 * cy[k] + w1 * cy[k + 1] + w2 * cy[k + 2] + w3 * cy[k + 3];
    }
  }
  // pass 2: along y
  for (let q = 0; q < H; q++) {
    const o = q * 4;
    const w0 = ty.w[o], w1 = ty.w[o + 1], w2 = ty.w[o + 2], w3 = ty.w[o + 3];
    const r0 = ty.k[q] * W, r1 = r0 + W, r2 = r1 + W, r3 = r2 + W;
    const row = q * W;
    for (let p = 0; p < W; p++) {
      outX[row + p] = w0 * rx[r0 + p] + w1 * rx[r1 + p] + w2 * rx[r2 + p] + w3 * rx[r3 + p];
      outY[row + p] = w0 * ry[r0 + p] + w1 * ry[r1 + p] + w2 * ry[r2 + p] + w3 * ry[r3 + p];
    }
  }
}

/**
 * Adjoint of `evaluateGrid`: the gradient with respect to the coefficients of
 * Σ_p gx[p]·ux[p] + gy[p]·uy[p]. Adds into `outX`, `outY` (ny × nx).
 */
export function gridAdjoint(grid: BSplineGrid, tx: AxisTable, ty: AxisTable, gx: Float32Array | Float64Array, gy: Float32Array | Float64Array, outX: Float64Array, outY: Float64Array): void {
  const W = tx.k.length;
  const H = ty.k.length;
  const { nx, ny } = grid;
  const ax = new Float64Array(ny * W);
  const ay = new Float64Array(ny * W);
  for (let q = 0; q < H; q++) {
    const o = q * 4;
    const w0 = ty.w[o], w1 = ty.w[o + 1], w2 = ty.w[o + 2], w3 = ty.w[o + 3];
    const r0 = ty.k[q] * W, r1 = r0 + W, r2 = r1 + W, r3 = r2 + W;
    const row = q * W;
    for (let p = 0; p < W; p++) {
      const a = gx[row + p];
      const b = gy[row + p];
      if (a === 0 && b === 0) continue;
      ax[r0 + p] += w0 * a; ax[r1 + p] += w1 * a; ax[r2 + p] += w2 * a; ax[r3 + p] += w3 * a;
      ay[r0 + p] += w0 * b; ay[r1 + p] += w1 * b; ay[r2 + p] += w2 * b; ay[r3 + p] += w3 * b;
    }
  }
  for (let j = 0; j < ny; j++) {
    const base = j * nx;
    for (let p = 0; p < W; p++) {
      const a = ax[j * W + p];
      const b = ay[j * W + p];
      const k = base + tx.k[p];
      const o = p * 4;
      outX[k] += tx.w[o] * a; outX[k + 1] += tx.w[o + 1] * a; outX[k + 2] += tx.w[o + 2] * a; outX[k + 3] += tx.w[o + 3] * a;
      outY[k] += tx.w[o] * b; outY[k + 1] += tx.w[o + 1] * b; outY[k + 2] += tx.w[o + 2] * b; outY[k + 3] += tx.w[o + 3] * b;
    }
  }
}

/**
 * Exact dyadic refinement (B-spline subdivision): the grid of half the spacing that
 * represents the same displacement on the image domain.
 */
export function refineGrid(grid: BSplineGrid): BSplineGrid {
  const fine = createGrid(grid.width, grid.height, grid.spacingPx / 2);
  const coarse = (c: Float64Array, i: number, j: number) => (i < 0 || j < 0 || i >= grid.nx || j >= grid.ny ? 0 : c[j * grid.nx + i]);
  // fine node m sits at (m − 1)·S/2; coarse node i at (i − 1)·S, so fine m = 2i − 1.
  // 1D masks: m odd (m = 2i − 1) → (c[i−1] + 6c[i] + c[i+1])/8; m even (between i and i+1, m = 2i) → (c[i] + c[i+1])/2.
  const taps = (m: number): [number, number][] => {
    if (m % 2 !== 0) {
      const i = (m + 1) / 2;
      return [[i - 1, 1 / 8], [i, 6 / 8], [i + 1, 1 / 8]];
    }
    const i = m / 2;
    return [[i, 1 / 2], [i + 1, 1 / 2]];
  };
  for (const [src, dst] of [[grid.cx, fine.cx], [grid.cy, fine.cy]] as const) {
    for (let n = 0; n < fine.ny; n++) {
      const ty = taps(n);
      for (let m = 0; m < fine.nx; m++) {
        const tx = taps(m);
        let acc = 0;
        for (const [j, wy] of ty) for (const [i, wx] of tx) acc += wy * wx * coarse(src, i, j);
        dst[n * fine.nx + m] = acc;
      }
    }
  }
  return fine;
}

/**
 * Bending energy of the displacement, evaluated exactly at the control knots inside the
 * image (uniform cubic B-spline: value (1,4,1)/6, first derivative (−1,0,1)/(2S), second
 * (1,−2,1)/S²), averaged over knots: mean of uxx² + 2uxy² + uyy² (both components), in
 * pixel⁻² units. Adds weight·∂E/∂c into gx, gy and returns weight·E.
 */
export function bendingEnergy(grid: BSplineGrid, weight: number, gx: Float64Array | null, gy: Float64Array | null): number {
  if (weight === 0) return 0;
  const { nx, ny, spacingPx: S } = grid;
  const S2 = S * S;
  // knots with index 1 … last inside the image
  const kxMax = Math.min(nx - 2, Math.floor((grid.width - 1) / S) + 1);
  const kyMax = Math.min(ny - 2, Math.floor((grid.height - 1) / S) + 1);
  const count = kxMax * kyMax;
  const v = [1 / 6, 4 / 6, 1 / 6];
  const d1 = [-1 / (2 * S), 0, 1 / (2 * S)];
  const d2 = [1 / S2, -2 / S2, 1 / S2];
  let energy = 0;
  for (const [c, g] of [[grid.cx, gx], [grid.cy, gy]] as const) {
    for (let j = 1; j <= kyMax; j++) {
      for (let i = 1; i <= kxMax; i++) {
        let uxx = 0, uyy = 0, uxy = 0;
        for (let b = 0; b < 3; b++) {
          const row = (j - 1 + b) * nx + i - 1;
          for (let a = 0; a < 3; a++) {
            const cv = c[row + a];
            uxx += d2[a] * v[b] * cv;
            uyy += v[a] * d2[b] * cv;
            uxy += d1[a] * d1[b] * cv;
          }
        }
        energy += uxx * uxx + 2 * uxy * uxy + uyy * uyy;
        if (g) {
          const s = (2 * weight) / count;
          for (let b = 0; b < 3; b++) {
            const row = (j - 1 + b) * nx + i - 1;
            for (let a = 0; a < 3; a++) g[row + a] += s * (uxx * d2[a] * v[b] + uyy * v[a] * d2[b] + 2 * uxy * d1[a] * d1[b]);
          }
        }
      }
    }
  }
  return (weight * energy) / count;
}

/**
 * Bilinear sample with the gradient images, at (x, y) in pixels of a W×H image.
 * Returns false (and leaves out untouched) outside [0, W−1]×[0, H−1].
 */
export function sampleLinear3(img: Float32Array, gxImg: Float32Array, gyImg: Float32Array, W: number, H: number, x: number, y: number, out: Float64Array): boolean {
  if (!(x >= 0 && y >= 0 && x <= W - 1 && y <= H - 1)) return false;
  let ix = Math.floor(x);
  let iy = Math.floor(y);
  if (ix >= W - 1) ix = W - 2 < 0 ? 0 : W - 2;
  if (iy >= H - 1) iy = H - 2 < 0 ? 0 : H - 2;
  const fx = x - ix;
  const fy = y - iy;
  const i00 = iy * W + ix;
  const i01 = W > 1 ? i00 + 1 : i00;
  const i10 = H > 1 ? i00 + W : i00;
  const i11 = H > 1 ? i01 + W : i01;
  const a = (1 - fx) * (1 - fy), b = fx * (1 - fy), c = (1 - fx) * fy, d = fx * fy;
  out[0] = a * img[i00] + b * img[i01] + c * img[i10] + d * img[i11];
  out[1] = a * gxImg[i00] + b * gxImg[i01] + c * gxImg[i10] + d * gxImg[i11];
  out[2] = a * gyImg[i00] + b * gyImg[i01] + c * gyImg[i10] + d * gyImg[i11];
  return true;
}

/** Central-difference gradient images (one-sided at the borders). */
export function gradientImages(img: Float32Array, W: number, H: number): { gx: Float32Array; gy: Float32Array } {
  const gx = new Float32Array(W * H);
  const gy = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const xl = x > 0 ? x - 1 : x, xr = x < W - 1 ? x + 1 : x;
      const yu = y > 0 ? y - 1 : y, yd = y < H - 1 ? y + 1 : y;
      gx[i] = xr > xl ? (img[y * W + xr] - img[y * W + xl]) / (xr - xl) : 0;
      gy[i] = yd > yu ? (img[yd * W + x] - img[yu * W + x]) / (yd - yu) : 0;
    }
  }
  return { gx, gy };
}

/**
 * Cubic B-spline interpolation coefficients of an image (core's `splineCoefficients`: Unser's
 * recursive prefilter, mirror boundaries) in float32, so that sampling them with `cubicWeights`
 * interpolates the pixels.
 */
export function cubicCoefficients(img: ArrayLike<number>, W: number, H: number): Float32Array {
  return Float32Array.from(splineCoefficients(img, W, H));
}

/** Cubic B-spline sample of coefficients `coef` (from `cubicCoefficients`) at (x, y). */
export function sampleCubic(coef: Float32Array, W: number, H: number, x: number, y: number, wx: Float64Array, wy: Float64Array): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  cubicWeights(x - ix, wx);
  cubicWeights(y - iy, wy);
  let acc = 0;
  for (let b = 0; b < 4; b++) {
    const row = splineMirrorIndex(iy - 1 + b, H) * W;
    let r = 0;
    for (let a = 0; a < 4; a++) r += wx[a] * coef[row + splineMirrorIndex(ix - 1 + a, W)];
    acc += wy[b] * r;
  }
  return acc;
}

/**
 * Cubic B-spline sample with its exact gradient: writes value, ∂/∂x, ∂/∂y into `out`.
 * (x, y) must lie in [0, W−1]×[0, H−1] (mirror boundaries beyond the pixels).
 */
export function sampleCubic3(coef: Float32Array, W: number, H: number, x: number, y: number, out: Float64Array): void {
  let ix = Math.floor(x);
  let iy = Math.floor(y);
  if (ix > W - 1) ix = W - 1;
  if (iy > H - 1) iy = H - 1;
  const fx = x - ix, fy = y - iy;
  const gx = 1 - fx, gy = 1 - fy;
  const fx2 = fx * fx, fy2 = fy * fy;
  const wx0 = (gx * gx * gx) / 6, wx1 = (3 * fx2 * fx - 6 * fx2 + 4) / 6, wx2 = (-3 * fx2 * fx + 3 * fx2 + 3 * fx + 1) / 6, wx3 = (fx2 * fx) / 6;
  const wy0 = (gy * gy * gy) / 6, wy1 = (3 * fy2 * fy - 6 * fy2 + 4) / 6, wy2 = (-3 * fy2 * fy + 3 * fy2 + 3 * fy + 1) / 6, wy3 = (fy2 * fy) / 6;
  const dx0 = -0.5 * gx * gx, dx1 = 1.5 * fx2 - 2 * fx, dx2 = -1.5 * fx2 + fx + 0.5, dx3 = 0.5 * fx2;
  const dy0 = -0.5 * gy * gy, dy1 = 1.5 * fy2 - 2 * fy, dy2 = -1.5 * fy2 + fy + 0.5, dy3 = 0.5 * fy2;
  let c0: number, c1: number, c2: number, c3: number;
  if (ix >= 1 && ix + 2 <= W - 1) {
    c0 = ix - 1; c1 = ix; c2 = ix + 1; c3 = ix + 2;
  } else {
    c0 = splineMirrorIndex(ix - 1, W); c1 = splineMirrorIndex(ix, W); c2 = splineMirrorIndex(ix + 1, W); c3 = splineMirrorIndex(ix + 2, W);
  }
  let r0: number, r1: number, r2: number, r3: number;
  if (iy >= 1 && iy + 2 <= H - 1) {
    r0 = (iy - 1) * W; r1 = r0 + W; r2 = r1 + W; r3 = r2 + W;
  } else {
    r0 = splineMirrorIndex(iy - 1, H) * W; r1 = splineMirrorIndex(iy, H) * W; r2 = splineMirrorIndex(iy + 1, H) * W; r3 = splineMirrorIndex(iy + 2, H) * W;
  }
  let a0 = coef[r0 + c0], a1 = coef[r0 + c1], a2 = coef[r0 + c2], a3 = coef[r0 + c3];
  let r = wx0 * a0 + wx1 * a1 + wx2 * a2 + wx3 * a3;
  let rd = dx0 * a0 + dx1 * a1 + dx2 * a2 + dx3 * a3;
  let v = wy0 * r, vx = wy0 * rd, vy = dy0 * r;
  a0 = coef[r1 + c0]; a1 = coef[r1 + c1]; a2 = coef[r1 + c2]; a3 = coef[r1 + c3];
  r = wx0 * a0 + wx1 * a1 + wx2 * a2 + wx3 * a3;
  rd = dx0 * a0 + dx1 * a1 + dx2 * a2 + dx3 * a3;
  v += wy1 * r; vx += wy1 * rd; vy += dy1 * r;
  a0 = coef[r2 + c0]; a1 = coef[r2 + c1]; a2 = coef[r2 + c2]; a3 = coef[r2 + c3];
  r = wx0 * a0 + wx1 * a1 + wx2 * a2 + wx3 * a3;
  rd = dx0 * a0 + dx1 * a1 + dx2 * a2 + dx3 * a3;
  v += wy2 * r; vx += wy2 * rd; vy += dy2 * r;
  a0 = coef[r3 + c0]; a1 = coef[r3 + c1]; a2 = coef[r3 + c2]; a3 = coef[r3 + c3];
  r = wx0 * a0 + wx1 * a1 + wx2 * a2 + wx3 * a3;
  rd = dx0 * a0 + dx1 * a1 + dx2 * a2 + dx3 * a3;
  v += wy3 * r; vx += wy3 * rd; vy += dy3 * r;
  out[0] = v;
  out[1] = vx;
  out[2] = vy;
}
