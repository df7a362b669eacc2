import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PixelArray } from '../data/dtype.js';
import { createStack, type Stack } from '../data/stack.js';
import { FocalError } from '../errors.js';

/**
 * Micro-Manager NDTiff (v2/v3) as the watcher needs it, written from the format description
 * in the NDStorage README: `NDTiff.index` is an append-only list of entries
 *
 *   u32 K, K bytes axes JSON ({"channel": 0 | "DAPI", "z": 3, "time": 1, "position": 0, …}),
 *   u32 N, N bytes file name, then eight u32: pixel offset, width, height, pixel type
 *   (0 uint8, 1 uint16, 2 RGB, 3/4/5/6 10/12/14/11-bit in uint16), pixel compression (0 only),
 *   metadata offset, metadata length, metadata compression
 *
 * (little-endian). Micro-Manager's writer memory-maps a pre-allocated, zero-filled index while
 * it acquires and truncates it to its entries when the dataset is closed (its readers warn
 * about zero padding as "not properly terminated"); so an index that ends exactly after its
 * last entry, and has stopped changing, is taken as closed. Planes are uncompressed at their
 * offset in the named file, in that file's TIFF byte order.
 */
export interface NdEntry {
  axes: Record<string, string | number>;
  file: string;
  offset: number;
  width: number;
  height: number;
  pixelType: number;
  compression: number;
}

export interface NdIndex {
  entries: NdEntry[];
  /** The file ends exactly after the last entry (no zero padding, no partly written entry). */
  exactEnd: boolean;
}

/** Parses the complete entries of an index (a trailing partly written entry is left for later). */
export function parseNdIndex(buf: Uint8Array, file = 'NDTiff.index'): NdIndex {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder();
  const entries: NdEntry[] = [];
  let pos = 0;
  while (pos + 4 <= buf.length) {
    const k = view.getUint32(pos, true);
    if (k === 0) return { entries, exactEnd: false }; // zero padding of a pre-allocated index
    if (pos + 4 + k + 4 > buf.length) break;
    let axes: Record<string, string | number>;
    try {
      axes = JSON.parse(dec.decode(buf.subarray(pos + 4, pos + 4 + k))) as Record<string, string | number>;
    } catch (err) {
      throw new FocalError('E_FORMAT', `${file}: entry ${entries.length + 1} has unreadable axes JSON (${(err as Error).message})`, { file });
    }
    let p = pos + 4 + k;
    const n = view.getUint32(p, true);
    if (p + 4 + n + 32 > buf.length) break;
    const name = dec.decode(buf.subarray(p + 4, p + 4 + n));
    p += 4 + n;
    const u = (i: number) => view.getUint32(p + 4 * i, true);
    entries.push({ axes, file: name, offset: u(0), width: u(1), height: u(2), pixelType: u(3), compression: u(4) });
    pos = p + 32;
  }
  return { entries, exactEnd: pos === buf.length };
}

/** The planes of one stack: every entry sharing the axes other than channel and z. */
export interface NdGroup {
  /** Axes other than channel and z, e.g. {time: 3, position: 0}. */
  axes: Record<string, string | number>;
  /** `time0003_position000`, or '' when there are no such axes. */
  label: string;
  entries: NdEntry[];
}

const STACK_AXES = new Set(['channel', 'z']);

/** Groups entries into stacks, in acquisition order. */
export function groupNdEntries(entries: NdEntry[]): NdGroup[] {
  const groups = new Map<string, NdGroup>();
  for (const e of entries) {
    const rest = Object.fromEntries(Object.entries(e.axes).filter(([k]) => !STACK_AXES.has(k)).sort(([a], [b]) => a.localeCompare(b)));
    const id = JSON.stringify(rest);
    let g = groups.get(id);
    if (!g) {
      const label = Object.entries(rest).map(([k, v]) => (typeof v === 'number' ? `${k}${String(v).padStart(k === 'time' ? 4 : 3, '0')}` : `${k}-${String(v).replace(/[^\w.-]+/g, '_')}`)).join('_');
      g = { axes: rest, label, entries: [] };
      groups.set(id, g);
    }
    g.entries.push(e);
  }
  return [...groups.values()];
}

/**
 * Which groups are complete: all once the index is closed; while it is open, a group whose
 * time point is earlier than the latest time point in the index (Micro-Manager acquires a time
 * point's channels, slices and positions before the next one starts). Without a time axis, a
 * group is complete only when the index is closed.
 */
export function completeNdGroups(index: NdIndex, closed: boolean): NdGroup[] {
  const groups = groupNdEntries(index.entries);
  if (closed) return groups;
  const times = index.entries.map((e) => e.axes.time).filter((t): t is number => typeof t === 'number');
  if (times.length === 0) return [];
  const latest = Math.max(...times);
  return groups.filter((g) => typeof g.axes.time === 'number' && g.axes.time < latest);
}

/**
 * Opens a regular file for reading without blocking: a named pipe (FIFO) would make a plain
 * open wait for a writer forever (and hang the watcher). Anything but a regular file is E_IO.
 */
async function openRegular(path: string): Promise<FileHandle> {
  const nonBlock = fsConstants.O_NONBLOCK;
  if (nonBlock === undefined && !(await stat(path)).isFile()) throw new FocalError('E_IO', `${path} is not a regular file`, { file: path });
  const fh = await open(path, nonBlock === undefined ? 'r' : fsConstants.O_RDONLY | nonBlock);
  if (!(await fh.stat()).isFile()) {
    await fh.close();
    throw new FocalError('E_IO', `${path} is not a regular file (a named pipe, socket or device); skipped`, { file: path });
  }
  return fh;
}

export async function readNdIndex(folder: string): Promise<NdIndex> {
  const file = join(folder, 'NDTiff.index');
  const fh = await openRegular(file);
  try {
    return parseNdIndex(await fh.readFile(), file);
  } finally {
    await fh.close();
  }
}

/** Output name of an NDTiff dataset folder (its parent for `Full resolution`). */
export function ndDatasetName(folder: string): string {
  return basename(folder) === 'Full resolution' ? basename(dirname(folder)) : basename(folder);
}

interface Summary {
  pixelSizeUm?: number;
  zStepUm?: number;
}

/** Summary metadata from an NDTiff file header (magic 483729, version, 2355492, length, JSON). */
async function readSummary(file: string): Promise<Summary> {
  const fh = await openRegular(file);
  try {
    const head = Buffer.alloc(24);
    await fh.read(head, 0, 24, 0);
    const le = head[0] === 0x49;
    const u32 = (o: number) => (le ? head.readUInt32LE(o) : head.readUInt32BE(o));
    if (u32(8) !== 483729 || u32(16) !== 2355492) return {};
    const len = u32(20);
    if (len > 16 * 2 ** 20) return {};
    const json = Buffer.alloc(len);
    await fh.read(json, 0, len, 24);
    const s = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
    return { pixelSizeUm: num(s.PixelSize_um), zStepUm: num(s['z-step_um']) };
  } catch {
    return {};
  } finally {
    await fh.close();
  }
}

/**
 * Reads one group as a stack (channels in order of first appearance, z ascending), with a
 * sha256 of its pixel bytes (the group's content identity).
 */
export async function readNdGroup(folder: string, group: NdGroup, signal?: AbortSignal): Promise<{ stack: Stack; sha256: string }> {
  const channels: (string | number)[] = [];
  const zs: number[] = [];
  for (const e of group.entries) {
    const c = e.axes.channel ?? 0;
    if (!channels.includes(c)) channels.push(c);
    const z = typeof e.axes.z === 'number' ? e.axes.z : 0;
    if (!zs.includes(z)) zs.push(z);
  }
  zs.sort((a, b) => a - b);
  const first = group.entries[0];
  const where = `${folder}${group.label ? ` (${group.label})` : ''}`;
  if (first.pixelType === 2) throw new FocalError('E_UNSUPPORTED', `${where}: RGB NDTiff planes are not supported`, { file: folder });
  if (first.pixelType > 6) throw new FocalError('E_FORMAT', `${where}: unknown NDTiff pixel type ${first.pixelType}`, { file: folder });
  const bytes = first.pixelType === 0 ? 1 : 2;
  const slots: (PixelArray | undefined)[] = new Array(channels.length * zs.length);
  const hash = createHash('sha256');
  const handles = new Map<string, { fh: Awaited<ReturnType<typeof open>>; le: boolean; size: number }>();
  try {
    for (const e of group.entries) {
      if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled');
      if (e.compression !== 0) throw new FocalError('E_UNSUPPORTED', `${where}: compressed NDTiff planes are not supported`, { file: folder });
      if (e.width !== first.width || e.height !== first.height || e.pixelType !== first.pixelType) {
        throw new FocalError('E_FORMAT', `${where}: planes differ in size or pixel type (${e.width}×${e.height} type ${e.pixelType} vs ${first.width}×${first.height} type ${first.pixelType})`, { file: folder });
      }
      let h = handles.get(e.file);
      if (!h) {
        const path = join(folder, basename(e.file)); // never leave the folder
        const fh = await openRegular(path);
        const head = Buffer.alloc(2);
        await fh.read(head, 0, 2, 0);
        h = { fh, le: head[0] === 0x49, size: (await stat(path)).size };
        handles.set(e.file, h);
      }
      const n = e.width * e.height;
      if (e.offset + n * bytes > h.size) throw new FocalError('E_FORMAT', `${where}: a plane lies beyond the end of ${e.file} (not written yet, or truncated)`, { file: join(folder, e.file) });
      const buf = Buffer.alloc(n * bytes);
      await h.fh.read(buf, 0, buf.length, e.offset);
      hash.update(buf);
      let plane: PixelArray;
      if (bytes === 1) plane = new Uint8Array(buf.buffer, buf.byteOffset, n).slice();
      else {
        const a = new Uint16Array(n);
        for (let i = 0; i < n; i++) a[i] = h.le ? buf.readUInt16LE(2 * i) : buf.readUInt16BE(2 * i);
        plane = a;
      }
      const c = channels.indexOf(e.axes.channel ?? 0);
      const z = zs.indexOf(typeof e.axes.z === 'number' ? e.axes.z : 0);
      slots[c + z * channels.length] = plane;
    }
  } finally {
    for (const h of handles.values()) await h.fh.close();
  }
  const missing = slots.filter((s) => s === undefined).length;
  if (missing > 0) throw new FocalError('E_FORMAT', `${where}: ${missing} of ${slots.length} planes of the ${channels.length} × ${zs.length} (c × z) grid are not in the index`, { file: folder });
  const stack = createStack({
    width: first.width,
    height: first.height,
    dtype: bytes === 1 ? 'uint8' : 'uint16',
    sizeC: channels.length,
    sizeZ: zs.length,
    planes: slots as PixelArray[],
    channelNames: channels.every((c) => typeof c === 'string') ? (channels as string[]) : [],
  });
  const summary = await readSummary(join(folder, basename(first.file)));
  if (summary.pixelSizeUm) {
    stack.calibration.pixelWidthUm = summary.pixelSizeUm;
    stack.calibration.pixelHeightUm = summary.pixelSizeUm;
  }
  if (summary.zStepUm && zs.length > 1) stack.calibration.zStepUm = summary.zStepUm;
  stack.metadata = { source: folder, format: 'ndtiff', axes: group.axes as Record<string, unknown> };
  return { stack, sha256: hash.digest('hex') };
}

/**
 * Reads a whole NDTiff dataset folder (the one holding `NDTiff.index`; for a pyramid, its
 * `Full resolution` folder) as one stack: channels × z of every time point, time points in
 * order as t. A dataset of several stage positions (or other axes besides channel, z and time)
 * is refused (E_UNSUPPORTED) naming them: `focal watch` takes each as a job of its own. An
 * index that is not closed (acquisition still running, or interrupted) is read as far as it
 * goes, with a warning.
 */
export async function readNdTiffDataset(folder: string, options: { signal?: AbortSignal; onWarning?: (message: string) => void } = {}): Promise<Stack> {
  const index = await readNdIndex(folder);
  if (index.entries.length === 0) throw new FocalError('E_FORMAT', `${join(folder, 'NDTiff.index')}: the index lists no planes`, { file: join(folder, 'NDTiff.index') });
  if (!index.exactEnd) options.onWarning?.(`${join(folder, 'NDTiff.index')} is not closed (the acquisition is running or was interrupted): reading the ${index.entries.length} planes it lists`);
  const groups = groupNdEntries(index.entries);
  const other = [...new Set(groups.flatMap((g) => Object.keys(g.axes)).filter((k) => k !== 'time'))];
  if (other.length > 0) {
    throw new FocalError('E_UNSUPPORTED', `${folder}: the dataset has axes besides channel, z and time (${other.join(', ')}; ${groups.length} stacks: ${groups.slice(0, 4).map((g) => g.label).join(', ')}${groups.length > 4 ? ', …' : ''}); focal watch processes each as a job of its own`, { file: folder });
  }
  groups.sort((a, b) => Number(a.axes.time ?? 0) - Number(b.axes.time ?? 0));
  const stacks: Stack[] = [];
  for (const g of groups) stacks.push((await readNdGroup(folder, g, options.signal)).stack);
  const first = stacks[0]!;
  if (stacks.length === 1) return first;
  for (const [i, s] of stacks.entries()) {
    if (s.width !== first.width || s.height !== first.height || s.dtype !== first.dtype || s.sizeC !== first.sizeC || s.sizeZ !== first.sizeZ) {
      throw new FocalError('E_FORMAT', `${folder}: time point ${groups[i]!.label} is ${s.width}×${s.height} ${s.dtype} c=${s.sizeC} z=${s.sizeZ}, the first is ${first.width}×${first.height} ${first.dtype} c=${first.sizeC} z=${first.sizeZ}`, { file: folder });
    }
  }
  const stack = createStack({
    width: first.width,
    height: first.height,
    dtype: first.dtype,
    sizeC: first.sizeC,
    sizeZ: first.sizeZ,
    sizeT: stacks.length,
    planes: stacks.flatMap((s) => s.planes),
    channelNames: first.channelNames,
  });
  stack.calibration = { ...first.calibration };
  stack.metadata = { source: folder, format: 'ndtiff' };
  return stack;
}
