import { FocalError, autoContrastRange, bytesPerSample, createStack, createTable, defineOperation, planeCount, throwIfAborted, withPlanes, z, type Cell, type JsonValue, type PixelArray, type OpContext, type RegionSource, type RoiSet, type Stack, type Table } from '../../../core/index.js';
import { TiledComponents } from '../../../core/imaging.js';
import { watershed as watershedMask } from '../binary.js';
import { analyzeParticles, traceOutline, tracedPerimeter, type Particle } from '../particles.js';
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
 * Display range as ImageJ's Enhance Contrast (0.35 % saturated): integer images through a
 * histogram (fast path), float32 through core's autoContrastRange (NaN/±Infinity ignored).
 */
function contrastRange(data: PixelArray): [number, number] {
  if (!(data instanceof Uint8Array || data instanceof Uint16Array)) return autoContrastRange(data);
  const hist = new Uint32Array(data instanceof Uint8Array ? 256 : 65536);
  for (let i = 0; i < data.length; i++) hist[data[i]]++;
  let lo = 0;
  while (hist[lo] === 0) lo++;
  let hi = hist.length - 1;
  while (hist[hi] === 0) hi--;
  if (lo === hi) return [lo, hi];
  const k = Math.floor((data.length * 0.35) / 200);
  let acc = 0;
  let a = lo;
  for (; a < hi && acc + hist[a] <= k; a++) acc += hist[a];
  acc = 0;
  let b = hi;
  for (; b > lo && acc + hist[b] <= k; b--) acc += hist[b];
  return b >= a ? [a, b] : [a, a];
}

/** The image as 8-bit grey, auto-contrasted as ImageJ's Enhance Contrast (0.35 % saturated); NaN → 0. */
export function autoContrast8(data: PixelArray): Uint8Array {
  const [lo, hi] = contrastRange(data);
  const out = new Uint8Array(data.length);
  if (!(hi > lo)) {
    for (let i = 0; i < data.length; i++) out[i] = data[i] >= hi && hi > 0 ? 255 : 0;
    return out;
  }
  const scale = 255 / (hi - lo);
  if (data instanceof Uint8Array || data instanceof Uint16Array) {
    const lut = new Uint8Array(data instanceof Uint8Array ? 256 : 65536);
    for (let v = 0; v < lut.length; v++) {
      const g = (v - lo) * scale;
      lut[v] = g >= 255 ? 255 : g > 0 ? Math.round(g) : 0;
    }
    for (let i = 0; i < data.length; i++) out[i] = lut[data[i]];
    return out;
  }
  for (let i = 0; i < data.length; i++) {
    const g = (data[i] - lo) * scale;
    out[i] = g >= 255 ? 255 : g > 0 ? Math.round(g) : 0; // NaN → 0
  }
  return out;
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
function countTables(counts: readonly Pick<PlaneCount, 'particles' | 'lower' | 'upper'>[], cal: { pw: number; ph: number } | undefined, n: number): { objects: Table; summary: Table; summaryRows: Record<string, Cell>[] } {
  const objectColumns = ['plane', 'label', 'areaPx', 'perimeterPx', 'circularity', 'centroidXPx', 'centroidYPx', 'bx', 'by', 'width', 'height', 'mean', 'min', 'max'];
  if (cal) objectColumns.push('areaUm2', 'perimeterUm', 'centroidXUm', 'centroidYUm');
  const summaryColumns = ['plane', 'count', 'totalAreaPx', 'meanAreaPx', 'areaFraction', 'lower', 'upper'];
  if (cal) summaryColumns.push('totalAreaUm2', 'meanAreaUm2');
  const objectRows: Record<string, Cell>[] = [];
  const summaryRows: Record<string, Cell>[] = [];
  counts.forEach(({ particles, lower, upper }, plane) => {
    let totalArea = 0;
    for (const p of particles) {
      totalArea += p.areaPx;
      const row: Record<string, Cell> = {
        plane, label: p.label, areaPx: p.areaPx, perimeterPx: p.perimeterPx, circularity: p.circularity,
        centroidXPx: p.centroidXPx, centroidYPx: p.centroidYPx, bx: p.bx, by: p.by, width: p.width, height: p.height,
        mean: num(p.mean), min: num(p.min), max: num(p.max),
      };
      if (cal) {
        row.areaUm2 = p.areaPx * cal.pw * cal.ph;
        row.perimeterUm = tracedPerimeter(p.outline, cal.pw, cal.ph);
        row.centroidXUm = p.centroidXPx * cal.pw;
        row.centroidYUm = p.centroidYPx * cal.ph;
      }
      objectRows.push(row);
    }
    const c = particles.length;
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
  const { width: W, height: H, dtype } = source;
  const eachTile = async (visit: (data: PixelArray) => void): Promise<void> => {
    for (let y = 0; y < H; y += tileSize) {
      for (let x = 0; x < W; x += tileSize) {
        throwIfAborted(ctx.signal);
        visit(await source.readRegion({ z, t, x, y, w: Math.min(tileSize, W - x), h: Math.min(tileSize, H - y) }, { signal: ctx.signal }));
      }
    }
  };
  let min = Infinity;
  let max = -Infinity;
  await eachTile((data) => {
    const [lo, hi] = finiteRange(data);
    if (lo < min) min = lo;
    if (hi > max) max = hi;
  });
  if (!(min <= max)) throw new FocalError('E_PORT', 'image: the plane has no finite pixel value (all NaN) to threshold');
  if (min === max) return undefined;
  const histogram = new Float64Array(256);
  const [hMin, hMax] = dtype === 'uint8' ? [0, 255] : [min, max];
  await eachTile((data) => addToThresholdHistogram(histogram, data, dtype, hMin, hMax));
  const { lower, upper } = thresholdLimitsFromHistogram(histogram, hMin, hMax, dtype, params.method as ThresholdMethod, { darkBackground: params.darkBackground });
  return { lower, upper };
}

/**
 * `cellcount.count` on a plane read tile by tile (its `reduceTiles`): the limits (manual, or an
 * automatic method's from two passes over the plane: range, then histogram) threshold each tile, core's TiledComponents merges the particles that cross tile borders (each counted
 * once), and each kept particle's outline is traced on a read of its bounding box plus 1 px
 * (so perimeter and circularity are the whole-image ones). Objects and summary tables equal
 * the whole-plane run's; memory is a tile, a row and a few numbers per particle (plus the
 * bounding box of the particle being traced).
 */
export async function countTiled(ctx: OpContext, source: RegionSource, params: CountParams, tileSize: number): Promise<{ objects: Table; summary: Table }> {
  if (source.sizeC !== 1) throw new FocalError('E_PORT', `image: cellcount.count needs a single channel, got ${source.sizeC}; pick one with stack.substack (e.g. c = 0)`, { field: 'image' });
  const cal = pixelSize(source);
  const { minAreaPx = 0, maxAreaPx = Infinity } = areaLimitsPx(params, cal);
  const { width: W, height: H } = source;
  const planes = source.sizeZ * source.sizeT;
  const tilesPerPlane = Math.ceil(W / tileSize) * Math.ceil(H / tileSize);
  const counts: Pick<PlaneCount, 'particles' | 'lower' | 'upper'>[] = [];
  for (let k = 0; k < planes; k++) {
    const z = k % source.sizeZ;
    const t = Math.floor(k / source.sizeZ);
    const limits = params.method === 'manual' ? { lower: params.lower!, upper: params.upper! } : await tiledThresholdLimits(ctx, source, z, t, tileSize, params);
    if (!limits) {
      // a constant plane: nothing differs from the background (as countPlane)
      counts.push({ particles: [], lower: NaN, upper: NaN });
      continue;
    }
    const { lower, upper } = limits;
    const cc = new TiledComponents(W, H);
    let done = 0;
    for (let y = 0; y < H; y += tileSize) {
      for (let x = 0; x < W; x += tileSize) {
        throwIfAborted(ctx.signal);
        const w = Math.min(tileSize, W - x);
        const h = Math.min(tileSize, H - y);
        const data = await source.readRegion({ z, t, x, y, w, h }, { signal: ctx.signal });
        cc.addTile(x, y, w, h, applyThreshold(data, lower, upper), data);
        ctx.progress((k + (0.9 * ++done) / tilesPerPlane) / planes, `plane ${k + 1}/${planes}, tile ${done}/${tilesPerPlane}`);
      }
    }
    const particles: Particle[] = [];
    for (const c of cc.finish()) {
      if (c.areaPx < minAreaPx || c.areaPx > maxAreaPx) continue;
      if (params.excludeEdges && (c.minX === 0 || c.minY === 0 || c.maxX === W - 1 || c.maxY === H - 1)) continue;
      throwIfAborted(ctx.signal);
      // the outline, traced on the particle's box plus 1 px (another particle there is not 8-connected to it)
      const x0 = Math.max(0, c.minX - 1);
      const y0 = Math.max(0, c.minY - 1);
      const bw = Math.min(W, c.maxX + 2) - x0;
      const bh = Math.min(H, c.maxY + 2) - y0;
      const box = applyThreshold(await source.readRegion({ z, t, x: x0, y: y0, w: bw, h: bh }, { signal: ctx.signal }), lower, upper);
      const outline = traceOutline(box, bw, bh, c.firstX - x0, c.firstY - y0);
      for (let i = 0; i < outline.length; i += 2) {
        outline[i] += x0;
        outline[i + 1] += y0;
      }
      const perimeter = tracedPerimeter(outline);
      const circularity = perimeter === 0 ? 0 : Math.min(1, (4 * Math.PI * c.areaPx) / (perimeter * perimeter));
      if (circularity < params.minCircularity || circularity > params.maxCircularity) continue;
      particles.push({
        label: particles.length + 1,
        areaPx: c.areaPx,
        perimeterPx: perimeter,
        circularity,
        centroidXPx: c.sumX / c.areaPx + 0.5,
        centroidYPx: c.sumY / c.areaPx + 0.5,
        bx: c.minX,
        by: c.minY,
        width: c.maxX - c.minX + 1,
        height: c.maxY - c.minY + 1,
        mean: c.finite > 0 ? c.sum / c.finite : NaN,
        min: c.finite > 0 ? c.min : NaN,
        max: c.finite > 0 ? c.max : NaN,
        outline,
      });
    }
    counts.push({ particles, lower, upper });
    ctx.progress((k + 1) / planes, `plane ${k + 1}/${planes}`);
  }
  const { objects, summary, summaryRows } = countTables(counts, cal, W * H);
  ctx.log.info('counted particles tile by tile', { planes, objects: summaryRows.reduce((s, r) => s + (r.count as number), 0), tileSize });
  return { objects, summary };
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
    let rois: RoiSet | undefined;
    if (wants('rois') && ctx.wants) {
      const stackOf = total > 1;
      rois = {
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
    const counted = summaryRows.reduce((s, r) => s + (r.count as number), 0);
    ctx.log.info('counted particles', { planes: total, objects: counted });
    // labels/overlay are left out when nothing wants them (ctx.wants); the executor accepts that
    // rois only when a pipeline output takes it (ctx.wants says so); calls without ctx.wants get the other four
    return { objects, summary, labels: labels!, overlay: overlay!, rois: rois as unknown as JsonValue };
  },
  // manual limits only (an automatic threshold needs the plane's histogram); the watershed and
  // included holes need whole particles' surroundings
  // A whole-plane count holds its input and ~12 bytes more per pixel: the mask and the flood
  // fill's work plane, the labels (16-bit, 32-bit past 65 535 particles) and the RGB overlay.
  // Measured: an Otsu count with holes and its overlay on a 64 Mpx uint8 plane peaked at 709 MB,
  // a manual threshold of the same file at 243 MB (focal run, /usr/bin/time, 2026-12-07).
  wholeBytes: (_params, input) => input.width * input.height * input.sizeC * input.sizeZ * input.sizeT * (bytesPerSample(input.dtype) + 12),
  reduceTiles: (params) =>
    params.watershed || params.includeHoles
      ? undefined
      : { outputs: ['objects', 'summary'], run: (ctx, source, { tileSize }) => countTiled(ctx, source, params, tileSize) },
});
