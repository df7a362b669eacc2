import { promisify } from 'node:util';
import { deflate as deflateCb } from 'node:zlib';
import { allocate, bytesPerSample, type DType, type PixelArray } from '../../data/dtype.js';
import { FocalError, throwIfAborted } from '../../errors.js';
import { openAtomicFile, type AtomicFile } from '../atomic.js';
import type { RegionSource } from '../lazy-image.js';
import { FieldType, Tag } from './ifd.js';
import { encodeIfd, ifdSize, toRational, type Entry } from './write.js';

const deflate = promisify(deflateCb);
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const CLASSIC_LIMIT = 2 ** 32 - 1;

export interface PyramidOptions {
  /** Tile edge, px: a multiple of 16 from 16 to 4096 (256 or 512 are usual). Default 512. */
  tileSize?: number;
  /** Levels in all, full resolution included; each halves the one before. Default: until the level fits one tile. */
  levels?: number;
  /** Default deflate (zlib, TIFF compression 8). */
  compression?: 'deflate' | 'none';
  /** zlib level 1–9. Default 6 (zlib's own default, as libvips). */
  deflateLevel?: number;
  /**
   * With deflate and integer pixels: store each tile row as differences of neighbouring
   * samples (TIFF Predictor 2, horizontal; libvips' default too), which deflate packs smaller
   * and faster on microscopy images. Default true; float32 pixels are stored as they are.
   */
  predictor?: boolean;
  /** Force BigTIFF (true) or classic TIFF (false); default: BigTIFF when the file could pass 4 GiB. */
  bigTiff?: boolean;
  /** Create the output folder if needed. */
  mkdir?: boolean;
  /**
   * One-plane images: also chain the reduced levels after the full-resolution IFD in the main
   * IFD chain (the same IFDs the SubIFDs tag lists), so that readers that follow only the main
   * chain (OpenSlide's generic tiled TIFF, libtiff tools) see the levels too. Default true;
   * ignored for several planes (there each plane's IFD follows the last).
   */
  chainLevels?: boolean;
  signal?: AbortSignal;
  /** Fraction of level-0 rows written, 0…1. */
  onProgress?: (fraction: number) => void;
}

export interface PyramidResult {
  path: string;
  bytes: number;
  bigTiff: boolean;
  tileSize: number;
  levels: { width: number; height: number }[];
}

/** Sizes of the levels: each level is ⌈previous/2⌉ on both axes. */
export function pyramidLevels(width: number, height: number, tileSize: number, levels?: number): { width: number; height: number }[] {
  const out = [{ width, height }];
  const want = levels ?? Infinity;
  while (out.length < want) {
    const last = out[out.length - 1];
    if (levels === undefined && Math.max(last.width, last.height) <= tileSize) break;
    if (last.width === 1 && last.height === 1) break;
    out.push({ width: Math.ceil(last.width / 2), height: Math.ceil(last.height / 2) });
  }
  return out;
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** OME-XML for planes written in XYCZT order, one IFD each (reduced levels in their SubIFDs). */
export function pyramidOmeXml(src: Pick<RegionSource, 'width' | 'height' | 'sizeC' | 'sizeZ' | 'sizeT' | 'dtype' | 'calibration' | 'channelNames'>, name: string): string {
  const type = src.dtype === 'float32' ? 'float' : src.dtype;
  const cal = src.calibration;
  const phys: string[] = [];
  if (cal.pixelWidthUm !== undefined) phys.push(`PhysicalSizeX="${cal.pixelWidthUm}" PhysicalSizeXUnit="µm"`);
  if ((cal.pixelHeightUm ?? cal.pixelWidthUm) !== undefined) phys.push(`PhysicalSizeY="${cal.pixelHeightUm ?? cal.pixelWidthUm}" PhysicalSizeYUnit="µm"`);
  if (cal.zStepUm !== undefined) phys.push(`PhysicalSizeZ="${cal.zStepUm}" PhysicalSizeZUnit="µm"`);
  if (cal.timeStepS !== undefined) phys.push(`TimeIncrement="${cal.timeStepS}" TimeIncrementUnit="s"`);
  const channels = Array.from({ length: src.sizeC }, (_, c) => {
    const n = src.channelNames[c];
    return `<Channel ID="Channel:0:${c}" SamplesPerPixel="1"${n ? ` Name="${xmlAttr(n)}"` : ''}/>`;
  }).join('');
  const planes = src.sizeC * src.sizeZ * src.sizeT;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' +
    'xsi:schemaLocation="http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd" Creator="Focal">' +
    `<Image ID="Image:0" Name="${xmlAttr(name)}"><Pixels ID="Pixels:0" DimensionOrder="XYCZT" Type="${type}" ` +
    `SizeX="${src.width}" SizeY="${src.height}" SizeC="${src.sizeC}" SizeZ="${src.sizeZ}" SizeT="${src.sizeT}" ` +
    `BigEndian="false" Interleaved="false"${phys.length ? ` ${phys.join(' ')}` : ''}>` +
    `${channels}<TiffData IFD="0" PlaneCount="${planes}"/></Pixels></Image></OME>`
  );
}

/** 2×2 mean of `rows` rows of `src` (width w) into ⌈rows/2⌉ rows of width ⌈w/2⌉; integers rounded half up. */
/** One band (w × rows) halved on both axes: 2 × 2 means, integers rounded (edges repeat their last row/column). */
export function halveBand(src: PixelArray, w: number, rows: number, dtype: DType): PixelArray {
  const ow = Math.ceil(w / 2);
  const oh = Math.ceil(rows / 2);
  const out = allocate(dtype, ow * oh);
  const int = dtype !== 'float32';
  for (let oy = 0; oy < oh; oy++) {
    const r0 = 2 * oy * w;
    const r1 = 2 * oy + 1 < rows ? r0 + w : r0;
    const o = oy * ow;
    for (let ox = 0; ox < ow; ox++) {
      const x0 = 2 * ox;
      const x1 = x0 + 1 < w ? x0 + 1 : x0;
      const s = src[r0 + x0] + src[r0 + x1] + src[r1 + x0] + src[r1 + x1];
      out[o + ox] = int ? Math.floor((s + 2) / 4) : s / 4;
    }
  }
  return out;
}

/** One level's tiles of the plane being written: where each went in the file. */
interface LevelState {
  width: number;
  height: number;
  across: number;
  down: number;
  offsets: number[];
  counts: number[];
  /** Rows waiting to fill a band of tileSize rows. */
  band: PixelArray;
  bandRows: number;
  /** Next band's first row. */
  y: number;
}

/** TIFF Predictor 2 in place: each sample of the first `rows` rows (of `rowLength` samples) minus its left neighbour, wrapped to the integer type. */
export function horizontalDifferences(tile: PixelArray, rowLength: number, rows: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * rowLength;
    for (let x = rowLength - 1; x > 0; x--) tile[o + x] = tile[o + x] - tile[o + x - 1]; // Uint8/Uint16Array assignment wraps modulo 2^n
  }
}

/**
 * Writes `source` as a tiled, pyramidal OME-TIFF: one IFD per plane (XYCZT order) with the
 * OME-XML in the first, each plane's reduced-resolution levels (2×2 means, integers rounded)
 * in its SubIFDs, tiles of `tileSize` px, deflate-compressed (zlib, on libuv's thread pool).
 * The source is read one band of tileSize rows at a time and each level keeps one band, so
 * memory stays near 2 × width × tileSize × bytes per pixel, whatever the height and plane count.
 * Written under a temporary name and renamed at the end; on failure or cancellation nothing
 * is left at `path`. Opens in tifffile, QuPath/Bio-Formats and OpenSlide-style readers.
 */
export async function writePyramidalTiff(path: string, source: RegionSource, options: PyramidOptions = {}): Promise<PyramidResult> {
  const tileSize = options.tileSize ?? 512;
  if (!Number.isInteger(tileSize) || tileSize < 16 || tileSize > 4096 || tileSize % 16 !== 0) {
    throw new FocalError('E_ARGUMENT', `tileSize must be a multiple of 16 from 16 to 4096, got ${tileSize}`, { field: 'tileSize' });
  }
  if (options.levels !== undefined && (!Number.isInteger(options.levels) || options.levels < 1 || options.levels > 32)) {
    throw new FocalError('E_ARGUMENT', `levels must be an integer from 1 to 32, got ${options.levels}`, { field: 'levels' });
  }
  const deflateLevel = options.deflateLevel ?? 6;
  if (!Number.isInteger(deflateLevel) || deflateLevel < 1 || deflateLevel > 9) throw new FocalError('E_ARGUMENT', `deflateLevel must be 1…9, got ${deflateLevel}`, { field: 'deflateLevel' });
  const compress = (options.compression ?? 'deflate') === 'deflate';
  const { width, height, dtype } = source;
  const predict = compress && dtype !== 'float32' && (options.predictor ?? true);
  const bps = bytesPerSample(dtype);
  const sizes = pyramidLevels(width, height, tileSize, options.levels);
  const planeCount = source.sizeC * source.sizeZ * source.sizeT;
  const tileBytes = tileSize * tileSize * bps;
  const tilesPerPlane = sizes.reduce((s, l) => s + Math.ceil(l.width / tileSize) * Math.ceil(l.height / tileSize), 0);
  // Worst case: every tile stored raw plus zlib's overhead, and the IFDs.
  const bound = planeCount * tilesPerPlane * (tileBytes + Math.ceil(tileBytes / 1000) + 64) + planeCount * (sizes.length * 600 + tilesPerPlane * 16) + 1_048_576;
  const bigTiff = options.bigTiff ?? bound > CLASSIC_LIMIT;
  const name = path.split(/[\\/]/).pop() ?? path;
  const xml = new TextEncoder().encode(pyramidOmeXml(source, name.replace(/\.ome\.tiff?$/i, '')) + '\0');

  const file: AtomicFile = await openAtomicFile(path, { mkdir: options.mkdir });
  try {
    const header = bigTiff ? 16 : 8;
    let pos = header;
    const write = async (chunks: Uint8Array[]): Promise<void> => {
      let total = 0;
      for (const c of chunks) total += c.byteLength;
      if (total === 0) return;
      let done = 0;
      let at = pos;
      const { bytesWritten } = await file.handle.writev(chunks, at);
      done = bytesWritten;
      if (done < total) {
        // short write: the rest piece by piece
        let skip = done;
        at += done;
        for (const c of chunks) {
          if (skip >= c.byteLength) {
            skip -= c.byteLength;
            continue;
          }
          const part = c.subarray(skip);
          await file.handle.write(part, 0, part.byteLength, at);
          at += part.byteLength;
          skip = 0;
        }
      }
      pos += total;
    };
    await write([new Uint8Array(header)]); // patched at the end

    const planes: { offsets: number[]; counts: number[] }[][] = [];
    const totalRows = planeCount * height;
    let rowsDone = 0;
    /** One plane's levels and the band pusher that encodes and halves into them. */
    const startPlane = (): { levels: LevelState[]; pushBand: (k: number, data: PixelArray, rows: number, last: boolean) => Promise<void> } => {
      const levels: LevelState[] = sizes.map((l) => ({
        ...l,
        across: Math.ceil(l.width / tileSize),
        down: Math.ceil(l.height / tileSize),
        offsets: [],
        counts: [],
        band: allocate(dtype, l.width * tileSize),
        bandRows: 0,
        y: 0,
      }));
      levels[0].band = allocate(dtype, 0); // level 0 bands come from the source
      const spareTiles: PixelArray[] = [];

      /** Encodes one band of level k (rows × width) as a row of tiles, then feeds level k + 1. */
      const pushBand = async (k: number, data: PixelArray, rows: number, last: boolean): Promise<void> => {
        throwIfAborted(options.signal);
        const L = levels[k];
        const encoded = await Promise.all(
          Array.from({ length: L.across }, async (_, tx) => {
            // tile buffers are reused once deflated: a fresh one per tile costs its page faults (~2–5 ns/px here)
            const tile = spareTiles.pop() ?? allocate(dtype, tileSize * tileSize);
            const x0 = tx * tileSize;
            const cols = Math.min(tileSize, L.width - x0);
            if (cols < tileSize || rows < tileSize) tile.fill(0);
            for (let r = 0; r < rows; r++) tile.set(data.subarray(r * L.width + x0, r * L.width + x0 + cols), r * tileSize);
            if (predict) horizontalDifferences(tile, tileSize, rows);
            let bytes = new Uint8Array(tile.buffer, tile.byteOffset, tile.byteLength);
            if (!HOST_LE && bps > 1) {
              bytes = bytes.slice();
              for (let i = 0; i < bytes.length; i += bps) bytes.subarray(i, i + bps).reverse();
            }
            // one output chunk for the whole tile (deflate's bound): with zlib's default 16 KiB chunks a
            // tile round-trips between the thread pool and this thread some 30 times, and is concatenated
            if (!compress) return bytes;
            const packed: Uint8Array = await deflate(bytes, { level: deflateLevel, chunkSize: bytes.byteLength + (bytes.byteLength >> 10) + 1024 });
            spareTiles.push(tile);
            return packed;
          }),
        );
        let at = pos;
        for (const e of encoded) {
          L.offsets.push(at);
          L.counts.push(e.byteLength);
          at += e.byteLength;
        }
        await write(encoded);
        L.y += rows;
        if (k + 1 < levels.length) {
          const N = levels[k + 1];
          const half = halveBand(data, L.width, rows, dtype);
          const hr = Math.ceil(rows / 2);
          N.band.set(half, N.bandRows * N.width);
          N.bandRows += hr;
          if (N.bandRows === tileSize || (last && N.bandRows > 0)) {
            const full = N.bandRows;
            N.bandRows = 0;
            await pushBand(k + 1, N.band, full, last);
            N.band.fill(0);
          }
        }
      };

      return { levels, pushBand };
    };

    // planes in XYCZT order; a source that computes its channels together is read a band of
    // every channel of a (z, t) at a time (each channel's levels kept meanwhile)
    const group = source.channelsTogether ? source.sizeC : 1;
    const bands = Math.ceil(height / tileSize);
    for (let first = 0; first < planeCount; first += group) {
      const states = Array.from({ length: group }, () => startPlane());
      const readBand = (i: number): Promise<PixelArray> => {
        const b = Math.floor(i / group);
        const plane = first + (i % group);
        const c = plane % source.sizeC;
        const z = Math.floor(plane / source.sizeC) % source.sizeZ;
        const t = Math.floor(plane / (source.sizeC * source.sizeZ));
        return source.readRegion({ c, z, t, x: 0, y: b * tileSize, w: width, h: Math.min(tileSize, height - b * tileSize) }, { signal: options.signal });
      };
      let pending = readBand(0);
      for (let i = 0; i < bands * group; i++) {
        const b = Math.floor(i / group);
        const data = await pending;
        const rows = Math.min(tileSize, height - b * tileSize);
        if (data.length !== width * rows) throw new FocalError('E_ARGUMENT', `the source gave ${data.length} pixels for a band of ${width}×${rows}`, { field: 'source' });
        if (i + 1 < bands * group) {
          pending = readBand(i + 1);
          pending.catch(() => undefined); // awaited next turn; a failure while this band is written must not go unhandled
        }
        await states[i % group].pushBand(0, data, rows, b + 1 === bands);
        rowsDone += rows;
        options.onProgress?.(rowsDone / totalRows);
      }
      for (const st of states) planes.push(st.levels.map((l) => ({ offsets: l.offsets, counts: l.counts })));
    }

    // IFDs after the data: each plane's main IFD, then its SubIFDs.
    const off = bigTiff ? FieldType.LONG8 : FieldType.LONG;
    const cal = source.calibration;
    const entries = (k: number, level: { offsets: number[]; counts: number[] }, first: boolean, subIfds: number[]): Entry[] => {
      const e: Entry[] = [
        { tag: Tag.NewSubfileType, type: FieldType.LONG, values: [k === 0 ? 0 : 1] },
        { tag: Tag.ImageWidth, type: FieldType.LONG, values: [sizes[k].width] },
        { tag: Tag.ImageLength, type: FieldType.LONG, values: [sizes[k].height] },
        { tag: Tag.BitsPerSample, type: FieldType.SHORT, values: [bps * 8] },
        { tag: Tag.Compression, type: FieldType.SHORT, values: [compress ? 8 : 1] },
        ...(predict ? [{ tag: Tag.Predictor, type: FieldType.SHORT, values: [2] }] : []),
        { tag: Tag.Photometric, type: FieldType.SHORT, values: [1] },
        { tag: Tag.SamplesPerPixel, type: FieldType.SHORT, values: [1] },
        { tag: Tag.PlanarConfiguration, type: FieldType.SHORT, values: [1] },
        { tag: Tag.TileWidth, type: FieldType.LONG, values: [tileSize] },
        { tag: Tag.TileLength, type: FieldType.LONG, values: [tileSize] },
        { tag: Tag.TileOffsets, type: off, values: level.offsets },
        { tag: Tag.TileByteCounts, type: off, values: level.counts },
        { tag: Tag.SampleFormat, type: FieldType.SHORT, values: [dtype === 'float32' ? 3 : 1] },
        { tag: Tag.Software, type: FieldType.ASCII, values: new TextEncoder().encode('Focal\0') },
      ];
      if (first) e.push({ tag: Tag.ImageDescription, type: FieldType.ASCII, values: xml });
      if (subIfds.length > 0) e.push({ tag: Tag.SubIFDs, type: off, values: subIfds });
      const pw = cal.pixelWidthUm;
      const ph = cal.pixelHeightUm ?? pw;
      if (pw !== undefined && ph !== undefined && pw > 0 && ph > 0) {
        // pixels per centimetre at this level
        const scale = 2 ** k;
        e.push(
          { tag: Tag.XResolution, type: FieldType.RATIONAL, values: toRational(1e4 / (pw * scale)) },
          { tag: Tag.YResolution, type: FieldType.RATIONAL, values: toRational(1e4 / (ph * scale)) },
          { tag: Tag.ResolutionUnit, type: FieldType.SHORT, values: [3] },
        );
      }
      return e;
    };
    const placeholder = Array.from({ length: sizes.length - 1 }, () => 0);
    const mainAt: number[] = [];
    const subAt: number[][] = [];
    let at = pos + (pos & 1);
    for (let p = 0; p < planeCount; p++) {
      mainAt.push(at);
      at += ifdSize(entries(0, planes[p][0], p === 0, placeholder), bigTiff);
      at += at & 1;
      const subs: number[] = [];
      for (let k = 1; k < sizes.length; k++) {
        subs.push(at);
        at += ifdSize(entries(k, planes[p][k], false, []), bigTiff);
        at += at & 1;
      }
      subAt.push(subs);
    }
    if (!bigTiff && at > CLASSIC_LIMIT) {
      throw new FocalError('E_ARGUMENT', `${path}: the pyramid takes ${at} bytes, more than a classic TIFF holds; allow BigTIFF`, { file: path, field: 'bigTiff' });
    }
    const ifds: Uint8Array[] = [];
    if (pos & 1) ifds.push(new Uint8Array(1));
    for (let p = 0; p < planeCount; p++) {
      const pad = (b: Uint8Array): Uint8Array => (b.byteLength & 1 ? concat2(b, new Uint8Array(1)) : b);
      // one plane: level k's IFD is also the main chain's next page (OpenSlide sees the levels)
      const chain = planeCount === 1 && (options.chainLevels ?? true) && sizes.length > 1;
      ifds.push(pad(encodeIfd(entries(0, planes[p][0], p === 0, subAt[p]), mainAt[p], p + 1 < planeCount ? mainAt[p + 1] : chain ? subAt[p][0] : 0, bigTiff)));
      for (let k = 1; k < sizes.length; k++) ifds.push(pad(encodeIfd(entries(k, planes[p][k], false, []), subAt[p][k - 1], chain && k + 1 < sizes.length ? subAt[p][k] : 0, bigTiff)));
    }
    await write(ifds);
    const head = new Uint8Array(header);
    const dv = new DataView(head.buffer);
    head[0] = 0x49;
    head[1] = 0x49;
    if (bigTiff) {
      dv.setUint16(2, 43, true);
      dv.setUint16(4, 8, true);
      dv.setBigUint64(8, BigInt(mainAt[0]), true);
    } else {
      dv.setUint16(2, 42, true);
      dv.setUint32(4, mainAt[0], true);
    }
    await file.handle.write(head, 0, header, 0);
    await file.commit();
    return { path, bytes: pos, bigTiff, tileSize, levels: sizes };
  } catch (err) {
    await file.abort();
    throw err;
  }
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
