import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** Hex sha256 of a file's bytes, read as a stream (any size). Used for run.json inputs, model packages and watched datasets. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Identity of a folder's content (a dataset folder given as a pipeline input): every regular
 * file below it, in sorted relative-path order, as `<path>\0<sha256>\n` lines hashed together;
 * with their number and total bytes. Links and other non-regular entries are left out.
 */
export async function sha256Folder(dir: string): Promise<{ sha256: string; files: number; bytes: number }> {
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const paths = entries.map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/')).sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const p of paths) {
    bytes += (await stat(join(dir, p))).size;
    hash.update(`${p}\0${await sha256File(join(dir, p))}\n`);
  }
  return { sha256: hash.digest('hex'), files: paths.length, bytes };
}
