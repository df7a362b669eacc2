import { describe, expect, it } from 'vitest';
import { decodeLzw } from './lzw.js';

/** Packs codes MSB-first with the TIFF width rule (width grows when the next free code reaches 2^width − 1). */
function pack(codes: number[]): Uint8Array {
  const bits: number[] = [];
  let width = 9;
  let next = 258;
  let started = false;
  for (const code of codes) {
    for (let b = width - 1; b >= 0; b--) bits.push((code >> b) & 1);
    if (code === 256) {
      width = 9;
      next = 258;
      started = false;
      continue;
    }
    if (code === 257) break;
    if (started && next < 4096) next++;
    started = true;
    if (next >= (1 << width) - 1 && width < 12) width++;
  }
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    out[i >> 3] |= bit << (7 - (i & 7));
  });
  return out;
}

describe('decodeLzw', () => {
  it('decodes the KwKwK case and string codes', () => {
    // 'a', 'b' (adds 258 = "ab"), 258 → "ab" (adds 259 = "ba"), 260 = the next free code
    // (KwKwK: previous string + its first byte = "aba"), EOI.
    const data = pack([256, 97, 98, 258, 260, 257]);
    expect(new TextDecoder().decode(decodeLzw(data, 100))).toBe('abababa');
  });

  it('switches to 10-bit codes when the table reaches 511', () => {
    // 300 distinct pairs fill the table past 511; every code after that is 10 bits wide.
    const codes = [256];
    const expected: number[] = [];
    for (let i = 0; i < 300; i++) {
      codes.push(i % 256);
      expected.push(i % 256);
    }
    codes.push(257);
    expect(Array.from(decodeLzw(pack(codes), 1000))).toEqual(expected);
  });

  it('never writes more than maxBytes', () => {
    const codes = [256, 1, 258, 259, 260, 261, 262, 257];
    expect(decodeLzw(pack(codes), 10).length).toBe(10);
  });

  it('terminates on random data and on a full table without clear codes', () => {
    let seed = 42;
    const random = new Uint8Array(1 << 20).map(() => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
    const started = performance.now();
    for (let k = 0; k < 20; k++) {
      const slice = random.subarray(k * 50000, k * 50000 + 50000);
      try {
        expect(decodeLzw(slice, 1 << 22).length).toBeLessThanOrEqual(1 << 22);
      } catch (err) {
        expect((err as Error).message).toMatch(/LZW code/);
      }
    }
    // KwKwK codes only: the table fills to 4096 and stays full.
    const codes = [256, 65];
    for (let next = 258; next < 4096 + 500; next++) codes.push(Math.min(next, 4095));
    const out = decodeLzw(pack(codes), 1 << 24);
    expect(out.length).toBeGreaterThan(4000);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
