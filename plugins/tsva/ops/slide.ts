import { createTable, defineOperation, FocalError, throwIfAborted, z, type Cell, type Table } from '../../../core/index.js';
import { dimShotWarning, refocusPair, shotsFromStack, whiteLevelOf } from '../refocus.js';
import { logShotOffset, modelParams, openModel, pixelSizeWarning, rgbStack } from './common.js';

function positionsOf(table: Table, tiles: number): { x: number; y: number }[] {
  for (const col of ['xPx', 'yPx']) {
    if (!table.columns.includes(col)) throw new FocalError('E_PORT', `positions: needs columns xPx and yPx (the tile's top-left corner in the mosaic, px), has [${table.columns.join(', ')}]`, { field: 'positions' });
  }
  if (table.rows.length !== tiles) throw new FocalError('E_PORT', `positions: has ${table.rows.length} rows but shots holds ${tiles} tiles (2 planes per tile)`, { field: 'positions' });
  return table.rows.map((r, i) => {
    const x = Number(r.xPx);
    const y = Number(r.yPx);
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0) throw new FocalError('E_PORT', `positions: row ${i} has xPx=${String(r.xPx)}, yPx=${String(r.yPx)}; both must be integers ≥ 0`, { field: 'positions' });
    return { x, y };
  });
}

export const slide = defineOperation({
  id: 'tsva.slide',
  title: 'TSVA whole-slide two-shot workflow',
  description:
    'Recovers a whole slide from a two-shot acquisition (TSVA): for every tile the two shots at F − s and F + s (z planes 2k and 2k + 1 of the stack) are refocused with tsva.refocus, and the tiles are placed at their positions (blended where they overlap) into a mosaic. The table has one row per tile: position, Brenner of each shot, which shot was Y1, the network time and, with guard consistency, the weight the network output kept.',
  inputs: {
    shots: { type: 'stack', description: 'RGB (or grey) stack with 2 z planes per tile: plane 2k at F − s, plane 2k + 1 at F + s' },
    positions: { type: 'table', description: 'One row per tile: xPx, yPx (top-left corner in the mosaic, px)' },
  },
  outputs: {
    mosaic: { type: 'stack', description: 'RGB (uint8, or float32 in [0, 1]): the recovered slide' },
    tiles: { type: 'table', description: 'Per tile: tile, xPx, yPx, brennerLow (F − s), brennerHigh (F + s), y1 (F-s or F+s), seconds' },
  },
  params: z.strictObject({ ...modelParams }),
  async run(ctx, { shots, positions }, params) {
    const all = shotsFromStack(shots, 'shots', params.whiteLevel);
    if (all.length < 2 || all.length % 2 !== 0) throw new FocalError('E_PORT', `shots: has ${all.length} z planes; a two-shot acquisition has 2 per tile (F − s, F + s)`, { field: 'shots' });
    const n = all.length / 2;
    // one warning for the slide: which shots are dim (a wrong white level makes them all so)
    const dim = all.map((shot, j) => {
      throwIfAborted(ctx.signal);
      return dimShotWarning(shot, `shots (tile ${Math.floor(j / 2)}, ${j % 2 === 0 ? 'F − s' : 'F + s'})`, whiteLevelOf(shots, params.whiteLevel));
    }).filter((w) => w !== undefined);
    if (dim.length > 0) ctx.log.warn(dim.length === 1 ? dim[0] : `${dim[0]} (${dim.length} of the ${all.length} shots are as dim)`);
    const pos = positionsOf(positions, n);
    const tw = shots.width;
    const th = shots.height;
    const W = Math.max(...pos.map((p) => p.x)) + tw;
    const H = Math.max(...pos.map((p) => p.y)) + th;
    if (W * H > 64e6) throw new FocalError('E_PORT', `positions: the mosaic would be ${W}×${H} px (more than 64 Mpx)`, { field: 'positions' });
    const acc = new Float32Array(W * H * 3);
    const wsum = new Float32Array(W * H);
    // feathered tile weights (linear ramps over 16 px at each edge) blend overlapping tiles
    const ramp = (u: number, size: number) => Math.min(1, (Math.min(u, size - 1 - u) + 1) / 16);
    const rows: Record<string, Cell>[] = [];
    const m = await openModel(params);
    try {
      const pixelWarning = pixelSizeWarning(shots, 'shots', m);
      if (pixelWarning) ctx.log.warn(pixelWarning);
      if (params.shotOffsetUm === undefined) logShotOffset(ctx, m);
      for (let k = 0; k < n; k++) {
        const t0 = performance.now();
        const r = await refocusPair(all[2 * k], all[2 * k + 1], m.engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: m.meta.arch, order: params.order ?? 'brenner', guard: params.guard ?? 'off', signal: ctx.signal });
        const seconds = (performance.now() - t0) / 1000;
        const { x, y } = pos[k];
        for (let v = 0; v < th; v++) {
          for (let u = 0; u < tw; u++) {
            const w = ramp(u, tw) * ramp(v, th);
            const i = (y + v) * W + x + u;
            wsum[i] += w;
            for (let c = 0; c < 3; c++) acc[i * 3 + c] += w * r.hwc[(v * tw + u) * 3 + c];
          }
        }
        rows.push({ tile: k, xPx: x, yPx: y, brennerLow: r.brennerA, brennerHigh: r.brennerB, y1: r.firstIsY1 ? 'F-s' : 'F+s', seconds, ...(r.guardWeight !== undefined ? { guardWeight: r.guardWeight } : {}) });
        ctx.progress((k + 1) / n);
      }
    } finally {
      await m.engine.dispose();
    }
    for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) acc[i * 3 + c] = wsum[i] > 0 ? acc[i * 3 + c] / wsum[i] : 1;
    return {
      mosaic: rgbStack(acc, W, H, params.outputType ?? 'uint8', shots.calibration),
      tiles: createTable(['tile', 'xPx', 'yPx', 'brennerLow', 'brennerHigh', 'y1', 'seconds', ...(params.guard === 'consistency' ? ['guardWeight'] : [])], rows),
    };
  },
});
