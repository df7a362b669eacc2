import { FocalError } from '../errors.js';
import { allocate, dtypeOf, type DType, type PixelArray } from './dtype.js';
import { assertDimensions, createImage, type Calibration, type Image } from './image.js';

/**
 * A hyperstack of 2D planes with sizes c (channels), z (slices) and t (frames).
 * Planes are ordered as ImageJ orders them (XYCZT): channel varies fastest, then z,
 * then t, so plane index = c + z·sizeC + t·sizeC·sizeZ.
 *
 * RGB colour is a 3-channel uint8 stack with `rgb: true`; writers then store it as
 * interleaved RGB samples instead of three grey channels.
 */
export interface Stack {
  readonly kind: 'stack';
  width: number;
  height: number;
  dtype: DType;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** sizeC·sizeZ·sizeT planes, each width·height pixels, in XYCZT order. */
  planes: PixelArray[];
  calibration: Calibration;
  /** One name per channel, or empty. */
  channelNames: string[];
  /** True for a 3-channel uint8 stack that should be written and shown as RGB colour. */
  rgb: boolean;
  /** Free metadata (file tags, provenance); JSON-serialisable values only. */
  metadata: Record<string, unknown>;
}

export interface StackInit {
  width: number;
  height: number;
  dtype: DType;
  sizeC?: number;
  sizeZ?: number;
  sizeT?: number;
  /** Planes in XYCZT order; allocated (zeros) when omitted. */
  planes?: PixelArray[];
  calibration?: Calibration;
  channelNames?: string[];
  rgb?: boolean;
  metadata?: Record<string, unknown>;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new FocalError('E_ARGUMENT', `${name} must be a positive integer, got ${v}`);
  return v;
}

/** Creates a stack, checking plane count, plane sizes and dtypes. */
export function createStack(init: StackInit): Stack {
  assertDimensions(init.width, init.height);
  const sizeC = positiveInt('sizeC', init.sizeC ?? 1);
  const sizeZ = positiveInt('sizeZ', init.sizeZ ?? 1);
  const sizeT = positiveInt('sizeT', init.sizeT ?? 1);
  const count = sizeC * sizeZ * sizeT;
  const n = init.width * init.height;
  const planes = init.planes ?? Array.from({ length: count }, () => allocate(init.dtype, n));
  if (planes.length !== count) {
    throw new FocalError('E_ARGUMENT', `stack has ${planes.length} planes, expected c·z·t = ${sizeC}·${sizeZ}·${sizeT} = ${count}`);
  }
  planes.forEach((p, i) => {
    if (dtypeOf(p) !== init.dtype) throw new FocalError('E_ARGUMENT', `plane ${i} is ${dtypeOf(p)}, stack dtype is ${init.dtype}`);
    if (p.length !== n) throw new FocalError('E_ARGUMENT', `plane ${i} has ${p.length} pixels, expected ${n}`);
  });
  const rgb = init.rgb ?? false;
  if (rgb && (init.dtype !== 'uint8' || sizeC !== 3)) {
    throw new FocalError('E_ARGUMENT', 'an RGB stack must be uint8 with exactly 3 channels');
  }
  const channelNames = init.channelNames ?? [];
  if (channelNames.length !== 0 && channelNames.length !== sizeC) {
    throw new FocalError('E_ARGUMENT', `got ${channelNames.length} channel names for ${sizeC} channels`);
  }
  return {
    kind: 'stack',
    width: init.width,
    height: init.height,
    dtype: init.dtype,
    sizeC,
    sizeZ,
    sizeT,
    planes,
    calibration: { ...(init.calibration ?? {}) },
    channelNames: [...channelNames],
    rgb,
    metadata: { ...(init.metadata ?? {}) },
  };
}

export function isStack(value: unknown): value is Stack {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'stack';
}

export function planeCount(stack: Pick<Stack, 'sizeC' | 'sizeZ' | 'sizeT'>): number {
  return stack.sizeC * stack.sizeZ * stack.sizeT;
}

/** Index of plane (c, z, t) in `stack.planes` (all 0-based). */
export function planeIndex(stack: Pick<Stack, 'sizeC' | 'sizeZ' | 'sizeT'>, c: number, z: number, t: number): number {
  if (c < 0 || c >= stack.sizeC || z < 0 || z >= stack.sizeZ || t < 0 || t >= stack.sizeT) {
    throw new FocalError('E_ARGUMENT', `plane (c=${c}, z=${z}, t=${t}) is outside a stack of c=${stack.sizeC}, z=${stack.sizeZ}, t=${stack.sizeT}`);
  }
  return c + z * stack.sizeC + t * stack.sizeC * stack.sizeZ;
}

/** The (c, z, t) position of plane `index`. */
export function planePosition(stack: Pick<Stack, 'sizeC' | 'sizeZ' | 'sizeT'>, index: number): { c: number; z: number; t: number } {
  const c = index % stack.sizeC;
  const z = Math.floor(index / stack.sizeC) % stack.sizeZ;
  const t = Math.floor(index / (stack.sizeC * stack.sizeZ));
  return { c, z, t };
}

/** Plane (c, z, t) as an Image that shares the stack's pixel data (no copy). */
export function getPlane(stack: Stack, c = 0, z = 0, t = 0): Image {
  return createImage({
    width: stack.width,
    height: stack.height,
    dtype: stack.dtype,
    data: stack.planes[planeIndex(stack, c, z, t)],
    calibration: stack.calibration,
    metadata: stack.metadata,
  });
}

/** A one-plane stack around an image (shares the pixel data). */
export function stackFromImage(image: Image): Stack {
  return createStack({
    width: image.width,
    height: image.height,
    dtype: image.dtype,
    planes: [image.data],
    calibration: image.calibration,
    metadata: image.metadata,
  });
}

/** The single plane of a one-plane stack as an Image; throws if the stack has more planes. */
export function imageFromStack(stack: Stack): Image {
  if (planeCount(stack) !== 1) {
    throw new FocalError('E_PORT', `expected a single plane, got a stack of c=${stack.sizeC}, z=${stack.sizeZ}, t=${stack.sizeT}`);
  }
  return getPlane(stack);
}

/** Same geometry and metadata, new planes (which may have another dtype). */
export function withPlanes(stack: Stack, planes: PixelArray[], dims?: Partial<Pick<Stack, 'sizeC' | 'sizeZ' | 'sizeT'>>): Stack {
  const dtype = planes.length > 0 ? dtypeOf(planes[0]) : stack.dtype;
  const sizeC = dims?.sizeC ?? stack.sizeC;
  return createStack({
    width: stack.width,
    height: stack.height,
    dtype,
    sizeC,
    sizeZ: dims?.sizeZ ?? stack.sizeZ,
    sizeT: dims?.sizeT ?? stack.sizeT,
    planes,
    calibration: stack.calibration,
    channelNames: sizeC === stack.sizeC ? stack.channelNames : [],
    rgb: stack.rgb && dtype === 'uint8' && sizeC === 3,
    metadata: stack.metadata,
  });
}
