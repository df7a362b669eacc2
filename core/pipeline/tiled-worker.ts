/**
 * The worker-thread side of a tiled run on the pool (tiled.ts, `TiledOptions.workers`): imports
 * the op's module (once per worker; the module loader caches it), finds the op and runs it on
 * one piece. Runs only inside a pool worker (core/runtime/worker-entry.ts calls the export).
 */
import type { Calibration } from '../data/image.js';
import type { DType, PixelArray } from '../data/dtype.js';
import { FocalError } from '../errors.js';
import type { AnyOperationDef, Logger, OpContext } from '../plugin/contract.js';
import { runTiledChannelsPiece, runTiledPiece } from './tiled.js';

/** One piece for a worker (structured-cloned; `data` is moved). */
export interface TiledPieceTask {
  /** File URL of the compiled module that exports the op. */
  opModule: string;
  exportName: string;
  opId: string;
  /** The params as the caller gave them (parsed again here by the op's schema). */
  params: Record<string, unknown>;
  /** The op's other inputs, whole (TiledOptions.inputs). */
  others: Record<string, unknown>;
  /** The tiled input and assembled output ports (the plan's). */
  ports: { input?: string; output?: string };
  /** One plane (channels 'planes'). */
  data?: PixelArray;
  /** The rectangle of the piece's output that is kept (OpContext.keep). */
  keep?: { x: number; y: number; width: number; height: number };
  /** Every channel of the piece (channels 'together'), with the output's channel count and RGB flag. */
  planes?: PixelArray[];
  channelNames?: string[];
  outChannels?: number;
  outRgb?: boolean;
  width: number;
  height: number;
  dtype: DType;
  calibration: Calibration;
  outDtype: DType;
}

const isOp = (v: unknown, id: string): v is AnyOperationDef =>
  typeof v === 'object' && v !== null && (v as { id?: unknown }).id === id && typeof (v as { run?: unknown }).run === 'function';

/** The op `id` in an export: the op itself, a plugin holding it, or a list of either. */
export function findExportedOp(value: unknown, id: string): AnyOperationDef | undefined {
  if (isOp(value, id)) return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = findExportedOp(v, id);
      if (found) return found;
    }
    return undefined;
  }
  const ops = (value as { operations?: unknown } | null)?.operations;
  return Array.isArray(ops) ? ops.find((o) => isOp(o, id)) : undefined;
}

const resolved = new Map<string, { op: AnyOperationDef; params: unknown }>();
const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export async function runTiledPieceTask(task: TiledPieceTask): Promise<PixelArray | PixelArray[]> {
  const key = `${task.opModule}#${task.exportName}#${task.opId}#${JSON.stringify(task.params)}`;
  let entry = resolved.get(key);
  if (!entry) {
    const mod = (await import(task.opModule)) as Record<string, unknown>;
    const op = findExportedOp(mod[task.exportName], task.opId);
    if (!op) throw new FocalError('E_ARGUMENT', `${task.opModule}: export ${task.exportName} holds no operation ${task.opId}`, { op: task.opId, field: 'workers' });
    const parsed = op.params.safeParse(task.params);
    if (!parsed.success) throw new FocalError('E_PARAMS', `${op.id}: ${parsed.error.issues[0].message}`, { op: op.id });
    entry = { op, params: parsed.data };
    if (resolved.size > 64) resolved.clear();
    resolved.set(key, entry);
  }
  const ctx: OpContext = {
    log: quiet,
    progress: () => undefined,
    signal: new AbortController().signal,
    ...(task.keep ? { keep: task.keep } : {}),
    services: {
      resolve() {
        throw new FocalError('E_ARGUMENT', `${task.opId}: no services are available to a tile on a worker thread`, { op: task.opId });
      },
    },
  };
  const { data, planes, width, height, dtype, calibration } = task;
  if (planes) {
    return runTiledChannelsPiece(entry.op, entry.params, { planes, width, height, dtype, calibration, channelNames: task.channelNames }, { dtype: task.outDtype, channels: task.outChannels ?? planes.length, rgb: task.outRgb }, ctx, { plan: task.ports, others: task.others });
  }
  if (!data) throw new FocalError('E_ARGUMENT', `${task.opId}: a tile task without pixels`, { op: task.opId });
  return runTiledPiece(entry.op, entry.params, { data, width, height, dtype, calibration }, task.outDtype, ctx, { plan: task.ports, others: task.others });
}
