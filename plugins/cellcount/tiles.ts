/**
 * Passes over a plane read tile by tile, for the ops that work on slides larger than memory
 * (the count's threshold limits, the contrast stretch's limits, the overlay's range).
 */
import { throwIfAborted, type PixelArray, type RegionSource } from '../../core/index.js';
import { finiteRange } from './threshold.js';

/** Calls `visit` on each tile of plane (z, t) of `source`, `tileSize` px a side, in raster order. */
export async function forEachTile(source: RegionSource, tileSize: number, visit: (data: PixelArray) => void, o: { z?: number; t?: number; signal?: AbortSignal } = {}): Promise<void> {
  const { width: W, height: H } = source;
  for (let y = 0; y < H; y += tileSize) {
    for (let x = 0; x < W; x += tileSize) {
      throwIfAborted(o.signal);
      visit(await source.readRegion({ z: o.z ?? 0, t: o.t ?? 0, x, y, w: Math.min(tileSize, W - x), h: Math.min(tileSize, H - y) }, { signal: o.signal }));
    }
  }
}

/** The finite [min, max] of plane (z, t) read tile by tile; [Infinity, −Infinity] when it has no finite value. */
export async function tiledFiniteRange(source: RegionSource, tileSize: number, o: { z?: number; t?: number; signal?: AbortSignal } = {}): Promise<[number, number]> {
  let min = Infinity;
  let max = -Infinity;
  await forEachTile(source, tileSize, (data) => {
    const [lo, hi] = finiteRange(data);
    if (lo < min) min = lo;
    if (hi > max) max = hi;
  }, o);
  return [min, max];
}
