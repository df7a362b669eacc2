/**
 * Simulated training / evaluation data: lung-like sections from core's specimen library,
 * each rendered as H&E (the stain target, YCbCr /255) and as two-channel autofluorescence at
 * several defocus planes (Born & Wolf, NA 0.95, 0.1625 µm px, Poisson–Gaussian noise), every
 * plane normalised per channel to zero mean and unit variance (the paper's pre-processing).
 */
import { FocalError, type SeededRandom } from '../../core/index.js';
import { rgbToYcbcr601 } from '../../core/imaging.js';
import { LUNG_PIXEL_SIZE_UM, renderLungAutofluorescence, renderLungHE, renderLungTissue } from '../../core/specimens.js';
import { augmentPlanes, AUGMENT_COUNT, type Tf, type TrainBatch } from '../../core/ml.js';

/** The network predicts Y/Cb/Cr (BT.601 studio, /255) minus this constant. */
export const YCC_OFFSET = 0.5;

/** One simulated field: planes are width × height, row-major. */
export interface StainField {
  width: number;
  height: number;
  /** True H&E, RGB in [0, 1]. */
  heRgb: [Float32Array, Float32Array, Float32Array];
  /** True H&E, Y/Cb/Cr /255 − {@link YCC_OFFSET} (the network's target: centred, so the output layer starts near it). */
  heYcc: [Float32Array, Float32Array, Float32Array];
  /** Defocus (µm) → [DAPI, TxRed], each normalised (zero mean, unit variance). */
  af: Map<number, [Float32Array, Float32Array]>;
}

export interface SimulateOptions {
  count: number;
  sizePx: number;
  seed: number;
  defocusUm: number[];
  pixelSizeUm?: number;
}

/** Zero mean, unit variance (population SD; ε 1e-6), a new array. */
export function normalisePlane(x: ArrayLike<number>): Float32Array {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i];
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - m) ** 2;
  const s = Math.sqrt(v / x.length) + 1e-6;
  return Float32Array.from(x, (q) => (q - m) / s);
}

/** Renders `count` fields (field i from seed + i), deterministic. */
export function simulateFields(o: SimulateOptions, onField?: (done: number) => void): StainField[] {
  if (!Number.isInteger(o.count) || o.count < 1) throw new FocalError('E_ARGUMENT', `count: must be a positive integer, got ${o.count}`, { field: 'count' });
  const out: StainField[] = [];
  for (let i = 0; i < o.count; i++) {
    const g = { width: o.sizePx, height: o.sizePx, pixelSizeUm: o.pixelSizeUm ?? LUNG_PIXEL_SIZE_UM };
    const t = renderLungTissue(g, {}, o.seed * 7919 + i);
    const heRgb = renderLungHE(t);
    const af = new Map<number, [Float32Array, Float32Array]>();
    for (const [k, d] of o.defocusUm.entries()) {
      const [a, b] = renderLungAutofluorescence(t, { defocusUm: d, seed: o.seed * 104729 + i * 131 + k });
      af.set(d, [normalisePlane(a), normalisePlane(b)]);
    }
    out.push({ width: g.width, height: g.height, heRgb, heYcc: rgbToYcbcr601(heRgb).map((p) => p.map((v) => v - YCC_OFFSET)) as StainField['heYcc'], af });
    onField?.(i + 1);
  }
  return out;
}

function crop(p: Float32Array, w: number, x0: number, y0: number, s: number): Float32Array {
  const out = new Float32Array(s * s);
  for (let y = 0; y < s; y++) out.set(p.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + s), y * s);
  return out;
}

/** Interleaves planes (each s × s) into HWC. */
export function toHwc(planes: Float32Array[], n: number): Float32Array {
  const c = planes.length;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) out[i * c + k] = planes[k][i];
  return out;
}

/** Splits HWC into planes. */
export function fromHwc(hwc: ArrayLike<number>, n: number, c: number): Float32Array[] {
  return Array.from({ length: c }, (_, k) => Float32Array.from({ length: n }, (_, i) => hwc[i * c + k]));
}

/**
 * A batch of random crops with random dihedral augmentation: input planes from `input(field,
 * rng)` (the AF pair of some defocus), target from `target(field)`.
 */
export function sampleCrops(
  tf: Tf, rng: SeededRandom, fields: StainField[], patchPx: number, batch: number,
  input: (f: StainField, rng: SeededRandom) => Float32Array[], target: (f: StainField) => Float32Array[],
): TrainBatch {
  const xs: Float32Array[] = [];
  const ys: Float32Array[] = [];
  let cin = 0;
  let cout = 0;
  for (let b = 0; b < batch; b++) {
    const f = fields[Math.floor(rng.next() * fields.length)];
    if (f.width < patchPx || f.height < patchPx) throw new FocalError('E_ARGUMENT', `patch: ${patchPx} px exceeds the ${f.width}×${f.height} fields`, { field: 'patch' });
    const x0 = Math.floor(rng.next() * (f.width - patchPx + 1));
    const y0 = Math.floor(rng.next() * (f.height - patchPx + 1));
    const k = Math.floor(rng.next() * AUGMENT_COUNT);
    const inp = input(f, rng).map((p) => crop(p, f.width, x0, y0, patchPx));
    const tgt = target(f).map((p) => crop(p, f.width, x0, y0, patchPx));
    const all = augmentPlanes([...inp, ...tgt], patchPx, patchPx, k).planes;
    cin = inp.length;
    cout = tgt.length;
    xs.push(toHwc(all.slice(0, cin), patchPx * patchPx));
    ys.push(toHwc(all.slice(cin), patchPx * patchPx));
  }
  const cat = (a: Float32Array[]) => {
    const o = new Float32Array(a.reduce((s, q) => s + q.length, 0));
    let off = 0;
    for (const q of a) { o.set(q, off); off += q.length; }
    return o;
  };
  return { inputs: [tf.tensor4d(cat(xs), [batch, patchPx, patchPx, cin])], target: tf.tensor4d(cat(ys), [batch, patchPx, patchPx, cout]) };
}
