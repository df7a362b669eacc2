/**
 * OME-Zarr (OME-NGFF) images: a lazy reader over zarrita (NGFF 0.4 on Zarr v2, 0.5 on Zarr v3,
 * multiscales, bioformats2raw layout) and a writer of multiscale, chunked OME-Zarr in bounded
 * memory (docs/whole-slide.md, "OME-Zarr").
 *
 * The reader opens the image's metadata only; `readRegion` asks zarrita for the chunks a rectangle
 * touches (zarrita decodes blosc, zstd, lz4 through numcodecs, and gzip, zlib, sharding itself).
 * The writer writes the JSON metadata and the chunks itself: zarrita creates Zarr v3 arrays only,
 * and NGFF 0.4 (Zarr v2) is what most tools read today, so one small path serves both formats.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { deflate as deflateCb, gzip as gzipCb } from 'node:zlib';
import type FileSystemStore from '@zarrita/storage/fs';
import type * as Zarr from 'zarrita';
import { allocate, bytesPerSample, type DType, type PixelArray } from '../data/dtype.js';
import type { Calibration } from '../data/image.js';
import { createStack, type Stack } from '../data/stack.js';
import { FocalError, isFocalError, throwIfAborted } from '../errors.js';
import { checkRegion, type ImageLevel, type LazyImage, type RegionRequest, type RegionSource } from './lazy-image.js';
import { halveBand, pyramidLevels } from './tiff/pyramid.js';
import { defaultReadBudget } from './tiff/read.js';
import { lengthUnitToUm, positive, timeUnitToS } from './tiff/units.js';

const deflate = promisify(deflateCb);
const gzip = promisify(gzipCb);
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------- reading

export interface OpenOmeZarrOptions {
  onWarning?: (message: string) => void;
  /** Most bytes one region read may return; larger requests are E_ARGUMENT. Default: half the machine's memory. */
  maxRegionBytes?: number;
}

/** The zarr-specific layout `focal info` shows: format, axes and each level's array. */
export interface OmeZarrLayout {
  ngffVersion: string;
  zarrFormat: 2 | 3;
  /** Axis names in the arrays' order (e.g. t, c, z, y, x). */
  axes: string[];
  /** Group path of the image inside the folder ('' for the root; '0' for bioformats2raw). */
  image: string;
  levels: { path: string; shape: number[]; chunks: number[]; dtype: string; scale?: number[] }[];
}

type Axis = { name: string; type?: string; unit?: string };
type Level = { path: string; array: Zarr.Array<Zarr.DataType, FileSystemStore>; scale?: number[] };
type ZarrModule = typeof Zarr;

/** zarrita and its file-system store, imported on first use (importing core loads neither). */
async function zarrita(): Promise<{ zarr: ZarrModule; FileSystemStore: typeof FileSystemStore }> {
  const [zarr, fs] = await Promise.all([import('zarrita'), import('@zarrita/storage/fs')]);
  return { zarr, FileSystemStore: fs.default };
}

function fmtErr(path: string, message: string, details: Record<string, unknown> = {}): FocalError {
  return new FocalError('E_FORMAT', `${path}: ${message}`, { file: path, ...details });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** NGFF axes (objects in 0.4/0.5, strings in 0.3, none before: t c z y x). */
function axesOf(path: string, ms: Record<string, unknown>, ndim: number): Axis[] {
  const raw = ms.axes;
  if (raw === undefined) {
    if (ndim !== 5) throw fmtErr(path, `multiscales has no axes and its arrays have ${ndim} dimensions (NGFF before 0.3 means t, c, z, y, x: 5)`, { field: 'multiscales/0/axes' });
    return ['t', 'c', 'z', 'y', 'x'].map((name) => ({ name }));
  }
  if (!Array.isArray(raw)) throw fmtErr(path, 'multiscales/0/axes is not a list', { field: 'multiscales/0/axes' });
  const axes = raw.map((a, i): Axis => {
    if (typeof a === 'string') return { name: a };
    if (isObject(a) && typeof a.name === 'string') return { name: a.name, ...(typeof a.type === 'string' ? { type: a.type } : {}), ...(typeof a.unit === 'string' ? { unit: a.unit } : {}) };
    throw fmtErr(path, `multiscales/0/axes/${i} is neither a name nor an object with a name`, { field: `multiscales/0/axes/${i}` });
  });
  const names = axes.map((a) => a.name.toLowerCase());
  if (!names.includes('x') || !names.includes('y')) throw fmtErr(path, `multiscales/0/axes are ${names.join(', ')}: an image needs x and y`, { field: 'multiscales/0/axes' });
  for (const n of names) {
    if (!['t', 'c', 'z', 'y', 'x'].includes(n)) throw new FocalError('E_UNSUPPORTED', `${path}: axis '${n}' is not one of t, c, z, y, x (Focal's stacks have no other dimensions)`, { file: path, field: 'multiscales/0/axes' });
  }
  if (new Set(names).size !== names.length) throw fmtErr(path, `multiscales/0/axes repeat a name (${names.join(', ')})`, { field: 'multiscales/0/axes' });
  if (axes.length !== ndim) throw fmtErr(path, `multiscales/0/axes name ${axes.length} axes but the arrays have ${ndim} dimensions`, { field: 'multiscales/0/axes' });
  return axes;
}

/** The scale of a dataset's (or the multiscale's) coordinateTransformations, if any. */
function scaleOf(transforms: unknown): number[] | undefined {
  if (!Array.isArray(transforms)) return undefined;
  const s = transforms.find((t) => isObject(t) && t.type === 'scale' && Array.isArray(t.scale));
  return s ? ((s as { scale: unknown[] }).scale.map(Number)) : undefined;
}

/** A dataset path inside the image: relative, no `..`, no empty parts (a hostile path must not read outside the folder). */
function safeKey(path: string, key: unknown, field: string): string {
  if (typeof key !== 'string' || key === '' || key.startsWith('/') || key.split('/').some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw fmtErr(path, `${field} is ${JSON.stringify(key)}: a dataset path must be a relative path inside the image (no '..')`, { field });
  }
  return key;
}

const READ_DTYPES: Record<string, DType> = { uint8: 'uint8', uint16: 'uint16', float32: 'float32', int8: 'float32', int16: 'float32', int32: 'float32', uint32: 'float32', float64: 'float32' };

async function openGroup(zarr: ZarrModule, store: FileSystemStore, at: string, path: string): Promise<Zarr.Group<FileSystemStore>> {
  try {
    return await zarr.open(zarr.root(store).resolve(at), { kind: 'group' });
  } catch (err) {
    throw fmtErr(path, `${at === '' ? '' : `${at}: `}not a Zarr group (${(err as Error).message})`, { cause: String(err) });
  }
}

/**
 * Opens an OME-Zarr image (a folder) lazily: NGFF 0.4 (`multiscales` in the group's attributes,
 * Zarr v2) or 0.5 (`ome.multiscales`, Zarr v3), also earlier versions with 5-D t c z y x arrays,
 * and the bioformats2raw layout (the first image, `0/`). Levels are the multiscale's datasets,
 * largest first; the calibration comes from the first dataset's scale in the axes' units; channel
 * names from `omero.channels[].label`. Integer and float types other than uint8, uint16 and float32
 * are converted to float32 on read. A chunk that cannot be read or decoded is E_FORMAT naming the
 * file, the level and the chunks of the region.
 */
export async function openOmeZarr(path: string, options: OpenOmeZarrOptions = {}): Promise<LazyImage & { layout: OmeZarrLayout }> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new FocalError('E_IO', `${path}: no such file or folder`, { file: path });
  if (!info.isDirectory()) throw fmtErr(path, 'an OME-Zarr image is a folder');
  const { zarr, FileSystemStore } = await zarrita();
  const store = new FileSystemStore(resolve(path));
  let image = '';
  let group = await openGroup(zarr, store, '', path);
  let attrs = group.attrs as Record<string, unknown>;
  const omeOf = (a: Record<string, unknown>) => (isObject(a.ome) ? a.ome : a);
  if (!Array.isArray(omeOf(attrs).multiscales) && (omeOf(attrs)['bioformats2raw.layout'] !== undefined || attrs['bioformats2raw.layout'] !== undefined)) {
    image = '0';
    group = await openGroup(zarr, store, '0', path);
    attrs = group.attrs as Record<string, unknown>;
    options.onWarning?.(`${basename(path)}: bioformats2raw layout: read its first image (0/)`);
  }
  const ome = omeOf(attrs);
  const zarrFormat: 2 | 3 = isObject(attrs.ome) || (await stat(join(path, image, 'zarr.json')).catch(() => undefined)) ? 3 : 2;
  const multiscales = ome.multiscales;
  if (!Array.isArray(multiscales) || multiscales.length === 0 || !isObject(multiscales[0])) {
    throw fmtErr(path, `no OME-NGFF multiscales in the ${zarrFormat === 3 ? 'zarr.json attributes (ome.multiscales)' : '.zattrs (multiscales)'}; not an OME-Zarr image`, { field: 'multiscales' });
  }
  if (multiscales.length > 1) options.onWarning?.(`${basename(path)}: ${multiscales.length} multiscale images; read the first`);
  const ms = multiscales[0];
  const ngffVersion = String(ome.version ?? ms.version ?? 'unknown');
  const datasets = ms.datasets;
  if (!Array.isArray(datasets) || datasets.length === 0) throw fmtErr(path, 'multiscales/0/datasets is empty', { field: 'multiscales/0/datasets' });
  const levels: Level[] = [];
  for (const [k, d] of datasets.entries()) {
    if (!isObject(d)) throw fmtErr(path, `multiscales/0/datasets/${k} is not an object`, { field: `multiscales/0/datasets/${k}` });
    const key = safeKey(path, d.path, `multiscales/0/datasets/${k}/path`);
    let array: Zarr.Array<Zarr.DataType, FileSystemStore>;
    try {
      array = await zarr.open(group.resolve(key), { kind: 'array' });
    } catch (err) {
      throw fmtErr(path, `level ${k} (${key}): not a readable Zarr array (${(err as Error).message})`, { field: `multiscales/0/datasets/${k}/path` });
    }
    levels.push({ path: key, array, scale: scaleOf(d.coordinateTransformations) });
  }
  const ndim = levels[0].array.shape.length;
  const axes = axesOf(path, ms, ndim);
  const names = axes.map((a) => a.name.toLowerCase());
  const at = (n: string) => names.indexOf(n);
  const dtypeName = String(levels[0].array.dtype);
  const dtype = READ_DTYPES[dtypeName];
  if (!dtype) throw new FocalError('E_UNSUPPORTED', `${path}: data type ${dtypeName} is not supported (uint8, uint16, float32; other integers and float64 are read as float32)`, { file: path, dtype: dtypeName });
  const shape0 = levels[0].array.shape;
  const size = (n: string) => (at(n) >= 0 ? shape0[at(n)] : 1);
  const [sizeT, sizeC, sizeZ] = [size('t'), size('c'), size('z')];
  for (const [k, l] of levels.entries()) {
    const s = l.array.shape;
    if (s.length !== ndim) throw fmtErr(path, `level ${k} (${l.path}) has ${s.length} dimensions, level 0 has ${ndim}`);
    for (const n of ['t', 'c', 'z']) if (at(n) >= 0 && s[at(n)] !== shape0[at(n)]) throw new FocalError('E_UNSUPPORTED', `${path}: level ${k} (${l.path}) has ${s[at(n)]} along ${n}, level 0 has ${shape0[at(n)]}; levels reduced along ${n} are not supported`, { file: path });
    if (String(l.array.dtype) !== dtypeName) throw fmtErr(path, `level ${k} (${l.path}) is ${String(l.array.dtype)}, level 0 is ${dtypeName}`);
  }
  const imageLevels: ImageLevel[] = levels.map((l) => ({ width: l.array.shape[at('x')], height: l.array.shape[at('y')], blockWidth: l.array.chunks[at('x')], blockHeight: l.array.chunks[at('y')], tiled: true }));

  // calibration: level 0's scale (times the multiscale's own, if any) in the axes' units
  const calibration: Calibration = {};
  const base = levels[0].scale;
  const global = scaleOf(ms.coordinateTransformations);
  const scaleAt = (i: number) => (base?.[i] ?? 1) * (global?.[i] ?? 1);
  const um = (n: string): number | undefined => {
    const i = at(n);
    if (i < 0 || base === undefined) return undefined;
    const f = lengthUnitToUm(axes[i].unit);
    return f === undefined ? undefined : positive(scaleAt(i) * f);
  };
  const px = um('x');
  const py = um('y');
  if (px !== undefined) calibration.pixelWidthUm = px;
  if (py !== undefined) calibration.pixelHeightUm = py;
  const pz = um('z');
  if (pz !== undefined) calibration.zStepUm = pz;
  if (at('t') >= 0 && base !== undefined) {
    const f = timeUnitToS(axes[at('t')].unit);
    const dt = f === undefined ? undefined : positive(scaleAt(at('t')) * f);
    if (dt !== undefined) calibration.timeStepS = dt;
  }
  const omero = isObject(ome.omero) ? ome.omero : isObject(attrs.omero) ? attrs.omero : undefined;
  let channelNames: string[] = [];
  if (omero && Array.isArray(omero.channels) && omero.channels.length === sizeC) {
    const labels = omero.channels.map((c) => (isObject(c) && typeof c.label === 'string' ? c.label : ''));
    if (labels.some((l) => l !== '')) channelNames = labels;
  }
  const layout: OmeZarrLayout = {
    ngffVersion,
    zarrFormat,
    axes: names,
    image,
    levels: levels.map((l) => ({ path: l.path, shape: [...l.array.shape], chunks: [...l.array.chunks], dtype: String(l.array.dtype), ...(l.scale ? { scale: l.scale } : {}) })),
  };
  const metadata: Record<string, unknown> = {
    format: 'ome-zarr',
    source: basename(path),
    omeZarr: { version: ngffVersion, zarrFormat, axes: names, levels: levels.length, ...(image ? { image } : {}), ...(typeof ms.name === 'string' ? { name: ms.name } : {}), ...(dtypeName !== dtype ? { storedType: dtypeName } : {}) },
  };
  const maxRegionBytes = options.maxRegionBytes ?? defaultReadBudget();

  async function readRegion(region: RegionRequest, opts: { signal?: AbortSignal } = {}): Promise<PixelArray> {
    const r = checkRegion({ sizeC, sizeZ, sizeT, width: imageLevels[0].width, height: imageLevels[0].height, levels: imageLevels }, region, path);
    const bytes = region.w * region.h * bytesPerSample(dtype);
    if (bytes > maxRegionBytes) throw new FocalError('E_ARGUMENT', `${path}: a region of ${region.w}×${region.h} px needs ${bytes} bytes, more than ${maxRegionBytes}`, { file: path, field: 'w' });
    throwIfAborted(opts.signal);
    const L = levels[r.level];
    const selection = names.map((n) => (n === 'x' ? zarr.slice(region.x, region.x + region.w) : n === 'y' ? zarr.slice(region.y, region.y + region.h) : n === 't' ? r.t : n === 'c' ? r.c : r.z));
    let chunk: { data: ArrayLike<number>; shape: number[]; stride: number[] };
    try {
      chunk = (await zarr.get(L.array, selection, { signal: opts.signal })) as unknown as typeof chunk;
    } catch (err) {
      if (opts.signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled', {}, { cause: err });
      const cy = L.array.chunks[at('y')];
      const cx = L.array.chunks[at('x')];
      const which = `chunks y ${Math.floor(region.y / cy)}…${Math.floor((region.y + region.h - 1) / cy)}, x ${Math.floor(region.x / cx)}…${Math.floor((region.x + region.w - 1) / cx)} of c ${r.c} z ${r.z} t ${r.t}`;
      throw fmtErr(path, `level ${r.level} (${L.path}): ${which} cannot be read: ${(err as Error).message}`, { level: r.level, chunk: which });
    }
    const out = allocate(dtype, region.w * region.h);
    // the result's two remaining axes are y and x in the arrays' order
    const yFirst = at('y') < at('x');
    const [sy, sx] = yFirst ? [chunk.stride[0], chunk.stride[1]] : [chunk.stride[1], chunk.stride[0]];
    const src = chunk.data;
    for (let y = 0; y < region.h; y++) for (let x = 0; x < region.w; x++) out[y * region.w + x] = Number(src[y * sy + x * sx]);
    return out;
  }

  return {
    path,
    width: imageLevels[0].width,
    height: imageLevels[0].height,
    sizeC,
    sizeZ,
    sizeT,
    dtype,
    rgb: false,
    calibration,
    channelNames,
    levels: imageLevels,
    metadata,
    layout,
    readRegion,
    async close() {},
  };
}

/**
 * Reads an OME-Zarr image's full-resolution level into a stack (the reader contribution's
 * `open`). Refuses, naming the size, an image that would need more than `maxBytes` (default: half
 * the machine's memory): such images are for `focal convert` and region reads.
 */
export async function readOmeZarr(path: string, options: OpenOmeZarrOptions & { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Stack> {
  const img = await openOmeZarr(path, options);
  const planes = img.sizeC * img.sizeZ * img.sizeT;
  const bytes = planes * img.width * img.height * bytesPerSample(img.dtype);
  const budget = options.maxBytes ?? defaultReadBudget();
  if (bytes > budget) throw new FocalError('E_UNSUPPORTED', `${path}: the full-resolution image (${planes} planes of ${img.width}×${img.height} ${img.dtype}) needs ${bytes} bytes, more than the read's budget of ${budget}; convert or read regions instead`, { file: path, bytes, budget });
  const out: PixelArray[] = [];
  for (let t = 0; t < img.sizeT; t++) {
    for (let z = 0; z < img.sizeZ; z++) {
      for (let c = 0; c < img.sizeC; c++) out.push(await img.readRegion({ c, z, t, x: 0, y: 0, w: img.width, h: img.height }, { signal: options.signal }));
    }
  }
  await img.close();
  return createStack({ width: img.width, height: img.height, dtype: img.dtype, sizeC: img.sizeC, sizeZ: img.sizeZ, sizeT: img.sizeT, planes: out, calibration: img.calibration, channelNames: img.channelNames, metadata: img.metadata });
}

// ---------------------------------------------------------------- writing

export interface OmeZarrWriteOptions {
  /** Chunk edge in x and y, px (chunks are 1 × 1 × 1 × chunk × chunk in t, c, z, y, x). 16 … 4096, default 512. */
  chunkSize?: number;
  /** Levels in all, full resolution included; each halves x and y (2 × 2 means, integers rounded). Default: until a level fits one chunk. */
  levels?: number;
  /** 3 (default): Zarr v3 with OME-NGFF 0.5; 2: Zarr v2 with NGFF 0.4 (read by zarr-python 2, napari-ome-zarr, Fiji's n5/zarr readers). */
  zarrFormat?: 2 | 3;
  /** Chunk compression: 'deflate' (default; gzip codec in v3, zlib compressor in v2) or 'none'. */
  compression?: 'deflate' | 'none';
  /** zlib level 1–9, default 6. */
  deflateLevel?: number;
  /** The image's name in the multiscales metadata; default the folder's name without .ome.zarr. */
  name?: string;
  /** Create the parent folder if needed. */
  mkdir?: boolean;
  signal?: AbortSignal;
  /** Fraction of level-0 rows written, 0…1. */
  onProgress?: (fraction: number) => void;
}

export interface OmeZarrWriteResult {
  path: string;
  zarrFormat: 2 | 3;
  ngffVersion: '0.4' | '0.5';
  chunkSize: number;
  levels: { width: number; height: number }[];
  /** Chunk files written and their bytes (metadata not counted). */
  chunks: number;
  bytes: number;
}

const V2_DTYPE: Record<DType, string> = { uint8: '|u1', uint16: '<u2', float32: '<f4' };

function littleEndianBytes(a: PixelArray): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (HOST_LE || a.BYTES_PER_ELEMENT === 1) return bytes;
  const out = bytes.slice();
  for (let i = 0; i < out.length; i += a.BYTES_PER_ELEMENT) out.subarray(i, i + a.BYTES_PER_ELEMENT).reverse();
  return out;
}

/** The multiscales entry (NGFF 0.4 and 0.5 share it; 0.4 also carries `version`). */
function multiscalesOf(source: RegionSource, sizes: { width: number; height: number }[], name: string, version: '0.4' | '0.5'): Record<string, unknown> {
  const cal = source.calibration;
  const px = positive(cal.pixelWidthUm);
  const py = positive(cal.pixelHeightUm) ?? px;
  const spatialUnit = px !== undefined ? { unit: 'micrometer' } : {};
  const axes = [
    { name: 't', type: 'time', ...(positive(cal.timeStepS) !== undefined ? { unit: 'second' } : {}) },
    { name: 'c', type: 'channel' },
    { name: 'z', type: 'space', ...(positive(cal.zStepUm) !== undefined ? { unit: 'micrometer' } : {}) },
    { name: 'y', type: 'space', ...spatialUnit },
    { name: 'x', type: 'space', ...spatialUnit },
  ];
  const datasets = sizes.map((_, k) => ({
    path: String(k),
    coordinateTransformations: [{ type: 'scale', scale: [positive(cal.timeStepS) ?? 1, 1, positive(cal.zStepUm) ?? 1, (py ?? 1) * 2 ** k, (px ?? 1) * 2 ** k] }],
  }));
  return { ...(version === '0.4' ? { version } : {}), name, axes, datasets, type: 'mean', metadata: { description: '2 × 2 means per level (integers rounded), written by Focal' } };
}

/** OMERO rendering hints: channel labels (only names the stack has), ImageJ's composite colours, the display window from the data's range. */
function omeroOf(source: RegionSource, ranges: [number, number][]): Record<string, unknown> {
  const colours = ['FF0000', '00FF00', '0000FF', 'FFFFFF', '00FFFF', 'FF00FF', 'FFFF00'];
  return {
    channels: Array.from({ length: source.sizeC }, (_, c) => {
      const [lo, hi] = ranges[c];
      return {
        ...(source.channelNames[c] ? { label: source.channelNames[c] } : {}),
        color: source.sizeC === 1 ? 'FFFFFF' : colours[c % colours.length],
        active: true,
        window: { min: lo, max: hi, start: lo, end: hi },
      };
    }),
    rdefs: { model: source.sizeC === 1 ? 'greyscale' : 'color' },
  };
}

/**
 * Writes `source` as an OME-Zarr image (a folder): 5-D t, c, z, y, x arrays, one per level
 * (`0`, `1`, …; each halves x and y with 2 × 2 means, as the pyramidal TIFF writer), chunks of
 * 1 × 1 × 1 × chunkSize × chunkSize, deflate-compressed, with the multiscales metadata (scales in
 * µm and s from the calibration) and OMERO channel labels. The source is read one band of
 * chunkSize rows at a time and each level keeps one band, so memory stays near
 * 2 × width × chunkSize × bytes per pixel. Everything is written into a temporary folder beside
 * `path` and renamed into place at the end; on failure or cancellation it is removed and nothing
 * is left at `path`. An existing `path` is refused (E_IO), never replaced.
 */
export async function writeOmeZarr(path: string, source: RegionSource, options: OmeZarrWriteOptions = {}): Promise<OmeZarrWriteResult> {
  const chunkSize = options.chunkSize ?? 512;
  if (!Number.isInteger(chunkSize) || chunkSize < 16 || chunkSize > 4096) throw new FocalError('E_ARGUMENT', `chunkSize must be an integer from 16 to 4096, got ${chunkSize}`, { field: 'chunkSize' });
  if (options.levels !== undefined && (!Number.isInteger(options.levels) || options.levels < 1 || options.levels > 32)) throw new FocalError('E_ARGUMENT', `levels must be an integer from 1 to 32, got ${options.levels}`, { field: 'levels' });
  const zarrFormat = options.zarrFormat ?? 3;
  if (zarrFormat !== 2 && zarrFormat !== 3) throw new FocalError('E_ARGUMENT', `zarrFormat must be 2 or 3, got ${String(zarrFormat)}`, { field: 'zarrFormat' });
  const deflateLevel = options.deflateLevel ?? 6;
  if (!Number.isInteger(deflateLevel) || deflateLevel < 1 || deflateLevel > 9) throw new FocalError('E_ARGUMENT', `deflateLevel must be 1…9, got ${deflateLevel}`, { field: 'deflateLevel' });
  const compress = (options.compression ?? 'deflate') === 'deflate';
  const ngffVersion = zarrFormat === 3 ? '0.5' : '0.4';
  const target = resolve(path);
  if (await stat(target).catch(() => undefined)) throw new FocalError('E_IO', `${path} exists; Focal does not replace it: remove it or choose another name`, { file: path });
  const parent = dirname(target);
  if (options.mkdir) await mkdir(parent, { recursive: true });
  else if (!(await stat(parent).catch(() => undefined))?.isDirectory()) throw new FocalError('E_IO', `${path}: the folder ${parent} does not exist`, { file: path });
  const tmp = join(parent, `.${basename(target)}.focal-tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const { width, height, dtype, sizeC, sizeZ, sizeT } = source;
  const sizes = pyramidLevels(width, height, chunkSize, options.levels);
  const name = options.name ?? basename(target).replace(/\.ome\.zarr$|\.zarr$/i, '');
  const planeCount = sizeC * sizeZ * sizeT;
  const ranges: [number, number][] = Array.from({ length: sizeC }, () => [Infinity, -Infinity]);
  let chunks = 0;
  let bytes = 0;
  // ASCII only (non-ASCII as \u escapes): zarr-python 2 decodes metadata as ASCII
  const json = (v: unknown) => `${JSON.stringify(v, null, 2).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
  const encode = async (a: PixelArray): Promise<Uint8Array> => {
    const raw = littleEndianBytes(a);
    if (!compress) return raw;
    return new Uint8Array(zarrFormat === 3 ? await gzip(raw, { level: deflateLevel }) : await deflate(raw, { level: deflateLevel }));
  };
  const chunkFile = (k: number, t: number, c: number, z: number, cy: number, cx: number) =>
    zarrFormat === 3 ? join(tmp, String(k), 'c', String(t), String(c), String(z), String(cy), String(cx)) : join(tmp, String(k), String(t), String(c), String(z), String(cy), String(cx));

  try {
    await mkdir(tmp);
    // array metadata first (the chunks need their folders anyway)
    for (const [k, l] of sizes.entries()) {
      await mkdir(join(tmp, String(k)));
      const shape = [sizeT, sizeC, sizeZ, l.height, l.width];
      const chunkShape = [1, 1, 1, chunkSize, chunkSize];
      if (zarrFormat === 3) {
        await writeFile(join(tmp, String(k), 'zarr.json'), json({
          zarr_format: 3,
          node_type: 'array',
          shape,
          data_type: dtype,
          chunk_grid: { name: 'regular', configuration: { chunk_shape: chunkShape } },
          chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
          fill_value: 0,
          codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, ...(compress ? [{ name: 'gzip', configuration: { level: deflateLevel } }] : [])],
          dimension_names: ['t', 'c', 'z', 'y', 'x'],
          attributes: {},
        }));
      } else {
        await writeFile(join(tmp, String(k), '.zarray'), json({
          zarr_format: 2,
          shape,
          chunks: chunkShape,
          dtype: V2_DTYPE[dtype],
          compressor: compress ? { id: 'zlib', level: deflateLevel } : null,
          fill_value: 0,
          order: 'C',
          filters: null,
          dimension_separator: '/',
        }));
      }
    }

    const totalRows = planeCount * height;
    let rowsDone = 0;
    /** One plane's levels and the band pusher that writes and halves into them. */
    const startPlane = (c: number, z: number, t: number): ((k: number, data: PixelArray, rows: number, last: boolean) => Promise<void>) => {
      const levels = sizes.map((l) => ({ ...l, band: allocate(dtype, l.width * chunkSize), bandRows: 0, y: 0 }));

      /** Writes one band of level k (rows × width) as a row of chunks, then feeds level k + 1. */
      const pushBand = async (k: number, data: PixelArray, rows: number, last: boolean): Promise<void> => {
        throwIfAborted(options.signal);
        const L = levels[k];
        const cy = L.y / chunkSize;
        const across = Math.ceil(L.width / chunkSize);
        const rowDir = dirname(chunkFile(k, t, c, z, cy, 0));
        await mkdir(rowDir, { recursive: true });
        const written = await Promise.all(
          Array.from({ length: across }, async (_, cx) => {
            // edge chunks are stored whole, padded with the fill value (0), as Zarr requires
            const tile = allocate(dtype, chunkSize * chunkSize);
            const x0 = cx * chunkSize;
            const cols = Math.min(chunkSize, L.width - x0);
            for (let r = 0; r < rows; r++) tile.set(data.subarray(r * L.width + x0, r * L.width + x0 + cols), r * chunkSize);
            const enc = await encode(tile);
            await writeFile(chunkFile(k, t, c, z, cy, cx), enc);
            return enc.byteLength;
          }),
        );
        chunks += written.length;
        for (const b of written) bytes += b;
        L.y += rows;
        if (k + 1 < levels.length) {
          const N = levels[k + 1];
          const half = halveBand(data, L.width, rows, dtype);
          N.band.set(half, N.bandRows * N.width);
          N.bandRows += Math.ceil(rows / 2);
          if (N.bandRows === chunkSize || (last && N.bandRows > 0)) {
            const full = N.bandRows;
            N.bandRows = 0;
            await pushBand(k + 1, N.band, full, last);
            N.band.fill(0);
          }
        }
      };

      return pushBand;
    };

    // planes in XYCZT order; a source that computes its channels together is read a band of
    // every channel of a (z, t) at a time (each channel's levels kept meanwhile)
    const group = source.channelsTogether ? sizeC : 1;
    const bands = Math.ceil(height / chunkSize);
    const where = (plane: number) => ({ c: plane % sizeC, z: Math.floor(plane / sizeC) % sizeZ, t: Math.floor(plane / (sizeC * sizeZ)) });
    for (let first = 0; first < planeCount; first += group) {
      const pushers = Array.from({ length: group }, (_, g) => {
        const { c, z, t } = where(first + g);
        return startPlane(c, z, t);
      });
      const readBand = (i: number): Promise<PixelArray> => {
        const b = Math.floor(i / group);
        return source.readRegion({ ...where(first + (i % group)), x: 0, y: b * chunkSize, w: width, h: Math.min(chunkSize, height - b * chunkSize) }, { signal: options.signal });
      };
      let pending = readBand(0);
      for (let i = 0; i < bands * group; i++) {
        const b = Math.floor(i / group);
        const { c } = where(first + (i % group));
        const data = await pending;
        const rows = Math.min(chunkSize, height - b * chunkSize);
        if (data.length !== width * rows) throw new FocalError('E_ARGUMENT', `the source gave ${data.length} pixels for a band of ${width}×${rows}`, { field: 'source' });
        if (i + 1 < bands * group) {
          pending = readBand(i + 1);
          pending.catch(() => undefined); // awaited next turn; a failure while this band is written must not go unhandled
        }
        const range = ranges[c];
        for (let j = 0; j < data.length; j++) {
          const v = data[j];
          if (v < range[0]) range[0] = v;
          if (v > range[1]) range[1] = v;
        }
        await pushers[i % group](0, data, rows, b + 1 === bands);
        rowsDone += rows;
        options.onProgress?.(rowsDone / totalRows);
      }
    }

    // the group's metadata last, with the channels' display ranges from the data
    for (const r of ranges) if (!(r[1] >= r[0])) [r[0], r[1]] = [0, 0];
    const multiscales = [multiscalesOf(source, sizes, name, ngffVersion)];
    const omero = omeroOf(source, ranges);
    if (zarrFormat === 3) {
      await writeFile(join(tmp, 'zarr.json'), json({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales, omero } } }));
    } else {
      await writeFile(join(tmp, '.zgroup'), json({ zarr_format: 2 }));
      await writeFile(join(tmp, '.zattrs'), json({ multiscales, omero }));
    }
    throwIfAborted(options.signal);
    await rename(tmp, target);
    return { path, zarrFormat, ngffVersion, chunkSize, levels: sizes, chunks, bytes };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (options.signal?.aborted && !isFocalError(err)) throw new FocalError('E_CANCELLED', 'cancelled', {}, { cause: err });
    throw err;
  }
}

/** Whether `path` is a folder holding Zarr metadata at its top (zarr.json, .zgroup or .zattrs). */
export async function isZarrFolder(path: string): Promise<boolean> {
  for (const f of ['zarr.json', '.zgroup', '.zattrs']) if (await readFile(join(path, f)).then(() => true, () => false)) return true;
  return false;
}
