import { describe, expect, it } from 'vitest';
import { BlockCache } from './decode.js';

describe('BlockCache', () => {
  it('keeps what fits, least recently used out first', () => {
    const cache = new BlockCache(40);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, new Uint8Array(10));
    expect(cache.get('a')).toBeDefined(); // a is now the most recent
    cache.set('e', new Uint8Array(10));
    expect(cache.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd', 'e']) expect(cache.get(k), k).toBeDefined();
    cache.set('huge', new Uint8Array(41));
    expect(cache.get('huge')).toBeUndefined();
  });

  it('counts a block set twice (two reads that missed it at once) once, so it still holds as many blocks', () => {
    const cache = new BlockCache(40);
    const a = new Uint8Array(10);
    cache.set('a', a);
    cache.set('a', new Uint8Array(10));
    for (const k of ['b', 'c', 'd']) cache.set(k, new Uint8Array(10));
    for (const k of ['a', 'b', 'c', 'd']) expect(cache.get(k), k).toBeDefined();
    expect(cache.get('a')).not.toBe(a); // the later decode replaced it
  });
});
