import { randomBytes } from 'node:crypto';
import { open, rename, unlink, mkdir, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FocalError } from '../errors.js';

/** The folder of `path` (created when asked) and a hidden, unique temporary name beside `path`. */
async function tempSibling(path: string, mkdirFirst?: boolean): Promise<{ dir: string; tmp: string }> {
  const dir = dirname(path);
  if (mkdirFirst) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError(`cannot create folder ${dir}`, dir, err);
    }
  }
  return { dir, tmp: join(dir, `.${basename(path)}.focal-tmp-${process.pid}-${randomBytes(4).toString('hex')}`) };
}

/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in the same
 * folder, are flushed to disk, and the temporary file is renamed over `path`.
 * A reader never sees a half-written file; on failure the temporary file is removed
 * and any previous file at `path` is left untouched. `data` may come in chunks (bytes, or text
 * written as UTF-8), so a large file is never one buffer or string.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string | Iterable<Uint8Array | string>, options: { mkdir?: boolean } = {}): Promise<void> {
  const { dir, tmp } = await tempSibling(path, options.mkdir);
  let handle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    throw ioError(`cannot write ${path}`, path, err);
  }
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else {
      // Chunks go out in batches through writev: one thread-pool round trip per batch
      // instead of one per chunk (see bench/io.ts for the effect on large stacks).
      let batch: Uint8Array[] = [];
      let bytes = 0;
      for (const piece of data) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        batch.push(chunk);
        bytes += chunk.byteLength;
        if (batch.length >= 1024 || bytes >= 64 * 1024 * 1024) {
          await writeAll(handle, batch, bytes);
          batch = [];
          bytes = 0;
        }
      }
      if (batch.length > 0) await writeAll(handle, batch, bytes);
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw ioError(`cannot write ${path}`, path, err);
  }
}

async function writeAll(handle: FileHandle, buffers: Uint8Array[], total: number): Promise<void> {
  let { bytesWritten } = await handle.writev(buffers);
  if (bytesWritten === total) return;
  // A short writev: write the rest chunk by chunk.
  for (const b of buffers) {
    if (bytesWritten >= b.byteLength) {
      bytesWritten -= b.byteLength;
      continue;
    }
    await handle.write(b.subarray(bytesWritten));
    bytesWritten = 0;
  }
}

function ioError(message: string, file: string, cause: unknown): FocalError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOENT' ? 'folder does not exist' : code === 'ENOSPC' ? 'disk full' : code === 'EROFS' ? 'read-only file system' : (cause as Error | undefined)?.message ?? String(cause);
  return new FocalError('E_IO', `${message}: ${reason}`, { file }, { cause });
}

/** A file being written under a temporary name beside its destination (see openAtomicFile). */
export interface AtomicFile {
  readonly path: string;
  readonly tmp: string;
  readonly handle: FileHandle;
  /** Flushes, closes and renames the temporary file over `path`. */
  commit(): Promise<void>;
  /** Closes and removes the temporary file; `path` is left as it was. Never throws. */
  abort(): Promise<void>;
}

/**
 * Opens a temporary file in `path`'s folder for random-access writing (large outputs written
 * piece by piece, e.g. the pyramid writer). `commit()` makes it appear at `path` atomically
 * (fsync + rename), `abort()` removes it. E_IO naming the file when it cannot be created.
 */
export async function openAtomicFile(path: string, options: { mkdir?: boolean } = {}): Promise<AtomicFile> {
  const { dir, tmp } = await tempSibling(path, options.mkdir);
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'wx');
  } catch (err) {
    throw ioError(`cannot write ${path}`, path, err);
  }
  let open_ = true;
  return {
    path,
    tmp,
    handle,
    async commit(): Promise<void> {
      try {
        await handle.sync();
        await handle.close();
        open_ = false;
        await rename(tmp, path);
      } catch (err) {
        if (open_) await handle.close().catch(() => undefined);
        open_ = false;
        await unlink(tmp).catch(() => undefined);
        throw ioError(`cannot write ${path}`, path, err);
      }
    },
    async abort(): Promise<void> {
      if (open_) await handle.close().catch(() => undefined);
      open_ = false;
      await unlink(tmp).catch(() => undefined);
    },
  };
}
