import { totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { allocate, type DType, type PixelArray } from '../../data/dtype.js';
import type { Calibration } from '../../data/image.js';
import { createStack, type Stack } from '../../data/stack.js';
import { FocalError, isFocalError, throwIfAborted } from '../../errors.js';
import { bytesOf, decodePage, dtypeForSample, sampleTypeOf, validateBlocks, type DecodeStats, type SampleType } from './decode.js';
import { compressionName, pageName, readStructure, readText, type TiffPage, type TiffStructure } from './ifd.js';
import { decodeImageJLabels, imageJCalibration, imageJSizeProblem, imageJSizes, isImageJDescription, parseImageJDescription } from './imagej.js';
import { indexInOrder, isOmeXml, parseOmeXml, positionInOrder, type OmeImage } from './ome.js';
import { FileSource } from './source.js';
import { lengthUnitToUm, positive } from './units.js';

export type TiffFormat = 'imagej' | 'ome' | 'plain';

export interface ReadTiffOptions {
  signal?: AbortSignal;
  /** Called for problems that do not stop the read (interrupted acquisitions, missing files, lossy conversions). */
  onWarning?: (message: string) => void;
  /**
   * Most bytes the read may allocate for the stack (planes, per-plane bookkeeping, decode
   * buffers), checked before anything is allocated; a larger stack is refused with
   * E_UNSUPPORTED naming the file. Default: defaultReadBudget() (half the machine's memory).
   */
  maxBytes?: number;
}

/** The default memory budget of one read: half of the machine's memory. */
export function defaultReadBudget(): number {
  return Math.floor(totalmem() / 2);
}

/** Bookkeeping a plane costs beyond its pixels (typed array, job, plane slot), for the budget. */
const PLANE_OVERHEAD = 1024;

/** What `inspectTiff` reports without decoding pixel data. */
export interface TiffInfo {
  path: string;
  format: TiffFormat;
  width: number;
  height: number;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  /** Focal dtype of the stack readTiff returns. */
  dtype: DType;
  /** Sample type stored in the file (int16, float64, … are converted on read). */
  sampleType: SampleType;
  rgb: boolean;
  calibration: Calibration;
  channelNames: string[];
  /** IFDs in the opened file. */
  pageCount: number;
  /** Compression of the first page: none, lzw, deflate, packbits, … */
  compression: string;
  bigTiff: boolean;
  tiled: boolean;
  littleEndian: boolean;
  /** Every file the stack's planes come from (more than one for split Micro-Manager series). */
  files: string[];
  software?: string;
  /** First 4096 characters of the first page's ImageDescription. */
  description?: string;
  /** Warnings a read would give (interrupted acquisition, missing files). */
  warnings: string[];
  /** What readTiff puts in stack.metadata (source, format, software, imagej / ome summaries, …). */
  metadata: Record<string, unknown>;
}

/** One page to decode and the stack planes (one per sample; -1 = drop) it fills. */
export interface Job {
  src: FileSource;
  page: TiffPage;
  littleEndian: boolean;
  targets: number[];
}

export interface Plan {
  format: TiffFormat;
  width: number;
  height: number;
  sizeC: number;
  sizeZ: number;
  sizeT: number;
  sampleType: SampleType;
  rgb: boolean;
  calibration: Calibration;
  channelNames: string[];
  metadata: Record<string, unknown>;
  jobs: Job[];
  main: TiffStructure;
  files: string[];
  description?: string;
  software?: string;
}

export class Session {
  readonly sources = new Map<string, { src: FileSource; structure: TiffStructure } | null>();
  constructor(
    readonly path: string,
    readonly warn: (msg: string) => void,
    /** Memory budget in bytes. */
    readonly budget: number,
    /** readTiff: over budget is an error; inspectTiff: a warning. */
    readonly enforceBudget: boolean,
  ) {}
  /** Checks an estimate against the budget before allocating (an error or, when only inspecting, a warning). */
  overBudget(bytes: number, what: string): void {
    if (bytes <= this.budget) return;
    const msg = `${what} needs about ${formatBytes(bytes)} of memory, more than the read's budget of ${formatBytes(this.budget)} (ReadTiffOptions.maxBytes)`;
    if (this.enforceBudget) throw new FocalError('E_UNSUPPORTED', `${this.path}: ${msg}`, { file: this.path, bytes, budget: this.budget });
    this.warn(`${basename(this.path)}: reading it would fail: ${msg}`);
  }
  async close(): Promise<void> {
    for (const v of this.sources.values()) await v?.src.close();
  }
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

const READ_CONCURRENCY = 4;

/** Most planes one stack may declare (guards allocations driven by a corrupt header). */
export const MAX_PLANES = 4_194_304;

function checkPlaneCount(file: string, n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n > MAX_PLANES) {
    throw new FocalError('E_UNSUPPORTED', `${file}: ${what} declares ${n} planes; Focal reads at most ${MAX_PLANES}`, { file });
  }
}

function fmtErr(file: string, message: string): FocalError {
  return new FocalError('E_FORMAT', `${file}: ${message}`, { file });
}

function sameGeometry(session: Session, first: TiffPage, firstType: SampleType, src: FileSource, page: TiffPage): void {
  if (page.width !== first.width || page.height !== first.height || page.samplesPerPixel !== first.samplesPerPixel) {
    throw new FocalError('E_UNSUPPORTED', `${src.path}: IFD ${page.index} is ${page.width}×${page.height}×${page.samplesPerPixel} but the stack's first plane is ${first.width}×${first.height}×${first.samplesPerPixel}; planes of different sizes are not supported`, { file: session.path });
  }
  const t = sampleTypeOf(src, page);
  if (t !== firstType) {
    throw new FocalError('E_UNSUPPORTED', `${src.path}: IFD ${page.index} holds ${t} samples but the first plane holds ${firstType}; mixed sample types are not supported`, { file: session.path });
  }
}

/**
 * Shrinks sizes to what the present planes fill completely (Focal's rule for interrupted
 * acquisitions): keep the leading complete time points; if not even the first is complete,
 * keep t = 1 and the leading complete z slices of it; failing that, the leading present
 * channels of z = 0. Planes beyond the cut are dropped.
 */
export function completeSizes(present: boolean[], sizeC: number, sizeZ: number, sizeT: number): { sizeC: number; sizeZ: number; sizeT: number } | undefined {
  const at = (c: number, z: number, t: number): boolean => present[c + z * sizeC + t * sizeC * sizeZ] === true;
  let t = 0;
  while (t < sizeT) {
    let ok = true;
    for (let z = 0; z < sizeZ && ok; z++) for (let c = 0; c < sizeC && ok; c++) ok = at(c, z, t);
    if (!ok) break;
    t++;
  }
  if (t > 0) return { sizeC, sizeZ, sizeT: t };
  let z = 0;
  while (z < sizeZ) {
    let ok = true;
    for (let c = 0; c < sizeC && ok; c++) ok = at(c, z, 0);
    if (!ok) break;
    z++;
  }
  if (z > 0) return { sizeC, sizeZ: z, sizeT: 1 };
  let c = 0;
  while (c < sizeC && at(c, 0, 0)) c++;
  return c > 0 ? { sizeC: c, sizeZ: 1, sizeT: 1 } : undefined;
}

function describeSizes(s: { sizeC: number; sizeZ: number; sizeT: number }): string {
  return `c=${s.sizeC}, z=${s.sizeZ}, t=${s.sizeT}`;
}

/** Drops jobs' targets beyond the kept sizes and renumbers them (the rule only cuts the slowest dimension in use). */
function applyCut(jobs: Job[], from: { sizeC: number; sizeZ: number }, to: { sizeC: number; sizeZ: number; sizeT: number }): Job[] {
  const out: Job[] = [];
  for (const j of jobs) {
    const targets = j.targets.map((i) => {
      if (i < 0) return -1;
      const c = i % from.sizeC;
      const z = Math.floor(i / from.sizeC) % from.sizeZ;
      const t = Math.floor(i / (from.sizeC * from.sizeZ));
      if (c >= to.sizeC || z >= to.sizeZ || t >= to.sizeT) return -1;
      return c + z * to.sizeC + t * to.sizeC * to.sizeZ;
    });
    if (targets.some((i) => i >= 0)) out.push({ ...j, targets });
  }
  return out;
}

function isRgb(page: TiffPage, type: SampleType, sizeC: number): boolean {
  return page.photometric === 2 && page.samplesPerPixel === 3 && type === 'uint8' && sizeC === 3;
}

function plainCalibration(page: TiffPage): Calibration {
  const unit = page.resolutionUnit === 2 ? 'inch' : page.resolutionUnit === 3 ? 'cm' : undefined;
  const f = lengthUnitToUm(unit);
  const xr = positive(page.xResolution);
  const yr = positive(page.yResolution) ?? xr;
  // 72 dpi is the default many writers put in without meaning a physical scale.
  if (f === undefined || xr === undefined || (unit === 'inch' && xr === 72 && yr === 72)) return {};
  return { pixelWidthUm: f / xr, pixelHeightUm: f / yr! };
}

async function planPlain(session: Session, src: FileSource, st: TiffStructure, description: string | undefined, note?: string): Promise<Plan> {
  const first = st.pages[0];
  const type = sampleTypeOf(src, first);
  const pages: TiffPage[] = [];
  let skipped = 0;
  for (const p of st.pages) {
    if (p.index > 0 && (p.subfileType & 1) !== 0) {
      skipped++;
      continue; // reduced-resolution copy (thumbnail / pyramid level)
    }
    if (p.width !== first.width || p.height !== first.height || p.samplesPerPixel !== first.samplesPerPixel) {
      skipped++;
      continue;
    }
    sameGeometry(session, first, type, src, p);
    pages.push(p);
  }
  if (skipped > 0) session.warn(`${src.name}: skipped ${skipped} page(s) that are reduced-resolution copies or differ in size from the first page`);
  const spp = first.samplesPerPixel;
  const jobs = pages.map((page, k) => ({ src, page, littleEndian: st.littleEndian, targets: Array.from({ length: spp }, (_, s) => k * spp + s) }));
  const metadata: Record<string, unknown> = {};
  if (description !== undefined && description.length > 0) metadata.description = description.length > 65536 ? description.slice(0, 65536) : description;
  if (note) metadata.note = note;
  return {
    format: 'plain',
    width: first.width,
    height: first.height,
    sizeC: spp,
    sizeZ: pages.length,
    sizeT: 1,
    sampleType: type,
    rgb: isRgb(first, type, spp),
    calibration: plainCalibration(first),
    channelNames: [],
    metadata,
    jobs,
    main: st,
    files: [src.path],
    description,
  };
}

/** Pages that are planes of the stack: full-resolution pages of the first page's size. */
function fullPages(st: TiffStructure): number {
  const first = st.pages[0];
  return st.pages.filter((p) => (p.index === 0 || (p.subfileType & 1) === 0) && p.width === first.width && p.height === first.height && p.samplesPerPixel === first.samplesPerPixel).length;
}

async function planImageJ(session: Session, src: FileSource, st: TiffStructure, description: string): Promise<Plan> {
  const d = parseImageJDescription(description);
  const first = st.pages[0];
  const type = sampleTypeOf(src, first);
  const spp = first.samplesPerPixel;
  const imagejMeta = {
    version: d.version,
    ...(d.mode !== undefined ? { mode: d.mode } : {}),
    ...(d.min !== undefined ? { min: d.min } : {}),
    ...(d.max !== undefined ? { max: d.max } : {}),
    ...(d.unit !== undefined ? { unit: d.unit } : {}),
  };
  // A description whose sizes cannot be trusted (garbage, negative, zero, a product that is not
  // images=, or fewer images than the file has pages) would silently drop planes: read every
  // page as a z slice instead, as ImageJ does, and say so.
  const full = fullPages(st);
  let problem = imageJSizeProblem(d);
  if (!problem && full > imageJSizes(d).images) problem = `images=${imageJSizes(d).images}${d.fields.images === undefined ? ' (implied)' : ''} but the file has ${full} pages of the first page's size`;
  if (problem) {
    const p = await planPlain(session, src, st, description);
    session.warn(`${src.name}: the ImageJ description's sizes cannot be trusted (${problem}); read all ${p.sizeZ} pages as z slices (${describeSizes(p)}) instead`);
    p.format = 'imagej';
    p.calibration = imageJCalibration(d, first.xResolution, first.yResolution, first.resolutionUnit);
    p.metadata = { imagej: { ...imagejMeta, ignoredSizes: problem }, ...(p.metadata.description !== undefined ? { description: p.metadata.description } : {}) };
    return p;
  }
  const ij = imageJSizes(d);
  const sizes = { sizeC: ij.sizeC * spp, sizeZ: ij.sizeZ, sizeT: ij.sizeT };
  checkPlaneCount(src.path, ij.images * spp, 'the ImageJ description');
  const pages: TiffPage[] = [];
  const M = st.pages.length;
  const N = ij.images;
  const sb = type === 'uint8' || type === 'int8' ? 1 : type === 'uint16' || type === 'int16' ? 2 : type === 'float64' ? 8 : 4;
  const planeBytes = first.width * first.height * spp * sb;
  const contiguousFirst =
    first.compression === 1 &&
    !first.tiled &&
    (first.planar === 1 || spp === 1) &&
    first.offsets.every((o, i) => o === first.offsets[0] + i * first.width * first.blockHeight * spp * sb);
  if (M >= N) {
    for (let k = 0; k < N; k++) {
      sameGeometry(session, first, type, src, st.pages[k]);
      pages.push(st.pages[k]);
    }
  } else if (contiguousFirst && (M === 1 || st.pages[1].offsets[0] === first.offsets[0] + planeBytes)) {
    // ImageJ's large-file layout: one IFD, the other planes follow the first one's data.
    // Each plane is one block (its strips are contiguous), so a plane costs one offset, whatever its strip count.
    const base = first.offsets[0];
    const fit = Math.min(N, Math.floor((src.size - base) / planeBytes));
    if (session.enforceBudget) session.overBudget(fit * (first.width * first.height * spp * bytesOf(dtypeForSample(type)) + PLANE_OVERHEAD), `the ImageJ stack of ${fit} planes of ${first.width}×${first.height}`);
    for (let k = 0; k < fit; k++) {
      pages.push({ ...first, blockHeight: first.height, offsets: [base + k * planeBytes], byteCounts: undefined });
    }
  } else {
    for (let k = 0; k < M; k++) {
      sameGeometry(session, first, type, src, st.pages[k]);
      pages.push(st.pages[k]);
    }
  }
  let jobs: Job[] = pages.map((page, k) => ({ src, page, littleEndian: st.littleEndian, targets: Array.from({ length: spp }, (_, s) => k * spp + s) }));
  let final = sizes;
  if (pages.length < N) {
    const present = Array.from({ length: N * spp }, (_, i) => i < pages.length * spp);
    const cut = completeSizes(present, sizes.sizeC, sizes.sizeZ, sizes.sizeT);
    if (!cut) throw fmtErr(src.path, 'the ImageJ stack holds no complete plane');
    jobs = applyCut(jobs, sizes, cut);
    session.warn(`${src.name}: the ImageJ description promises ${N} planes (${describeSizes(sizes)}) but the file holds ${pages.length}; read ${jobs.length} of ${N} planes as ${describeSizes(cut)}`);
    final = cut;
  }
  const metadata: Record<string, unknown> = { imagej: imagejMeta };
  const channelNames = spp === 1 ? await imageJChannelNames(src, st, final.sizeC, jobs.length) : [];
  return {
    format: 'imagej',
    width: first.width,
    height: first.height,
    ...final,
    sampleType: type,
    rgb: isRgb(first, type, final.sizeC),
    calibration: imageJCalibration(d, first.xResolution, first.yResolution, first.resolutionUnit),
    channelNames,
    metadata,
    jobs,
    main: st,
    files: [src.path],
    description,
  };
}

/**
 * Channel names from ImageJ's slice labels (IJMetadata `labl`, one per plane in XYCZT order), as
 * Focal writes them: used only when every plane's label is its channel's (labels that vary with z
 * or t are slice names, not channel names) and some are not empty. Anything unreadable gives none.
 */
async function imageJChannelNames(src: FileSource, st: TiffStructure, sizeC: number, planes: number): Promise<string[]> {
  const first = st.pages[0];
  if (!first.ijMetadata || !first.ijMetadataByteCounts || first.ijMetadata.length > 16 * 1024 * 1024) return [];
  const bytes = await src.readNew(first.ijMetadata.offset, first.ijMetadata.length, 'IJMetadata');
  const labels = decodeImageJLabels(bytes, first.ijMetadataByteCounts, st.littleEndian);
  if (!labels || labels.length < sizeC) return [];
  const names = labels.slice(0, sizeC);
  if (names.every((n) => n === '')) return [];
  for (let k = 0; k < Math.min(labels.length, planes); k++) if (labels[k] !== names[k % sizeC]) return [];
  return names;
}

function chooseSeries(session: Session, images: OmeImage[]): OmeImage {
  const me = basename(session.path);
  const own = images.find((img) => img.tiffData.length === 0 || img.tiffData.some((td) => td.fileName === undefined || basename(td.fileName) === me));
  const chosen = own ?? images[0];
  if (images.length > 1) {
    session.warn(`${me}: the OME-XML describes ${images.length} images (series); read ${chosen.id ?? 'the first'}${chosen.name ? ` (${chosen.name})` : ''}`);
  }
  return chosen;
}

async function sourceFor(session: Session, fileName: string | undefined, main: FileSource): Promise<{ src: FileSource; structure: TiffStructure } | null> {
  if (fileName === undefined || basename(fileName) === basename(session.path)) return session.sources.get(session.path)!;
  const path = join(dirname(session.path), basename(fileName)); // never leave the folder
  if (session.sources.has(path)) return session.sources.get(path)!;
  let entry: { src: FileSource; structure: TiffStructure } | null = null;
  try {
    const src = await FileSource.open(path);
    try {
      entry = { src, structure: await readStructure(src) };
    } catch (err) {
      await src.close();
      if (!isFocalError(err) || err.code === 'E_IO') throw err;
      session.warn(`${main.name}: ${basename(path)} of this series is unreadable (${err.message}); its planes are treated as missing`);
    }
  } catch (err) {
    if (!isFocalError(err) || err.code !== 'E_IO') throw err;
    session.warn(`${main.name}: ${basename(path)} of this series is missing (${err.message}); its planes are treated as missing`);
  }
  session.sources.set(path, entry);
  return entry;
}

async function planOme(session: Session, src: FileSource, st: TiffStructure, xml: string): Promise<Plan | undefined> {
  let meta;
  try {
    meta = parseOmeXml(xml);
  } catch (err) {
    session.warn(`${src.name}: the OME-XML cannot be parsed (${(err as Error).message}); reading the file as a plain TIFF`);
    return undefined;
  }
  if (meta.binaryOnly || meta.images.length === 0) {
    session.warn(`${src.name}: the OME-XML ${meta.binaryOnly ? `is in a companion file${meta.binaryOnly.metadataFile ? ` (${meta.binaryOnly.metadataFile})` : ''}, which Focal does not read` : 'describes no image'}; reading the file as a plain TIFF`);
    return undefined;
  }
  const img = chooseSeries(session, meta.images);
  const first = st.pages[0];
  const type = sampleTypeOf(src, first);
  const spp = first.samplesPerPixel;
  if (img.sizeX !== first.width || img.sizeY !== first.height) {
    throw fmtErr(src.path, `OME-XML says ${img.sizeX}×${img.sizeY} pixels but the first IFD is ${first.width}×${first.height}`);
  }
  if (img.sizeC % spp !== 0) throw fmtErr(src.path, `OME-XML SizeC=${img.sizeC} is not a multiple of the ${spp} samples per pixel`);
  const effC = img.sizeC / spp;
  const dims = { c: effC, z: img.sizeZ, t: img.sizeT };
  const P = effC * img.sizeZ * img.sizeT;
  checkPlaneCount(src.path, P * spp, 'the OME-XML');
  const sizes = { sizeC: img.sizeC, sizeZ: img.sizeZ, sizeT: img.sizeT };
  const refs: ({ fileName: string | undefined; ifd: number } | undefined)[] = new Array(P);
  const place = (linear: number, fileName: string | undefined, ifd: number): void => {
    const pos = positionInOrder(img.dimensionOrder, linear, dims);
    refs[pos.c + pos.z * effC + pos.t * effC * img.sizeZ] = { fileName, ifd };
  };
  if (img.tiffData.length === 0) {
    for (let k = 0; k < P; k++) place(k, undefined, k);
  } else {
    for (const td of img.tiffData) {
      if (![td.ifd, td.firstC, td.firstZ, td.firstT].every(Number.isInteger) || (td.planeCount !== undefined && !Number.isInteger(td.planeCount))) {
        throw fmtErr(src.path, 'OME-XML TiffData has an invalid IFD, PlaneCount or First* attribute');
      }
      if (td.firstC >= effC || td.firstZ >= img.sizeZ || td.firstT >= img.sizeT) continue;
      const start = indexInOrder(img.dimensionOrder, { c: td.firstC, z: td.firstZ, t: td.firstT }, dims);
      const count = Math.min(td.planeCount ?? (img.tiffData.length === 1 ? P - start : 1), P - start);
      for (let k = 0; k < count; k++) place(start + k, td.fileName, td.ifd + k);
    }
  }
  const jobs: Job[] = [];
  const present = new Array<boolean>(P * spp).fill(false);
  const files = new Set<string>();
  for (let i = 0; i < P; i++) {
    const ref = refs[i];
    if (!ref) continue;
    const entry = await sourceFor(session, ref.fileName, src);
    if (!entry || ref.ifd >= entry.structure.pages.length) continue;
    const page = entry.structure.pages[ref.ifd];
    sameGeometry(session, first, type, entry.src, page);
    files.add(entry.src.path);
    const c = i % effC;
    const rest = Math.floor(i / effC);
    const targets = Array.from({ length: spp }, (_, s) => c * spp + s + rest * img.sizeC);
    for (const t of targets) present[t] = true;
    jobs.push({ src: entry.src, page, littleEndian: entry.structure.littleEndian, targets });
  }
  let final = sizes;
  let kept = jobs;
  const found = jobs.length;
  if (found < P) {
    const cut = completeSizes(present, sizes.sizeC, sizes.sizeZ, sizes.sizeT);
    if (!cut) throw fmtErr(src.path, `the OME-XML describes ${P} planes but the first one is missing`);
    kept = applyCut(jobs, sizes, cut);
    session.warn(`${src.name}: OME-XML describes ${P} planes (${describeSizes(sizes)}) but only ${found} exist (interrupted acquisition or missing file); read ${kept.length} of ${P} planes as ${describeSizes(cut)}`);
    final = cut;
  }
  const calibration: Calibration = {};
  if (img.physicalSizeX !== undefined) calibration.pixelWidthUm = img.physicalSizeX;
  if (img.physicalSizeY !== undefined) calibration.pixelHeightUm = img.physicalSizeY;
  if (img.physicalSizeZ !== undefined) calibration.zStepUm = img.physicalSizeZ;
  if (img.timeIncrement !== undefined) calibration.timeStepS = img.timeIncrement;
  let channelNames: string[] = [];
  if (spp === 1 && img.channels.length === effC && img.channels.some((c) => c.name)) {
    channelNames = img.channels.map((c, i) => c.name ?? `C${i}`).slice(0, final.sizeC);
  }
  const ome: Record<string, unknown> = {
    dimensionOrder: img.dimensionOrder,
    sizes: { c: img.sizeC, z: img.sizeZ, t: img.sizeT },
    planes: P,
    planesRead: kept.length,
    files: [...files].map((f) => basename(f)),
  };
  if (img.name) ome.imageName = img.name;
  if (img.type) ome.pixelType = img.type;
  if (img.acquisitionDate) ome.acquisitionDate = img.acquisitionDate;
  if (meta.creator) ome.creator = meta.creator;
  if (meta.images.length > 1) ome.series = meta.images.length;
  return {
    format: 'ome',
    width: first.width,
    height: first.height,
    ...final,
    sampleType: type,
    rgb: isRgb(first, type, final.sizeC),
    calibration,
    channelNames,
    metadata: { ome },
    jobs: kept,
    main: st,
    files: [...files],
    description: xml,
  };
}

export async function plan(session: Session): Promise<Plan> {
  const src = await FileSource.open(session.path);
  let structure: TiffStructure;
  try {
    structure = await readStructure(src);
  } catch (err) {
    await src.close();
    throw err;
  }
  session.sources.set(session.path, { src, structure });
  const first = structure.pages[0];
  const description = await readText(src, first.description);
  let p: Plan | undefined;
  if (isOmeXml(description)) p = await planOme(session, src, structure, description);
  if (!p && isImageJDescription(description)) p = await planImageJ(session, src, structure, description);
  if (!p) p = await planPlain(session, src, structure, isOmeXml(description) ? undefined : description, isOmeXml(description) ? 'OME-XML ignored' : undefined);
  p.software = await readText(src, first.software, 4096);
  const dateTime = await readText(src, first.dateTime, 256);
  p.metadata.source = basename(session.path);
  p.metadata.format = p.format;
  if (p.software) p.metadata.software = p.software;
  if (dateTime) p.metadata.dateTime = dateTime;
  return p;
}

/** Byte ranges of consecutive blocks that lie back to back in the file. */
interface Run {
  start: number;
  end: number;
  first: string;
  last: string;
  /** StripOffsets / TileOffsets; absent for an IFD. */
  tag?: string;
}

function describeRun(r: Run): string {
  return r.first === r.last ? r.first : `${r.first} … ${r.last}`;
}

/**
 * Checks every page to be decoded against its file, then the whole stack against the memory
 * budget, before anything is allocated: blocks inside the file, none empty, none inside the
 * header, none overlapping another (one strip shared by thousands of IFDs would turn a small
 * file into gigabytes of planes), and the planes plus decode buffers within the budget.
 */
function checkData(session: Session, p: Plan): void {
  const maxBlock = checkBlockTables(session, p, p.jobs);
  const count = p.sizeC * p.sizeZ * p.sizeT;
  const dtype = dtypeForSample(p.sampleType);
  const planeBytes = p.width * p.height * bytesOf(dtype);
  // Decode buffers: a compressed block and its decoded copy for each page in flight.
  const buffers = Math.min(READ_CONCURRENCY, p.jobs.length) * maxBlock * 2;
  session.overBudget(count * (planeBytes + PLANE_OVERHEAD) + buffers, `the stack (${count} planes of ${p.width}×${p.height} ${dtype})`);
}

/**
 * The block-table half of checkData, for `jobs` (the plan's pages, and for a lazy image also
 * their reduced-resolution levels): every block inside its file, none empty or in the header,
 * none overlapping another block or an IFD. Returns the largest decoded block in bytes.
 */
export function checkBlockTables(session: Session, p: Plan, jobs: readonly Pick<Job, 'src' | 'page'>[]): number {
  const bySource = new Map<string, Run[]>();
  let maxBlock = 0;
  for (const j of jobs) {
    const { extents } = validateBlocks(j.src, j.page, p.sampleType);
    const spb = j.page.planar === 1 || j.page.samplesPerPixel === 1 ? j.page.samplesPerPixel : 1;
    maxBlock = Math.max(maxBlock, j.page.blockWidth * j.page.blockHeight * spb * bytesOf(p.sampleType));
    let runs = bySource.get(j.src.path);
    if (!runs) bySource.set(j.src.path, (runs = []));
    let run: Run | undefined;
    for (const e of extents) {
      if (run && e.start === run.end) {
        run.end = e.end;
        run.last = e.what;
      } else {
        run = { start: e.start, end: e.end, first: e.what, last: e.what, tag: e.tag };
        runs.push(run);
      }
    }
  }
  for (const [path, runs] of bySource) {
    // the image directories themselves: pixel data read from one would be tags read as pixels
    const levelPages = jobs.filter((j) => j.src.path === path && j.page.subIfd !== undefined).map((j) => j.page);
    for (const page of [...(session.sources.get(path)?.structure.pages ?? []), ...levelPages]) {
      runs.push({ start: page.offset, end: page.offset + page.ifdBytes, first: `the directory of ${pageName(page)}`, last: `the directory of ${pageName(page)}` });
    }
    runs.sort((a, b) => a.start - b.start);
    let prev = runs[0];
    for (let i = 1; i < runs.length; i++) {
      const r = runs[i];
      const tag = r.tag ?? prev.tag;
      if (r.start < prev.end && tag !== undefined) {
        throw new FocalError(
          'E_FORMAT',
          `${path}: ${tag} puts ${describeRun(prev)} (bytes ${prev.start}–${prev.end - 1}) and ${describeRun(r)} (bytes ${r.start}–${r.end - 1}) over the same bytes; pixel data must not overlap other pixel data or an image directory (the file is corrupt or built to multiply memory)`,
          { file: path, tag },
        );
      }
      if (r.end > prev.end) prev = r;
    }
  }
  return maxBlock;
}

export function wrap(path: string, err: unknown): FocalError {
  if (isFocalError(err)) {
    if (err.code === 'E_FORMAT' && err.details.file === undefined) {
      return new FocalError('E_FORMAT', `${path}: ${err.message}`, { ...err.details, file: path }, { cause: err });
    }
    return err as FocalError;
  }
  if (err instanceof RangeError && /allocat|array buffer|Array length/i.test(err.message)) {
    return new FocalError('E_UNSUPPORTED', `${path}: the stack is too large to hold in memory (${err.message})`, { file: path }, { cause: err });
  }
  return new FocalError('E_FORMAT', `${path}: cannot read TIFF: ${(err as Error)?.message ?? String(err)}`, { file: path }, { cause: err });
}

/**
 * Reads a TIFF, ImageJ hyperstack or OME-TIFF (including Micro-Manager series split over
 * several files) into a Stack. Throws only FocalError: E_IO (missing / unreadable file),
 * E_FORMAT (not a TIFF, corrupt, truncated), E_UNSUPPORTED (valid but unsupported feature),
 * E_CANCELLED (signal aborted).
 *
 * - Layout: OME-XML (first IFD's description) wins over an ImageJ description; otherwise
 *   every page (reduced-resolution copies and pages of another size skipped, with a
 *   warning) is a z slice. Samples of multi-sample pages become channels; 8-bit RGB
 *   becomes a 3-channel stack with rgb: true.
 * - Sample types: uint8, uint16, float32 are kept; int8, int16 become float32 exactly;
 *   int32, uint32 become float32 (a warning when values beyond ±2^24 may be rounded);
 *   float64 becomes float32 with a warning. 1/4/12/24/64-bit integers, float16 and
 *   complex samples are E_UNSUPPORTED. stack.metadata.sampleType names the file's type
 *   when it was converted.
 * - Missing planes (interrupted acquisition, missing split file, ImageJ file shorter than
 *   its images=): the complete time points are kept; if the first is incomplete, its
 *   complete z slices; failing that, its leading channels. onWarning names the file and
 *   says how many of how many planes were read.
 * - ImageJ descriptions whose images / channels / slices / frames are not positive whole
 *   numbers, whose product is not images=, or that list fewer images than the file has pages:
 *   every page is read as a z slice, with a warning saying why.
 * - Nothing is allocated before the file's block tables have been checked against its
 *   size (inside it, past the header, no empty block, no two blocks overlapping; for
 *   compressed data, a maximum compression ratio) and the whole stack against the memory
 *   budget (options.maxBytes, default defaultReadBudget()). Only regular files are opened.
 *   docs/security.md, "Reading files", lists the guarantees.
 */
export async function readTiff(path: string, options: ReadTiffOptions = {}): Promise<Stack> {
  const warnings: string[] = [];
  const budget = options.maxBytes ?? defaultReadBudget();
  if (!(budget > 0)) throw new FocalError('E_ARGUMENT', `readTiff: maxBytes must be a positive number of bytes, got ${budget}`, { file: path, field: 'maxBytes' });
  const session = new Session(path, (m) => warnings.push(m), budget, true);
  try {
    throwIfAborted(options.signal);
    const p = await plan(session);
    const dtype = dtypeForSample(p.sampleType);
    const n = p.width * p.height;
    checkData(session, p);
    if (n > 2 ** 31 - 1) throw new FocalError('E_UNSUPPORTED', `${path}: planes of ${p.width}×${p.height} pixels are too large`, { file: path });
    const count = p.sizeC * p.sizeZ * p.sizeT;
    const planes: PixelArray[] = new Array(count);
    for (let i = 0; i < count; i++) planes[i] = allocate(dtype, n);
    const stats: DecodeStats = { rounded: false };
    // A few pages in flight: file reads run on libuv's thread pool, so uncompressed pages
    // are copied in parallel (decoding itself stays on this thread).
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < p.jobs.length) {
        const j = p.jobs[next++];
        throwIfAborted(options.signal);
        await decodePage(j.src, j.page, p.sampleType, j.littleEndian, j.targets.map((i) => (i >= 0 ? planes[i] : undefined)), stats, options.signal);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, p.jobs.length) }, worker));
    if (p.sampleType === 'float64') warnings.push(`${basename(path)}: 64-bit floating-point samples were converted to 32-bit float (precision reduced)`);
    if (stats.rounded) warnings.push(`${basename(path)}: ${p.sampleType} values beyond ±2^24 were converted to 32-bit float and may have been rounded`);
    const stack = createStack({
      width: p.width,
      height: p.height,
      dtype,
      sizeC: p.sizeC,
      sizeZ: p.sizeZ,
      sizeT: p.sizeT,
      planes,
      calibration: p.calibration,
      channelNames: p.channelNames,
      rgb: p.rgb,
      metadata: { ...p.metadata, ...(p.sampleType !== dtype ? { sampleType: p.sampleType } : {}) },
    });
    return stack;
  } catch (err) {
    throw wrap(path, err);
  } finally {
    await session.close();
    for (const w of warnings) {
      try {
        options.onWarning?.(w);
      } catch {
        // a failing warning callback must not hide the read's own result or error
      }
    }
  }
}

/**
 * Dimensions, dtype, calibration and layout of a TIFF, without decoding pixel data. Throws like
 * readTiff (the block tables are checked the same way); a stack over the memory budget
 * (options.maxBytes, default defaultReadBudget()) is a warning here, an error for readTiff.
 */
export async function inspectTiff(path: string, options: { maxBytes?: number } = {}): Promise<TiffInfo> {
  const warnings: string[] = [];
  const session = new Session(path, (m) => warnings.push(m), options.maxBytes ?? defaultReadBudget(), false);
  try {
    const p = await plan(session);
    checkData(session, p);
    const first = p.main.pages[0];
    return {
      path,
      format: p.format,
      width: p.width,
      height: p.height,
      sizeC: p.sizeC,
      sizeZ: p.sizeZ,
      sizeT: p.sizeT,
      dtype: dtypeForSample(p.sampleType),
      sampleType: p.sampleType,
      rgb: p.rgb,
      calibration: p.calibration,
      channelNames: p.channelNames,
      pageCount: p.main.pages.length,
      compression: compressionName(first.compression),
      bigTiff: p.main.bigTiff,
      tiled: first.tiled,
      littleEndian: p.main.littleEndian,
      files: p.files,
      ...(p.software ? { software: p.software } : {}),
      ...(p.description ? { description: p.description.slice(0, 4096) } : {}),
      warnings,
      metadata: { ...p.metadata, ...(p.sampleType !== dtypeForSample(p.sampleType) ? { sampleType: p.sampleType } : {}) },
    };
  } catch (err) {
    throw wrap(path, err);
  } finally {
    await session.close();
  }
}
