import { createStack, createTable, defineOperation, FocalError, throwIfAborted, z, type Cell, type OpStream, type PixelArray, type RegionRequest, type RegionSource, type Stack, type Table } from '../../../core/index.js';
import { addTile, mosaicSize, resolveBlend, tileMeets, tilePositions, type MosaicRect } from '../mosaic.js';
import { tsvaWorkingBytes } from '../package.js';
import { dimShotWarning, focusGateToleranceUm, refocusPair, shotsFromStack, whiteLevelOf, type RefocusResult, type Shot } from '../refocus.js';
import { focusEstimator, logShotOffset, modelParams, openModel, outOfRangeWarning, pixelGrid, rgbPlanes, rgbStack, type OpenModel } from './common.js';
import type { TwoShotDefocus } from '../defocus-estimate.js';

/** Largest mosaic made in memory; a larger one streams (focal run --stream). */
const IN_MEMORY_MAX_PX = 64e6;

const TILE_COLUMNS = ['tile', 'xPx', 'yPx', 'brennerLow', 'brennerHigh', 'y1', 'deltaDUm', 'seconds'];

function tilesTable(rows: Record<string, Cell>[], guard: string | undefined, gate: string | undefined): Table {
  return createTable([...TILE_COLUMNS, ...(gate === 'focus' ? ['gateWeight'] : []), ...(guard === 'consistency' ? ['guardWeight'] : [])], rows);
}

function tileRow(k: number, p: { x: number; y: number }, r: RefocusResult, deltaDUm: number | null, seconds: number): Record<string, Cell> {
  return { tile: k, xPx: p.x, yPx: p.y, brennerLow: r.brennerA, brennerHigh: r.brennerB, y1: r.firstIsY1 ? 'F-s' : 'F+s', deltaDUm, seconds, ...(r.gateWeight !== undefined ? { gateWeight: r.gateWeight } : {}), ...(r.guardWeight !== undefined ? { guardWeight: r.guardWeight } : {}) };
}

/** The tile's estimated focus error, µm (0.1 µm steps), or null when its shots hold too little structure to tell. */
function focusErrorOf(focus: TwoShotDefocus | undefined, low: Shot, high: Shot, signal: AbortSignal): number | null {
  if (!focus) return null;
  const e = focus.estimate(low.hwc, high.hwc, low.width, low.height, 3, signal);
  return Number.isFinite(e.deltaDUm) ? Math.round(e.deltaDUm * 10) / 10 : null;
}

const shotLabel = (j: number): string => `shots (tile ${Math.floor(j / 2)}, ${j % 2 === 0 ? 'F − s' : 'F + s'})`;

function refocusTile(a: Shot, b: Shot, m: OpenModel, params: { order?: 'brenner' | 'as-given'; guard?: 'consistency' | 'off'; gate?: 'focus' | 'off'; shotOffsetUm?: number }, scale: number, deltaDUm: number | null, signal: AbortSignal): Promise<RefocusResult> {
  const gate = params.gate === 'focus' && deltaDUm !== null ? { gate: { deltaDUm, shotOffsetUm: params.shotOffsetUm ?? m.meta.protocol.shotOffsetUm, toleranceUm: focusGateToleranceUm(m.meta.optics) } } : {};
  return refocusPair(a, b, m.engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: m.meta.arch, order: params.order ?? 'brenner', guard: params.guard ?? 'off', scale, ...gate, signal });
}

function checkShots(s: { sizeC: number; sizeZ: number; sizeT: number }): number {
  if (s.sizeT !== 1) throw new FocalError('E_PORT', `shots: has ${s.sizeT} time points; give one acquisition`, { field: 'shots' });
  if (s.sizeC !== 3 && s.sizeC !== 1) throw new FocalError('E_PORT', `shots: has ${s.sizeC} channels; TSVA takes RGB (3) or grey (1) shots`, { field: 'shots' });
  if (s.sizeZ < 2 || s.sizeZ % 2 !== 0) throw new FocalError('E_PORT', `shots: has ${s.sizeZ} z planes; a two-shot acquisition has 2 per tile (F − s, F + s)`, { field: 'shots' });
  return s.sizeZ / 2;
}

export const slide = defineOperation({
  id: 'tsva.slide',
  title: 'TSVA whole-slide two-shot workflow',
  description:
    'Recovers a whole slide from a two-shot acquisition (TSVA): for every tile the two shots at F − s and F + s (z planes 2k and 2k + 1 of the stack) are refocused with tsva.refocus, and the tiles are placed at their positions (blended where they overlap) into a mosaic. The table has one row per tile: position, Brenner of each shot, which shot was Y1, the focus error ΔD estimated from the two shots without the network (depth from defocus; tiles beyond the range the model was trained on are named in a warning), the network time and, with guard consistency, the weight the network output kept. In memory up to 64 Mpx of mosaic; focal run --stream makes any size band by band, reading each tile\'s two shots when the band reaches it, with the same pixels.',
  inputs: {
    shots: { type: 'stack', description: 'RGB (or grey) stack with 2 z planes per tile: plane 2k at F − s, plane 2k + 1 at F + s' },
    positions: { type: 'table', description: 'One row per tile: xPx, yPx (top-left corner in the mosaic, px)' },
  },
  outputs: {
    mosaic: { type: 'stack', description: 'RGB (uint8, or float32 in [0, 1]): the recovered slide' },
    tiles: { type: 'table', description: 'Per tile: tile, xPx, yPx, brennerLow (F − s), brennerHigh (F + s), y1 (F-s or F+s), deltaDUm (the focus error F − in-focus plane estimated from the two shots\' spectra, µm; empty where they hold too little structure), seconds' },
  },
  params: z.strictObject({ ...modelParams }),
  async run(ctx, { shots, positions }, params) {
    if (!shots) throw new FocalError('E_PORT', 'shots: the two-shot acquisition is missing', { field: 'shots' });
    const n = checkShots(shots);
    const pos = tilePositions(positions, n);
    const tw = shots.width;
    const th = shots.height;
    const { width: W, height: H } = mosaicSize(pos, tw, th);
    if (W * H > IN_MEMORY_MAX_PX) throw new FocalError('E_PORT', `positions: the mosaic would be ${W}×${H} px, more than the 64 Mpx made in memory; stream it band by band (focal run --stream always, with the shots in a TIFF or OME-Zarr file)`, { field: 'positions' });
    const all = shotsFromStack(shots, 'shots', params.whiteLevel);
    // one warning for the slide: which shots are dim (a wrong white level makes them all so)
    const dim = all.map((shot, j) => {
      throwIfAborted(ctx.signal);
      return dimShotWarning(shot, shotLabel(j), whiteLevelOf(shots, params.whiteLevel));
    }).filter((w) => w !== undefined);
    if (dim.length > 0) ctx.log.warn(dim.length === 1 ? dim[0] : `${dim[0]} (${dim.length} of the ${all.length} shots are as dim)`);
    const whole: MosaicRect = { x: 0, y: 0, w: W, h: H };
    const acc = new Float32Array(W * H * 3);
    const wsum = new Float32Array(W * H);
    const rows: Record<string, Cell>[] = [];
    const m = await openModel(params);
    try {
      const grid = pixelGrid(shots.calibration, 'shots', m, params.resample ?? 'auto');
      if (grid.message) ctx.log[grid.message.level](grid.message.text);
      if (params.shotOffsetUm === undefined) logShotOffset(ctx, m);
      const focus = focusEstimator(m, shots.calibration, tw, th, params.shotOffsetUm);
      for (let k = 0; k < n; k++) {
        const deltaDUm = focusErrorOf(focus, all[2 * k], all[2 * k + 1], ctx.signal);
        const t0 = performance.now();
        const r = await refocusTile(all[2 * k], all[2 * k + 1], m, params, grid.scale, deltaDUm, ctx.signal);
        const seconds = (performance.now() - t0) / 1000;
        addTile(acc, wsum, whole, { ...pos[k], hwc: r.hwc }, tw, th);
        rows.push(tileRow(k, pos[k], r, deltaDUm, seconds));
        ctx.progress((k + 1) / n);
      }
      const range = outOfRangeWarning(rows.map((r) => ({ tile: r.tile as number, deltaDUm: r.deltaDUm as number | null })), m);
      if (range) ctx.log.warn(range);
    } finally {
      await m.engine.dispose();
    }
    return { mosaic: rgbStack(resolveBlend(acc, wsum), W, H, params.outputType ?? 'uint8', shots.calibration), tiles: tilesTable(rows, params.guard, params.gate) };
  },
  // Streamed (focal run --stream): the mosaic is made band by band as the writer reads it; a
  // band refocuses the tiles that reach it (each tile once, kept until the bands have passed it)
  // and blends them in tile order, as the in-memory run does, so the pixels are the same.
  async stream(ctx, inputs, params) {
    const shots = inputs.shots as RegionSource | undefined;
    const positions = inputs.positions as Table | undefined;
    if (!shots || !positions) return undefined;
    const n = checkShots(shots);
    const pos = tilePositions(positions, n);
    const tw = shots.width;
    const th = shots.height;
    const { width: W, height: H } = mosaicSize(pos, tw, th);
    const dtype = params.outputType ?? 'uint8';
    const scale = whiteLevelOf({ dtype: shots.dtype } as Stack, params.whiteLevel);
    const m = await openModel(params);
    const working = tsvaWorkingBytes(m.meta, m.tilePx);
    const grid = pixelGrid(shots.calibration, 'shots', m, params.resample ?? 'auto');
    if (grid.message) ctx.log[grid.message.level](grid.message.text);
    if (params.shotOffsetUm === undefined) logShotOffset(ctx, m);
    const focus = focusEstimator(m, shots.calibration, tw, th, params.shotOffsetUm);
    const tileWorkBytes = grid.scale === 1 ? tw * th * 4 * 24 : tw * th * 4 * 32 + Math.max(3, Math.round(tw * grid.scale)) * Math.max(3, Math.round(th * grid.scale)) * 4 * 24;

    const rows = new Map<number, Record<string, Cell>>();
    const dim: string[] = [];
    /** Tile k refocused: its two shots read from the stack, then the network (and guard) on them. */
    const refocus = async (k: number, signal: AbortSignal): Promise<Float32Array> => {
      const planes: PixelArray[] = [];
      for (const zi of [2 * k, 2 * k + 1]) {
        for (let c = 0; c < shots.sizeC; c++) {
          throwIfAborted(signal);
          planes.push(await shots.readRegion({ c, z: zi, t: 0, x: 0, y: 0, w: tw, h: th }, { signal }));
        }
      }
      const pair = createStack({ width: tw, height: th, dtype: shots.dtype, sizeC: shots.sizeC, sizeZ: 2, planes, calibration: shots.calibration });
      const [a, b] = shotsFromStack(pair, 'shots', params.whiteLevel);
      for (const [j, shot] of [[2 * k, a], [2 * k + 1, b]] as const) {
        const warning = rows.has(k) ? undefined : dimShotWarning(shot, shotLabel(j), scale);
        if (warning && dim.push(warning) === 1) ctx.log.warn(warning);
      }
      // the estimate once per tile (a tile refocused again, for a band above, reuses its row's)
      const deltaDUm = rows.has(k) ? (rows.get(k)!.deltaDUm as number | null) : focusErrorOf(focus, a, b, signal);
      const t0 = performance.now();
      const r = await refocusTile(a, b, m, params, grid.scale, deltaDUm, signal);
      if (!rows.has(k)) rows.set(k, tileRow(k, pos[k], r, deltaDUm, (performance.now() - t0) / 1000));
      return r.hwc;
    };
    // refocused tiles, kept while bands still reach them (a band read above them again recomputes)
    const kept = new Map<number, Promise<Float32Array>>();
    const tileOf = (k: number, signal: AbortSignal): Promise<Float32Array> => {
      let p = kept.get(k);
      if (!p) {
        p = refocus(k, signal);
        kept.set(k, p);
        p.catch(() => kept.delete(k));
      }
      return p;
    };
    // the last band made, every channel (the writer reads one band of each channel in turn)
    let band: { key: string; planes: Promise<(Uint8Array | Float32Array)[]> } | undefined;
    const makeBand = async (rect: MosaicRect, signal: AbortSignal): Promise<(Uint8Array | Float32Array)[]> => {
      const acc = new Float32Array(rect.w * rect.h * 3);
      const wsum = new Float32Array(rect.w * rect.h);
      for (let k = 0; k < n; k++) {
        if (!tileMeets(pos[k], tw, th, rect)) continue;
        addTile(acc, wsum, rect, { ...pos[k], hwc: await tileOf(k, signal) }, tw, th);
      }
      // the writer goes down the mosaic: tiles wholly above this band are not needed again
      for (const k of [...kept.keys()]) if (pos[k].y + th <= rect.y) kept.delete(k);
      return rgbPlanes(resolveBlend(acc, wsum), rect.w * rect.h, dtype);
    };
    const image: RegionSource = {
      width: W,
      height: H,
      sizeC: 3,
      sizeZ: 1,
      sizeT: 1,
      dtype,
      calibration: shots.calibration,
      channelNames: ['R', 'G', 'B'],
      ...(dtype === 'uint8' ? { rgb: true } : {}),
      channelsTogether: true,
      async readRegion(region: RegionRequest, opts: { signal?: AbortSignal } = {}): Promise<PixelArray> {
        const c = region.c ?? 0;
        if ((region.level ?? 0) !== 0 || (region.z ?? 0) !== 0 || (region.t ?? 0) !== 0 || !Number.isInteger(c) || c < 0 || c > 2) {
          throw new FocalError('E_ARGUMENT', `tsva.slide: the streamed mosaic has level 0, one plane and channels 0–2; asked for level ${region.level ?? 0}, c ${c}, z ${region.z ?? 0}, t ${region.t ?? 0}`, { field: 'region' });
        }
        const { x, y, w, h } = region;
        if (!(Number.isInteger(x) && Number.isInteger(y) && Number.isInteger(w) && Number.isInteger(h)) || x < 0 || y < 0 || w < 1 || h < 1 || x + w > W || y + h > H) {
          throw new FocalError('E_ARGUMENT', `tsva.slide: the region ${x},${y} ${w}×${h} is not inside the ${W}×${H} px mosaic`, { field: 'region' });
        }
        const signal = opts.signal ?? ctx.signal;
        throwIfAborted(signal);
        const key = `${x},${y},${w},${h}`;
        if (band?.key !== key) {
          const planes = makeBand({ x, y, w, h }, signal);
          planes.catch(() => undefined); // a failure belongs to whoever reads it
          band = { key, planes };
        }
        const current = band;
        try {
          return (await current.planes)[c];
        } catch (err) {
          if (band === current) band = undefined; // asked again, it is made afresh
          throw signal.aborted ? new FocalError('E_CANCELLED', 'cancelled') : err;
        }
      },
    };
    // the most tiles a band of `rows` rows keeps refocused: those that reach it
    const tilesPerBand = (bandRows: number): number => {
      let most = 0;
      for (let y = 0; y < H; y += bandRows) most = Math.max(most, pos.filter((p) => p.y < y + bandRows && p.y + th > y).length);
      return most;
    };
    const stream: OpStream = {
      images: { mosaic: image },
      async finish(onProgress) {
        // the tiles no band read (a run that writes only the table) are refocused now
        for (let k = 0; k < n; k++) {
          if (!rows.has(k)) await refocus(k, ctx.signal);
          onProgress?.((k + 1) / n);
        }
        if (dim.length > 1) ctx.log.warn(`${dim.length} of the ${2 * n} shots are dim (the first: ${dim[0]})`);
        const ordered = [...rows.keys()].sort((a, b) => a - b).map((k) => rows.get(k)!);
        const range = outOfRangeWarning(ordered.map((r) => ({ tile: r.tile as number, deltaDUm: r.deltaDUm as number | null })), m);
        if (range) ctx.log.warn(range);
        return { tiles: tilesTable(ordered, params.guard, params.gate) };
      },
      // kept tiles (RGB float), the working copies of a tile (two shots, the network's six input
      // and three output planes, the blend: ~24 floats a pixel) twice, since the last tile's are
      // garbage not yet collected (a 64-tile run peaked ~130 MB above the estimate with once),
      // the band's accumulators and its output planes, and the network's session with the
      // tensors of one network tile (onnxruntime keeps them between tiles)
      // (on another pixel grid, also the model grid's copies and the resampling's: ~8 floats a pixel)
      bandBytes: (bandRows) => tilesPerBand(bandRows) * tw * th * 12 + 2 * tileWorkBytes + W * bandRows * (16 + 3 * (dtype === 'uint8' ? 1 : 4)) + working,
      async close() {
        kept.clear();
        await m.engine.dispose();
      },
    };
    return stream;
  },
});
