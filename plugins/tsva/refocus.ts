/**
 * TSVA inference on whole images: both shots checked and converted to [0, 1] RGB, ordered by
 * Brenner (Y1 = the sharper), run through the network in overlapping tiles (both shots tiled
 * identically: they travel as the 6 channels of one tile, split between the two inputs)
 * with raised-cosine blending of the seams (core's tiledInference).
 */
import { FocalError, planeCount, planeIndex, throwIfAborted, type PixelArray, type Stack } from '../../core/index.js';
import { fitSafety } from '../../core/imaging.js';
import { onModelGrid, tiledInference, type InferenceEngine } from '../../core/ml.js';
import { orderShots } from './simulate.js';

/** A shot as interleaved HWC RGB in [0, 1] (grey shots are repeated into R, G, B). */
export interface Shot {
  hwc: Float32Array;
  width: number;
  height: number;
}

/** The white level a stack's shots are read on: `whiteLevel`, else the pixel type's full scale (255, 65535, 1 for float). */
export function whiteLevelOf(stack: Stack, whiteLevel?: number): number {
  return whiteLevel ?? (stack.dtype === 'uint8' ? 255 : stack.dtype === 'uint16' ? 65535 : 1);
}

/** The shot(s) of a stack: RGB (3 channels) or grey (1 channel), on [0, 1] of `whiteLevel` (default: the pixel type's full scale). */
export function shotsFromStack(stack: Stack | undefined, field: string, whiteLevel?: number): Shot[] {
  if (stack === undefined || stack === null) throw new FocalError('E_PORT', `${field}: the shot is missing; TSVA needs both shots (y1 and y2) of the tile`, { field });
  if (stack.sizeT !== 1) throw new FocalError('E_PORT', `${field}: has ${stack.sizeT} time points; give one acquisition`, { field });
  if (stack.sizeC !== 3 && stack.sizeC !== 1) throw new FocalError('E_PORT', `${field}: has ${stack.sizeC} channels; TSVA takes RGB (3) or grey (1) shots`, { field });
  if (whiteLevel !== undefined && !(whiteLevel > 0 && Number.isFinite(whiteLevel))) throw new FocalError('E_PARAMS', `whiteLevel: must be a number > 0 (the shots' value of empty glass), got ${whiteLevel}`, { field: 'whiteLevel' });
  const s = whiteLevelOf(stack, whiteLevel);
  const n = stack.width * stack.height;
  const shots: Shot[] = [];
  for (let zi = 0; zi < stack.sizeZ; zi++) {
    const hwc = new Float32Array(n * 3);
    for (let c = 0; c < 3; c++) {
      const plane = stack.planes[planeIndex(stack, stack.sizeC === 3 ? c : 0, zi, 0)] as PixelArray;
      for (let i = 0; i < n; i++) hwc[i * 3 + c] = Number(plane[i]) / s;
    }
    shots.push({ hwc, width: stack.width, height: stack.height });
  }
  return shots;
}

/**
 * How bright a shot's brightest pixels are, on its [0, 1] scale: the 99.9th percentile of every
 * colour value (on at most 65 536 samples spread over the image). A brightfield shot with empty
 * glass or pale tissue in it comes near 1; far below that the scale (white level) is likely
 * wrong — a 12-bit camera in uint16 reaches 4095 of 65535 — and the networks see a dark field.
 */
export function brightestLevel(shot: Shot): number {
  const step = Math.max(1, Math.floor(shot.hwc.length / 65536));
  const sample = new Float32Array(Math.ceil(shot.hwc.length / step));
  for (let i = 0, k = 0; i < shot.hwc.length; i += step) sample[k++] = shot.hwc[i];
  sample.sort();
  return sample[Math.floor(0.999 * (sample.length - 1))];
}

/** A warning (or undefined) when a shot's brightest pixels reach under 25 % of its scale: see {@link brightestLevel}. */
export function dimShotWarning(shot: Shot, field: string, scale: number): string | undefined {
  const b = brightestLevel(shot);
  if (b >= 0.25) return undefined;
  return `${field}: its brightest pixels reach ${(100 * b).toFixed(1)} % of the white level ${scale}; the model expects empty glass or pale tissue near 100 %. If the camera's white level is lower (a 12-bit camera in uint16: 4095), give whiteLevel`;
}

export function checkPair(a: Shot, b: Shot, fieldA = 'y1', fieldB = 'y2'): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new FocalError('E_PORT', `${fieldB}: the shots have different sizes (${fieldA} ${a.width}×${a.height} px, ${fieldB} ${b.width}×${b.height} px); both shots must be of the same tile`, { field: fieldB });
  }
  if (a.width < 3) throw new FocalError('E_PORT', `${fieldA}: ${a.width}×${a.height} px is too small (Brenner needs 3 px across)`, { field: fieldA });
}

export interface RefocusOptions {
  tilePx: number;
  haloPx: number;
  multipleOf: number;
  /** 'tsva': two inputs; 'unet': the baseline on Y1 only; 'early-fusion': Y1 and Y2 as one six-channel input (the engine feeds a one-input model all channels). */
  arch: 'tsva' | 'unet' | 'early-fusion';
  /** 'brenner': Y1 = the sharper shot (the paper); 'as-given': the first shot is Y1. */
  order: 'brenner' | 'as-given';
  /** 'consistency': {@link guardOutput} against Y1 (not the paper); 'off' (default): the network's output. */
  guard?: 'consistency' | 'off';
  /**
   * The shots' pixel grid relative to the model's: the model's pixel size ÷ the shots'. Away from 1
   * the shots are resampled to the model's grid (round(w · scale) × round(h · scale) px), refocused
   * there, and the network's correction (its output − Y1 on that grid) is resampled back and added
   * to Y1 at the shots' own pixels. Default 1: as given.
   */
  scale?: number;
  /**
   * The focus gate (not the paper): the tile's focus error `deltaDUm` (the two-shot estimate,
   * with the first shot taken as the one at F − s) puts Y1 at |ΔD ∓ s| from focus. Within
   * `toleranceUm` of focus Y1 is returned as it is (the network is not run); beyond twice that,
   * the network's output; linearly between. Absent: the network's output.
   */
  gate?: { deltaDUm: number; shotOffsetUm: number; toleranceUm: number };
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface RefocusResult {
  /** Recovered in-focus image, interleaved HWC RGB, [0, 1] scale. */
  hwc: Float32Array;
  brennerA: number;
  brennerB: number;
  /** Whether the first shot given was used as Y1. */
  firstIsY1: boolean;
  /** With `guard: 'consistency'`: the weight the network's output kept (1: all of it; 0: Y1 returned). */
  guardWeight?: number;
  /** With a `gate`: the weight the network's output kept (1: all of it; 0: Y1 returned, in focus). */
  gateWeight?: number;
}

/** The focus gate's weight of the network's output for Y1 `y1DefocusUm` from focus (see RefocusOptions.gate). */
export function focusGateWeight(y1DefocusUm: number, toleranceUm: number): number {
  if (!Number.isFinite(y1DefocusUm) || !(toleranceUm > 0)) return 1;
  return Math.min(1, Math.max(0, (Math.abs(y1DefocusUm) - toleranceUm) / toleranceUm));
}

/**
 * The focus gate's tolerance for optics: a quarter of the wave-optical depth of field n·λ/NA²
 * (λ the mean of the colour channels'), so Y1 is kept as it is within n·λ/(4·NA²) of focus
 * (0.24 µm for the demo's 0.75 NA, 0.54 µm) and the network takes over by twice that.
 */
export function focusGateToleranceUm(optics: { na: number; refractiveIndex: number; wavelengthsUm: readonly number[] }): number {
  const lambda = optics.wavelengthsUm.reduce((a, b) => a + b, 0) / optics.wavelengthsUm.length;
  return (optics.refractiveIndex * lambda) / (4 * optics.na * optics.na);
}

/**
 * The consistency guard (not the paper; core's `applySafety`, as Deep-R's safety check), per colour
 * channel: the output blurred by the best-fitting Gaussian (σ 0–8 px) must explain Y1 up to Y1's
 * noise. Best σ ≤ 0.5 px (Y1 already as sharp as the output) → weight 0; a residual up to 4× the
 * noise variance → 1, falling linearly to 0 at 40×. The smallest of the three weights blends the
 * output towards Y1 (R, G and B alike), so a colour cast in one channel is caught too. Once a
 * channel's weight is 0 the others cannot change the result and are not checked.
 *
 * Synchronous (some 0.3–0.5 s per channel of a 1224×1024 tile); an aborted `signal` stops it
 * between channels with `E_CANCELLED`. {@link guardOutputAsync} also lets the event loop run
 * between channels, so that a cancel arriving meanwhile is seen.
 */
export function guardOutput(y1: Float32Array, out: Float32Array, width: number, height: number, signal?: AbortSignal): { hwc: Float32Array; weight: number } {
  const guard = new Guard(y1, out, width, height);
  for (let c = 0; c < 3 && guard.weight > 0; c++) {
    throwIfAborted(signal);
    guard.check(c);
  }
  return guard.result();
}

/** {@link guardOutput}, yielding to the event loop before each channel and stopping with `E_CANCELLED` once `signal` is aborted. */
export async function guardOutputAsync(y1: Float32Array, out: Float32Array, width: number, height: number, signal?: AbortSignal): Promise<{ hwc: Float32Array; weight: number }> {
  const guard = new Guard(y1, out, width, height);
  for (let c = 0; c < 3 && guard.weight > 0; c++) {
    await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
    guard.check(c);
  }
  return guard.result();
}

/** The guard's state between channels: the smallest weight so far. */
class Guard {
  weight = 1;
  private readonly a: Float32Array;
  private readonly b: Float32Array;
  constructor(private readonly y1: Float32Array, private readonly out: Float32Array, private readonly width: number, private readonly height: number) {
    this.a = new Float32Array(width * height);
    this.b = new Float32Array(width * height);
  }

  check(c: number): void {
    const { a, b, y1, out } = this;
    for (let i = 0; i < a.length; i++) {
      a[i] = y1[i * 3 + c];
      b[i] = out[i * 3 + c];
    }
    // A weight is never NaN (a non-finite pixel makes every fit's residual non-finite, and the
    // weight 0), so this is the Math.min of the three channels' weights.
    this.weight = Math.min(this.weight, fitSafety(a, b, this.width, this.height).weight);
  }

  result(): { hwc: Float32Array; weight: number } {
    const { weight, y1, out } = this;
    if (weight === 1) return { hwc: out, weight };
    return { hwc: out.map((v, i) => weight * v + (1 - weight) * y1[i]), weight };
  }
}

/** Refocuses one tile from its two shots (see the module comment). */
export async function refocusPair(a: Shot, b: Shot, engine: InferenceEngine, o: RefocusOptions): Promise<RefocusResult> {
  checkPair(a, b);
  const { width: w, height: h } = a;
  const ord = orderShots(a.hwc, b.hwc, w, h);
  const firstIsY1 = o.order === 'as-given' ? true : ord.firstIsY1;
  const [y1, y2] = firstIsY1 ? [a, b] : [b, a];
  const scale = o.scale ?? 1;
  if (!(scale > 0 && Number.isFinite(scale))) throw new FocalError('E_ARGUMENT', `scale: must be a number > 0, got ${scale}`, { field: 'scale' });
  const gateWeight = o.gate ? focusGateWeight(firstIsY1 ? o.gate.deltaDUm - o.gate.shotOffsetUm : o.gate.deltaDUm + o.gate.shotOffsetUm, o.gate.toleranceUm) : undefined;
  if (gateWeight === 0) {
    // Y1 in focus: returned as it is, without running the network (nor the guard, which would return it too)
    o.onProgress?.(1);
    return { hwc: Float32Array.from(y1.hwc), brennerA: ord.brennerA, brennerB: ord.brennerB, firstIsY1, gateWeight, ...(o.guard === 'consistency' ? { guardWeight: 0 } : {}) };
  }
  // on the model's grid (scale ≠ 1), the network's correction brought back onto the shots' pixels
  const hwc = await onModelGrid([y1.hwc, y2.hwc], w, h, 3, scale, ([a1, a2], mw, mh) => networkOn({ hwc: a1, width: mw, height: mh }, { hwc: a2, width: mw, height: mh }, engine, o), { residual: true, signal: o.signal });
  if (gateWeight !== undefined && gateWeight < 1) for (let i = 0; i < hwc.length; i++) hwc[i] = y1.hwc[i] + gateWeight * (hwc[i] - y1.hwc[i]);
  const gated = gateWeight === undefined ? {} : { gateWeight };
  if (o.guard === 'consistency') {
    const g = await guardOutputAsync(y1.hwc, hwc, w, h, o.signal);
    return { hwc: g.hwc, brennerA: ord.brennerA, brennerB: ord.brennerB, firstIsY1, guardWeight: g.weight, ...gated };
  }
  return { hwc, brennerA: ord.brennerA, brennerB: ord.brennerB, firstIsY1, ...gated };
}

/** The network on Y1 (and Y2) of one grid, in overlapping tiles: interleaved HWC RGB. */
async function networkOn(y1: Shot, y2: Shot, engine: InferenceEngine, o: RefocusOptions): Promise<Float32Array> {
  const { width: w, height: h } = y1;
  const n = w * h;
  const channels: Float32Array[] = [];
  for (const s of o.arch === 'unet' ? [y1] : [y1, y2]) {
    for (let c = 0; c < 3; c++) {
      const p = new Float32Array(n);
      for (let i = 0; i < n; i++) p[i] = s.hwc[i * 3 + c];
      channels.push(p);
    }
  }
  const out = await tiledInference(channels, w, h, engine, { tilePx: o.tilePx, haloPx: o.haloPx, outChannels: 3, multipleOf: o.multipleOf, signal: o.signal, onProgress: o.onProgress });
  const hwc = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) hwc[i * 3 + c] = out[c][i];
  return hwc;
}

/** Number of planes of a stack (re-exported helper for the ops). */
export { planeCount };
