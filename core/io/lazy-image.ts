import type { DType, PixelArray } from '../data/dtype.js';
import type { Calibration } from '../data/image.js';
import { FocalError } from '../errors.js';

/** One resolution level of a lazy image (level 0 is full resolution). */
export interface ImageLevel {
  width: number;
  height: number;
  /** Size of the stored blocks: the tile size, or width × rows-per-strip for strips. */
  blockWidth: number;
  blockHeight: number;
  tiled: boolean;
}

/** A rectangle of one plane at one level, px. Missing c, z, t, level are 0. */
export interface RegionRequest {
  level?: number;
  c?: number;
  z?: number;
  t?: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Where pixels come from, a rectangle at a time: what the pyramid writer consumes and what
 * a lazy image (or a tiled operation over one) provides. Planes are XYCZT, like `Stack`.
 */
export interface RegionSource {
  width: number;
  height: number;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  dtype: DType;
  calibration: Calibration;
  channelNames: string[];
  /** RGB colour (uint8, 3 channels), as `Stack.rgb`; absent: false. */
  rgb?: boolean;
  /**
   * The source computes every channel of a rectangle at once (a tiled op that gathers
   * channels): a consumer reads one band of each channel of a (z, t) before the next band
   * (the pyramid and OME-Zarr writers do), so that each band is computed once.
   */
  channelsTogether?: boolean;
  /** Level-0 pixels of one rectangle, row-major, w × h elements of `dtype`. */
  readRegion(region: RegionRequest, options?: { signal?: AbortSignal }): Promise<PixelArray>;
}

/**
 * An image opened without reading its pixels: dimensions, calibration, resolution levels
 * and region reads that decode only the strips or tiles a region needs.
 */
export interface LazyImage extends RegionSource {
  readonly path: string;
  readonly rgb: boolean;
  readonly levels: readonly ImageLevel[];
  /** The same summary `readTiff` puts in stack.metadata (format, source, ome / imagej, …). */
  readonly metadata: Record<string, unknown>;
  /** Pixels of one rectangle at `region.level`, row-major, w × h elements of `dtype`. */
  readRegion(region: RegionRequest, options?: { signal?: AbortSignal }): Promise<PixelArray>;
  close(): Promise<void>;
}

/**
 * Checks a region request against an image: integer c, z, t and level in range, a non-empty
 * rectangle inside the level. E_ARGUMENT naming the field and the image otherwise.
 */
export function checkRegion(img: Pick<RegionSource, 'sizeC' | 'sizeZ' | 'sizeT'> & { levels?: readonly ImageLevel[]; width: number; height: number }, r: RegionRequest, name: string): { level: number; c: number; z: number; t: number; width: number; height: number } {
  const level = r.level ?? 0;
  const c = r.c ?? 0;
  const z = r.z ?? 0;
  const t = r.t ?? 0;
  const nLevels = img.levels?.length ?? 1;
  const bad = (field: string, msg: string): FocalError => new FocalError('E_ARGUMENT', `${name}: region ${field} ${msg}`, { file: name, field });
  const inRange = (field: string, v: number, n: number): void => {
    if (!Number.isInteger(v) || v < 0 || v >= n) throw bad(field, `must be an integer in 0…${n - 1}, got ${v}`);
  };
  inRange('level', level, nLevels);
  inRange('c', c, img.sizeC);
  inRange('z', z, img.sizeZ);
  inRange('t', t, img.sizeT);
  const lv = img.levels?.[level] ?? { width: img.width, height: img.height };
  for (const [f, v] of [['x', r.x], ['y', r.y], ['w', r.w], ['h', r.h]] as const) {
    if (!Number.isSafeInteger(v)) throw bad(f, `must be an integer, got ${v}`);
  }
  if (r.w < 1 || r.h < 1) throw bad('w', `must be at least 1×1 px, got ${r.w}×${r.h}`);
  if (r.x < 0 || r.y < 0 || r.x + r.w > lv.width || r.y + r.h > lv.height) {
    throw bad('x', `${r.x},${r.y} ${r.w}×${r.h} does not lie inside level ${level} (${lv.width}×${lv.height} px)`);
  }
  return { level, c, z, t, width: lv.width, height: lv.height };
}

/** A stack in memory as a region source (tests, and writing a pyramid from a computed stack). */
export function stackRegionSource(stack: { width: number; height: number; sizeC: number; sizeZ: number; sizeT: number; dtype: DType; calibration: Calibration; channelNames: string[]; planes: PixelArray[]; rgb?: boolean }): RegionSource {
  return {
    ...(stack.rgb ? { rgb: true } : {}),
    width: stack.width,
    height: stack.height,
    sizeC: stack.sizeC,
    sizeZ: stack.sizeZ,
    sizeT: stack.sizeT,
    dtype: stack.dtype,
    calibration: stack.calibration,
    channelNames: stack.channelNames,
    async readRegion(region) {
      const r = checkRegion(stack, region, 'stack');
      const plane = stack.planes[r.c + r.z * stack.sizeC + r.t * stack.sizeC * stack.sizeZ];
      const Ctor = plane.constructor as new (n: number) => PixelArray;
      const out = new Ctor(region.w * region.h);
      for (let y = 0; y < region.h; y++) {
        const from = (region.y + y) * stack.width + region.x;
        out.set(plane.subarray(from, from + region.w), y * region.w);
      }
      return out;
    },
  };
}
