import { FocalError, createImage, createStack, createTable, isFocalError, planeCount, z, type Image, type Stack, type Table } from '../../../core/index.js';
import type { ElasticOptions, LevelRecord, Plane } from '../register.js';

/** The single plane of a port value (an image arrives as a one-plane stack). @throws FocalError E_PORT */
export function singlePlane(stack: Stack, port: string): Plane {
  if (planeCount(stack) !== 1) {
    throw new FocalError(
      'E_PORT',
      `${port}: expected a single 2D plane, got a stack of c=${stack.sizeC}, z=${stack.sizeZ}, t=${stack.sizeT}; pick one plane first (stack.substack)`,
      { field: port },
    );
  }
  return { data: stack.planes[0], width: stack.width, height: stack.height };
}

const INPUT_FIELDS = new Set(['moving', 'fixed', 'image', 'field']);

/** Maps the numeric code's E_ARGUMENT errors: input problems → E_PORT, parameter problems → E_PARAMS. */
export function asOpError(err: unknown): unknown {
  if (isFocalError(err) && err.code === 'E_ARGUMENT' && typeof err.details.field === 'string') {
    return new FocalError(INPUT_FIELDS.has(err.details.field) ? 'E_PORT' : 'E_PARAMS', err.message, err.details, { cause: err });
  }
  return err;
}

/** The displacement field as a 2-channel float32 stack (ux, uy) on the fixed grid. */
export function fieldStack(ux: Float32Array, uy: Float32Array, like: Stack, extra: Record<string, unknown> = {}): Stack {
  return createStack({
    width: like.width,
    height: like.height,
    dtype: 'float32',
    sizeC: 2,
    planes: [ux, uy],
    channelNames: ['ux', 'uy'],
    calibration: like.calibration,
    metadata: {
      ...like.metadata,
      focalField: 'displacement in pixels on the fixed grid: moving(x + u(x)) ≈ fixed(x) (as transformix -def all)',
      ...extra,
    },
  });
}

export function warpedImage(data: Float32Array, like: Stack): Image {
  return createImage({ width: like.width, height: like.height, dtype: 'float32', data, calibration: like.calibration, metadata: like.metadata });
}

export function levelsTable(levels: LevelRecord[]): Table {
  return createTable(
    ['stage', 'level', 'factor', 'gridSpacingPx', 'metricBefore', 'metricAfter', 'iterations', 'evaluations', 'timeMs'],
    levels.map((l) => ({ ...l, timeMs: Math.round(l.timeMs * 10) / 10 })),
  );
}

/** Params shared by elastic.register and elastic.coregister. */
export const registrationFields = {
  metric: z.enum(['ssd', 'ncc', 'mi']).default('ssd').describe('Similarity: ssd (same modality), ncc (linear intensity change), mi (Mattes mutual information, multimodal)'),
  gridSpacingPx: z.number().min(2).max(4096).default(16).describe('Control-point spacing of the finest B-spline grid, px (doubles at each coarser level)'),
  levels: z.number().int().min(1).max(10).default(3).describe('Pyramid levels (1 = full resolution only); the coarsest level must keep ≥ 16 px'),
  bendingWeight: z.number().min(0).max(1e9).default(100).describe('Weight of the bending energy (mean of uxx² + 2uxy² + uyy² over the knots, px⁻²) added to the metric'),
  iterations: z.number().int().min(0).max(10000).default(100).describe('Maximum L-BFGS iterations per pyramid level (a level also stops when the cost falls < 0.01 % over 5 iterations)'),
  bins: z.number().int().min(8).max(256).default(32).describe('Histogram bins for metric mi'),
  maxSamples: z
    .number()
    .int()
    .min(0)
    .max(4294967296)
    .default(0)
    .refine((v) => v === 0 || v >= 256, 'give 0 (every pixel) or at least 256')
    .describe('Most fixed pixels the metric uses per level (a larger level is evaluated on a regular subgrid, faster, a little less accurate); 0 = every pixel'),
};

export function toOptions(p: { metric: 'ssd' | 'ncc' | 'mi'; gridSpacingPx: number; levels: number; bendingWeight: number; iterations: number; bins: number; maxSamples: number; affineInit?: boolean }): ElasticOptions {
  return { metric: p.metric, gridSpacingPx: p.gridSpacingPx, levels: p.levels, bendingWeight: p.bendingWeight, iterations: p.iterations, bins: p.bins, maxSamples: p.maxSamples, affineInit: p.affineInit };
}
