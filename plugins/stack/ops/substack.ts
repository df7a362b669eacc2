import { FocalError, createStack, defineOperation, planeIndex, throwIfAborted, z, type Calibration, type PixelArray, type Stack } from '../../../core/index.js';

/** Syntax of an index list: comma-separated items `i`, `a-b` or `a-b:step` (0-based, inclusive). */
export const INDEX_LIST_PATTERN = /^\s*\d+(\s*-\s*\d+(\s*:\s*\d+)?)?(\s*,\s*\d+(\s*-\s*\d+(\s*:\s*\d+)?)?)*\s*$/;

/**
 * Parses an index list such as `"0-4,7,10-20:2"` into 0-based indices, in the order
 * written (so `"2,0,1"` reorders and repeats are kept).
 *
 * @param text Comma-separated items: `i`, `a-b` (inclusive, a ≤ b) or `a-b:step` (step ≥ 1).
 * @param size Length of the axis; every index must be < size.
 * @param field Parameter name used in error messages and `details.field`.
 * @throws FocalError `E_PARAMS` naming `field` for bad syntax, a descending range, step 0, or an index out of range.
 */
export function parseIndexList(text: string, size: number, field: string): number[] {
  const fail = (message: string): never => {
    throw new FocalError('E_PARAMS', `${field}: ${message}`, { field });
  };
  if (!INDEX_LIST_PATTERN.test(text)) fail(`'${text}' is not an index list like "0-4,7,10-20:2" (0-based, inclusive)`);
  const out: number[] = [];
  for (const item of text.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+)(?:\s*:\s*(\d+))?)?\s*$/.exec(item)!;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (b < a) fail(`range '${item.trim()}' is descending`);
    if (step < 1) fail(`step in '${item.trim()}' must be at least 1`);
    if (b >= size) fail(`index ${b} is out of range: this axis has ${size} ${size === 1 ? 'entry' : 'entries'} (0–${size - 1})`);
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/** The common difference of an arithmetic progression with a positive step, else undefined. */
function uniformStep(indices: readonly number[]): number | undefined {
  if (indices.length < 2) return 1;
  const d = indices[1] - indices[0];
  if (d <= 0) return undefined;
  for (let i = 2; i < indices.length; i++) if (indices[i] - indices[i - 1] !== d) return undefined;
  return d;
}

/**
 * Selects channels, slices and frames of a hyperstack (copies the selected planes).
 * Channel names follow their channels; RGB is kept only when the channels stay 0,1,2.
 * `zStepUm` / `timeStepS` are multiplied by the selection's step when it is regular and
 * removed when it is not (e.g. "0,1,5").
 */
export function selectSubstack(stack: Stack, select: { c?: number[]; z?: number[]; t?: number[] }, onPlane?: (done: number, total: number) => void): Stack {
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const cs = select.c ?? all(stack.sizeC);
  const zs = select.z ?? all(stack.sizeZ);
  const ts = select.t ?? all(stack.sizeT);
  const total = cs.length * zs.length * ts.length;
  const planes: PixelArray[] = [];
  for (const t of ts) {
    for (const z of zs) {
      for (const c of cs) {
        planes.push(stack.planes[planeIndex(stack, c, z, t)].slice());
        onPlane?.(planes.length, total);
      }
    }
  }
  const calibration: Calibration = { ...stack.calibration };
  const scaleStep = (key: 'zStepUm' | 'timeStepS', indices: number[]) => {
    if (calibration[key] === undefined) return;
    const d = uniformStep(indices);
    if (d === undefined) delete calibration[key];
    else calibration[key] = calibration[key]! * d;
  };
  scaleStep('zStepUm', zs);
  scaleStep('timeStepS', ts);
  return createStack({
    width: stack.width,
    height: stack.height,
    dtype: stack.dtype,
    sizeC: cs.length,
    sizeZ: zs.length,
    sizeT: ts.length,
    planes,
    calibration,
    channelNames: stack.channelNames.length ? cs.map((c) => stack.channelNames[c]) : [],
    rgb: stack.rgb && cs.length === 3 && cs[0] === 0 && cs[1] === 1 && cs[2] === 2,
    metadata: stack.metadata,
  });
}

const indexList = (axis: string) =>
  z
    .string()
    .regex(INDEX_LIST_PATTERN, 'expected an index list like "0-4,7,10-20:2"')
    .optional()
    .describe(`${axis} to keep: 0-based inclusive ranges like "0-4,7,10-20:2" (step after the colon), in the order given; omitted = all`);

export const substackParams = z.strictObject({
  c: indexList('Channels'),
  z: indexList('Slices'),
  t: indexList('Frames'),
});

export const substack = defineOperation({
  id: 'stack.substack',
  title: 'Substack',
  description: 'Keeps the selected channels, slices and frames of a hyperstack (like ImageJ\'s Make Substack).',
  inputs: { stack: { type: 'stack', description: 'Hyperstack to select from' } },
  outputs: { stack: { type: 'stack', description: 'The selected planes' } },
  params: substackParams,
  run(ctx, { stack }, params) {
    const select = {
      ...(params.c !== undefined ? { c: parseIndexList(params.c, stack.sizeC, 'c') } : {}),
      ...(params.z !== undefined ? { z: parseIndexList(params.z, stack.sizeZ, 'z') } : {}),
      ...(params.t !== undefined ? { t: parseIndexList(params.t, stack.sizeT, 't') } : {}),
    };
    return {
      stack: selectSubstack(stack, select, (done, total) => {
        ctx.progress(done / total);
        throwIfAborted(ctx.signal);
      }),
    };
  },
});
