import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { PixelArray } from '../data/dtype.js';
import { createStack, type Stack } from '../data/stack.js';
import { FocalError } from '../errors.js';
import { readTiff } from './tiff/read.js';

/**
 * Micro-Manager `img_*` folders: one single-plane TIFF per plane, named
 * `img_channel<C>_position<P>_time<T>_z<Z>.tif`, with the acquisition's Summary in
 * `metadata.txt`. The watcher (cli/watch) follows such a folder while it fills; `readMmImgFolder`
 * reads a finished one (the stack plugin's `micromanager-img` reader).
 */
export const MM_IMG_PLANE = /^img_channel(\d+)_position(\d+)_time(\d+)_z(\d+)\.tiff?$/i;

/** Plane files of one position of an img_* folder, in XYCZT order. */
export interface ImgPlan {
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** files[c + z·C + t·C·Z]; '' where a plane is missing */
  files: string[];
  channelNames: string[];
  zStepUm?: number;
  /** Pixel size from metadata.txt, µm. */
  pixelSizeUm?: number;
  /** Planes missing from the grid. */
  missing: number;
}

export interface MmSummary {
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
export async function readMmSummary(folder: string): Promise<MmSummary> {
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

/**
 * The plane grid of one position from the folder's entry names and the Summary's sizes (the
 * larger of the two for each axis); '' for each plane not there (yet).
 */
export async function imgGrid(folder: string, position: number, entries: readonly string[]): Promise<ImgPlan> {
  const planes = new Map<string, string>();
  let maxC = 0;
  let maxZ = 0;
  let maxT = 0;
  for (const name of [...entries].sort()) {
    const m = MM_IMG_PLANE.exec(name);
    if (!m || Number(m[2]) !== position) continue;
    const [c, t, z] = [Number(m[1]), Number(m[3]), Number(m[4])];
    planes.set(`${c},${z},${t}`, join(folder, name));
    maxC = Math.max(maxC, c);
    maxZ = Math.max(maxZ, z);
    maxT = Math.max(maxT, t);
  }
  const summary = await readMmSummary(folder);
  const sizeC = Math.max(summary.channels ?? 0, maxC + 1);
  const sizeZ = Math.max(summary.slices ?? 0, maxZ + 1);
  const sizeT = Math.max(summary.frames ?? 0, maxT + 1);
  const files: string[] = [];
  let missing = 0;
  for (let t = 0; t < sizeT; t++) {
    for (let z = 0; z < sizeZ; z++) {
      for (let c = 0; c < sizeC; c++) {
        const f = planes.get(`${c},${z},${t}`) ?? '';
        if (!f) missing++;
        files.push(f);
      }
    }
  }
  const channelNames = summary.chNames && summary.chNames.length === sizeC ? summary.chNames : [];
  return { sizeC, sizeZ, sizeT, files, channelNames, zStepUm: summary.zStepUm, pixelSizeUm: summary.pixelSizeUm, missing };
}

/**
 * The largest complete leading block of the grid: whole time points, else whole z slices of
 * t=0; undefined when not even one plane per channel is there. `usable(file)` says whether a
 * plane file can be read (the watcher: it parses).
 */
export async function partialImgPlan(folder: string, position: number, entries: readonly string[], usable: (file: string) => Promise<boolean>): Promise<ImgPlan | undefined> {
  const planes = new Map<string, string>();
  let C = 0;
  let Z = 0;
  let T = 0;
  for (const name of entries) {
    const m = MM_IMG_PLANE.exec(name);
    if (!m || Number(m[2]) !== position) continue;
    const f = join(folder, name);
    if (!(await usable(f))) continue;
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
  const summary = await readMmSummary(folder);
  return { sizeC: C, sizeZ: keepZ, sizeT: keepT, files, channelNames: summary.chNames?.length === C ? summary.chNames : [], zStepUm: summary.zStepUm, pixelSizeUm: summary.pixelSizeUm, missing: 0 };
}

/** Reads a complete plan's planes (single-plane TIFFs of one size and pixel type) as one stack. */
export async function stackFromImgPlan(plan: ImgPlan, folder: string, position: number, signal?: AbortSignal): Promise<Stack> {
  const planes: PixelArray[] = [];
  let proto: Stack | undefined;
  for (const f of plan.files) {
    if (signal?.aborted) throw new FocalError('E_CANCELLED', 'cancelled');
    const s = await readTiff(f, { signal });
    proto ??= s;
    if (s.width !== proto.width || s.height !== proto.height || s.dtype !== proto.dtype) {
      throw new FocalError('E_FORMAT', `${f} is ${s.width}×${s.height} ${s.dtype}, the first plane is ${proto.width}×${proto.height} ${proto.dtype}`, { file: f });
    }
    planes.push(s.planes[0]!);
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
  stack.metadata = { source: folder, format: 'micromanager-img-folder', position };
  return stack;
}

/**
 * Reads a finished Micro-Manager img_* folder of one stage position as a c × z × t stack. A
 * folder of several positions is refused (E_UNSUPPORTED) naming them (`focal watch` takes each
 * as a job of its own); with planes missing, the complete leading time points (else z slices)
 * are read, with a warning. Symbolic links are not followed.
 */
export async function readMmImgFolder(folder: string, options: { signal?: AbortSignal; onWarning?: (message: string) => void } = {}): Promise<Stack> {
  const entries = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  const positions = [...new Set(entries.flatMap((n) => { const m = MM_IMG_PLANE.exec(n); return m ? [Number(m[2])] : []; }))].sort((a, b) => a - b);
  if (positions.length === 0) throw new FocalError('E_FORMAT', `${folder}: no img_channel<C>_position<P>_time<T>_z<Z>.tif planes`, { file: folder });
  if (positions.length > 1) {
    throw new FocalError('E_UNSUPPORTED', `${folder}: the folder holds ${positions.length} stage positions (${positions.join(', ')}); focal watch processes each as a job of its own`, { file: folder });
  }
  const position = positions[0]!;
  let plan = await imgGrid(folder, position, entries);
  if (plan.missing > 0) {
    const partial = await partialImgPlan(folder, position, entries, async () => true);
    if (!partial) throw new FocalError('E_FORMAT', `${folder}: ${plan.missing} of ${plan.files.length} planes are missing and no complete z slice is there`, { file: folder });
    options.onWarning?.(`${basename(folder)}: ${plan.missing} of ${plan.files.length} planes of the ${plan.sizeC}×${plan.sizeZ}×${plan.sizeT} (c×z×t) grid are missing; read ${partial.sizeC}×${partial.sizeZ}×${partial.sizeT}`);
    plan = partial;
  }
  return stackFromImgPlan(plan, folder, position, options.signal);
}
