/**
 * Defocus simulator: blur an in-focus image with the Born & Wolf PSF of a uniform or
 * spatially varying defocus, then optionally add Poisson–Gaussian camera noise.
 */
import { FocalError } from '../errors.js';
import { ImageConvolver, LayeredConvolver } from '../numeric/fft/convolve.js';
import { Xoshiro128 } from '../numeric/random.js';
import { assertParamAllocation } from './budget.js';
import { bornWolfHalfSizePx, bornWolfPsfStack, validateOptics, type OpticsOptions } from './psf.js';

/** Options of {@link defocus}. Lengths in µm. */
export interface DefocusOptions extends OpticsOptions {
  /** Pixel size in the sample plane, µm. */
  pixelSizeUm: number;
  /** Uniform defocus, µm (added to the tilt and height-map terms). */
  defocusUm: number;
  /** Planar sample tilt, degrees (|tilt| < 89). Default 0. */
  tiltDeg?: number;
  /**
   * Direction of the tilt axis in the image plane, degrees from +x towards +y (image rows
   * go down). Default 0: the axis runs along x, so the defocus changes along y (rows), as
   * in Deep-R's tilted-sample figures.
   */
  tiltAxisDeg?: number;
  /** Per-pixel sample height, µm (width × height values), added to the local defocus. */
  heightMapUm?: ArrayLike<number>;
  /** Width of the defocus bins for spatially varying defocus, µm. Default 0.1. */
  binStepUm?: number;
  /** PSF window width, px (odd). Default: from the largest |defocus| ({@link bornWolfHalfSizePx}). */
  psfSizePx?: number;
  /** PSF pixel oversampling (default 3). */
  oversampling?: number;
  /** Expected photo-electrons at the brightest pixel of the in-focus input; enables noise. */
  photons?: number;
  /** Camera read noise, e⁻ rms (Gaussian); needs `photons`. Default 0. */
  readNoiseE?: number;
  /** Uniform background, expected photo-electrons per pixel (Poisson too); needs `photons`. Default 0. */
  backgroundPhotons?: number;
  /** PRNG seed for the noise. Default 0. */
  seed?: number;
  /** Independent noise stream (e.g. the plane index of a z-stack) for the same seed. Default 0. */
  noiseStream?: number;
  /** Called after each simulated plane of {@link defocusSeries} (may throw, e.g. to cancel). */
  onPlane?: (done: number, total: number) => void;
}

function arg(fieldName: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${fieldName}: ${message}`, { field: fieldName });
}

function checkImage(image: ArrayLike<number>, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw arg('image', `width and height must be positive integers, got ${width}×${height} (empty image)`);
  }
  if (image.length !== width * height) throw arg('image', `has ${image.length} pixels, expected ${width}×${height} = ${width * height}`);
  for (let i = 0; i < image.length; i++) {
    if (!Number.isFinite(image[i])) throw arg('image', `pixel ${i} (x=${i % width}, y=${Math.floor(i / width)}) is ${image[i]}; all pixels must be finite`);
  }
}

/** Checks everything but the image and the defocus values. */
function checkOptions(o: DefocusOptions, width: number, height: number): void {
  validateOptics(o);
  if (!Number.isFinite(o.pixelSizeUm) || o.pixelSizeUm <= 0) throw arg('pixelSizeUm', `must be a finite number > 0 (µm), got ${o.pixelSizeUm}`);
  const tilt = o.tiltDeg ?? 0;
  if (!Number.isFinite(tilt) || Math.abs(tilt) >= 89) throw arg('tiltDeg', `must be a finite angle with |tilt| < 89°, got ${tilt}`);
  if (!Number.isFinite(o.tiltAxisDeg ?? 0)) throw arg('tiltAxisDeg', `must be a finite angle, got ${o.tiltAxisDeg}`);
  if (o.heightMapUm !== undefined) {
    if (o.heightMapUm.length !== width * height) throw arg('heightMapUm', `has ${o.heightMapUm.length} values, expected ${width}×${height} = ${width * height}`);
    for (let i = 0; i < o.heightMapUm.length; i++) if (!Number.isFinite(o.heightMapUm[i])) throw arg('heightMapUm', `value ${i} is ${o.heightMapUm[i]}; must be finite (µm)`);
  }
  const bin = o.binStepUm ?? 0.1;
  if (!Number.isFinite(bin) || bin <= 0) throw arg('binStepUm', `must be a finite number > 0 (µm), got ${bin}`);
  if (o.psfSizePx !== undefined && (!Number.isInteger(o.psfSizePx) || o.psfSizePx < 1 || o.psfSizePx % 2 === 0)) throw arg('psfSizePx', `must be an odd positive integer, got ${o.psfSizePx}`);
  if (o.photons !== undefined && (!Number.isFinite(o.photons) || o.photons <= 0)) throw arg('photons', `must be a finite number > 0 (e⁻), got ${o.photons}`);
  for (const name of ['readNoiseE', 'backgroundPhotons'] as const) {
    const v = o[name];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v < 0) throw arg(name, `must be a finite number ≥ 0 (e⁻), got ${v}`);
    if (v > 0 && o.photons === undefined) throw arg(name, 'needs photons (the noise model is in photo-electrons)');
  }
  if (o.seed !== undefined && !Number.isFinite(o.seed)) throw arg('seed', `must be a finite number, got ${o.seed}`);
}

/**
 * Local defocus of each pixel, µm: defocusUm + tan(tiltDeg)·d + heightMapUm, where d is the
 * signed distance (µm) of the pixel centre from the image centre along the direction
 * perpendicular to the tilt axis, (−sin α, cos α) with α = tiltAxisDeg. Returns `null` when
 * the defocus is uniform (no tilt and no height map).
 */
export function defocusMap(width: number, height: number, o: Pick<DefocusOptions, 'defocusUm' | 'tiltDeg' | 'tiltAxisDeg' | 'heightMapUm' | 'pixelSizeUm'>): Float64Array | null {
  const tilt = o.tiltDeg ?? 0;
  if (tilt === 0 && o.heightMapUm === undefined) return null;
  const slope = Math.tan((tilt * Math.PI) / 180);
  const alpha = ((o.tiltAxisDeg ?? 0) * Math.PI) / 180;
  const ux = -Math.sin(alpha);
  const uy = Math.cos(alpha);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const d = ((x - cx) * ux + (y - cy) * uy) * o.pixelSizeUm;
      out[i] = o.defocusUm + slope * d + (o.heightMapUm ? o.heightMapUm[i] : 0);
    }
  }
  return out;
}

type PsfSource = (defocusUm: number) => Float32Array;

/**
 * Spatially varying blur (tilt / height map), float64, before noise; see {@link defocusImage}.
 * TSVA's layered model (Eq. 2) with linear interpolation between layers: layer k holds
 * w_k(p)·image(p), where w_k is the tent weight of bin centre k·step at the pixel's local
 * defocus (the two nearest bins' weights sum to 1), and is blurred with that bin's PSF.
 */
function blurVarying(image: ArrayLike<number>, map: Float64Array, step: number, psfAt: PsfSource, psfSize: number, width: number, height: number): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const k0 = Math.floor(lo / step);
  const k1 = Math.max(k0 + 1, Math.ceil(hi / step));
  const conv = new LayeredConvolver(width, height, (psfSize - 1) / 2, (psfSize - 1) / 2, { boundary: 'reflect' });
  const layer = new Float64Array(map.length);
  for (let k = k0; k <= k1; k++) {
    const center = k * step;
    let any = false;
    for (let i = 0; i < map.length; i++) {
      const w = 1 - Math.abs(map[i] - center) / step;
      layer[i] = w > 0 ? w * image[i] : 0;
      if (w > 0) any = true;
    }
    if (any) conv.add(layer, psfAt(Math.abs(center)), psfSize);
  }
  return conv.result();
}

/**
 * Bytes defocusSeries allocates, estimated before anything is (an upper bound, not exact): the
 * padded image spectra (complex float64, a few buffers), one cached float32 PSF per plane,
 * the oversampled PSF being computed, and per plane a float64 blurred image and a float32 result.
 */
function defocusBytes(width: number, height: number, psfSize: number, planes: number, oversampling: number): number {
  const padded = (width + psfSize) * (height + psfSize);
  return padded * 16 * 4 + psfSize * psfSize * (4 * planes + 8 * oversampling * oversampling) + width * height * (8 + 4 * planes);
}

function psfSizeFor(o: DefocusOptions, maxAbsDefocus: number, width: number, height: number): number {
  if (o.psfSizePx !== undefined) return o.psfSizePx;
  // never larger than needed to fill the image twice over (beyond that the mirror repeats)
  const half = Math.min(bornWolfHalfSizePx({ ...o, maxDefocusUm: maxAbsDefocus }), 2 * Math.max(width, height));
  return 2 * half + 1;
}

function maxAbsDefocus(o: DefocusOptions, defocusValues: number[], width: number, height: number): number {
  let m = 0;
  for (const d of defocusValues) {
    const map = defocusMap(width, height, { ...o, defocusUm: d });
    if (map === null) m = Math.max(m, Math.abs(d));
    else for (const v of map) m = Math.max(m, Math.abs(v));
  }
  return m;
}

/** Adds Poisson–Gaussian noise to a blurred image in input units; returns photo-electrons. */
function addNoise(blurred: Float64Array, scale: number, o: DefocusOptions, stream: number): Float32Array {
  const rng = new Xoshiro128(o.seed ?? 0, stream);
  const bg = o.backgroundPhotons ?? 0;
  const read = o.readNoiseE ?? 0;
  const out = new Float32Array(blurred.length);
  for (let i = 0; i < blurred.length; i++) {
    const expected = Math.max(0, blurred[i] * scale) + bg; // max(0, ·): FFT rounding (~1e-16) only
    out[i] = rng.poisson(expected) + (read > 0 ? read * rng.normal() : 0);
  }
  return out;
}

/**
 * Simulates the image of an in-focus object seen out of focus: convolution with the Born &
 * Wolf PSF (TSVA paper, Eq. 1) for the local defocus, then optional camera noise.
 *
 * - Uniform defocus: one FFT convolution. Spatially varying defocus (tilt, height map): the
 *   layered model of the TSVA paper (Eq. 2, X = Σ_m x_m ∗ h_m) with depth layers at multiples
 *   of `binStepUm`; each pixel's intensity is split between the two layers around its local
 *   defocus by linear (tent) weights, and each layer is blurred with its own PSF. Each emitter
 *   is thus blurred by a mix of the two PSFs nearest its true defocus (exact at bin centres;
 *   the error shrinks with the bin width).
 * - Boundaries: half-sample mirror extension. The sum of the image is preserved exactly (up to
 *   rounding), uniform or not: every PSF has unit sum and is symmetric, and the layers' weights
 *   sum to 1.
 * - Units: without `photons`, the result is in the input's units (a noise-free expected image).
 *   With `photons`, the image is scaled by s = photons / max(input) (so the brightest pixel of
 *   the *in-focus* input would collect `photons` e⁻; defocused peaks are lower, as at a fixed
 *   exposure), `backgroundPhotons` are added, the total is Poisson sampled and Gaussian read
 *   noise (`readNoiseE` e⁻ rms) is added: the result is in photo-electrons (a camera with a
 *   gain of 1 ADU/e⁻ and no offset), float32, and may be negative where read noise dominates.
 *   Divide by s (returned as `electronsPerUnit`) to compare with the input.
 *
 * @param image Row-major in-focus image (width × height, finite values; ≥ 0 when noise is added). Not modified.
 * @returns `image` (float32) and `electronsPerUnit` (s, or 1 without noise).
 * @throws FocalError `E_ARGUMENT` naming the field: image (empty, wrong length, NaN), na,
 *   refractiveIndex, wavelengthUm, pixelSizeUm, defocusUm, tiltDeg, heightMapUm, binStepUm,
 *   psfSizePx, photons, readNoiseE, backgroundPhotons, seed.
 */
export function defocusImage(image: ArrayLike<number>, width: number, height: number, options: DefocusOptions): { image: Float32Array; electronsPerUnit: number } {
  const [plane] = defocusSeries(image, width, height, { ...options, defocusUm: [options.defocusUm] });
  return plane;
}

/**
 * {@link defocus} for several defocus values (a simulated z-stack), sharing the image's FFT.
 * Plane i uses noise stream `noiseStream + i`, so planes get independent noise.
 */
export function defocusSeries(
  image: ArrayLike<number>,
  width: number,
  height: number,
  options: Omit<DefocusOptions, 'defocusUm'> & { defocusUm: number[] },
): { image: Float32Array; electronsPerUnit: number }[] {
  checkImage(image, width, height);
  const values = options.defocusUm;
  if (!Array.isArray(values) || values.length === 0) throw arg('defocusUm', 'give at least one defocus value (µm)');
  values.forEach((d, i) => {
    if (!Number.isFinite(d)) throw arg('defocusUm', `value ${i} is ${d}; must be a finite number (µm)`);
  });
  const base: DefocusOptions = { ...options, defocusUm: values[0] };
  checkOptions(base, width, height);

  let scale = 1;
  if (options.photons !== undefined) {
    let max = -Infinity;
    let min = Infinity;
    for (let i = 0; i < image.length; i++) {
      if (image[i] > max) max = image[i];
      if (image[i] < min) min = image[i];
    }
    if (min < 0) throw arg('image', `has negative pixels (min ${min}); photon noise needs a non-negative intensity image`);
    if (!(max > 0)) throw arg('image', 'is all zero; photons scales the brightest pixel, so the image needs a positive maximum');
    scale = options.photons / max;
  }

  const psfSize = psfSizeFor(base, maxAbsDefocus(base, values, width, height), width, height);
  assertParamAllocation(base.psfSizePx !== undefined ? 'psfSizePx' : 'defocusUm', defocusBytes(width, height, psfSize, values.length, base.oversampling ?? 1),
    `optics.defocus of a ${width}×${height} image with a ${psfSize}-px PSF window and ${values.length} plane(s)`);
  const cache = new Map<number, Float32Array>();
  const psfOpts = { na: base.na, refractiveIndex: base.refractiveIndex, wavelengthUm: base.wavelengthUm, pixelSizeUm: base.pixelSizeUm, sizePx: psfSize, oversampling: base.oversampling };
  const psfAt: PsfSource = (d) => {
    let p = cache.get(d);
    if (!p) cache.set(d, (p = bornWolfPsfStack({ ...psfOpts, defocusUm: [d] })[0]));
    return p;
  };
  const uniform = defocusMap(width, height, base) === null;
  const results: { image: Float32Array; electronsPerUnit: number }[] = [];
  const finishPlane = (blurred: Float64Array, i: number) => {
    const plane = options.photons === undefined ? Float32Array.from(blurred) : addNoise(blurred, scale, { ...base, defocusUm: values[i] }, (options.noiseStream ?? 0) + i);
    results.push({ image: plane, electronsPerUnit: scale });
    options.onPlane?.(i + 1, values.length);
  };
  if (uniform) {
    // one FFT of the image (core's FFT convolver, half-sample mirror = SciPy 'reflect'); per plane one PSF FFT and one inverse
    const conv = new ImageConvolver(image, width, height, (psfSize - 1) / 2, (psfSize - 1) / 2, { boundary: 'reflect' });
    values.forEach((d, i) => finishPlane(conv.convolve(psfAt(Math.abs(d)), psfSize), i));
  } else {
    values.forEach((d, i) => finishPlane(blurVarying(image, defocusMap(width, height, { ...base, defocusUm: d })!, base.binStepUm ?? 0.1, psfAt, psfSize, width, height), i));
  }
  return results;
}

/**
 * {@link defocusImage} returning only the pixels (photo-electrons when `photons` is given,
 * else the input's units).
 * @example
 * const blurred = defocus(img, 256, 256, { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.447, pixelSizeUm: 0.325, defocusUm: 2, photons: 1000, readNoiseE: 1.5, seed: 7 });
 */
export function defocus(image: ArrayLike<number>, width: number, height: number, options: DefocusOptions): Float32Array {
  return defocusImage(image, width, height, options).image;
}
