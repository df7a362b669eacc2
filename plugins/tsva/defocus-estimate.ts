/**
 * The focus error of a tile from its two shots, without the network: depth from defocus
 * (Pentland 1987; Subbarao 1988). Shot L is at F − s and shot H at F + s, so relative to the
 * in-focus plane they are ΔD − s and ΔD + s out of focus. For a thin specimen of spectrum S
 * their power spectra are P_L = |S|²·|H(ΔD − s)|² + N_L and P_H = |S|²·|H(ΔD + s)|² + N_H, with
 * H the defocused optical transfer function and N the white noise. The specimen cancels from
 *   (P_L − N_L)·|H(ΔD + s)|² − (P_H − N_H)·|H(ΔD − s)|² = 0,
 * so ΔD is the candidate that makes that smallest (normalised), over the radial frequency bins
 * where both shots stand above their noise. The spectra are averaged over windows of the tile
 * (Welch, Hann-windowed); H is the Born & Wolf model's (core's `bornWolfPsf`, the simulator's
 * optics), averaged over the three colour channels' wavelengths as the grey image mixes them.
 * Sign: ΔD > 0 when the focal position F is above the in-focus plane — shot L is then the sharper.
 * A thick section is several such planes; the estimate is then an effective ΔD.
 */
import { FocalError, throwIfAborted } from '../../core/index.js';
import { besselJ0, bornWolfRadialProfile, noiseVariance } from '../../core/imaging.js';
import { RealFft3d } from '../../core/spectral.js';
import { greyOf, type TsvaOptics } from './simulate.js';

export interface DefocusEstimate {
  /** The estimated focus error ΔD = F − z_focus, µm (within ±maxUm). */
  deltaDUm: number;
  /** The normalised mismatch at that ΔD (0: the two spectra agree exactly with the model; 1: not at all). */
  mismatch: number;
  /** Radial frequency bins used (those where both shots stand above their noise). */
  bins: number;
}

export interface TwoShotDefocusOptions {
  optics: TsvaOptics;
  /** s: the shots are at F − s and F + s, µm. */
  shotOffsetUm: number;
  /** Side of the analysis windows, px (even; default 128). */
  windowPx?: number;
  /** The candidates span ±this, µm (default 6). */
  maxUm?: number;
  /** Candidate step, µm (default 0.1; the search is first made in 0.5 µm steps, then refined). */
  stepUm?: number;
}

/** The two-shot defocus estimator of one acquisition's optics (its OTF table is made once). */
export class TwoShotDefocus {
  readonly windowPx: number;
  readonly maxUm: number;
  readonly stepUm: number;
  private readonly s: number;
  private readonly nBins: number;
  /** |OTF(z)|² per radial bin, z = k · stepUm, made when first needed. */
  private readonly otf2 = new Map<number, Float64Array>();
  private readonly optics: TsvaOptics;
  private readonly taper: Float64Array;
  private readonly fft: RealFft3d;
  private readonly binOf: Int32Array;
  private readonly binCount: Float64Array;

  constructor(o: TwoShotDefocusOptions) {
    this.windowPx = o.windowPx ?? 128;
    this.maxUm = o.maxUm ?? 6;
    this.stepUm = o.stepUm ?? 0.1;
    this.s = o.shotOffsetUm;
    const n = this.windowPx;
    if (!Number.isInteger(n) || n < 16 || n % 2 !== 0) throw new FocalError('E_ARGUMENT', `windowPx must be an even integer ≥ 16, got ${n}`, { field: 'windowPx' });
    if (!(this.s > 0)) throw new FocalError('E_ARGUMENT', `shotOffsetUm must be > 0, got ${this.s}`, { field: 'shotOffsetUm' });
    this.fft = new RealFft3d(n, n);
    const hx = n / 2 + 1;
    this.nBins = n / 2;
    this.binOf = new Int32Array(hx * n);
    this.binCount = new Float64Array(this.nBins);
    for (let ky = 0; ky < n; ky++) {
      const fy = ky <= n / 2 ? ky : ky - n;
      for (let kx = 0; kx < hx; kx++) {
        const b = Math.round(Math.hypot(kx, fy));
        const inBand = b >= 1 && b < this.nBins;
        this.binOf[ky * hx + kx] = inBand ? b : -1;
        if (inBand) this.binCount[b] += kx === 0 || kx === n / 2 ? 1 : 2;
      }
    }
    // a 2-D Hann window
    const w1 = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n));
    this.taper = new Float64Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) this.taper[y * n + x] = w1[x] * w1[y];
    this.optics = o.optics;
  }

  /**
   * |OTF|² per radial bin at defocus z, the mean over the three wavelengths' OTFs (DC = 1): the
   * Hankel transform of the Born & Wolf radial profile, OTF(ν) ∝ ∫ h(r)·J0(2πνr)·r dr, at each
   * bin's frequency ν = b / (windowPx · pixel). (The camera pixel's own transfer multiplies both
   * shots' spectra alike and cancels from the criterion.)
   */
  private otfPower(optics: TsvaOptics, zUm: number): Float64Array {
    const n = this.windowPx;
    const px = optics.pixelSizeUm;
    const maxRadiusUm = (n / 2) * px;
    const out = new Float64Array(this.nBins);
    const otf = new Float64Array(this.nBins);
    for (const wavelengthUm of optics.wavelengthsUm) {
      const drUm = Math.min(px / 4, (0.61 * wavelengthUm) / optics.na / 16);
      const h = bornWolfRadialProfile({ na: optics.na, refractiveIndex: optics.refractiveIndex, wavelengthUm, defocusUm: zUm, maxRadiusUm, drUm });
      const count = Math.floor(maxRadiusUm / drUm);
      let dc = 0;
      for (let i = 0; i <= count; i++) dc += h[i] * i * (i === 0 || i === count ? 0.5 : 1);
      otf.fill(0);
      for (let b = 1; b < this.nBins; b++) {
        const k = (2 * Math.PI * b * drUm) / (n * px);
        let v = 0;
        for (let i = 1; i <= count; i++) v += h[i] * besselJ0(k * i) * i * (i === count ? 0.5 : 1);
        otf[b] = v / dc;
      }
      for (let b = 1; b < this.nBins; b++) out[b] += otf[b] / optics.wavelengthsUm.length;
    }
    for (let b = 1; b < this.nBins; b++) out[b] = out[b] * out[b];
    return out;
  }

  /** Radially binned power spectrum of an n×n plane (mean over each bin's frequencies). */
  private radialPower(plane: Float64Array, accumulateInto: Float64Array | false): Float64Array {
    const n = this.windowPx;
    const hx = n / 2 + 1;
    this.fft.forward(plane);
    const out = accumulateInto || new Float64Array(this.nBins);
    const sum = new Float64Array(this.nBins);
    const { specRe, specIm } = this.fft;
    for (let ky = 0; ky < n; ky++) {
      for (let kx = 0; kx < hx; kx++) {
        const i = ky * hx + kx;
        const b = this.binOf[i];
        if (b < 0) continue;
        sum[b] += (kx === 0 || kx === n / 2 ? 1 : 2) * (specRe[i] * specRe[i] + specIm[i] * specIm[i]);
      }
    }
    for (let b = 1; b < this.nBins; b++) out[b] += sum[b] / this.binCount[b];
    return out;
  }

  /** |OTF|² at defocus |z| in bin b (linear between the table's steps). */
  private otfAt(zUm: number, b: number): number {
    const t = Math.abs(zUm) / this.stepUm;
    const k = Math.floor(t + 1e-9);
    const f = t - k;
    const at = (i: number): Float64Array => {
      let row = this.otf2.get(i);
      if (!row) {
        row = this.otfPower(this.optics, i * this.stepUm);
        this.otf2.set(i, row);
      }
      return row;
    };
    return f < 1e-6 ? at(k)[b] : (1 - f) * at(k)[b] + f * at(k + 1)[b];
  }

  /** The normalised mismatch of the two spectra with the model at candidate ΔD = d. */
  private mismatchAt(d: number, L: Float64Array, H: Float64Array, bins: readonly number[]): number {
    let num = 0;
    let den = 0;
    for (const b of bins) {
      const a = L[b] * this.otfAt(d + this.s, b);
      const c = H[b] * this.otfAt(d - this.s, b);
      num += this.binCount[b] * (a - c) ** 2;
      den += this.binCount[b] * (a * a + c * c);
    }
    return den > 0 ? num / den : Number.POSITIVE_INFINITY;
  }

  /**
   * ΔD of a tile from its shot at F − s (`low`) and at F + s (`high`), both interleaved RGB
   * (`channels` 3) or grey, `width` × `height` px, at least one window across.
   */
  estimate(low: ArrayLike<number>, high: ArrayLike<number>, width: number, height: number, channels = 3, signal?: AbortSignal): DefocusEstimate {
    const n = this.windowPx;
    if (width < n || height < n) throw new FocalError('E_ARGUMENT', `the shots (${width}×${height} px) are smaller than one ${n}-px analysis window`, { field: 'windowPx' });
    const spectra = [low, high].map((hwc) => {
      throwIfAborted(signal);
      const grey = greyOf(hwc, width, height, channels);
      // white noise: its level in a Hann-windowed spectrum is σ² · Σ w²
      const sigma2 = noiseVariance(grey, width, height);
      const acc = new Float64Array(this.nBins);
      const plane = new Float64Array(n * n);
      let windows = 0;
      const nx = Math.floor(width / n);
      const ny = Math.floor(height / n);
      const x0 = Math.floor((width - nx * n) / 2);
      const y0 = Math.floor((height - ny * n) / 2);
      for (let j = 0; j < ny; j++) {
        throwIfAborted(signal); // a row of windows of a large tile takes a while
        for (let i = 0; i < nx; i++) {
          let mean = 0;
          for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) mean += grey[(y0 + j * n + y) * width + x0 + i * n + x];
          mean /= n * n;
          for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) plane[y * n + x] = (grey[(y0 + j * n + y) * width + x0 + i * n + x] - mean) * this.taper[y * n + x];
          this.radialPower(plane, acc);
          windows++;
        }
      }
      let w2 = 0;
      for (const v of this.taper) w2 += v * v;
      for (let b = 1; b < this.nBins; b++) acc[b] /= windows;
      return { power: acc, noise: sigma2 * w2 };
    });
    const [L, H] = spectra;
    // the bins where both shots stand well above their noise
    const bins: number[] = [];
    for (let b = 1; b < this.nBins; b++) if (L.power[b] > 2 * L.noise && H.power[b] > 2 * H.noise) bins.push(b);
    if (bins.length < 3) return { deltaDUm: Number.NaN, mismatch: Number.NaN, bins: bins.length };
    const Ls = L.power.map((v) => v - L.noise);
    const Hs = H.power.map((v) => v - H.noise);
    // coarse (0.5 µm) over the whole range, then the step around the best
    const search = (from: number, to: number, step: number, best: { deltaDUm: number; mismatch: number }) => {
      for (let i = 0; from + i * step <= to + 1e-9; i++) {
        const d = Math.round((from + i * step) / this.stepUm) * this.stepUm;
        if (Math.abs(d) > this.maxUm + 1e-9) continue;
        const mismatch = this.mismatchAt(d, Ls, Hs, bins);
        if (mismatch < best.mismatch) best = { deltaDUm: d, mismatch };
      }
      return best;
    };
    const coarse = Math.max(this.stepUm, Math.round(0.5 / this.stepUm) * this.stepUm);
    let best = search(-this.maxUm, this.maxUm, coarse, { deltaDUm: Number.NaN, mismatch: Number.POSITIVE_INFINITY });
    best = search(best.deltaDUm - coarse, best.deltaDUm + coarse, this.stepUm, best);
    return { ...best, bins: bins.length };
  }
}
