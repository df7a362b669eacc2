import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import {
  FocalError, imgGrid, inspectTiff, MM_IMG_PLANE, ndDatasetName, openOmeZarr, partialImgPlan, sha256File, stackFromImgPlan, writeTiff,
  type ImgPlan, type NdGroup, type TiffInfo,
} from '../../core/index.js';
import type { DatasetKind } from './ledger.js';

/**
 * A dataset is what one watch job processes: a single TIFF, a Micro-Manager MMStack
 * OME-TIFF series (the `_MMStack_Pos0.ome.tif` file plus its `_1`, `_2`, … split files) or
 * a Micro-Manager `img_*` folder of single-plane TIFFs (one dataset per stage position), an NDTiff
 * stack, or an OME-Zarr image folder (`<name>.ome.zarr`, given to the pipeline as the folder).
 */
export interface DatasetRef {
  kind: DatasetKind;
  key: string;
  /** Output folder name relative to the output folder, without a content suffix. */
  outputBase: string;
  /** mmstack: the `_MMStack_Pos0.ome.tif` file (it may not exist yet). */
  main?: string;
  /** img-folder: the folder and position; ndtiff: the index's folder; ome-zarr: the `.ome.zarr` folder. */
  folder?: string;
  position?: number;
  /** ndtiff: the stack (channels × z of one time point / position) this job reads; absent on the folder's watch entry. */
  group?: NdGroup;
}

export type Classified = DatasetRef | undefined;

const MMSTACK = /^(.+_MMStack(?:_[A-Za-z][^_.]*)?)(?:_(\d+))?\.ome\.tiff?$/i;
const TIFF_EXT = /(\.ome)?\.tiff?$/i;

const OME_ZARR = /\.ome\.zarr$/i;

/**
 * The OME-Zarr folder `path` is in (or is): the outermost folder below `root` on its way whose
 * name ends in `.ome.zarr`; undefined when there is none. Everything inside such a folder
 * (chunks, `.zattrs`, `zarr.json`, nested groups) belongs to that one dataset.
 */
export function omeZarrFolder(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..')) return undefined;
  let p = root;
  for (const part of rel.split(sep)) {
    p = join(p, part);
    if (OME_ZARR.test(part)) return p;
  }
  return undefined;
}

/** The dataset of an OME-Zarr folder (`folder` as given by {@link omeZarrFolder}). */
export function omeZarrRef(root: string, folder: string): DatasetRef {
  return { kind: 'ome-zarr', key: folder, outputBase: relative(root, folder).replace(OME_ZARR, '') || basename(folder).replace(OME_ZARR, ''), folder };
}

/** Which dataset a file belongs to, from its name and folder (no file access but a check for NDTiff.index). */
export function classify(root: string, file: string): Classified {
  const zarr = omeZarrFolder(root, file);
  if (zarr) return omeZarrRef(root, zarr);
  const dir = dirname(file);
  const name = basename(file);
  if (name === 'NDTiff.index' || /_NDTiffStack(_\d+)?\.tiff?$/i.test(name) || existsSync(join(dir, 'NDTiff.index'))) {
    if (/^Downsampled_x\d+$/.test(basename(dir))) return undefined; // pyramid levels: only full resolution is processed
    const rel = relative(root, basename(dir) === 'Full resolution' ? dirname(dir) : dir);
    const outputBase = rel && !rel.startsWith('..') ? rel : ndDatasetName(dir);
    return { kind: 'ndtiff', key: `${dir}#ndtiff`, outputBase, folder: dir };
  }
  const img = MM_IMG_PLANE.exec(name);
  if (img) {
    const position = Number(img[2]);
    const relDir = relative(root, dir) || basename(root);
    return { kind: 'img-folder', key: `${dir}#position${position}`, outputBase: position === 0 ? relDir : `${relDir}_pos${String(position).padStart(3, '0')}`, folder: dir, position };
  }
  const mm = MMSTACK.exec(name);
  if (mm) {
    const main = join(dir, `${mm[1]}.ome.tif${/\.tiff$/i.test(name) ? 'f' : ''}`);
    return { kind: 'mmstack', key: main, outputBase: relative(root, join(dir, mm[1])), main };
  }
  return { kind: 'file', key: file, outputBase: relative(root, file).replace(TIFF_EXT, '') };
}

/** The result of checking whether a dataset can be taken. */
export type Probe =
  | { complete: true; files: string[]; input: string; warnings: string[]; info?: TiffInfo; img?: ImgPlan }
  | { complete: false; files: string[]; reason: string };

const INTERRUPTED = /interrupted acquisition|promises \d+ planes|is missing|is unreadable/;

/**
 * Checks that a dataset is whole: it parses, and (MMStack) the OME-XML written when the
 * acquisition closes is present and accounts for every plane; (img folder) every plane of the
 * c×z×t grid (from metadata.txt's Summary, or the indices seen) exists and parses.
 */
export async function probe(ref: DatasetRef, cache: PlaneCache, options: WalkOptions = {}): Promise<Probe> {
  if (ref.kind === 'ndtiff') throw new FocalError('E_ARGUMENT', 'NDTiff datasets are checked by their index, not probed');
  if (ref.kind === 'ome-zarr') return probeOmeZarr(ref);
  if (ref.kind === 'img-folder') return probeImgFolder(ref, cache, options);
  const file = ref.kind === 'mmstack' ? ref.main! : ref.key;
  if (!existsSync(file)) return { complete: false, files: [], reason: `${basename(file)} does not exist yet` };
  let info: TiffInfo;
  try {
    info = await inspectTiff(file);
  } catch (err) {
    return { complete: false, files: [file], reason: `does not parse yet: ${(err as Error).message}` };
  }
  if (ref.kind === 'mmstack' && info.format !== 'ome') {
    return { complete: false, files: [file], reason: 'the OME-XML is not written yet (Micro-Manager writes it when the acquisition closes)' };
  }
  const bad = info.warnings.find((w) => INTERRUPTED.test(w));
  const files = info.files.length > 0 ? info.files : [file];
  if (bad) return { complete: false, files, reason: bad };
  return { complete: true, files, input: file, warnings: info.warnings, info };
}


/**
 * An OME-Zarr folder is complete for the watcher when its files have settled (checked by the
 * engine from {@link listZarrFolder}) and the image opens: the multiscales metadata is there and
 * every level's array metadata parses (core's openOmeZarr, which the stack plugin's `ome-zarr`
 * and `ome-zarr-v2` readers are). Chunks cannot be checked: Zarr allows a chunk to be absent
 * (it reads as the fill value), and writers leave out chunks that hold only the fill value.
 */
async function probeOmeZarr(ref: DatasetRef): Promise<Probe> {
  const folder = ref.folder!;
  try {
    const img = await openOmeZarr(folder);
    await img.close();
  } catch (err) {
    return { complete: false, files: [], reason: `does not open as OME-Zarr yet: ${(err as Error).message}` };
  }
  return { complete: true, files: [], input: folder, warnings: [] };
}

/** The files of an OME-Zarr folder: what the settle check compares and the ledger summarises. */
export interface ZarrListing {
  /** sha256 of the sorted `<relative path> <size> <mtimeMs>` lines. */
  listing: string;
  files: number;
  bytes: number;
  /** Newest mtime of its files (0 when empty). */
  newestMs: number;
  /** Entries that are symbolic links (relative paths). */
  links: string[];
  /** Entries that are neither files, folders nor links (FIFOs, sockets, devices). */
  special: string[];
}

/** Lists an OME-Zarr folder recursively (lstat only, no file is opened). */
export async function listZarrFolder(folder: string): Promise<ZarrListing> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const lines: string[] = [];
  const links: string[] = [];
  const special: string[] = [];
  let bytes = 0;
  let newestMs = 0;
  for (const e of entries) {
    const rel = relative(folder, join(e.parentPath, e.name)).split(sep).join('/');
    if (e.isSymbolicLink()) links.push(rel);
    else if (e.isFile()) {
      const s = await lstat(join(e.parentPath, e.name)).catch(() => undefined);
      if (!s) continue; // removed while listed: the next listing differs anyway
      lines.push(`${rel} ${s.size} ${s.mtimeMs}`);
      bytes += s.size;
      newestMs = Math.max(newestMs, s.mtimeMs);
    } else if (!e.isDirectory()) special.push(rel);
  }
  lines.sort();
  return { listing: createHash('sha256').update(lines.join('\n')).digest('hex'), files: lines.length, bytes, newestMs, links: links.sort(), special: special.sort() };
}

/** Content hash of a dataset: a file's sha256, or for several files the sha256 of `name sha\n` lines in order. */
export async function datasetHash(files: string[]): Promise<{ sha256: string; perFile: Map<string, string> }> {
  const perFile = new Map<string, string>();
  for (const f of files) perFile.set(f, await sha256File(f));
  if (files.length === 1) return { sha256: perFile.get(files[0])!, perFile };
  const h = createHash('sha256');
  for (const f of files) h.update(`${basename(f)} ${perFile.get(f)}\n`);
  return { sha256: h.digest('hex'), perFile };
}

// ---------------------------------------------------------------- img_* folders

/** How the watch engine's own folder walks treat symbolic links. */
export interface WalkOptions {
  /** Take plane files that are symbolic links (default false: they are left out, as chokidar leaves them out). */
  followSymlinks?: boolean;
}

/** Names of the entries of `folder` that the walk may take: symbolic links only when followed. */
async function planeNames(folder: string, options: WalkOptions): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  return entries.filter((e) => options.followSymlinks || !e.isSymbolicLink()).map((e) => e.name).sort();
}

/** inspectTiff results of plane files, keyed by path, size and mtime. */
export type PlaneCache = Map<string, { size: number; mtimeMs: number; info: TiffInfo | Error }>;

async function probeImgFolder(ref: DatasetRef, cache: PlaneCache, options: WalkOptions = {}): Promise<Probe> {
  const folder = ref.folder!;
  const plan = await imgGrid(folder, ref.position ?? 0, await planeNames(folder, options));
  const present = plan.files.filter((f) => f !== '');
  const meta = join(folder, 'metadata.txt');
  const files = existsSync(meta) ? [...present, meta] : present;
  if (present.length === 0) return { complete: false, files, reason: 'no planes yet' };
  let first: TiffInfo | undefined;
  for (const f of present) {
    const info = await inspectCached(f, cache);
    if (info instanceof Error) return { complete: false, files, reason: `${basename(f)} does not parse yet: ${info.message}` };
    if (info.sizeC * info.sizeZ * info.sizeT !== 1) return { complete: false, files, reason: `${basename(f)} holds ${info.sizeC * info.sizeZ * info.sizeT} planes; an img_* folder needs single-plane files` };
    first ??= info;
    if (info.width !== first.width || info.height !== first.height || info.dtype !== first.dtype) {
      return { complete: false, files, reason: `${basename(f)} is ${info.width}×${info.height} ${info.dtype}, the first plane is ${first.width}×${first.height} ${first.dtype}` };
    }
  }
  if (plan.missing > 0) return { complete: false, files, reason: `${plan.missing} of ${plan.files.length} planes of the ${plan.sizeC}×${plan.sizeZ}×${plan.sizeT} (c×z×t) grid are missing` };
  return { complete: true, files, input: '', warnings: [], img: plan };
}

async function inspectCached(file: string, cache: PlaneCache): Promise<TiffInfo | Error> {
  const s = await stat(file);
  const hit = cache.get(file);
  if (hit && hit.size === s.size && hit.mtimeMs === s.mtimeMs) return hit.info;
  let info: TiffInfo | Error;
  try {
    info = await inspectTiff(file);
  } catch (err) {
    info = err as Error;
  }
  cache.set(file, { size: s.size, mtimeMs: s.mtimeMs, info });
  return info;
}

/**
 * The img_* folder's planes as one stack (planes read in c, z, t order from their names),
 * written as a TIFF to `dest` for the pipeline to read. With planes missing (acquisition
 * timeout) the stack keeps the complete leading time points, then z slices.
 */
export async function assembleImgFolder(ref: DatasetRef, cache: PlaneCache, dest: string, signal?: AbortSignal, options: WalkOptions = {}): Promise<{ warnings: string[] }> {
  const res = await probeImgFolder(ref, cache, options);
  let plan: ImgPlan | undefined = res.complete ? res.img : undefined;
  const warnings: string[] = [];
  if (!plan) {
    // timed out: recompute the grid without requiring completeness
    plan = await partialImgPlan(ref.folder!, ref.position ?? 0, await planeNames(ref.folder!, options), async (f) => !((await inspectCached(f, cache)) instanceof Error));
    if (!plan) throw new FocalError('E_FORMAT', `${ref.folder}: no readable planes for position ${ref.position}${res.complete ? '' : ` (${res.reason})`}`, { file: ref.folder });
    warnings.push(`${basename(ref.folder!)}: acquisition incomplete (${res.complete ? '' : res.reason}); kept ${plan.sizeC}×${plan.sizeZ}×${plan.sizeT} (c×z×t)`);
  }
  const stack = await stackFromImgPlan(plan, ref.folder!, ref.position ?? 0, signal);
  await writeTiff(dest, stack, { mkdir: true });
  return { warnings };
}

/** Output folder names must stay inside the output folder. */
export function safeRelative(rel: string): string {
  return rel.split(sep).filter((p) => p !== '..' && p !== '.' && p !== '').join(sep) || 'input';
}
