import { FocalError, createImage, createStack, createTable, isFocalError, planeCount, type Image, type Stack, type Table } from '../../../core/index.js';
import type { ElasticOptions, LevelRecord, Plane } from '../register.js';
import type { RegistrationParams } from '../params.js';

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

export { registrationFields } from '../params.js';

export function toOptions(p: RegistrationParams & { affineInit?: boolean }): ElasticOptions {
  return { metric: p.metric, gridSpacingPx: p.gridSpacingPx, levels: p.levels, bendingWeight: p.bendingWeight, iterations: p.iterations, tolerance: p.tolerance, bins: p.bins, maxSamples: p.maxSamples, affineInit: p.affineInit };
}
