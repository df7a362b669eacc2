import { describe, expect, it } from 'vitest';
import { resampleInterleaved } from '../imaging.js';
import { isFocalError } from '../index.js';
import { MAX_GRID_RATIO, modelGrid, modelGridSize, onModelGrid } from '../ml.js';

const model = { name: 'demo', pixelSizeUm: 0.325 };
const words = { subject: 'the image is', verb: 'refocused', back: 'the result is resampled back to its pixels' };

function ramp(w: number, h: number, c: number): Float32Array {
  const a = new Float32Array(w * h * c);
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i / 7) + 0.01 * i;
  return a;
}

describe('modelGrid: an input against the model\'s pixel grid', () => {
  it('takes an input as it is within 10 %, without a calibration, or beyond 4× (with a warning naming the input)', () => {
    expect(modelGrid(undefined, 'image', model, 'auto', words)).toEqual({ scale: 1 });
    expect(modelGrid({ pixelWidthUm: 0.35 }, 'image', model, 'auto', words)).toEqual({ scale: 1 });
    expect(MAX_GRID_RATIO).toBe(4);
    const far = modelGrid({ pixelWidthUm: 1.5 }, 'image', model, 'auto', words);
    expect(far.scale).toBe(1);
    expect(far.message).toMatchObject({ level: 'warn', text: expect.stringMatching(/^image: 1\.5 µm pixels .* more than 4× .* so the image is fed as it is, not resampled/) });
  });
  it("'auto': the scale onto the model's grid (input pixel ÷ model pixel) and an info line; 'off': as it is, with a warning", () => {
    const auto = modelGrid({ pixelWidthUm: 0.65 }, 'image', model, 'auto', words);
    expect(auto.scale).toBeCloseTo(2, 12);
    expect(auto.message).toMatchObject({ level: 'info', text: expect.stringMatching(/^image: 0\.65 µm pixels .*demo was trained on 0\.325 µm pixels, so the image is refocused on its grid \(×2\.000\) and the result is resampled back/) });
    const off = modelGrid({ pixelHeightUm: 0.1625 }, 'shots', model, 'off', { ...words, subject: 'the shots are' });
    expect(off.scale).toBe(1);
    expect(off.message).toMatchObject({ level: 'warn', text: expect.stringMatching(/^shots: 0\.1625 µm pixels .* 2\.00× the pixels it learned.*leave resample at 'auto'/) });
  });
});

describe('onModelGrid', () => {
  it('scale 1 hands the inputs to the process as they are', async () => {
    const a = ramp(10, 8, 3);
    let seen: Float32Array[] = [];
    const out = await onModelGrid([a], 10, 8, 3, 1, async (x, w, h) => { seen = x; expect([w, h]).toEqual([10, 8]); return x[0]; }, { residual: true });
    expect(seen[0]).toBe(a);
    expect(out).toBe(a);
  });
  it('processes on the model grid; a residual result of a process that changes nothing is the input exactly', async () => {
    const a = ramp(40, 30, 2);
    const b = ramp(40, 30, 2).map((v) => v * 2);
    const sizes: number[][] = [];
    const out = await onModelGrid([a, b], 40, 30, 2, 0.5, async (x, w, h) => { sizes.push([w, h, x.length, x[1].length]); return Float32Array.from(x[0]); }, { residual: true });
    expect(sizes).toEqual([[20, 15, 2, 20 * 15 * 2]]);
    expect(Array.from(out)).toEqual(Array.from(a));
  });
  it("a non-residual result is the process's output resampled back (another channel count allowed)", async () => {
    const a = ramp(24, 24, 1);
    const m = modelGridSize(24, 24, 1.5);
    expect(m).toEqual({ width: 36, height: 36 });
    const out = await onModelGrid([a], 24, 24, 1, 1.5, async (x, w, h) => { const o = new Float32Array(w * h * 2); for (let i = 0; i < w * h; i++) o[2 * i] = o[2 * i + 1] = x[0][i] + 1; return o; }, { residual: false, outChannels: 2 });
    const up = resampleInterleaved(a, 24, 24, 1, 36, 36).map((v) => v + 1);
    const two = new Float32Array(36 * 36 * 2);
    for (let i = 0; i < 36 * 36; i++) two[2 * i] = two[2 * i + 1] = up[i];
    const expected = resampleInterleaved(two, 36, 36, 2, 24, 24);
    expect(out).toHaveLength(24 * 24 * 2);
    let d = 0;
    for (let i = 0; i < out.length; i++) d = Math.max(d, Math.abs(out[i] - expected[i]));
    expect(d).toBeLessThan(1e-6);
  });
  it('clear errors: a process returning the wrong size, a residual with another channel count, a bad scale', async () => {
    const a = ramp(16, 16, 1);
    const wrong = await onModelGrid([a], 16, 16, 1, 2, async () => new Float32Array(5), { residual: false }).catch((e: unknown) => e);
    expect(isFocalError(wrong) && wrong.message).toMatch(/returned 5 values, not 32×32×1/);
    const res = await onModelGrid([a], 16, 16, 1, 2, async (x) => x[0], { residual: true, outChannels: 3 }).catch((e: unknown) => e);
    expect(isFocalError(res) && res.message).toMatch(/residual result needs as many output channels/);
    const bad = await onModelGrid([a], 16, 16, 1, 0, async (x) => x[0], { residual: true }).catch((e: unknown) => e);
    expect(isFocalError(bad) && bad.details.field).toBe('scale');
  });
});
