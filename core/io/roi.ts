/**
 * ImageJ ROI sets: a `.zip` of `.roi` files, as Fiji's ROI Manager saves and opens them
 * (More › Save… / Open…). Written from the format's published description (ImageJ's RoiDecoder
 * header layout: 64-byte big-endian header, then the x and the y coordinates as 16-bit integers
 * relative to the bounding box), for polygon-like ROIs: traced outlines (what Analyze Particles
 * adds to the ROI Manager), polygons and freehand outlines. The zip is written with stored
 * (uncompressed) entries. {@link readRoiZip} reads such a set back (the same subset of the format).
 *
 * A ROI set value (`kind: 'roi-set'`) is plain JSON, so an operation can return it on a `json`
 * port; PipelineRunner writes it as `<output>.zip`.
 */
import { FocalError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export type RoiKind = 'polygon' | 'freehand' | 'traced';

export interface Roi {
  /** Name shown in the ROI Manager (the zip entry is `<name>.roi`). */
  name: string;
  kind: RoiKind;
  /** Stack position, 1-based (0: every plane / a single-plane image). */
  position: number;
  /** Vertices, image pixel coordinates (pixel corners for traced outlines). */
  x: number[];
  y: number[];
}

export interface RoiSet {
  kind: 'roi-set';
  rois: Roi[];
}

export function isRoiSet(value: unknown): value is RoiSet {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'roi-set' && Array.isArray((value as { rois?: unknown }).rois);
}

// RoiDecoder's type codes and header offsets
const TYPE_CODE: Record<RoiKind, number> = { polygon: 0, freehand: 7, traced: 8 };
const KIND_OF: Record<number, RoiKind> = { 0: 'polygon', 7: 'freehand', 8: 'traced' };
const HEADER_SIZE = 64;
const VERSION = 228;

/** One ROI as ImageJ's `.roi` bytes. @throws FocalError E_ARGUMENT when it cannot be stored (too many vertices, coordinates beyond 16 bits). */
export function encodeRoi(roi: Roi): Uint8Array {
  const n = roi.x.length;
  if (n !== roi.y.length || n < 3) throw new FocalError('E_ARGUMENT', `ROI '${roi.name}': a polygon needs at least 3 vertices with x and y each (got ${roi.x.length} x, ${roi.y.length} y)`);
  if (n > 65535) throw new FocalError('E_ARGUMENT', `ROI '${roi.name}': ${n} vertices; an ImageJ polygon ROI holds at most 65535`);
  let left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(roi.x[i]) || !Number.isInteger(roi.y[i])) throw new FocalError('E_ARGUMENT', `ROI '${roi.name}': vertex ${i} is not on integer coordinates`);
    left = Math.min(left, roi.x[i]); right = Math.max(right, roi.x[i]);
    top = Math.min(top, roi.y[i]); bottom = Math.max(bottom, roi.y[i]);
  }
  if (left < -32768 || top < -32768 || right > 32767 || bottom > 32767) throw new FocalError('E_ARGUMENT', `ROI '${roi.name}': coordinates beyond ±32767 px do not fit ImageJ's 16-bit ROI header`);
  const bytes = new Uint8Array(HEADER_SIZE + 4 * n);
  const v = new DataView(bytes.buffer);
  bytes.set([0x49, 0x6f, 0x75, 0x74], 0); // "Iout"
  v.setInt16(4, VERSION);
  v.setUint8(6, TYPE_CODE[roi.kind]);
  v.setInt16(8, top);
  v.setInt16(10, left);
  v.setInt16(12, bottom);
  v.setInt16(14, right);
  v.setUint16(16, n);
  v.setInt32(56, roi.position);
  // header2 offset (60) stays 0: no name/properties block; the ROI Manager names a ROI after its zip entry
  for (let i = 0; i < n; i++) {
    v.setInt16(HEADER_SIZE + 2 * i, roi.x[i] - left);
    v.setInt16(HEADER_SIZE + 2 * n + 2 * i, roi.y[i] - top);
  }
  return bytes;
}

/** Reads one `.roi` (polygon, freehand or traced). @throws FocalError E_FORMAT naming `source`. */
export function decodeRoi(bytes: Uint8Array, name: string, source = name): Roi {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_SIZE || String.fromCharCode(...bytes.subarray(0, 4)) !== 'Iout') throw new FocalError('E_FORMAT', `${source}: not an ImageJ ROI (no 'Iout' header)`, { file: source });
  const code = v.getUint8(6);
  const kind = KIND_OF[code];
  if (!kind) throw new FocalError('E_FORMAT', `${source}: ROI type ${code} is not a polygon, freehand or traced outline`, { file: source });
  const top = v.getInt16(8), left = v.getInt16(10);
  const n = v.getUint16(16);
  if (bytes.length < HEADER_SIZE + 4 * n) throw new FocalError('E_FORMAT', `${source}: ${n} vertices announced, the file is too short for them`, { file: source });
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    x.push(left + v.getInt16(HEADER_SIZE + 2 * i));
    y.push(top + v.getInt16(HEADER_SIZE + 2 * n + 2 * i));
  }
  return { name, kind, position: v.getInt32(56), x, y };
}

/** Area enclosed by a ROI's polygon (shoelace), px². */
export function roiArea(roi: Pick<Roi, 'x' | 'y'>): number {
  let s = 0;
  const n = roi.x.length;
  for (let i = 0, j = n - 1; i < n; j = i++) s += (roi.x[j] + roi.x[i]) * (roi.y[j] - roi.y[i]);
  return Math.abs(s) / 2;
}

// ----------------------------------------------------------------------------------------------
// zip (stored entries), PKWARE APPNOTE layout

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip of stored entries (names ASCII/UTF-8, at most 65535 entries, under 4 GiB). */
export function zipStored(entries: { name: string; data: Uint8Array }[], date = new Date()): Uint8Array {
  if (entries.length > 65535) throw new FocalError('E_ARGUMENT', `${entries.length} files: a zip without ZIP64 holds at most 65535`);
  const dosTime = (date.getHours() << 11) | (date.getMinutes() << 5) | (date.getSeconds() >> 1);
  const dosDate = ((Math.max(1980, date.getFullYear()) - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const crc = crc32(e.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, 0x0800, true); // UTF-8 names
    lv.setUint16(8, 0, true); // stored
    lv.setUint16(10, dosTime, true);
    lv.setUint16(12, dosDate, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const c = new Uint8Array(46 + name.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, dosTime, true);
    cv.setUint16(14, dosDate, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    c.set(name, 46);
    parts.push(local, e.data);
    central.push(c);
    offset += local.length + e.data.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + end.length);
  let p = 0;
  for (const part of [...parts, ...central, end]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** The entries of a zip of stored entries (as zipStored writes and ImageJ's ROI Manager saves uncompressed). */
export function unzipStored(bytes: Uint8Array, source = '<zip>'): { name: string; data: Uint8Array }[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) if (v.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new FocalError('E_FORMAT', `${source}: not a zip file (no end of central directory)`, { file: source });
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const out: { name: string; data: Uint8Array }[] = [];
  for (let k = 0; k < count; k++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new FocalError('E_FORMAT', `${source}: central directory entry ${k} is damaged`, { file: source });
    const method = v.getUint16(p + 10, true);
    const size = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true), extraLen = v.getUint16(p + 30, true), commentLen = v.getUint16(p + 32, true);
    const localAt = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (method !== 0) throw new FocalError('E_FORMAT', `${source}: entry ${name} is compressed (method ${method}); only stored entries are read here`, { file: source });
    const dataAt = localAt + 30 + v.getUint16(localAt + 26, true) + v.getUint16(localAt + 28, true);
    out.push({ name, data: bytes.subarray(dataAt, dataAt + size) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** A ROI set as ImageJ ROI Manager zip bytes (one `<name>.roi` per ROI; names must be unique). */
export function encodeRoiZip(set: RoiSet): Uint8Array {
  const seen = new Set<string>();
  const entries = set.rois.map((roi) => {
    if (seen.has(roi.name)) throw new FocalError('E_ARGUMENT', `ROI name '${roi.name}' is used twice; a ROI set's names must be unique`);
    seen.add(roi.name);
    return { name: `${roi.name}.roi`, data: encodeRoi(roi) };
  });
  return zipStored(entries);
}

/** Writes a ROI set as an ImageJ ROI Manager `.zip`, atomically. */
export async function writeRoiZip(path: string, set: RoiSet): Promise<void> {
  await writeFileAtomic(path, encodeRoiZip(set));
}

/** Reads an ImageJ ROI set zip (stored entries; polygon, freehand and traced ROIs). */
export function readRoiZip(bytes: Uint8Array, source = '<zip>'): RoiSet {
  return { kind: 'roi-set', rois: unzipStored(bytes, source).filter((e) => e.name.toLowerCase().endsWith('.roi')).map((e) => decodeRoi(e.data, e.name.replace(/\.roi$/i, ''), `${source}: ${e.name}`)) };
}
