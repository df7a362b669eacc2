import { pathToFileURL } from 'node:url';
import type { Calibration } from '../data/image.js';
import { allocate, type DType, type PixelArray } from '../data/dtype.js';
import { createImage, isImage } from '../data/image.js';
import { createStack, isStack } from '../data/stack.js';
import { FocalError, throwIfAborted } from '../errors.js';
import { checkRegion, type RegionRequest, type RegionSource } from '../io/lazy-image.js';
import type { AnyOperationDef, Logger, OpContext, ServiceProvider, TilingPlan } from '../plugin/contract.js';
import { workerModulePath, type WorkerPool } from '../runtime/workers.js';
import { asOpError } from './op-error.js';
import type { TiledPieceTask } from './tiled-worker.js';

export interface TiledOptions {
  /** Largest piece the op runs on, halo excluded, px per side. Default 512. */
  tileSize?: number;
  signal?: AbortSignal;
  /** Services for the op on this thread (pieces run on worker threads get none). */
  services?: ServiceProvider;
  log?: Logger;
  /**
   * Run the pieces on worker threads (core's pool, `ComputeService.workers`) instead of this
   * thread. The op's code cannot cross a thread boundary, so a worker imports it: `module` is
   * the module that exports it (`import.meta.url` of the op's file, a file URL or a path; a
   * `.ts` file of this repository runs as its compiled `dist/` counterpart) and `exportName` the
   * export — the op itself, or a plugin (or a list of plugins) whose `operations` hold it.
   */
  workers?: TiledWorkers;
  /**
   * The op's other inputs, given whole to every tile (e.g. a deconvolution's PSF); the op's
   * `tiling` sees them too. Structured-cloned to each worker with `workers`.
   */
  inputs?: Record<string, unknown>;
}

/** Where and how wide a tiled run goes on worker threads (see TiledOptions.workers). */
export interface TiledWorkers {
  pool: WorkerPool;
  module: string;
  exportName: string;
  /**
   * Pieces in flight at once (each: its input with the halo and its output), default the
   * pool's size + 1. Memory of a region read is the region with its halo plus this many pieces.
   */
  maxInFlight?: number;
  /**
   * After a region is served, start the region right below it (same x, width, height and
   * plane) so the workers keep running while the consumer handles the band it got — what a
   * writer reading band by band asks next. Costs one more band in memory; a different next
   * request drops it. Default true.
   */
  readAhead?: boolean;
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The op's tiled input and assembled output ports: the plan's `input`/`output`, else its only
 * input/output (which must be an image or a stack). Every other required input must be in
 * `others` (given whole to each tile).
 */
function tilePorts(op: AnyOperationDef, plan?: Pick<TilingPlan, 'input' | 'output'>, others: Readonly<Record<string, unknown>> = {}): { inName: string; inType: 'image' | 'stack'; outName: string } {
  const inPorts = Object.entries(op.inputs as Record<string, { type: string; optional?: boolean }>);
  const outPorts = Object.entries(op.outputs as Record<string, { type: string }>);
  const pick = <T extends { type: string }>(ports: [string, T][], named: string | undefined, what: string): [string, T] => {
    const found = named === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find(([n]) => n === named);
    if (!found || (found[1].type !== 'image' && found[1].type !== 'stack')) {
      throw new FocalError('E_ARGUMENT', `${op.id} cannot run tile by tile: it needs ${named === undefined ? `exactly one image or stack ${what}` : `an image or stack ${what} '${named}'`}`, { op: op.id, field: 'op' });
    }
    return found;
  };
  const [inName, inSpec] = pick(inPorts, plan?.input, 'input');
  const [outName] = pick(outPorts, plan?.output, 'output');
  for (const [name, spec] of inPorts) {
    if (name !== inName && !spec.optional && others[name] === undefined) {
      throw new FocalError('E_ARGUMENT', `${op.id}: input '${name}' is needed whole by every tile; give it in TiledOptions.inputs`, { op: op.id, field: name });
    }
  }
  return { inName, inType: inSpec.type as 'image' | 'stack', outName };
}

/** The op's params parsed by its own schema. @throws FocalError `E_PARAMS` */
function parseTiledParams(op: AnyOperationDef, params: Record<string, unknown>): unknown {
  const parsed = op.params.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FocalError('E_PARAMS', `${op.id}: ${issue.path.join('.') || 'params'}: ${issue.message}`, { op: op.id, field: String(issue.path[0] ?? 'params') });
  }
  return parsed.data;
}

/** One piece: the op on a w × h plane (an image or a one-plane stack), checked against its declaration. */
export async function runTiledPiece(
  op: AnyOperationDef,
  parsedParams: unknown,
  piece: { data: PixelArray; width: number; height: number; dtype: DType; calibration: Calibration },
  outDtype: DType,
  ctx: OpContext,
  ports: { plan?: Pick<TilingPlan, 'input' | 'output'>; others?: Readonly<Record<string, unknown>> } = {},
): Promise<PixelArray> {
  const { inName, inType, outName } = tilePorts(op, ports.plan, ports.others);
  const { data, width: w, height: h, dtype, calibration } = piece;
  const value = inType === 'image' ? createImage({ width: w, height: h, dtype, data, calibration }) : createStack({ width: w, height: h, dtype, planes: [data], calibration });
  let out: unknown;
  try {
    out = ((await op.run(ctx, { ...ports.others, [inName]: value }, parsedParams)) as Record<string, unknown>)[outName];
  } catch (err) {
    throw asOpError(op, err);
  }
  const plane = isImage(out) ? out.data : isStack(out) && out.planes.length === 1 ? out.planes[0] : undefined;
  if (!plane || plane.length !== w * h || (isImage(out) ? out.dtype : isStack(out) ? out.dtype : undefined) !== outDtype) {
    throw new FocalError('E_ARGUMENT', `${op.id}: a tile of ${w}×${h} px did not give one ${w}×${h} ${outDtype} plane as its tiling declares`, { op: op.id });
  }
  return plane;
}

/**
 * Runs `op` on `input` tile by tile, as a region source: a region read asks the input for the
 * region plus the op's declared halo (clipped at the image's edges, where the op's own edge
 * handling applies, as on a whole plane), runs the op on pieces of at most tileSize² px plus
 * halo, and keeps the inner part. With a halo at least the op's reach the result equals the
 * whole-plane result exactly; memory is one requested region plus its halo, whatever the
 * image size. Feed it to `writePyramidalTiff` to stream a slide through a filter to disk.
 *
 * @throws FocalError `E_ARGUMENT` when the op declares no tiling (or none for these params),
 *   does not have one image/stack input and output, or its output breaks its declaration;
 *   `E_PARAMS` for bad params (the op's own schema).
 */
export function tiledOperation(op: AnyOperationDef, input: RegionSource, params: Record<string, unknown>, options: TiledOptions = {}): RegionSource {
  const others = options.inputs ?? {};
  const parsed = parseTiledParams(op, params);
  const plan = op.tiling?.(parsed, { dtype: input.dtype, calibration: input.calibration }, others);
  if (!plan) {
    throw new FocalError('E_ARGUMENT', `${op.id} needs whole planes${op.tiling ? ' with these params' : ''}; it cannot run tile by tile`, { op: op.id, field: 'op' });
  }
  tilePorts(op, plan, others);
  const ports = { plan: { input: plan.input, output: plan.output }, others };
  const halo = plan.haloPx;
  if (!Number.isInteger(halo) || halo < 0) throw new FocalError('E_ARGUMENT', `${op.id}: declared halo ${halo} px is not a whole number ≥ 0`, { op: op.id });
  const tileSize = options.tileSize ?? 512;
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new FocalError('E_ARGUMENT', `tileSize must be a positive integer, got ${tileSize}`, { field: 'tileSize' });
  const workers = options.workers;
  const maxInFlight = workers ? (workers.maxInFlight ?? workers.pool.size + 1) : 1;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new FocalError('E_ARGUMENT', `workers.maxInFlight must be a positive integer, got ${maxInFlight}`, { field: 'maxInFlight' });
  // the worker imports the op's module; checked (and mapped to its compiled file) now, not at the first tile
  const opModule = workers ? pathToFileURL(workerModulePath(workers.module)).href : '';
  const taskModule = new URL(`./tiled-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

  const services: ServiceProvider = options.services ?? {
    resolve() {
      throw new FocalError('E_ARGUMENT', `${op.id}: no services are available to a tiled run`, { op: op.id });
    },
  };
  const runPiece = async (data: PixelArray, w: number, h: number, signal: AbortSignal): Promise<PixelArray> => {
    if (workers) {
      const task: TiledPieceTask = { opModule, exportName: workers.exportName, opId: op.id, params, others, ports: ports.plan, data, width: w, height: h, dtype: input.dtype, calibration: input.calibration, outDtype: plan.dtype };
      return workers.pool.run<PixelArray>(taskModule, 'runTiledPieceTask', [task], { transferList: [data.buffer as ArrayBuffer], signal });
    }
    const ctx: OpContext = { log: options.log ?? quiet, progress: () => undefined, signal, services };
    return runTiledPiece(op, parsed, { data, width: w, height: h, dtype: input.dtype, calibration: input.calibration }, plan.dtype, ctx, ports);
  };

  /** Computes one checked region: reads it with its halo once, runs its pieces (up to maxInFlight at once). */
  const compute = async (region: RegionRequest & { c: number; z: number; t: number }, signal: AbortSignal): Promise<PixelArray> => {
    // the region plus its halo, clipped to the image, read once
    const x0 = Math.max(0, region.x - halo);
    const y0 = Math.max(0, region.y - halo);
    const x1 = Math.min(input.width, region.x + region.w + halo);
    const y1 = Math.min(input.height, region.y + region.h + halo);
    const W = x1 - x0;
    const src = await input.readRegion({ c: region.c, z: region.z, t: region.t, x: x0, y: y0, w: W, h: y1 - y0 }, { signal });
    const out = allocate(plan.dtype, region.w * region.h);
    const tiles: { tx: number; ty: number }[] = [];
    for (let ty = region.y; ty < region.y + region.h; ty += tileSize) {
      for (let tx = region.x; tx < region.x + region.w; tx += tileSize) tiles.push({ tx, ty });
    }
    let spare: PixelArray | undefined;
    const one = async ({ tx, ty }: { tx: number; ty: number }, s: AbortSignal): Promise<void> => {
      throwIfAborted(s);
      const tw = Math.min(tileSize, region.x + region.w - tx);
      const th = Math.min(tileSize, region.y + region.h - ty);
      // the piece with its halo, in the read buffer's coordinates
      const px0 = Math.max(x0, tx - halo);
      const py0 = Math.max(y0, ty - halo);
      const px1 = Math.min(x1, tx + tw + halo);
      const py1 = Math.min(y1, ty + th + halo);
      const pw = px1 - px0;
      const ph = py1 - py0;
      // on this thread the pieces run one after another, so one buffer serves them all (a fresh one
      // per piece costs its page faults); a piece sent to a worker is moved there, so it is new
      const piece = !workers && spare && spare.length === pw * ph ? spare : allocate(input.dtype, pw * ph);
      if (!workers) spare = piece;
      for (let y = 0; y < ph; y++) {
        const from = (py0 - y0 + y) * W + (px0 - x0);
        piece.set(src.subarray(from, from + pw), y * pw);
      }
      const res = await runPiece(piece, pw, ph, s);
      for (let y = 0; y < th; y++) {
        const from = (ty - py0 + y) * pw + (tx - px0);
        out.set(res.subarray(from, from + tw), (ty - region.y + y) * region.w + (tx - region.x));
      }
    };
    if (maxInFlight === 1) {
      for (const t of tiles) await one(t, signal);
      return out;
    }
    // up to maxInFlight pieces at once; the first failure stops the others and is thrown
    const inner = new AbortController();
    const stop = (): void => inner.abort();
    signal.addEventListener('abort', stop, { once: true });
    let next = 0;
    let failure: { error: unknown } | undefined;
    const lane = async (): Promise<void> => {
      while (next < tiles.length && !failure) {
        const t = tiles[next++];
        try {
          await one(t, inner.signal);
        } catch (e) {
          failure ??= { error: signal.aborted ? new FocalError('E_CANCELLED', 'cancelled') : e };
          inner.abort();
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(maxInFlight, tiles.length) }, lane));
    } finally {
      signal.removeEventListener('abort', stop);
    }
    if (failure) throw failure.error;
    return out;
  };

  const never = new AbortController().signal;
  let ahead: { key: string; controller: AbortController; result: Promise<PixelArray> } | undefined;
  const keyOf = (r: { c: number; z: number; t: number; x: number; y: number; w: number; h: number }): string => `${r.c},${r.z},${r.t},${r.x},${r.y},${r.w},${r.h}`;
  const dropAhead = (): void => {
    ahead?.controller.abort();
    ahead = undefined;
  };

  return {
    width: input.width,
    height: input.height,
    sizeC: input.sizeC,
    sizeZ: input.sizeZ,
    sizeT: input.sizeT,
    dtype: plan.dtype,
    calibration: input.calibration,
    channelNames: input.channelNames,
    async readRegion(region: RegionRequest, opts: { signal?: AbortSignal } = {}): Promise<PixelArray> {
      const r = checkRegion(input, { ...region, level: 0 }, op.id);
      if ((region.level ?? 0) !== 0) throw new FocalError('E_ARGUMENT', `${op.id}: a tiled operation gives level 0 only`, { field: 'level' });
      const signal = opts.signal ?? options.signal ?? never;
      throwIfAborted(signal);
      const req = { c: r.c, z: r.z, t: r.t, x: region.x, y: region.y, w: region.w, h: region.h };
      let result: PixelArray;
      const key = keyOf(req);
      if (ahead && ahead.key === key) {
        // computed while the consumer handled the last region; this call's signal stops it too
        const { controller, result: pending } = ahead;
        ahead = undefined;
        const stop = (): void => controller.abort();
        signal.addEventListener('abort', stop, { once: true });
        try {
          result = await pending;
        } catch (e) {
          throw signal.aborted ? new FocalError('E_CANCELLED', 'cancelled') : e;
        } finally {
          signal.removeEventListener('abort', stop);
        }
      } else {
        dropAhead();
        result = await compute(req, signal);
      }
      throwIfAborted(signal);
      if (workers && (workers.readAhead ?? true) && req.y + req.h < input.height) {
        const below = { ...req, y: req.y + req.h, h: Math.min(req.h, input.height - req.y - req.h) };
        const controller = new AbortController();
        // stopped with the run (options.signal) or when the next request is another region
        const stop = (): void => controller.abort();
        options.signal?.addEventListener('abort', stop, { once: true });
        const pending = compute(below, controller.signal).finally(() => options.signal?.removeEventListener('abort', stop));
        pending.catch(() => undefined); // an abandoned read-ahead's failure is not the consumer's
        ahead = { key: keyOf(below), controller, result: pending };
      }
      return result;
    },
  };
}

export interface TiledReductionOptions {
  /** Tile edge the reduction reads, px. Default 512. */
  tileSize?: number;
  signal?: AbortSignal;
  services?: ServiceProvider;
  log?: Logger;
  /** Fraction done, 0…1, as the reduction reports it. */
  onProgress?: (fraction: number, label?: string) => void;
}

/**
 * Runs an op that declares `reduceTiles` (e.g. `cellcount.count`: tiles → partial label tables
 * → merged across borders) on a region source, tile by tile: the plane is never in memory,
 * and the outputs equal the whole-plane run's. Returns the reduction's outputs (the op's other
 * outputs, e.g. images, are not made).
 * @throws FocalError `E_ARGUMENT` when the op declares no reduction (or none for these params),
 *   `E_PARAMS` for bad params; the op's own errors.
 */
export async function tiledReduction(op: AnyOperationDef, input: RegionSource, params: Record<string, unknown>, options: TiledReductionOptions = {}): Promise<Record<string, unknown>> {
  const parsed = parseTiledParams(op, params);
  const reduction = op.reduceTiles?.(parsed, { dtype: input.dtype, calibration: input.calibration });
  if (!reduction) {
    throw new FocalError('E_ARGUMENT', `${op.id} needs whole planes${op.reduceTiles ? ' with these params' : ''}; it cannot reduce tile by tile`, { op: op.id, field: 'op' });
  }
  const tileSize = options.tileSize ?? 512;
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new FocalError('E_ARGUMENT', `tileSize must be a positive integer, got ${tileSize}`, { field: 'tileSize' });
  const ctx: OpContext = {
    log: options.log ?? quiet,
    progress: options.onProgress ?? (() => undefined),
    signal: options.signal ?? new AbortController().signal,
    services: options.services ?? {
      resolve() {
        throw new FocalError('E_ARGUMENT', `${op.id}: no services are available to a tiled run`, { op: op.id });
      },
    },
  };
  try {
    return await reduction.run(ctx, input, { tileSize });
  } catch (err) {
    throw asOpError(op, err);
  }
}
