import type { InjectionToken } from 'tsyringe';
import type { z } from 'zod';
import type { DType } from '../data/dtype.js';
import type { Calibration, Image } from '../data/image.js';
import type { JsonValue, ModelRef } from '../data/model.js';
import type { Stack } from '../data/stack.js';
import type { Table } from '../data/table.js';
import type { LazyImage, RegionSource } from '../io/lazy-image.js';
import type { ModelExtrasDef } from '../ml/model-extras.js';
import type { BundledFile, ReaderContribution } from './manifest.js';

/** The kinds of value that flow between pipeline nodes. */
export type PortType = 'image' | 'stack' | 'table' | 'model' | 'json';
export const PORT_TYPES: readonly PortType[] = ['image', 'stack', 'table', 'model', 'json'];

export interface PortValueMap {
  image: Image;
  stack: Stack;
  table: Table;
  model: ModelRef;
  json: JsonValue;
}

export interface PortSpec {
  type: PortType;
  description?: string;
  /** An optional input may be left unconnected; an optional output may be absent from the result. */
  optional?: boolean;
}

export type Ports = Record<string, PortSpec>;

export type PortValues<P extends Ports> = {
  [K in keyof P as P[K]['optional'] extends true ? never : K]: PortValueMap[P[K]['type']];
} & {
  [K in keyof P as P[K]['optional'] extends true ? K : never]?: PortValueMap[P[K]['type']];
};

/**
 * Whether a value of type `from` may feed a port of type `to`: the same type; an image
 * into a stack port (it becomes a one-plane stack); or a stack into an image port, which
 * the executor checks at run time to hold exactly one plane (else a clear E_PORT error).
 */
export function portAccepts(to: PortType, from: PortType): boolean {
  return to === from || (to === 'stack' && from === 'image') || (to === 'image' && from === 'stack');
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Resolves services registered in Focal's tsyringe container (I/O, compute, and those plugins add). */
export interface ServiceProvider {
  resolve<T>(token: InjectionToken<T>): T;
}

/** What an operation's `run` receives besides its inputs and parameters. */
export interface OpContext {
  /** Tagged with plugin, op and node. */
  readonly log: Logger;
  /** Reports progress of this operation, fraction in [0, 1]. */
  progress(fraction: number, label?: string): void;
  /** Aborted when the run is cancelled; long loops check it between slices (`throwIfAborted`). */
  readonly signal: AbortSignal;
  readonly services: ServiceProvider;
  /** Pipeline node id when run from a pipeline. */
  readonly nodeId?: string;
  /**
   * Whether anything uses this output port (a later node, or a pipeline output). An operation
   * may skip computing an output nobody wants and leave it out of its result; absent (an op
   * run outside a pipeline): every output is wanted.
   */
  wants?(output: string): boolean;
  /**
   * In a tiled run (core's tiledOperation): the rectangle of this piece's output that is kept,
   * px in the piece; the rest is halo and thrown away, so an op may leave it uncomputed (a
   * network run in tiles skips the tiles that do not reach it). Absent: every pixel is kept.
   */
  keep?: { x: number; y: number; width: number; height: number };
}

export type ParamsSchema = z.ZodObject<z.ZodRawShape>;

export interface OperationDef<P extends ParamsSchema = ParamsSchema, I extends Ports = Ports, O extends Ports = Ports> {
  /** `<pluginId>.<name>`, lower-case words joined by '-', e.g. `deconvolution.richardson-lucy`. */
  id: string;
  title: string;
  description: string;
  inputs: I;
  outputs: O;
  /** zod object: defaults, bounds and enums; units in names (`sigmaPx`, `defocusUm`); `.describe()` each field. */
  params: P;
  run(ctx: OpContext, inputs: PortValues<I>, params: z.output<P>): Promise<PortValues<O>> | PortValues<O>;
  /**
   * Declares that, with these params, the op (one image/stack input, one image/stack output)
   * can run on pieces of a plane: each output pixel depends only on input pixels within
   * `haloPx` of it (image edges handled by the op itself), the output has the input's size
   * and the given dtype. Absent, or undefined for these params (e.g. a min–max rescale): the
   * op needs whole planes. Core's tiled executor (`tiledOperation`) uses it to stream images
   * larger than memory; the tiled result equals the whole-plane result exactly.
   */
  tiling?(params: z.output<P>, input: TilingInput, others?: Readonly<Record<string, unknown>>): TilingPlan | undefined;
  /**
   * Declares that, with these params, the op reduces a plane it reads tile by tile to small
   * outputs (tables, JSON), without the plane in memory: e.g. a particle count whose partial
   * label tables are merged across tile borders (core's `TiledComponents`). Core's
   * `tiledReduction` runs it on a region source; the outputs equal the whole-plane run's.
   * Absent, or undefined for these params: the op needs whole planes.
   */
  reduceTiles?(params: z.output<P>, input: { dtype: DType; calibration: Calibration }): TiledReduction | undefined;
  /**
   * Declares that, with these params, the op's output (one image/stack port) is the rectangle
   * `{ x, y, width, height }` of its one image/stack input, pixels unchanged (stack.crop). A
   * streamed run (core/pipeline/stream.ts) then reads that window of the input region by
   * region instead of running the op; throw `E_PARAMS` for a rectangle outside the input.
   */
  window?(params: z.output<P>, input: { width: number; height: number }): { x: number; y: number; width: number; height: number } | undefined;
  /**
   * For an op that standardises each plane by its own mean and σ (learned ops): the names of
   * the params that, when given, make it use these statistics instead. With them its `tiling`
   * may be declared, since every piece is then normalised as the whole plane is; a streamed run
   * (core/pipeline/stream.ts) measures a one-plane input's mean and σ in one pass and passes
   * them when the plane does not fit in memory. With `perChannel` the two params are lists, one
   * value per channel (an op whose tiling gathers channels, `TilingPlan.channels: 'together'`,
   * and standardises each channel by its own statistics); the streamer measures every channel.
   */
  planeStatistics?: { meanParam: string; stdParam: string; perChannel?: boolean };
  /**
   * For an op that needs another statistic of the whole plane than a mean and σ (a contrast
   * stretch's saturated limits, from the plane's histogram), and declares `tiling` only once it
   * is given as a param: reads a one-plane input (one channel, z and t) region by region and
   * returns the params with the statistic. A streamed run (core/pipeline/stream.ts) calls it
   * when the plane does not fit in memory, then tiles the op with these params. The tiled result
   * must equal the whole-plane run's.
   */
  measurePlane?(params: z.output<P>, source: RegionSource, options: { tileSize: number; signal?: AbortSignal }): Promise<z.input<P>>;
  /**
   * Declares how a streamed run (core/pipeline/stream.ts) makes this op's outputs when neither
   * `tiling` nor `window` describes it: an op that reads its input in its own pattern, such as a
   * mosaic assembled from scanner tiles read one at a time (tsva.slide). Its image/stack inputs
   * come as region sources read lazily (`RegionSource`), its other inputs (tables, JSON) whole.
   * Returns a region source per image/stack output it makes and, for its table/JSON outputs,
   * `finish()`, which the run calls after the images are written (computing whatever those reads
   * did not). Undefined: not with these params or inputs (the run then tries the other ways).
   */
  stream?(ctx: OpContext, inputs: Readonly<Record<string, unknown>>, params: z.output<P>): Promise<OpStream | undefined>;
  /**
   * The memory a run on the whole of this input holds at its peak (input, outputs and working
   * copies), bytes, for an op whose copies are many times its input (a particle count: labels,
   * masks, an RGB overlay). A streamed run that has to run the op on whole planes does so when
   * this fits half its memory budget; without it, when the input fits a quarter.
   */
  wholeBytes?(params: z.output<P>, input: { width: number; height: number; sizeC: number; sizeZ: number; sizeT: number; dtype: DType }): number;
}

/** An op's own streamed outputs (see OperationDef.stream). */
export interface OpStream {
  /** Output port → its pixels, computed as they are read (level 0 only). */
  images: Record<string, RegionSource>;
  /** The op's table/JSON outputs, complete: called once, after the images are written (or when no image is wanted). */
  finish?(onProgress?: (fraction: number) => void): Promise<Record<string, unknown>>;
  /** Memory one band of `rows` full-width rows costs while it is read (the run sizes its bands by it), bytes. */
  bandBytes(rows: number): number;
  /** Releases what the stream holds (a network's session): called once when the run ends, whatever happened. */
  close?(): Promise<void>;
}

/** How an op reduces a plane read tile by tile (see OperationDef.reduceTiles). */
export interface TiledReduction {
  /** The output ports this reduction fills (the others, e.g. a label image, are not made). */
  outputs: readonly string[];
  /** Reads `source` (one channel, every z/t plane) region by region and returns those outputs. */
  run(ctx: OpContext, source: RegionSource, options: { tileSize: number }): Promise<Record<string, unknown>>;
}

/** What an op's `tiling` is told about the input it would be run on piece by piece. */
export interface TilingInput {
  dtype: DType;
  calibration: Calibration;
  /** Channels of the tiled input, when the caller knows them (a streamed run does). */
  sizeC?: number;
  /**
   * The output port the caller assembles (a streamed run asks once per pipeline output it
   * needs); absent: the op's default. An op with several image outputs (staining.cascade) may
   * answer with a plan for that port (`TilingPlan.output`).
   */
  output?: string;
}

/** How an op runs tile by tile (see OperationDef.tiling). */
export interface TilingPlan {
  /** Input pixels beyond each side of a tile that the op needs, px (0 for a point operation). */
  haloPx: number;
  /** Pixel type of the output. */
  dtype: DType;
  /**
   * The input port that is cut into tiles, when the op has several inputs (default: its only
   * image/stack input). The other inputs (a PSF) are given whole to every tile
   * (`TiledOptions.inputs`); `tiling` sees them as its third argument.
   */
  input?: string;
  /** The output port that is assembled from the tiles, when the op has several outputs (default: its only one); the others are not made. */
  output?: string;
  /**
   * 'planes' (default): each piece is one plane (one channel, one z, one t), the output has
   * the input's channels. 'together': the op needs every channel of a tile at once (a network
   * taking several channels in); each piece is a stack of all the input's channels at one z
   * and t, and its output a stack of `outputChannels` channels (which may differ from the
   * input's), at the same z and t.
   */
  channels?: 'planes' | 'together';
  /** With channels 'together': the output's channel count (default: the input's). */
  outputChannels?: number;
  /** With channels 'together': the output is RGB colour (uint8, 3 channels; `Stack.rgb`). */
  outputRgb?: boolean;
  /** With channels 'together': the output's channel names (default: the input's when the counts agree). */
  outputChannelNames?: readonly string[];
  /**
   * Every piece (halo included) starts at a multiple of `gridPx` in image coordinates (or at
   * the image's edge). For an op that tiles its input internally on a grid anchored at the
   * input's origin (a network run in overlapping tiles with blended seams): with gridPx its
   * step and a halo that covers one of its internal tiles, each piece reproduces the tiles
   * of the whole plane, so the streamed result equals the whole-plane one. Default 1.
   */
  gridPx?: number;
  /**
   * Memory the op holds while it runs on a piece, bytes, beyond the input and output pieces the
   * planner already counts, whatever the band's height: a network's runtime (its session and
   * the tensors of one network tile; core's `unetActivationFloats`). Added to the band budget.
   */
  workingBytes?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOperationDef = OperationDef<any, any, any>;

export interface PluginDef {
  /** Short unique id; every op id starts with `<id>.`. */
  id: string;
  version: string;
  description: string;
  operations: readonly AnyOperationDef[];
  // contribution points (core/plugin/manifest.ts contributionFields); each optional
  /** File and dataset-folder formats this plugin reads. */
  readers?: readonly ReaderDef[];
  /** Bundled model packages. */
  models?: readonly BundledFile[];
  /** Bundled sample images or datasets. */
  sampleData?: readonly BundledFile[];
  /** Example pipelines. */
  pipelines?: readonly BundledFile[];
  /**
   * The zod schemas of the `extra` of the model tasks this plugin owns (core/ml/model-extras.ts):
   * loading a package of such a task through the host validates and types its `extra`.
   */
  modelExtras?: readonly ModelExtrasDef[];
  /** Trainers the plugin contributes (`focal train <id>`); absent or empty: none. */
  trainers?: readonly AnyTrainerDef[];
}

/** What `focal train` hands a trainer's `run`. */
export interface TrainerContext {
  /** Aborted on SIGINT (and by embedding applications); the trainer stops at the next iteration. */
  signal: AbortSignal;
  /** The command line as given (for records such as a model manifest's training command). */
  argv: readonly string[];
  /** Whether `--json` was given: progress goes as {@link TrainerContext.event} lines, not text. */
  json: boolean;
  /** One JSON line on stdout (an object with an `event` field); call it only with `json`. */
  event(e: { event: string } & Record<string, unknown>): void;
  /** One human-readable line on stderr (without the newline). */
  log(line: string): void;
}

/**
 * A trainer a plugin contributes: `focal train <id> [options]`. `options` is a zod object
 * whose every field carries its CLI flags and help in `.meta({ flags, description })` (as
 * cli/options.ts declares the CLI's own options); the CLI parses the command line with it and
 * calls `run` with `z.output` of it. `run` should import its heavy code (tfjs, the training
 * stack) itself, so listing trainers stays light.
 */
export interface TrainerDef<O extends ParamsSchema = ParamsSchema> {
  /** The plugin's id, or `<pluginId>.<name>` for a plugin with several trainers. */
  id: string;
  description: string;
  options: O;
  run(ctx: TrainerContext, options: z.output<O>): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTrainerDef = TrainerDef<any>;

/** Identity helper that types `run`'s options from the schema. */
export function defineTrainer<O extends ParamsSchema>(trainer: TrainerDef<O>): TrainerDef<O> {
  return trainer;
}

/** What a reader's `open` may be given besides the path. */
export interface ReaderOpenOptions {
  /** Aborted when the run is cancelled. */
  signal?: AbortSignal;
  /** Non-fatal problems with the data (a missing plane, an interrupted acquisition). */
  onWarning?: (message: string) => void;
}

/**
 * A reader contribution's code: its manifest entry (ReaderContributionSchema) plus `open`, which
 * reads one file, or one dataset folder, as a stack. Throws a FocalError naming the path on bad data.
 */
export type ReaderDef = ReaderContribution & {
  open(path: string, options?: ReaderOpenOptions): Promise<Stack>;
  /**
   * Optional: the same image opened lazily (dimensions, levels, chunking; pixels by region), for
   * `focal info` (levels without reading pixels) and `focal convert` (region by region). Code
   * only: the manifest entry is the same.
   */
  openLazy?(path: string, options?: Pick<ReaderOpenOptions, 'onWarning'>): Promise<LazyImage>;
};

/** Identity helper that keeps the literal port types so `run` is type-checked. */
export function defineOperation<P extends ParamsSchema, const I extends Ports, const O extends Ports>(op: OperationDef<P, I, O>): OperationDef<P, I, O> {
  return op;
}

export function definePlugin<T extends PluginDef>(plugin: T): T {
  return plugin;
}
