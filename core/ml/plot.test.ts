import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { legendTextWidthPx, PLOT_LEFT, renderLinePlot, type Series } from './plot.js';

const pixel = (png: Uint8Array, x: number, y: number) => {
  const img = decode(png);
  const i = (y * img.width + x) * img.channels;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
};

const series = (label: string, colour: [number, number, number] = [200, 0, 0]): Series => ({ label, colour, x: [0, 1, 2], y: [1, 2, 3] });

describe('renderLinePlot legend', () => {
  it('writes each label in black after its colour square', () => {
    const withText = decode(renderLinePlot([series('BerHu')], 300, 120, { logY: false, xTitle: 'x (µm)', yTitle: 'y' }));
    const empty = decode(renderLinePlot([series('')], 300, 120, { logY: false, xTitle: 'x (µm)', yTitle: 'y' }));
    // the label's pixels: right of the square (x 60–69), on the legend row (y 8–17)
    let dark = 0;
    for (let y = 8; y < 18; y++) {
      for (let x = 74; x < 74 + legendTextWidthPx('BerHu'); x++) {
        const i = (y * 300 + x) * 3;
        if (withText.data[i] === 0 && withText.data[i + 1] === 0 && withText.data[i + 2] === 0) dark++;
        expect(empty.data[i]).toBe(255);
      }
    }
    expect(dark).toBeGreaterThan(40);
    expect(pixel(renderLinePlot([series('BerHu')], 300, 120, { logY: false, xTitle: 'x (µm)', yTitle: 'y' }), 62, 10)).toEqual([200, 0, 0]);
  });

  it('wraps labels that do not fit into more rows and moves the plot down', () => {
    const long = 'Richardson-Lucy (true PSF, best iterations)';
    const one = renderLinePlot([series('a'), series('b', [0, 0, 200])], 400, 150, { logY: false, xTitle: 'x (µm)', yTitle: 'y' });
    const two = renderLinePlot([series(long), series(long, [0, 0, 200])], 400, 150, { logY: false, xTitle: 'x (µm)', yTitle: 'y' });
    // the y axis (x = PLOT_LEFT) starts at the top of the plot: 32 px with one legend row, 48 px with two
    expect(pixel(one, PLOT_LEFT, 40)).toEqual([0, 0, 0]);
    expect(pixel(two, PLOT_LEFT, 40)).toEqual([255, 255, 255]);
    expect(pixel(two, PLOT_LEFT, 50)).toEqual([0, 0, 0]);
    // the second entry's square starts the second row
    expect(pixel(two, 62, 26)).toEqual([0, 0, 200]);
  });

  it('draws the axis titles: x centred below the axis, y rotated left of it; an empty plot has them too', () => {
    const dark = (png: Uint8Array, x0: number, x1: number, y0: number, y1: number) => {
      const img = decode(png);
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (img.data[(y * img.width + x) * 3] === 0) n++;
      return n;
    };
    const titled = renderLinePlot([series('a')], 400, 200, { logY: false, xTitle: 'defocus (µm)', yTitle: 'PSNR (dB)' });
    const blank = renderLinePlot([series('a')], 400, 200, { logY: false, xTitle: '', yTitle: '' });
    // x title band: 26–36 px below the axis (bottom = height − 44); y title band: x 2–12
    expect(dark(titled, PLOT_LEFT, 390, 200 - 44 + 26, 200 - 44 + 36)).toBeGreaterThan(60);
    expect(dark(blank, PLOT_LEFT, 390, 200 - 44 + 26, 200 - 44 + 36)).toBe(0);
    expect(dark(titled, 2, 12, 30, 150)).toBeGreaterThan(40);
    expect(dark(blank, 2, 12, 30, 150)).toBe(0);
    const empty = renderLinePlot([], 400, 200, { xTitle: 'iteration', yTitle: 'loss' });
    expect(dark(empty, PLOT_LEFT, 390, 200 - 44 + 26, 200 - 44 + 36)).toBeGreaterThan(30);
  });
});
