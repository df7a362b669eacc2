import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { encodePngPixels, encodePngPixelsAsync } from './png-encode.js';

describe('encodePngPixels', () => {
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

  it('round-trips every channel count at 8 and 16 bits through an independent decoder (fast-png)', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      for (const depth of [8, 16] as const) {
        for (const [width, height] of [[1, 1], [7, 3], [64, 33]]) {
          const n = width * height * channels;
          const data = depth === 8 ? new Uint8Array(n).map(() => Math.floor(rand() * 256)) : new Uint16Array(n).map(() => Math.floor(rand() * 65536));
          const png = decode(encodePngPixels({ width, height, data, channels, depth }));
          expect([png.width, png.height, png.channels, png.depth], `${channels} ch, ${depth} bit, ${width}×${height}`).toEqual([width, height, channels, depth]);
          expect(Array.from(png.data)).toEqual(Array.from(data));
        }
      }
    }
  });

  it('compresses a smooth image well (Sub filter) at any level', () => {
    const width = 256;
    const height = 256;
    const data = new Uint8Array(width * height * 3).map((_, i) => Math.floor(i / 3) % width);
    const sizes = [1, 6, 9].map((level) => encodePngPixels({ width, height, data, channels: 3 }, level).length);
    for (const s of sizes) expect(s).toBeLessThan(data.length / 50);
    expect(Array.from(decode(encodePngPixels({ width, height, data, channels: 3 }, 1)).data)).toEqual(Array.from(data));
  });

  it('the async variant (deflate off the thread) writes the same bytes', async () => {
    const data = new Uint8Array(40 * 30 * 3).map(() => Math.floor(rand() * 256));
    const image = { width: 40, height: 30, data, channels: 3 as const };
    expect(Array.from(await encodePngPixelsAsync(image))).toEqual(Array.from(encodePngPixels(image)));
    await expect(encodePngPixelsAsync({ ...image, width: 41 })).rejects.toThrow(/expected 41×30×3/);
  });

  it('refuses a sample count, size, channel count or depth that does not fit', () => {
    expect(() => encodePngPixels({ width: 2, height: 2, data: new Uint8Array(5), channels: 1 })).toThrow(/5 samples, expected 2×2×1 = 4/);
    expect(() => encodePngPixels({ width: 0, height: 2, data: new Uint8Array(0), channels: 1 })).toThrow(/positive integers/);
    expect(() => encodePngPixels({ width: 1, height: 1, data: new Uint8Array(5), channels: 5 as 4 })).toThrow(/channels must be 1–4/);
    expect(() => encodePngPixels({ width: 1, height: 1, data: new Uint8Array(1), channels: 1, depth: 16 })).toThrow(/Uint16Array/);
  });
});
