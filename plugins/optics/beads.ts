/**
 * Measured PSF from images of sub-resolution beads: detection, 2D Gaussian fits (lateral
 * FWHM, Deep-R Methods "Estimation of the lateral FWHM values for PSF analysis"), an axial
 * Gaussian fit for z-stacks, sub-pixel registration and averaging.
 */
import { FocalError } from '../../core/index.js';
import { FWHM_PER_SIGMA, gaussianBlur2d } from '../../core/imaging.js';
import { fitGaussian1d, fitGaussian2d } from './fit.js';

/** Options of {@link psfFromBeads}. */
export interface PsfFromBeadsOptions {
  /** Side of the square box around each bead that is fitted and averaged, px (odd, ≥ 5). */
  boxPx: number;
  /** Beads with another detected peak closer than this (centre to centre, px) are skipped. Default boxPx. */
  minSeparationPx?: number;
  /** Detection threshold above the background, in robust noise SDs (1.4826·MAD). Default 5. */
  thresholdSigma?: number;
  /** Pixel size, µm; gives the FWHM in µm. */
  pixelSizeUm?: number;
}

/** One bead that passed detection, isolation and the fit checks. */
export interface Bead {
  /** Fitted centre, px (x = column, y = row; pixel centres at integers). */
  x: number;
  y: number;
  /** Fitted axial centre, plane index (z-stacks only). */
  z?: number;
  /** Fitted peak above the offset and the fitted offset (local background), image units. */
  amplitude: number;
  offset: number;
  sigmaXPx: number;
  sigmaYPx: number;
  fwhmXPx: number;
  fwhmYPx: number;
  /** Lateral FWHM in µm (when `pixelSizeUm` is known). */
  fwhmXUm?: number;
  fwhmYUm?: number;
  /** Axial FWHM, planes and µm (z-stacks; µm when `zStepUm` is known). */
  fwhmZPlanes?: number;
  fwhmZUm?: number;
  /** RMS residual of the 2D fit, image units. */
  residualRms: number;
}

export interface PsfFromBeadsResult {
  /** Averaged PSF, boxPx × boxPx (× planes for a z-stack), unit sum, negative values set to 0. */
  psf: Float32Array;
  beads: Bead[];
  /** Detected peaks, and why the others were not used. */
  detected: number;
  rejected: { crowded: number; edge: number; fit: number };
  /** Robust background (median) and noise (1.4826·MAD) of the detection image. */
  background: number;
  noise: number;
}

function arg(fieldName: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${fieldName}: ${message}`, { field: fieldName });
}

function medianOf(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Median and 1.4826·MAD (a robust SD for Gaussian noise). */
export function robustStats(values: ArrayLike<number>): { median: number; sigma: number } {
  const v = Float64Array.from(values as ArrayLike<number>);
  const median = medianOf(v);
  for (let i = 0; i < v.length; i++) v[i] = Math.abs(v[i] - median);
  return { median, sigma: 1.4826 * medianOf(v) };
}

function checkOptions(image: ArrayLike<number>, width: number, height: number, o: PsfFromBeadsOptions): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw arg('image', `width and height must be positive integers, got ${width}×${height} (empty image)`);
  if (image.length !== width * height) throw arg('image', `has ${image.length} pixels, expected ${width}×${height}`);
  for (let i = 0; i < image.length; i++) if (!Number.isFinite(image[i])) throw arg('image', `pixel ${i} is ${image[i]}; all pixels must be finite`);
  if (!Number.isInteger(o.boxPx) || o.boxPx < 5 || o.boxPx % 2 === 0) throw arg('boxPx', `must be an odd integer ≥ 5, got ${o.boxPx}`);
  if (o.boxPx > Math.min(width, height)) throw arg('boxPx', `${o.boxPx} px is larger than the image (${width}×${height})`);
  if (o.minSeparationPx !== undefined && (!Number.isFinite(o.minSeparationPx) || o.minSeparationPx < 0)) throw arg('minSeparationPx', `must be a finite number ≥ 0, got ${o.minSeparationPx}`);
  if (o.thresholdSigma !== undefined && (!Number.isFinite(o.thresholdSigma) || o.thresholdSigma <= 0)) throw arg('thresholdSigma', `must be a finite number > 0, got ${o.thresholdSigma}`);
  if (o.pixelSizeUm !== undefined && (!Number.isFinite(o.pixelSizeUm) || o.pixelSizeUm <= 0)) throw arg('pixelSizeUm', `must be a finite number > 0 (µm), got ${o.pixelSizeUm}`);
}

/** Keys cubic (a = −0.5) interpolation at (x, y), indices clamped to the image. */
export function bicubicAt(image: ArrayLike<number>, width: number, height: number, x: number, y: number): number {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  const wx = keys(fx);
  const wy = keys(fy);
  let s = 0;
  for (let j = 0; j < 4; j++) {
    const yy = Math.min(height - 1, Math.max(0, iy - 1 + j));
    let row = 0;
    for (let i = 0; i < 4; i++) row += wx[i] * image[yy * width + Math.min(width - 1, Math.max(0, ix - 1 + i))];
    s += wy[j] * row;
  }
  return s;
}

function keys(t: number): [number, number, number, number] {
  const a = -0.5;
  const k = (d: number) => {
    d = Math.abs(d);
    return d <= 1 ? (a + 2) * d ** 3 - (a + 3) * d ** 2 + 1 : d < 2 ? a * d ** 3 - 5 * a * d ** 2 + 8 * a * d - 4 * a : 0;
  };
  return [k(1 + t), k(t), k(1 - t), k(2 - t)];
}

interface Detection {
  beads: Bead[];
  detected: number;
  rejected: { crowded: number; edge: number; fit: number };
  background: number;
  noise: number;
}

/**
 * Finds isolated beads and fits each: peaks of the image smoothed with a σ = 1 px Gaussian
 * that are the maximum of their 5×5 neighbourhood and exceed median + k·(1.4826·MAD) of the
 * smoothed image; peaks with another peak within minSeparationPx or whose box leaves the image
 * are skipped; each remaining bead gets a 2D Gaussian least-squares fit on the raw pixels of its
 * box, and is dropped when the fit fails (not converged, centre off by > 2 px, σ outside
 * 0.3…boxPx/2 px, non-positive amplitude).
 */
function detectAndFit(image: ArrayLike<number>, width: number, height: number, o: PsfFromBeadsOptions): Detection {
  const k = o.thresholdSigma ?? 5;
  const minSep = o.minSeparationPx ?? o.boxPx;
  const half = (o.boxPx - 1) / 2;
  const smooth = gaussianBlur2d(image, width, height, 1, 1);
  const { median, sigma } = robustStats(smooth);
  const threshold = median + k * sigma;
  const peaks: { x: number; y: number; v: number }[] = [];
  const R = 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = smooth[y * width + x];
      if (!(v > threshold)) continue;
      let isMax = true;
      for (let dy = -R; dy <= R && isMax; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -R; dx <= R; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
          const u = smooth[yy * width + xx];
          // strict against earlier pixels, ≥ against later ones: one peak per plateau
          if (u > v || (u === v && yy * width + xx < y * width + x)) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) peaks.push({ x, y, v });
    }
  }
  const rejected = { crowded: 0, edge: 0, fit: 0 };
  const beads: Bead[] = [];
  for (const p of peaks) {
    const crowded = peaks.some((q) => q !== p && Math.hypot(q.x - p.x, q.y - p.y) < minSep);
    if (crowded) {
      rejected.crowded++;
      continue;
    }
    if (p.x - half < 1 || p.y - half < 1 || p.x + half > width - 2 || p.y + half > height - 2) {
      rejected.edge++;
      continue;
    }
    const g = fitGaussian2d(image, width, p.x - half, p.y - half, o.boxPx, o.boxPx);
    const ok =
      g.converged &&
      g.amplitude > 0 &&
      Math.hypot(g.x0 - p.x, g.y0 - p.y) <= 2 &&
      g.sigmaX >= 0.3 && g.sigmaY >= 0.3 &&
      g.sigmaX <= o.boxPx / 2 && g.sigmaY <= o.boxPx / 2;
    if (!ok) {
      rejected.fit++;
      continue;
    }
    const bead: Bead = {
      x: g.x0,
      y: g.y0,
      amplitude: g.amplitude,
      offset: g.offset,
      sigmaXPx: g.sigmaX,
      sigmaYPx: g.sigmaY,
      fwhmXPx: FWHM_PER_SIGMA * g.sigmaX,
      fwhmYPx: FWHM_PER_SIGMA * g.sigmaY,
      residualRms: g.rms,
    };
    if (o.pixelSizeUm !== undefined) {
      bead.fwhmXUm = bead.fwhmXPx * o.pixelSizeUm;
      bead.fwhmYUm = bead.fwhmYPx * o.pixelSizeUm;
    }
    beads.push(bead);
  }
  return { beads, detected: peaks.length, rejected, background: median, noise: sigma };
}

function finish(acc: Float64Array, count: Float64Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < acc.length; i++) {
    acc[i] = count[i] > 0 ? Math.max(0, acc[i] / count[i]) : 0;
    sum += acc[i];
  }
  if (!(sum > 0)) throw new FocalError('E_ARGUMENT', 'image: the averaged bead PSF is zero everywhere', { field: 'image' });
  return Float32Array.from(acc, (v) => v / sum);
}

/**
 * Measured PSF from one bead image: detects isolated beads, fits each with a 2D Gaussian
 * (Levenberg–Marquardt on amplitude, x0, y0, σx, σy, offset), resamples each bead's box
 * around its fitted centre (Keys bicubic, so all beads share a sub-pixel-exact centre),
 * subtracts the fitted offset, divides by the fitted amplitude, averages, sets negative values
 * to 0 and normalises to unit sum. Lateral FWHM = 2√(2 ln 2)·σ.
 *
 * @param image Row-major bead image (width × height, finite). Not modified.
 * @throws FocalError `E_ARGUMENT` naming the field: image (empty, wrong size, NaN, no bead found), boxPx
 *   (odd ≥ 5, ≤ image), minSeparationPx, thresholdSigma, pixelSizeUm.
 */
export function psfFromBeads(image: ArrayLike<number>, width: number, height: number, options: PsfFromBeadsOptions): PsfFromBeadsResult {
  checkOptions(image, width, height, options);
  const det = detectAndFit(image, width, height, options);
  if (det.beads.length === 0) throw noBeads(det);
  const box = options.boxPx;
  const half = (box - 1) / 2;
  const acc = new Float64Array(box * box);
  const count = new Float64Array(box * box);
  for (const b of det.beads) {
    for (let j = 0; j < box; j++) {
      for (let i = 0; i < box; i++) {
        acc[j * box + i] += (bicubicAt(image, width, height, b.x + i - half, b.y + j - half) - b.offset) / b.amplitude;
        count[j * box + i]++;
      }
    }
  }
  return { psf: finish(acc, count), ...det };
}

function noBeads(det: Detection): FocalError {
  return new FocalError(
    'E_ARGUMENT',
    `image: no usable bead (${det.detected} peaks above background ${det.background.toPrecision(4)} + threshold; rejected: ${det.rejected.crowded} crowded, ${det.rejected.edge} at the edge, ${det.rejected.fit} failed fits)`,
    { field: 'image' },
  );
}

/** Lateral FWHM of one bead on one plane of a z-stack (null where the 2D fit failed). */
export interface PlaneFwhm {
  /** Index into `beads`. */
  bead: number;
  plane: number;
  fwhmXPx: number | null;
  fwhmYPx: number | null;
}

/** Result of {@link psfFromBeadStack}: the PSF has `planes` planes of boxPx × boxPx. */
export interface PsfFromBeadStackResult extends PsfFromBeadsResult {
  planes: number;
  /** Lateral FWHM of every bead on every plane (Deep-R Fig. 4b: FWHM against defocus). */
  fwhmByPlane: PlaneFwhm[];
  /** Index of the most focused input plane (largest standard deviation), where beads are detected. */
  focusPlane: number;
}

/**
 * Measured 3D PSF and lateral + axial FWHM from a z-stack of beads (Deep-R Methods): beads are
 * detected and fitted laterally on the most focused plane (largest standard deviation); the
 * axial profile through each fitted centre (bicubic value at (x, y) on every plane) gets a 1D
 * Gaussian fit (FWHM in planes, × zStepUm in µm). The 3D PSF averages each bead's box re-centred
 * laterally (bicubic) and axially (linear interpolation between planes, so its fitted z lands on
 * the middle plane), voxel by voxel over the beads that cover it; it has sizeZ planes (sizeZ − 1
 * when even, to keep a centre plane) and unit total sum.
 * Each bead's lateral FWHM is also fitted on every plane (`fwhmByPlane`, as Deep-R's FWHM
 * against defocus), in the box around its focused-plane centre.
 * Deviation from Deep-R: the axial FWHM comes from a 1D fit along z through the centre rather
 * than from a 2D fit of the x–z slice (same σz for a separable Gaussian, and one fewer nuisance
 * parameter per bead).
 * @throws FocalError `E_ARGUMENT` as {@link psfFromBeads}, and `planes` when fewer than 3 planes or planes of another size.
 */
export function psfFromBeadStack(planes: ArrayLike<number>[], width: number, height: number, options: PsfFromBeadsOptions & { zStepUm?: number }): PsfFromBeadStackResult {
  if (planes.length < 3) throw arg('planes', `a bead z-stack needs at least 3 planes, got ${planes.length}`);
  if (options.zStepUm !== undefined && (!Number.isFinite(options.zStepUm) || options.zStepUm <= 0)) throw arg('zStepUm', `must be a finite number > 0 (µm), got ${options.zStepUm}`);
  planes.forEach((p, i) => {
    if (p.length !== width * height) throw arg('planes', `plane ${i} has ${p.length} pixels, expected ${width}×${height}`);
  });
  let focusPlane = 0;
  let best = -Infinity;
  planes.forEach((p, i) => {
    let s = 0;
    let s2 = 0;
    for (let k = 0; k < p.length; k++) {
      s += p[k];
      s2 += p[k] * p[k];
    }
    const sd = Math.sqrt(Math.max(0, s2 / p.length - (s / p.length) ** 2));
    if (sd > best) {
      best = sd;
      focusPlane = i;
    }
  });
  const image = planes[focusPlane];
  checkOptions(image, width, height, options);
  const det = detectAndFit(image, width, height, options);
  if (det.beads.length === 0) throw noBeads(det);

  const nz = planes.length;
  const fwhmByPlane: PlaneFwhm[] = [];
  const half0 = (options.boxPx - 1) / 2;
  det.beads.forEach((b, index) => {
    // the box around the bead's focused-plane centre on every plane; a fit that fails, drifts
    // by more than 2 px or runs into the σ limits gives null
    const bx = Math.round(b.x) - half0;
    const by = Math.round(b.y) - half0;
    planes.forEach((p, plane) => {
      const g = fitGaussian2d(p, width, bx, by, options.boxPx, options.boxPx);
      const ok = g.converged && g.amplitude > 0 && Math.hypot(g.x0 - b.x, g.y0 - b.y) <= 2 && Math.min(g.sigmaX, g.sigmaY) >= 0.3 && Math.max(g.sigmaX, g.sigmaY) <= options.boxPx / 2;
      fwhmByPlane.push({ bead: index, plane, fwhmXPx: ok ? FWHM_PER_SIGMA * g.sigmaX : null, fwhmYPx: ok ? FWHM_PER_SIGMA * g.sigmaY : null });
    });
  });
  for (const b of det.beads) {
    const profile = planes.map((p) => bicubicAt(p, width, height, b.x, b.y));
    const f = fitGaussian1d(profile);
    b.z = f.center;
    b.fwhmZPlanes = FWHM_PER_SIGMA * f.sigma;
    if (options.zStepUm !== undefined) b.fwhmZUm = b.fwhmZPlanes * options.zStepUm;
  }

  const box = options.boxPx;
  const half = (box - 1) / 2;
  const outZ = nz % 2 ? nz : nz - 1;
  const cz = (outZ - 1) / 2;
  const acc = new Float64Array(outZ * box * box);
  const count = new Float64Array(outZ * box * box);
  const slice = new Float64Array(box * box);
  for (const b of det.beads) {
    const z0 = b.z!;
    if (!Number.isFinite(z0)) continue;
    for (let q = 0; q < outZ; q++) {
      const z = z0 + q - cz;
      if (z < 0 || z > nz - 1) continue;
      const z1 = Math.floor(z);
      const t = z - z1;
      const z2 = Math.min(nz - 1, z1 + 1);
      for (let j = 0; j < box; j++) {
        for (let i = 0; i < box; i++) {
          const x = b.x + i - half;
          const y = b.y + j - half;
          const a = bicubicAt(planes[z1], width, height, x, y);
          const c = t > 0 ? bicubicAt(planes[z2], width, height, x, y) : a;
          slice[j * box + i] = ((1 - t) * a + t * c - b.offset) / b.amplitude;
        }
      }
      for (let k = 0; k < box * box; k++) {
        acc[q * box * box + k] += slice[k];
        count[q * box * box + k]++;
      }
    }
  }
  return { psf: finish(acc, count), ...det, planes: outZ, focusPlane, fwhmByPlane };
}
