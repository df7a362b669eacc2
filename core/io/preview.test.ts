import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { createStack } from '../data/stack.js';
import { IMAGEJ_CHANNEL_COLOURS, PANEL_GAP, colourBarNumber, labelColour, lutColour, niceLengthUm, renderFigure, writeFigurePng } from './preview.js';

function rgbAt(f: { width: number; data: Uint8Array }, x: number, y: number): number[] {
  const o = (y * f.width + x) * 3;
  return Array.from(f.data.slice(o, o + 3));
}

describe('renderFigure', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('composites channels in ImageJ colours: red, green, blue, grey, cyan, ...', () => {
    // 5 channels, 5 × 1 px; channel c is bright only at x = c.
    const planes = Array.from({ length: 5 }, (_, c) => new Uint8Array(5).map((_, x) => (x === c ? 200 : 0)));
    const f = renderFigure(createStack({ width: 5, height: 1, dtype: 'uint8', sizeC: 5, planes }), { minSize: 1, saturatedPercent: 0 });
    expect(f.mode).toBe('composite');
    expect([0, 1, 2, 3, 4].map((x) => rgbAt(f, x, 0))).toEqual([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [0, 255, 255]]);
    expect(f.channelColours).toEqual(IMAGEJ_CHANNEL_COLOURS.slice(0, 5));
  });

  it('adds overlapping channels (red + green = yellow) and stretches each channel on its own', () => {
    const red = new Uint16Array([0, 1000]);
    const green = new Uint16Array([0, 10]);
    const f = renderFigure(createStack({ width: 2, height: 1, dtype: 'uint16', sizeC: 2, planes: [red, green] }), { minSize: 1, saturatedPercent: 0 });
    expect(rgbAt(f, 1, 0)).toEqual([255, 255, 0]);
    expect(f.displayRanges).toEqual([[0, 1000], [0, 10]]);
  });

  it('lays z and t planes out as a montage, row by row, with a gap', () => {
    // 2 z × 3 t = 6 panels of 4 × 2 px → 3 columns × 2 rows; plane k filled with k.
    const planes = Array.from({ length: 6 }, (_, k) => new Float32Array(8).fill(k));
    const f = renderFigure(createStack({ width: 4, height: 2, dtype: 'float32', sizeZ: 2, sizeT: 3, planes }), { minSize: 1, saturatedPercent: 0 });
    expect(f.columns).toBe(3);
    expect([f.width, f.height]).toEqual([3 * 4 + 2 * PANEL_GAP, 2 * 2 + PANEL_GAP]);
    expect(f.panels.map((p) => [p.z, p.t, p.x, p.y])).toEqual([
      [0, 0, 0, 0], [1, 0, 6, 0], [0, 1, 12, 0],
      [1, 1, 0, 4], [0, 2, 6, 4], [1, 2, 12, 4],
    ]);
    // Grey levels rise with the plane index: panel k shows round(255·k/5).
    expect(f.panels.map((p) => rgbAt(f, p.x + 1, p.y + 1)[0])).toEqual([0, 51, 102, 153, 204, 255]);
    expect(rgbAt(f, 4, 0)).toEqual([128, 128, 128]); // the gap
  });

  it('samples at most maxPanels planes, keeping the first and the last', () => {
    const planes = Array.from({ length: 40 }, () => new Uint8Array(4));
    const f = renderFigure(createStack({ width: 2, height: 2, dtype: 'uint8', sizeZ: 40, planes }), { maxPanels: 5, minSize: 1 });
    expect(f.panels.map((p) => p.z)).toEqual([0, 10, 20, 29, 39]);
  });

  it('shows label images with distinct colours, label 1 bright, 0 black', () => {
    const lab = new Uint16Array([0, 1, 2, 3]);
    const stack = createStack({ width: 4, height: 1, dtype: 'uint16', planes: [lab], metadata: { labels: true } });
    const f = renderFigure(stack, { minSize: 1 });
    expect(f.mode).toBe('labels');
    expect(rgbAt(f, 0, 0)).toEqual([0, 0, 0]);
    expect(Math.max(...rgbAt(f, 1, 0))).toBe(255);
    expect(rgbAt(f, 1, 0)).toEqual(labelColour(1));
    // The first 64 labels all have different colours, none black.
    const keys = new Set(Array.from({ length: 64 }, (_, k) => labelColour(k + 1).join(',')));
    expect(keys.size).toBe(64);
    expect(keys.has('0,0,0')).toBe(false);
  });

  it('enlarges small images by an integer factor, nearest neighbour', () => {
    const f = renderFigure(createStack({ width: 15, height: 15, dtype: 'uint8', planes: [new Uint8Array(225).map((_, i) => (i === 0 ? 255 : 0))] }), { saturatedPercent: 0 });
    expect(f.scale).toBe(17); // floor(256 / 15)
    expect([f.width, f.height]).toEqual([255, 255]);
    expect(rgbAt(f, 16, 16)).toEqual([255, 255, 255]);
    expect(rgbAt(f, 17, 0)).toEqual([0, 0, 0]);
  });

  it('draws a scale bar whose length follows the calibration', () => {
    expect([niceLengthUm(0.9), niceLengthUm(3), niceLengthUm(7.5), niceLengthUm(25)]).toEqual([0.5, 2, 5, 20]);
    // 200 px at 0.25 µm/px = 50 µm wide → bar of 10 µm (≤ 50/4) = 40 px.
    const stack = createStack({ width: 200, height: 100, dtype: 'uint8', calibration: { pixelWidthUm: 0.25, pixelHeightUm: 0.25 } });
    const f = renderFigure(stack, { minSize: 1 });
    expect(f.scaleBar).toEqual({ um: 10, px: 40 });
    // Count white pixels along the bar's middle row.
    let white = 0;
    let row = -1;
    for (let y = f.height - 1; y >= 0 && row < 0; y--) if (rgbAt(f, f.width - 10, y)[0] === 255) row = y;
    for (let x = 0; x < f.width; x++) if (rgbAt(f, x, row)[0] === 255) white++;
    expect(white).toBe(40);
    // The same image enlarged 2× has a bar twice as long in pixels, same µm.
    const g = renderFigure(createStack({ width: 100, height: 50, dtype: 'uint8', calibration: { pixelWidthUm: 0.5 } }), { minSize: 200 });
    expect(g.scale).toBe(2);
    expect(g.scaleBar).toEqual({ um: 10, px: 40 });
    expect(renderFigure(createStack({ width: 8, height: 8, dtype: 'uint8' })).scaleBar).toBeUndefined();
    // A montage shrunk to fit maxSize shows every 2nd pixel: same µm, half the pixels.
    const big = createStack({ width: 400, height: 400, dtype: 'uint8', sizeZ: 4, calibration: { pixelWidthUm: 0.25 } });
    const s = renderFigure(big, { maxSize: 500 });
    expect([s.step, s.panelWidth, s.width]).toEqual([2, 200, 2 * 200 + PANEL_GAP]);
    expect(s.scaleBar).toEqual({ um: 20, px: 40 });
  });

  it('shows a value map (metadata.valueMap) in viridis over its full range with a colour bar labelled by the range', () => {
    // a 64 × 64 height map from −2 to 6 µm along x
    const data = Float32Array.from({ length: 64 * 64 }, (_, i) => -2 + (8 * (i % 64)) / 63);
    const f = renderFigure(createStack({ width: 64, height: 64, dtype: 'float32', planes: [data], metadata: { valueMap: { quantity: 'height', unit: 'µm' } } }), { minSize: 1 });
    expect(f.mode).toBe('values');
    expect(f.displayRanges).toEqual([[-2, 6]]);
    expect(rgbAt(f, 0, 10)).toEqual(lutColour('viridis', 0)); // the lowest value: dark purple
    expect(rgbAt(f, 63, 10)).toEqual(lutColour('viridis', 1)); // the highest: yellow
    expect(f.colourBar).toMatchObject({ min: -2, max: 6, lut: 'viridis', quantity: 'height', unit: 'µm' });
    const bar = f.colourBar!;
    expect(bar.x).toBeGreaterThanOrEqual(64); // right of the image
    expect(f.width).toBeGreaterThan(bar.x + bar.width); // room for the numbers
    expect(rgbAt(f, bar.x + 4, 0)).toEqual(lutColour('viridis', 1)); // top = max
    expect(f.width).toBe(64 + 8 + 16 + 5 + 2 * 4 * 2 - 2 + 6); // the widest number, "-2", 2 glyphs at scale 2
    expect(rgbAt(f, bar.x + 4, 63)).toEqual(lutColour('viridis', 0)); // bottom = min
    // the numbers are drawn in white right of the bar: some white pixels in the top and bottom text rows
    const white = (y0: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = bar.x + bar.width + 3; x < f.width; x++) if (rgbAt(f, x, y).every((v) => v === 255)) n++;
      return n;
    };
    expect(white(0, 10)).toBeGreaterThan(10);
    expect(white(54, 64)).toBeGreaterThan(10);
    expect(colourBarNumber(6, 8)).toBe('6');
    expect(colourBarNumber(0.0063, 9.9)).toBe('0'); // rounded to what a twentieth of the range resolves
    expect(colourBarNumber(4.95, 9.9)).toBe('5');
    expect(colourBarNumber(-0.125, 0.5)).toBe('-0.13');
    expect(colourBarNumber(123456, 2e5)).toBe('1.2e5');
    expect(colourBarNumber(-0.125)).toBe('-0.125');
  });

  it('a diverging value map is symmetric about 0 (white at 0); several channels or labels ignore valueMap', () => {
    const data = Float32Array.from([-1, 0, 3, 0]);
    const f = renderFigure(createStack({ width: 4, height: 1, dtype: 'float32', planes: [data], metadata: { valueMap: { lut: 'diverging' } } }), { minSize: 1 });
    expect(f.displayRanges).toEqual([[-3, 3]]);
    expect(rgbAt(f, 1, 0)).toEqual([247, 247, 247]);
    expect(rgbAt(f, 2, 0)).toEqual(lutColour('diverging', 1));
    const two = renderFigure(createStack({ width: 4, height: 1, dtype: 'float32', sizeC: 2, planes: [data, data], metadata: { valueMap: {} } }), { minSize: 1 });
    expect(two.mode).toBe('composite');
    expect(two.colourBar).toBeUndefined();
  });

  it('grey panels: every pixel is round(255 · (v − lo)/(hi − lo)) clamped, NaN black, with step, enlargement and montage', () => {
    const expectGrey = (f: ReturnType<typeof renderFigure>, plane: ArrayLike<number>, w: number, panel: { x: number; y: number }, step: number, scale: number, h: number) => {
      const [lo, hi] = f.displayRanges![0];
      for (let y = 0; y < h; y += step) {
        for (let x = 0; x < w; x += step) {
          const v = plane[y * w + x];
          const g = hi > lo ? (v - lo) / (hi - lo) : v > lo ? 1 : 0;
          const k = g > 0 ? Math.round(Math.min(g, 1) * 255) : 0;
          const fx = panel.x + (x / step) * scale + scale - 1;
          const fy = panel.y + (y / step) * scale + scale - 1;
          expect(rgbAt(f, fx, fy), `pixel ${x},${y}`).toEqual([k, k, k]);
        }
      }
    };
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    // float32 with NaN and ±Infinity, shown at 1/3 size
    const fw = 301, fh = 97;
    const floats = new Float32Array(fw * fh).map(() => rand() * 10 - 3);
    floats[5] = NaN;
    floats[6] = Infinity;
    floats[7] = -Infinity;
    const big = renderFigure(createStack({ width: fw, height: fh, dtype: 'float32', planes: [floats] }), { maxSize: 101 });
    expect([big.mode, big.step, big.scale]).toEqual(['grey', 3, 1]);
    expectGrey(big, floats, fw, big.panels[0], 3, 1, fh);
    // uint16, two z planes, enlarged 4×
    const sw = 13, sh = 9;
    const planes = [0, 1].map(() => new Uint16Array(sw * sh).map(() => Math.floor(rand() * 4096)));
    const small = renderFigure(createStack({ width: sw, height: sh, dtype: 'uint16', sizeZ: 2, planes }), { minSize: 64 });
    expect([small.mode, small.scale, small.panels.length]).toEqual(['grey', 4, 2]);
    const [lo, hi] = small.displayRanges![0];
    expect(hi).toBeGreaterThan(lo);
    for (const [i, p] of small.panels.entries()) expectGrey(small, planes[i], sw, p, 1, 4, sh);
    // a constant plane: lo = hi, everything black
    const flat = renderFigure(createStack({ width: 4, height: 4, dtype: 'uint8', planes: [new Uint8Array(16).fill(9)] }), { minSize: 1 });
    expect(rgbAt(flat, 2, 2)).toEqual([0, 0, 0]);
  });

  it('writes an RGB PNG', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'focal-figure-'));
    dirs.push(dir);
    const path = join(dir, 'f.png');
    await writeFigurePng(path, createStack({ width: 2, height: 2, dtype: 'uint8', sizeC: 2 }));
    const png = decode(await readFile(path));
    expect([png.width, png.height, png.channels]).toEqual([64, 64, 3]); // enlarged at most 32×
  });
});
