import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../numeric/random.js';
import { TiledComponents, type ClosedComponent, type TiledComponent } from './tiled-components.js';

/** The components of the whole plane by an 8-connected flood fill in raster order: what the tiles must add up to. */
function wholePlane(mask: Uint8Array, values: Float32Array, W: number, H: number): TiledComponent[] {
  const seen = new Uint8Array(W * H);
  const out: TiledComponent[] = [];
  for (let start = 0; start < W * H; start++) {
    if (!mask[start] || seen[start]) continue;
    const c: TiledComponent = { firstX: start % W, firstY: Math.floor(start / W), areaPx: 0, sumX: 0, sumY: 0, minX: W, minY: H, maxX: -1, maxY: -1, sum: 0, finite: 0, min: Infinity, max: -Infinity };
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % W;
      const y = (i - x) / W;
      c.areaPx++;
      c.sumX += x;
      c.sumY += y;
      c.minX = Math.min(c.minX, x);
      c.minY = Math.min(c.minY, y);
      c.maxX = Math.max(c.maxX, x);
      c.maxY = Math.max(c.maxY, y);
      const v = values[i];
      if (Number.isFinite(v)) {
        c.sum += v;
        c.finite++;
        c.min = Math.min(c.min, v);
        c.max = Math.max(c.max, v);
      }
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= W || ny >= H) continue;
          const j = ny * W + nx;
          if (mask[j] && !seen[j]) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    out.push(c);
  }
  return out;
}

function tiled(mask: Uint8Array, values: Float32Array, W: number, H: number, tile: number, options: ConstructorParameters<typeof TiledComponents>[2] = {}): TiledComponent[] {
  const cc = new TiledComponents(W, H, options);
  for (let y = 0; y < H; y += tile) {
    for (let x = 0; x < W; x += tile) {
      const w = Math.min(tile, W - x);
      const h = Math.min(tile, H - y);
      const m = new Uint8Array(w * h);
      const v = new Float32Array(w * h);
      for (let ty = 0; ty < h; ty++) {
        m.set(mask.subarray((y + ty) * W + x, (y + ty) * W + x + w), ty * w);
        v.set(values.subarray((y + ty) * W + x, (y + ty) * W + x + w), ty * w);
      }
      cc.addTile(x, y, w, h, m, v);
    }
  }
  return cc.finish();
}

describe('TiledComponents', () => {
  it('adds up tiles of any size to the whole-plane components, in raster order of their first pixel', () => {
    const W = 97;
    const H = 71;
    const r = mulberry32(3);
    for (const density of [0.2, 0.45, 0.6]) {
      // speckle at three densities: from many small particles to a few large, winding ones across every seam and corner
      const mask = new Uint8Array(W * H).map(() => (r() < density ? 1 : 0));
      const values = new Float32Array(W * H).map(() => (r() < 0.05 ? NaN : Math.round(r() * 255)));
      const whole = wholePlane(mask, values, W, H);
      expect(whole.length).toBeGreaterThan(3);
      for (const tile of [1, 7, 16, 33, 200]) expect(tiled(mask, values, W, H, tile), `density ${density}, tiles of ${tile}`).toEqual(whole);
    }
  });

  it('tags the components that lie whole in one tile with what onClosed made of them, measured on that tile', () => {
    const W = 90;
    const H = 61;
    const T = 16;
    const r = mulberry32(8);
    const mask = new Uint8Array(W * H).map(() => (r() < 0.35 ? 1 : 0));
    const values = new Float32Array(W * H).map(() => Math.round(r() * 100));
    const seen: { c: ClosedComponent; onTile: number }[] = [];
    const comps = tiled(mask, values, W, H, T, {
      onClosed: (c, tile) => {
        // the tile holds the component and its neighbours: its pixel count there is its area
        let inTile = 0;
        for (let y = c.minY; y <= c.maxY; y++) for (let x = c.minX; x <= c.maxX; x++) inTile += tile.mask[(y - tile.y) * tile.w + x - tile.x] ? 1 : 0;
        seen.push({ c, onTile: inTile });
        return seen.length - 1;
      },
    });
    const whole = wholePlane(mask, values, W, H);
    expect(comps.map(({ tag: _tag, ...c }) => c)).toEqual(whole);
    // a component is closed when no edge it touches is shared with another tile
    const shared = (c: TiledComponent) => {
      const tx = Math.floor(c.minX / T) * T;
      const ty = Math.floor(c.minY / T) * T;
      const oneTile = c.maxX < tx + T && c.maxY < ty + T;
      return !oneTile || (c.minX === tx && tx > 0) || (c.minY === ty && ty > 0) || (c.maxX === tx + T - 1 && c.maxX < W - 1) || (c.maxY === ty + T - 1 && c.maxY < H - 1);
    };
    let tagged = 0;
    for (const c of comps) {
      if (shared(c)) expect(c.tag, JSON.stringify(c)).toBeNaN();
      else {
        tagged++;
        const s = seen[c.tag!];
        expect(s.c).toEqual({ firstX: c.firstX, firstY: c.firstY, minX: c.minX, minY: c.minY, maxX: c.maxX, maxY: c.maxY, areaPx: c.areaPx });
        expect(s.onTile).toBeGreaterThanOrEqual(c.areaPx);
      }
    }
    expect(tagged).toBe(seen.length);
    expect(tagged).toBeGreaterThan(20);
    expect(comps.length - tagged).toBeGreaterThan(20);
  });

  it('hands its components over once', () => {
    const cc = new TiledComponents(2, 2);
    cc.addTile(0, 0, 2, 2, new Uint8Array([1, 0, 0, 1]));
    expect(cc.finish()).toHaveLength(1);
    expect(() => cc.finish()).toThrow(/already called/);
  });
});
