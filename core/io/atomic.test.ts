import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFocalError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic with chunks', () => {
  it('writes every chunk in order across several writev batches', async () => {
    // 3000 chunks of varying sizes (more than the 1024 buffers of one batch), some empty.
    const chunks = Array.from({ length: 3000 }, (_, i) => new Uint8Array(i % 7).fill(i % 251));
    const path = join(dir, 'many.bin');
    await writeFileAtomic(path, chunks);
    const expected = Buffer.concat(chunks);
    expect(Buffer.compare(await readFile(path), expected)).toBe(0);
  });

  it('writes chunks from a generator, and leaves the old file when the generator fails', async () => {
    const path = join(dir, 'gen.bin');
    function* ok(): Generator<Uint8Array> {
      for (let i = 0; i < 5; i++) yield new Uint8Array([i, i, i]);
    }
    await writeFileAtomic(path, ok());
    expect(Array.from(await readFile(path))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    function* bad(): Generator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('source failed');
    }
    await writeFile(path, 'old');
    const err = await writeFileAtomic(path, bad()).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_IO');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((n) => n.includes('focal-tmp'))).toEqual([]);
  });
});
