/**
 * 2D FFT convolution with half-sample mirror ("symmetric") boundary extension, on
 * power-of-two grids (fft.js is a radix-4/2 FFT). The padded image spectrum is computed
 * once so that many PSFs (a z-stack, defocus bins) reuse it.
 */
import FFT from 'fft.js';

const ffts = new Map<number, FFT>();
function fftOf(n: number): FFT {
  let f = ffts.get(n);
  if (!f) ffts.set(n, (f = new FFT(n)));
  return f;
}

export function nextPow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** Index into [0, n) of position i of the half-sample symmetric extension (… c b a | a b c … | … c b a |). */
export function mirrorIndex(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** Writes the mirror-extended image into the real parts of a rows × cols complex buffer, image origin at (r, r). */
function mirrorPad(image: ArrayLike<number>, width: number, height: number, r: number, buf: Float64Array, rows: number, cols: number): void {
  for (let py = 0; py < rows; py++) {
    const sy = mirrorIndex(py - r, height) * width;
    const row = 2 * py * cols;
    for (let px = 0; px < cols; px++) buf[row + 2 * px] = image[sy + mirrorIndex(px - r, width)];
  }
}

/** Writes a centred sizePx × sizePx PSF into the imaginary parts of a complex buffer, centre at the origin (wrapped). */
function placePsf(psf: ArrayLike<number>, sizePx: number, buf: Float64Array, rows: number, cols: number, part: 0 | 1): void {
  const half = (sizePx - 1) / 2;
  for (let y = 0; y < sizePx; y++) {
    const ky = (y - half + rows) % rows;
    for (let x = 0; x < sizePx; x++) buf[2 * (ky * cols + (x - half + cols) % cols) + part] = psf[y * sizePx + x];
  }
}

/**
 * Σ_k layer_k ∗ psf_k with mirror boundaries (TSVA's layered model, Eq. 2): each layer and its
 * PSF share one forward FFT (layer + i·psf, separated by Hermitian symmetry), the products are
 * summed in the frequency domain and one inverse FFT gives the result. Every layer's sum is
 * carried over exactly (symmetric unit-sum PSFs), so the total is too.
 */
export class LayeredConvolver {
  readonly rows: number;
  readonly cols: number;
  private readonly acc: Float64Array;
  private readonly buf: Float64Array;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxRadiusPx: number,
  ) {
    this.cols = nextPow2(width + 2 * maxRadiusPx);
    this.rows = nextPow2(height + 2 * maxRadiusPx);
    this.acc = new Float64Array(2 * this.rows * this.cols);
    this.buf = new Float64Array(2 * this.rows * this.cols);
  }

  /** Adds layer ∗ psf (layer: width × height; psf: sizePx × sizePx, odd, centred). */
  add(layer: ArrayLike<number>, psf: ArrayLike<number>, sizePx: number): void {
    const half = (sizePx - 1) / 2;
    if (!Number.isInteger(half) || half > this.maxRadiusPx) throw new RangeError(`PSF size ${sizePx} must be odd with half-size ≤ ${this.maxRadiusPx}`);
    const { rows, cols, buf, acc } = this;
    buf.fill(0);
    mirrorPad(layer, this.width, this.height, this.maxRadiusPx, buf, rows, cols);
    placePsf(psf, sizePx, buf, rows, cols, 1);
    fft2d(buf, rows, cols, false);
    for (let v = 0; v < rows; v++) {
      const vn = (rows - v) % rows;
      for (let u = 0; u < cols; u++) {
        const i = 2 * (v * cols + u);
        const j = 2 * (vn * cols + (cols - u) % cols);
        // Z = L + iP: L = (Z + conj Z(−f)) / 2, P = (Z − conj Z(−f)) / (2i)
        const lr = (buf[i] + buf[j]) / 2;
        const li = (buf[i + 1] - buf[j + 1]) / 2;
        const pr = (buf[i + 1] + buf[j + 1]) / 2;
        const pi = -(buf[i] - buf[j]) / 2;
        acc[i] += lr * pr - li * pi;
        acc[i + 1] += lr * pi + li * pr;
      }
    }
  }

  /** The accumulated sum, width × height, float64. */
  result(): Float64Array {
    const { rows, cols } = this;
    const out = Float64Array.from(this.acc);
    fft2d(out, rows, cols, true);
    const r = this.maxRadiusPx;
    const img = new Float64Array(this.width * this.height);
    for (let y = 0; y < this.height; y++) {
      const row = 2 * ((y + r) * cols + r);
      for (let x = 0; x < this.width; x++) img[y * this.width + x] = out[row + 2 * x];
    }
    return img;
  }
}

/** In-place 2D FFT of an interleaved complex buffer (rows × cols), forward or inverse (inverse scaled by 1/(rows·cols)). */
function fft2d(buf: Float64Array, rows: number, cols: number, inverse: boolean): void {
  const fr = fftOf(cols);
  const inR = new Float64Array(2 * cols);
  const outR = new Float64Array(2 * cols);
  for (let y = 0; y < rows; y++) {
    const off = 2 * y * cols;
    inR.set(buf.subarray(off, off + 2 * cols));
    if (inverse) fr.inverseTransform(outR, inR);
    else fr.transform(outR, inR);
    buf.set(outR, off);
  }
  const fc = fftOf(rows);
  const inC = new Float64Array(2 * rows);
  const outC = new Float64Array(2 * rows);
  for (let x = 0; x < cols; x++) {
    for (let y = 0; y < rows; y++) {
      inC[2 * y] = buf[2 * (y * cols + x)];
      inC[2 * y + 1] = buf[2 * (y * cols + x) + 1];
    }
    if (inverse) fc.inverseTransform(outC, inC);
    else fc.transform(outC, inC);
    for (let y = 0; y < rows; y++) {
      buf[2 * (y * cols + x)] = outC[2 * y];
      buf[2 * (y * cols + x) + 1] = outC[2 * y + 1];
    }
  }
}

/**
 * Convolves one image with PSFs of half-size ≤ maxRadiusPx. The image is extended by
 * half-sample mirroring, so for a PSF symmetric under x → −x and y → −y (every radially
 * symmetric PSF sampled on a centred grid) the sum of the output equals the sum of the
 * input exactly (up to rounding): what the blur moves out across an edge, the mirrored
 * image moves back in.
 */
export class MirrorConvolver {
  readonly rows: number;
  readonly cols: number;
  private readonly spectrum: Float64Array;

  constructor(
    image: ArrayLike<number>,
    readonly width: number,
    readonly height: number,
    readonly maxRadiusPx: number,
  ) {
    this.cols = nextPow2(width + 2 * maxRadiusPx);
    this.rows = nextPow2(height + 2 * maxRadiusPx);
    const buf = new Float64Array(2 * this.rows * this.cols);
    mirrorPad(image, width, height, maxRadiusPx, buf, this.rows, this.cols);
    fft2d(buf, this.rows, this.cols, false);
    this.spectrum = buf;
  }

  /** The convolution of the image with `psf` (sizePx × sizePx, odd, centred), width × height, float64. */
  convolve(psf: ArrayLike<number>, sizePx: number): Float64Array {
    return this.convolveMany([psf], sizePx)[0];
  }

  /**
   * Convolutions with several PSFs (all sizePx × sizePx). Two PSFs share each pair of FFTs:
   * both are transformed at once as p1 + i·p2 and separated by Hermitian symmetry, and the
   * two (real) results come back together as the real and imaginary parts of one inverse FFT.
   */
  convolveMany(psfs: ArrayLike<number>[], sizePx: number): Float64Array[] {
    const out: Float64Array[] = [];
    for (let i = 0; i < psfs.length; i += 2) out.push(...this.convolvePair(psfs[i], psfs[i + 1], sizePx));
    return out;
  }

  private convolvePair(a: ArrayLike<number>, b: ArrayLike<number> | undefined, sizePx: number): Float64Array[] {
    const half = (sizePx - 1) / 2;
    if (!Number.isInteger(half) || half > this.maxRadiusPx) throw new RangeError(`PSF size ${sizePx} must be odd with half-size ≤ ${this.maxRadiusPx}`);
    const { rows, cols } = this;
    const k = new Float64Array(2 * rows * cols);
    for (let y = 0; y < sizePx; y++) {
      const ky = (y - half + rows) % rows;
      for (let x = 0; x < sizePx; x++) {
        const kx = (x - half + cols) % cols;
        const at = 2 * (ky * cols + kx);
        k[at] = a[y * sizePx + x];
        if (b) k[at + 1] = b[y * sizePx + x];
      }
    }
    fft2d(k, rows, cols, false);
    const s = this.spectrum;
    const prod = new Float64Array(k.length);
    for (let v = 0; v < rows; v++) {
      const vn = (rows - v) % rows;
      for (let u = 0; u < cols; u++) {
        const un = (cols - u) % cols;
        const i = 2 * (v * cols + u);
        const j = 2 * (vn * cols + un);
        // K = A + iB with A, B the spectra of the real PSFs: A = (K + conj K(−f)) / 2, B = (K − conj K(−f)) / (2i)
        const kr = k[i];
        const ki = k[i + 1];
        const cr = k[j];
        const ci = -k[j + 1];
        const ar = (kr + cr) / 2;
        const ai = (ki + ci) / 2;
        const br = (ki - ci) / 2;
        const bi = -(kr - cr) / 2;
        const sr = s[i];
        const si = s[i + 1];
        // S·A + i·S·B: its inverse FFT is (image ∗ a) + i·(image ∗ b)
        const pr = sr * ar - si * ai;
        const pi = sr * ai + si * ar;
        const qr = sr * br - si * bi;
        const qi = sr * bi + si * br;
        prod[i] = pr - qi;
        prod[i + 1] = pi + qr;
      }
    }
    fft2d(prod, rows, cols, true);
    const r = this.maxRadiusPx;
    const outA = new Float64Array(this.width * this.height);
    const outB = b ? new Float64Array(this.width * this.height) : undefined;
    for (let y = 0; y < this.height; y++) {
      const row = 2 * ((y + r) * cols + r);
      for (let x = 0; x < this.width; x++) {
        outA[y * this.width + x] = prod[row + 2 * x];
        if (outB) outB[y * this.width + x] = prod[row + 2 * x + 1];
      }
    }
    return outB ? [outA, outB] : [outA];
  }
}

/** Direct (non-FFT) convolution with the same mirror extension; for tests and tiny PSFs. */
export function mirrorConvolveDirect(image: ArrayLike<number>, width: number, height: number, psf: ArrayLike<number>, sizePx: number): Float64Array {
  const half = (sizePx - 1) / 2;
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let j = 0; j < sizePx; j++) {
        const sy = mirrorIndex(y - (j - half), height) * width;
        for (let i = 0; i < sizePx; i++) acc += psf[j * sizePx + i] * image[sy + mirrorIndex(x - (i - half), width)];
      }
      out[y * width + x] = acc;
    }
  }
  return out;
}
