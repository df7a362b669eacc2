import { describe, expect, it } from 'vitest';
import { displacementError, knownWarp, warpField } from './known-warp.js';

describe('knownWarp', () => {
  it('respects its bounds and inverts exactly', () => {
    for (const seed of [1, 2, 3]) {
      const w = knownWarp(96, 80, seed, { maxRotationDeg: 2, maxScale: 0.02, maxShiftPx: 3, maxElasticPx: 3 });
      expect(Math.abs(w.rotationDeg)).toBeLessThanOrEqual(2);
      expect(Math.abs(w.scale - 1)).toBeLessThanOrEqual(0.02);
      expect(Math.max(...w.shiftPx.map(Math.abs))).toBeLessThanOrEqual(3);
      expect(w.elasticMaxPx).toBeCloseTo(3, 6);
      for (const [x, y] of [[0, 0], [95, 79], [40.3, 17.8]]) {
        const [sx, sy] = w.map(x, y);
        const [bx, by] = w.inverse(sx, sy);
        expect(Math.hypot(bx - x, by - y)).toBeLessThan(1e-8);
      }
    }
  });

  it('without affine and elastic parts is the identity; a pure shift maps by that shift', () => {
    const id = knownWarp(32, 32, 5, { maxRotationDeg: 0, maxScale: 0, maxShiftPx: 0, maxElasticPx: 0 });
    expect(id.map(7, 9)).toEqual([7, 9]);
    const { ux, uy } = warpField(id);
    expect(Math.max(...ux.map(Math.abs), ...uy.map(Math.abs))).toBe(0);
    const sh = knownWarp(32, 32, 5, { maxRotationDeg: 0, maxScale: 0, maxShiftPx: 4, maxElasticPx: 0 });
    const [sx, sy] = sh.map(10, 12);
    expect(sx - 10).toBeCloseTo(sh.shiftPx[0], 12);
    expect(sy - 12).toBeCloseTo(sh.shiftPx[1], 12);
  });
});

describe('displacementError', () => {
  const W = 20, H = 16;
  const grid = () => {
    const tx = new Float32Array(W * H), ty = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { tx[y * W + x] = x; ty[y * W + x] = y; }
    return { tx, ty };
  };
  it('is 0 for the identity against the identity mapping', () => {
    const { tx, ty } = grid();
    const z = new Float32Array(W * H);
    expect(displacementError(z, z, tx, ty, W, H, { marginPx: 2 })).toEqual({ mean: 0, p95: 0, max: 0, count: 16 * 12 });
  });
  it('is the shift length for a pure shift, and the map marks the margin NaN', () => {
    const { tx, ty } = grid();
    const ux = new Float32Array(W * H).fill(3), uy = new Float32Array(W * H).fill(-4);
    const map = new Float32Array(W * H);
    const e = displacementError(ux, uy, tx, ty, W, H, { marginPx: 1, perPixel: map });
    expect(e.mean).toBeCloseTo(5, 6);
    expect(e.p95).toBeCloseTo(5, 6);
    expect(e.max).toBeCloseTo(5, 6);
    expect(map[0]).toBeNaN();
    expect(map[W + 1]).toBeCloseTo(5, 6);
  });
  it('p95 is the 95th percentile of the pixel errors', () => {
    const { tx, ty } = grid();
    const ux = new Float32Array(W * H), uy = new Float32Array(W * H);
    for (let i = 0; i < W * H; i++) ux[i] = i % 100 === 0 ? 10 : 0; // 4 of 320 pixels (1.25 %) off by 10
    const e = displacementError(ux, uy, tx, ty, W, H);
    expect(e.p95).toBe(0);
    expect(e.max).toBe(10);
    expect(e.mean).toBeCloseTo(40 / 320, 6);
  });
  it('counts only the masked pixels', () => {
    const { tx, ty } = grid();
    const ux = new Float32Array(W * H), uy = new Float32Array(W * H);
    const mask = new Uint8Array(W * H);
    for (let i = 0; i < W * H; i++) if (i % 2) { ux[i] = 2; mask[i] = 1; }
    const e = displacementError(ux, uy, tx, ty, W, H, { mask });
    expect(e).toEqual({ mean: 2, p95: 2, max: 2, count: (W * H) / 2 });
    expect(() => displacementError(ux, uy, tx, ty, W, H, { mask: new Uint8Array(W * H) })).toThrow(/no pixel/);
  });
  it('refuses mismatched sizes, naming the array', () => {
    const z = new Float32Array(W * H);
    expect(() => displacementError(z, z, z, new Float32Array(3), W, H)).toThrow(/ty/);
  });
});
