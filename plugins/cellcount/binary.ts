/**
 * Binary image operations as ImageJ's Process › Binary menu defines them (Fill Holes, Erode,
 * Dilate, Open, Close, Distance Map, Watershed), on masks where a non-zero pixel is
 * foreground. Written from ImageJ's user documentation and checked against ImageJ 1.53t on
 * the fixtures in plugins/cellcount/fixtures/particles (not derived from ImageJ's source).
 * Results are new Uint8Array masks with 255 = foreground, 0 = background.
 */
import { FocalError } from '../../core/index.js';
import { floodFillFromBorder } from '../../core/imaging.js';

function checkMask(mask: ArrayLike<number>, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `width, height: must be positive integers, got ${width}×${height}`);
  }
  if (mask.length !== width * height) throw new FocalError('E_ARGUMENT', `mask: has ${mask.length} pixels, expected ${width}×${height}`);
}

function toMask(mask: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] !== 0 ? 255 : 0;
  return out;
}

/** Options of the morphological operations (ImageJ's Process › Binary › Options). */
export interface BinaryOptions {
  /** Number of times the operation is applied (ImageJ's "iterations"; default 1). */
  iterations?: number;
  /**
   * Erosion removes a foreground pixel with at least `count` background pixels among its 8
   * neighbours; dilation sets a background pixel with at least `count` foreground
   * neighbours (ImageJ's "count", 1…8; default 1).
   */
  count?: number;
}

function checkOptions(options: BinaryOptions): { iterations: number; count: number } {
  const iterations = options.iterations ?? 1;
  const count = options.count ?? 1;
  if (!Number.isInteger(iterations) || iterations < 1) throw new FocalError('E_ARGUMENT', `iterations: must be a positive integer, got ${iterations}`, { field: 'iterations' });
  if (!Number.isInteger(count) || count < 1 || count > 8) throw new FocalError('E_ARGUMENT', `count: must be an integer 1…8, got ${count}`, { field: 'count' });
  return { iterations, count };
}

/**
 * One pass: `erode` removes foreground pixels with ≥ count background 8-neighbours; otherwise
 * background pixels with ≥ count foreground 8-neighbours are set. Pixels outside the image
 * count as background (ImageJ with "pad edges when eroding" off, its default).
 */
function pass(src: Uint8Array, width: number, height: number, erode: boolean, count: number): Uint8Array {
  const out = src.slice();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const isFg = src[i] !== 0;
      if (isFg !== erode) continue;
      let fgN = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if (dx === 0 && dy === 0) continue;
          const xx = x + dx;
          if (xx >= 0 && xx < width && src[yy * width + xx] !== 0) fgN++;
        }
      }
      if (erode) {
        if (8 - fgN >= count) out[i] = 0;
      } else if (fgN >= count) {
        out[i] = 255;
      }
    }
  }
  return out;
}

function repeatPass(mask: ArrayLike<number>, width: number, height: number, options: BinaryOptions, erosion: boolean): Uint8Array {
  checkMask(mask, width, height);
  const { iterations, count } = checkOptions(options);
  let m = toMask(mask);
  for (let k = 0; k < iterations; k++) m = pass(m, width, height, erosion, count);
  return m;
}

/** Binary erosion (ImageJ's Erode with its iterations/count options; defaults 1/1). */
export function erode(mask: ArrayLike<number>, width: number, height: number, options: BinaryOptions = {}): Uint8Array {
  return repeatPass(mask, width, height, options, true);
}

/** Binary dilation (ImageJ's Dilate with its iterations/count options; defaults 1/1). */
export function dilate(mask: ArrayLike<number>, width: number, height: number, options: BinaryOptions = {}): Uint8Array {
  return repeatPass(mask, width, height, options, false);
}

/** Opening: `iterations` erosions then as many dilations (ImageJ's Open). */
export function open(mask: ArrayLike<number>, width: number, height: number, options: BinaryOptions = {}): Uint8Array {
  return dilate(erode(mask, width, height, options), width, height, options);
}

/** Closing: `iterations` dilations then as many erosions (ImageJ's Close). */
export function close(mask: ArrayLike<number>, width: number, height: number, options: BinaryOptions = {}): Uint8Array {
  return erode(dilate(mask, width, height, options), width, height, options);
}

/**
 * Fill Holes: sets every background pixel that cannot be reached from the image border
 * through 4-connected background pixels (holes of 8-connected particles), as ImageJ's
 * Process › Binary › Fill Holes.
 */
export function fillHoles(mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  checkMask(mask, width, height);
  const n = width * height;
  // 0 = background not yet reached, 1 = particle, 2 = background reached from the border
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) labels[i] = mask[i] === 0 ? 0 : 1;
  floodFillFromBorder(labels, width, height, 2);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = labels[i] === 2 ? 0 : 255;
  return out;
}

/** 1D squared Euclidean distance transform of f (Felzenszwalb & Huttenlocher 2012), in place via buffers. */
function dt1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    if (f[q] === Infinity) continue;
    if (f[v[k]] === Infinity) {
      v[k] = q;
      continue;
    }
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (f[v[0]] === Infinity) {
    for (let q = 0; q < n; q++) d[q] = Infinity;
    return;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    const dq = q - v[k];
    d[q] = dq * dq + f[v[k]];
  }
}

/**
 * Exact Euclidean distance map (ImageJ's Process › Binary › Distance Map, as float values):
 * for each foreground pixel the distance, px, from its centre to the centre of the nearest
 * background pixel; 0 on background. Pixels outside the image are not background, so a
 * particle touching the border is measured from its in-image background only. An image with
 * no background pixel gives Infinity everywhere.
 */
export function distanceMap(mask: ArrayLike<number>, width: number, height: number): Float32Array {
  checkMask(mask, width, height);
  const n = width * height;
  const g = new Float64Array(n);
  const len = Math.max(width, height);
  const f = new Float64Array(len);
  const d = new Float64Array(len);
  const v = new Int32Array(len);
  const zb = new Float64Array(len + 1);
  // columns
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) f[y] = mask[y * width + x] !== 0 ? Infinity : 0;
    dt1d(f, height, d, v, zb);
    for (let y = 0; y < height; y++) g[y * width + x] = d[y];
  }
  const out = new Float32Array(n);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) f[x] = g[row + x];
    dt1d(f, width, d, v, zb);
    for (let x = 0; x < width; x++) out[row + x] = Math.sqrt(d[x]);
  }
  return out;
}

/** A binary min-heap of pixel indices keyed by a priority, ties broken first-in first-out. */
class PixelQueue {
  private keys: Float64Array;
  private order: Float64Array;
  private items: Int32Array;
  private size = 0;
  private counter = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(16, capacity));
    this.order = new Float64Array(Math.max(16, capacity));
    this.items = new Int32Array(Math.max(16, capacity));
  }
  get length(): number {
    return this.size;
  }
  private less(a: number, b: number): boolean {
    return this.keys[a] < this.keys[b] || (this.keys[a] === this.keys[b] && this.order[a] < this.order[b]);
  }
  private swap(a: number, b: number): void {
    const k = this.keys[a]; this.keys[a] = this.keys[b]; this.keys[b] = k;
    const o = this.order[a]; this.order[a] = this.order[b]; this.order[b] = o;
    const it = this.items[a]; this.items[a] = this.items[b]; this.items[b] = it;
  }
  push(item: number, key: number): void {
    if (this.size === this.items.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.keys = grow(this.keys);
      this.order = grow(this.order);
      this.items = grow(this.items);
    }
    let i = this.size++;
    this.keys[i] = key;
    this.order[i] = this.counter++;
    this.items[i] = item;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): number {
    const top = this.items[0];
    this.size--;
    if (this.size > 0) {
      this.swap(0, this.size);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.size && this.less(l, m)) m = l;
        if (r < this.size && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/** Options of {@link watershed}. */
export interface WatershedOptions {
  /**
   * A maximum of the distance map seeds its own particle only when it stands out from every
   * higher one by more than this many pixels (ImageJ's Watershed uses 0.5).
   */
  tolerancePx?: number;
}

/**
 * Maxima of `values` within `mask` that stand out by more than `tolerance` (the prominence of
 * ImageJ's Find Maxima): a plateau is kept when no higher pixel can be reached from it
 * through 8-connected mask pixels of value ≥ its value − tolerance. Returns a label image
 * (0 = none, 1…count = the seed region of each kept maximum, i.e. the pixels of its plateau).
 */
export function findMaximaRegions(values: Float32Array, mask: ArrayLike<number>, width: number, height: number, tolerance: number): { seeds: Int32Array; count: number } {
  const n = width * height;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i] !== 0 && values[i] > 0) order.push(i);
  order.sort((a, b) => values[b] - values[a] || a - b);
  const seeds = new Int32Array(n);
  const visitedBy = new Int32Array(n); // last search that visited a pixel (1-based)
  const claimed = new Uint8Array(n); // pixel lies within tolerance of a processed maximum's region
  const stack = new Int32Array(n);
  const region: number[] = [];
  let count = 0;
  let search = 0;
  for (const start of order) {
    if (claimed[start]) continue;
    const v0 = values[start];
    if (hasHigherNeighbour(values, mask, width, height, start)) continue;
    search++;
    let top = 0;
    stack[top++] = start;
    visitedBy[start] = search;
    let higher = false;
    region.length = 0;
    const plateau: number[] = [];
    while (top > 0) {
      const p = stack[--top];
      region.push(p);
      if (values[p] > v0 || claimed[p]) higher = true; // claimed: within tolerance of an earlier (not lower) maximum
      if (values[p] === v0) plateau.push(p);
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
          const q = yy * width + xx;
          if (mask[q] !== 0 && visitedBy[q] !== search && values[q] >= v0 - tolerance) {
            visitedBy[q] = search;
            stack[top++] = q;
          }
        }
      }
    }
    for (const p of region) claimed[p] = 1;
    if (higher) continue;
    count++;
    // the seed is the connected plateau at the maximum's value containing start
    for (const p of plateau) seeds[p] = -1;
    top = 0;
    stack[top++] = start;
    seeds[start] = count;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const q = yy * width + xx;
          if (seeds[q] === -1) {
            seeds[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    for (const p of plateau) if (seeds[p] === -1) seeds[p] = 0;
  }
  return { seeds, count };
}

function hasHigherNeighbour(values: Float32Array, mask: ArrayLike<number>, width: number, height: number, p: number): boolean {
  const x = p % width;
  const y = (p - x) / width;
  const v = values[p];
  for (let dy = -1; dy <= 1; dy++) {
    const yy = y + dy;
    if (yy < 0 || yy >= height) continue;
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      if (xx < 0 || xx >= width) continue;
      const q = yy * width + xx;
      if (mask[q] !== 0 && values[q] > v) return true;
    }
  }
  return false;
}

/**
 * Watershed separation of touching particles (ImageJ's Process › Binary › Watershed): the
 * Euclidean distance map is computed, its maxima that stand out by more than
 * `tolerancePx` (0.5) seed one particle each, the seeds are grown down the distance map
 * (priority flooding over 8-neighbours), and a pixel reached from two different seeds becomes
 * background. The separating lines leave the particles 8-disconnected, so Analyze Particles
 * counts them separately.
 *
 * @returns A new mask, 255 = foreground.
 */
export function watershed(mask: ArrayLike<number>, width: number, height: number, options: WatershedOptions = {}): Uint8Array {
  checkMask(mask, width, height);
  const tolerance = options.tolerancePx ?? 0.5;
  if (!(tolerance >= 0)) throw new FocalError('E_ARGUMENT', `tolerancePx: must be ≥ 0, got ${tolerance}`, { field: 'tolerancePx' });
  const n = width * height;
  const edm = distanceMap(mask, width, height);
  const { seeds } = findMaximaRegions(edm, mask, width, height, tolerance);
  const LINE = -1;
  const labels = seeds; // grown in place
  const queued = new Uint8Array(n);
  const queue = new PixelQueue(1024);
  const pushNeighbours = (p: number): void => {
    const x = p % width;
    const y = (p - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
        const q = yy * width + xx;
        if (mask[q] !== 0 && labels[q] === 0 && queued[q] === 0) {
          queued[q] = 1;
          queue.push(q, -edm[q]);
        }
      }
    }
  };
  for (let p = 0; p < n; p++) if (labels[p] > 0) pushNeighbours(p);
  while (queue.length > 0) {
    const p = queue.pop();
    const x = p % width;
    const y = (p - x) / width;
    let label = 0;
    let conflict = false;
    for (let dy = -1; dy <= 1 && !conflict; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= width || (dx === 0 && dy === 0)) continue;
        const l = labels[yy * width + xx];
        if (l <= 0) continue;
        if (label === 0) label = l;
        else if (l !== label) {
          conflict = true;
          break;
        }
      }
    }
    if (conflict || label === 0) {
      labels[p] = LINE;
      continue;
    }
    labels[p] = label;
    pushNeighbours(p);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = mask[i] !== 0 && labels[i] > 0 ? 255 : 0;
  return out;
}
