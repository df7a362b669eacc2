import { describe, expect, it } from 'vitest';
import { antiAliasSigmaPx, resampleInterleaved, resamplePlane } from './resample.js';

describe('resamplePlane', () => {
  it('keeps a plane of the same size as it is (a copy)', () => {
    const p = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
    const out = resamplePlane(p, 4, 3, 4, 3);
    expect(Array.from(out)).toEqual(Array.from(p));
    expect(out).not.toBe(p);
  });

  it('reproduces a linear ramp at the mapped pixel centres when it grows (cubic B-splines are exact on lines)', () => {
    const w = 20;
    const h = 24;
    const ramp = Float32Array.from({ length: w * h }, (_, i) => 0.3 * (i % w) - 0.2 * Math.floor(i / w));
    const W = 50;
    const H = 60;
    const out = resamplePlane(ramp, w, h, W, H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const xs = (x + 0.5) * (w / W) - 0.5;
        const ys = (y + 0.5) * (h / H) - 0.5;
        // away from the edges (the mirror extension bends a ramp there; the prefilter's reach decays as 0.27^k)
        if (xs < 7 || ys < 7 || xs > w - 8 || ys > h - 8) continue;
        expect(out[y * W + x]).toBeCloseTo(0.3 * xs - 0.2 * ys, 4);
      }
    }
  });

  it('keeps a constant plane constant, shrinking or growing', () => {
    const p = new Float32Array(31 * 17).fill(0.42);
    for (const [W, H] of [[12, 7], [80, 40], [31, 9]]) {
      const out = resamplePlane(p, 31, 17, W, H);
      expect(out.length).toBe(W * H);
      for (const v of out) expect(v).toBeCloseTo(0.42, 5);
    }
  });

  it('smooths before it shrinks: a checkerboard shrunk threefold is grey, not aliased into one of its colours', () => {
    const n = 60;
    const board = Float32Array.from({ length: n * n }, (_, i) => ((i % n) + Math.floor(i / n)) % 2);
    expect(antiAliasSigmaPx(n, 20)).toBeCloseTo(1, 12);
    expect(antiAliasSigmaPx(20, n)).toBe(0);
    const out = resamplePlane(board, n, n, 20, 20);
    // every output centre falls on an input pixel (x_in = 3x + 1): without smoothing it would be 0 or 1
    for (const v of out) expect(Math.abs(v - 0.5)).toBeLessThan(0.02);
  });

  it('refuses sizes that are not positive integers and a plane of the wrong length, naming the field', () => {
    expect(() => resamplePlane(new Float32Array(4), 2, 2, 0, 3)).toThrow(/outWidth/);
    expect(() => resamplePlane(new Float32Array(5), 2, 2, 3, 3)).toThrow(/5 values, not 2×2/);
    expect(() => resampleInterleaved(new Float32Array(11), 2, 2, 3, 3, 3)).toThrow(/2×2×3/);
  });
});

describe('resampleInterleaved', () => {
  it('resamples each channel of interleaved pixels as its own plane', () => {
    const w = 9;
    const h = 7;
    const hwc = Float32Array.from({ length: w * h * 3 }, (_, i) => Math.sin(i * 0.37) + (i % 3));
    const out = resampleInterleaved(hwc, w, h, 3, 13, 5);
    for (let c = 0; c < 3; c++) {
      const plane = Float32Array.from({ length: w * h }, (_, i) => hwc[i * 3 + c]);
      const alone = resamplePlane(plane, w, h, 13, 5);
      for (let i = 0; i < alone.length; i++) expect(out[i * 3 + c]).toBe(alone[i]);
    }
  });
});
