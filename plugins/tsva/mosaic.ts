/**
 * Placing refocused scanner tiles into a slide mosaic (tsva.slide): each tile is weighted by a
 * feather (linear ramps over FEATHER_PX px at each edge) and overlapping tiles are averaged by
 * those weights. The same arithmetic serves the whole mosaic in memory and a band of it in a
 * streamed run, so both give the same pixels.
 */
import { FocalError, type Table } from '../../core/index.js';

/** Width of the feather ramp at each tile edge, px. */
export const FEATHER_PX = 16;

/** A tile's weight along one axis at offset `u` of `size` px: 1/FEATHER_PX at the edge, rising to 1. */
export function featherRamp(u: number, size: number): number {
  return Math.min(1, (Math.min(u, size - 1 - u) + 1) / FEATHER_PX);
}

/** A rectangle of the mosaic, px. */
export interface MosaicRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Top-left corners of the tiles from the positions table (columns xPx, yPx; one row per tile). @throws FocalError `E_PORT` naming `positions` */
export function tilePositions(table: Table, tiles: number): { x: number; y: number }[] {
  for (const col of ['xPx', 'yPx']) {
    if (!table.columns.includes(col)) throw new FocalError('E_PORT', `positions: needs columns xPx and yPx (the tile's top-left corner in the mosaic, px), has [${table.columns.join(', ')}]`, { field: 'positions' });
  }
  if (table.rows.length !== tiles) throw new FocalError('E_PORT', `positions: has ${table.rows.length} rows but shots holds ${tiles} tiles (2 planes per tile)`, { field: 'positions' });
  return table.rows.map((r, i) => {
    const x = Number(r.xPx);
    const y = Number(r.yPx);
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0) throw new FocalError('E_PORT', `positions: row ${i} has xPx=${String(r.xPx)}, yPx=${String(r.yPx)}; both must be integers ≥ 0`, { field: 'positions' });
    return { x, y };
  });
}

/** The mosaic's size: every tile (tw × th) at its position. */
export function mosaicSize(positions: readonly { x: number; y: number }[], tw: number, th: number): { width: number; height: number } {
  let width = 0;
  let height = 0;
  for (const p of positions) {
    width = Math.max(width, p.x + tw);
    height = Math.max(height, p.y + th);
  }
  return { width, height };
}

/** Whether a tile at `p` (tw × th) reaches into `rect`. */
export function tileMeets(p: { x: number; y: number }, tw: number, th: number, rect: MosaicRect): boolean {
  return p.x < rect.x + rect.w && p.x + tw > rect.x && p.y < rect.y + rect.h && p.y + th > rect.y;
}

/**
 * Adds one refocused tile (interleaved HWC RGB, tw × th, at `p`) into the accumulators of `rect`:
 * `acc` (HWC, rect.w × rect.h × 3) gets weight × value, `wsum` the weight, for the tile's pixels
 * inside the rectangle. Tiles must be added in the same order (tile index) for equal results.
 */
export function addTile(acc: Float32Array, wsum: Float32Array, rect: MosaicRect, tile: { x: number; y: number; hwc: Float32Array }, tw: number, th: number): void {
  const v0 = Math.max(0, rect.y - tile.y);
  const v1 = Math.min(th, rect.y + rect.h - tile.y);
  const u0 = Math.max(0, rect.x - tile.x);
  const u1 = Math.min(tw, rect.x + rect.w - tile.x);
  for (let v = v0; v < v1; v++) {
    for (let u = u0; u < u1; u++) {
      const w = featherRamp(u, tw) * featherRamp(v, th);
      const i = (tile.y + v - rect.y) * rect.w + (tile.x + u - rect.x);
      wsum[i] += w;
      for (let c = 0; c < 3; c++) acc[i * 3 + c] += w * tile.hwc[(v * tw + u) * 3 + c];
    }
  }
}

/** The weighted average in place: acc / wsum, and white (1) where no tile lies. */
export function resolveBlend(acc: Float32Array, wsum: Float32Array): Float32Array {
  for (let i = 0; i < wsum.length; i++) for (let c = 0; c < 3; c++) acc[i * 3 + c] = wsum[i] > 0 ? acc[i * 3 + c] / wsum[i] : 1;
  return acc;
}
