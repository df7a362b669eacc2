import { promisify } from 'node:util';
import { constants as zlibConstants, inflate as inflateCb } from 'node:zlib';

const inflate = promisify(inflateCb);
/** Blocks of one region read decoded at once (libuv's thread pool has 4 threads by default). */
const DECODE_IN_FLIGHT = 4;
import { FocalError, throwIfAborted } from '../../errors.js';
import type { DType, PixelArray } from '../../data/dtype.js';
import { decodeLzw } from './lzw.js';
import { compressionName, pageName, SUPPORTED_COMPRESSIONS, type TiffPage } from './ifd.js';
import type { FileSource } from './source.js';

/** The sample type stored in the file (before Focal converts it to a DType). */
export type SampleType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * How file sample types become Focal dtypes:
 * uint8 → uint8, uint16 → uint16, float32 → float32 (unchanged);
 * int8, int16 → float32 (exact); int32, uint32 → float32 (exact up to ±2^24, a warning
 * names the file when larger values are rounded); float64 → float32 (with a warning).
 */
export function dtypeForSample(t: SampleType): DType {
  return t === 'uint8' ? 'uint8' : t === 'uint16' ? 'uint16' : 'float32';
}

function unsupported(src: FileSource, page: TiffPage, feature: string): FocalError {
  return new FocalError('E_UNSUPPORTED', `${src.path}: ${feature} (${pageName(page)}) is not supported`, { file: src.path, feature });
}

/** Checks that Focal can decode `page` and returns its sample type; E_UNSUPPORTED otherwise. */
export function sampleTypeOf(src: FileSource, page: TiffPage): SampleType {
  const bps = page.bitsPerSample[0];
  const fmt = page.sampleFormat[0];
  if (page.bitsPerSample.some((b) => b !== bps)) throw unsupported(src, page, `mixed BitsPerSample [${page.bitsPerSample.join(', ')}]`);
  if (page.sampleFormat.some((f) => f !== fmt)) throw unsupported(src, page, `mixed SampleFormat [${page.sampleFormat.join(', ')}]`);
  if (!SUPPORTED_COMPRESSIONS.has(page.compression)) throw unsupported(src, page, `compression ${compressionName(page.compression)}`);
  if (page.planar !== 1 && page.planar !== 2) throw unsupported(src, page, `PlanarConfiguration ${page.planar}`);
  if (page.fillOrder !== 1) throw unsupported(src, page, `FillOrder ${page.fillOrder}`);
  if (page.predictor !== 1 && page.predictor !== 2 && page.predictor !== 3) throw unsupported(src, page, `predictor ${page.predictor}`);
  const ph = page.photometric;
  if (ph !== undefined && ph !== 0 && ph !== 1 && ph !== 2 && ph !== 3) {
    const names: Record<number, string> = { 4: 'transparency mask', 5: 'CMYK', 6: 'YCbCr', 8: 'CIELab', 9: 'ICCLab', 10: 'ITULab', 32844: 'LogL', 32845: 'LogLuv' };
    throw unsupported(src, page, `photometric interpretation ${names[ph] ?? ph}`);
  }
  if (fmt === 5 || fmt === 6) throw unsupported(src, page, `complex ${bps}-bit samples`);
  let type: SampleType | undefined;
  if (fmt === 1 || fmt === 4) type = bps === 8 ? 'uint8' : bps === 16 ? 'uint16' : bps === 32 ? 'uint32' : undefined;
  else if (fmt === 2) type = bps === 8 ? 'int8' : bps === 16 ? 'int16' : bps === 32 ? 'int32' : undefined;
  else if (fmt === 3) type = bps === 32 ? 'float32' : bps === 64 ? 'float64' : undefined;
  if (!type) {
    const kind = fmt === 2 ? 'signed integer' : fmt === 3 ? 'floating-point' : fmt === 1 || fmt === 4 ? 'unsigned integer' : `SampleFormat ${fmt}`;
    throw unsupported(src, page, `${bps}-bit ${kind} samples`);
  }
  if (page.predictor === 3 && fmt !== 3) throw unsupported(src, page, 'floating-point predictor on integer samples');
  if (page.predictor === 2 && fmt === 3) throw unsupported(src, page, 'horizontal predictor on floating-point samples');
  return type;
}

export function bytesOf(t: SampleType): number {
  return t === 'uint8' || t === 'int8' ? 1 : t === 'uint16' || t === 'int16' ? 2 : t === 'float64' ? 8 : 4;
}

/** Largest decoded/compressed ratio accepted before allocating (deflate tops out near 1032, LZW near 1400, PackBits at 64). */
export const MAX_COMPRESSION_RATIO = 4096;

interface Layout {
  across: number;
  down: number;
  perPlane: number;
  blocks: number;
  chunky: boolean;
  /** Samples interleaved in each block. */
  spb: number;
  sampleBytes: number;
}

function layoutOf(page: TiffPage, type: SampleType): Layout {
  const across = Math.ceil(page.width / page.blockWidth);
  const down = Math.ceil(page.height / page.blockHeight);
  const chunky = page.planar === 1 || page.samplesPerPixel === 1;
  const perPlane = across * down;
  return { across, down, perPlane, blocks: perPlane * (chunky ? 1 : page.samplesPerPixel), chunky, spb: chunky ? page.samplesPerPixel : 1, sampleBytes: bytesOf(type) };
}

/** Where one block's bytes lie in the file. */
export interface BlockExtent {
  start: number;
  end: number;
  /** `strip 3 of IFD 7` */
  what: string;
  /** StripOffsets or TileOffsets */
  tag: string;
}

/**
 * Checks a page's block table against the file before anything is allocated: enough
 * offsets, no block of zero bytes (it would read as black pixels), no block inside the
 * header or past the end of the file, byte counts that hold the block's pixels, and for
 * compressed data a plausible expansion ratio. Every error names the file, the IFD and
 * the tag. Returns the number of bytes the page decodes to and where its blocks lie.
 */
export function validateBlocks(src: FileSource, page: TiffPage, type: SampleType): { decoded: number; extents: BlockExtent[] } {
  const L = layoutOf(page, type);
  const where = `${pageName(page)}`;
  const unit = page.tiled ? 'tile' : 'strip';
  const offsetsTag = page.tiled ? 'TileOffsets' : 'StripOffsets';
  const countsTag = page.tiled ? 'TileByteCounts' : 'StripByteCounts';
  const bad = (tag: string, message: string): FocalError => new FocalError('E_FORMAT', `${src.path}: ${where}: ${message}`, { file: src.path, tag, ifd: page.index });
  if (page.offsets.length < L.blocks) {
    throw bad(offsetsTag, `${offsetsTag} lists ${page.offsets.length} ${unit}s, ${L.blocks} needed for ${page.width}×${page.height}`);
  }
  const compressed = page.compression !== 1;
  if (compressed && (!page.byteCounts || page.byteCounts.length < L.blocks)) {
    throw bad(countsTag, `the data is compressed but ${countsTag} ${page.byteCounts ? `lists only ${page.byteCounts.length} of ${L.blocks} ${unit}s` : 'is missing'}`);
  }
  const decoded = page.width * page.height * page.samplesPerPixel * L.sampleBytes;
  const extents: BlockExtent[] = [];
  let stored = 0;
  for (let b = 0; b < L.blocks; b++) {
    const off = page.offsets[b];
    const count = page.byteCounts?.[b];
    const what = `${unit} ${b} of ${where}`;
    if (count === 0) {
      throw bad(countsTag, `${countsTag} gives ${unit} ${b} 0 bytes but it holds pixels (reading it would give zeros, not the image)`);
    }
    if (off < page.headerBytes) {
      throw bad(offsetsTag, `${offsetsTag} puts ${unit} ${b} at byte ${off}, inside the ${page.headerBytes}-byte TIFF header`);
    }
    const need = blockBytesNeeded(page, L, b);
    if (!compressed && count !== undefined && count < need) {
      throw bad(countsTag, `${countsTag} gives ${unit} ${b} ${count} bytes but its pixels take ${need}`);
    }
    const len = compressed ? count! : need;
    try {
      src.check(off, len, what);
    } catch {
      throw bad(offsetsTag, `${offsetsTag} / ${countsTag}: ${what} at byte ${off} (${len} bytes) lies outside the file (${src.size} bytes); the file is truncated or corrupt`);
    }
    extents.push({ start: off, end: off + len, what, tag: offsetsTag });
    stored += len;
  }
  if (compressed && decoded > stored * MAX_COMPRESSION_RATIO + 1024 * 1024) {
    throw bad(countsTag, `claims ${page.width}×${page.height} pixels but ${countsTag} gives only ${stored} compressed bytes; the file is corrupt`);
  }
  return { decoded, extents };
}

function blockGeometry(page: TiffPage, L: Layout, b: number): { sample: number; x0: number; y0: number; cols: number; rows: number } {
  const sample = L.chunky ? -1 : Math.floor(b / L.perPlane);
  const bi = b % L.perPlane;
  const x0 = (bi % L.across) * page.blockWidth;
  const y0 = Math.floor(bi / L.across) * page.blockHeight;
  return { sample, x0, y0, cols: Math.min(page.blockWidth, page.width - x0), rows: Math.min(page.blockHeight, page.height - y0) };
}

/** Bytes a decoded block must hold at least: full rows of the block, the last one only up to the image edge. */
function blockBytesNeeded(page: TiffPage, L: Layout, b: number): number {
  const g = blockGeometry(page, L, b);
  return ((g.rows - 1) * page.blockWidth + g.cols) * L.spb * L.sampleBytes;
}

const decoders = new Map<number, Promise<{ decode(buffer: ArrayBufferLike): Promise<ArrayBufferLike> }>>();

function decoderFor(compression: number): Promise<{ decode(buffer: ArrayBufferLike): Promise<ArrayBufferLike> }> {
  let d = decoders.get(compression);
  if (!d) {
    // Focal applies the predictor itself (after byte-swapping), so geotiff gets predictor 1.
    // geotiff is imported on the first compressed block: an uncompressed TIFF never loads it.
    d = import('geotiff').then(({ getDecoder }) => getDecoder(compression, { tileWidth: 1, tileHeight: 1, predictor: 1, bitsPerSample: 8, planarConfiguration: 1 }));
    decoders.set(compression, d);
  }
  return d;
}

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = bytes[i];
      bytes[i] = bytes[i + 1];
      bytes[i + 1] = a;
    }
  } else if (size === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      let a = bytes[i];
      bytes[i] = bytes[i + 3];
      bytes[i + 3] = a;
      a = bytes[i + 1];
      bytes[i + 1] = bytes[i + 2];
      bytes[i + 2] = a;
    }
  } else if (size === 8) {
    for (let i = 0; i + 7 < bytes.length; i += 8) {
      for (let k = 0; k < 4; k++) {
        const a = bytes[i + k];
        bytes[i + k] = bytes[i + 7 - k];
        bytes[i + 7 - k] = a;
      }
    }
  }
}

function horizontalPredictor(bytes: Uint8Array, sampleBytes: number, rowSamples: number, stride: number): void {
  // one loop per element type, so that each stays monomorphic (one loop over the three array types ran at ~7 ns/px)
  if (sampleBytes === 1) undoDifferences8(bytes, rowSamples, stride);
  else if (sampleBytes === 2) undoDifferences16(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1), rowSamples, stride);
  else undoDifferences32(new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2), rowSamples, stride);
}

function undoDifferences8(arr: Uint8Array, rowSamples: number, stride: number): void {
  for (let start = 0; start < arr.length; start += rowSamples) {
    const end = Math.min(start + rowSamples, arr.length);
    for (let i = start + stride; i < end; i++) arr[i] += arr[i - stride];
  }
}

function undoDifferences16(arr: Uint16Array, rowSamples: number, stride: number): void {
  for (let start = 0; start < arr.length; start += rowSamples) {
    const end = Math.min(start + rowSamples, arr.length);
    for (let i = start + stride; i < end; i++) arr[i] += arr[i - stride];
  }
}

function undoDifferences32(arr: Uint32Array, rowSamples: number, stride: number): void {
  for (let start = 0; start < arr.length; start += rowSamples) {
    const end = Math.min(start + rowSamples, arr.length);
    for (let i = start + stride; i < end; i++) arr[i] += arr[i - stride];
  }
}

/** TIFF floating-point predictor (3): byte-wise differencing of byte planes; the result is little-endian. */
function floatPredictor(bytes: Uint8Array, sampleBytes: number, rowSamples: number, stride: number): void {
  const rowBytes = rowSamples * sampleBytes;
  const rows = Math.floor(bytes.length / rowBytes);
  const tmp = new Uint8Array(rowBytes);
  for (let r = 0; r < rows; r++) {
    const row = bytes.subarray(r * rowBytes, (r + 1) * rowBytes);
    for (let i = stride; i < rowBytes; i++) row[i] = (row[i] + row[i - stride]) & 0xff;
    tmp.set(row);
    for (let i = 0; i < rowSamples; i++) {
      for (let b = 0; b < sampleBytes; b++) row[sampleBytes * i + b] = tmp[(sampleBytes - b - 1) * rowSamples + i];
    }
  }
}

type AnyTyped = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

function view(type: SampleType, bytes: Uint8Array): AnyTyped {
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  switch (type) {
    case 'uint8': return bytes;
    case 'int8': return new Int8Array(b, o, bytes.byteLength);
    case 'uint16': return new Uint16Array(b, o, bytes.byteLength >> 1);
    case 'int16': return new Int16Array(b, o, bytes.byteLength >> 1);
    case 'uint32': return new Uint32Array(b, o, bytes.byteLength >> 2);
    case 'int32': return new Int32Array(b, o, bytes.byteLength >> 2);
    case 'float32': return new Float32Array(b, o, bytes.byteLength >> 2);
    case 'float64': return new Float64Array(b, o, bytes.byteLength >> 3);
  }
}

export interface DecodeStats {
  /** Integer values beyond ±2^24 were rounded when converted to float32. */
  rounded: boolean;
}

/**
 * Decodes one page into `targets` (one plane per sample, in sample order; a target may be
 * undefined to drop that sample). Targets must already have width·height elements of
 * dtypeForSample(type). `validateBlocks` must have been called for the page.
 */
export async function decodePage(src: FileSource, page: TiffPage, type: SampleType, littleEndian: boolean, targets: (PixelArray | undefined)[], stats: DecodeStats, signal?: AbortSignal): Promise<void> {
  const L = layoutOf(page, type);
  const sb = L.sampleBytes;
  const sameType = dtypeForSample(type) === type;
  const nativeOrder = littleEndian === HOST_LE;
  const compressed = page.compression !== 1;

  // Fast path: uncompressed, one sample per pixel, strips, file byte order = host byte order,
  // no type conversion: the strips are read straight into the plane's memory, and runs of
  // contiguous strips in one read.
  if (!compressed && !page.tiled && page.samplesPerPixel === 1 && nativeOrder && sameType && targets[0]) {
    const t = targets[0];
    const dst = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
    const stripBytes = page.width * page.blockHeight * sb;
    let b = 0;
    while (b < L.blocks) {
      throwIfAborted(signal);
      let e = b + 1;
      while (e < L.blocks && page.offsets[e] === page.offsets[e - 1] + stripBytes) e++;
      const start = b * stripBytes;
      const end = Math.min(e * stripBytes, dst.byteLength);
      await src.readInto(dst.subarray(start, end), page.offsets[b], `strips ${b}–${e - 1} of ${pageName(page)}`);
      b = e;
    }
    return;
  }

  const rowSamples = page.blockWidth * L.spb;
  for (let b = 0; b < L.blocks; b++) {
    throwIfAborted(signal);
    const g = blockGeometry(page, L, b);
    const src32 = await decodeBlock(src, page, type, littleEndian, L, b);
    const samples = L.chunky ? page.samplesPerPixel : 1;
    for (let s = 0; s < samples; s++) {
      const target = targets[L.chunky ? s : g.sample];
      if (!target) continue;
      for (let r = 0; r < g.rows; r++) {
        const srcRow = r * rowSamples;
        const dstRow = (g.y0 + r) * page.width + g.x0;
        if (samples === 1) {
          target.set(src32.subarray(srcRow, srcRow + g.cols), dstRow);
        } else {
          for (let x = 0; x < g.cols; x++) target[dstRow + x] = src32[srcRow + x * samples + s];
        }
      }
    }
  }
  checkRounding(type, targets, stats);
}

function checkRounding(type: SampleType, targets: (PixelArray | undefined)[], stats: DecodeStats): void {
  if ((type === 'uint32' || type === 'int32') && !stats.rounded) {
    for (const t of targets) {
      if (!t) continue;
      for (let i = 0; i < t.length; i++) {
        const v = t[i];
        if (v > 16777216 || v < -16777216) {
          stats.rounded = true;
          break;
        }
      }
    }
  }
}

/** `tile 7 (column 3, row 1) of IFD 0` or `strip 4 of IFD 2`: how errors name a block. */
function blockName(page: TiffPage, L: Layout, b: number): string {
  if (!page.tiled) return `strip ${b} of ${pageName(page)}`;
  const bi = b % L.perPlane;
  return `tile ${b} (column ${bi % L.across}, row ${Math.floor(bi / L.across)}) of ${pageName(page)}`;
}

/**
 * Reads and decodes block `b` of `page`: decompressed, byte-swapped to host order, predictor
 * undone. Returns the block's samples (blockWidth × blockHeight × samples-per-block, the last
 * strip possibly shorter). A block that cannot be decoded, or decodes to too few bytes, is
 * E_FORMAT naming the file, the block (tile column and row) and the IFD.
 */
async function decodeBlock(src: FileSource, page: TiffPage, type: SampleType, littleEndian: boolean, L: Layout, b: number): Promise<AnyTyped> {
  const sb = L.sampleBytes;
  const nativeOrder = littleEndian === HOST_LE;
  const compressed = page.compression !== 1;
  const rowSamples = page.blockWidth * L.spb;
  const count = page.byteCounts?.[b];
  const need = blockBytesNeeded(page, L, b);
  const name = blockName(page, L, b);
  let bytes: Uint8Array;
  if (!compressed) {
    bytes = await src.readNew(page.offsets[b], need, name);
  } else {
    const raw = await src.readNew(page.offsets[b], count!, name);
    let out: ArrayBufferLike | Uint8Array;
    try {
      if (page.compression === 5) {
        out = decodeLzw(raw, page.blockWidth * page.blockHeight * L.spb * sb);
      } else if (page.compression === 8 || page.compression === 32946) {
        // Node's zlib (native) rather than geotiff's pako: several times faster on large slides.
        // A stream cut short gives what it holds (checked against the size needed below), and
        // the output is capped, so a corrupt block cannot decode to gigabytes.
        const full = page.blockWidth * page.blockHeight * L.spb * sb;
        // chunkSize: the whole block in one output chunk (zlib's default of 16 KiB loops and concatenates)
        out = await inflate(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: full + (1 << 20), chunkSize: Math.max(1024, full + 64) });
      } else {
        const dec = await decoderFor(page.compression);
        out = await dec.decode(raw.buffer);
      }
    } catch (err) {
      if (err instanceof FocalError) throw new FocalError(err.code, `${src.path}: ${name}: ${err.message}`, { ...err.details, file: src.path }, { cause: err });
      throw new FocalError('E_FORMAT', `${src.path}: cannot decode ${compressionName(page.compression)} ${name}: ${(err as Error)?.message ?? String(err)}`, { file: src.path }, { cause: err });
    }
    // a plain Uint8Array view (a Node Buffer's slice() would share memory instead of copying)
    bytes = out instanceof Uint8Array ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(out);
    if (bytes.byteLength < need) {
      throw new FocalError('E_FORMAT', `${src.path}: ${name} decodes to ${bytes.byteLength} bytes, ${need} expected; the data is corrupt`, { file: src.path });
    }
    if (bytes.byteLength % sb !== 0 || bytes.byteOffset % sb !== 0) bytes = bytes.slice(0, bytes.byteLength - (bytes.byteLength % sb));
  }
  if (page.predictor === 3) {
    // Byte planes are reassembled in little-endian order whatever the file's byte order.
    floatPredictor(bytes, sb, rowSamples, L.spb);
    if (!HOST_LE) swapBytes(bytes, sb);
  } else {
    if (!nativeOrder && sb > 1) swapBytes(bytes, sb);
    if (page.predictor === 2) horizontalPredictor(bytes, sb, rowSamples, L.spb);
  }
  return view(type, bytes);
}

/** A rectangle of one plane, px: columns x … x + w − 1, rows y … y + h − 1. */
export interface PixelRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Decodes the rectangle `rect` of sample `sample` of `page` into `target` (w × h elements of
 * dtypeForSample(type), row-major), reading and decoding only the strips or tiles that
 * intersect it. `validateBlocks` must have been called for the page; `rect` must lie inside it.
 * Returns the number of blocks decoded.
 */
export async function decodeRegion(src: FileSource, page: TiffPage, type: SampleType, littleEndian: boolean, sample: number, rect: PixelRect, target: PixelArray, stats: DecodeStats, signal?: AbortSignal, cache?: BlockCache): Promise<number> {
  const L = layoutOf(page, type);
  const bx0 = Math.floor(rect.x / page.blockWidth);
  const bx1 = Math.floor((rect.x + rect.w - 1) / page.blockWidth);
  const by0 = Math.floor(rect.y / page.blockHeight);
  const by1 = Math.floor((rect.y + rect.h - 1) / page.blockHeight);
  const rowSamples = page.blockWidth * L.spb;
  const stride = L.chunky ? page.samplesPerPixel : 1;
  const offsetInBlock = L.chunky ? sample : 0;
  const planeBase = L.chunky ? 0 : sample * L.perPlane;
  let decoded = 0;
  const wanted: number[] = [];
  for (let by = by0; by <= by1; by++) {
    for (let bx = bx0; bx <= bx1; bx++) wanted.push(planeBase + by * L.across + bx);
  }
  const copy = (b: number, block: AnyTyped): void => {
    const g = blockGeometry(page, L, b);
    const xs = Math.max(rect.x, g.x0);
    const xe = Math.min(rect.x + rect.w, g.x0 + g.cols);
    const ys = Math.max(rect.y, g.y0);
    const ye = Math.min(rect.y + rect.h, g.y0 + g.rows);
    for (let y = ys; y < ye; y++) {
      const srcRow = (y - g.y0) * rowSamples;
      const dst = (y - rect.y) * rect.w + (xs - rect.x);
      if (stride === 1) {
        target.set(block.subarray(srcRow + (xs - g.x0), srcRow + (xe - g.x0)), dst);
      } else {
        for (let x = xs; x < xe; x++) target[dst + x - xs] = block[srcRow + (x - g.x0) * stride + offsetInBlock];
      }
    }
  };
  // up to DECODE_IN_FLIGHT blocks at once: deflate inflates on libuv's thread pool, so a band's
  // tiles decode on every core while this thread copies
  for (let i = 0; i < wanted.length; i += DECODE_IN_FLIGHT) {
    throwIfAborted(signal);
    const group = wanted.slice(i, i + DECODE_IN_FLIGHT);
    const blocks = await Promise.all(
      group.map(async (b) => {
        const key = `${src.path}\0${page.offset}\0${b}`;
        let block = cache?.get(key);
        if (!block) {
          block = await decodeBlock(src, page, type, littleEndian, L, b);
          decoded++;
          cache?.set(key, block);
        }
        return block;
      }),
    );
    group.forEach((b, j) => copy(b, blocks[j]));
  }
  checkRounding(type, [target], stats);
  return decoded;
}

/**
 * Least-recently-used decoded blocks up to a byte budget, so overlapping region reads (tiles
 * with halos, bands read twice) decode each block once.
 */
export class BlockCache {
  private readonly blocks = new Map<string, AnyTyped>();
  private bytes = 0;
  constructor(readonly maxBytes: number) {}
  get(key: string): AnyTyped | undefined {
    const b = this.blocks.get(key);
    if (b) {
      this.blocks.delete(key);
      this.blocks.set(key, b);
    }
    return b;
  }
  set(key: string, block: AnyTyped): void {
    if (block.byteLength > this.maxBytes) return;
    // a block decoded twice at once (two reads that missed it together) replaces itself: its
    // bytes are counted once (counted twice, the cache shrank for good and thrashed)
    const old = this.blocks.get(key);
    if (old) {
      this.blocks.delete(key);
      this.bytes -= old.byteLength;
    }
    this.blocks.set(key, block);
    this.bytes += block.byteLength;
    for (const [k, v] of this.blocks) {
      if (this.bytes <= this.maxBytes) break;
      this.blocks.delete(k);
      this.bytes -= v.byteLength;
    }
  }
  clear(): void {
    this.blocks.clear();
    this.bytes = 0;
  }
}
