/**
 * An op that streams itself (OperationDef.stream) in a planned streamed run: its image inputs as
 * region sources and its table input whole from the pipeline's values, its image output from
 * its own source, its tables from one finish() after, close() once whatever happens; an op that
 * declines falls back to the usual planning.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogFromPlugins } from '../plugin/catalog.js';
import { definePlugin, defineOperation } from '../plugin/contract.js';
import { createStack } from '../data/stack.js';
import { createTable, type Table } from '../data/table.js';
import { stackRegionSource, type RegionSource } from '../io/lazy-image.js';
import type { Logger } from '../plugin/contract.js';
import { z } from 'zod';
import type { Pipeline } from './schema.js';
import { planStream, streamBandBytes } from './stream.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const services = { resolve(): never { throw new Error('no services'); } };

/** Places each plane of `tiles` at its row of `at` (xPx), adding 1 to every pixel; counts finish and close. */
const calls = { finish: 0, close: 0, streams: 0 };
const place = defineOperation({
  id: 'proto.place',
  title: 'place',
  description: 'test',
  inputs: { tiles: { type: 'stack' }, at: { type: 'table' } },
  outputs: { row: { type: 'stack' }, count: { type: 'table' }, sum: { type: 'table' } },
  params: z.strictObject({ decline: z.boolean().default(false) }),
  run() {
    throw new Error('not in this test');
  },
  async stream(_ctx, inputs, params) {
    if (params.decline) return undefined;
    calls.streams++;
    const tiles = inputs.tiles as RegionSource;
    const at = (inputs.at as Table).rows.map((r) => Number(r.xPx));
    const width = Math.max(...at) + tiles.width;
    return {
      images: {
        row: {
          width, height: tiles.height, sizeC: 1, sizeZ: 1, sizeT: 1, dtype: 'uint8', calibration: tiles.calibration, channelNames: [],
          async readRegion(r) {
            const out = new Uint8Array(r.w * r.h);
            for (let k = 0; k < at.length; k++) {
              const plane = await tiles.readRegion({ z: k, x: 0, y: 0, w: tiles.width, h: tiles.height });
              for (let y = 0; y < r.h; y++) for (let x = 0; x < r.w; x++) {
                const u = r.x + x - at[k];
                if (u >= 0 && u < tiles.width) out[y * r.w + x] = plane[(r.y + y) * tiles.width + u] + 1;
              }
            }
            return out;
          },
        },
      },
      async finish() {
        calls.finish++;
        return { count: createTable(['n'], [{ n: at.length }]), sum: createTable(['x'], [{ x: at.reduce((a, b) => a + b, 0) }]) };
      },
      bandBytes: (rows) => 1000 * rows,
      async close() {
        calls.close++;
      },
    };
  },
});
/** A point op (tiled, halo 0): its input plus one. */
const plusOne = defineOperation({
  id: 'proto.plus-one',
  title: 'plus one',
  description: 'test',
  inputs: { stack: { type: 'stack' } },
  outputs: { stack: { type: 'stack' } },
  params: z.strictObject({}),
  tiling: () => ({ haloPx: 0, dtype: 'uint8' }),
  run(_ctx, { stack }) {
    return { stack: { ...stack, planes: stack.planes.map((p) => Uint8Array.from(p, (v) => v + 1)) } };
  },
});
const catalog = catalogFromPlugins([definePlugin({ id: 'proto', version: '1.0.0', description: '', operations: [place, plusOne] })]);

const tiles = stackRegionSource(createStack({ width: 4, height: 3, sizeZ: 2, dtype: 'uint8', planes: [new Uint8Array(12).fill(10), new Uint8Array(12).fill(20)] }));
const at = createTable(['xPx'], [{ xPx: 0 }, { xPx: 6 }]);

function pipeline(params: Record<string, unknown>, outputs: Record<string, string> = { row: 'n.row', count: 'n.count', sum: 'n.sum' }): Pipeline {
  return { name: 'proto', inputs: { tiles: { type: 'stack' }, at: { type: 'table' } }, nodes: { n: { op: 'proto.place', in: { tiles: 'tiles', at: 'at' }, params } }, outputs } as unknown as Pipeline;
}

describe('streamBandBytes', () => {
  it("adds a tiled node's workingBytes (a network's session and tile tensors) once, whatever the band's height", () => {
    const node = { node: 'n', op: 'x.net', mode: 'tiled' as const, haloPx: 0, totalHaloPx: 0, width: 100, height: 100, dtype: 'uint8' as const, together: { inChannels: 3, outChannels: 3 } };
    const plan = (extra: object) => ({ outputs: {}, reductions: {}, nodes: [{ ...node, ...extra }], close: async () => undefined });
    for (const rows of [8, 64]) expect(streamBandBytes(plan({ workingBytes: 5e6 }), rows) - streamBandBytes(plan({}), rows)).toBe(5e6);
  });
});

describe('planStream: an op that streams itself', () => {
  it('gets its table input whole, serves its image, makes its tables in one finish() and is closed once', async () => {
    Object.assign(calls, { finish: 0, close: 0, streams: 0 });
    const plan = await planStream(pipeline({}), { catalog, inputs: { tiles }, values: { at }, budgetBytes: 1 << 30, tileSize: 64, services, logger: silent });
    expect(calls.streams).toBe(1);
    expect(plan.nodes).toEqual([expect.objectContaining({ node: 'n', op: 'proto.place', mode: 'op', width: 10, height: 3 })]);
    expect(streamBandBytes(plan, 8)).toBeGreaterThanOrEqual(8000);
    const row = await plan.outputs.row.readRegion({ x: 0, y: 0, w: 10, h: 1 });
    expect([...row]).toEqual([11, 11, 11, 11, 0, 0, 21, 21, 21, 21]);
    expect(((await plan.reductions.count.run()) as Table).rows).toEqual([{ n: 2 }]);
    expect(((await plan.reductions.sum.run()) as Table).rows).toEqual([{ x: 6 }]);
    expect(calls.finish).toBe(1);
    await plan.close();
    await plan.close();
    expect(calls.close).toBe(1);
  });

  it('a table that is not a pipeline input is refused naming node and port; a failure later in planning still closes the stream', async () => {
    await expect(planStream(pipeline({}), { catalog, inputs: { tiles }, budgetBytes: 1 << 30, tileSize: 64, services, logger: silent })).rejects.toThrow(/node 'n' \(proto\.place\): input 'at' \(table\) must come from a pipeline input/);
    Object.assign(calls, { finish: 0, close: 0, streams: 0 });
    const p = pipeline({});
    const broken = { ...p, nodes: { ...p.nodes, m: { op: 'proto.missing', in: { tiles: 'tiles' } } }, outputs: { row: 'n.row', other: 'm.x' } } as unknown as Pipeline;
    await expect(planStream(broken, { catalog, inputs: { tiles }, values: { at }, budgetBytes: 1 << 30, tileSize: 64, services, logger: silent })).rejects.toThrow(/unknown operation 'proto\.missing'/);
    expect([calls.streams, calls.close]).toEqual([1, 1]);
  });

  it("with a scratch folder, its output that another node reads is kept on disk: a second pass does not run the op again", async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'focal-stream-op-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    let reads = 0;
    const counted = { ...tiles, readRegion: (r: Parameters<typeof tiles.readRegion>[0], o?: Parameters<typeof tiles.readRegion>[1]) => (reads++, tiles.readRegion(r, o)) };
    const p = { ...pipeline({}), nodes: { ...pipeline({}).nodes, inc: { op: 'proto.plus-one', in: { stack: 'n.row' } } }, outputs: { inc: 'inc.stack' } } as unknown as Pipeline;
    for (const scratchDir of [scratch, undefined]) {
      reads = 0;
      const plan = await planStream(p, { catalog, inputs: { tiles: counted }, values: { at }, budgetBytes: 1 << 30, tileSize: 64, services, logger: silent, ...(scratchDir ? { scratchDir } : {}) });
      const first = await plan.outputs.inc.readRegion({ x: 0, y: 0, w: 10, h: 3 });
      expect([...first.subarray(0, 10)]).toEqual([12, 12, 12, 12, 1, 1, 22, 22, 22, 22]);
      const once = reads;
      expect(once).toBeGreaterThan(0);
      await plan.outputs.inc.readRegion({ x: 0, y: 0, w: 10, h: 3 });
      expect(reads).toBe(scratchDir ? once : 2 * once);
      if (scratchDir) expect(readdirSync(scratch)).toEqual(['.cache-n-row.bin']);
      await plan.close();
      expect(readdirSync(scratch)).toEqual([]);
    }
  });

  it('an op that declines (undefined) is planned the usual way: a table input is then refused', async () => {
    await expect(planStream(pipeline({ decline: true }, { row: 'n.row' }), { catalog, inputs: { tiles }, values: { at }, budgetBytes: 1 << 30, tileSize: 64, services, logger: silent })).rejects.toThrow(/cannot be streamed/);
  });
});
