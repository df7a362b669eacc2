import { FocalError } from '../errors.js';
import { allocate, dtypeOf, type DType, type PixelArray } from './dtype.js';

/**
 * Physical calibration. Every length is in micrometres whatever unit the file used;
 * readers convert (nm, mm, cm, m, inch) and leave a field undefined when the file
 * has no physical unit.
 */
export interface Calibration {
  /** Width of one pixel, µm. */
  pixelWidthUm?: number;
  /** Height of one pixel, µm. */
  pixelHeightUm?: number;
  /** Distance between z planes, µm. */
  zStepUm?: number;
  /** Interval between time points, seconds. */
  timeStepS?: number;
}

/** A single 2D plane: row-major pixels, x = column, y = row, origin top-left. */
export interface Image {
  readonly kind: 'image';
  width: number;
  height: number;
  dtype: DType;
  data: PixelArray;
  calibration: Calibration;
  /** Free metadata carried along (file tags, provenance); JSON-serialisable values only. */
  metadata: Record<string, unknown>;
}

export interface ImageInit {
  width: number;
  height: number;
  dtype?: DType;
  /** Pixel data; allocated (zeros) when omitted. Its type fixes the dtype if `dtype` is omitted. */
  data?: PixelArray;
  calibration?: Calibration;
  metadata?: Record<string, unknown>;
}

export function assertDimensions(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `image dimensions must be positive integers, got ${width}×${height}`);
  }
}

/** Creates an image, checking that the data length matches width × height. */
export function createImage(init: ImageInit): Image {
  assertDimensions(init.width, init.height);
  const n = init.width * init.height;
  const dtype = init.dtype ?? (init.data ? dtypeOf(init.data) : 'float32');
  const data = init.data ?? allocate(dtype, n);
  if (dtypeOf(data) !== dtype) throw new FocalError('E_ARGUMENT', `data is ${dtypeOf(data)} but dtype is ${dtype}`);
  if (data.length !== n) {
    throw new FocalError('E_ARGUMENT', `data has ${data.length} pixels, expected ${init.width}×${init.height} = ${n}`);
  }
  return {
    kind: 'image',
    width: init.width,
    height: init.height,
    dtype,
    data,
    calibration: { ...(init.calibration ?? {}) },
    metadata: { ...(init.metadata ?? {}) },
  };
}

export function isImage(value: unknown): value is Image {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'image';
}
