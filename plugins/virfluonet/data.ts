/**
 * VirFluoNet's data: simulated fields of a multi-channel specimen family (core/specimens),
 * split by seed into training, validation and test fields (test seeds are never trained on),
 * and patches cut from them. A pair is (input channels → target channel) of one field, or, in
 * autofocus mode, (one channel at a defocus → the same channel in focus, same seed).
 */
import { FocalError, type SeededRandom } from '../../core/index.js';
import { renderMultiChannel, multiChannelFamilyByName } from '../../core/specimens.js';
import { fitChannelMap, toUnitRange, type ChannelMap } from './normalise.js';

export interface DataSpec {
  family: string;
  inputs: string[];
  target: string;
  fieldPx: number;
  /** Autofocus mode: the input is rendered at each of these defocus values (µm); the target in focus. */
  defocusUm?: number[];
  pixelSizeUm?: number;
}

/** Seed ranges: training 1…, validation 100 001…, test 200 001… (disjoint by construction). */
export const SEED_BASE = { train: 1, validation: 100_001, test: 200_001 } as const;

export interface Field {
  seed: number;
  defocusUm: number;
  width: number;
  height: number;
  /** Input channels in ADU, one array per channel (spec order). */
  inputs: Float32Array[];
  target: Float32Array;
  /** Cell and nucleus labels (for per-cell features). */
  cellLabels: Int32Array;
  nucleusLabels: Int32Array;
}

/** Checks the channel names against the family (errors name the channel). */
export function checkSpec(spec: DataSpec): void {
  const fam = multiChannelFamilyByName(spec.family);
  const names = fam.channels.map((c) => c.name);
  for (const c of [...spec.inputs, spec.target]) {
    if (!names.includes(c)) throw new FocalError('E_ARGUMENT', `channel '${c}': family ${spec.family} has no such channel (it has: ${names.join(', ')})`, { field: c });
  }
  if (spec.inputs.length === 0) throw new FocalError('E_ARGUMENT', 'inputs: name at least one input channel', { field: 'inputs' });
  if (new Set(spec.inputs).size !== spec.inputs.length) throw new FocalError('E_ARGUMENT', `inputs: a channel is listed twice (${spec.inputs.join(', ')})`, { field: 'inputs' });
  if (spec.defocusUm) {
    if (spec.inputs.length !== 1 || spec.inputs[0] !== spec.target) throw new FocalError('E_ARGUMENT', `defocusUm: the autofocus mode maps one channel to the same channel in focus; got inputs ${spec.inputs.join(', ')} → ${spec.target}`, { field: 'defocusUm' });
  } else if (spec.inputs.includes(spec.target)) {
    throw new FocalError('E_ARGUMENT', `channel '${spec.target}': the target is also an input (give defocusUm for the autofocus mode)`, { field: spec.target });
  }
}

/** Renders `count` fields from seed `first` on (each defocus of the autofocus mode is one field). */
export function makeFields(spec: DataSpec, first: number, count: number): Field[] {
  checkSpec(spec);
  const out: Field[] = [];
  for (let s = first; s < first + count; s++) {
    const base = { family: spec.family, widthPx: spec.fieldPx, heightPx: spec.fieldPx, seed: s, ...(spec.pixelSizeUm ? { pixelSizeUm: spec.pixelSizeUm } : {}) };
    if (spec.defocusUm) {
      const focus = renderMultiChannel({ ...base, channels: [spec.target] });
      const target = Float32Array.from(focus.channels[0].image);
      for (const dz of spec.defocusUm) {
        const r = renderMultiChannel({ ...base, channels: [spec.target], defocusUm: dz });
        out.push({ seed: s, defocusUm: dz, width: r.width, height: r.height, inputs: [Float32Array.from(r.channels[0].image)], target, cellLabels: r.truth.cellLabels, nucleusLabels: r.truth.nucleusLabels });
      }
    } else {
      const r = renderMultiChannel({ ...base, channels: [...spec.inputs, spec.target] });
      out.push({
        seed: s, defocusUm: 0, width: r.width, height: r.height,
        inputs: spec.inputs.map((_, k) => Float32Array.from(r.channels[k].image)),
        target: Float32Array.from(r.channels[spec.inputs.length].image),
        cellLabels: r.truth.cellLabels, nucleusLabels: r.truth.nucleusLabels,
      });
    }
  }
  return out;
}

/**
 * The [−1, 1] maps of the inputs and the target, fitted on the training fields. `shared`
 * (autofocus mode with the input residual): the input gets the target's map, so the identity in
 * [−1, 1] units is the identity in camera units (a defocused input has lower peaks than its
 * in-focus target: its own map would scale it differently).
 */
export function fitMaps(spec: DataSpec, fields: Field[], shared = false): { inputs: ChannelMap[]; target: ChannelMap } {
  if (shared && !spec.defocusUm) throw new FocalError('E_ARGUMENT', `shared: one map for input and target is the autofocus mode's (give defocusUm); got inputs ${spec.inputs.join(', ')} → ${spec.target}`, { field: 'shared' });
  const target = fitChannelMap(spec.target, fields.map((f) => f.target));
  if (shared) return { inputs: [target], target };
  return {
    inputs: spec.inputs.map((c, k) => fitChannelMap(c, fields.map((f) => f.inputs[k]))),
    target,
  };
}

/** A field normalised once: interleaved HWC inputs and the target, both in [−1, 1]. */
export interface NormalisedField {
  width: number;
  height: number;
  channels: number;
  x: Float32Array;
  y: Float32Array;
}

export function normaliseField(f: Field, maps: { inputs: ChannelMap[]; target: ChannelMap }): NormalisedField {
  const C = f.inputs.length;
  const x = new Float32Array(f.width * f.height * C);
  f.inputs.forEach((plane, k) => toUnitRange(plane, maps.inputs[k], x, C, k));
  return { width: f.width, height: f.height, channels: C, x, y: toUnitRange(f.target, maps.target) };
}

/** One P×P crop at (x0, y0), with an optional dihedral transform (k = 0…7: rotation k mod 4, flip k ≥ 4). */
export function crop(f: NormalisedField, x0: number, y0: number, P: number, k = 0): { x: Float32Array; y: Float32Array } {
  const C = f.channels;
  const x = new Float32Array(P * P * C);
  const y = new Float32Array(P * P);
  const n = P - 1;
  for (let v = 0; v < P; v++) {
    for (let u = 0; u < P; u++) {
      let su = u;
      let sv = v;
      if (k >= 4) su = n - su;
      for (let r = 0; r < k % 4; r++) [su, sv] = [sv, n - su];
      const si = (y0 + sv) * f.width + x0 + su;
      const di = v * P + u;
      y[di] = f.y[si];
      for (let c = 0; c < C; c++) x[di * C + c] = f.x[si * C + c];
    }
  }
  return { x, y };
}

/** A random batch of crops from random fields, drawn only from `rng`. */
export function randomBatch(fields: NormalisedField[], P: number, batch: number, rng: SeededRandom, augment: boolean): { x: Float32Array; y: Float32Array; channels: number } {
  const C = fields[0].channels;
  const x = new Float32Array(batch * P * P * C);
  const y = new Float32Array(batch * P * P);
  for (let b = 0; b < batch; b++) {
    const f = fields[rng.int(fields.length)];
    const c = crop(f, rng.int(f.width - P + 1), rng.int(f.height - P + 1), P, augment ? rng.int(8) : 0);
    x.set(c.x, b * P * P * C);
    y.set(c.y, b * P * P);
  }
  return { x, y, channels: C };
}

/** Fixed, non-overlapping crops of the validation fields (up to `perField` each). */
export function fixedCrops(fields: NormalisedField[], P: number, perField: number): { x: Float32Array; y: Float32Array }[] {
  const out: { x: Float32Array; y: Float32Array }[] = [];
  for (const f of fields) {
    let n = 0;
    for (let y0 = 0; y0 + P <= f.height && n < perField; y0 += P) for (let x0 = 0; x0 + P <= f.width && n < perField; x0 += P, n++) out.push(crop(f, x0, y0, P));
  }
  return out;
}
