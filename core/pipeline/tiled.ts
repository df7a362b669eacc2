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
  /** The output port to assemble, passed to the op's `tiling` (an op with several image outputs may tile each); default: the op's own choice. */
  output?: string;
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
 * `log`, saying each (level, message) once: an op run piece by piece says what it says about
 * its input (a pixel-size warning) once per piece, and once is what the run should show.
 */
function withoutRepeats(log: Logger): Logger {
  const said = new Set<string>();
  const once = (level: keyof Logger) => (message: string, fields?: Record<string, unknown>) => {
    const key = `${level}\u0000${message}`;
    if (said.has(key)) return;
    said.add(key);
    log[level](message, fields);
  };
  return { debug: once('debug'), info: once('info'), warn: once('warn'), error: once('error') };
}

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
    out = ((await op.run({ ...ctx, wants: (o) => o === outName }, { ...ports.others, [inName]: value }, parsedParams)) as Record<string, unknown>)[outName];
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
 * One piece of an op that gathers channels (`TilingPlan.channels: 'together'`): the op on a
 * w × h stack of every channel at one z and t; gives its `outChannels` output planes, checked
 * against the declaration (count, size, pixel type, RGB flag).
 */
export async function runTiledChannelsPiece(
  op: AnyOperationDef,
  parsedParams: unknown,
  piece: { planes: PixelArray[]; width: number; height: number; dtype: DType; calibration: Calibration; channelNames?: string[] },
  out: { dtype: DType; channels: number; rgb?: boolean },
  ctx: OpContext,
  ports: { plan?: Pick<TilingPlan, 'input' | 'output'>; others?: Readonly<Record<string, unknown>> } = {},
): Promise<PixelArray[]> {
  const { inName, inType, outName } = tilePorts(op, ports.plan, ports.others);
  const { planes, width: w, height: h, dtype, calibration } = piece;
  const names = piece.channelNames && piece.channelNames.length === planes.length ? piece.channelNames : undefined;
  const value = inType === 'image' && planes.length === 1
    ? createImage({ width: w, height: h, dtype, data: planes[0], calibration })
    : createStack({ width: w, height: h, dtype, sizeC: planes.length, planes, calibration, ...(names ? { channelNames: names } : {}) });
  let result: unknown;
  try {
    result = ((await op.run({ ...ctx, wants: (o) => o === outName }, { ...ports.others, [inName]: value }, parsedParams)) as Record<string, unknown>)[outName];
  } catch (err) {
    throw asOpError(op, err);
  }
  const got = isStack(result) && result.sizeZ === 1 && result.sizeT === 1 ? result : isImage(result) ? { planes: [result.data], dtype: result.dtype, rgb: false } : undefined;
  if (!got || got.planes.length !== out.channels || got.dtype !== out.dtype || got.planes.some((p) => p.length !== w * h) || (out.rgb === true) !== (got.rgb === true)) {
    throw new FocalError('E_ARGUMENT', `${op.id}: a tile of ${w}×${h} px did not give ${out.channels} ${w}×${h} ${out.dtype} plane(s)${out.rgb ? ' (RGB)' : ''} at one z and t as its tiling declares`, { op: op.id });
  }
  return got.planes;
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
  const log = withoutRepeats(options.log ?? quiet);
  const parsed = parseTiledParams(op, params);
  const plan = op.tiling?.(parsed, { dtype: input.dtype, calibration: input.calibration, sizeC: input.sizeC, ...(options.output !== undefined ? { output: options.output } : {}) }, others);
  if (!plan) {
    throw new FocalError('E_ARGUMENT', `${op.id} needs whole planes${op.tiling ? ' with these params' : ''}; it cannot run tile by tile`, { op: op.id, field: 'op' });
  }
  const { inType } = tilePorts(op, plan, others);
  const ports = { plan: { input: plan.input, output: plan.output }, others };
  const halo = plan.haloPx;
  if (!Number.isInteger(halo) || halo < 0) throw new FocalError('E_ARGUMENT', `${op.id}: declared halo ${halo} px is not a whole number ≥ 0`, { op: op.id });
  const grid = plan.gridPx ?? 1;
  if (!Number.isInteger(grid) || grid < 1) throw new FocalError('E_ARGUMENT', `${op.id}: declared gridPx ${grid} is not a whole number ≥ 1`, { op: op.id });
  const together = plan.channels === 'together';
  if (plan.channels !== undefined && plan.channels !== 'planes' && !together) throw new FocalError('E_ARGUMENT', `${op.id}: declared channels '${String(plan.channels)}' is not 'planes' or 'together'`, { op: op.id });
  if (!together && (plan.outputChannels !== undefined || plan.outputRgb || plan.outputChannelNames)) {
    throw new FocalError('E_ARGUMENT', `${op.id}: outputChannels, outputRgb and outputChannelNames need channels 'together' in its tiling`, { op: op.id });
  }
  if (together && inType === 'image' && input.sizeC !== 1) throw new FocalError('E_ARGUMENT', `${op.id}: its tiled input is an image port and cannot take ${input.sizeC} channels together`, { op: op.id });
  const outC = together ? (plan.outputChannels ?? input.sizeC) : input.sizeC;
  if (!Number.isInteger(outC) || outC < 1) throw new FocalError('E_ARGUMENT', `${op.id}: declared outputChannels ${outC} is not a whole number ≥ 1`, { op: op.id });
  const outRgb = together && plan.outputRgb === true;
  if (outRgb && (outC !== 3 || plan.dtype !== 'uint8')) throw new FocalError('E_ARGUMENT', `${op.id}: an RGB output must be 3 uint8 channels, the tiling declares ${outC} ${plan.dtype}`, { op: op.id });
  if (plan.outputChannelNames && plan.outputChannelNames.length !== outC) throw new FocalError('E_ARGUMENT', `${op.id}: ${plan.outputChannelNames.length} output channel names for ${outC} channels`, { op: op.id });
  const outNames = together ? [...(plan.outputChannelNames ?? (outC === input.sizeC ? input.channelNames : []))] : input.channelNames;
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
  /** One piece (one plane, or every channel with `together`) through the op: its output planes. */
  const runPiece = async (planes: PixelArray[], w: number, h: number, keep: NonNullable<OpContext['keep']>, signal: AbortSignal): Promise<PixelArray[]> => {
    if (workers) {
      const task: TiledPieceTask = {
        opModule, exportName: workers.exportName, opId: op.id, params, others, ports: ports.plan, width: w, height: h, keep, dtype: input.dtype, calibration: input.calibration, outDtype: plan.dtype,
        ...(together ? { planes, channelNames: input.channelNames, outChannels: outC, outRgb } : { data: planes[0] }),
      };
      const res = await workers.pool.run<PixelArray | PixelArray[]>(taskModule, 'runTiledPieceTask', [task], { transferList: planes.map((p) => p.buffer as ArrayBuffer), signal });
      return Array.isArray(res) ? res : [res];
    }
    const ctx: OpContext = { log, progress: () => undefined, signal, services, keep };
    const piece = { width: w, height: h, dtype: input.dtype, calibration: input.calibration };
    if (together) return runTiledChannelsPiece(op, parsed, { ...piece, planes, channelNames: input.channelNames }, { dtype: plan.dtype, channels: outC, rgb: outRgb }, ctx, ports);
    return [await runTiledPiece(op, parsed, { ...piece, data: planes[0] }, plan.dtype, ctx, ports)];
  };
  /** Down to a multiple of the grid (pieces start on it), not below 0. */
  const onGrid = (v: number): number => Math.max(0, Math.floor(v / grid) * grid);

  /**
   * Computes one checked region: reads it with its halo once (channel `c`, or every channel with
   * `together`), runs its pieces (up to maxInFlight at once); one output plane per channel made.
   */
  const compute = async (region: { c: number; z: number; t: number; x: number; y: number; w: number; h: number }, signal: AbortSignal): Promise<PixelArray[]> => {
    // the region plus its halo (widened to the grid), clipped to the image, read once
    const x0 = onGrid(region.x - halo);
    const y0 = onGrid(region.y - halo);
    const x1 = Math.min(input.width, region.x + region.w + halo);
    const y1 = Math.min(input.height, region.y + region.h + halo);
    const W = x1 - x0;
    const channels = together ? Array.from({ length: input.sizeC }, (_, c) => c) : [region.c];
    const srcs: PixelArray[] = [];
    for (const c of channels) {
      throwIfAborted(signal);
      srcs.push(await input.readRegion({ c, z: region.z, t: region.t, x: x0, y: y0, w: W, h: y1 - y0 }, { signal }));
    }
    const nOut = together ? outC : 1;
    const out = Array.from({ length: nOut }, () => allocate(plan.dtype, region.w * region.h));
    const tiles: { tx: number; ty: number }[] = [];
    for (let ty = region.y; ty < region.y + region.h; ty += tileSize) {
      for (let tx = region.x; tx < region.x + region.w; tx += tileSize) tiles.push({ tx, ty });
    }
    const spares: (PixelArray | undefined)[] = [];
    const one = async ({ tx, ty }: { tx: number; ty: number }, s: AbortSignal): Promise<void> => {
      throwIfAborted(s);
      const tw = Math.min(tileSize, region.x + region.w - tx);
      const th = Math.min(tileSize, region.y + region.h - ty);
      // the piece with its halo, in the read buffer's coordinates
      const px0 = Math.max(x0, onGrid(tx - halo));
      const py0 = Math.max(y0, onGrid(ty - halo));
      const px1 = Math.min(x1, tx + tw + halo);
      const py1 = Math.min(y1, ty + th + halo);
      const pw = px1 - px0;
      const ph = py1 - py0;
      // on this thread the pieces run one after another, so one buffer per channel serves them all
      // (a fresh one per piece costs its page faults); a piece sent to a worker is moved there, so it is new
      const pieces = srcs.map((src, k) => {
        const spare = spares[k];
        const piece = !workers && spare && spare.length === pw * ph ? spare : allocate(input.dtype, pw * ph);
        if (!workers) spares[k] = piece;
        for (let y = 0; y < ph; y++) {
          const from = (py0 - y0 + y) * W + (px0 - x0);
          piece.set(src.subarray(from, from + pw), y * pw);
        }
        return piece;
      });
      const res = await runPiece(pieces, pw, ph, { x: tx - px0, y: ty - py0, width: tw, height: th }, s);
      for (let k = 0; k < nOut; k++) {
        for (let y = 0; y < th; y++) {
          const from = (ty - py0 + y) * pw + (tx - px0);
          out[k].set(res[k].subarray(from, from + tw), (ty - region.y + y) * region.w + (tx - region.x));
        }
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
  const shape = {
    width: input.width,
    height: input.height,
    sizeC: outC,
    sizeZ: input.sizeZ,
    sizeT: input.sizeT,
    dtype: plan.dtype,
    calibration: input.calibration,
    channelNames: outNames,
    ...(outRgb ? { rgb: true } : {}),
  };

  if (together) {
    // Every channel of a rectangle is computed at once and kept for the reads of its other
    // channels: the last two rectangles (the band being read and, with workers, the one below).
    type Entry = { key: string; controller: AbortController; result: Promise<PixelArray[]> };
    const cache: Entry[] = [];
    const keyOf = (r: { z: number; t: number; x: number; y: number; w: number; h: number }): string => `${r.z},${r.t},${r.x},${r.y},${r.w},${r.h}`;
    const start = (r: { z: number; t: number; x: number; y: number; w: number; h: number }): Entry => {
      const controller = new AbortController();
      // stopped with the run (options.signal), or when it falls out of the cache unread
      const stop = (): void => controller.abort();
      options.signal?.addEventListener('abort', stop, { once: true });
      const result = compute({ ...r, c: 0 }, controller.signal).finally(() => options.signal?.removeEventListener('abort', stop));
      result.catch(() => undefined); // a failure belongs to whoever reads it
      const e = { key: keyOf(r), controller, result };
      cache.push(e);
      while (cache.length > 2) cache.shift()!.controller.abort();
      return e;
    };
    return {
      ...shape,
      channelsTogether: true,
      async readRegion(region: RegionRequest, opts: { signal?: AbortSignal } = {}): Promise<PixelArray> {
        const r = checkRegion({ ...input, sizeC: outC }, { ...region, level: 0 }, op.id);
        if ((region.level ?? 0) !== 0) throw new FocalError('E_ARGUMENT', `${op.id}: a tiled operation gives level 0 only`, { field: 'level' });
        const signal = opts.signal ?? options.signal ?? never;
        throwIfAborted(signal);
        const req = { z: r.z, t: r.t, x: region.x, y: region.y, w: region.w, h: region.h };
        const key = keyOf(req);
        const found = cache.findIndex((e) => e.key === key);
        // the one read now goes last, so that starting the band below drops an older one
        const entry = found >= 0 ? cache.splice(found, 1)[0] : start(req);
        if (found >= 0) cache.push(entry);
        if (workers && (workers.readAhead ?? true) && req.y + req.h < input.height) {
          // the band below, computed while the consumer handles this one (it drops the oldest)
          const below = { ...req, y: req.y + req.h, h: Math.min(req.h, input.height - req.y - req.h) };
          if (!cache.some((e) => e.key === keyOf(below))) start(below);
        }
        const { controller, result } = entry;
        const stop = (): void => controller.abort();
        signal.addEventListener('abort', stop, { once: true });
        try {
          const planes = await result;
          throwIfAborted(signal);
          return planes[r.c];
        } catch (e) {
          const i = cache.indexOf(entry);
          if (i >= 0) cache.splice(i, 1); // a failed or cancelled rectangle is computed afresh if asked again
          throw signal.aborted || controller.signal.aborted ? new FocalError('E_CANCELLED', 'cancelled') : e;
        } finally {
          signal.removeEventListener('abort', stop);
        }
      },
    };
  }

  let ahead: { key: string; controller: AbortController; result: Promise<PixelArray> } | undefined;
  const keyOf = (r: { c: number; z: number; t: number; x: number; y: number; w: number; h: number }): string => `${r.c},${r.z},${r.t},${r.x},${r.y},${r.w},${r.h}`;
  const dropAhead = (): void => {
    ahead?.controller.abort();
    ahead = undefined;
  };
  const computePlane = async (req: { c: number; z: number; t: number; x: number; y: number; w: number; h: number }, signal: AbortSignal): Promise<PixelArray> => (await compute(req, signal))[0];

  return {
    ...shape,
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
        result = await computePlane(req, signal);
      }
      throwIfAborted(signal);
      if (workers && (workers.readAhead ?? true) && req.y + req.h < input.height) {
        const below = { ...req, y: req.y + req.h, h: Math.min(req.h, input.height - req.y - req.h) };
        const controller = new AbortController();
        // stopped with the run (options.signal) or when the next request is another region
        const stop = (): void => controller.abort();
        options.signal?.addEventListener('abort', stop, { once: true });
        const pending = computePlane(below, controller.signal).finally(() => options.signal?.removeEventListener('abort', stop));
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
