import { constants as fsConstants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { FocalError } from '../../errors.js';

const BLOCK = 64 * 1024;

/**
 * Random-access reads from a file on disk. Small reads (IFDs, tag values) go through a
 * one-block cache; pixel data is read straight into the caller's buffer.
 * Every read is checked against the file size first, so a bad offset in a file gives
 * E_FORMAT instead of a short read or a huge allocation.
 */
export class FileSource {
  private cacheStart = -1;
  private cache: Uint8Array = new Uint8Array(0);

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  /**
   * Opens a regular file for reading. Anything else (a named pipe, socket, device, folder) is
   * E_IO naming the file, without blocking: the file is opened non-blocking (opening a FIFO
   * with no writer would wait forever) and its type checked on the open handle.
   */
  static async open(path: string): Promise<FileSource> {
    let handle: FileHandle;
    try {
      const nonBlock = fsConstants.O_NONBLOCK;
      if (nonBlock === undefined) {
        // no O_NONBLOCK (Windows): check the type first
        const before = await stat(path);
        if (!before.isFile()) throw notRegular(path, before);
      }
      handle = await open(path, nonBlock === undefined ? 'r' : fsConstants.O_RDONLY | nonBlock);
    } catch (err) {
      throw err instanceof FocalError ? err : openError(path, err);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw notRegular(path, st);
      return new FileSource(path, handle, st.size);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err instanceof FocalError ? err : openError(path, err);
    }
  }

  get name(): string {
    return basename(this.path);
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  /** Throws E_FORMAT unless [offset, offset + length) lies inside the file. */
  check(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new FocalError('E_FORMAT', `${this.path}: ${what} at byte ${offset} (${length} bytes) lies outside the file (${this.size} bytes); the file is truncated or corrupt`, { file: this.path });
    }
  }

  /** Reads a small range (metadata); the returned bytes may share memory with the cache and must not be kept. */
  async readSmall(offset: number, length: number, what: string): Promise<Uint8Array> {
    this.check(offset, length, what);
    if (length > BLOCK) return this.readNew(offset, length, what);
    if (this.cacheStart < 0 || offset < this.cacheStart || offset + length > this.cacheStart + this.cache.length) {
      const start = offset;
      const len = Math.min(BLOCK, this.size - start);
      const buf = new Uint8Array(len);
      await this.readInto(buf, start, what);
      this.cache = buf;
      this.cacheStart = start;
    }
    const rel = offset - this.cacheStart;
    return this.cache.subarray(rel, rel + length);
  }

  /** Reads a range into a new, 8-byte-aligned buffer. */
  async readNew(offset: number, length: number, what: string): Promise<Uint8Array> {
    this.check(offset, length, what);
    const buf = new Uint8Array(length);
    await this.readInto(buf, offset, what);
    return buf;
  }

  /** Fills `target` with the bytes at `offset`. */
  async readInto(target: Uint8Array, offset: number, what: string): Promise<void> {
    this.check(offset, target.byteLength, what);
    let done = 0;
    try {
      while (done < target.byteLength) {
        // Node limits a single read to 2 GiB.
        const n = Math.min(target.byteLength - done, 0x40000000);
        const { bytesRead } = await this.handle.read(target, done, n, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw new FocalError('E_IO', `${this.path}: cannot read ${what}: ${(err as Error).message}`, { file: this.path }, { cause: err });
    }
    if (done < target.byteLength) {
      throw new FocalError('E_FORMAT', `${this.path}: ${what} is cut short (file changed while reading?)`, { file: this.path });
    }
  }
}

function notRegular(path: string, st: Stats): FocalError {
  const kind = st.isFIFO()
    ? 'a named pipe (FIFO)'
    : st.isSocket()
      ? 'a socket'
      : st.isCharacterDevice() || st.isBlockDevice()
        ? 'a device'
        : st.isDirectory()
          ? 'a folder'
          : 'something other than a file';
  return new FocalError('E_IO', `cannot open ${path}: it is ${kind}, not a regular file; Focal reads only regular files`, { file: path });
}

function openError(path: string, err: unknown): FocalError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT' ? 'file not found'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
        : code === 'EISDIR' ? 'is a folder, not a file'
          : (err as Error | undefined)?.message ?? String(err);
  return new FocalError('E_IO', `cannot open ${path}: ${reason}`, { file: path }, { cause: err });
}
