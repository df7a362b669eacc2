import { FocalError, autoContrastRange, autoContrastRangeOf, bytesPerSample, createStack, createTable, defineOperation, planeCount, throwIfAborted, withPlanes, z, type Cell, type JsonValue, type PixelArray, type OpContext, type RegionSource, type RoiSet, type Stack, type Table } from '../../../core/index.js';
import { TiledComponents, type ClosedComponent, type ComponentTile, type TiledComponent } from '../../../core/imaging.js';
import { watershed as watershedMask } from '../binary.js';
import { analyzeParticles, markEnclosed, traceOutline, tracedPerimeter, type Particle } from '../particles.js';
import { forEachTile, tiledFiniteRange } from '../tiles.js';
import { THRESHOLD_METHODS, addToThresholdHistogram, applyThreshold, finiteRange, thresholdLimits, thresholdLimitsFromHistogram, type ThresholdMethod } from '../threshold.js';

const METHODS = [...THRESHOLD_METHODS, 'manual'] as unknown as [ThresholdMethod | 'manual', ...(ThresholdMethod | 'manual')[]];

/** Colour of the outlines drawn on the overlay (RGB). */
export const OUTLINE_RGB: readonly [number, number, number] = [255, 255, 0];

export const countParams = z
  .strictObject({
    method: z.enum(METHODS).default('Otsu').describe("Threshold: one of ImageJ's Auto Threshold methods (computed per plane as ImageJ's setAutoThreshold), or 'manual' with lower/upper"),
    lower: z.number().min(-3.4e38).max(3.4e38).optional().describe("Lowest pixel value that belongs to an object, in the image's pixel units (method 'manual' only)"),
    upper: z.number().min(-3.4e38).max(3.4e38).optional().describe("Highest pixel value that belongs to an object, in the image's pixel units (method 'manual' only)"),
    darkBackground: z.boolean().default(true).describe('true: bright objects on a dark background (fluorescence; ImageJ\'s "dark"); false: dark objects on a light background (brightfield)'),
    minAreaPx: z.number().min(0).max(4294967296).optional().describe('Smallest object kept, px (inclusive; give px or µm² limits, not both)'),
    maxAreaPx: z.number().min(0).max(4294967296).optional().describe('Largest object kept, px (inclusive)'),
    minAreaUm2: z.number().min(0).max(1e12).optional().describe('Smallest object kept, µm²; needs pixel size calibration'),
    maxAreaUm2: z.number().min(0).max(1e12).optional().describe('Largest object kept, µm²; needs pixel size calibration'),
    minCircularity: z.number().min(0).max(1).default(0).describe('Smallest circularity 4π·area/perimeter² kept (0…1)'),
    maxCircularity: z.number().min(0).max(1).default(1).describe('Largest circularity kept (0…1)'),
    excludeEdges: z.boolean().default(false).describe('Drop objects touching the image border'),
    includeHoles: z.boolean().default(false).describe('Count interior holes (and anything inside them) as part of the object, as ImageJ\'s "include holes"'),
    watershed: z.boolean().default(false).describe("Split touching objects with the distance-map watershed (ImageJ's Process › Binary › Watershed) before counting"),
  })
  .superRefine((p, ctx) => {
    for (const issue of countParamProblems(p)) ctx.addIssue({ code: 'custom', path: [issue.field], message: issue.message });
  });

export type CountParams = z.infer<typeof countParams>;

type RawCountParams = Partial<CountParams>;

/** Cross-field problems of the count params (the schema's refinement). */
export function countParamProblems(p: RawCountParams): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const manual = p.method === 'manual';
  if (manual && (p.lower === undefined || p.upper === undefined)) out.push({ field: p.lower === undefined ? 'lower' : 'upper', message: "method 'manual' needs both lower and upper" });
  if (!manual && (p.lower !== undefined || p.upper !== undefined)) out.push({ field: p.lower !== undefined ? 'lower' : 'upper', message: "lower/upper are only used with method 'manual'" });
  if (manual && p.lower !== undefined && p.upper !== undefined && p.lower > p.upper) out.push({ field: 'lower', message: `lower ${p.lower} is above upper ${p.upper}` });
  const px = p.minAreaPx !== undefined || p.maxAreaPx !== undefined;
  const um = p.minAreaUm2 !== undefined || p.maxAreaUm2 !== undefined;
  if (px && um) out.push({ field: p.minAreaUm2 !== undefined ? 'minAreaUm2' : 'maxAreaUm2', message: 'give the size range in px (minAreaPx/maxAreaPx) or in µm² (minAreaUm2/maxAreaUm2), not both' });
  if (p.minAreaPx !== undefined && p.maxAreaPx !== undefined && p.minAreaPx > p.maxAreaPx) out.push({ field: 'minAreaPx', message: `minAreaPx ${p.minAreaPx} is above maxAreaPx ${p.maxAreaPx}` });
  if (p.minAreaUm2 !== undefined && p.maxAreaUm2 !== undefined && p.minAreaUm2 > p.maxAreaUm2) out.push({ field: 'minAreaUm2', message: `minAreaUm2 ${p.minAreaUm2} is above maxAreaUm2 ${p.maxAreaUm2}` });
  if ((p.minCircularity ?? 0) > (p.maxCircularity ?? 1)) out.push({ field: 'minCircularity', message: `minCircularity ${p.minCircularity} is above maxCircularity ${p.maxCircularity}` });
  return out;
}

/** Pixel width and height, µm, when the stack is calibrated. */
function pixelSize(stack: Pick<Stack, 'calibration'>): { pw: number; ph: number } | undefined {
  const pw = stack.calibration.pixelWidthUm ?? stack.calibration.pixelHeightUm;
  const ph = stack.calibration.pixelHeightUm ?? stack.calibration.pixelWidthUm;
  return pw !== undefined && ph !== undefined && pw > 0 && ph > 0 ? { pw, ph } : undefined;
}

/**
 * The image as 8-bit grey over the display range [lo, hi], as {@link autoContrast8} maps it:
 * (v − lo)·255/(hi − lo), rounded and clamped; NaN → 0; a flat range gives 255 at and above a
 * positive `hi`, else 0.
 */
function grey8(data: PixelArray, lo: number, hi: number, lut?: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  if (data instanceof Uint8Array || data instanceof Uint16Array) {
    // integer levels through a table (given by a caller that maps many pieces over one range)
    const table = lut ?? grey8Table(data instanceof Uint8Array ? 256 : 65536, lo, hi);
    for (let i = 0; i < data.length; i++) out[i] = table[data[i]];
    return out;
  }
  for (let i = 0; i < data.length; i++) out[i] = grey8Of(data[i], lo, hi);
  return out;
}

/** {@link grey8}'s table for integer levels 0 … levels − 1. */
function grey8Table(levels: number, lo: number, hi: number): Uint8Array {
  const lut = new Uint8Array(levels);
  for (let v = 0; v < levels; v++) lut[v] = grey8Of(v, lo, hi);
  return lut;
}

function grey8Of(v: number, lo: number, hi: number): number {
  if (!(hi > lo)) return v >= hi && hi > 0 ? 255 : 0;
  const g = (v - lo) * (255 / (hi - lo)); // as autoContrast8 always computed it (the same rounding)
  return g >= 255 ? 255 : g > 0 ? Math.round(g) : 0; // NaN → 0
}

/** The image as 8-bit grey, auto-contrasted as ImageJ's Enhance Contrast (0.35 % saturated; core's autoContrastRange); NaN → 0. */
export function autoContrast8(data: PixelArray): Uint8Array {
  const [lo, hi] = autoContrastRange(data);
  return grey8(data, lo, hi);
}

/**
 * Draws each particle's inner border (its pixels with a 4-neighbour outside it or on the image
 * border) into `rgb` in `colour`, working within each bounding box only.
 */
export function drawOutlines(rgb: [Uint8Array, Uint8Array, Uint8Array], labels: ArrayLike<number>, particles: readonly Particle[], width: number, height: number, colour: readonly [number, number, number] = OUTLINE_RGB): void {
  for (const p of particles) {
    const k = p.label;
    for (let y = p.by; y < p.by + p.height; y++) {
      for (let x = p.bx; x < p.bx + p.width; x++) {
        const i = y * width + x;
        if (labels[i] !== k) continue;
        if (x === 0 || y === 0 || x === width - 1 || y === height - 1 || labels[i - 1] !== k || labels[i + 1] !== k || labels[i - width] !== k || labels[i + width] !== k) {
          rgb[0][i] = colour[0];
          rgb[1][i] = colour[1];
          rgb[2][i] = colour[2];
        }
      }
    }
  }
}

/** Result of counting one plane. */
export interface PlaneCount {
  particles: Particle[];
  labels: Uint16Array | Int32Array;
  lower: number;
  upper: number;
}

/**
 * Thresholds one grey plane and analyses its particles (the numeric core of `cellcount.count`).
 * A constant plane with an automatic method has no objects (nothing differs from the background).
 * @throws FocalError `E_PORT` when the plane has no finite pixel value.
 */
export function countPlane(
  data: PixelArray, width: number, height: number, dtype: Stack['dtype'],
  params: Pick<CountParams, 'method' | 'lower' | 'upper' | 'darkBackground' | 'minCircularity' | 'maxCircularity' | 'excludeEdges' | 'includeHoles' | 'watershed'> & { minAreaPx?: number; maxAreaPx?: number },
): PlaneCount {
  const [min, max] = finiteRange(data);
  if (Number.isNaN(min)) throw new FocalError('E_PORT', 'image: the plane has no finite pixel value (all NaN) to threshold');
  let lower: number;
  let upper: number;
  if (params.method === 'manual') {
    lower = params.lower!;
    upper = params.upper!;
  } else if (min === max) {
    return { particles: [], labels: new Uint16Array(width * height), lower: NaN, upper: NaN };
  } else {
    ({ lower, upper } = thresholdLimits(data, dtype, params.method, { darkBackground: params.darkBackground }));
  }
  let mask = applyThreshold(data, lower, upper);
  if (params.watershed) mask = watershedMask(mask, width, height);
  const { particles, labels } = analyzeParticles(mask, width, height, data, {
    minAreaPx: params.minAreaPx,
    maxAreaPx: params.maxAreaPx,
    minCircularity: params.minCircularity,
    maxCircularity: params.maxCircularity,
    excludeEdges: params.excludeEdges,
    includeHoles: params.includeHoles,
  });
  return { particles, labels, lower, upper };
}

const num = (v: number): Cell => (Number.isFinite(v) ? v : null);

/** minAreaPx/maxAreaPx from the params, µm² limits converted with the pixel size. @throws FocalError `E_PARAMS` for µm² limits without calibration */
function areaLimitsPx(params: CountParams, cal: { pw: number; ph: number } | undefined): { minAreaPx?: number; maxAreaPx?: number } {
  let minAreaPx = params.minAreaPx;
  let maxAreaPx = params.maxAreaPx;
  if (params.minAreaUm2 !== undefined || params.maxAreaUm2 !== undefined) {
    if (!cal) {
      const field = params.minAreaUm2 !== undefined ? 'minAreaUm2' : 'maxAreaUm2';
      throw new FocalError('E_PARAMS', `${field}: the image has no pixel size calibration, so a size in µm² cannot be converted to pixels; give minAreaPx/maxAreaPx instead`, { field });
    }
    const um2 = cal.pw * cal.ph;
    if (params.minAreaUm2 !== undefined) minAreaPx = params.minAreaUm2 / um2;
    if (params.maxAreaUm2 !== undefined) maxAreaPx = params.maxAreaUm2 / um2;
  }
  return { minAreaPx, maxAreaPx };
}

/** The objects and summary tables of per-plane counts (`n` = pixels per plane). */
function countTables(counts: readonly { particles: readonly (Particle & { perimeterUm?: number })[]; lower: number; upper: number }[], cal: { pw: number; ph: number } | undefined, n: number, o: { release?: boolean } = {}): { objects: Table; summary: Table; summaryRows: Record<string, Cell>[] } {
  const objectColumns = ['plane', 'label', 'areaPx', 'perimeterPx', 'circularity', 'centroidXPx', 'centroidYPx', 'bx', 'by', 'width', 'height', 'mean', 'min', 'max'];
  if (cal) objectColumns.push('areaUm2', 'perimeterUm', 'centroidXUm', 'centroidYUm');
  const summaryColumns = ['plane', 'count', 'totalAreaPx', 'meanAreaPx', 'areaFraction', 'lower', 'upper'];
  if (cal) summaryColumns.push('totalAreaUm2', 'meanAreaUm2');
  const objectRows: Record<string, Cell>[] = [];
  const summaryRows: Record<string, Cell>[] = [];
  counts.forEach(({ particles, lower, upper }, plane) => {
    let totalArea = 0;
    const c = particles.length;
    // release: each particle let go once it is a row (the caller keeps no other use for them)
    const held: ((Particle & { perimeterUm?: number }) | undefined)[] = particles as (Particle & { perimeterUm?: number })[];
    for (let j = 0; j < c; j++) {
      const p = held[j]!;
      if (o.release) held[j] = undefined;
      totalArea += p.areaPx;
      const row: Record<string, Cell> = {
        plane, label: p.label, areaPx: p.areaPx, perimeterPx: p.perimeterPx, circularity: p.circularity,
        centroidXPx: p.centroidXPx, centroidYPx: p.centroidYPx, bx: p.bx, by: p.by, width: p.width, height: p.height,
        mean: num(p.mean), min: num(p.min), max: num(p.max),
      };
      if (cal) {
        row.areaUm2 = p.areaPx * cal.pw * cal.ph;
        row.perimeterUm = p.perimeterUm ?? tracedPerimeter(p.outline, cal.pw, cal.ph);
        row.centroidXUm = p.centroidXPx * cal.pw;
        row.centroidYUm = p.centroidYPx * cal.ph;
      }
      objectRows.push(row);
    }
    const srow: Record<string, Cell> = {
      plane, count: c, totalAreaPx: totalArea, meanAreaPx: c > 0 ? totalArea / c : null, areaFraction: totalArea / n, lower: num(lower), upper: num(upper),
    };
    if (cal) {
      srow.totalAreaUm2 = totalArea * cal.pw * cal.ph;
      srow.meanAreaUm2 = c > 0 ? (totalArea * cal.pw * cal.ph) / c : null;
    }
    summaryRows.push(srow);
  });
  return { objects: createTable(objectColumns, objectRows), summary: createTable(summaryColumns, summaryRows), summaryRows };
}


/**
 * An automatic method's limits for one plane read tile by tile, as `countPlane` finds them on
 * the whole plane: a first pass for the finite range, a second for ImageJ's 256-bin histogram
 * over it (`addToThresholdHistogram`). Undefined for a constant plane (no objects).
 * @throws FocalError `E_PORT` when the plane has no finite pixel value.
 */
async function tiledThresholdLimits(ctx: OpContext, source: RegionSource, z: number, t: number, tileSize: number, params: CountParams): Promise<{ lower: number; upper: number } | undefined> {
  const { dtype } = source;
  const [min, max] = await tiledFiniteRange(source, tileSize, { z, t, signal: ctx.signal });
  if (!(min <= max)) throw new FocalError('E_PORT', 'image: the plane has no finite pixel value (all NaN) to threshold');
  if (min === max) return undefined;
  const histogram = new Float64Array(256);
  const [hMin, hMax] = dtype === 'uint8' ? [0, 255] : [min, max];
  await forEachTile(source, tileSize, (data) => addToThresholdHistogram(histogram, data, dtype, hMin, hMax), { z, t, signal: ctx.signal });
  const { lower, upper } = thresholdLimitsFromHistogram(histogram, hMin, hMax, dtype, params.method as ThresholdMethod, { darkBackground: params.darkBackground });
  return { lower, upper };
}

/** The largest box (bounding box plus 1 px) of one particle a streamed count reads at once: 64 Mpx. */
const MAX_BOX_PX = 64 * 1024 * 1024;

/** @throws FocalError `E_UNSUPPORTED` for a particle whose box is over {@link MAX_BOX_PX}. */
function checkBoxSize(bw: number, bh: number, x0: number, y0: number): void {
  if (bw * bh <= MAX_BOX_PX) return;
  throw new FocalError(
    'E_UNSUPPORTED',
    `image: a particle spans ${bw}×${bh} px (its box from x ${x0}, y ${y0}), more than the ${MAX_BOX_PX / 1024 / 1024} Mpx a count streamed tile by tile reads at once for one particle; a threshold that joins most of the slide into one object is likely wrong (check lower/upper or the method), or crop a region first (stack.crop)`,
    { field: 'image' },
  );
}

/** A component split by the watershed, on a read of its box plus 1 px: the pixels, the split mask (the pieces, 255) and its place. */
interface SplitBox {
  data: PixelArray;
  mask: Uint8Array;
  x0: number;
  y0: number;
  bw: number;
  bh: number;
}

/** Component `c` of plane (z, t) split by the watershed: its box plus 1 px read, the component alone (others set to background) split as on the whole plane. */
async function readSplitBox(source: RegionSource, z: number, t: number, c: TiledComponent, lower: number, upper: number, signal?: AbortSignal): Promise<SplitBox> {
  const x0 = Math.max(0, c.minX - 1);
  const y0 = Math.max(0, c.minY - 1);
  const bw = Math.min(source.width, c.maxX + 2) - x0;
  const bh = Math.min(source.height, c.maxY + 2) - y0;
  checkBoxSize(bw, bh, x0, y0);
  throwIfAborted(signal);
  const data = await source.readRegion({ z, t, x: x0, y: y0, w: bw, h: bh }, { signal });
  const own = componentBox(applyThreshold(data, lower, upper), bw, c, x0, y0);
  const alone = new Uint8Array(bw * bh);
  const cw = c.maxX - c.minX + 1;
  for (let j = 0; j < own.length; j++) if (own[j] === 1) alone[(c.minY - y0 + Math.floor(j / cw)) * bw + c.minX - x0 + (j % cw)] = 255;
  return { data, mask: watershedMask(alone, bw, bh), x0, y0, bw, bh };
}

/**
 * The watershed on a plane read tile by tile: each component's box plus 1 px is read, the
 * component alone (others in its box set to background) split as `watershed` splits it on the
 * whole plane, and the pieces (8-connected in the split mask) measured. Equal to the whole-plane
 * split because it depends on the component alone: its distance map on its nearest background
 * (always next to it, so within the box; the image's edges are edges of the box too), its maxima
 * and flooding on its own pixels in raster and distance order, which the box keeps. Components of
 * one or two pixels are one piece without a read. Pieces come in raster order of their first
 * pixel; `boxOf(i)` reads piece i's component again when the count needs its pixels (the last
 * few splits are kept).
 */
async function splitComponents(ctx: OpContext, source: RegionSource, z: number, t: number, comps: readonly TiledComponent[], lower: number, upper: number, onProgress: (fraction: number) => void): Promise<{ pieces: TiledComponent[]; parentOf(piece: number): TiledComponent; boxOf(piece: number): Promise<SplitBox> }> {
  const splitBox = (c: TiledComponent) => readSplitBox(source, z, t, c, lower, upper, ctx.signal);
  const pieces: TiledComponent[] = [];
  const parentOf: number[] = [];
  for (let k = 0; k < comps.length; k++) {
    if (k % 4096 === 4095) onProgress(k / comps.length);
    const c = comps[k];
    if (c.areaPx <= 2) {
      pieces.push(c);
      parentOf.push(k);
      continue;
    }
    for (const piece of measurePieces(await splitBox(c))) {
      pieces.push(piece);
      parentOf.push(k);
    }
  }
  const order = pieces.map((_, i) => i).sort((a, b) => pieces[a].firstY - pieces[b].firstY || pieces[a].firstX - pieces[b].firstX);
  const cache = new Map<number, Promise<SplitBox>>();
  return {
    pieces: order.map((i) => pieces[i]),
    parentOf: (piece) => comps[parentOf[order[piece]]],
    boxOf(piece) {
      const k = parentOf[order[piece]];
      let box = cache.get(k);
      if (!box) {
        box = splitBox(comps[k]);
        cache.set(k, box);
        if (cache.size > 16) cache.delete(cache.keys().next().value!);
      }
      return box;
    },
  };
}

/** The 8-connected pieces of a split box's mask, measured as TiledComponents measures components (image coordinates), in raster order of their first pixel. */
function measurePieces(box: SplitBox): TiledComponent[] {
  const { mask, data, x0, y0, bw, bh } = box;
  const seen = new Uint8Array(bw * bh);
  const out: TiledComponent[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || seen[start]) continue;
    const c: TiledComponent = { firstX: x0 + (start % bw), firstY: y0 + Math.floor(start / bw), areaPx: 0, sumX: 0, sumY: 0, minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity, sum: 0, finite: 0, min: Infinity, max: -Infinity };
    flood8(bw, bh, start, (x, y) => mask[y * bw + x] !== 0, seen, (q, bx, by) => {
      const x = x0 + bx;
      const y = y0 + by;
      c.areaPx++;
      c.sumX += x;
      c.sumY += y;
      if (x < c.minX) c.minX = x;
      if (x > c.maxX) c.maxX = x;
      if (y < c.minY) c.minY = y;
      if (y > c.maxY) c.maxY = y;
      const v = data[q];
      if (v === v) {
        c.sum += v;
        c.finite++;
        if (v < c.min) c.min = v;
        if (v > c.max) c.max = v;
      }
    });
    out.push(c);
  }
  return out;
}

/**
 * The components of a plane found by their first pixel: which start inside a rectangle (the
 * candidates to lie in a particle's holes), in cells of 64 px.
 */
class FirstPixelIndex {
  private readonly cells = new Map<number, number[]>();
  private readonly stride: number;

  constructor(private readonly comps: readonly TiledComponent[]) {
    let maxX = 0;
    for (const c of comps) maxX = Math.max(maxX, c.firstX);
    this.stride = (maxX >> 6) + 1;
    comps.forEach((c, i) => {
      const key = (c.firstY >> 6) * this.stride + (c.firstX >> 6);
      const list = this.cells.get(key);
      if (list) list.push(i);
      else this.cells.set(key, [i]);
    });
  }

  /** Indices after `after` of the components whose first pixel lies in `box` (inclusive bounds). */
  *within(box: Pick<TiledComponent, 'minX' | 'minY' | 'maxX' | 'maxY'>, after: number): Generator<number> {
    for (let cy = box.minY >> 6; cy <= box.maxY >> 6; cy++) {
      for (let cx = box.minX >> 6; cx <= Math.min(box.maxX >> 6, this.stride - 1); cx++) {
        for (const j of this.cells.get(cy * this.stride + cx) ?? []) {
          const d = this.comps[j];
          if (j > after && d.firstX >= box.minX && d.firstX <= box.maxX && d.firstY >= box.minY && d.firstY <= box.maxY) yield j;
        }
      }
    }
  }
}

/**
 * One component's own pixels in its bounding box (1; others 0), from `mask`, a read of
 * `maskWidth` columns starting at (x0, y0) that holds the box: the 8-connected pixels reached
 * from its first pixel without leaving the box (all of its pixels lie in it).
 */
function componentBox(mask: ArrayLike<number>, maskWidth: number, c: Pick<TiledComponent, 'minX' | 'minY' | 'maxX' | 'maxY' | 'firstX' | 'firstY'>, x0: number, y0: number): Uint8Array {
  const bw = c.maxX - c.minX + 1;
  const bh = c.maxY - c.minY + 1;
  const box = new Uint8Array(bw * bh);
  flood8(bw, bh, (c.firstY - c.minY) * bw + c.firstX - c.minX, (x, y) => mask[(y + c.minY - y0) * maskWidth + x + c.minX - x0] !== 0, box, () => undefined);
  return box;
}

/**
 * Visits each pixel of a `w` × `h` grid 8-connected to `start` through pixels where `inside(x, y)`
 * holds (start included, each once), marking it 1 in `seen` (those already marked are walls).
 */
function flood8(w: number, h: number, start: number, inside: (x: number, y: number) => boolean, seen: Uint8Array, visit: (i: number, x: number, y: number) => void): void {
  const stack = [start];
  seen[start] = 1;
  while (stack.length > 0) {
    const q = stack.pop()!;
    const x = q % w;
    const y = (q - x) / w;
    visit(q, x, y);
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const r = ny * w + nx;
        if (seen[r] === 0 && inside(nx, ny)) {
          seen[r] = 1;
          stack.push(r);
        }
      }
    }
  }
}

/**
 * `cellcount.count` on a plane read tile by tile (its `reduceTiles`): the limits (manual, or an
 * automatic method's from two passes over the plane: range, then histogram) threshold each tile, core's TiledComponents merges the particles that cross tile borders (each counted
 * once), and each kept particle's outline is traced on a read of its bounding box plus 1 px
 * (so perimeter and circularity are the whole-image ones). With `includeHoles` each particle of
 * at least 3 × 3 px is read again in that box before the filters: what its outer outline
 * encloses joins it (area, centroid, intensities), and the particles whose first pixel lies
 * there are consumed, as the whole-plane raster scan consumes them. With `watershed` each
 * component is split on a read of its box first ({@link splitComponents}) and its pieces are the
 * particles. Objects and summary tables equal the whole-plane run's; memory is a tile, a row and
 * a few numbers per particle (plus the box of the particle being read, at most 64 Mpx).
 */
export async function countTiled(ctx: OpContext, source: RegionSource, params: CountParams, tileSize: number): Promise<{ objects: Table; summary: Table }> {
  const counts = await countPlanesTiled(ctx, source, params, tileSize);
  const { objects, summary, summaryRows } = countTables(counts, pixelSize(source), source.width * source.height, { release: true });
  ctx.log.info('counted particles tile by tile', { planes: counts.length, objects: summaryRows.reduce((s, r) => s + (r.count as number), 0), tileSize });
  return { objects, summary };
}

/**
 * A kept particle of a tiled count, with its first pixel (raster order), where its pixels can be
 * found again. Its outline is measured (perimeter in px and µm) and not kept: a slide's
 * particles would hold hundreds of bytes each for it.
 */
type TiledParticle = Particle & { firstX: number; firstY: number; perimeterUm?: number; parent?: TiledComponent };

const NO_OUTLINE = new Int32Array(0);

/** The tag of a component seen whole on one tile, without holes to add, whose area the size filter rejects: not traced. */
const FILTERED_ON_TILE = -2;

/** The per-plane particles and limits of {@link countTiled}, before they become tables. */
async function countPlanesTiled(ctx: OpContext, source: RegionSource, params: CountParams, tileSize: number, o: { keepOutlines?: boolean } = {}): Promise<TiledPlaneCount[]> {
  if (source.sizeC !== 1) throw new FocalError('E_PORT', `image: cellcount.count needs a single channel, got ${source.sizeC}; pick one with stack.substack (e.g. c = 0)`, { field: 'image' });
  const cal = pixelSize(source);
  const { minAreaPx = 0, maxAreaPx = Infinity } = areaLimitsPx(params, cal);
  const { width: W, height: H } = source;
  const planes = source.sizeZ * source.sizeT;
  const tilesPerPlane = Math.ceil(W / tileSize) * Math.ceil(H / tileSize);
  const counts: TiledPlaneCount[] = [];
  // progress: the pass over the tiles, then the particles one by one (most of the time with the watershed, a split per component)
  const tileShare = params.watershed ? 0.3 : params.includeHoles ? 0.6 : 0.9;
  const particleProgress = (k: number, f: number) => ctx.progress((k + tileShare + (1 - tileShare) * f) / planes, `plane ${k + 1}/${planes}, particles`);
  for (let k = 0; k < planes; k++) {
    const z = k % source.sizeZ;
    const t = Math.floor(k / source.sizeZ);
    const limits = params.method === 'manual' ? { lower: params.lower!, upper: params.upper! } : await tiledThresholdLimits(ctx, source, z, t, tileSize, params);
    if (!limits) {
      // a constant plane: nothing differs from the background (as countPlane), said as the whole-plane run says it
      ctx.log.warn('constant plane: an automatic threshold cannot separate objects from the background; no objects', { plane: k });
      counts.push({ particles: [], lower: NaN, upper: NaN });
      continue;
    }
    const { lower, upper } = limits;
    // a component that lies whole in one tile (and, with included holes, has none) is measured on
    // that tile: its outline's perimeter, in px and µm, here; its box is not read again. Not with
    // the watershed (it splits components) or when outlines are kept (the ROI set).
    const closed: number[] = [];
    const measureClosed = (c: ClosedComponent, tile: ComponentTile): number => {
      if (params.includeHoles && c.maxX - c.minX >= 2 && c.maxY - c.minY >= 2) {
        if (markEnclosed(componentBox(tile.mask, tile.w, c, tile.x, tile.y), c.maxX - c.minX + 1, c.maxY - c.minY + 1) > 0) return NaN;
      }
      if (c.areaPx < minAreaPx || c.areaPx > maxAreaPx) return FILTERED_ON_TILE; // no holes to add: the size filter drops it, untraced
      const outline = traceOutline(tile.mask, tile.w, tile.h, c.firstX - tile.x, c.firstY - tile.y);
      closed.push(tracedPerimeter(outline), cal ? tracedPerimeter(outline, cal.pw, cal.ph) : NaN);
      return closed.length / 2 - 1;
    };
    const cc = new TiledComponents(W, H, params.watershed || o.keepOutlines ? {} : { onClosed: measureClosed });
    let done = 0;
    for (let y = 0; y < H; y += tileSize) {
      for (let x = 0; x < W; x += tileSize) {
        throwIfAborted(ctx.signal);
        const w = Math.min(tileSize, W - x);
        const h = Math.min(tileSize, H - y);
        const data = await source.readRegion({ z, t, x, y, w, h }, { signal: ctx.signal });
        cc.addTile(x, y, w, h, applyThreshold(data, lower, upper), data);
        ctx.progress((k + (tileShare * ++done) / tilesPerPlane) / planes, `plane ${k + 1}/${planes}, tile ${done}/${tilesPerPlane}`);
      }
    }
    // with the watershed, each component is split on a read of its box (the split depends on it alone); the pieces are the particles
    const split = params.watershed ? await splitComponents(ctx, source, z, t, cc.finish(), lower, upper, (f) => particleProgress(k, 0.7 * f)) : undefined;
    const comps = split ? split.pieces : cc.finish();
    const nested = params.includeHoles ? new FirstPixelIndex(comps) : undefined;
    const consumed = new Uint8Array(nested ? comps.length : 0);
    const particles: TiledParticle[] = [];
    const released: (TiledComponent | undefined)[] = comps;
    for (let i = 0; i < comps.length; i++) {
      if (i % 4096 === 4095) particleProgress(k, split ? 0.7 + (0.3 * i) / comps.length : i / comps.length);
      if (nested && consumed[i]) continue; // inside an earlier particle's outline: part of it, not a particle of its own
      const c = comps[i];
      const onTile = split ? -1 : c.tag ?? -1; // measured on its tile (index into closed), FILTERED_ON_TILE, or -1 (NaN: not on one tile)
      // the particle's box plus 1 px, read when needed: for its holes, then for its outline (another particle there is not 8-connected to it);
      // a piece of a split component: the component's box, its mask the split one
      let x0 = Math.max(0, c.minX - 1);
      let y0 = Math.max(0, c.minY - 1);
      let bw = Math.min(W, c.maxX + 2) - x0;
      let bh = Math.min(H, c.maxY + 2) - y0;
      let read: { data: PixelArray; mask: Uint8Array } | undefined;
      const readBox = async () => {
        if (read) return read;
        if (split) {
          const box = await split.boxOf(i);
          ({ x0, y0, bw, bh } = box);
          return (read = box);
        }
        checkBoxSize(bw, bh, x0, y0);
        throwIfAborted(ctx.signal);
        const data = await source.readRegion({ z, t, x: x0, y: y0, w: bw, h: bh }, { signal: ctx.signal });
        return (read = { data, mask: applyThreshold(data, lower, upper) });
      };
      let areaPx = c.areaPx;
      let { sumX, sumY, sum, finite, min, max } = c;
      if (nested && !(onTile >= 0 || onTile === FILTERED_ON_TILE) && c.maxX - c.minX >= 2 && c.maxY - c.minY >= 2) {
        // included holes: what its outer outline encloses joins it, and particles lying there are consumed (as the whole-plane count's raster scan does)
        const { data, mask } = await readBox();
        const box = componentBox(mask, bw, c, x0, y0);
        const cw = c.maxX - c.minX + 1;
        if (markEnclosed(box, cw, c.maxY - c.minY + 1) > 0) {
          for (let j = 0; j < box.length; j++) {
            if (box[j] !== 0) continue;
            const bx = j % cw;
            const by = (j - bx) / cw;
            areaPx++;
            sumX += c.minX + bx;
            sumY += c.minY + by;
            const v = data[(c.minY + by - y0) * bw + c.minX + bx - x0];
            if (v === v) {
              sum += v;
              finite++;
              if (v < min) min = v;
              if (v > max) max = v;
            }
          }
          for (const j of nested.within(c, i)) if (box[(comps[j].firstY - c.minY) * cw + comps[j].firstX - c.minX] === 0) consumed[j] = 1;
        }
      }
      if (areaPx < minAreaPx || areaPx > maxAreaPx) continue;
      if (params.excludeEdges && (c.minX === 0 || c.minY === 0 || c.maxX === W - 1 || c.maxY === H - 1)) continue;
      let outline: Int32Array = NO_OUTLINE;
      let perimeter: number;
      let perimeterUm: number | undefined;
      if (onTile >= 0) {
        perimeter = closed[2 * onTile];
        perimeterUm = cal ? closed[2 * onTile + 1] : undefined;
      } else {
        const { mask } = await readBox();
        outline = traceOutline(mask, bw, bh, c.firstX - x0, c.firstY - y0);
        for (let q = 0; q < outline.length; q += 2) {
          outline[q] += x0;
          outline[q + 1] += y0;
        }
        perimeter = tracedPerimeter(outline);
        perimeterUm = cal ? tracedPerimeter(outline, cal.pw, cal.ph) : undefined;
      }
      const circularity = perimeter === 0 ? 0 : Math.min(1, (4 * Math.PI * areaPx) / (perimeter * perimeter));
      if (circularity < params.minCircularity || circularity > params.maxCircularity) continue;
      particles.push({
        label: particles.length + 1,
        areaPx,
        perimeterPx: perimeter,
        circularity,
        centroidXPx: sumX / areaPx + 0.5,
        centroidYPx: sumY / areaPx + 0.5,
        bx: c.minX,
        by: c.minY,
        width: c.maxX - c.minX + 1,
        height: c.maxY - c.minY + 1,
        mean: finite > 0 ? sum / finite : NaN,
        min: finite > 0 ? min : NaN,
        max: finite > 0 ? max : NaN,
        outline: o.keepOutlines ? outline : NO_OUTLINE,
        perimeterUm,
        firstX: c.firstX,
        firstY: c.firstY,
        parent: split?.parentOf(i),
      });
      // the component is not looked at again unless holes or the split may need it: let go (a slide has millions)
      if (!nested && !split) released[i] = undefined;
    }
    counts.push({ particles, lower, upper });
    ctx.progress((k + 1) / planes, `plane ${k + 1}/${planes}`);
  }
  return counts;
}

/** The per-plane result of a tiled count (its kept particles and threshold limits). */
type TiledPlaneCount = { particles: TiledParticle[]; lower: number; upper: number };

/**
 * The image outputs of a count streamed region by region (`cellcount.count`'s `stream`), from
 * the particles of {@link countPlanesTiled} (counted once): the **label image** (0 = background,
 * k = particle k of its plane, as the whole-plane op labels it; `labelDtype`, which the caller
 * chose from the largest count as the op does) and the **overlay** (the plane auto-contrasted to
 * 8-bit grey as {@link autoContrast8}, its range from passes over the tiles (core's
 * `autoContrastRangeOf`: an exact histogram for integers, the rank search for floats), with the
 * kept particles' inner borders in yellow, as {@link drawOutlines} draws them). A region finds
 * its particles through their boxes and finds each one's pixels again (its first pixel's
 * 8-connected component; with `includeHoles` what it encloses; a piece of a component split by
 * the watershed, in that component's split box): in one read of the region and 1 px around it
 * when the particle lies wholly there, else in a read of its own box. The 1 px around the region
 * lets its border pixels see their neighbours.
 */
function countImages(ctx: OpContext, image: RegionSource, params: CountParams, counted: () => Promise<TiledPlaneCount[]>, tileSize: number): { overlay: RegionSource; labels(dtype: 'uint16' | 'float32'): RegionSource } {
  const { width: W, height: H } = image;
  const cols = Math.ceil(W / 256);
  // each particle in every 256-px cell its box (grown by the 1 px a region's border looks at) reaches
  let indexed: Promise<Map<number, number[]>[]> | undefined;
  const cellsOf = async (k: number) =>
    (await (indexed ??= counted().then((counts) =>
      counts.map(({ particles }) => {
        const cells = new Map<number, number[]>();
        particles.forEach((p, j) => {
          for (let cy = Math.max(0, p.by - 1) >> 8; cy <= (p.by + p.height) >> 8; cy++) {
            for (let cx = Math.max(0, p.bx - 1) >> 8; cx <= Math.min(cols - 1, (p.bx + p.width) >> 8); cx++) {
              const list = cells.get(cy * cols + cx);
              if (list) list.push(j);
              else cells.set(cy * cols + cx, [j]);
            }
          }
        });
        return cells;
      }),
    )))[k];
  // the overlay's display range per plane, as autoContrast8 finds it on the whole plane (core's autoContrastRange), from passes over the tiles
  // (with an integer image's table, made once per plane rather than per region)
  const ranges = new Map<number, Promise<{ lo: number; hi: number; lut?: Uint8Array }>>();
  const rangeOf = (k: number): Promise<{ lo: number; hi: number; lut?: Uint8Array }> => {
    let range = ranges.get(k);
    if (!range) {
      range = autoContrastRangeOf((visit) => forEachTile(image, tileSize, visit, { z: k % image.sizeZ, t: Math.floor(k / image.sizeZ), signal: ctx.signal })).then(([lo, hi]) => ({
        lo,
        hi,
        lut: image.dtype === 'uint8' || image.dtype === 'uint16' ? grey8Table(image.dtype === 'uint8' ? 256 : 65536, lo, hi) : undefined,
      }));
      ranges.set(k, range);
    }
    return range;
  };
  // the last few components split by the watershed (a region meets each piece of one)
  const splits = new Map<TiledComponent, Promise<SplitBox>>();
  const splitOf = (k: number, c: TiledComponent, lower: number, upper: number, signal?: AbortSignal): Promise<SplitBox> => {
    let s = splits.get(c);
    if (!s) {
      s = readSplitBox(image, k % image.sizeZ, Math.floor(k / image.sizeZ), c, lower, upper, signal);
      splits.set(c, s);
      if (splits.size > 16) splits.delete(splits.keys().next().value!);
    }
    return s;
  };
  /** Labels of a region and 1 px around it ((w + 2) × (h + 2), 1-based particle numbers). */
  const labelsAround = async (k: number, x: number, y: number, w: number, h: number, signal?: AbortSignal): Promise<Int32Array> => {
    const [cells, counts] = await Promise.all([cellsOf(k), counted()]);
    const { particles, lower, upper } = counts[k];
    const z = k % image.sizeZ;
    const t = Math.floor(k / image.sizeZ);
    const hw = w + 2;
    const hh = h + 2;
    const labels = new Int32Array(hw * hh);
    const seen = new Set<number>();
    // the region and 1 px around it, read once when a particle lies wholly in it (most do): its pixels are found there, not in a read of its own box
    const rx0 = Math.max(0, x - 1);
    const ry0 = Math.max(0, y - 1);
    const rw = Math.min(W, x + w + 1) - rx0;
    const rh = Math.min(H, y + h + 1) - ry0;
    let regionMask: Uint8Array | undefined;
    for (let cy = Math.max(0, y - 1) >> 8; cy <= Math.min(H - 1, y + h) >> 8; cy++) {
      for (let cx = Math.max(0, x - 1) >> 8; cx <= Math.min(W - 1, x + w) >> 8; cx++) {
        for (const j of cells.get(cy * cols + cx) ?? []) {
          const p = particles[j];
          if (seen.has(j) || p.bx > x + w || p.by > y + h || p.bx + p.width < x || p.by + p.height < y) continue;
          seen.add(j);
          throwIfAborted(signal);
          const box = { minX: p.bx, minY: p.by, maxX: p.bx + p.width - 1, maxY: p.by + p.height - 1, firstX: p.firstX, firstY: p.firstY };
          let own: Uint8Array;
          if (p.parent) {
            // a piece of a component split by the watershed: found in its component's split mask
            const s = await splitOf(k, p.parent, lower, upper, signal);
            own = componentBox(s.mask, s.bw, box, s.x0, s.y0);
          } else if (p.bx >= rx0 && p.by >= ry0 && p.bx + p.width <= rx0 + rw && p.by + p.height <= ry0 + rh) {
            regionMask ??= applyThreshold(await image.readRegion({ z, t, x: rx0, y: ry0, w: rw, h: rh }, { signal }), lower, upper);
            own = componentBox(regionMask, rw, box, rx0, ry0);
          } else {
            own = componentBox(applyThreshold(await image.readRegion({ z, t, x: p.bx, y: p.by, w: p.width, h: p.height }, { signal }), lower, upper), p.width, box, p.bx, p.by);
          }
          const holes = params.includeHoles && p.width >= 3 && p.height >= 3;
          if (holes) markEnclosed(own, p.width, p.height);
          for (let by = 0; by < p.height; by++) {
            const ly = p.by + by - (y - 1);
            if (ly < 0 || ly >= hh) continue;
            for (let bx = 0; bx < p.width; bx++) {
              const lx = p.bx + bx - (x - 1);
              const v = own[by * p.width + bx];
              if (lx >= 0 && lx < hw && (v === 1 || (holes && v === 0))) labels[ly * hw + lx] = j + 1;
            }
          }
        }
      }
    }
    return labels;
  };
  // the label image and the overlay's three channels read the same region one after the other: worked out once
  let last: { key: string; labels: Promise<Int32Array> } | undefined;
  const regionLabels = (k: number, x: number, y: number, w: number, h: number, signal?: AbortSignal): Promise<Int32Array> => {
    const key = `${k}/${x}/${y}/${w}/${h}`;
    if (last?.key !== key) {
      const labels = labelsAround(k, x, y, w, h, signal);
      last = { key, labels };
      labels.catch(() => {
        if (last?.labels === labels) last = undefined;
      });
    }
    return last.labels;
  };
  const checkLevel = (region: { level?: number }, what: string) => {
    if (region.level) throw new FocalError('E_ARGUMENT', `level: the streamed count's ${what} has only level 0, got ${region.level}`, { field: 'level' });
  };
  let lastRgb: { key: string; rgb: Promise<Uint8Array[]> } | undefined;
  const renderOverlay = async (k: number, x: number, y: number, w: number, h: number, signal?: AbortSignal): Promise<Uint8Array[]> => {
    const [{ lo, hi, lut }, labels] = await Promise.all([rangeOf(k), regionLabels(k, x, y, w, h, signal)]);
    const grey = grey8(await image.readRegion({ z: k % image.sizeZ, t: Math.floor(k / image.sizeZ), x, y, w, h }, { signal }), lo, hi, lut);
    const hw = w + 2;
    const rgb = [grey, grey.slice(), grey.slice()];
    for (let iy = 0; iy < h; iy++) {
      for (let ix = 0; ix < w; ix++) {
        const q = (iy + 1) * hw + ix + 1;
        const label = labels[q];
        if (label === 0) continue;
        const gx = x + ix;
        const gy = y + iy;
        if (gx === 0 || gy === 0 || gx === W - 1 || gy === H - 1 || labels[q - 1] !== label || labels[q + 1] !== label || labels[q - hw] !== label || labels[q + hw] !== label) {
          const i = iy * w + ix;
          rgb[0][i] = OUTLINE_RGB[0];
          rgb[1][i] = OUTLINE_RGB[1];
          rgb[2][i] = OUTLINE_RGB[2];
        }
      }
    }
    return rgb;
  };
  const shape = { width: W, height: H, sizeZ: image.sizeZ, sizeT: image.sizeT, calibration: image.calibration };
  return {
    overlay: {
      ...shape,
      sizeC: 3,
      dtype: 'uint8',
      channelNames: ['red', 'green', 'blue'],
      rgb: true,
      channelsTogether: true,
      async readRegion(region, options) {
        checkLevel(region, 'overlay');
        const { c = 0, z = 0, t = 0, x, y, w, h } = region;
        const key = `${z}/${t}/${x}/${y}/${w}/${h}`;
        // the three channels of a region are read one after the other: computed once
        if (lastRgb?.key !== key) lastRgb = { key, rgb: renderOverlay(t * image.sizeZ + z, x, y, w, h, options?.signal) };
        const rgb = lastRgb.rgb;
        try {
          return (await rgb)[c];
        } catch (err) {
          if (lastRgb?.rgb === rgb) lastRgb = undefined;
          throw err;
        }
      },
    },
    labels: (dtype) => ({
      ...shape,
      sizeC: 1,
      dtype,
      channelNames: image.channelNames.slice(0, 1),
      async readRegion(region, options) {
        checkLevel(region, 'label image');
        const { z = 0, t = 0, x, y, w, h } = region;
        const around = await regionLabels(t * image.sizeZ + z, x, y, w, h, options?.signal);
        const out = dtype === 'uint16' ? new Uint16Array(w * h) : new Float32Array(w * h);
        for (let iy = 0; iy < h; iy++) for (let ix = 0; ix < w; ix++) out[iy * w + ix] = around[(iy + 1) * (w + 2) + ix + 1];
        return out;
      },
    }),
  };
}

/** The ImageJ ROI set of per-plane counts: each particle's traced outline, named <plane>-<label> (stack position = plane + 1 for stacks), as Analyze Particles adds them to the ROI Manager. */
function roiSet(counts: readonly { particles: readonly Particle[] }[]): RoiSet {
  const stackOf = counts.length > 1;
  return {
    kind: 'roi-set',
    rois: counts.flatMap(({ particles }, plane) =>
      particles.map((p) => {
        const x: number[] = [], y: number[] = [];
        for (let i = 0; i < p.outline.length; i += 2) {
          x.push(p.outline[i]);
          y.push(p.outline[i + 1]);
        }
        return { name: `${String(plane + 1).padStart(4, '0')}-${String(p.label).padStart(4, '0')}`, kind: 'traced' as const, position: stackOf ? plane + 1 : 0, x, y };
      }),
    ),
  };
}

export const count = defineOperation({
  id: 'cellcount.count',
  title: 'Count particles',
  description:
    "Thresholds a grey image and counts its particles as ImageJ's Analyze Particles: 8-connected, size and circularity ranges, exclude on edges, include holes, optional watershed. Per object: area, perimeter (ImageJ's traced-outline definition), circularity, centroid, bounding box, mean/min/max intensity; summary: count, total and mean area, area fraction. Each plane of a single-channel stack is counted on its own.",
  inputs: { image: { type: 'stack', description: 'Grey image (uint8, uint16 or float32; one channel; each z/t plane counted separately). RGB must be converted first (cellcount.rgb-to-grey or colour deconvolution)' } },
  outputs: {
    objects: { type: 'table', description: 'One row per object: plane, label, areaPx, perimeterPx, circularity, centroidXPx, centroidYPx, bx, by, width, height, mean, min, max (+ areaUm2, perimeterUm, centroidXUm, centroidYUm when calibrated)' },
    summary: { type: 'table', description: 'One row per plane: plane, count, totalAreaPx, meanAreaPx, areaFraction, lower, upper (+ totalAreaUm2, meanAreaUm2 when calibrated)' },
    labels: { type: 'stack', description: 'Label image (0 = background, k = object k of its plane), uint16 (float32 beyond 65535 objects)' },
    overlay: { type: 'stack', description: 'RGB: the image auto-contrasted to 8-bit grey with the object outlines in yellow' },
    rois: { type: 'json', description: "ImageJ ROI set: each object's traced outline, as Analyze Particles adds it to the ROI Manager (named <plane>-<label>, stack position = plane + 1 for stacks); written as <output>.zip, which Fiji's ROI Manager opens. Made only when a pipeline output takes it" },
  },
  params: countParams,
  run(ctx, { image }, params) {
    if (image.rgb) throw new FocalError('E_PORT', 'image: cellcount.count needs a grey image, got RGB; convert it first (cellcount.rgb-to-grey, or cellcount.colour-deconvolution for stained tissue)');
    if (image.sizeC !== 1) throw new FocalError('E_PORT', `image: cellcount.count needs a single channel, got ${image.sizeC}; pick one with stack.substack (e.g. c = 0)`);
    const cal = pixelSize(image);
    const { minAreaPx, maxAreaPx } = areaLimitsPx(params, cal);
    const { width, height } = image;
    const n = width * height;
    const total = planeCount(image);
    const counts: PlaneCount[] = [];
    for (let k = 0; k < total; k++) {
      throwIfAborted(ctx.signal);
      counts.push(countPlane(image.planes[k], width, height, image.dtype, { ...params, minAreaPx, maxAreaPx }));
      if (Number.isNaN(counts[k].lower)) ctx.log.warn('constant plane: an automatic threshold cannot separate objects from the background; no objects', { plane: k });
      ctx.progress((k + 1) / total, `plane ${k + 1}/${total}`);
    }

    const { objects, summary, summaryRows } = countTables(counts, cal, n);

    // The label image and the overlay cost time and memory: made only when something uses them.
    const wants = (port: string) => ctx.wants?.(port) ?? true;
    const maxLabel = counts.reduce((m, c) => Math.max(m, c.particles.length), 0);
    let labels: Stack | undefined;
    if (wants('labels')) {
      labels = withPlanes(image, counts.map(({ labels: lab }) => (maxLabel <= 65535 ? (lab instanceof Uint16Array ? lab : new Uint16Array(lab)) : new Float32Array(lab))));
      labels.metadata = { ...labels.metadata, labels: true }; // previews show it with a label LUT
    }

    let overlay: Stack | undefined;
    if (wants('overlay')) {
      const overlayPlanes: Uint8Array[] = [];
      counts.forEach(({ labels: lab, particles }, k) => {
        const grey = autoContrast8(image.planes[k]);
        const rgb: [Uint8Array, Uint8Array, Uint8Array] = [grey, grey.slice(), grey.slice()];
        drawOutlines(rgb, lab, particles, width, height);
        overlayPlanes.push(...rgb);
      });
      overlay = createStack({
        width, height, dtype: 'uint8', sizeC: 3, sizeZ: image.sizeZ, sizeT: image.sizeT, planes: overlayPlanes,
        calibration: image.calibration, channelNames: ['red', 'green', 'blue'], rgb: true, metadata: image.metadata,
      });
    }
    const rois = wants('rois') && ctx.wants ? roiSet(counts) : undefined;
    const counted = summaryRows.reduce((s, r) => s + (r.count as number), 0);
    ctx.log.info('counted particles', { planes: total, objects: counted });
    // labels/overlay are left out when nothing wants them (ctx.wants); the executor accepts that
    // rois only when a pipeline output takes it (ctx.wants says so); calls without ctx.wants get the other four
    return { objects, summary, labels: labels!, overlay: overlay!, rois: rois as unknown as JsonValue };
  },
  // the watershed needs whole particles' surroundings (its distance map reaches across them)
  // A whole-plane count holds its input and ~12 bytes more per pixel: the mask and the flood
  // fill's work plane, the labels (16-bit, 32-bit past 65 535 particles) and the RGB overlay.
  // Measured: an Otsu count with holes and its overlay on a 64 Mpx uint8 plane peaked at 709 MB,
  // a manual threshold of the same file at 243 MB (focal run, /usr/bin/time, 2026-12-07).
  wholeBytes: (_params, input) => input.width * input.height * input.sizeC * input.sizeZ * input.sizeT * (bytesPerSample(input.dtype) + 12),
  // Streamed (focal run --stream) when the overlay, the label image or the ROI set is wanted: one
  // tiled count (countPlanesTiled) makes the tables and the ROI set (finish), and the images are
  // made region by region from it (countImages). Only the tables: reduceTiles (no images to make).
  async stream(ctx, inputs, params) {
    const image = inputs.image as RegionSource | undefined;
    const wants = (port: string) => ctx.wants?.(port) ?? true;
    if (!image || image.sizeC !== 1 || !['overlay', 'labels', 'rois'].some(wants)) return undefined;
    const tileSize = 512;
    // the count runs before the images' first region (or while the run is planned, for the label image's type): its progress in the log, every 10 %
    let next = 0.1;
    const counting: OpContext = {
      ...ctx,
      progress: (f) => {
        if (f < next) return;
        ctx.log.info(`counting particles tile by tile: ${Math.floor(f * 100)} %`);
        next = Math.floor(f * 10) / 10 + 0.1;
      },
    };
    let counted: Promise<TiledPlaneCount[]> | undefined;
    const once = () => {
      if (!counted) {
        const t0 = performance.now();
        ctx.log.info(`counting particles tile by tile (${image.width}×${image.height}${image.sizeZ * image.sizeT > 1 ? ` × ${image.sizeZ * image.sizeT} planes` : ''}) before the images are made from them`);
        counted = countPlanesTiled(counting, image, params, tileSize, { keepOutlines: wants('rois') }).then((counts) => {
          ctx.log.info(`counted ${counts.reduce((n, c) => n + c.particles.length, 0)} particles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
          return counts;
        });
      }
      return counted;
    };
    const made = countImages(ctx, image, params, once, tileSize);
    const images: Record<string, RegionSource> = {};
    if (wants('overlay')) images.overlay = made.overlay;
    if (wants('labels')) {
      // 16-bit labels unless a plane has more than 65 535 particles, as the whole-plane op: known once counted, so counted now
      const most = (await once()).reduce((m, c) => Math.max(m, c.particles.length), 0);
      images.labels = made.labels(most <= 65535 ? 'uint16' : 'float32');
    }
    return {
      images,
      async finish() {
        const counts = await once();
        const { objects, summary, summaryRows } = countTables(counts, pixelSize(image), image.width * image.height);
        ctx.log.info('counted particles tile by tile, the images region by region', { planes: counts.length, objects: summaryRows.reduce((s, r) => s + (r.count as number), 0) });
        return wants('rois') ? { objects, summary, rois: roiSet(counts) } : { objects, summary };
      },
      // a band's input, its three overlay channels, its labels (with 1 px around: 32-bit while made, and as written), and the particles' boxes it reads
      bandBytes: (rows) => (rows + 2) * (image.width + 2) * (bytesPerSample(image.dtype) + 3 + 4 + 4),
    };
  },
  reduceTiles: (params) => ({ outputs: ['objects', 'summary'], run: (ctx, source, { tileSize }) => countTiled(ctx, source, params, tileSize) }),
});
