/**
 * Training data for Deep-R: the autofocus dataset folder (docs/autofocus-dataset.md) and
 * synthetic pairs made on the fly from in-focus images with the optics plugin's simulator.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AUTOFOCUS_DATASET_FORMAT, AUTOFOCUS_DATASET_VERSION, AutofocusDatasetManifestSchema, AutofocusPairRowSchema, FocalError, readTableFile, readTiff, type AutofocusDatasetManifest, type AutofocusPairRow, type SeededRandom } from '../../core/index.js';
import { bornWolfHalfSizePx, defocus } from '../../core/imaging.js';

/** One training pair: raw (not normalised) square patches. */
export interface TrainingPair {
  input: Float32Array;
  target: Float32Array;
  /** Side, px. */
  sizePx: number;
  /** Defocus of the input, µm (sign as in the dataset). */
  defocusUm: number;
}

/** One field of view of an autofocus dataset. */
export interface DatasetFov {
  name: string;
  pairs: TrainingPair[];
  pixelSizeUm: number;
  zStepUm: number;
  patchPx: number;
}

const PairRowSchema = AutofocusPairRowSchema;
type PairRow = AutofocusPairRow;

function bad(file: string, message: string, field?: string): FocalError {
  return new FocalError('E_ARGUMENT', `${file}: ${message}`, { file, ...(field ? { field } : {}) });
}

/**
 * The pair list: pairs.json (the table's JSON form, read by core's readTableFile) or, without
 * it, the manifest's `files.pairs` (pairs.csv).
 * @throws FocalError naming the file and field (`columns`, or `/rows/<i>/<column>`).
 */
async function readRows(dir: string, manifest: AutofocusDatasetManifest): Promise<{ file: string; rows: PairRow[] }> {
  const csvName = manifest.files.pairs;
  let file = join(dir, 'pairs.json');
  if (!(await exists(file))) {
    file = join(dir, csvName);
    if (!(await exists(file))) throw bad(dir, `has neither pairs.json nor ${csvName}`, 'pairs');
  }
  const table = await readTableFile(file);
  for (const column of Object.keys(PairRowSchema.shape)) {
    if (!table.columns.includes(column)) throw bad(file, `has no column '${column}' (columns: ${table.columns.join(', ') || 'none'})`, 'columns');
  }
  const rows = table.rows.map((r, i) => {
    const parsed = PairRowSchema.safeParse(r);
    if (parsed.success) return parsed.data;
    const column = String(parsed.error.issues[0].path[0]);
    const expected = column === 'defocusUm' ? 'a number' : 'an integer ≥ 0';
    throw bad(file, `row ${i}: column ${column} is ${JSON.stringify(r[column] ?? null)}, expected ${expected}`, `/rows/${i}/${column}`);
  });
  return { file, rows };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads one FOV folder of the autofocus dataset format (version 1): manifest.json,
 * pairs.json (the table's JSON form `{columns, rows}`, core's TableJsonSchema; or pairs.csv),
 * inputs.tif and targets.tif.
 * @throws FocalError `E_ARGUMENT` naming the file and field for a wrong format/version,
 *   missing files, non-square or mismatched patches, or pair indices out of range.
 */
export async function readDatasetFov(dir: string, options: { maxDefocusUm?: number } = {}): Promise<DatasetFov> {
  const manifestFile = join(dir, 'manifest.json');
  if (!(await exists(manifestFile))) throw bad(dir, 'has no manifest.json (expected an autofocus dataset FOV folder, docs/autofocus-dataset.md)', 'manifest');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw bad(manifestFile, `is not JSON (${(e as Error).message})`, 'manifest');
  }
  if (raw.format !== AUTOFOCUS_DATASET_FORMAT) throw bad(manifestFile, `format is '${String(raw.format)}', expected '${AUTOFOCUS_DATASET_FORMAT}'`, 'format');
  if (raw.version !== AUTOFOCUS_DATASET_VERSION) throw bad(manifestFile, `version ${String(raw.version)} is not supported (expected ${AUTOFOCUS_DATASET_VERSION})`, 'version');
  // the format's one schema (core/io/autofocus-dataset.ts), as the writer uses it
  const parsed = AutofocusDatasetManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'manifest';
    throw bad(manifestFile, `${field} is ${JSON.stringify(issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown> | undefined)?.[k as PropertyKey], raw) ?? null)}: ${issue.message}`, String(issue.path[0] ?? 'manifest'));
  }
  const manifest = parsed.data;
  const { patchPx, files } = manifest;
  const inputs = await readTiff(join(dir, files.inputs));
  const targets = await readTiff(join(dir, files.targets));
  for (const [name, s] of [['inputs', inputs], ['targets', targets]] as const) {
    if (s.width !== patchPx || s.height !== patchPx) throw bad(join(dir, files[name]), `planes are ${s.width}×${s.height}, manifest says patchPx ${patchPx}`, name);
  }
  const { file: pairsFile, rows } = await readRows(dir, manifest);
  const pairs: TrainingPair[] = [];
  for (const [i, r] of rows.entries()) {
    if (options.maxDefocusUm !== undefined && Math.abs(r.defocusUm) > options.maxDefocusUm) continue;
    if (r.pair >= inputs.planes.length) throw bad(pairsFile, `row ${i}: pair ${r.pair} is outside inputs.tif (${inputs.planes.length} planes)`, `/rows/${i}/pair`);
    if (r.target >= targets.planes.length) throw bad(pairsFile, `row ${i}: target ${r.target} is outside targets.tif (${targets.planes.length} planes)`, `/rows/${i}/target`);
    pairs.push({ input: Float32Array.from(inputs.planes[r.pair]), target: Float32Array.from(targets.planes[r.target]), sizePx: patchPx, defocusUm: r.defocusUm });
  }
  return { name: dir, pairs, pixelSizeUm: manifest.pixelSizeUm ?? NaN, zStepUm: manifest.zStepUm, patchPx };
}

/**
 * Reads a dataset: a folder of FOV sub-folders (or a single FOV folder, which has a manifest.json).
 * @throws FocalError `E_ARGUMENT` (field `dataset`) when the folder holds no FOV.
 */
export async function readAutofocusDataset(dir: string, options: { maxDefocusUm?: number } = {}): Promise<DatasetFov[]> {
  if (!(await exists(dir))) throw new FocalError('E_ARGUMENT', `dataset: folder ${dir} does not exist`, { field: 'dataset', file: dir });
  if (await exists(join(dir, 'manifest.json'))) return [await readDatasetFov(dir, options)];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const fovs: DatasetFov[] = [];
  for (const name of entries) if (await exists(join(dir, name, 'manifest.json'))) fovs.push(await readDatasetFov(join(dir, name), options));
  if (fovs.length === 0) throw new FocalError('E_ARGUMENT', `dataset: ${dir} holds no FOV folder with a manifest.json (docs/autofocus-dataset.md)`, { field: 'dataset', file: dir });
  return fovs;
}

/**
 * Train / validation split by field of view (Deep-R: 0.85 : 0.15, no FOV in both). Deterministic
 * (FOVs in name order; the last ⌈15 %⌉ go to validation); a single FOV is split by pairs instead,
 * with a warning in the returned `note`.
 */
export function splitByFov(fovs: DatasetFov[], validationFraction = 0.15): { train: TrainingPair[]; validation: TrainingPair[]; note?: string } {
  if (fovs.length >= 2) {
    const nVal = Math.max(1, Math.round(fovs.length * validationFraction));
    return { train: fovs.slice(0, fovs.length - nVal).flatMap((f) => f.pairs), validation: fovs.slice(fovs.length - nVal).flatMap((f) => f.pairs) };
  }
  const pairs = fovs[0]?.pairs ?? [];
  const nVal = Math.max(1, Math.round(pairs.length * validationFraction));
  if (pairs.length < 2) throw new FocalError('E_ARGUMENT', `dataset: needs at least 2 pairs, got ${pairs.length}`, { field: 'dataset' });
  return { train: pairs.slice(0, pairs.length - nVal), validation: pairs.slice(pairs.length - nVal), note: 'only one FOV: validation pairs come from the same FOV as training pairs' };
}

/** Optics and camera of the synthetic pairs (defaults: Deep-R's 20×/0.75 NA setting). */
export interface SyntheticOptions {
  na?: number;
  refractiveIndex?: number;
  wavelengthUm?: number;
  pixelSizeUm?: number;
  /** Defocus drawn uniformly in [min, max], µm. Default [−5, 5]. */
  defocusRangeUm?: [number, number];
  /** Expected e⁻ at the brightest in-focus pixel of a crop (default 1000). */
  photons?: number;
  /** Read noise, e⁻ rms (default 1.5). */
  readNoiseE?: number;
  /** Background, e⁻ per pixel (default 10). */
  backgroundPhotons?: number;
}

export const SYNTHETIC_DEFAULTS: Required<SyntheticOptions> = {
  na: 0.75,
  refractiveIndex: 1.0,
  wavelengthUm: 0.53,
  pixelSizeUm: 0.325,
  defocusRangeUm: [-5, 5],
  photons: 1000,
  readNoiseE: 1.5,
  backgroundPhotons: 10,
};

/** An in-focus source image (one plane). */
export interface SourceImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/**
 * Makes a synthetic pair from in-focus images: a random crop (with a margin of the PSF's
 * half-width, so no boundary extension reaches the patch where the image is large enough),
 * imaged by the Born & Wolf model at a defocus drawn uniformly in the range (input) and at
 * 0 µm (target), each with independent Poisson–Gaussian camera noise (optics' `defocus`).
 * The crop is taken before simulation, so the PSF is computed per pair (cost measured in plugins/deepr/docs/deepr.md).
 *
 * @throws FocalError `E_ARGUMENT` when an image is smaller than the patch.
 */
export function syntheticPair(sources: SourceImage[], patchPx: number, rng: SeededRandom, options: SyntheticOptions = {}, fixedDefocusUm?: number): TrainingPair {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  if (sources.length === 0) throw new FocalError('E_ARGUMENT', 'synthetic: no source images', { field: 'synthetic' });
  const src = sources[rng.int(sources.length)];
  if (src.width < patchPx || src.height < patchPx) {
    throw new FocalError('E_ARGUMENT', `synthetic: a source image is ${src.width}×${src.height}, smaller than the ${patchPx}-px patch`, { field: 'patch' });
  }
  const maxAbs = Math.max(Math.abs(o.defocusRangeUm[0]), Math.abs(o.defocusRangeUm[1]));
  const wanted = bornWolfHalfSizePx({ na: o.na, refractiveIndex: o.refractiveIndex, wavelengthUm: o.wavelengthUm, pixelSizeUm: o.pixelSizeUm, maxDefocusUm: maxAbs });
  const mx = Math.min(wanted, Math.floor((src.width - patchPx) / 2));
  const my = Math.min(wanted, Math.floor((src.height - patchPx) / 2));
  const cw = patchPx + 2 * mx;
  const ch = patchPx + 2 * my;
  const x0 = rng.int(src.width - cw + 1);
  const y0 = rng.int(src.height - ch + 1);
  const crop = new Float32Array(cw * ch);
  let max = 0;
  for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) {
    const v = src.data[(y0 + y) * src.width + x0 + x];
    crop[y * cw + x] = v;
    if (v > max) max = v;
  }
  if (!(max > 0)) crop[0] = 1e-3; // an all-dark crop: photons needs a positive maximum
  const dz = fixedDefocusUm ?? rng.uniform(o.defocusRangeUm[0], o.defocusRangeUm[1]);
  const seed = rng.seed();
  const common = { na: o.na, refractiveIndex: o.refractiveIndex, wavelengthUm: o.wavelengthUm, pixelSizeUm: o.pixelSizeUm, photons: o.photons, readNoiseE: o.readNoiseE, backgroundPhotons: o.backgroundPhotons, seed };
  const input = defocus(crop, cw, ch, { ...common, defocusUm: dz, noiseStream: 0 });
  const target = defocus(crop, cw, ch, { ...common, defocusUm: 0, noiseStream: 1 });
  const cut = (img: Float32Array): Float32Array => {
    const out = new Float32Array(patchPx * patchPx);
    for (let y = 0; y < patchPx; y++) out.set(img.subarray((y + my) * cw + mx, (y + my) * cw + mx + patchPx), y * patchPx);
    return out;
  };
  return { input: cut(input), target: cut(target), sizePx: patchPx, defocusUm: dz };
}
