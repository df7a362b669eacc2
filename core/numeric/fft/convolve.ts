/**
 * 2D convolution by FFT (float64, the mixed-radix real FFT of plan.ts) with the usual
 * boundary extensions, on padded grids of 5-smooth sizes (2^a·3^b·5^c ≥ image + 2·radius,
 * so a 512² image with a 65² kernel runs on 576², not 1024²).
 *
 * Convolution, not correlation: out[y, x] = Σ k[j, i] · img[y − (j − cy), x − (i − cx)]
 * with the kernel centre (cx, cy) = ((kw − 1)/2, (kh − 1)/2) (odd sizes only), as
 * scipy.ndimage.convolve and scipy.signal.fftconvolve(…, 'same') on the extended image.
 *
 * Boundaries (SciPy ndimage names): 'reflect' half-sample mirror (d c b a | a b c d | d c b a),
 * 'zero' (SciPy 'constant' with 0), 'nearest' (a a a | a b c d | d d d), 'wrap' (periodic).
 * With 'reflect' and a kernel symmetric under x → −x and y → −y, the output sum equals the
 * input sum up to rounding (what the blur moves out across an edge the mirror moves back in).
 *
 * Reuse: {@link FftConvolver} holds the plan and buffers for one image size and kernel
 * radius; {@link ImageConvolver} keeps an image's spectrum for many kernels (a PSF stack),
 * {@link KernelConvolver} a kernel's spectrum for many images, {@link LayeredConvolver}
 * sums layer_k ∗ kernel_k in the frequency domain with one inverse transform.
 */
import { FocalError } from '../../errors.js';
import { RealFft3d, nextFastSize } from './plan.js';

export type ConvolveBoundary = 'reflect' | 'zero' | 'nearest' | 'wrap';
export const CONVOLVE_BOUNDARIES: readonly ConvolveBoundary[] = ['reflect', 'zero', 'nearest', 'wrap'];

export interface ConvolveOptions {
  /** How the image is extended past its edges (default 'reflect'). */
  boundary?: ConvolveBoundary;
}

/** A half spectrum on a convolver's grid (split re/im, (nx/2 + 1) × ny values). */
export interface Spectrum2d {
  re: Float64Array;
  im: Float64Array;
}

/** Index into [0, n) of position i of the half-sample symmetric extension (… c b a | a b c … | … c b a |). */
export function mirrorIndex(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** Index into [0, n) that position i of the extended signal reads, or −1 for a zero. */
export function extendIndex(i: number, n: number, boundary: ConvolveBoundary): number {
  if (i >= 0 && i < n) return i;
  switch (boundary) {
    case 'reflect':
      return mirrorIndex(i, n);
    case 'zero':
      return -1;
    case 'nearest':
      return i < 0 ? 0 : n - 1;
    case 'wrap': {
      const m = i % n;
      return m < 0 ? m + n : m;
    }
  }
}

function checkBoundary(b: unknown): ConvolveBoundary {
  if (!CONVOLVE_BOUNDARIES.includes(b as ConvolveBoundary)) throw new FocalError('E_ARGUMENT', `boundary must be one of ${CONVOLVE_BOUNDARIES.join(', ')}, got ${String(b)}`, { field: 'boundary' });
  return b as ConvolveBoundary;
}

function checkSize(n: number, field: string): void {
  if (!Number.isInteger(n) || n < 1) throw new FocalError('E_ARGUMENT', `${field} must be a positive integer, got ${n}`, { field });
}

function checkData(data: ArrayLike<number>, n: number, field: string): void {
  if (!data || data.length !== n) throw new FocalError('E_ARGUMENT', `${field} must hold ${n} values, got ${data ? data.length : 'none'}`, { field });
}

/**
 * FFT convolution grid for width × height images and odd kernels of half-size up to
 * radiusX × radiusY. Not thread-safe (shared buffers); cheap to keep and reuse.
 */
export class FftConvolver {
  readonly boundary: ConvolveBoundary;
  /** Padded grid (nx even); the image sits at (radiusX, radiusY). */
  readonly nx: number;
  readonly ny: number;
  private readonly fft: RealFft3d;
  private readonly buf: Float64Array;
  /** For each padded column / row: the image column / row it reads (−1: zero). */
  private readonly colMap: Int32Array;
  private readonly rowMap: Int32Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly radiusX: number,
    readonly radiusY: number = radiusX,
    options: ConvolveOptions = {},
  ) {
    checkSize(width, 'width');
    checkSize(height, 'height');
    if (!Number.isInteger(radiusX) || radiusX < 0) throw new FocalError('E_ARGUMENT', `radiusX must be an integer ≥ 0, got ${radiusX}`, { field: 'radiusX' });
    if (!Number.isInteger(radiusY) || radiusY < 0) throw new FocalError('E_ARGUMENT', `radiusY must be an integer ≥ 0, got ${radiusY}`, { field: 'radiusY' });
    this.boundary = checkBoundary(options.boundary ?? 'reflect');
    this.nx = nextFastSize(Math.max(2, width + 2 * radiusX), true);
    this.ny = nextFastSize(height + 2 * radiusY);
    this.fft = new RealFft3d(this.nx, this.ny);
    this.buf = new Float64Array(this.nx * this.ny);
    this.colMap = Int32Array.from({ length: this.nx }, (_, p) => extendIndex(p - radiusX, width, this.boundary));
    this.rowMap = Int32Array.from({ length: this.ny }, (_, p) => extendIndex(p - radiusY, height, this.boundary));
  }

  /** Complex values in a spectrum on this grid. */
  get spectrumLength(): number {
    return this.fft.spectrumLength;
  }

  /** The spectrum of the boundary-extended image (width × height values). */
  imageSpectrum(image: ArrayLike<number>): Spectrum2d {
    checkData(image, this.width * this.height, 'image');
    const { nx, ny, buf, colMap, rowMap, width } = this;
    for (let py = 0; py < ny; py++) {
      const sy = rowMap[py];
      const row = py * nx;
      if (sy < 0) {
        buf.fill(0, row, row + nx);
        continue;
      }
      const src = sy * width;
      for (let px = 0; px < nx; px++) {
        const sx = colMap[px];
        buf[row + px] = sx < 0 ? 0 : image[src + sx];
      }
    }
    this.fft.forward(buf);
    return { re: Float64Array.from(this.fft.specRe), im: Float64Array.from(this.fft.specIm) };
  }

  /**
   * The spectrum of a kw × kh kernel (odd sizes, half-sizes within the radii), centred at
   * the origin, scaled by 1/N so that {@link inverse} of a product needs no normalisation.
   */
  kernelSpectrum(kernel: ArrayLike<number>, kw: number, kh: number = kw): Spectrum2d {
    this.checkKernel(kernel, kw, kh);
    const { nx, ny, buf } = this;
    buf.fill(0);
    const cx = (kw - 1) / 2;
    const cy = (kh - 1) / 2;
    for (let j = 0; j < kh; j++) {
      const row = ((j - cy + ny) % ny) * nx;
      for (let i = 0; i < kw; i++) buf[row + ((i - cx + nx) % nx)] = kernel[j * kw + i];
    }
    this.fft.forward(buf);
    const s = 1 / (nx * ny);
    const re = Float64Array.from(this.fft.specRe);
    const im = Float64Array.from(this.fft.specIm);
    for (let i = 0; i < re.length; i++) {
      re[i] *= s;
      im[i] *= s;
    }
    return { re, im };
  }

  /** A zero spectrum on this grid (an accumulator for {@link multiplyAdd}). */
  zeroSpectrum(): Spectrum2d {
    return { re: new Float64Array(this.fft.spectrumLength), im: new Float64Array(this.fft.spectrumLength) };
  }

  /** acc ← acc + a · b. */
  multiplyAdd(acc: Spectrum2d, a: Spectrum2d, b: Spectrum2d): void {
    const { re: ar, im: ai } = a;
    const { re: br, im: bi } = b;
    const { re: cr, im: ci } = acc;
    for (let i = 0; i < cr.length; i++) {
      cr[i] += ar[i] * br[i] - ai[i] * bi[i];
      ci[i] += ar[i] * bi[i] + ai[i] * br[i];
    }
  }

  /** The width × height image whose (extended) spectrum is image spectrum · kernel spectrum. */
  convolveSpectra(image: Spectrum2d, kernel: Spectrum2d, out?: Float64Array): Float64Array {
    const { specRe, specIm } = this.fft;
    const { re: ar, im: ai } = image;
    const { re: br, im: bi } = kernel;
    for (let i = 0; i < specRe.length; i++) {
      specRe[i] = ar[i] * br[i] - ai[i] * bi[i];
      specIm[i] = ar[i] * bi[i] + ai[i] * br[i];
    }
    return this.inverseCurrent(out);
  }

  /** The width × height crop of the inverse transform of `spectrum` (a product with a kernel spectrum, so already scaled). */
  inverse(spectrum: Spectrum2d, out?: Float64Array): Float64Array {
    this.fft.specRe.set(spectrum.re);
    this.fft.specIm.set(spectrum.im);
    return this.inverseCurrent(out);
  }

  /** image ∗ kernel, width × height, float64. */
  convolve(image: ArrayLike<number>, kernel: ArrayLike<number>, kw: number, kh: number = kw, out?: Float64Array): Float64Array {
    const k = this.kernelSpectrum(kernel, kw, kh);
    return this.convolveSpectra(this.imageSpectrum(image), k, out);
  }

  private inverseCurrent(out?: Float64Array): Float64Array {
    const { nx, buf, width, height, radiusX, radiusY } = this;
    this.fft.inverse(buf);
    const img = out ?? new Float64Array(width * height);
    if (img.length !== width * height) throw new FocalError('E_ARGUMENT', `out must hold ${width * height} values, got ${img.length}`, { field: 'out' });
    for (let y = 0; y < height; y++) {
      const row = (y + radiusY) * nx + radiusX;
      img.set(buf.subarray(row, row + width), y * width);
    }
    return img;
  }

  private checkKernel(kernel: ArrayLike<number>, kw: number, kh: number): void {
    for (const [n, r, f] of [[kw, this.radiusX, 'kernelWidth'], [kh, this.radiusY, 'kernelHeight']] as const) {
      if (!Number.isInteger(n) || n < 1 || n % 2 === 0) throw new FocalError('E_ARGUMENT', `${f} must be an odd positive integer, got ${n}`, { field: f });
      if ((n - 1) / 2 > r) throw new FocalError('E_ARGUMENT', `${f} ${n} exceeds this convolver's radius ${r} (half-size ${(n - 1) / 2})`, { field: f });
    }
    checkData(kernel, kw * kh, 'kernel');
  }
}

/** Convolves one image with many kernels: the image's spectrum is computed once. */
export class ImageConvolver {
  readonly grid: FftConvolver;
  private readonly spectrum: Spectrum2d;
  constructor(image: ArrayLike<number>, width: number, height: number, radiusX: number, radiusY: number = radiusX, options: ConvolveOptions = {}) {
    this.grid = new FftConvolver(width, height, radiusX, radiusY, options);
    this.spectrum = this.grid.imageSpectrum(image);
  }
  /** image ∗ kernel (kw × kh, odd, half-size within the radii), width × height, float64. */
  convolve(kernel: ArrayLike<number>, kw: number, kh: number = kw): Float64Array {
    return this.grid.convolveSpectra(this.spectrum, this.grid.kernelSpectrum(kernel, kw, kh));
  }
}

/** Convolves many images (all width × height) with one kernel: the kernel's spectrum is computed once. */
export class KernelConvolver {
  readonly grid: FftConvolver;
  private readonly spectrum: Spectrum2d;
  constructor(kernel: ArrayLike<number>, kw: number, kh: number, width: number, height: number, options: ConvolveOptions = {}) {
    this.grid = new FftConvolver(width, height, (kw - 1) / 2, (kh - 1) / 2, options);
    this.spectrum = this.grid.kernelSpectrum(kernel, kw, kh);
  }
  /** image ∗ kernel, width × height, float64. */
  convolve(image: ArrayLike<number>, out?: Float64Array): Float64Array {
    return this.grid.convolveSpectra(this.grid.imageSpectrum(image), this.spectrum, out);
  }
}

/**
 * Σ_k layer_k ∗ kernel_k (each layer boundary-extended on its own), summed in the
 * frequency domain: two forward transforms per layer, one inverse for the total.
 */
export class LayeredConvolver {
  readonly grid: FftConvolver;
  private readonly acc: Spectrum2d;
  constructor(width: number, height: number, radiusX: number, radiusY: number = radiusX, options: ConvolveOptions = {}) {
    this.grid = new FftConvolver(width, height, radiusX, radiusY, options);
    this.acc = this.grid.zeroSpectrum();
  }
  /** Adds layer ∗ kernel (layer: width × height; kernel: kw × kh, odd, centred). */
  add(layer: ArrayLike<number>, kernel: ArrayLike<number>, kw: number, kh: number = kw): void {
    const k = this.grid.kernelSpectrum(kernel, kw, kh);
    this.grid.multiplyAdd(this.acc, this.grid.imageSpectrum(layer), k);
  }
  /** The accumulated sum, width × height, float64. */
  result(): Float64Array {
    return this.grid.inverse(this.acc);
  }
}

/** image ∗ kernel by FFT (width × height, float64); see the module notes for centring and boundaries. */
export function fftConvolve(image: ArrayLike<number>, width: number, height: number, kernel: ArrayLike<number>, kw: number, kh: number = kw, options: ConvolveOptions = {}): Float64Array {
  if (!Number.isInteger(kw) || kw < 1 || kw % 2 === 0) throw new FocalError('E_ARGUMENT', `kernelWidth must be an odd positive integer, got ${kw}`, { field: 'kernelWidth' });
  if (!Number.isInteger(kh) || kh < 1 || kh % 2 === 0) throw new FocalError('E_ARGUMENT', `kernelHeight must be an odd positive integer, got ${kh}`, { field: 'kernelHeight' });
  return new FftConvolver(width, height, (kw - 1) / 2, (kh - 1) / 2, options).convolve(image, kernel, kw, kh);
}

/** The same convolution computed directly (O(N·K)): for tests and tiny kernels. */
export function convolveDirect(image: ArrayLike<number>, width: number, height: number, kernel: ArrayLike<number>, kw: number, kh: number = kw, options: ConvolveOptions = {}): Float64Array {
  checkSize(width, 'width');
  checkSize(height, 'height');
  checkData(image, width * height, 'image');
  if (!Number.isInteger(kw) || kw < 1 || kw % 2 === 0) throw new FocalError('E_ARGUMENT', `kernelWidth must be an odd positive integer, got ${kw}`, { field: 'kernelWidth' });
  if (!Number.isInteger(kh) || kh < 1 || kh % 2 === 0) throw new FocalError('E_ARGUMENT', `kernelHeight must be an odd positive integer, got ${kh}`, { field: 'kernelHeight' });
  checkData(kernel, kw * kh, 'kernel');
  const boundary = checkBoundary(options.boundary ?? 'reflect');
  const cx = (kw - 1) / 2;
  const cy = (kh - 1) / 2;
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let j = 0; j < kh; j++) {
        const sy = extendIndex(y - (j - cy), height, boundary);
        if (sy < 0) continue;
        for (let i = 0; i < kw; i++) {
          const sx = extendIndex(x - (i - cx), width, boundary);
          if (sx >= 0) acc += kernel[j * kw + i] * image[sy * width + sx];
        }
      }
      out[y * width + x] = acc;
    }
  }
  return out;
}
