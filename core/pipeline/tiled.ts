import { allocate, type PixelArray } from '../data/dtype.js';
import { createImage, isImage } from '../data/image.js';
import { createStack, isStack } from '../data/stack.js';
import { FocalError, throwIfAborted } from '../errors.js';
import { checkRegion, type RegionRequest, type RegionSource } from '../io/lazy-image.js';
import type { AnyOperationDef, Logger, OpContext, ServiceProvider } from '../plugin/contract.js';
import { asOpError } from './op-error.js';

export interface TiledOptions {
  /** Largest piece the op runs on, halo excluded, px per side. Default 512. */
  tileSize?: number;
  signal?: AbortSignal;
  services?: ServiceProvider;
  log?: Logger;
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

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
  const inPorts = Object.entries(op.inputs as Record<string, { type: string }>);
  const outPorts = Object.entries(op.outputs as Record<string, { type: string }>);
  const ok = (ports: [string, { type: string }][]): boolean => ports.length === 1 && (ports[0][1].type === 'image' || ports[0][1].type === 'stack');
  if (!ok(inPorts) || !ok(outPorts)) {
    throw new FocalError('E_ARGUMENT', `${op.id} cannot run tile by tile: it needs exactly one image or stack input and output`, { op: op.id, field: 'op' });
  }
  const parsed = op.params.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FocalError('E_PARAMS', `${op.id}: ${issue.path.join('.') || 'params'}: ${issue.message}`, { op: op.id, field: String(issue.path[0] ?? 'params') });
  }
  const plan = op.tiling?.(parsed.data, { dtype: input.dtype, calibration: input.calibration });
  if (!plan) {
    throw new FocalError('E_ARGUMENT', `${op.id} needs whole planes${op.tiling ? ' with these params' : ''}; it cannot run tile by tile`, { op: op.id, field: 'op' });
  }
  const halo = plan.haloPx;
  if (!Number.isInteger(halo) || halo < 0) throw new FocalError('E_ARGUMENT', `${op.id}: declared halo ${halo} px is not a whole number ≥ 0`, { op: op.id });
  const tileSize = options.tileSize ?? 512;
  if (!Number.isInteger(tileSize) || tileSize < 1) throw new FocalError('E_ARGUMENT', `tileSize must be a positive integer, got ${tileSize}`, { field: 'tileSize' });
  const [[inName, inSpec]] = inPorts;
  const [[outName]] = outPorts;

  const runPiece = async (data: PixelArray, w: number, h: number, signal: AbortSignal | undefined): Promise<PixelArray> => {
    const value =
      inSpec.type === 'image'
        ? createImage({ width: w, height: h, dtype: input.dtype, data, calibration: input.calibration })
        : createStack({ width: w, height: h, dtype: input.dtype, planes: [data], calibration: input.calibration });
    const ctx: OpContext = {
      log: options.log ?? quiet,
      progress: () => undefined,
      signal: signal ?? new AbortController().signal,
      services: options.services ?? {
        resolve() {
          throw new FocalError('E_ARGUMENT', `${op.id}: no services are available to a tiled run`, { op: op.id });
        },
      },
    };
    let out: unknown;
    try {
      out = ((await op.run(ctx, { [inName]: value }, parsed.data)) as Record<string, unknown>)[outName];
    } catch (err) {
      throw asOpError(op, err);
    }
    const plane = isImage(out) ? out.data : isStack(out) && out.planes.length === 1 ? out.planes[0] : undefined;
    if (!plane || plane.length !== w * h || (isImage(out) ? out.dtype : isStack(out) ? out.dtype : undefined) !== plan.dtype) {
      throw new FocalError('E_ARGUMENT', `${op.id}: a tile of ${w}×${h} px did not give one ${w}×${h} ${plan.dtype} plane as its tiling declares`, { op: op.id });
    }
    return plane;
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
      const signal = opts.signal ?? options.signal;
      // the region plus its halo, clipped to the image, read once
      const x0 = Math.max(0, region.x - halo);
      const y0 = Math.max(0, region.y - halo);
      const x1 = Math.min(input.width, region.x + region.w + halo);
      const y1 = Math.min(input.height, region.y + region.h + halo);
      const W = x1 - x0;
      const src = await input.readRegion({ c: r.c, z: r.z, t: r.t, x: x0, y: y0, w: W, h: y1 - y0 }, { signal });
      const out = allocate(plan.dtype, region.w * region.h);
      for (let ty = region.y; ty < region.y + region.h; ty += tileSize) {
        for (let tx = region.x; tx < region.x + region.w; tx += tileSize) {
          throwIfAborted(signal);
          const tw = Math.min(tileSize, region.x + region.w - tx);
          const th = Math.min(tileSize, region.y + region.h - ty);
          // the piece with its halo, in the read buffer's coordinates
          const px0 = Math.max(x0, tx - halo);
          const py0 = Math.max(y0, ty - halo);
          const px1 = Math.min(x1, tx + tw + halo);
          const py1 = Math.min(y1, ty + th + halo);
          const pw = px1 - px0;
          const ph = py1 - py0;
          const piece = allocate(input.dtype, pw * ph);
          for (let y = 0; y < ph; y++) {
            const from = (py0 - y0 + y) * W + (px0 - x0);
            piece.set(src.subarray(from, from + pw), y * pw);
          }
          const res = await runPiece(piece, pw, ph, signal);
          for (let y = 0; y < th; y++) {
            const from = (ty - py0 + y) * pw + (tx - px0);
            out.set(res.subarray(from, from + tw), (ty - region.y + y) * region.w + (tx - region.x));
          }
        }
      }
      return out;
    },
  };
}
