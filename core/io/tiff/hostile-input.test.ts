/**
 * Issue 25, "Reader: wrong pixels with exit 0": hand-built hostile TIFFs (each case a named
 * regression test) and a seeded fuzz of the bundled TIFFs (samples/*.tif, core/io/fixtures)
 * asserting no hang, only FocalErrors, nothing allocated beyond the budget, and no silent wrong
 * read for the targeted mutations.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isFocalError } from '../../errors.js';
import { mulberry32 } from '../../numeric/random.js';
import type { Stack } from '../../data/stack.js';
import { readStructure } from './ifd.js';
import { defaultReadBudget, inspectTiff, readTiff } from './read.js';
import { FileSource } from './source.js';

// ------------------------------------------------------------------ a TIFF builder

/**
 * Builds small classic (little-endian) TIFFs entry by entry, wrong types and bad offsets
 * included. Layout: 8-byte header, `data` (its first byte at DATA_START), then each IFD
 * followed by its out-of-line values.
 */
const DATA_START = 8;

interface Entry {
  tag: number;
  /** TIFF field type: 1 BYTE, 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 7 UNDEFINED, 11 FLOAT, 12 DOUBLE, … */
  type: number;
  values?: number[];
  text?: string;
}

const SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8 };

function encode(e: Entry): Uint8Array {
  if (e.type === 2) return new TextEncoder().encode(`${e.text ?? ''}\0`);
  const vals = e.values ?? [];
  const out = new Uint8Array(vals.length * SIZE[e.type]);
  const dv = new DataView(out.buffer);
  vals.forEach((v, i) => {
    const p = i * SIZE[e.type];
    switch (e.type) {
      case 1: case 7: out[p] = v; break;
      case 6: dv.setInt8(p, v); break;
      case 3: dv.setUint16(p, v, true); break;
      case 8: dv.setInt16(p, v, true); break;
      case 4: case 13: dv.setUint32(p, v, true); break;
      case 9: dv.setInt32(p, v, true); break;
      case 5: dv.setUint32(p, v, true); dv.setUint32(p + 4, 1, true); break;
      case 10: dv.setInt32(p, v, true); dv.setInt32(p + 4, 1, true); break;
      case 11: dv.setFloat32(p, v, true); break;
      case 12: dv.setFloat64(p, v, true); break;
      case 16: dv.setBigUint64(p, BigInt(v), true); break;
      default: throw new Error(`type ${e.type}`);
    }
  });
  return out;
}

function buildTiff(ifds: Entry[][], data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const parts: Uint8Array[] = [];
  let pos = DATA_START + data.length;
  pos += pos & 1;
  const firstIfd = pos;
  for (let k = 0; k < ifds.length; k++) {
    const entries = [...ifds[k]].sort((a, b) => a.tag - b.tag);
    const ifdLen = 2 + entries.length * 12 + 4;
    const ifd = new Uint8Array(ifdLen);
    const dv = new DataView(ifd.buffer);
    dv.setUint16(0, entries.length, true);
    const extra: Uint8Array[] = [];
    let extraPos = pos + ifdLen;
    entries.forEach((e, i) => {
      const bytes = encode(e);
      const at = 2 + i * 12;
      dv.setUint16(at, e.tag, true);
      dv.setUint16(at + 2, e.type, true);
      dv.setUint32(at + 4, e.type === 2 ? bytes.length : (e.values ?? []).length, true);
      if (bytes.length <= 4) {
        ifd.set(bytes, at + 8);
      } else {
        dv.setUint32(at + 8, extraPos, true);
        const padded = new Uint8Array(bytes.length + (bytes.length & 1));
        padded.set(bytes);
        extra.push(padded);
        extraPos += padded.length;
      }
    });
    const next = k + 1 < ifds.length ? extraPos : 0;
    dv.setUint32(ifdLen - 4, next, true);
    parts.push(ifd, ...extra);
    pos = extraPos;
  }
  const out = new Uint8Array(pos);
  out.set([0x49, 0x49, 42, 0], 0);
  new DataView(out.buffer).setUint32(4, firstIfd, true);
  out.set(data, DATA_START);
  let p = firstIfd;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Entries of an uncompressed 8-bit grayscale page in strips; `more` are added or replace tags of the same number. */
function grayPage(width: number, height: number, rowsPerStrip: number, offsets: number[], counts: number[] | undefined, more: Entry[] = []): Entry[] {
  const base: Entry[] = [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: [8] },
    { tag: 259, type: 3, values: [1] },
    { tag: 262, type: 3, values: [1] },
    { tag: 273, type: 4, values: offsets },
    { tag: 277, type: 3, values: [1] },
    { tag: 278, type: 4, values: [rowsPerStrip] },
    ...(counts ? [{ tag: 279, type: 4, values: counts }] : []),
  ];
  const tags = new Set(more.map((e) => e.tag));
  return [...base.filter((e) => !tags.has(e.tag)), ...more];
}

// ------------------------------------------------------------------ helpers

const fx = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const sample = (name: string): string => fileURLToPath(new URL(`../../../samples/${name}`, import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-hostile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Failure {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    if (!isFocalError(err)) throw new Error(`expected a FocalError, got ${String(err)}`, { cause: err });
    return { code: err.code, message: err.message, details: err.details };
  }
  throw new Error('expected the read to fail');
}

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** 4×4 8-bit pixels 1..16, in two strips of two rows. */
const PIXELS = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

/** Expects readTiff and inspectTiff both to refuse `path` with E_FORMAT naming the file and `tag`. */
async function refusedNaming(path: string, tag: string, text: RegExp): Promise<void> {
  for (const fn of [readTiff, inspectTiff]) {
    const f = await failure(fn(path));
    expect(f.code, f.message).toBe('E_FORMAT');
    expect(f.details.file).toBe(path);
    expect(f.details.tag).toBe(tag);
    expect(f.message).toContain(path);
    expect(f.message).toContain(tag);
    expect(f.message).toMatch(text);
  }
}

describe('reader: no wrong pixels with exit 0 (issue 25)', () => {
  it('control: the hand-built file reads back its pixels', async () => {
    const path = await put('good.tif', buildTiff([grayPage(4, 4, 2, [DATA_START, DATA_START + 8], [8, 8])], PIXELS));
    const s = await readTiff(path);
    expect([...s.planes[0]]).toEqual([...PIXELS]);
  });

  it('a StripByteCounts entry of 0 for a strip that holds pixels → E_FORMAT naming the file and StripByteCounts', async () => {
    const path = await put('zero-count.tif', buildTiff([grayPage(4, 4, 2, [DATA_START, DATA_START + 8], [8, 0])], PIXELS));
    await refusedNaming(path, 'StripByteCounts', /strip 1 0 bytes/);
  });

  it('a TileByteCounts entry of 0 → E_FORMAT naming TileByteCounts', async () => {
    const tiles = new Uint8Array(2 * 16 * 16).fill(7);
    const page = grayPage(32, 16, 16, [], undefined, [
      { tag: 322, type: 3, values: [16] },
      { tag: 323, type: 3, values: [16] },
      { tag: 324, type: 4, values: [DATA_START, DATA_START + 256] },
      { tag: 325, type: 4, values: [0, 256] },
    ]).filter((e) => e.tag !== 273 && e.tag !== 278);
    const path = await put('zero-tile.tif', buildTiff([page], tiles));
    await refusedNaming(path, 'TileByteCounts', /tile 0 0 bytes/);
  });

  it('an uncompressed StripByteCounts entry smaller than its strip → E_FORMAT naming StripByteCounts', async () => {
    const path = await put('short-count.tif', buildTiff([grayPage(4, 4, 2, [DATA_START, DATA_START + 8], [8, 3])], PIXELS));
    await refusedNaming(path, 'StripByteCounts', /3 bytes but its pixels take 8/);
  });

  it.each([
    ['0', 0, /inside the 8-byte TIFF header/],
    ['inside the header', 4, /inside the 8-byte TIFF header/],
    ['past the end of the file', 100_000, /outside the file/],
  ])('a StripOffsets entry %s → E_FORMAT naming StripOffsets', async (label, offset, text) => {
    const path = await put(`offset-${offset}.tif`, buildTiff([grayPage(4, 4, 2, [DATA_START, offset], [8, 8])], PIXELS));
    await refusedNaming(path, 'StripOffsets', text);
  });

  it('a StripOffsets entry pointing at an image directory → E_FORMAT naming StripOffsets', async () => {
    // the IFD follows the 16 pixel bytes: strip 1 at byte DATA_START + 16 reads the IFD's entries as pixels
    const path = await put('offset-ifd.tif', buildTiff([grayPage(4, 4, 2, [DATA_START, DATA_START + 16], [8, 8])], PIXELS));
    await refusedNaming(path, 'StripOffsets', /strip 1 of IFD 0 \(bytes 24–31\) and the directory of IFD 0 .* over the same bytes/);
  });

  it.each([
    [273, 'StripOffsets', 2, 'ASCII'],
    [273, 'StripOffsets', 5, 'RATIONAL'],
    [273, 'StripOffsets', 11, 'FLOAT'],
    [279, 'StripByteCounts', 5, 'RATIONAL'],
    [279, 'StripByteCounts', 2, 'ASCII'],
    [257, 'ImageLength', 12, 'DOUBLE'],
  ])('tag %i (%s) of field type %i → E_FORMAT naming the tag and the type', async (tag, name, type, typeName) => {
    const values = tag === 273 ? [DATA_START, DATA_START + 8] : tag === 279 ? [8, 8] : [4];
    const entry = type === 2 ? { tag, type, text: values.map((v) => String.fromCharCode(v)).join('') } : { tag, type, values };
    const path = await put(`type-${tag}-${type}.tif`, buildTiff([grayPage(4, 4, 2, [DATA_START, DATA_START + 8], [8, 8], [entry])], PIXELS));
    for (const fn of [readTiff, inspectTiff]) {
      const f = await failure(fn(path));
      expect(f.code).toBe('E_FORMAT');
      expect(f.details).toMatchObject({ file: path, tag: name });
      expect(f.message).toContain(path);
      expect(f.message).toContain(`${name} (${tag}) has field type ${typeName}`);
    }
  });

  /** 30 pages of 4×4 8-bit, page k filled with k + 1, under `description`. */
  async function imageJ30(name: string, description: string): Promise<string> {
    const data = new Uint8Array(30 * 16);
    for (let k = 0; k < 30; k++) data.fill(k + 1, k * 16, (k + 1) * 16);
    const pages = Array.from({ length: 30 }, (_, k) => grayPage(4, 4, 4, [DATA_START + k * 16], [16], k === 0 ? [{ tag: 270, type: 2, text: description }] : []));
    return put(name, buildTiff(pages, data));
  }

  it('control: a valid ImageJ hyperstack description of 30 pages reads as c=2, z=3, t=5 without a warning', async () => {
    const path = await imageJ30('ij-good.tif', 'ImageJ=1.53t\nimages=30\nchannels=2\nslices=3\nframes=5\nhyperstack=true\n');
    const warnings: string[] = [];
    const s = await readTiff(path, { onWarning: (m) => warnings.push(m) });
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([2, 3, 5]);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['garbage images=', 'ImageJ=1.53t\nimages=thirty\nslices=30\n', /images="thirty" is not a positive whole number/],
    ['negative images=', 'ImageJ=1.53t\nimages=-30\nslices=30\n', /images="-30" is not a positive whole number/],
    ['zero slices=', 'ImageJ=1.53t\nimages=30\nslices=0\n', /slices="0" is not a positive whole number/],
    ['garbage channels=', 'ImageJ=1.53t\nimages=30\nchannels=2x\nslices=15\n', /channels="2x"/],
    ['negative frames=', 'ImageJ=1.53t\nimages=30\nframes=-5\nslices=6\n', /frames="-5"/],
    ['product ≠ images', 'ImageJ=1.53t\nimages=30\nchannels=2\nslices=3\nframes=4\n', /2 × 3 × 4 = 24, but images=30/],
    ['fewer images than pages', 'ImageJ=1.53t\nimages=1\n', /images=1 but the file has 30 pages/],
    ['no images= at all', 'ImageJ=1.53t\nunit=micron\n', /images=1 \(implied\) but the file has 30 pages/],
  ])('an ImageJ description with %s: every one of the 30 pages is read, with a warning that says so', async (label, description, why) => {
    const path = await imageJ30(`ij-${label.replace(/\W+/g, '-')}.tif`, description);
    const warnings: string[] = [];
    const s = await readTiff(path, { onWarning: (m) => warnings.push(m) });
    expect([s.sizeC, s.sizeZ, s.sizeT]).toEqual([1, 30, 1]);
    for (let k = 0; k < 30; k++) expect(s.planes[k][0], `plane ${k}`).toBe(k + 1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ImageJ description's sizes cannot be trusted/);
    expect(warnings[0]).toMatch(why);
    expect(warnings[0]).toMatch(/read all 30 pages as z slices/);
    const info = await inspectTiff(path);
    expect([info.sizeZ, info.format]).toEqual([30, 'imagej']);
    expect(info.warnings).toEqual(warnings);
  });
});

describe('reader: declared sizes checked against the file and a memory budget before allocating (issue 25)', () => {
  const growth = (before: NodeJS.MemoryUsage): number => {
    const now = process.memoryUsage();
    return Math.max(now.arrayBuffers - before.arrayBuffers, now.rss - before.rss);
  };

  /** `n` IFDs of 4096×4096 8-bit, each one strip at `offset` (all sharing it). */
  function sharedStrip(n: number, offset: number, data?: Uint8Array): Uint8Array {
    const page = grayPage(4096, 4096, 4096, [offset], [4096 * 4096]);
    return buildTiff(Array.from({ length: n }, () => page), data);
  }

  it('a 16 MB file with 2 000 IFDs sharing one strip → E_FORMAT naming the file and StripOffsets, nothing allocated', async () => {
    const path = await put('shared-2000.tif', sharedStrip(2000, DATA_START, new Uint8Array(4096 * 4096)));
    const before = process.memoryUsage();
    for (const fn of [readTiff, inspectTiff]) {
      const f = await failure(fn(path));
      expect(f.code).toBe('E_FORMAT');
      expect(f.details).toMatchObject({ file: path, tag: 'StripOffsets' });
      expect(f.message).toMatch(/must not overlap/);
    }
    expect(growth(before)).toBeLessThan(512 * 2 ** 20);
  });

  it('near-empty sparse files built the same way (strips in a hole, one shared StripOffsets table) are refused', async () => {
    // 2 000 IFDs sharing one 16 MiB strip that lies in a hole: a few hundred KB on disk.
    const a = await put('sparse-shared.tif', sharedStrip(2000, 1 << 20));
    await truncate(a, (1 << 20) + 4096 * 4096);
    // 2 000 IFDs whose StripOffsets all point at one table of 1 M offsets (rows of a 1 M-row image).
    const rows = 1 << 20;
    const table = new Uint8Array(rows * 4);
    const page: Entry[] = grayPage(1, rows, 1, [], undefined).filter((e) => e.tag !== 273);
    const ifds = Array.from({ length: 2000 }, () => [...page, { tag: 273, type: 4, values: [0] }]);
    const bytes = buildTiff(ifds, table);
    // point every IFD's StripOffsets (count 1 M) at the table at DATA_START
    const dv = new DataView(bytes.buffer);
    let ifd = dv.getUint32(4, true);
    while (ifd !== 0) {
      const n = dv.getUint16(ifd, true);
      for (let i = 0; i < n; i++) {
        const e = ifd + 2 + i * 12;
        if (dv.getUint16(e, true) === 273) {
          dv.setUint32(e + 4, rows, true);
          dv.setUint32(e + 8, DATA_START, true);
        }
      }
      ifd = dv.getUint32(ifd + 2 + n * 12, true);
    }
    const b = await put('shared-table.tif', bytes);
    const before = process.memoryUsage();
    const fa = await failure(readTiff(a));
    expect(fa.code).toBe('E_FORMAT');
    expect(fa.details).toMatchObject({ file: a, tag: 'StripOffsets' });
    const fb = await failure(readTiff(b));
    expect(fb.code).toBe('E_FORMAT');
    expect(fb.details.file).toBe(b);
    expect(fb.message).toMatch(/tag values add up to more than the file's \d+ bytes can hold/);
    expect(fb.message).toContain('StripOffsets');
    expect(growth(before)).toBeLessThan(512 * 2 ** 20);
  });

  it('a stack over the budget (ReadTiffOptions.maxBytes) is refused before allocating; inspectTiff warns', async () => {
    // 64 distinct 16 MiB planes in a sparse 1 GiB file: consistent, but 1 GiB of planes.
    const n = 64;
    const plane = 4096 * 4096;
    const pages = Array.from({ length: n }, (_, k) => grayPage(4096, 4096, 4096, [(1 << 20) + k * plane], [plane]));
    const path = await put('sparse-big.tif', buildTiff(pages));
    await truncate(path, (1 << 20) + n * plane);
    const before = process.memoryUsage();
    const f = await failure(readTiff(path, { maxBytes: 256 * 2 ** 20 }));
    expect(f.code).toBe('E_UNSUPPORTED');
    expect(f.details.file).toBe(path);
    expect(f.message).toContain(path);
    expect(f.message).toMatch(/64 planes of 4096×4096 uint8\) needs about 1\.\d GiB of memory, more than the read's budget of 256\.0 MiB/);
    expect(growth(before)).toBeLessThan(200 * 2 ** 20);
    const info = await inspectTiff(path, { maxBytes: 256 * 2 ** 20 });
    expect(info.sizeZ).toBe(n);
    expect(info.warnings.some((w) => /reading it would fail: .* budget of 256\.0 MiB/.test(w))).toBe(true);
  });

  it("the default budget is half the machine's memory: a sparse file declaring more is refused quickly", async () => {
    expect(defaultReadBudget()).toBe(Math.floor(totalmem() / 2));
    // planes of 40 000² 8-bit (1.6 GB each) in distinct places of a sparse file, in all more than the budget
    const side = 40_000;
    const plane = side * side;
    const n = Math.ceil(defaultReadBudget() / plane) + 1;
    // offsets past 4 GiB: LONG8 (which Focal accepts in a classic TIFF too)
    const pages = Array.from({ length: n }, (_, k) => grayPage(side, side, side, [], [plane], [{ tag: 273, type: 16, values: [(1 << 20) + k * plane] }]));
    const path = await put('sparse-default.tif', buildTiff(pages));
    await truncate(path, (1 << 20) + n * plane);
    const before = process.memoryUsage();
    const f = await failure(readTiff(path));
    expect(f.code).toBe('E_UNSUPPORTED');
    expect(f.details.file).toBe(path);
    expect(f.message).toMatch(/more than the read's budget/);
    expect(growth(before)).toBeLessThan(200 * 2 ** 20);
  });

  it('the large-file ImageJ layout (one IFD, planes after it) is checked against the budget before its planes are listed', async () => {
    const plane = 4096 * 4096;
    const n = 1000;
    const page = grayPage(4096, 4096, 4096, [1 << 20], [plane], [{ tag: 270, type: 2, text: `ImageJ=1.53t\nimages=${n}\nslices=${n}\n` }]);
    const path = await put('ij-large-file.tif', buildTiff([page]));
    await truncate(path, (1 << 20) + n * plane);
    const f = await failure(readTiff(path, { maxBytes: 2 ** 30 }));
    expect(f.code).toBe('E_UNSUPPORTED');
    expect(f.message).toMatch(/ImageJ stack of 1000 planes of 4096×4096 needs about 15\.6 GiB/);
  });
});

describe('reader: only regular files are opened (issue 25)', () => {
  it('a named pipe (FIFO) called .tif → E_IO naming the file, without waiting for a writer', async () => {
    const path = join(dir, 'pipe.tif');
    execFileSync('mkfifo', [path]);
    for (const fn of [readTiff, inspectTiff]) {
      const f = await failure(fn(path));
      expect(f.code).toBe('E_IO');
      expect(f.details.file).toBe(path);
      expect(f.message).toContain(path);
      expect(f.message).toMatch(/named pipe \(FIFO\), not a regular file/);
    }
  });

  it('a character device → E_IO', async () => {
    const f = await failure(readTiff('/dev/zero'));
    expect(f.code).toBe('E_IO');
    expect(f.message).toMatch(/a device, not a regular file/);
  });
});

// ------------------------------------------------------------------ fuzz

interface RawEntry {
  tag: number;
  type: number;
  count: number;
  /** Where the entry's type field is. */
  typePos: number;
  /** Where the values are (inline in the entry or out of line). */
  valuePos: number;
}

const TYPE_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

function rawEntries(bytes: Uint8Array, ifdOffset: number, le: boolean, big: boolean): RawEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = big ? Number(dv.getBigUint64(ifdOffset, le)) : dv.getUint16(ifdOffset, le);
  const out: RawEntry[] = [];
  for (let i = 0; i < n; i++) {
    const e = ifdOffset + (big ? 8 : 2) + i * (big ? 20 : 12);
    const type = dv.getUint16(e + 2, le);
    const count = big ? Number(dv.getBigUint64(e + 4, le)) : dv.getUint32(e + 4, le);
    const at = e + (big ? 12 : 8);
    const inline = count * (TYPE_BYTES[type] ?? 1) <= (big ? 8 : 4);
    const valuePos = inline ? at : big ? Number(dv.getBigUint64(at, le)) : dv.getUint32(at, le);
    out.push({ tag: dv.getUint16(e, le), type, count, typePos: e + 2, valuePos });
  }
  return out;
}

function writeUint(dv: DataView, pos: number, size: number, value: number, le: boolean): void {
  if (size === 2) dv.setUint16(pos, value & 0xffff, le);
  else if (size === 4) dv.setUint32(pos, value >>> 0, le);
  else if (size === 8) dv.setBigUint64(pos, BigInt(Math.max(0, Math.floor(value))), le);
  else dv.setUint8(pos, value & 0xff);
}

function readUint(dv: DataView, pos: number, size: number, le: boolean): number {
  return size === 2 ? dv.getUint16(pos, le) : size === 4 ? dv.getUint32(pos, le) : size === 8 ? Number(dv.getBigUint64(pos, le)) : dv.getUint8(pos);
}

function fingerprint(s: Stack): string {
  const h = createHash('sha256').update(JSON.stringify([s.width, s.height, s.sizeC, s.sizeZ, s.sizeT, s.dtype]));
  for (const p of s.planes) h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest('hex');
}

const stackBytes = (s: Stack): number => s.planes.reduce((a, p) => a + p.byteLength, 0);

describe('fuzz: seeded mutations of the bundled TIFFs (issue 25)', () => {
  const bases: [string, string][] = [
    ...['beads-zstack.tif', 'cells-deformed.tif', 'cells-zstack.tif', 'deepr-defocus-series.tif', 'deepr-specimens-heldout.tif', 'deepr-specimens-train.tif', 'deepr-specimens-validation.tif', 'he-tissue.tif'].map((n): [string, string] => [n, sample(n)]),
    ...[
      'tifffile_u16_z5.tif', 'tiffcp_lzw_pred.tif', 'tiffcp_tiled_zip.tif', 'tiffcp_bigtiff_tiled_lzw.tif', 'imagej_16bit_c2z3t4.tif', 'imagej_single_ifd.tif',
      'ome_XYZCT.ome.tif', 'tiffcp_packbits.tif', 'tiffcp_bigendian.tif', 'tiffcp_rgb_planar_packbits.tif', 'tifffile_imagej_hyperstack.tif', 'tiffcp_strips5.tif',
    ].map((n): [string, string] => [n, fx(n)]),
  ];
  const PER_FILE = 25;
  /** Every read runs under this budget: a successful read must not hold more. */
  const BUDGET = 64 * 2 ** 20;
  /** A read still unsettled after this long counts as a hang (a guard, not a speed requirement). */
  const HANG_MS = 30_000;
  const DATA_TAGS = new Set([273, 279, 324, 325]);
  const STRUCTURAL = new Set([256, 257, 258, 273, 277, 278, 279, 322, 323, 324, 325]);
  const NON_INTEGER_TYPES = [2, 5, 7, 10, 11, 12];

  it(`${bases.length} files × ${PER_FILE} seeded mutations: no hang, only FocalErrors, within the budget, no silent wrong read`, async () => {
    // geotiff's decoders log to the console on some corrupt input.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const outcomes: Record<string, number> = {};
    const rss0 = process.memoryUsage().rss;
    let peakGrowth = 0;
    try {
      for (const [b, [name, file]] of bases.entries()) {
        const original = new Uint8Array(await readFile(file));
        const reference = await readTiff(file, { maxBytes: BUDGET });
        const good = fingerprint(reference);
        const src = await FileSource.open(file);
        const st = await readStructure(src);
        await src.close();
        const le = st.littleEndian;
        const random = mulberry32(2500 + b); // seeded: every run tests the same mutations
        const pick = (n: number): number => Math.floor(random() * n);
        const text = new TextDecoder('latin1').decode(original);
        const ijFields = [...text.matchAll(/\n(images|channels|slices|frames)=(\d+)/g)];
        for (let m = 0; m < PER_FILE; m++) {
          const bytes = original.slice();
          const dv = new DataView(bytes.buffer);
          const page = st.pages[pick(st.pages.length)];
          const entries = rawEntries(bytes, page.offset, le, st.bigTiff);
          let kind = pick(6);
          if (kind === 5 && ijFields.length === 0) kind = 3;
          let targeted = false;
          let label = '';
          if (kind === 0) {
            for (let k = 1 + pick(8); k > 0; k--) bytes[pick(bytes.length)] ^= 1 << pick(8);
            label = 'bit flips';
          } else if (kind === 1) {
            const cut = pick(bytes.length);
            label = `cut at ${cut}`;
            await put(`fz-${b}-${m}.tif`, bytes.subarray(0, cut));
          } else if (kind === 2) {
            const e = entries[pick(entries.length)];
            const v = [0, 1, 0xffffffff, 0x7fffffff, bytes.length, 65535, pick(0x100000000)][pick(7)];
            dv.setUint32(e.typePos + 2 + (st.bigTiff ? 8 : 4), v, le);
            label = `tag ${e.tag} value/offset field = ${v}`;
          } else if (kind === 3) {
            // one StripOffsets / StripByteCounts / Tile… element: 0, inside the header, past the end, another block's offset, half the count
            const data = entries.filter((e) => DATA_TAGS.has(e.tag) && TYPE_BYTES[e.type] !== undefined);
            const e = data[pick(data.length)];
            const size = TYPE_BYTES[e.type];
            const i = pick(e.count);
            const pos = e.valuePos + i * size;
            const old = readUint(dv, pos, size, le);
            const isOffset = e.tag === 273 || e.tag === 324;
            const choices = isOffset ? [0, 1, 4, bytes.length, bytes.length - 1, st.pages[0].offsets[0]] : [0, 1, Math.floor(old / 2), 0xffffffff];
            const v = choices[pick(choices.length)];
            writeUint(dv, pos, size, v, le);
            targeted = true;
            label = `tag ${e.tag}[${i}] ${old} → ${v}`;
          } else if (kind === 4) {
            const s = entries.filter((e) => STRUCTURAL.has(e.tag));
            const e = s[pick(s.length)];
            const t = NON_INTEGER_TYPES[pick(NON_INTEGER_TYPES.length)];
            dv.setUint16(e.typePos, t, le);
            targeted = true;
            label = `tag ${e.tag} type ${e.type} → ${t}`;
          } else {
            // an ImageJ size field made garbage, negative or zero (same length, so nothing else moves)
            const f = ijFields[pick(ijFields.length)];
            const digits = f[2].length;
            const garbage = ['-'.repeat(digits), 'x'.repeat(digits), '0'.repeat(digits), digits > 1 ? `-${f[2].slice(1)}` : '0'][pick(4)];
            const at = f.index! + 1 + f[1].length + 1;
            for (let k = 0; k < digits; k++) bytes[at + k] = garbage.charCodeAt(k);
            targeted = true;
            label = `ImageJ ${f[1]}=${f[2]} → ${garbage}`;
          }
          const path = kind === 1 ? join(dir, `fz-${b}-${m}.tif`) : await put(`fz-${b}-${m}.tif`, bytes);
          const what = `${name} mutation ${m} (${label})`;
          for (const fn of ['read', 'inspect'] as const) {
            const warnings: string[] = [];
            let timer: NodeJS.Timeout | undefined;
            const run = fn === 'read' ? readTiff(path, { maxBytes: BUDGET, onWarning: (w) => warnings.push(w) }) : inspectTiff(path, { maxBytes: BUDGET });
            const result = await Promise.race([
              run.then(
                (v): { outcome: string; value: Stack | Awaited<ReturnType<typeof inspectTiff>> } => ({ outcome: 'ok', value: v }),
                (err: unknown) => ({ outcome: isFocalError(err) ? err.code : `non-Focal error: ${String(err)} ${(err as Error)?.stack ?? ''}`, value: undefined }),
              ),
              new Promise<{ outcome: string; value: undefined }>((resolve) => {
                timer = setTimeout(() => resolve({ outcome: 'hang', value: undefined }), HANG_MS);
              }),
            ]);
            clearTimeout(timer);
            expect(['ok', 'E_FORMAT', 'E_UNSUPPORTED', 'E_IO'], `${what} with ${fn}`).toContain(result.outcome);
            outcomes[`${fn} ${result.outcome}`] = (outcomes[`${fn} ${result.outcome}`] ?? 0) + 1;
            if (fn === 'read' && result.outcome === 'ok') {
              const s = result.value as Stack;
              expect(stackBytes(s), `${what}: the stack exceeds the budget`).toBeLessThanOrEqual(BUDGET);
              if (targeted && fingerprint(s) !== good) {
                // a targeted mutation may change the result only with a warning that says so
                expect(warnings.length, `${what}: pixels or sizes changed without an error or a warning`).toBeGreaterThan(0);
              }
            }
            peakGrowth = Math.max(peakGrowth, process.memoryUsage().rss - rss0);
          }
          await rm(path);
        }
      }
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
    console.info(`fuzz outcomes: ${JSON.stringify(outcomes)}; peak RSS growth ${(peakGrowth / 2 ** 20).toFixed(0)} MiB`);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(bases.length * PER_FILE * 2);
    // each read holds at most BUDGET; what the process keeps beyond that is garbage not yet collected
    expect(peakGrowth).toBeLessThan(1024 * 2 ** 20);
  });
});
