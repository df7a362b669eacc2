/**
 * Point spread functions: the Born & Wolf scalar defocus model (TSVA paper, Eq. 1) and a
 * Gaussian. Plain functions over typed arrays; lengths in micrometres unless named `…Px`.
 */
import { FocalError } from '../errors.js';
import { besselJ0 } from './bessel.js';
import { gaussLegendre01 } from './quadrature.js';

/** Optical settings of the Born & Wolf model. */
export interface OpticsOptions {
  /** Numerical aperture of the objective (0 < na < refractiveIndex). */
  na: number;
  /** Refractive index of the immersion medium (1.0 for a dry objective). */
  refractiveIndex: number;
  /** Emission wavelength in vacuum, µm (e.g. 0.447 for DAPI). */
  wavelengthUm: number;
}

/** Options of {@link bornWolfPsf}. */
export interface BornWolfPsfOptions extends OpticsOptions {
  /** Pixel size in the sample plane, µm. */
  pixelSizeUm: number;
  /** Distance of the object from the focal plane, µm (the sign does not matter in this scalar model). */
  defocusUm: number;
  /** Width and height of the PSF image, px (odd). */
  sizePx: number;
  /** Sub-samples per pixel along x and y for pixel integration (default 3, i.e. 3×3 per pixel). */
  oversampling?: number;
}

function field(fieldName: string, message: string): FocalError {
  return new FocalError('E_ARGUMENT', `${fieldName}: ${message}`, { field: fieldName });
}

/**
 * Checks NA, n and λ.
 * @throws FocalError `E_ARGUMENT` naming the field: na ≤ 0 or na ≥ refractiveIndex, n < 1, λ ≤ 0, non-finite values.
 */
export function validateOptics(o: OpticsOptions): void {
  if (!Number.isFinite(o.refractiveIndex) || o.refractiveIndex < 1) throw field('refractiveIndex', `must be a finite number ≥ 1, got ${o.refractiveIndex}`);
  if (!Number.isFinite(o.na) || o.na <= 0) throw field('na', `must be a finite number > 0, got ${o.na}`);
  if (o.na >= o.refractiveIndex) throw field('na', `must be smaller than the refractive index ${o.refractiveIndex} (NA = n·sin θ), got ${o.na}`);
  if (!Number.isFinite(o.wavelengthUm) || o.wavelengthUm <= 0) throw field('wavelengthUm', `must be a finite number > 0 (µm), got ${o.wavelengthUm}`);
}

function validateSampling(pixelSizeUm: number, sizePx: number, oversampling: number): void {
  if (!Number.isFinite(pixelSizeUm) || pixelSizeUm <= 0) throw field('pixelSizeUm', `must be a finite number > 0 (µm), got ${pixelSizeUm}`);
  if (!Number.isInteger(sizePx) || sizePx < 1 || sizePx % 2 === 0) throw field('sizePx', `must be an odd positive integer, got ${sizePx}`);
  if (sizePx > 4095) throw field('sizePx', `must be at most 4095, got ${sizePx}`);
  if (!Number.isInteger(oversampling) || oversampling < 1 || oversampling > 15) throw field('oversampling', `must be an integer 1…15, got ${oversampling}`);
}

function validateDefocus(defocusUm: number, name = 'defocusUm'): void {
  if (!Number.isFinite(defocusUm)) throw field(name, `must be a finite number (µm), got ${defocusUm}`);
}

/**
 * Number of Gauss–Legendre nodes for I(a, b) = ∫₀¹ J0(aρ) exp(−i b ρ²) ρ dρ. The integrand
 * oscillates with angular frequency up to a + 2b in ρ; a rule of n nodes resolves
 * frequencies well below 2n, so n = 0.75·(a + 2|b|) + 32 leaves a wide margin (the test
 * checks that doubling n changes the PSF by < 1e-9).
 */
export function bornWolfNodes(a: number, b: number): number {
  return Math.ceil((0.75 * (Math.abs(a) + 2 * Math.abs(b)) + 32) / 8) * 8;
}

/** Lateral and defocus scale factors of Eq. 1: a = k0·NA·r, b = k0·Δz·NA²/(2n), k0 = 2π/λ (vacuum). */
function scales(o: OpticsOptions, defocusUm: number): { aPerUm: number; b: number } {
  const k0 = (2 * Math.PI) / o.wavelengthUm;
  return { aPerUm: k0 * o.na, b: (k0 * defocusUm * o.na * o.na) / (2 * o.refractiveIndex) };
}

function intensityAt(a: number, b: number, nodes?: number): number {
  const n = nodes ?? bornWolfNodes(a, b);
  const { nodes: rho, weights } = gaussLegendre01(n);
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const p = rho[i];
    const f = weights[i] * besselJ0(a * p) * p;
    const phase = b * p * p;
    re += f * Math.cos(phase);
    im -= f * Math.sin(phase);
  }
  // h = |2·I|²: 1 at the focus centre (I(0, 0) = 1/2)
  return 4 * (re * re + im * im);
}

/**
 * Born & Wolf scalar defocus PSF at lateral distance r (TSVA paper, Eq. 1):
 *
 *   h(r, Δz) = |2 ∫₀¹ J0(k0·NA·r·ρ) · exp(−i·k0·Δz·NA²·ρ² / (2n)) · ρ dρ|²,  k0 = 2π/λ,
 *
 * which is the paper's form J0(k·(NA/n)·r·ρ)·exp(−½·i·k·ρ²·Δz·(NA/n)²) with k = 2π·n/λ the
 * wave number in the medium. Normalised so that h(0, 0) = 1 (the Airy peak).
 *
 * @param rUm Lateral distance from the optical axis, µm (≥ 0).
 * @param options NA, n, λ, and `defocusUm` (µm); `nodes` overrides the automatic Gauss–Legendre node count.
 * @throws FocalError `E_ARGUMENT` naming the field for invalid optics or a non-finite r / defocus.
 */
export function bornWolfIntensity(rUm: number, options: OpticsOptions & { defocusUm: number; nodes?: number }): number {
  validateOptics(options);
  validateDefocus(options.defocusUm);
  if (!Number.isFinite(rUm) || rUm < 0) throw field('rUm', `must be a finite number ≥ 0, got ${rUm}`);
  if (options.nodes !== undefined && (!Number.isInteger(options.nodes) || options.nodes < 1)) throw field('nodes', `must be a positive integer, got ${options.nodes}`);
  const { aPerUm, b } = scales(options, options.defocusUm);
  return intensityAt(aPerUm * rUm, b, options.nodes);
}

/**
 * The radial profile h(r) on a uniform grid r = i·drUm, i = 0…count−1 (so that pixel
 * sub-samples can be interpolated instead of integrated one by one).
 */
export function bornWolfRadialProfile(options: OpticsOptions & { defocusUm: number; maxRadiusUm: number; drUm: number }): Float64Array {
  validateOptics(options);
  validateDefocus(options.defocusUm);
  const count = Math.ceil(options.maxRadiusUm / options.drUm) + 3;
  const { aPerUm, b } = scales(options, options.defocusUm);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = intensityAt(aPerUm * i * options.drUm, b);
  return out;
}

/** Catmull–Rom interpolation of a profile sampled at i·dr, mirrored about r = 0. */
function interpolate(profile: Float64Array, r: number, dr: number): number {
  const t = r / dr;
  const i = Math.floor(t);
  const f = t - i;
  const at = (k: number) => profile[Math.min(Math.abs(k), profile.length - 1)];
  const p0 = at(i - 1);
  const p1 = at(i);
  const p2 = at(i + 1);
  const p3 = at(i + 2);
  return p1 + 0.5 * f * (p2 - p0 + f * (2 * p0 - 5 * p1 + 4 * p2 - p3 + f * (3 * (p1 - p2) + p3 - p0)));
}

/**
 * Born & Wolf PSF image (TSVA paper, Eq. 1; see {@link bornWolfIntensity}), integrated over
 * each pixel by oversampling (o×o sub-samples at the sub-pixel centres), centred on the
 * middle pixel, normalised to unit sum over the sizePx × sizePx window (energy outside the
 * window is dropped). The radial profile is computed once on a grid of spacing
 * min(pixel/(8·o), 0.61λ/NA/64) and interpolated with Catmull–Rom cubics.
 *
 * @returns sizePx × sizePx Float32Array, row-major.
 * @throws FocalError `E_ARGUMENT` naming the field: na, refractiveIndex, wavelengthUm, pixelSizeUm, defocusUm, sizePx (odd), oversampling.
 * @example
 * const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.447, pixelSizeUm: 0.325, defocusUm: 2, sizePx: 65 });
 */
export function bornWolfPsf(options: BornWolfPsfOptions): Float32Array {
  return bornWolfPsfStack({ ...options, defocusUm: [options.defocusUm] })[0];
}

/**
 * Born & Wolf PSF planes for a list of defocus values (a 3D PSF when the list is evenly spaced).
 * Each plane is normalised to unit sum on its own (every plane of a z-stack carries the same energy).
 * @throws FocalError `E_ARGUMENT` as {@link bornWolfPsf}, and for an empty defocus list.
 */
export function bornWolfPsfStack(options: Omit<BornWolfPsfOptions, 'defocusUm'> & { defocusUm: number[] }): Float32Array[] {
  validateOptics(options);
  const os = options.oversampling ?? 3;
  validateSampling(options.pixelSizeUm, options.sizePx, os);
  if (!Array.isArray(options.defocusUm) || options.defocusUm.length === 0) throw field('defocusUm', 'give at least one defocus value (µm)');
  options.defocusUm.forEach((d, i) => validateDefocus(d, `defocusUm[${i}]`));

  const size = options.sizePx;
  const half = (size - 1) / 2;
  const px = options.pixelSizeUm;
  const airy = (0.61 * options.wavelengthUm) / options.na;
  const dr = Math.min(px / (8 * os), airy / 64);
  const maxR = (half + 0.5) * Math.SQRT2 * px + dr;

  // sub-sample distances are the same for every plane: precompute (r / dr) per sub-sample
  const sub = Array.from({ length: os }, (_, j) => ((j + 0.5) / os - 0.5) * px);
  const radii = new Float64Array(size * size * os * os);
  let k = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const cx = (x - half) * px;
      const cy = (y - half) * px;
      for (const sy of sub) for (const sx of sub) radii[k++] = Math.hypot(cx + sx, cy + sy);
    }
  }

  const cache = new Map<number, Float32Array>();
  return options.defocusUm.map((defocusUm) => {
    const key = Math.abs(defocusUm); // h is symmetric in Δz
    const hit = cache.get(key);
    if (hit) return hit.slice();
    const profile = bornWolfRadialProfile({ ...options, defocusUm: key, maxRadiusUm: maxR, drUm: dr });
    const acc = new Float64Array(size * size);
    const per = os * os;
    let sum = 0;
    for (let p = 0, q = 0; p < acc.length; p++) {
      let s = 0;
      for (let j = 0; j < per; j++) s += interpolate(profile, radii[q++], dr);
      acc[p] = Math.max(0, s);
      sum += acc[p];
    }
    const out = new Float32Array(acc.length);
    for (let p = 0; p < acc.length; p++) out[p] = acc[p] / sum;
    cache.set(key, out);
    return out.slice();
  });
}

/**
 * Isotropic Gaussian PSF sampled at pixel centres, centred on the middle pixel, unit sum.
 * @param options `sigmaPx` (> 0, px) and `sizePx` (odd).
 * @throws FocalError `E_ARGUMENT` naming sigmaPx or sizePx.
 */
export function gaussianPsf(options: { sigmaPx: number; sizePx: number }): Float32Array {
  const { sigmaPx, sizePx } = options;
  if (!Number.isFinite(sigmaPx) || sigmaPx <= 0) throw field('sigmaPx', `must be a finite number > 0 (px), got ${sigmaPx}`);
  validateSampling(1, sizePx, 1);
  const half = (sizePx - 1) / 2;
  const w = new Float64Array(sizePx);
  for (let i = 0; i < sizePx; i++) w[i] = Math.exp(-((i - half) ** 2) / (2 * sigmaPx * sigmaPx));
  let sum = 0;
  const out = new Float64Array(sizePx * sizePx);
  for (let y = 0; y < sizePx; y++) for (let x = 0; x < sizePx; x++) sum += out[y * sizePx + x] = w[y] * w[x];
  return Float32Array.from(out, (v) => v / sum);
}

/** FWHM = 2·√(2 ln 2)·σ ≈ 2.3548·σ. */
export const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.log(2));

/**
 * Half-width of a PSF window that holds the Born & Wolf PSF for |Δz| ≤ maxDefocusUm with
 * margin: the geometric blur radius |Δz|·tan θ (sin θ = NA/n) plus 5·λ/NA (≈ 8 Airy radii,
 * > 98 % of the in-focus energy), times 1.2, in px.
 */
export function bornWolfHalfSizePx(o: OpticsOptions & { pixelSizeUm: number; maxDefocusUm: number }): number {
  const sin = o.na / o.refractiveIndex;
  const tan = sin / Math.sqrt(1 - sin * sin);
  return Math.ceil((1.2 * (Math.abs(o.maxDefocusUm) * tan) + (5 * o.wavelengthUm) / o.na) / o.pixelSizeUm);
}
