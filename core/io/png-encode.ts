/**
 * PNG encoding on Node's own zlib (native deflate). Focal decodes PNGs with fast-png, but
 * encodes them here: fast-png deflates in JavaScript (fflate) and filters no row, which took
 * 34 ms (warm) to 56–115 ms (first call of a process) for one 512² RGB figure of a run report,
 * against 4 ms for native deflate of Sub-filtered rows (docs/architecture.md). The tests decode
 * what this writes with fast-png.
 */
import { promisify } from 'node:util';
import { crc32, deflate, deflateSync } from 'node:zlib';
import { FocalError } from '../errors.js';

/** Pixels to encode: row-major, channels interleaved (grey, grey + alpha, RGB or RGBA). */
export interface PngPixels {
  width: number;
  height: number;
  /** width × height × channels samples: 8-bit in a Uint8Array (or clamped), 16-bit in a Uint16Array. */
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
  channels: 1 | 2 | 3 | 4;
  /** Bits per sample (default 8; 16 needs a Uint16Array). */
  depth?: 8 | 16;
}

const COLOUR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };
const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10);
const deflateAsync = promisify(deflate);

/** A PNG chunk: length, type, data, CRC-32 of type and data. */
function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** The checked image's rows as PNG scanlines: each behind its filter byte (Sub), samples big-endian. */
function scanlines(image: PngPixels): Uint8Array {
  const { width, height, data, channels } = image;
  const depth = image.depth ?? 8;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new FocalError('E_ARGUMENT', `PNG width and height must be positive integers, got ${width}×${height}`);
  }
  if (!(channels in COLOUR_TYPE)) throw new FocalError('E_ARGUMENT', `PNG channels must be 1–4, got ${channels}`);
  if (data.length !== width * height * channels) {
    throw new FocalError('E_ARGUMENT', `PNG data has ${data.length} samples, expected ${width}×${height}×${channels} = ${width * height * channels}`);
  }
  if (depth !== 8 && depth !== 16) throw new FocalError('E_ARGUMENT', `PNG depth must be 8 or 16, got ${depth}`);
  if (depth === 16 && !(data instanceof Uint16Array)) throw new FocalError('E_ARGUMENT', 'a 16-bit PNG needs its samples in a Uint16Array');
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    raw[o] = 1; // Sub: each byte minus the byte bpp to its left
    const row = raw.subarray(o + 1, o + 1 + stride);
    if (depth === 8) row.set(data.subarray(y * width * channels, (y + 1) * width * channels));
    else for (let i = 0, s = y * width * channels; i < width * channels; i++, s++) {
      row[2 * i] = data[s] >> 8;
      row[2 * i + 1] = data[s] & 0xff;
    }
    for (let i = stride - 1; i >= bpp; i--) row[i] = (row[i] - row[i - bpp]) & 0xff;
  }
  return raw;
}

function assemble(image: PngPixels, idat: Uint8Array): Uint8Array {
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, image.width);
  hv.setUint32(4, image.height);
  header[8] = image.depth ?? 8;
  header[9] = COLOUR_TYPE[image.channels];
  // compression 0 (deflate), filter method 0, no interlace
  const parts = [SIGNATURE, chunk('IHDR', header), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/**
 * Encodes pixels as a PNG file (every row with the Sub filter, deflate level `level`).
 *
 * @param image Width, height, samples, channels and depth.
 * @param level zlib level 0–9 (default 6).
 * @returns The PNG file's bytes.
 * @throws FocalError `E_ARGUMENT` for bad dimensions, a sample count that does not match, or a depth its array cannot hold.
 */
export function encodePngPixels(image: PngPixels, level = 6): Uint8Array {
  return assemble(image, bytes(deflateSync(scanlines(image), { level })));
}

/**
 * encodePngPixels with the deflate on libuv's thread pool, off the calling thread: for the
 * thousands of tiles of a slide's Deep Zoom pyramid.
 */
export async function encodePngPixelsAsync(image: PngPixels, level = 6): Promise<Uint8Array> {
  return assemble(image, bytes(await deflateAsync(scanlines(image), { level })));
}
