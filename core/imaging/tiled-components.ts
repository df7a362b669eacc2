/**
 * Connected components of a plane seen tile by tile (issue 21: counting on slides larger than
 * memory). A streaming reduction: each tile is labelled on its own (8-connected), its
 * components' partial measurements (area, coordinate sums, bounding box, intensity sum/min/max,
 * first pixel) go into a table, and components that touch across a tile border are merged with
 * a union–find over those partial tables. Only the last row of the band above and the last
 * column of the tile to the left are kept as labels, so memory is one tile plus one row plus
 * the table (a few numbers per component), whatever the plane's size.
 *
 * Merge rule: a tile's top row is joined to the row above at x − 1, x, x + 1 and its left
 * column to the column on its left at y − 1, y, y + 1 (8-connectivity across the seam,
 * corners included); merged partials add areas and sums, take the min/max of boxes and
 * values, and keep the earliest first pixel. So every particle crossing a seam is counted
 * exactly once, and the merged measurements equal the whole-plane ones (sums of integer
 * coordinates exactly; intensity sums of integer images exactly, of float images to rounding).
 */
import { FocalError } from '../errors.js';

/** One merged component, in pixels (coordinates of pixel centres are x + 0.5). */
export interface TiledComponent {
  /** First pixel in raster order (top row, then leftmost pixel in it). */
  firstX: number;
  firstY: number;
  areaPx: number;
  /** Sums of the pixels' column and row indices (centroid = sum / area + 0.5). */
  sumX: number;
  sumY: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Sum, count, min and max of the finite intensity values (NaN skipped); count 0 when there were none. */
  sum: number;
  finite: number;
  min: number;
  max: number;
  /** With `onClosed`: what it returned for this component when it lay whole in one tile, else NaN. */
  tag?: number;
}

/** A component that lies whole in the tile just added (see TiledComponents' `onClosed`), in plane pixels. */
export interface ClosedComponent {
  firstX: number;
  firstY: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  areaPx: number;
}

/** The tile just added: its place in the plane and its pixels (row-major, w × h). */
export interface ComponentTile {
  x: number;
  y: number;
  w: number;
  h: number;
  mask: ArrayLike<number>;
  values: ArrayLike<number>;
}

/**
 * Accumulates the components of a `width` × `height` plane from tiles given in raster order:
 * bands top to bottom, each band's tiles left to right, every tile of a band with the band's
 * row and height, the band's tiles covering its full width.
 * @example
 * const cc = new TiledComponents(W, H);
 * for (let y = 0; y < H; y += 512) for (let x = 0; x < W; x += 512) cc.addTile(x, y, w, h, mask, values);
 * const particles = cc.finish();
 */
export class TiledComponents {
  private readonly parent: number[] = [];
  private readonly onClosed?: (c: ClosedComponent, tile: ComponentTile) => number;
  private readonly stats: number[][] = []; // per id: firstIdx, area, sumX, sumY, minX, minY, maxX, maxY, sum, finite, min, max (small integers stay Smis: the components' fields, then the rows made of them, hold no boxed numbers)
  private readonly tags: number[] = []; // per id, with onClosed: its tag, NaN when none
  private prevRow: Int32Array; // ids (1-based, 0 = background) of the band above's last row
  private curRow: Int32Array;
  private prevCol = new Int32Array(0); // ids of the previous tile's last column
  private bandY = 0;
  private bandH = -1;
  private nextX = 0;
  private done = false;

  /**
   * @param options.onClosed called, once the tile is labelled, for each component of it that
   *   reaches no edge it shares with another tile (so no other tile adds to it, and its pixels'
   *   8 neighbours lie in the tile or outside the plane): what it returns is the component's `tag`.
   *   A caller measures such a component on the tile it has, instead of reading it again.
   */
  constructor(
    readonly width: number,
    readonly height: number,
    options: { onClosed?: (c: ClosedComponent, tile: ComponentTile) => number } = {},
  ) {
    this.onClosed = options.onClosed;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new FocalError('E_ARGUMENT', `TiledComponents: width and height must be positive integers, got ${width}×${height}`);
    }
    this.prevRow = new Int32Array(width);
    this.curRow = new Int32Array(width);
  }

  private find(a: number): number {
    const p = this.parent;
    let r = a;
    while (p[r] !== r) r = p[r];
    while (p[a] !== r) {
      const n = p[a];
      p[a] = r;
      a = n;
    }
    return r;
  }

  private union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }

  /**
   * Adds the tile at (x, y), w × h px: `mask` non-zero = foreground, `values` the intensities
   * measured (same size; omitted: the mask). The tile must be the next in raster order.
   * @throws FocalError `E_ARGUMENT` for a tile out of order or of the wrong size.
   */
  addTile(x: number, y: number, w: number, h: number, mask: ArrayLike<number>, values: ArrayLike<number> = mask): void {
    if (this.done) throw new FocalError('E_ARGUMENT', 'TiledComponents: finish() was already called');
    if (mask.length !== w * h || values.length !== w * h) throw new FocalError('E_ARGUMENT', `TiledComponents: the tile at ${x},${y} has ${mask.length} mask / ${values.length} value pixels, expected ${w}×${h}`);
    if (x === 0) {
      // a new band starts below the last one
      const expectY = this.bandH < 0 ? 0 : this.bandY + this.bandH;
      if (this.bandH >= 0 && this.nextX !== this.width) throw new FocalError('E_ARGUMENT', `TiledComponents: the band at row ${this.bandY} ends at column ${this.nextX}, not at the width ${this.width}`);
      if (y !== expectY) throw new FocalError('E_ARGUMENT', `TiledComponents: expected the band at row ${expectY}, got a tile at row ${y}`);
      if (this.bandH >= 0) [this.prevRow, this.curRow] = [this.curRow, this.prevRow];
      this.bandY = y;
      this.bandH = h;
      this.nextX = 0;
    } else if (y !== this.bandY || h !== this.bandH || x !== this.nextX) {
      throw new FocalError('E_ARGUMENT', `TiledComponents: expected the tile at ${this.nextX},${this.bandY} of height ${this.bandH}, got ${x},${y} of height ${h}`);
    }
    if (w < 1 || h < 1 || x + w > this.width || y + h > this.height) throw new FocalError('E_ARGUMENT', `TiledComponents: tile ${x},${y} ${w}×${h} does not lie inside ${this.width}×${this.height}`);

    // label the tile (8-connected flood fill), ids continuing the global numbering
    const n = w * h;
    const ids = new Int32Array(n);
    const stack = new Int32Array(n);
    const W = this.width;
    const firstId = this.parent.length;
    for (let start = 0; start < n; start++) {
      if (mask[start] === 0 || ids[start] !== 0) continue;
      const id = this.parent.length;
      this.parent.push(id);
      const sx0 = start % w;
      const sy0 = (start - sx0) / w;
      let area = 0, sumX = 0, sumY = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      let sum = 0, finite = 0, vmin = Infinity, vmax = -Infinity;
      let top = 0;
      ids[start] = id + 1;
      stack[top++] = start;
      while (top > 0) {
        const p = stack[--top];
        const lx = p % w;
        const ly = (p - lx) / w;
        const gx = x + lx;
        const gy = y + ly;
        area++;
        sumX += gx;
        sumY += gy;
        if (gx < minX) minX = gx;
        if (gx > maxX) maxX = gx;
        if (gy < minY) minY = gy;
        if (gy > maxY) maxY = gy;
        const v = values[p];
        if (v === v) {
          sum += v;
          finite++;
          if (v < vmin) vmin = v;
          if (v > vmax) vmax = v;
        }
        for (let dy = -1; dy <= 1; dy++) {
          const yy = ly + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = lx + dx;
            if (xx < 0 || xx >= w || (dx === 0 && dy === 0)) continue;
            const q = yy * w + xx;
            if (mask[q] !== 0 && ids[q] === 0) {
              ids[q] = id + 1;
              stack[top++] = q;
            }
          }
        }
      }
      this.stats.push([(y + sy0) * W + x + sx0, area, sumX, sumY, minX, minY, maxX, maxY, sum, finite, vmin, vmax]);
      if (this.onClosed) this.tags.push(NaN);
    }
    if (this.onClosed) {
      // the edges this tile shares with others: its top and left (tiles before), right and bottom (tiles after)
      const x1 = x + w - 1;
      const y1 = y + h - 1;
      const tile: ComponentTile = { x, y, w, h, mask, values };
      for (let id = firstId; id < this.parent.length; id++) {
        const s = this.stats[id];
        if ((s[4] === x && x > 0) || (s[5] === y && y > 0) || (s[6] === x1 && x1 < W - 1) || (s[7] === y1 && y1 < this.height - 1)) continue;
        this.tags[id] = this.onClosed({ firstX: s[0] % W, firstY: Math.floor(s[0] / W), minX: s[4], minY: s[5], maxX: s[6], maxY: s[7], areaPx: s[1] }, tile);
      }
    }

    // merge across the top seam (row above, 3 neighbours each) and the left seam (column to the left)
    if (y > 0) {
      for (let lx = 0; lx < w; lx++) {
        const a = ids[lx];
        if (a === 0) continue;
        const gx = x + lx;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = gx + dx;
          if (xx < 0 || xx >= W) continue;
          const b = this.prevRow[xx];
          if (b !== 0) this.union(a - 1, b - 1);
        }
      }
    }
    if (x > 0) {
      for (let ly = 0; ly < h; ly++) {
        const a = ids[ly * w];
        if (a === 0) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = ly + dy;
          if (yy < 0 || yy >= h) continue;
          const b = this.prevCol[yy];
          if (b !== 0) this.union(a - 1, b - 1);
        }
      }
    }
    // keep this tile's last row (for the band below) and last column (for the tile to the right)
    this.curRow.set(ids.subarray((h - 1) * w, h * w), x);
    if (this.prevCol.length !== h) this.prevCol = new Int32Array(h);
    for (let ly = 0; ly < h; ly++) this.prevCol[ly] = ids[ly * w + w - 1];
    this.nextX = x + w;
  }

  /**
   * The merged components, in raster order of their first pixel (ImageJ's particle order).
   * Called once: the partial tables are let go as the components are made.
   * @throws FocalError `E_ARGUMENT` when the tiles did not cover the plane, or on a second call.
   */
  finish(): TiledComponent[] {
    if (this.done) throw new FocalError('E_ARGUMENT', 'TiledComponents: finish() was already called (it hands over the components once)');
    if (this.bandH < 0 || this.nextX !== this.width || this.bandY + this.bandH !== this.height) {
      throw new FocalError('E_ARGUMENT', `TiledComponents: the tiles cover ${this.bandH < 0 ? 'nothing' : `up to column ${this.nextX} of the band at row ${this.bandY}`}, not the whole ${this.width}×${this.height} plane`);
    }
    this.done = true;
    // each set's root is its smallest id (union keeps the smaller), so met first in id order: the
    // others are added into the root's partial in place, and let go (no copy of the table)
    const stats = this.stats;
    const tagged = this.onClosed !== undefined;
    const roots: number[] = [];
    for (let i = 0; i < this.parent.length; i++) {
      const r = this.find(i);
      if (r === i) {
        roots.push(i);
        continue;
      }
      const m = stats[r];
      const s = stats[i];
      m[0] = Math.min(m[0], s[0]);
      m[1] += s[1];
      m[2] += s[2];
      m[3] += s[3];
      m[4] = Math.min(m[4], s[4]);
      m[5] = Math.min(m[5], s[5]);
      m[6] = Math.max(m[6], s[6]);
      m[7] = Math.max(m[7], s[7]);
      m[8] += s[8];
      m[9] += s[9];
      m[10] = Math.min(m[10], s[10]);
      m[11] = Math.max(m[11], s[11]);
      if (tagged) this.tags[r] = NaN; // merged: it lay in more than one tile
      stats[i] = EMPTY;
    }
    this.parent.length = 0;
    const W = this.width;
    roots.sort((a, b) => stats[a][0] - stats[b][0]);
    const out = roots.map((r): TiledComponent => {
      const m = stats[r];
      stats[r] = EMPTY;
      const firstX = m[0] % W;
      const firstY = Math.floor(m[0] / W);
      // one object shape either way (a spread of the tag would make each a slower one)
      return tagged
        ? { firstX, firstY, areaPx: m[1], sumX: m[2], sumY: m[3], minX: m[4], minY: m[5], maxX: m[6], maxY: m[7], sum: m[8], finite: m[9], min: m[10], max: m[11], tag: this.tags[r] }
        : { firstX, firstY, areaPx: m[1], sumX: m[2], sumY: m[3], minX: m[4], minY: m[5], maxX: m[6], maxY: m[7], sum: m[8], finite: m[9], min: m[10], max: m[11] };
    });
    stats.length = 0;
    this.tags.length = 0;
    return out;
  }
}

const EMPTY: number[] = [];

