import { FocalError } from '../errors.js';

/** Number of distinct flip/rotation transforms (the dihedral group of the square). */
export const AUGMENT_COUNT = 8;

/** Output size: rotations by 90° / 270° swap width and height. */
function outSize(k: number, w: number, h: number): { width: number; height: number } {
  return (k & 1) === 1 ? { width: h, height: w } : { width: w, height: h };
}

function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0 || k >= AUGMENT_COUNT) throw new FocalError('E_ARGUMENT', `k: must be an integer 0…7, got ${k}`, { field: 'k' });
}

/**
 * Transform `k` (0…7) of the ×8 flip/rotation augmentation (Deep-R, Methods: "augmented 8
 * times by random flipping and rotations"): k = 0 identity, 1–3 rotation by 90°, 180°,
 * 270° (clockwise in image coordinates, rows going down), 4–7 a horizontal flip followed by
 * the same rotations. Works for any w×h (odd rotations swap them).
 *
 * @returns The transformed pixels (same array type as Float32Array) and their size.
 * @throws FocalError `E_ARGUMENT` for a bad k or a size mismatch.
 */
export function augment(data: ArrayLike<number>, width: number, height: number, k: number): { data: Float32Array; width: number; height: number } {
  checkK(k);
  if (data.length !== width * height) throw new FocalError('E_ARGUMENT', `data: has ${data.length} pixels, expected ${width}×${height}`, { field: 'data' });
  const flip = k >= 4;
  const rot = k & 3;
  const { width: ow, height: oh } = outSize(rot, width, height);
  const out = new Float32Array(width * height);
  for (let v = 0; v < oh; v++) {
    for (let u = 0; u < ow; u++) {
      // undo the rotation: output (u, v) comes from the flipped image's (x, y)
      let x: number;
      let y: number;
      switch (rot) {
        case 0: x = u; y = v; break;
        case 1: x = v; y = height - 1 - u; break; // 90° clockwise
        case 2: x = width - 1 - u; y = height - 1 - v; break;
        default: x = width - 1 - v; y = u; break; // 270° clockwise
      }
      if (flip) x = width - 1 - x;
      out[v * ow + u] = data[y * width + x];
    }
  }
  return { data: out, width: ow, height: oh };
}

/**
 * Transform `k` applied identically to several co-registered planes (every channel of every
 * input and target of one training pair), so they stay aligned.
 * @throws FocalError `E_ARGUMENT` (field `planes[i]`) for a plane of another size.
 */
export function augmentPlanes(planes: readonly ArrayLike<number>[], width: number, height: number, k: number): { planes: Float32Array[]; width: number; height: number } {
  const out = planes.map((p, i) => {
    if (p.length !== width * height) throw new FocalError('E_ARGUMENT', `planes[${i}]: has ${p.length} pixels, expected ${width}×${height}`, { field: `planes[${i}]` });
    return augment(p, width, height, k);
  });
  const size = (k & 1) === 1 ? { width: height, height: width } : { width, height };
  return { planes: out.map((o) => o.data), ...size };
}

/** The transform index that undoes transform `k` ({@link augment}(augment(d, k), inverseAugment(k)) = d). */
export function inverseAugment(k: number): number {
  checkK(k);
  if (k >= 4) return k; // flips followed by rotations are involutions (reflections)
  return (4 - k) & 3;
}

/** How a restoration network is applied: once, or averaged over the 8 flips/rotations. */
export type Ensemble = 'none' | 'dihedral8';

/**
 * Self-ensemble over the dihedral group (Lim et al. 2017, "geometric self-ensemble"; not in the
 * Deep-R paper): runs `predict` on each of the 8 flips/rotations of the image, maps every output
 * back with the inverse transform and averages them. With `ensemble` 'none' it is one call.
 * `predict` gets the transformed pixels with their (possibly swapped) size and returns an image
 * of that size. `identityOutput`, when given, is `predict`'s output for the untransformed image
 * (already computed by the caller) and is used instead of calling `predict` for it again.
 *
 * @returns The mean of the back-transformed outputs (width × height).
 */
export async function selfEnsemble(
  data: Float32Array,
  width: number,
  height: number,
  ensemble: Ensemble,
  predict: (data: Float32Array, width: number, height: number) => Promise<Float32Array>,
  identityOutput?: Float32Array,
): Promise<Float32Array> {
  if (identityOutput !== undefined && identityOutput.length !== width * height) {
    throw new FocalError('E_ARGUMENT', `identityOutput: has ${identityOutput.length} pixels, expected ${width}×${height}`, { field: 'identityOutput' });
  }
  if (ensemble === 'none') return identityOutput ?? predict(data, width, height);
  const sum = new Float64Array(width * height);
  for (let k = 0; k < AUGMENT_COUNT; k++) {
    const t = augment(data, width, height, k);
    const y = k === 0 && identityOutput !== undefined ? identityOutput : await predict(t.data, t.width, t.height);
    const back = augment(y, t.width, t.height, inverseAugment(k)).data;
    for (let i = 0; i < sum.length; i++) sum[i] += back[i];
  }
  return Float32Array.from(sum, (v) => v / AUGMENT_COUNT);
}
