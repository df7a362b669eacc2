/**
 * A region source kept on disk as it is computed: each block of `blockPx`² px of each plane is
 * computed once (through the source) and written into one scratch file; later reads of it come
 * from the file. For a source that is expensive to compute and read more than once (a mosaic
 * made by a network, then a count's passes over it), so that the later passes cost a file read.
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { allocate, bytesPerSample, type PixelArray } from '../data/dtype.js';
import { FocalError, throwIfAborted } from '../errors.js';
import { checkRegion, type RegionRequest, type RegionSource } from './lazy-image.js';

export interface DiskCachedSource extends RegionSource {
  /** Blocks computed so far (each counted once, whatever its planes). */
  readonly computedBlocks: number;
  /** Closes and removes the scratch file. */
  close(): Promise<void>;
}

/**
 * Wraps `src` (level 0) so that every block is computed once and then read from `file` (created,
 * replaced if present, removed by `close()`). A missing block is computed for every channel of
 * its z/t at once (a source that computes its channels together serves them from one pass).
 * Disk: the whole source's pixels, uncompressed.
 */
export async function diskCachedSource(src: RegionSource, file: string, blockPx = 512): Promise<DiskCachedSource> {
  if (!Number.isInteger(blockPx) || blockPx < 1) throw new FocalError('E_ARGUMENT', `blockPx must be a positive integer, got ${blockPx}`, { field: 'blockPx' });
  const { width: W, height: H, sizeC, sizeZ, sizeT, dtype } = src;
  const bps = bytesPerSample(dtype);
  const bx = Math.ceil(W / blockPx);
  const by = Math.ceil(H / blockPx);
  const blockBytes = blockPx * blockPx * bps;
  const fh: FileHandle = await open(file, 'w+');
  const done = new Uint8Array(bx * by * sizeZ * sizeT);
  const pending = new Map<number, Promise<void>>();
  let computed = 0;
  let closed = false;
  const offset = (c: number, z: number, t: number, i: number, j: number): number => ((((t * sizeZ + z) * sizeC + c) * by + j) * bx + i) * blockBytes;
  const rect = (i: number, j: number) => ({ x: i * blockPx, y: j * blockPx, w: Math.min(blockPx, W - i * blockPx), h: Math.min(blockPx, H - j * blockPx) });

  /** Block (i, j) of every channel at (z, t), computed and written unless it is already. */
  const ensure = (z: number, t: number, i: number, j: number, signal?: AbortSignal): Promise<void> => {
    const key = ((t * sizeZ + z) * by + j) * bx + i;
    if (done[key]) return Promise.resolve();
    let p = pending.get(key);
    if (!p) {
      p = (async () => {
        const r = rect(i, j);
        for (let c = 0; c < sizeC; c++) {
          throwIfAborted(signal);
          const data = await src.readRegion({ c, z, t, ...r }, { signal });
          await fh.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, offset(c, z, t, i, j));
        }
        done[key] = 1;
        computed++;
      })().finally(() => pending.delete(key));
      pending.set(key, p);
    }
    return p;
  };

  return {
    width: W,
    height: H,
    sizeC,
    sizeZ,
    sizeT,
    dtype,
    calibration: src.calibration,
    channelNames: src.channelNames,
    ...(src.rgb ? { rgb: true } : {}),
    get computedBlocks() {
      return computed;
    },
    async readRegion(region: RegionRequest, opts: { signal?: AbortSignal } = {}): Promise<PixelArray> {
      if (closed) throw new FocalError('E_ARGUMENT', `${file}: the disk cache is closed`, { file });
      const { c, z, t } = checkRegion({ ...src, levels: undefined }, { ...region, level: 0 }, file);
      if ((region.level ?? 0) !== 0) throw new FocalError('E_ARGUMENT', `${file}: a disk cache gives level 0 only`, { field: 'level' });
      const { x, y, w, h } = region;
      const out = allocate(dtype, w * h);
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      for (let j = Math.floor(y / blockPx); j * blockPx < y + h; j++) {
        for (let i = Math.floor(x / blockPx); i * blockPx < x + w; i++) {
          await ensure(z, t, i, j, opts.signal);
          const b = rect(i, j);
          const x0 = Math.max(x, b.x);
          const x1 = Math.min(x + w, b.x + b.w);
          const y0 = Math.max(y, b.y);
          const y1 = Math.min(y + h, b.y + b.h);
          const base = offset(c, z, t, i, j);
          // one read of the block's rows that the region needs, then its columns copied out
          const rows = Buffer.alloc((y1 - y0) * b.w * bps);
          await fh.read(rows, 0, rows.length, base + (y0 - b.y) * b.w * bps);
          for (let yy = y0; yy < y1; yy++) {
            const from = ((yy - y0) * b.w + (x0 - b.x)) * bps;
            bytes.set(rows.subarray(from, from + (x1 - x0) * bps), ((yy - y) * w + (x0 - x)) * bps);
          }
        }
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => undefined);
      await rm(file, { force: true });
    },
  };
}
