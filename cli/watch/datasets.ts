import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { createStack, FocalError, inspectTiff, readTiff, sha256File, writeTiff, type PixelArray, type Stack, type TiffInfo } from '../../core/index.js';
import type { DatasetKind } from './ledger.js';
import { ndDatasetName, type NdGroup } from '../../core/index.js';

/**
 * A dataset is what one watch job processes: a single TIFF, a Micro-Manager MMStack
 * OME-TIFF series (the `_MMStack_Pos0.ome.tif` file plus its `_1`, `_2`, … split files) or
 * a Micro-Manager `img_*` folder of single-plane TIFFs (one dataset per stage position).
 */
export interface DatasetRef {
  kind: DatasetKind;
  key: string;
  /** Output folder name relative to the output folder, without a content suffix. */
  outputBase: string;
  /** mmstack: the `_MMStack_Pos0.ome.tif` file (it may not exist yet). */
  main?: string;
  /** img-folder: the folder and position. */
  folder?: string;
  position?: number;
  /** ndtiff: the stack (channels × z of one time point / position) this job reads; absent on the folder's watch entry. */
  group?: NdGroup;
}

export type Classified = DatasetRef | undefined;

const MMSTACK = /^(.+_MMStack(?:_[A-Za-z][^_.]*)?)(?:_(\d+))?\.ome\.tiff?$/i;
const IMG_PLANE = /^img_channel(\d+)_position(\d+)_time(\d+)_z(\d+)\.tiff?$/i;
const TIFF_EXT = /(\.ome)?\.tiff?$/i;

/** Which dataset a file belongs to, from its name and folder (no file access but a check for NDTiff.index). */
export function classify(root: string, file: string): Classified {
  const dir = dirname(file);
  const name = basename(file);
  if (name === 'NDTiff.index' || /_NDTiffStack(_\d+)?\.tiff?$/i.test(name) || existsSync(join(dir, 'NDTiff.index'))) {
    if (/^Downsampled_x\d+$/.test(basename(dir))) return undefined; // pyramid levels: only full resolution is processed
    const rel = relative(root, basename(dir) === 'Full resolution' ? dirname(dir) : dir);
    const outputBase = rel && !rel.startsWith('..') ? rel : ndDatasetName(dir);
    return { kind: 'ndtiff', key: `${dir}#ndtiff`, outputBase, folder: dir };
  }
  const img = IMG_PLANE.exec(name);
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

/** Plane files of one position of an img_* folder, in XYCZT order. */
export interface ImgPlan {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** files[c + z·C + t·C·Z] */
  files: string[];
  channelNames: string[];
  zStepUm?: number;
  /** Pixel size from metadata.txt, µm. */
  pixelSizeUm?: number;
  /** Planes missing from the grid (then the dataset is complete only after the acquisition timeout). */
  missing: number;
}

/** inspectTiff results of plane files, keyed by path, size and mtime. */
export type PlaneCache = Map<string, { size: number; mtimeMs: number; info: TiffInfo | Error }>;

interface Summary {
  channels?: number;
  slices?: number;
  frames?: number;
  chNames?: string[];
  zStepUm?: number;
  pixelSizeUm?: number;
}

/** A number or numeric string of metadata.txt (older Micro-Manager versions write strings). */
function metaNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

const positive = (n: number | undefined): number | undefined => (n !== undefined && n > 0 ? n : undefined);

/**
 * Reads the Summary of Micro-Manager's metadata.txt: sizes, channel names, z step (`z-step_um`,
 * its magnitude) and pixel size (the Summary's `PixelSize_um`, else the first frame's
 * `PixelSizeUm`; 0 means uncalibrated). Tolerates a file still being written (regex fallback).
 */
async function readSummary(folder: string): Promise<Summary> {
  const file = join(folder, 'metadata.txt');
  if (!existsSync(file)) return {};
  if (!(await stat(file)).isFile()) return {}; // a named pipe would block readFile forever
  const text = await readFile(file, 'utf8');
  let doc: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) doc = parsed as Record<string, unknown>;
  } catch {
    doc = undefined; // still being written
  }
  if (doc) {
    const s = (typeof doc.Summary === 'object' && doc.Summary !== null ? doc.Summary : {}) as Record<string, unknown>;
    const frames = Object.entries(doc).filter(([k, v]) => k !== 'Summary' && typeof v === 'object' && v !== null).map(([, v]) => v as Record<string, unknown>);
    const framePixel = frames.map((f) => positive(metaNumber(f.PixelSizeUm ?? f.PixelSize_um))).find((n) => n !== undefined);
    const names = s.ChNames;
    const z = metaNumber(s['z-step_um']);
    return {
      channels: metaNumber(s.Channels),
      slices: metaNumber(s.Slices),
      frames: metaNumber(s.Frames),
      chNames: Array.isArray(names) && names.every((n) => typeof n === 'string') ? (names as string[]) : undefined,
      zStepUm: positive(z === undefined ? undefined : Math.abs(z)),
      pixelSizeUm: positive(metaNumber(s.PixelSize_um)) ?? framePixel,
    };
  }
  const NUMBER = '-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?';
  const all = (key: string): number[] =>
    [...text.matchAll(new RegExp(`"${key}"\\s*:\\s*"?(${NUMBER})"?`, 'g'))].map((m) => Number(m[1])).filter(Number.isFinite);
  const num = (key: string): number | undefined => all(key)[0];
  let chNames: string[] | undefined;
  const names = /"ChNames"\s*:\s*(\[[^\]]*\])/.exec(text);
  if (names) {
    try {
      const parsed = JSON.parse(names[1]) as unknown;
      if (Array.isArray(parsed) && parsed.every((n) => typeof n === 'string')) chNames = parsed as string[];
    } catch {
      // partial file: no names
    }
  }
  const z = num('z-step_um');
  return {
    channels: num('Channels'),
    slices: num('Slices'),
    frames: num('Frames'),
    chNames,
    zStepUm: positive(z === undefined ? undefined : Math.abs(z)),
    pixelSizeUm: positive(num('PixelSize_um')) ?? [...all('PixelSizeUm'), ...all('PixelSize_um')].find((n) => n > 0),
  };
}

async function probeImgFolder(ref: DatasetRef, cache: PlaneCache, options: WalkOptions = {}): Promise<Probe> {
  const folder = ref.folder!;
  const entries = await planeNames(folder, options);
  const planes = new Map<string, string>();
  let maxC = 0;
  let maxZ = 0;
  let maxT = 0;
  for (const name of entries.sort()) {
    const m = IMG_PLANE.exec(name);
    if (!m || Number(m[2]) !== ref.position) continue;
    const [c, t, z] = [Number(m[1]), Number(m[3]), Number(m[4])];
    planes.set(`${c},${z},${t}`, join(folder, name));
    maxC = Math.max(maxC, c);
    maxZ = Math.max(maxZ, z);
    maxT = Math.max(maxT, t);
  }
  const all = [...planes.values()];
  const meta = join(folder, 'metadata.txt');
  const files = existsSync(meta) ? [...all, meta] : all;
  if (planes.size === 0) return { complete: false, files, reason: 'no planes yet' };
  const summary = await readSummary(folder);
  const sizeC = Math.max(summary.channels ?? 0, maxC + 1);
  const sizeZ = Math.max(summary.slices ?? 0, maxZ + 1);
  const sizeT = Math.max(summary.frames ?? 0, maxT + 1);
  const grid: string[] = [];
  let missing = 0;
  let first: TiffInfo | undefined;
  for (let t = 0; t < sizeT; t++) {
    for (let z = 0; z < sizeZ; z++) {
      for (let c = 0; c < sizeC; c++) {
        const f = planes.get(`${c},${z},${t}`);
        if (!f) {
          missing++;
          grid.push('');
          continue;
        }
        const info = await inspectCached(f, cache);
        if (info instanceof Error) return { complete: false, files, reason: `${basename(f)} does not parse yet: ${info.message}` };
        if (info.sizeC * info.sizeZ * info.sizeT !== 1) return { complete: false, files, reason: `${basename(f)} holds ${info.sizeC * info.sizeZ * info.sizeT} planes; an img_* folder needs single-plane files` };
        first ??= info;
        if (info.width !== first.width || info.height !== first.height || info.dtype !== first.dtype) {
          return { complete: false, files, reason: `${basename(f)} is ${info.width}×${info.height} ${info.dtype}, the first plane is ${first.width}×${first.height} ${first.dtype}` };
        }
        grid.push(f);
      }
    }
  }
  const chNames = summary.chNames && summary.chNames.length === sizeC ? summary.chNames : [];
  const plan: ImgPlan = { sizeC, sizeZ, sizeT, files: grid, channelNames: chNames, zStepUm: summary.zStepUm, pixelSizeUm: summary.pixelSizeUm, missing };
  if (missing > 0) return { complete: false, files, reason: `${missing} of ${grid.length} planes of the ${sizeC}×${sizeZ}×${sizeT} (c×z×t) grid are missing` };
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
    plan = await partialImgPlan(ref, cache, options);
    if (!plan) throw new FocalError('E_FORMAT', `${ref.folder}: no readable planes for position ${ref.position}${res.complete ? '' : ` (${res.reason})`}`, { file: ref.folder });
    warnings.push(`${basename(ref.folder!)}: acquisition incomplete (${res.complete ? '' : res.reason}); kept ${plan.sizeC}×${plan.sizeZ}×${plan.sizeT} (c×z×t)`);
  }
  const planes: PixelArray[] = [];
  let proto: Stack | undefined;
  for (const f of plan.files) {
    if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled');
    const s = await readTiff(f, { signal });
    proto ??= s;
    if (s.width !== proto.width || s.height !== proto.height || s.dtype !== proto.dtype) {
      throw new FocalError('E_FORMAT', `${f} is ${s.width}×${s.height} ${s.dtype}, the first plane is ${proto.width}×${proto.height} ${proto.dtype}`, { file: f });
    }
    planes.push(s.planes[0]);
  }
  const calibration = { ...proto!.calibration };
  if (plan.zStepUm !== undefined && plan.zStepUm > 0) calibration.zStepUm = plan.zStepUm;
  if (plan.pixelSizeUm !== undefined && plan.pixelSizeUm > 0) {
    calibration.pixelWidthUm = plan.pixelSizeUm;
    calibration.pixelHeightUm = plan.pixelSizeUm;
  }
  const stack = createStack({
    width: proto!.width,
    height: proto!.height,
    dtype: proto!.dtype,
    sizeC: plan.sizeC,
    sizeZ: plan.sizeZ,
    sizeT: plan.sizeT,
    planes,
    channelNames: plan.channelNames,
  });
  stack.calibration = calibration;
  stack.metadata = { source: ref.folder!, format: 'micromanager-img-folder', position: ref.position ?? 0 };
  await writeTiff(dest, stack, { mkdir: true });
  return { warnings };
}

/** The largest complete leading block of the grid: whole time points, else whole z slices of t=0. */
async function partialImgPlan(ref: DatasetRef, cache: PlaneCache, options: WalkOptions): Promise<ImgPlan | undefined> {
  const entries = await planeNames(ref.folder!, options);
  const planes = new Map<string, string>();
  let C = 0;
  let Z = 0;
  let T = 0;
  for (const name of entries) {
    const m = IMG_PLANE.exec(name);
    if (!m || Number(m[2]) !== ref.position) continue;
    const f = join(ref.folder!, name);
    const info = await inspectCached(f, cache);
    if (info instanceof Error) continue;
    planes.set(`${Number(m[1])},${Number(m[4])},${Number(m[3])}`, f);
    C = Math.max(C, Number(m[1]) + 1);
    Z = Math.max(Z, Number(m[4]) + 1);
    T = Math.max(T, Number(m[3]) + 1);
  }
  const at = (c: number, z: number, t: number) => planes.get(`${c},${z},${t}`);
  const full = (t: number, zs: number) => {
    for (let z = 0; z < zs; z++) for (let c = 0; c < C; c++) if (!at(c, z, t)) return false;
    return true;
  };
  let keepT = 0;
  while (keepT < T && full(keepT, Z)) keepT++;
  let keepZ = Z;
  if (keepT === 0) {
    keepT = 1;
    keepZ = 0;
    while (keepZ < Z && full(0, keepZ + 1)) keepZ++;
    if (keepZ === 0) return undefined;
  }
  const files: string[] = [];
  for (let t = 0; t < keepT; t++) for (let z = 0; z < keepZ; z++) for (let c = 0; c < C; c++) files.push(at(c, z, t)!);
  const summary = await readSummary(ref.folder!);
  return { sizeC: C, sizeZ: keepZ, sizeT: keepT, files, channelNames: summary.chNames?.length === C ? summary.chNames : [], zStepUm: summary.zStepUm, pixelSizeUm: summary.pixelSizeUm, missing: 0 };
}

/** Output folder names must stay inside the output folder. */
export function safeRelative(rel: string): string {
  return rel.split(sep).filter((p) => p !== '..' && p !== '.' && p !== '').join(sep) || 'input';
}
