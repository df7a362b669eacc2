import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { diskCachedSource } from './disk-cache.js';
import type { RegionSource } from './lazy-image.js';

const dir = mkdtempSync(join(tmpdir(), 'focal-disk-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A computed 3-channel uint16 source (value = f(c, z, x, y)) that counts its reads. */
function source(W: number, H: number): { src: RegionSource; reads: () => number } {
  let reads = 0;
  return {
    src: {
      width: W, height: H, sizeC: 3, sizeZ: 2, sizeT: 1, dtype: 'uint16', calibration: {}, channelNames: ['a', 'b', 'c'],
      async readRegion(r) {
        reads++;
        const out = new Uint16Array(r.w * r.h);
        for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) out[y * r.w + x] = ((r.c ?? 0) * 10007 + (r.z ?? 0) * 7919 + (r.x + x) * 31 + (r.y + y) * 17) % 65536;
        return out;
      },
    },
    reads: () => reads,
  };
}

describe('diskCachedSource', () => {
  it('gives the source\'s pixels for any region; each block of each plane is computed once; close removes the file', async () => {
    const W = 150;
    const H = 90;
    const { src, reads } = source(W, H);
    const file = join(dir, 'a.bin');
    const cached = await diskCachedSource(src, file, 32);
    const regions = [{ x: 0, y: 0, w: W, h: H }, { x: 17, y: 5, w: 80, h: 71 }, { x: 149, y: 89, w: 1, h: 1 }, { x: 31, y: 31, w: 2, h: 2 }];
    for (const pass of [0, 1]) {
      for (const r of regions) {
        for (const [c, z] of [[0, 0], [2, 1], [1, 0]]) {
          const got = await cached.readRegion({ c, z, ...r });
          const want = await src.readRegion({ c, z, ...r });
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      }
      if (pass === 0) expect(cached.computedBlocks).toBe(5 * 3 * 2); // 5 × 3 blocks of 32 px, two z planes (every channel at once)
    }
    // the source was read for the comparisons above and once per block and channel, no more
    expect(reads()).toBe(2 * regions.length * 3 + 5 * 3 * 2 * 3);
    expect(existsSync(file)).toBe(true);
    await cached.close();
    expect(existsSync(file)).toBe(false);
    await expect(cached.readRegion({ x: 0, y: 0, w: 1, h: 1 })).rejects.toThrow(/closed/);
  });

  it('a cancelled read rejects with E_CANCELLED and leaves the block to be computed by the next read', async () => {
    const { src } = source(64, 64);
    const cached = await diskCachedSource(src, join(dir, 'b.bin'), 32);
    const stop = new AbortController();
    stop.abort();
    const err = await cached.readRegion({ x: 0, y: 0, w: 64, h: 64 }, { signal: stop.signal }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(cached.computedBlocks).toBe(0);
    expect((await cached.readRegion({ c: 1, x: 0, y: 0, w: 64, h: 64 })).length).toBe(64 * 64);
    expect(cached.computedBlocks).toBe(4);
    await cached.close();
  });
});
