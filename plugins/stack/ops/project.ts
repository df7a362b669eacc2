import {
  FocalError, defineOperation, imageFromStack, planeCount, planeIndex, planePosition, throwIfAborted, withPlanes, z,
  type PixelArray, type Stack,
} from '../../../core/index.js';

/** Pixel-wise projection methods. */
export type ProjectionMethod = 'max' | 'mean' | 'sum' | 'sd';
export const PROJECTION_METHODS: readonly ProjectionMethod[] = ['max', 'mean', 'sum', 'sd'];

/** The three hyperstack axes besides x and y. */
export type StackAxis = 'c' | 'z' | 't';

/**
 * Projects `planes` pixel by pixel into one plane (ImageJ's Z Project, along any list of planes).
 *
 * - `max`: the largest value; the result has the planes' dtype. NaN (float32) is ignored
 *   unless every plane is NaN at that pixel.
 * - `sum`, `mean`: sum and arithmetic mean, accumulated in float64; Float32Array result.
 * - `sd`: sample standard deviation (divisor n − 1, as ImageJ), computed with Welford's
 *   update in float64; Float32Array result; 0 when there is a single plane (as ImageJ).
 *
 * NaN propagates through `sum`, `mean` and `sd` (IEEE arithmetic).
 *
 * @param planes One or more planes of equal length and dtype (not modified).
 * @param method Projection method.
 * @param onPlane Called after each plane is accumulated with its 0-based index (progress, cancellation).
 * @returns A new plane.
 * @throws FocalError `E_ARGUMENT` when there are no planes or their lengths differ.
 */
export function projectPlanes(planes: readonly PixelArray[], method: ProjectionMethod, onPlane?: (index: number) => void): PixelArray {
  if (planes.length === 0) throw new FocalError('E_ARGUMENT', 'projectPlanes needs at least one plane');
  const n = planes[0].length;
  planes.forEach((p, i) => {
    if (p.length !== n) throw new FocalError('E_ARGUMENT', `plane ${i} has ${p.length} pixels, plane 0 has ${n}`);
  });
  switch (method) {
    case 'max': {
      const out = planes[0].slice();
      onPlane?.(0);
      for (let k = 1; k < planes.length; k++) {
        const p = planes[k];
        for (let i = 0; i < n; i++) {
          const v = p[i];
          const m = out[i];
          if (v > m || m !== m) out[i] = v;
        }
        onPlane?.(k);
      }
      return out;
    }
    case 'sum':
    case 'mean': {
      const acc = new Float64Array(n);
      planes.forEach((p, k) => {
        for (let i = 0; i < n; i++) acc[i] += p[i];
        onPlane?.(k);
      });
      const out = new Float32Array(n);
      const scale = method === 'mean' ? 1 / planes.length : 1;
      for (let i = 0; i < n; i++) out[i] = acc[i] * scale;
      return out;
    }
    case 'sd': {
      const mean = new Float64Array(n);
      const m2 = new Float64Array(n);
      planes.forEach((p, k) => {
        const count = k + 1;
        for (let i = 0; i < n; i++) {
          const v = p[i];
          const d = v - mean[i];
          mean[i] += d / count;
          m2[i] += d * (v - mean[i]);
        }
        onPlane?.(k);
      });
      const out = new Float32Array(n);
      if (planes.length > 1) {
        const inv = 1 / (planes.length - 1);
        for (let i = 0; i < n; i++) out[i] = Math.sqrt(Math.max(0, m2[i] * inv));
      }
      return out;
    }
    default:
      throw new FocalError('E_ARGUMENT', `unknown projection method '${String(method)}'`);
  }
}

const SIZE_KEY = { c: 'sizeC', z: 'sizeZ', t: 'sizeT' } as const;

/**
 * Projects a hyperstack along one axis; the result has that axis reduced to 1 and keeps
 * the other two. `max` keeps the dtype; `mean`, `sum` and `sd` give float32 (as ImageJ's
 * Z Project does for sum and SD; for the mean too, so no precision is lost).
 * Calibration is kept, except the step of the projected axis (`zStepUm` / `timeStepS`),
 * which no longer applies; channel names are dropped when projecting channels.
 */
export function projectStack(stack: Stack, axis: StackAxis, method: ProjectionMethod, onPlane?: (done: number, total: number) => void): Stack {
  const size = stack[SIZE_KEY[axis]];
  const outDims = { sizeC: stack.sizeC, sizeZ: stack.sizeZ, sizeT: stack.sizeT, [SIZE_KEY[axis]]: 1 };
  const total = planeCount(stack);
  let done = 0;
  const planes: PixelArray[] = [];
  for (let j = 0; j < planeCount(outDims); j++) {
    const pos = planePosition(outDims, j);
    const group: PixelArray[] = [];
    for (let k = 0; k < size; k++) {
      const at = { ...pos, [axis]: k };
      group.push(stack.planes[planeIndex(stack, at.c, at.z, at.t)]);
    }
    planes.push(projectPlanes(group, method, () => onPlane?.(++done, total)));
  }
  const result = withPlanes(stack, planes, outDims);
  if (axis === 'z') delete result.calibration.zStepUm;
  if (axis === 't') delete result.calibration.timeStepS;
  return result;
}

export const projectParams = z.strictObject({
  axis: z.enum(['z', 'c', 't']).default('z').describe('Axis to project along: z (slices), c (channels) or t (frames)'),
  method: z
    .enum(['max', 'mean', 'sum', 'sd'])
    .default('max')
    .describe('max keeps the pixel type; mean, sum and sd (sample standard deviation, n − 1) give float32'),
});

export const project = defineOperation({
  id: 'stack.project',
  title: 'Project stack',
  description: 'Pixel-wise projection of a hyperstack along z, c or t (maximum, mean, sum or standard deviation), like ImageJ\'s Z Project.',
  inputs: { stack: { type: 'stack', description: 'Hyperstack to project' } },
  outputs: {
    image: { type: 'image', optional: true, description: 'The projection as one image; present when the result is a single plane' },
    stack: { type: 'stack', description: 'The projected hyperstack, with the projected axis reduced to 1' },
  },
  params: projectParams,
  run(ctx, { stack }, { axis, method }) {
    const result = projectStack(stack, axis, method, (done, total) => {
      ctx.progress(done / total);
      throwIfAborted(ctx.signal);
    });
    return planeCount(result) === 1 ? { stack: result, image: imageFromStack(result) } : { stack: result };
  },
});
