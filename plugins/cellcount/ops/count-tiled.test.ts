import { describe, expect, it } from 'vitest';
import { createStack, runOp, stackRegionSource, testContext, tiledReduction, type PixelArray, type RegionSource, type Stack, type Table } from '../../../core/index.js';
import { count } from './count.js';

// issue 21: counting tile by tile — particles crossing tile borders merged exactly once
const W = 257;
const H = 389;
const T = 64;

function disc(p: Uint16Array, cx: number, cy: number, r: number, v: number): void {
  for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(H - 1, cy + r); y++) {
    for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(W - 1, cx + r); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) p[y * W + x] = v;
  }
}

/** Noise below the threshold, random blobs, and particles placed on the 64-px tile borders on purpose. */
function plane(seed: number): Uint16Array {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const p = new Uint16Array(W * H);
  for (let i = 0; i < p.length; i++) p[i] = Math.floor(rnd() * 900);
  for (let k = 0; k < 120; k++) disc(p, rnd() * W, rnd() * H, 0.5 + rnd() * 7, 1500 + Math.floor(rnd() * 2000));
  // on vertical, horizontal seams and on tile corners
  for (const [cx, cy, r] of [[64, 30, 5], [128.5, 100, 4], [30, 128, 6], [192, 192, 7], [64, 256, 3], [256, 64, 2], [128, 320, 9]] as const) disc(p, cx, cy, r, 3000);
  // touching across a tile corner only diagonally: (127, 191) and (128, 192)
  p[191 * W + 127] = 2500;
  p[192 * W + 128] = 2500;
  p[190 * W + 126] = 2500;
  // a U whose arms lie in two tiles of one band and join only in the band below (union across bands)
  for (let y = 200; y < 270; y++) {
    p[y * W + 60] = 2800;
    p[y * W + 70] = 2800;
  }
  for (let x = 60; x <= 70; x++) p[269 * W + x] = 2800;
  // a snake across many tiles, and a ring (its hole is not part of it)
  for (let x = 5; x < 250; x++) p[(340 + Math.round(8 * Math.sin(x / 9))) * W + x] = 2600;
  disc(p, 190, 60, 9, 3100);
  disc(p, 190, 60, 5, 100);
  return p;
}

function image(calibrated: boolean): Stack {
  return createStack({ width: W, height: H, dtype: 'uint16', sizeZ: 2, planes: [plane(3), plane(11)], calibration: calibrated ? { pixelWidthUm: 0.5, pixelHeightUm: 0.25 } : {} });
}

describe('cellcount.count tile by tile (issue 21)', () => {
  for (const [name, params, calibrated] of [
    ['manual limits', { method: 'manual', lower: 1000, upper: 65535 }, false],
    ['size, circularity and edge filters, calibrated (µm columns)', { method: 'manual', lower: 1000, upper: 65535, minAreaUm2: 1, maxCircularity: 0.95, minCircularity: 0.05, excludeEdges: true }, true],
    // automatic methods: the plane's range, then its histogram, read tile by tile (two more passes)
    ['Otsu (dark background)', { method: 'Otsu', darkBackground: true }, false],
    ['Triangle (dark background)', { method: 'Triangle', darkBackground: true }, false],
    ['Default (light background), size filter', { method: 'Default', minAreaPx: 4 }, false],
  ] as const) {
    it(`${name}: objects and summary equal the whole-image count (tiles of ${T}, particles on the seams)`, async () => {
      const stack = image(calibrated);
      const whole = await runOp(count, { image: stack }, params);
      const tiled = await tiledReduction(count, stackRegionSource(stack), params, { tileSize: T });
      const objects = tiled.objects as Table;
      expect((whole.summary as Table).rows.map((r) => r.count)).toEqual((tiled.summary as Table).rows.map((r) => r.count));
      expect((whole.objects as Table).rows.length).toBeGreaterThan(30);
      expect(objects).toEqual(whole.objects);
      expect(tiled.summary).toEqual(whole.summary);
      // one tile per plane reduces to the same thing too
      const oneTile = await tiledReduction(count, stackRegionSource(stack), params, { tileSize: 1024 });
      expect(oneTile.objects).toEqual(whole.objects);
    });
  }

  it('automatic limits on float32 with NaN pixels and on a constant plane equal the whole-image count; an all-NaN plane is refused alike', async () => {
    const p = Float32Array.from(plane(5), (v, i) => (i % 97 === 0 ? NaN : v / 7));
    const stack = createStack({ width: W, height: H, dtype: 'float32', sizeZ: 2, planes: [p, new Float32Array(W * H).fill(3)] });
    const params = { method: 'Otsu', darkBackground: true } as const;
    const wholeCtx = testContext();
    const whole = await runOp(count, { image: stack }, params, wholeCtx);
    const tiledCtx = testContext();
    const tiled = await count.reduceTiles!(count.params.parse(params), { dtype: 'float32', calibration: {} })!.run(tiledCtx, stackRegionSource(stack), { tileSize: T });
    expect((whole.summary as Table).rows[0].count).toBeGreaterThan(10);
    // the constant plane is said to be one, in both
    for (const c of [wholeCtx, tiledCtx]) expect(c.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['constant plane: an automatic threshold cannot separate objects from the background; no objects']);
    expect(tiled.objects).toEqual(whole.objects);
    expect(tiled.summary).toEqual(whole.summary);
    const nan = createStack({ width: W, height: H, dtype: 'float32', planes: [new Float32Array(W * H).fill(NaN)] });
    await expect(runOp(count, { image: nan }, params)).rejects.toThrow(/no finite pixel value/);
    await expect(tiledReduction(count, stackRegionSource(nan), params, { tileSize: T })).rejects.toThrow(/no finite pixel value/);
  });

  it('included holes: rings across seams, particles in holes, rings in rings and a filtered ring equal the whole-image count', async () => {
    const rings = (seed: number): Uint16Array => {
      const p = plane(seed);
      const ring = (cx: number, cy: number, r0: number, r1: number, v: number) => {
        disc(p, cx, cy, r1, v);
        disc(p, cx, cy, r0, 50);
      };
      ring(64, 64, 6, 12, 3000); // on a tile corner, its hole in four tiles
      disc(p, 64, 64, 2, 3200); // a particle in that hole: consumed
      ring(128, 200, 14, 20, 2900); // a ring on a seam, a ring inside it, a dot inside that
      ring(128, 200, 6, 10, 2900);
      disc(p, 128, 200, 2, 2900);
      ring(40, 300, 3, 4.5, 2700); // small: its area with the hole decides the size filter
      // a hole open to the outside through a one-pixel gap is not a hole (4-connected to the box's border)
      ring(200, 300, 8, 13, 3000);
      for (let x = 200; x <= 214; x++) p[300 * W + x] = 60;
      return p;
    };
    const stack = createStack({ width: W, height: H, dtype: 'uint16', sizeZ: 2, planes: [rings(3), rings(11)], calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5 } });
    for (const params of [
      { method: 'manual', lower: 1000, upper: 65535, includeHoles: true },
      { method: 'Otsu', darkBackground: true, includeHoles: true, minAreaPx: 60, excludeEdges: true },
      { method: 'manual', lower: 1000, upper: 65535, includeHoles: true, minCircularity: 0.3, maxAreaUm2: 80 },
    ] as const) {
      const whole = await runOp(count, { image: stack }, params);
      const without = await runOp(count, { image: stack }, { ...params, includeHoles: false });
      // the holes matter here: fewer objects (some consumed), larger areas
      expect((whole.objects as Table).rows.length).toBeGreaterThan(10);
      expect(whole.objects).not.toEqual(without.objects);
      for (const tileSize of [T, 48, 1024]) {
        const tiled = await tiledReduction(count, stackRegionSource(stack), params, { tileSize });
        expect(tiled.objects).toEqual(whole.objects);
        expect(tiled.summary).toEqual(whole.summary);
      }
    }
  });

  it('the watershed (and with included holes): each component split on a read of its box; equal to the whole-image count', async () => {
    // touching discs (pairs and a chain of three) on seams and corners, and the usual blobs
    const touching = (seed: number): Uint16Array => {
      const p = plane(seed);
      for (const [cx, cy, r, dx, dy] of [[64, 64, 8, 12, 3], [128, 190, 7, 11, 0], [30, 250, 6, 0, 10], [200, 128, 9, 14, 8], [100, 330, 5, 8, 0]] as const) {
        disc(p, cx, cy, r, 3300);
        disc(p, cx + dx, cy + dy, r, 3300);
        if (r === 5) disc(p, cx + 2 * dx, cy, r, 3300);
      }
      disc(p, 180, 260, 10, 3300); // a ring of touching parts with a hole
      disc(p, 180, 260, 4, 80);
      disc(p, 194, 260, 7, 3300);
      return p;
    };
    const stack = createStack({ width: W, height: H, dtype: 'uint16', sizeZ: 2, planes: [touching(3), touching(11)], calibration: { pixelWidthUm: 0.5, pixelHeightUm: 0.5 } });
    for (const params of [
      { method: 'manual', lower: 1000, upper: 65535, watershed: true },
      { method: 'Otsu', darkBackground: true, watershed: true, minAreaPx: 10, excludeEdges: true },
      { method: 'manual', lower: 1000, upper: 65535, watershed: true, includeHoles: true, minCircularity: 0.2 },
    ] as const) {
      const whole = await runOp(count, { image: stack }, params);
      const unsplit = await runOp(count, { image: stack }, { ...params, watershed: false });
      // the split matters here: more objects than without it
      expect((whole.objects as Table).rows.length).toBeGreaterThan((unsplit.objects as Table).rows.length);
      for (const tileSize of [T, 48, 1024]) {
        const tiled = await tiledReduction(count, stackRegionSource(stack), params, { tileSize });
        expect(tiled.objects).toEqual(whole.objects);
        expect(tiled.summary).toEqual(whole.summary);
      }
    }
  });
});

describe('cellcount.count streamed with its images and ROI set (OperationDef.stream)', () => {
  /** Every channel of every plane of `src`, read in regions of `tile` px (the channels of a region one after the other, as the writers read them). */
  async function readAll(src: RegionSource, tile: number): Promise<PixelArray[]> {
    const planes = Array.from({ length: src.sizeC * src.sizeZ * src.sizeT }, () => (src.dtype === 'uint8' ? new Uint8Array(src.width * src.height) : src.dtype === 'uint16' ? new Uint16Array(src.width * src.height) : new Float32Array(src.width * src.height)));
    for (let z = 0; z < src.sizeZ; z++) {
      for (let y = 0; y < src.height; y += tile) {
        for (let x = 0; x < src.width; x += tile) {
          const w = Math.min(tile, src.width - x);
          const h = Math.min(tile, src.height - y);
          for (let c = 0; c < src.sizeC; c++) {
            const part = await src.readRegion({ c, z, x, y, w, h });
            for (let r = 0; r < h; r++) planes[z * src.sizeC + c].set(part.subarray(r * w, (r + 1) * w), (y + r) * src.width + x);
          }
        }
      }
    }
    return planes;
  }
  const bytes = (p: PixelArray) => Buffer.from(p.buffer, p.byteOffset, p.byteLength);

  for (const [name, params] of [
    ['Otsu, holes excluded (their borders drawn)', { method: 'Otsu', darkBackground: true }],
    ['manual, included holes, size and edge filters', { method: 'manual', lower: 1000, upper: 65535, includeHoles: true, minAreaPx: 20, excludeEdges: true }],
    ['the watershed with included holes (the pieces\' borders drawn)', { method: 'manual', lower: 1000, upper: 65535, includeHoles: true, watershed: true }],
  ] as const) {
    it(`${name}: the overlay and the label image read region by region, the tables and the ROI set equal the whole-image run's`, async () => {
      const stack = image(true);
      const whole = await runOp(count, { image: stack }, params, { ...testContext(), wants: () => true });
      const s = await count.stream!({ ...testContext(), wants: () => true }, { image: stackRegionSource(stack) }, count.params.parse(params));
      expect(s).toBeDefined();
      const { overlay, labels } = s!.images;
      expect([overlay.sizeC, overlay.sizeZ, overlay.dtype, overlay.rgb]).toEqual([3, 2, 'uint8', true]);
      expect([labels.sizeC, labels.sizeZ, labels.dtype]).toEqual([1, 2, 'uint16']);
      // regions that cut particles and their outlines (37 px, not a divisor of anything here)
      const planes = await readAll(overlay, 37);
      let yellow = 0;
      planes.forEach((p, i) => {
        expect(bytes(p).equals(bytes((whole.overlay as Stack).planes[i]))).toBe(true);
        if (i % 3 === 2) for (let j = 0; j < p.length; j++) if (p[j] === 0 && planes[i - 2][j] === 255) yellow++;
      });
      expect(yellow).toBeGreaterThan(200); // outlines were drawn
      (await readAll(labels, 41)).forEach((p, i) => expect(bytes(p).equals(bytes((whole.labels as Stack).planes[i]))).toBe(true));
      const outputs = await s!.finish!();
      expect(outputs.objects).toEqual(whole.objects);
      expect(outputs.summary).toEqual(whole.summary);
      expect(outputs.rois).toEqual(whole.rois);
      expect((outputs.rois as { rois: unknown[] }).rois).toHaveLength((whole.objects as Table).rows.length);
    });
  }

  it('float32 with NaN pixels: the overlay (its display range found by the rank search over the tiles) and the label image equal the whole-image run\'s', async () => {
    const f = Float32Array.from(plane(5), (v, i) => (i % 97 === 0 ? NaN : v / 7 + (i % 13) * 0.01));
    const stack = createStack({ width: W, height: H, dtype: 'float32', planes: [f] });
    const params = { method: 'Otsu', darkBackground: true, includeHoles: true } as const;
    const whole = await runOp(count, { image: stack }, params, { ...testContext(), wants: () => true });
    const s = await count.stream!({ ...testContext(), wants: (q) => q !== 'rois' }, { image: stackRegionSource(stack) }, count.params.parse(params));
    const [r, g, b] = await readAll(s!.images.overlay, 53);
    const expected = (whole.overlay as Stack).planes;
    expect([bytes(r).equals(bytes(expected[0])), bytes(g).equals(bytes(expected[1])), bytes(b).equals(bytes(expected[2]))]).toEqual([true, true, true]);
    expect(new Set(r).size).toBeGreaterThan(100); // a real grey range, not a flat picture
    expect(bytes((await readAll(s!.images.labels, 53))[0]).equals(bytes((whole.labels as Stack).planes[0]))).toBe(true);
    expect((await s!.finish!()).objects).toEqual(whole.objects);
  });

  it('declines (the tables are then reduced tile by tile) when only the tables are wanted', async () => {
    const src = stackRegionSource(image(false));
    const p = count.params.parse({ method: 'Otsu' });
    expect(await count.stream!({ ...testContext(), wants: (q) => q === 'summary' || q === 'objects' }, { image: src }, p)).toBeUndefined();
    // only what is wanted is made
    const some = await count.stream!({ ...testContext(), wants: (q) => q === 'labels' }, { image: src }, p);
    expect(Object.keys(some!.images)).toEqual(['labels']);
    expect(Object.keys(await some!.finish!()).sort()).toEqual(['objects', 'summary']);
  });
});

describe('cellcount.count tile by tile: a particle too large to read', () => {
  it('a particle whose box spans a 8200 × 8200 plane is refused naming its size, not read whole (for its outline, its holes or its split)', async () => {
    const size = 8200;
    // a diagonal line (8-connected) across the plane, its pixels made on the fly: one particle with a box of the whole plane
    const source: RegionSource = {
      width: size, height: size, sizeC: 1, sizeZ: 1, sizeT: 1, dtype: 'uint8', calibration: {}, channelNames: ['grey'],
      readRegion: async ({ x, y, w, h }) => {
        const out = new Uint8Array(w * h);
        for (let j = 0; j < h; j++) if (y + j >= x && y + j < x + w) out[j * w + y + j - x] = 200;
        return out;
      },
    };
    for (const extra of [{}, { includeHoles: true }, { watershed: true }]) {
      const err = await tiledReduction(count, source, { method: 'manual', lower: 100, upper: 255, ...extra }, { tileSize: 2048 }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/image: a particle spans 8200×8200 px \(its box from x 0, y 0\), more than the 64 Mpx a count streamed tile by tile reads at once/);
    }
  }, 60_000);
});
