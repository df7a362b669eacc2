import { bytesPerSample, type PixelArray } from '../../data/dtype.js';
import { isImage, type Image } from '../../data/image.js';
import { planeCount, stackFromImage, type Stack } from '../../data/stack.js';
import { FocalError } from '../../errors.js';
import { writeFileAtomic } from '../atomic.js';
import { FieldType, Tag } from './ifd.js';
import { encodeImageJLabels, formatImageJDescription } from './imagej.js';
import { formatOmeXml } from './ome.js';
import { positive } from './units.js';

export interface WriteTiffOptions {
  /**
   * Force BigTIFF (true) or classic TIFF (false). Default: BigTIFF only when the file
   * would exceed 4 GiB. ImageJ 1.x cannot open BigTIFF files.
   */
  bigTiff?: boolean;
  /** Create the output folder if it does not exist. */
  mkdir?: boolean;
  /** Write OME-TIFF: OME-XML (channel names, calibration; ome.ts formatOmeXml) as the ImageDescription instead of ImageJ's; `name` is the OME Image name. */
  ome?: boolean | { name?: string };
}

/** A TIFF file as a sequence of chunks (pixel data is not copied), with its total size. */
export interface EncodedTiff extends Iterable<Uint8Array> {
  readonly byteLength: number;
  readonly bigTiff: boolean;
  /** Concatenates the chunks (for small files and tests). */
  toBytes(): Uint8Array;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const CLASSIC_LIMIT = 2 ** 32 - 1;

export interface Entry {
  tag: number;
  type: number;
  /** Numbers (RATIONAL: [num, den, num, den, …]) or ASCII bytes (NUL included). */
  values: number[] | Uint8Array;
}

function typeSize(type: number): number {
  return type === FieldType.SHORT ? 2 : type === FieldType.LONG ? 4 : type === FieldType.RATIONAL ? 8 : type === FieldType.LONG8 ? 8 : 1;
}

function entryCount(e: Entry): number {
  return e.values instanceof Uint8Array ? e.values.length : e.type === FieldType.RATIONAL ? e.values.length / 2 : e.values.length;
}

function outOfLineBytes(e: Entry, bigTiff: boolean): number {
  const n = entryCount(e) * typeSize(e.type);
  const inline = bigTiff ? 8 : 4;
  return n <= inline ? 0 : n + (n & 1); // word-align values
}

/** Size of an IFD including its out-of-line values. */
export function ifdSize(entries: Entry[], bigTiff: boolean): number {
  const head = bigTiff ? 8 + entries.length * 20 + 8 : 2 + entries.length * 12 + 4;
  return head + entries.reduce((s, e) => s + outOfLineBytes(e, bigTiff), 0);
}

function writeValues(dv: DataView, pos: number, e: Entry): void {
  if (e.values instanceof Uint8Array) {
    new Uint8Array(dv.buffer, dv.byteOffset + pos, e.values.length).set(e.values);
    return;
  }
  const v = e.values;
  for (let i = 0; i < v.length; i++) {
    switch (e.type) {
      case FieldType.SHORT: dv.setUint16(pos + 2 * i, v[i], true); break;
      case FieldType.LONG: case FieldType.RATIONAL: dv.setUint32(pos + 4 * i, v[i], true); break;
      case FieldType.LONG8: dv.setBigUint64(pos + 8 * i, BigInt(v[i]), true); break;
      default: dv.setUint8(pos + i, v[i]);
    }
  }
}

/** Serialises an IFD placed at `at`, its out-of-line values right after it. */
export function encodeIfd(entries: Entry[], at: number, next: number, bigTiff: boolean): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const size = ifdSize(sorted, bigTiff);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  const es = bigTiff ? 20 : 12;
  const head = bigTiff ? 8 : 2;
  let extra = head + sorted.length * es + (bigTiff ? 8 : 4);
  if (bigTiff) dv.setBigUint64(0, BigInt(sorted.length), true);
  else dv.setUint16(0, sorted.length, true);
  sorted.forEach((e, i) => {
    const p = head + i * es;
    dv.setUint16(p, e.tag, true);
    dv.setUint16(p + 2, e.type, true);
    const count = entryCount(e);
    if (bigTiff) dv.setBigUint64(p + 4, BigInt(count), true);
    else dv.setUint32(p + 4, count, true);
    const valuePos = p + (bigTiff ? 12 : 8);
    if (outOfLineBytes(e, bigTiff) === 0) {
      writeValues(dv, valuePos, e);
    } else {
      if (bigTiff) dv.setBigUint64(valuePos, BigInt(at + extra), true);
      else dv.setUint32(valuePos, at + extra, true);
      writeValues(dv, extra, e);
      extra += outOfLineBytes(e, bigTiff);
    }
  });
  const np = head + sorted.length * es;
  if (bigTiff) dv.setBigUint64(np, BigInt(next), true);
  else dv.setUint32(np, next, true);
  return out;
}

/** Best rational approximation of x with numerator and denominator below 2^32 (continued fractions). */
export function toRational(x: number): [number, number] {
  if (!(x > 0) || !Number.isFinite(x)) return [0, 1];
  const max = 0xffffffff;
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let v = x;
  for (let i = 0; i < 64; i++) {
    const a = Math.floor(v);
    const h2 = a * h1 + h0;
    const k2 = a * k1 + k0;
    if (h2 > max || k2 > max) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    const frac = v - a;
    if (frac < 1e-12 || Math.abs(h1 / k1 - x) <= x * 1e-15) break;
    v = 1 / frac;
  }
  if (k1 === 0) return [Math.min(max, Math.round(x)), 1];
  return [h1, k1];
}

function planeBytes(p: PixelArray): Uint8Array {
  const u8 = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
  if (HOST_LE || p.BYTES_PER_ELEMENT === 1) return u8;
  const copy = u8.slice();
  const n = p.BYTES_PER_ELEMENT;
  for (let i = 0; i < copy.length; i += n) copy.subarray(i, i + n).reverse();
  return copy;
}

function rangeU16(a: Uint16Array, r: [number, number]): void {
  let lo = r[0];
  let hi = r[1];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  r[0] = lo;
  r[1] = hi;
}

function rangeF32(a: Float32Array, r: [number, number]): void {
  let lo = r[0];
  let hi = r[1];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) continue; // NaN, ±Infinity
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  r[0] = lo;
  r[1] = hi;
}

/** Finite min and max over all planes (ImageJ's display range), or undefined when there are none. */
function displayRange(planes: PixelArray[]): [number, number] | undefined {
  const r: [number, number] = [Infinity, -Infinity];
  for (const p of planes) {
    if (p instanceof Uint16Array) rangeU16(p, r);
    else if (p instanceof Float32Array) rangeF32(p, r);
  }
  return r[0] <= r[1] ? r : undefined;
}

function checkStack(stack: Stack): void {
  const n = stack.width * stack.height;
  if (stack.planes.length !== planeCount(stack)) {
    throw new FocalError('E_ARGUMENT', `stack has ${stack.planes.length} planes, expected ${planeCount(stack)}`);
  }
  const ctor = stack.dtype === 'uint8' ? Uint8Array : stack.dtype === 'uint16' ? Uint16Array : Float32Array;
  stack.planes.forEach((p, i) => {
    if (!(p instanceof ctor) || p.length !== n) throw new FocalError('E_ARGUMENT', `plane ${i} is not a ${stack.dtype} array of ${n} pixels`);
  });
  if (stack.rgb && (stack.dtype !== 'uint8' || stack.sizeC !== 3)) throw new FocalError('E_ARGUMENT', 'an RGB stack must be uint8 with 3 channels');
}

/**
 * Encodes a stack as a little-endian, uncompressed TIFF that ImageJ opens as a hyperstack:
 * one IFD per plane in XYCZT order (one per z/t position for RGB, chunky RGB samples),
 * an ImageJ ImageDescription in the first IFD, X/YResolution in pixels per µm with
 * ResolutionUnit none, SampleFormat 3 for float32. Like ImageJ's own files, all pixel data
 * is stored contiguously after the first IFD (ImageJ reads the planes of a stack it
 * recognises as one block), and the remaining IFDs follow the data.
 */
export function encodeTiff(value: Stack | Image, options: Pick<WriteTiffOptions, 'bigTiff' | 'ome'> = {}): EncodedTiff {
  const stack = isImage(value) ? stackFromImage(value) : value;
  checkStack(stack);
  const rgb = stack.rgb;
  const spp = rgb ? 3 : 1;
  const images = rgb ? stack.sizeZ * stack.sizeT : planeCount(stack);
  const bps = bytesPerSample(stack.dtype);
  const imageBytes = stack.width * stack.height * spp * bps;
  const cal = stack.calibration;
  const range = !rgb && stack.dtype !== 'uint8' ? displayRange(stack.planes) : undefined;
  const description = new TextEncoder().encode(
    (options.ome
      ? formatOmeXml(stack, typeof options.ome === 'object' ? options.ome.name : undefined)
      : formatImageJDescription({ sizeC: stack.sizeC, sizeZ: stack.sizeZ, sizeT: stack.sizeT, rgb, calibration: cal, min: range?.[0], max: range?.[1] })) + '\0',
  );
  // ImageJ flavour: channel names as slice labels (IJMetadata), one per plane, so Fiji shows them
  // (OME-TIFF carries them in its XML instead).
  const labels = !options.ome && !rgb && stack.channelNames.some((n) => n !== undefined && n !== '')
    ? encodeImageJLabels(Array.from({ length: planeCount(stack) }, (_, k) => stack.channelNames[k % stack.sizeC] ?? ''))
    : undefined;
  const pw = positive(cal.pixelWidthUm);
  const ph = positive(cal.pixelHeightUm) ?? pw;
  const pwx = pw ?? (ph !== undefined ? ph : undefined);

  const entriesFor = (first: boolean, stripOffset: number, bigTiff: boolean): Entry[] => {
    const off = bigTiff ? FieldType.LONG8 : FieldType.LONG;
    const e: Entry[] = [
      { tag: Tag.NewSubfileType, type: FieldType.LONG, values: [0] },
      { tag: Tag.ImageWidth, type: FieldType.LONG, values: [stack.width] },
      { tag: Tag.ImageLength, type: FieldType.LONG, values: [stack.height] },
      { tag: Tag.BitsPerSample, type: FieldType.SHORT, values: Array(spp).fill(bps * 8) },
      { tag: Tag.Compression, type: FieldType.SHORT, values: [1] },
      { tag: Tag.Photometric, type: FieldType.SHORT, values: [rgb ? 2 : 1] },
      { tag: Tag.StripOffsets, type: off, values: [stripOffset] },
      { tag: Tag.SamplesPerPixel, type: FieldType.SHORT, values: [spp] },
      { tag: Tag.RowsPerStrip, type: FieldType.LONG, values: [stack.height] },
      { tag: Tag.StripByteCounts, type: off, values: [imageBytes] },
      { tag: Tag.PlanarConfiguration, type: FieldType.SHORT, values: [1] },
      { tag: Tag.SampleFormat, type: FieldType.SHORT, values: Array(spp).fill(stack.dtype === 'float32' ? 3 : 1) },
    ];
    if (first) e.push({ tag: Tag.ImageDescription, type: FieldType.ASCII, values: description });
    if (first && labels) {
      e.push({ tag: Tag.IJMetadataByteCounts, type: FieldType.LONG, values: labels.byteCounts }, { tag: Tag.IJMetadata, type: FieldType.BYTE, values: labels.data });
    }
    if (pwx !== undefined && ph !== undefined) {
      e.push(
        { tag: Tag.XResolution, type: FieldType.RATIONAL, values: toRational(1 / pwx) },
        { tag: Tag.YResolution, type: FieldType.RATIONAL, values: toRational(1 / ph) },
        { tag: Tag.ResolutionUnit, type: FieldType.SHORT, values: [1] },
      );
    }
    return e;
  };

  const layout = (bigTiff: boolean): { header: number; ifd0: number; ifdN: number; data: number; total: number } => {
    const header = bigTiff ? 16 : 8;
    const ifd0 = ifdSize(entriesFor(true, 0, bigTiff), bigTiff);
    const ifdN = ifdSize(entriesFor(false, 0, bigTiff), bigTiff);
    const data = header + ifd0;
    const total = data + images * imageBytes + (images - 1) * ifdN;
    return { header, ifd0, ifdN, data, total };
  };
  let bigTiff = options.bigTiff ?? false;
  let L = layout(bigTiff);
  if (options.bigTiff === undefined && L.total > CLASSIC_LIMIT) {
    bigTiff = true;
    L = layout(true);
  }
  if (!bigTiff && L.total > CLASSIC_LIMIT) {
    throw new FocalError('E_ARGUMENT', `a classic TIFF cannot hold ${L.total} bytes; allow BigTIFF`);
  }
  const big = bigTiff;
  const { header: headerSize, ifdN, data: dataStart, total } = L;
  const afterData = dataStart + images * imageBytes;
  const ifdOffset = (k: number): number => (k === 0 ? headerSize : afterData + (k - 1) * ifdN);

  function* chunks(): Generator<Uint8Array> {
    const head = new Uint8Array(headerSize);
    const dv = new DataView(head.buffer);
    head[0] = 0x49;
    head[1] = 0x49;
    if (big) {
      dv.setUint16(2, 43, true);
      dv.setUint16(4, 8, true);
      dv.setUint16(6, 0, true);
      dv.setBigUint64(8, BigInt(headerSize), true);
    } else {
      dv.setUint16(2, 42, true);
      dv.setUint32(4, headerSize, true);
    }
    yield head;
    yield encodeIfd(entriesFor(true, dataStart, big), headerSize, images > 1 ? ifdOffset(1) : 0, big);
    for (let k = 0; k < images; k++) {
      if (rgb) {
        const n = stack.width * stack.height;
        const [r, g, b] = [0, 1, 2].map((c) => stack.planes[c + k * 3]);
        const out = new Uint8Array(n * 3);
        for (let i = 0, j = 0; i < n; i++, j += 3) {
          out[j] = r[i];
          out[j + 1] = g[i];
          out[j + 2] = b[i];
        }
        yield out;
      } else {
        yield planeBytes(stack.planes[k]);
      }
    }
    // Trailing IFDs, batched into chunks of about 1 MiB.
    const batch: Uint8Array[] = [];
    let batchBytes = 0;
    for (let k = 1; k < images; k++) {
      const ifd = encodeIfd(entriesFor(false, dataStart + k * imageBytes, big), ifdOffset(k), k + 1 < images ? ifdOffset(k + 1) : 0, big);
      batch.push(ifd);
      batchBytes += ifd.length;
      if (batchBytes >= 1 << 20) {
        yield concat(batch, batchBytes);
        batch.length = 0;
        batchBytes = 0;
      }
    }
    if (batch.length > 0) yield concat(batch, batchBytes);
  }

  return {
    byteLength: total,
    bigTiff: big,
    [Symbol.iterator]: chunks,
    toBytes(): Uint8Array {
      return concat([...chunks()], total);
    },
  };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writes `value` as an ImageJ-compatible TIFF (see encodeTiff), atomically. E_IO when the file cannot be written. */
export async function writeTiff(path: string, value: Stack | Image, options: WriteTiffOptions = {}): Promise<void> {
  const encoded = encodeTiff(value, options);
  await writeFileAtomic(path, encoded, { mkdir: options.mkdir });
}
