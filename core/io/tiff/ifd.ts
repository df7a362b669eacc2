import { FocalError } from '../../errors.js';
import type { FileSource } from './source.js';

/** TIFF tag numbers Focal reads or writes. */
export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  FillOrder: 266,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  ResolutionUnit: 296,
  Software: 305,
  DateTime: 306,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  ExtraSamples: 338,
  SampleFormat: 339,
  SubIFDs: 330,
  /** ImageJ's private metadata (slice labels, display ranges, LUTs …): byte counts, then the bytes. */
  IJMetadataByteCounts: 50838,
  IJMetadata: 50839,
} as const;

/** TIFF field types and their sizes in bytes. */
export const FieldType = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, SBYTE: 6, UNDEFINED: 7, SSHORT: 8, SLONG: 9, SRATIONAL: 10, FLOAT: 11, DOUBLE: 12, IFD: 13, LONG8: 16, SLONG8: 17, IFD8: 18 } as const;
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/** Names of TIFF compression codes. */
export const COMPRESSION_NAMES: Record<number, string> = {
  1: 'none', 2: 'ccitt-rle', 3: 'ccitt-fax3', 4: 'ccitt-fax4', 5: 'lzw', 6: 'old-jpeg', 7: 'jpeg', 8: 'deflate', 32946: 'deflate',
  32773: 'packbits', 34887: 'lerc', 34712: 'jpeg2000', 50000: 'zstd', 50001: 'webp', 34925: 'lzma',
};
/** Compressions Focal decodes: none, LZW (Focal's decoder), Deflate and PackBits (geotiff's decoders). */
export const SUPPORTED_COMPRESSIONS: ReadonlySet<number> = new Set([1, 5, 8, 32946, 32773]);

export function compressionName(code: number): string {
  return COMPRESSION_NAMES[code] ?? `code ${code}`;
}

/** Where an ASCII value lies in the file; read on demand (OME-XML can be megabytes). */
export interface TextRef {
  offset: number;
  length: number;
}

/** One image file directory, with the tags Focal uses already interpreted. */
export interface TiffPage {
  /** Position in the IFD chain (0-based). */
  index: number;
  /** Size of the file header (8, or 16 for BigTIFF): no pixel data lies before it. */
  headerBytes: number;
  /** File offset of the IFD. */
  offset: number;
  /** Size of the IFD itself (entry count, entries, next-IFD offset). */
  ifdBytes: number;
  width: number;
  height: number;
  /** BitsPerSample of every sample. */
  bitsPerSample: number[];
  samplesPerPixel: number;
  /** SampleFormat of every sample (1 uint, 2 int, 3 float, 4 void, 5/6 complex). */
  sampleFormat: number[];
  compression: number;
  photometric: number | undefined;
  planar: number;
  predictor: number;
  fillOrder: number;
  subfileType: number;
  tiled: boolean;
  /** Tile size, or image width × RowsPerStrip for strips. */
  blockWidth: number;
  blockHeight: number;
  offsets: number[];
  /** Absent when the file omits StripByteCounts (allowed for uncompressed data). */
  byteCounts: number[] | undefined;
  xResolution: number | undefined;
  yResolution: number | undefined;
  resolutionUnit: number;
  description: TextRef | undefined;
  software: TextRef | undefined;
  dateTime: TextRef | undefined;
  /** ImageJ's IJMetadata bytes (read on demand) and their IJMetadataByteCounts. */
  ijMetadata?: TextRef;
  ijMetadataByteCounts?: number[];
  /** Offsets of the page's SubIFDs (reduced-resolution levels in a pyramidal OME-TIFF); empty when none. */
  subIfds: number[];
  /** For a reduced-resolution level read from SubIFDs: its position in the parent's SubIFDs (`index` is the parent's). */
  subIfd?: number;
}

/** `IFD 3`, or `IFD 3 SubIFD 1` for a reduced-resolution level: how errors name a page. */
export function pageName(page: Pick<TiffPage, 'index' | 'subIfd'>): string {
  return page.subIfd === undefined ? `IFD ${page.index}` : `IFD ${page.index} SubIFD ${page.subIfd}`;
}

export interface TiffStructure {
  littleEndian: boolean;
  bigTiff: boolean;
  pages: TiffPage[];
}

type Value = number[] | TextRef;

/** Field types a count or an offset may have (libtiff accepts the same; signed ones only when not negative). */
const INTEGER_TYPES: ReadonlySet<number> = new Set([FieldType.BYTE, FieldType.SHORT, FieldType.LONG, FieldType.IFD, FieldType.LONG8, FieldType.IFD8, FieldType.SBYTE, FieldType.SSHORT, FieldType.SLONG, FieldType.SLONG8]);
/** Tags whose values say where pixels lie and how many there are: a value of another type would read a plane from the wrong place. */
const STRUCTURAL_TAGS: readonly number[] = [
  Tag.ImageWidth, Tag.ImageLength, Tag.BitsPerSample, Tag.SamplesPerPixel, Tag.RowsPerStrip, Tag.StripOffsets, Tag.StripByteCounts,
  Tag.TileWidth, Tag.TileLength, Tag.TileOffsets, Tag.TileByteCounts, Tag.SubIFDs,
];
const TAG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Tag).map(([k, v]) => [v, k]));
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(FieldType).map(([k, v]) => [v, k]));

/** `StripOffsets (273)`, or `tag 1234` for a tag Focal has no name for. */
export function tagName(tag: number): string {
  return TAG_NAMES[tag] !== undefined ? `${TAG_NAMES[tag]} (${tag})` : `tag ${tag}`;
}

const WANTED: ReadonlySet<number> = new Set(Object.values(Tag));
const TEXT_TAGS: ReadonlySet<number> = new Set([Tag.ImageDescription, Tag.Software, Tag.DateTime, Tag.IJMetadata]);

function formatError(src: FileSource, message: string): FocalError {
  return new FocalError('E_FORMAT', `${src.path}: ${message}`, { file: src.path });
}

/**
 * Parses the header and the whole IFD chain. Loops in the chain, IFDs or values outside
 * the file, and malformed headers are E_FORMAT; pixel data is not touched.
 */
export async function readStructure(src: FileSource, options: { maxPages?: number } = {}): Promise<TiffStructure> {
  if (src.size === 0) throw formatError(src, 'the file is empty, not a TIFF');
  if (src.size < 8) throw formatError(src, `not a TIFF file (only ${src.size} bytes)`);
  const head = await src.readSmall(0, Math.min(16, src.size), 'TIFF header');
  const order = String.fromCharCode(head[0], head[1]);
  if (order !== 'II' && order !== 'MM') throw formatError(src, 'not a TIFF file (no II/MM byte-order mark)');
  const le = order === 'II';
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = dv.getUint16(2, le);
  let bigTiff: boolean;
  let first: number;
  if (magic === 42) {
    bigTiff = false;
    first = dv.getUint32(4, le);
  } else if (magic === 43) {
    if (head.length < 16) throw formatError(src, 'BigTIFF header is cut short');
    bigTiff = true;
    if (dv.getUint16(4, le) !== 8 || dv.getUint16(6, le) !== 0) throw formatError(src, 'BigTIFF header has an unsupported offset size');
    first = Number(dv.getBigUint64(8, le));
  } else {
    throw formatError(src, `not a TIFF file (magic number ${magic}, expected 42 or 43)`);
  }
  if (first === 0) throw formatError(src, 'the TIFF has no image directory');

  const pages: TiffPage[] = [];
  const seen = new Set<number>();
  // Every value a well-formed file holds takes at least one byte of it; IFDs that all point at one
  // large array (StripOffsets shared by thousands of IFDs) would multiply the memory the file costs.
  const values = { count: 0, max: src.size + 1_048_576 };
  let offset = first;
  const maxPages = options.maxPages ?? Infinity;
  while (offset !== 0 && pages.length < maxPages) {
    if (seen.has(offset)) throw formatError(src, `the IFD chain loops back to byte ${offset}`);
    seen.add(offset);
    const ifd = await readIfd(src, offset, le, bigTiff, values);
    checkTypes(src, pages.length, ifd.values, ifd.types);
    pages.push(interpret(src, pages.length, offset, ifd.values, bigTiff ? 16 : 8, ifd.bytes));
    offset = ifd.next;
  }
  return { littleEndian: le, bigTiff, pages };
}

async function readIfd(src: FileSource, offset: number, le: boolean, bigTiff: boolean, budget: { count: number; max: number }): Promise<{ values: Map<number, Value>; types: Map<number, number>; next: number; bytes: number }> {
  const countSize = bigTiff ? 8 : 2;
  const entrySize = bigTiff ? 20 : 12;
  const inline = bigTiff ? 8 : 4;
  const what = 'IFD';
  const cb = await src.readSmall(offset, countSize, what);
  const cdv = new DataView(cb.buffer, cb.byteOffset, cb.byteLength);
  const n = bigTiff ? Number(cdv.getBigUint64(0, le)) : cdv.getUint16(0, le);
  if (n === 0) throw formatError(src, `IFD at byte ${offset} has no entries`);
  const total = countSize + n * entrySize + inline;
  src.check(offset, total, `${what} (${n} entries)`);
  // Copy: readSmall's buffer is reused by the reads of out-of-line values below.
  const bytes = (await src.readSmall(offset, total, what)).slice();
  const dv = new DataView(bytes.buffer);
  const values = new Map<number, Value>();
  const types = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const e = countSize + i * entrySize;
    const tag = dv.getUint16(e, le);
    const type = dv.getUint16(e + 2, le);
    if (!WANTED.has(tag) || values.has(tag)) continue;
    const size = TYPE_SIZE[type];
    if (size === undefined) continue; // unknown field type: the TIFF spec says to ignore the entry
    const count = bigTiff ? Number(dv.getBigUint64(e + 4, le)) : dv.getUint32(e + 4, le);
    const byteLen = count * size;
    types.set(tag, type);
    const valuePos = e + 4 + (bigTiff ? 8 : 4);
    let valueOffset: number;
    let local: DataView;
    let localPos: number;
    if (byteLen <= inline) {
      valueOffset = offset + valuePos;
      local = dv;
      localPos = valuePos;
    } else {
      valueOffset = bigTiff ? Number(dv.getBigUint64(valuePos, le)) : dv.getUint32(valuePos, le);
      src.check(valueOffset, byteLen, `value of tag ${tag} (IFD at byte ${offset})`);
      if (TEXT_TAGS.has(tag)) {
        values.set(tag, { offset: valueOffset, length: byteLen });
        continue;
      }
      const vb = await src.readSmall(valueOffset, byteLen, `value of tag ${tag}`);
      local = new DataView(vb.buffer, vb.byteOffset, vb.byteLength);
      localPos = 0;
    }
    if (TEXT_TAGS.has(tag)) {
      values.set(tag, { offset: valueOffset, length: byteLen });
      continue;
    }
    budget.count += count;
    if (budget.count > budget.max) {
      throw formatError(src, `the IFDs' tag values add up to more than the file's ${src.size} bytes can hold (IFD at byte ${offset}, ${tagName(tag)}: ${count} values); many IFDs share one table`);
    }
    values.set(tag, decodeNumbers(local, localPos, type, count, le));
  }
  const np = countSize + n * entrySize;
  const next = bigTiff ? Number(dv.getBigUint64(np, le)) : dv.getUint32(np, le);
  return { values, types, next, bytes: total };
}

function decodeNumbers(dv: DataView, pos: number, type: number, count: number, le: boolean): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 1: case 7: case 2: out[i] = dv.getUint8(pos + i); break;
      case 6: out[i] = dv.getInt8(pos + i); break;
      case 3: out[i] = dv.getUint16(pos + 2 * i, le); break;
      case 8: out[i] = dv.getInt16(pos + 2 * i, le); break;
      case 4: case 13: out[i] = dv.getUint32(pos + 4 * i, le); break;
      case 9: out[i] = dv.getInt32(pos + 4 * i, le); break;
      case 5: {
        const den = dv.getUint32(pos + 8 * i + 4, le);
        out[i] = den === 0 ? NaN : dv.getUint32(pos + 8 * i, le) / den;
        break;
      }
      case 10: {
        const den = dv.getInt32(pos + 8 * i + 4, le);
        out[i] = den === 0 ? NaN : dv.getInt32(pos + 8 * i, le) / den;
        break;
      }
      case 11: out[i] = dv.getFloat32(pos + 4 * i, le); break;
      case 12: out[i] = dv.getFloat64(pos + 8 * i, le); break;
      case 16: case 18: out[i] = Number(dv.getBigUint64(pos + 8 * i, le)); break;
      case 17: out[i] = Number(dv.getBigInt64(pos + 8 * i, le)); break;
      default: out[i] = NaN;
    }
  }
  return out;
}

function nums(values: Map<number, Value>, tag: number): number[] | undefined {
  const v = values.get(tag);
  return Array.isArray(v) ? v : undefined;
}

function text(values: Map<number, Value>, tag: number): TextRef | undefined {
  const v = values.get(tag);
  return v !== undefined && !Array.isArray(v) ? v : undefined;
}

function one(values: Map<number, Value>, tag: number, fallback: number): number {
  const v = nums(values, tag);
  return v && v.length > 0 && Number.isFinite(v[0]) ? v[0] : fallback;
}

/**
 * The tags that locate and size pixel data must hold unsigned integers: an ASCII, RATIONAL,
 * FLOAT, … StripOffsets would otherwise be decoded into numbers and read pixels from the wrong place.
 */
function checkTypes(src: FileSource, index: number, values: Map<number, Value>, types: Map<number, number>): void {
  for (const tag of STRUCTURAL_TAGS) {
    const type = types.get(tag);
    if (type === undefined) continue;
    if (!INTEGER_TYPES.has(type)) {
      throw new FocalError('E_FORMAT', `${src.path}: IFD ${index}: ${tagName(tag)} has field type ${TYPE_NAMES[type] ?? type}; it must be an unsigned integer (SHORT, LONG or LONG8)`, { file: src.path, tag: TAG_NAMES[tag], ifd: index });
    }
    const v = values.get(tag);
    if (Array.isArray(v) && v.some((x) => x < 0)) {
      throw new FocalError('E_FORMAT', `${src.path}: IFD ${index}: ${tagName(tag)} holds a negative value`, { file: src.path, tag: TAG_NAMES[tag], ifd: index });
    }
  }
}

function interpret(src: FileSource, index: number, offset: number, values: Map<number, Value>, headerBytes: number, ifdBytes: number): TiffPage {
  const where = `IFD ${index}`;
  const width = one(values, Tag.ImageWidth, 0);
  const height = one(values, Tag.ImageLength, 0);
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw formatError(src, `${where} has invalid dimensions ${width}×${height}`);
  }
  const spp = one(values, Tag.SamplesPerPixel, 1);
  if (!Number.isInteger(spp) || spp < 1 || spp > 64) throw formatError(src, `${where} has invalid SamplesPerPixel ${spp}`);
  const fill = (list: number[] | undefined, dflt: number): number[] => {
    if (!list || list.length === 0) return Array.from({ length: spp }, () => dflt);
    return Array.from({ length: spp }, (_, i) => list[Math.min(i, list.length - 1)]);
  };
  const bitsPerSample = fill(nums(values, Tag.BitsPerSample), 1);
  const sampleFormat = fill(nums(values, Tag.SampleFormat), 1);
  const tileOffsets = nums(values, Tag.TileOffsets);
  const tiled = tileOffsets !== undefined && values.has(Tag.TileWidth);
  let blockWidth: number;
  let blockHeight: number;
  let offsets: number[] | undefined;
  let byteCounts: number[] | undefined;
  if (tiled) {
    blockWidth = one(values, Tag.TileWidth, 0);
    blockHeight = one(values, Tag.TileLength, 0);
    if (!Number.isSafeInteger(blockWidth) || !Number.isSafeInteger(blockHeight) || blockWidth < 1 || blockHeight < 1) {
      throw formatError(src, `${where} has invalid tile size ${blockWidth}×${blockHeight}`);
    }
    offsets = tileOffsets;
    byteCounts = nums(values, Tag.TileByteCounts);
  } else {
    blockWidth = width;
    const rps = one(values, Tag.RowsPerStrip, height);
    blockHeight = rps >= 1 && rps < height ? Math.floor(rps) : height;
    offsets = nums(values, Tag.StripOffsets);
    byteCounts = nums(values, Tag.StripByteCounts);
  }
  if (!offsets || offsets.length === 0) throw formatError(src, `${where} has no ${tiled ? 'TileOffsets' : 'StripOffsets'}`);
  return {
    index,
    headerBytes,
    offset,
    ifdBytes,
    width,
    height,
    bitsPerSample,
    samplesPerPixel: spp,
    sampleFormat,
    compression: one(values, Tag.Compression, 1),
    photometric: nums(values, Tag.Photometric)?.[0],
    planar: one(values, Tag.PlanarConfiguration, 1),
    predictor: one(values, Tag.Predictor, 1),
    fillOrder: one(values, Tag.FillOrder, 1),
    subfileType: one(values, Tag.NewSubfileType, 0),
    tiled,
    blockWidth,
    blockHeight,
    offsets,
    byteCounts,
    xResolution: nums(values, Tag.XResolution)?.[0],
    yResolution: nums(values, Tag.YResolution)?.[0],
    resolutionUnit: one(values, Tag.ResolutionUnit, 2),
    description: text(values, Tag.ImageDescription),
    software: text(values, Tag.Software),
    dateTime: text(values, Tag.DateTime),
    ijMetadata: text(values, Tag.IJMetadata),
    ijMetadataByteCounts: nums(values, Tag.IJMetadataByteCounts),
    subIfds: nums(values, Tag.SubIFDs) ?? [],
  };
}

/**
 * Reads the SubIFDs of `page` (reduced-resolution levels, largest first), each checked like a
 * page of the main chain. A SubIFD that is the page itself, repeats another or lies outside the
 * file is E_FORMAT naming the file and the IFD; SubIFD chains (next-IFD links) are not followed.
 */
export async function readSubIfds(src: FileSource, st: TiffStructure, page: TiffPage): Promise<TiffPage[]> {
  const out: TiffPage[] = [];
  const seen = new Set<number>([page.offset]);
  const values = { count: 0, max: src.size + 1_048_576 };
  for (const [k, offset] of page.subIfds.entries()) {
    if (offset === 0) continue;
    if (seen.has(offset)) throw new FocalError('E_FORMAT', `${src.path}: IFD ${page.index}: SubIFD ${k} points back to byte ${offset}, already read`, { file: src.path, tag: 'SubIFDs', ifd: page.index });
    seen.add(offset);
    const ifd = await readIfd(src, offset, st.littleEndian, st.bigTiff, values);
    const index = page.index;
    checkTypes(src, index, ifd.values, ifd.types);
    out.push({ ...interpret(src, index, offset, ifd.values, st.bigTiff ? 16 : 8, ifd.bytes), subIfds: [], subIfd: k });
  }
  return out;
}

const decoder = new TextDecoder('utf-8');

/** Reads an ASCII tag value; stops at the first NUL. Limited to `maxBytes` (default 64 MiB). */
export async function readText(src: FileSource, ref: TextRef | undefined, maxBytes = 64 * 1024 * 1024): Promise<string | undefined> {
  if (!ref) return undefined;
  if (ref.length > maxBytes) throw formatError(src, `text tag of ${ref.length} bytes is larger than ${maxBytes} bytes`);
  const bytes = await src.readNew(ref.offset, ref.length, 'text tag');
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  return decoder.decode(bytes.subarray(0, end));
}
