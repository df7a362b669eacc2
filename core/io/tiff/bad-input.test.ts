import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isFocalError } from '../../errors.js';
import { mulberry32 } from '../../numeric/random.js';
import { readStructure } from './ifd.js';
import { inspectTiff, readTiff } from './read.js';
import { FileSource } from './source.js';

const fx = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-bad-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; file: unknown }> {
  try {
    await p;
  } catch (err) {
    if (!isFocalError(err)) throw new Error(`expected a FocalError, got ${String(err)}`, { cause: err });
    return { code: err.code, message: err.message, file: err.details.file };
  }
  throw new Error('expected the read to fail');
}

describe('files that are not readable TIFFs', () => {
  it('missing file → E_IO naming the file', async () => {
    const path = join(dir, 'nope.tif');
    const f = await failure(readTiff(path));
    expect(f).toMatchObject({ code: 'E_IO', file: path });
    expect(f.message).toContain('file not found');
    expect((await failure(inspectTiff(path))).code).toBe('E_IO');
  });

  it('a folder → E_IO', async () => {
    expect((await failure(readTiff(dir))).code).toBe('E_IO');
  });

  it('empty file → E_FORMAT', async () => {
    const path = join(dir, 'empty.tif');
    await writeFile(path, '');
    const f = await failure(readTiff(path));
    expect(f).toMatchObject({ code: 'E_FORMAT', file: path });
    expect(f.message).toMatch(/empty/);
  });

  it('text file → E_FORMAT', async () => {
    const path = join(dir, 'notes.tif');
    await writeFile(path, 'These are not the pixels you are looking for.\n'.repeat(20));
    const f = await failure(readTiff(path));
    expect(f).toMatchObject({ code: 'E_FORMAT', file: path });
    expect(f.message).toMatch(/not a TIFF/);
  });

  it.each(['tifffile_u16_z5.tif', 'tiffcp_lzw.tif', 'tiffcp_bigtiff.tif', 'imagej_16bit_c2z3t4.tif', 'ome_XYZCT.ome.tif', 'tiffcp_tiled_zip.tif'])('%s truncated at several offsets → E_FORMAT', async (name) => {
    const bytes = await readFile(fx(name));
    const cuts = [1, 4, 7, 8, 12, 16, 40, 200, bytes.length >> 2, bytes.length >> 1, bytes.length - 100, bytes.length - 20];
    for (const cut of cuts) {
      const path = join(dir, `cut-${cut}-${name}`);
      await writeFile(path, bytes.subarray(0, cut));
      const f = await failure(readTiff(path));
      expect(f.code, `${name} cut at ${cut}: ${f.message}`).toBe('E_FORMAT');
      expect(f.file).toBe(path);
    }
  });

  it.each([
    ['unsupported_complex64.tif', /complex 64-bit samples/],
    ['unsupported_int64.tif', /64-bit signed integer samples/],
    ['unsupported_float16.tif', /16-bit floating-point samples/],
  ])('%s → E_UNSUPPORTED naming the file and the feature', async (name, feature) => {
    const f = await failure(readTiff(fx(name)));
    expect(f.code).toBe('E_UNSUPPORTED');
    expect(f.message).toContain(name);
    expect(f.message).toMatch(feature);
    expect(f.file).toBe(fx(name));
    expect((await failure(inspectTiff(fx(name)))).code).toBe('E_UNSUPPORTED');
  });

  it('an unsupported compression → E_UNSUPPORTED', async () => {
    const bytes = new Uint8Array(await readFile(fx('tiffcp_lzw.tif')));
    await patchTag(bytes, 259, 7); // JPEG
    const path = join(dir, 'jpeg.tif');
    await writeFile(path, bytes);
    const f = await failure(readTiff(path));
    expect(f.code).toBe('E_UNSUPPORTED');
    expect(f.message).toMatch(/compression jpeg/);
  });

  it('an IFD chain that loops → E_FORMAT', async () => {
    const bytes = new Uint8Array(await readFile(fx('tifffile_u16_z5.tif')));
    const path = join(dir, 'loop.tif');
    await writeFile(path, bytes);
    const src = await FileSource.open(path);
    const st = await readStructure(src);
    await src.close();
    // Point the last IFD's next-IFD offset back at the first IFD.
    const last = st.pages[st.pages.length - 1];
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const n = dv.getUint16(last.offset, true);
    dv.setUint32(last.offset + 2 + n * 12, st.pages[0].offset, true);
    await writeFile(path, bytes);
    const f = await failure(readTiff(path));
    expect(f.code).toBe('E_FORMAT');
    expect(f.message).toMatch(/loops/);
  });

  it('absurd dimensions are rejected before allocating', async () => {
    const bytes = new Uint8Array(await readFile(fx('tiffcp_zip.tif')));
    await patchTag(bytes, 256, 0xfffffff0);
    await patchTag(bytes, 257, 0xfffffff0);
    const path = join(dir, 'huge.tif');
    await writeFile(path, bytes);
    const f = await failure(readTiff(path));
    expect(f.code).toBe('E_FORMAT');
  });
});

/** Overwrites the (inline SHORT or LONG) value of `tag` in every IFD of a little-endian classic TIFF. */
async function patchTag(bytes: Uint8Array, tag: number, value: number): Promise<void> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let ifd = dv.getUint32(4, true);
  const seen = new Set<number>();
  while (ifd !== 0 && !seen.has(ifd)) {
    seen.add(ifd);
    const n = dv.getUint16(ifd, true);
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + i * 12;
      if (dv.getUint16(e, true) === tag) {
        dv.setUint16(e + 2, 4, true); // LONG
        dv.setUint32(e + 4, 1, true);
        dv.setUint32(e + 8, value, true);
      }
    }
    ifd = dv.getUint32(ifd + 2 + n * 12, true);
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('fuzzing: mutated TIFFs resolve or fail with a FocalError, quickly', () => {
  const bases = ['tifffile_u16_z5.tif', 'tiffcp_lzw_pred.tif', 'tiffcp_tiled_zip.tif', 'tiffcp_bigtiff_tiled_lzw.tif', 'imagej_16bit_c2z3t4.tif', 'ome_XYZCT.ome.tif', 'tiffcp_packbits.tif', 'tiffcp_bigendian.tif'];
  const PER_FILE = 60;
  const TIME_LIMIT_MS = 2000;

  it(`${bases.length} files × ${PER_FILE} seeded mutations`, async () => {
    // geotiff's decoders log to the console on some corrupt input.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const outcomes: Record<string, number> = {};
    let slowest = 0;
    try {
      for (const [b, name] of bases.entries()) {
        const original = new Uint8Array(await readFile(fx(name)));
        const src = await FileSource.open(fx(name));
        const st = await readStructure(src);
        await src.close();
        const random = mulberry32(1234 + b); // seeded: every run tests the same mutations
        const pick = (n: number): number => Math.floor(random() * n);
        for (let m = 0; m < PER_FILE; m++) {
          let bytes = original.slice();
          const dv = new DataView(bytes.buffer);
          const kind = pick(5);
          if (kind === 0) {
            for (let k = 1 + pick(8); k > 0; k--) bytes[pick(bytes.length)] ^= 1 << pick(8);
          } else if (kind === 1) {
            bytes = bytes.slice(0, pick(bytes.length));
          } else {
            // Overwrite a field of a random IFD entry: type, count, or value/offset.
            const page = st.pages[pick(st.pages.length)];
            const big = st.bigTiff;
            const count = big ? Number(dv.getBigUint64(page.offset, st.littleEndian)) : dv.getUint16(page.offset, st.littleEndian);
            const e = page.offset + (big ? 8 : 2) + pick(count) * (big ? 20 : 12);
            const specials = [0, 1, 0xffffffff, 0x7fffffff, bytes.length, bytes.length - 1, bytes.length + 1, 65535, pick(0x100000000)];
            const v = specials[pick(specials.length)];
            if (kind === 2) dv.setUint16(e + 2, pick(20), st.littleEndian);
            else if (kind === 3) dv.setUint32(e + 4, v, st.littleEndian);
            else dv.setUint32(e + (big ? 12 : 8), v, st.littleEndian);
          }
          const path = join(dir, `fuzz-${b}-${m}.tif`);
          await writeFile(path, bytes);
          const before = sha(bytes);
          for (const fn of [readTiff, inspectTiff] as const) {
            const started = performance.now();
            let timer: NodeJS.Timeout | undefined;
            const outcome = await Promise.race([
              fn(path).then(
                () => 'ok',
                (err: unknown) => (isFocalError(err) ? err.code : `non-Focal error: ${String(err)}`),
              ),
              new Promise<string>((resolve) => {
                timer = setTimeout(() => resolve('timeout'), TIME_LIMIT_MS * 5);
              }),
            ]);
            clearTimeout(timer);
            const ms = performance.now() - started;
            slowest = Math.max(slowest, ms);
            expect(['ok', 'E_FORMAT', 'E_UNSUPPORTED', 'E_IO'], `${name} mutation ${m} (kind ${kind}) with ${fn.name}`).toContain(outcome);
            expect(ms, `${name} mutation ${m} with ${fn.name}`).toBeLessThan(TIME_LIMIT_MS);
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          }
          expect(sha(new Uint8Array(await readFile(path))), 'the reader must not modify its input').toBe(before);
          await rm(path);
        }
      }
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
    console.info(`fuzz outcomes: ${JSON.stringify(outcomes)}; slowest ${slowest.toFixed(0)} ms`);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(bases.length * PER_FILE * 2);
  });
});
