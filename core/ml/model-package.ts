/**
 * Model packages: a folder with `manifest.json` (zod-validated, modelled on the
 * BioImage Model Zoo's rdf.yaml: name, version, description, authors, license,
 * inputs/outputs with axes and preprocessing, weights by format with sha256,
 * training provenance) and the weights — tfjs layers format under `tfjs/`
 * (model.json + one weights shard), plus `model.onnx` where exported.
 * Every file's sha256 is checked on load.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FocalError } from '../errors.js';
import { sha256File } from '../io/hash.js';
import { parseModelExtras, type ModelExtrasDef, type ModelExtrasResolver } from './model-extras.js';

export const MODEL_MANIFEST_FILE = 'manifest.json';
export const MODEL_MANIFEST_FORMAT = 'focal-model/1';

type Tf = typeof tfType;

/**
 * The tfjs instance used by the model-package and inference code: core's `loadTf()`
 * (best available backend first, FOCAL_BACKEND override; see core/ml/backend.ts).
 */
export async function mlTf(): Promise<Tf> {
  const { loadTf } = await import('./backend.js');
  return (await loadTf()).tf as unknown as Tf;
}

const relativeFile = z
  .string()
  .min(1)
  .refine((f) => !isAbsolute(f) && !normalize(f).split(/[\\/]/).includes('..'), { message: 'must be a path inside the model folder' });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex digits' });

export const NormalisationSchema = z.discriminatedUnion('kind', [
  /** Per image: (x − mean) / std, as Deep-R. */
  z.object({ kind: z.literal('zero-mean-unit-variance'), epsilon: z.number().nonnegative().default(1e-6) }),
  /** (x − lo) / (hi − lo) with lo, hi the given percentiles of the image. */
  z.object({ kind: z.literal('scale-range'), minPercentile: z.number().min(0).max(100), maxPercentile: z.number().min(0).max(100) }),
  /** (x − offset) · gain with fixed numbers. */
  z.object({ kind: z.literal('scale-linear'), offset: z.number(), gain: z.number() }),
  z.object({ kind: z.literal('none') }),
]);

export const TensorDescriptionSchema = z.object({
  /** Number of channels (last axis). */
  channels: z.number().int().positive(),
  /** Axes of one sample, BioImage-style letters; Focal's models use 'YXC'. */
  axes: z.literal('YXC'),
  /** Optional channel names (e.g. ['DAPI']). */
  channelNames: z.array(z.string()).optional(),
  normalisation: NormalisationSchema,
});

export const WeightsEntrySchema = z.object({
  /** Main file, relative to the package folder (tfjs: model.json; onnx: the .onnx file). */
  file: relativeFile,
  format: z.enum(['tfjs-layers', 'onnx']),
  sha256,
  /** Further files of this weights format (tfjs: the weight shards), each with its sha256. */
  shards: z.array(z.object({ file: relativeFile, sha256 })).optional(),
});

export const ModelManifestSchema = z.object({
  format: z.literal(MODEL_MANIFEST_FORMAT).default(MODEL_MANIFEST_FORMAT),
  name: z.string().min(1),
  version: z.string().regex(/^\d+\.\d+\.\d+([-+].*)?$/, { message: 'must be a semantic version (e.g. 1.0.0)' }),
  /** What the model does, e.g. 'autofocus' or 'defocus-map'. */
  task: z.string().min(1),
  description: z.string(),
  authors: z.array(z.object({ name: z.string().min(1), affiliation: z.string().optional() })).optional(),
  license: z.string().optional(),
  tags: z.array(z.string()).optional(),
  inputs: TensorDescriptionSchema,
  outputs: TensorDescriptionSchema.omit({ normalisation: true }).extend({ normalisation: NormalisationSchema.optional() }),
  pixelSizeUm: z.number().positive(),
  /** Objective NA of the training data (optical models; optional: not every task has one). */
  objectiveNa: z.number().positive().max(1.7).optional(),
  /** Defocus range (µm) the model was trained on, [min, max] (focus models; optional for other tasks). */
  trainedDefocusRangeUm: z.tuple([z.number(), z.number()]).refine(([a, b]) => a <= b, { message: 'min must not exceed max' }).optional(),
  /** Default tile size (network input, px) and halo (px of context on each side) for tiled inference. */
  tilePx: z.number().int().positive(),
  haloPx: z.number().int().nonnegative(),
  /** Tiles must be a multiple of this (2^levels for a U-Net). */
  multipleOf: z.number().int().positive().default(1),
  weights: z.array(WeightsEntrySchema).min(1),
  training: z.object({
    command: z.string().min(1),
    data: z.string().min(1),
    iterations: z.number().int().nonnegative().optional(),
    date: z.string().optional(),
  }),
  /**
   * Task-specific information (architecture, training record, evaluation figures, …). Free-form
   * here; the plugin that owns the task declares its schema (model-extras.ts), and loading a
   * package with it validates and types this field.
   */
  extra: z.record(z.string(), z.unknown()).optional(),
});

/** A parsed manifest; `E` is the type of `extra` (free-form unless loaded with its task's extras). */
export type ModelManifest<E extends object = Record<string, unknown>> = Omit<z.output<typeof ModelManifestSchema>, 'extra'> & { extra?: E };
export type ModelManifestInput = z.input<typeof ModelManifestSchema>;
export type WeightsEntry = z.infer<typeof WeightsEntrySchema>;

export interface ModelPackage<E extends object = Record<string, unknown>> {
  /** Absolute path of the package folder. */
  dir: string;
  manifest: ModelManifest<E>;
  /** Absolute (real) path of the weights' main file of each format present. */
  files: { tfjs?: string; onnx?: string };
  /** Real path → sha256 of every file checked at load (inside the package, listed in the manifest). */
  verified: Record<string, string>;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/** Validates a manifest object; `E_MANIFEST` naming each bad field. */
export function parseModelManifest(value: unknown, file = MODEL_MANIFEST_FILE): ModelManifest {
  const r = ModelManifestSchema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new FocalError('E_MANIFEST', `invalid model manifest ${file}: ${describeIssues(r.error)}`, {
      file,
      field: first ? first.path.join('.') : undefined,
      problems: r.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}


/** The real path of `file` (relative to the package) if it lies inside the package's real folder; E_MANIFEST naming the field otherwise. */
async function insidePackage(realRoot: string, dir: string, file: string, field: string, what = 'weights file'): Promise<string> {
  const path = resolve(dir, file);
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    throw new FocalError('E_IO', `model package ${realRoot}: ${what} '${file}' is missing or unreadable (${field}: ${(e as Error).message})`, { file: path, field }, { cause: e });
  }
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    throw new FocalError('E_MANIFEST', `model package ${realRoot}: '${file}' (${field}) leads outside the package (to ${real}); every file a package loads must lie inside its folder`, { file: path, field, target: real });
  }
  const s = await stat(real);
  if (!s.isFile()) throw new FocalError('E_MANIFEST', `model package ${realRoot}: '${file}' (${field}) is not a regular file`, { file: path, field });
  return real;
}

/** Reads a package file (inside the package, real path) and checks its sha256; returns its real path and bytes. */
async function checkFile(realRoot: string, file: string, expected: string, field: string): Promise<{ path: string; bytes: Buffer }> {
  const path = await insidePackage(realRoot, realRoot, file, field);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new FocalError('E_IO', `model package ${realRoot}: weights file '${file}' is missing or unreadable (${(e as Error).message})`, { file: path, field }, { cause: e });
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) {
    throw new FocalError('E_FORMAT', `model package ${realRoot}: sha256 of '${file}' is ${actual}, the manifest says ${expected} — the file is corrupt or was changed`, { file: path, field, expected, actual });
  }
  return { path, bytes };
}

interface TfjsModelJson {
  modelTopology: object; format?: string; generatedBy?: string; convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tfType.io.WeightsManifestEntry[] }[];
  trainingConfig?: tfType.io.TrainingConfig; userDefinedMetadata?: Record<string, unknown>;
}

function parseTfjsModelJson(bytes: Buffer, file: string, field: string): TfjsModelJson {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new FocalError('E_FORMAT', `tfjs model ${file} is not valid JSON: ${(e as Error).message}`, { file, field }, { cause: e });
  }
  const j = json as Partial<TfjsModelJson> | null;
  if (!j || typeof j !== 'object' || typeof j.modelTopology !== 'object' || !Array.isArray(j.weightsManifest)
    || !j.weightsManifest.every((g) => g && Array.isArray(g.paths) && g.paths.every((p) => typeof p === 'string') && Array.isArray(g.weights))) {
    throw new FocalError('E_FORMAT', `tfjs model ${file}: needs modelTopology and weightsManifest[].paths/weights`, { file, field });
  }
  return j as TfjsModelJson;
}

/** The last axis of the InputLayer's batch_input_shape in a tfjs layers topology, when it states one. */
function topologyInputChannels(topology: object): number | undefined {
  const layers = (topology as { config?: { layers?: { class_name?: string; config?: { batch_input_shape?: unknown } }[] } }).config?.layers;
  // several inputs (a shared-encoder network such as TSVA's) take the declared channels split between them
  const inputs = layers?.filter((l) => l.class_name === 'InputLayer') ?? [];
  let sum = 0;
  for (const input of inputs) {
    const shape = input.config?.batch_input_shape;
    const last = Array.isArray(shape) ? shape[shape.length - 1] : undefined;
    if (typeof last !== 'number') return undefined;
    sum += last;
  }
  return inputs.length > 0 ? sum : undefined;
}

export interface LoadModelPackageOptions {
  /**
   * Validates `extra` with its task's declared schema (model-extras.ts): a resolver (the host's
   * plugin registry, a ModelExtrasRegistry) looks the manifest's task up, and a task nobody
   * declares keeps a free-form `extra`; a single declaration also requires the manifest's task
   * to be its task. `E_MANIFEST` naming `extra.<field>` or `task` and the manifest file.
   */
  extras?: ModelExtrasDef | ModelExtrasResolver;
}

/**
 * Reads and validates a model package. Every file it loads — each weights entry's main file
 * and shards, and every weights path a tfjs model.json names — must lie inside the package
 * folder after symlinks are resolved, and must be listed with its sha256 in the manifest
 * (tfjs weight paths: as a shard of that entry); each sha256 is checked. The tfjs network's
 * input channels are checked against `inputs.channels` (outputs: in loadTfjsModel). With
 * `options.extras`, `extra` is validated with its task's schema and returned as parsed.
 */
export async function loadModelPackage<S extends z.ZodType>(dir: string, options: { extras: ModelExtrasDef<S> }): Promise<ModelPackage<z.output<S> & object> & { manifest: { extra: z.output<S> } }>;
export async function loadModelPackage(dir: string, options?: LoadModelPackageOptions): Promise<ModelPackage>;
export async function loadModelPackage(dir: string, options: LoadModelPackageOptions = {}): Promise<ModelPackage> {
  const root = resolve(dir);
  const manifestPath = join(root, MODEL_MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
    throw new FocalError('E_IO', isDir ? `model package ${root} has no ${MODEL_MANIFEST_FILE}` : `model package folder ${root} does not exist`, { file: manifestPath }, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FocalError('E_MANIFEST', `model manifest ${manifestPath} is not valid JSON: ${(e as Error).message}`, { file: manifestPath }, { cause: e });
  }
  const manifest = parseModelManifest(json, manifestPath);
  const extras = options.extras;
  if (extras) {
    let def: ModelExtrasDef | undefined;
    if ('schema' in extras) {
      if (manifest.task !== extras.task) throw new FocalError('E_MANIFEST', `model package ${root}: task is '${manifest.task}', expected '${extras.task}'`, { file: manifestPath, field: 'task', expected: extras.task, got: manifest.task });
      def = extras;
    } else def = await extras.extrasFor(manifest.task);
    if (def) manifest.extra = parseModelExtras(def, manifest.extra, manifestPath) as Record<string, unknown>;
  }
  const realRoot = await realpath(root);
  const files: ModelPackage['files'] = {};
  const verified: Record<string, string> = {};
  for (const [i, w] of manifest.weights.entries()) {
    const main = await checkFile(realRoot, w.file, w.sha256, `weights.${i}.file`);
    verified[main.path] = w.sha256;
    const shards = new Map<string, string>();
    for (const [k, s] of (w.shards ?? []).entries()) {
      const shard = await checkFile(realRoot, s.file, s.sha256, `weights.${i}.shards.${k}.file`);
      verified[shard.path] = s.sha256;
      shards.set(shard.path, s.sha256);
    }
    if (w.format === 'tfjs-layers') {
      const modelJson = parseTfjsModelJson(main.bytes, main.path, `weights.${i}.file`);
      for (const [g, group] of modelJson.weightsManifest.entries()) {
        for (const p of group.paths) {
          const field = `weights.${i}.file (${w.file} weightsManifest.${g}.paths)`;
          if (isAbsolute(p)) throw new FocalError('E_MANIFEST', `model package ${realRoot}: ${w.file} names the absolute weights path '${p}'; weights must lie inside the package`, { file: main.path, field });
          const real = await insidePackage(realRoot, dirname(main.path), p, field);
          if (!shards.has(real)) {
            throw new FocalError('E_MANIFEST', `model package ${realRoot}: ${w.file} loads '${p}', which the manifest does not list with a sha256 (weights.${i}.shards); it would load unchecked`, { file: main.path, field: `weights.${i}.shards`, path: p });
          }
        }
      }
      const inC = topologyInputChannels(modelJson.modelTopology);
      if (inC !== undefined && inC !== manifest.inputs.channels) {
        throw new FocalError('E_MANIFEST', `model package ${realRoot}: inputs.channels is ${manifest.inputs.channels}, the network (${w.file}) takes ${inC}`, { file: manifestPath, field: 'inputs.channels', manifest: manifest.inputs.channels, network: inC });
      }
      files.tfjs ??= main.path;
    } else files.onnx ??= main.path;
  }
  return { dir: root, manifest, files, verified };
}

/**
 * A tfjs IOHandler that reads a layers model (model.json + shards) from disk. With `verified`
 * (real path → sha256, as loadModelPackage returns), model.json and every weights file it names
 * must be one of those files (inside the package) with that sha256, checked on the bytes read.
 */
export function tfjsFileLoader(modelJsonPath: string, verified?: Readonly<Record<string, string>>): tfType.io.IOHandler {
  const read = async (path: string, what: string): Promise<Buffer> => {
    if (!verified) return readFile(path);
    const real = await realpath(path).catch(() => path);
    const expected = verified[real];
    if (!expected) throw new FocalError('E_MANIFEST', `tfjs model ${modelJsonPath}: ${what} ${path} is not a file of the model package with a sha256 in its manifest`, { file: path, field: 'weights' });
    const bytes = await readFile(real);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== expected) throw new FocalError('E_FORMAT', `tfjs model ${modelJsonPath}: sha256 of ${path} is ${actual}, the manifest says ${expected} — the file was changed`, { file: path, field: 'weights', expected, actual });
    return bytes;
  };
  return {
    async load() {
      const json = parseTfjsModelJson(await read(modelJsonPath, 'model.json'), modelJsonPath, 'weights');
      const weightSpecs: tfType.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) buffers.push(await read(resolve(dirname(modelJsonPath), p), 'weights file'));
      }
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      const artifacts: tfType.io.ModelArtifacts = {
        modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy ?? undefined,
        weightSpecs, weightData, trainingConfig: json.trainingConfig, userDefinedMetadata: json.userDefinedMetadata as {} | undefined,
      };
      return artifacts;
    },
  };
}

/** Loads the package's tfjs layers model (E_UNSUPPORTED if the package has none). */
export async function loadTfjsModel(pkg: ModelPackage, tf?: Tf): Promise<tfType.LayersModel> {
  if (!pkg.files.tfjs) throw new FocalError('E_UNSUPPORTED', `model package ${pkg.dir} has no tfjs-layers weights`, { file: pkg.dir, field: 'weights' });
  const t = tf ?? (await mlTf());
  const model = await t.loadLayersModel(tfjsFileLoader(pkg.files.tfjs, pkg.verified));
  const check = (field: 'inputs' | 'outputs', shape: (number | null)[] | undefined): void => {
    const network = shape?.[shape.length - 1];
    const declared = pkg.manifest[field].channels;
    if (typeof network === 'number' && network !== declared) {
      model.dispose();
      throw new FocalError('E_MANIFEST', `model package ${pkg.dir}: ${field}.channels is ${declared}, the network's ${field === 'inputs' ? 'input' : 'output'} has ${network} channels`, { file: join(pkg.dir, MODEL_MANIFEST_FILE), field: `${field}.channels`, manifest: declared, network });
    }
  };
  // several inputs (a shared-encoder network) take the declared channels split between them
  const inputChannels = model.inputs.map((i) => i.shape[i.shape.length - 1]);
  check('inputs', inputChannels.every((c) => typeof c === 'number') ? [(inputChannels as number[]).reduce((a, b) => a + b, 0)] : undefined);
  check('outputs', model.outputs[0]?.shape);
  return model;
}

export interface SaveModelPackageOptions {
  /** The manifest without `weights` (filled in from the files written). */
  manifest: Omit<ModelManifestInput, 'weights'>;
  tfModel: tfType.LayersModel;
  /** Also export ONNX (`model.onnx`) with Focal's exporter (default true). */
  exportOnnx?: boolean;
}

/**
 * Writes a model package: tfjs layers format (tfjs/model.json + tfjs/weights.bin),
 * model.onnx (optional), manifest.json with every file's sha256. Written into a
 * temporary sibling folder and renamed into place, so a reader never sees half a package;
 * an existing package at `dir` is replaced.
 */
export async function saveModelPackage(dir: string, options: SaveModelPackageOptions): Promise<ModelPackage> {
  const root = resolve(dir);
  // Validate the caller's fields before writing anything (placeholder weights entry).
  parseModelManifest({ ...options.manifest, weights: [{ file: 'x', format: 'onnx', sha256: '0'.repeat(64) }] }, `${root}${sep}${MODEL_MANIFEST_FILE}`);
  const tmp = join(dirname(root), `.${basename(root)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(join(tmp, 'tfjs'), { recursive: true });
  try {
    const weights: WeightsEntry[] = [];
    await options.tfModel.save({
      async save(artifacts) {
        const data = artifacts.weightData;
        const bytes = data === undefined ? new Uint8Array(0)
          : Array.isArray(data) ? Buffer.concat(data.map((b) => new Uint8Array(b))) : new Uint8Array(data);
        const modelJson = {
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
          ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        };
        await writeFile(join(tmp, 'tfjs', 'weights.bin'), bytes);
        await writeFile(join(tmp, 'tfjs', 'model.json'), JSON.stringify(modelJson));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength } };
      },
    });
    weights.push({
      file: 'tfjs/model.json', format: 'tfjs-layers', sha256: await sha256File(join(tmp, 'tfjs', 'model.json')),
      shards: [{ file: 'tfjs/weights.bin', sha256: await sha256File(join(tmp, 'tfjs', 'weights.bin')) }],
    });
    if (options.exportOnnx !== false) {
      const { exportOnnx } = await import('./onnx/export.js');
      const bytes = exportOnnx(options.tfModel, { docString: `${options.manifest.name} ${options.manifest.version}` });
      await writeFile(join(tmp, 'model.onnx'), bytes);
      weights.push({ file: 'model.onnx', format: 'onnx', sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const manifest = parseModelManifest({ ...options.manifest, weights }, join(root, MODEL_MANIFEST_FILE));
    await writeFile(join(tmp, MODEL_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const old = `${tmp}-old`;
    const hadOld = await rename(root, old).then(() => true, () => false);
    await rename(tmp, root);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return loadModelPackage(root);
}

/** The models/ folder of Focal's installation (found upwards from this file: works from source and from dist/). */
export function bundledModelsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'models'))) return join(dir, 'models');
    dir = dirname(dir);
  }
  return join(here, '..', '..', 'models');
}

/**
 * Names a package's trained weights for provenance ("name version (tfjs weights sha256 …)"): the
 * hash of the tfjs weight data (its first shard), which changes with every training run, not that
 * of model.json, which only changes with the architecture; the ONNX file's when there is no tfjs.
 */
export function weightsSource(manifest: Pick<ModelManifest, 'name' | 'version' | 'weights'>): string {
  const tfjs = manifest.weights.find((w) => w.format === 'tfjs-layers');
  const sha = tfjs ? (tfjs.shards?.[0]?.sha256 ?? tfjs.sha256) : (manifest.weights[0]?.sha256 ?? '');
  return `${manifest.name} ${manifest.version} (${tfjs ? 'tfjs' : manifest.weights[0]?.format ?? ''} weights sha256 ${sha.slice(0, 12)}…)`;
}

/**
 * A model param's value as a package folder: a path (absolute, relative to the working directory,
 * or anything with a slash) that must exist, or the name of a bundled model (a folder under
 * {@link bundledModelsDir}); a bare name that is not bundled is tried as a folder in the working
 * directory. `field` names the param in errors; `hint` is appended to the not-found message.
 * @throws FocalError `E_PARAMS` (details.field = `field`) when nothing is found.
 */
export function resolveModelDir(model: string, options: { field?: string; hint?: string } = {}): string {
  const field = options.field ?? 'model';
  if (isAbsolute(model) || model.includes('/') || model.includes('\\')) {
    if (existsSync(model)) return resolve(model);
    throw new FocalError('E_PARAMS', `${field}: folder ${model} does not exist`, { field });
  }
  const bundled = join(bundledModelsDir(), model);
  if (existsSync(bundled)) return bundled;
  if (existsSync(model)) return resolve(model);
  throw new FocalError('E_PARAMS', `${field}: '${model}' is neither a folder nor a bundled model (looked in ${bundledModelsDir()})${options.hint ?? ''}`, { field });
}
