/**
 * A minimal line plot rendered to RGB pixels and encoded as PNG (fast-png), for loss curves and
 * evaluation figures: axis titles with units (required), tick numbers, a legend.
 */
import { encodePngPixels } from '../io/png-encode.js';

/**
 * 3×5 bitmap glyphs (rows top to bottom, 3 bits each, 4 = left column): digits and 'e' for axis
 * numbers, capitals and a few signs for the legend (labels are drawn in capitals).
 */
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '-': [0, 0, 7, 0, 0], 'e': [0, 7, 7, 4, 7], '.': [0, 0, 0, 0, 2], ' ': [0, 0, 0, 0, 0],
  A: [2, 5, 7, 5, 5], B: [6, 5, 6, 5, 6], C: [3, 4, 4, 4, 3], D: [6, 5, 5, 5, 6], E: [7, 4, 6, 4, 7],
  F: [7, 4, 6, 4, 4], G: [3, 4, 5, 5, 3], H: [5, 5, 7, 5, 5], I: [7, 2, 2, 2, 7], J: [1, 1, 1, 5, 2],
  K: [5, 5, 6, 5, 5], L: [4, 4, 4, 4, 7], M: [5, 7, 7, 5, 5], N: [6, 5, 5, 5, 5], O: [2, 5, 5, 5, 2],
  P: [6, 5, 6, 4, 4], Q: [2, 5, 5, 6, 3], R: [6, 5, 6, 5, 5], S: [3, 4, 2, 1, 6], T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7], V: [5, 5, 5, 5, 2], W: [5, 5, 7, 7, 5], X: [5, 5, 2, 5, 5], Y: [5, 5, 2, 2, 2],
  Z: [7, 1, 2, 4, 7], '(': [1, 2, 2, 2, 1], ')': [4, 2, 2, 2, 4], '/': [1, 1, 2, 4, 4], ':': [0, 2, 0, 2, 0],
  '%': [5, 1, 2, 4, 5], '+': [0, 2, 7, 2, 0], '×': [0, 5, 2, 5, 0], 'µ': [0, 5, 5, 6, 4], '=': [0, 7, 0, 7, 0],
  ',': [0, 0, 0, 2, 4], '_': [0, 0, 0, 0, 7], '&': [2, 5, 2, 5, 3], '±': [2, 7, 2, 0, 7],
  // 'µ'.toUpperCase() is the Greek capital mu: labels drawn in capitals keep the micro sign
  'Μ': [0, 5, 5, 6, 4],
};

/** Pixel width of `label` drawn by the legend at glyph scale 2 (8 px per character). */
export function legendTextWidthPx(label: string): number {
  return [...label].length * 8;
}

/** x of the y axis: room for the rotated y title (2–12 px) and the tick numbers (from 16 px). */
export const PLOT_LEFT = 64;

/** Legend entries laid out in rows: a 10-px colour square, 4 px, the label, 14 px to the next. */
function legendLayout(series: Series[], width: number): { x: number; row: number }[] {
  const out: { x: number; row: number }[] = [];
  let x = 60;
  let row = 0;
  for (const s of series) {
    const w = 10 + 4 + legendTextWidthPx(s.label);
    if (x + w > width - 10 && x > 60) {
      row++;
      x = 60;
    }
    out.push({ x, row });
    x += w + 14;
  }
  return out;
}

export interface Series {
  label: string;
  /** RGB 0–255. */
  colour: [number, number, number];
  x: number[];
  y: number[];
}

export interface PlotOptions {
  /** x axis title with its unit, e.g. 'defocus (µm)' (drawn in capitals below the axis). */
  xTitle: string;
  /** y axis title with its unit (or 'unitless'), e.g. 'loss (unitless, log scale)' (drawn in capitals, rotated, left of the axis). */
  yTitle: string;
  /** log10 y axis (default true: losses span decades; non-positive y are then skipped); false: linear axis with round ticks. */
  logY?: boolean;
  /** Draw a dot at every point (default false). */
  markers?: boolean;
}

/** A round tick step (1, 2 or 5 × 10^k) giving about `n` intervals over `range`. */
function niceStep(range: number, n: number): number {
  const raw = range / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/**
 * Draws series with a light grid (at each decade on a log10 y axis, the default, or at round
 * ticks on a linear one) and the x range from the smallest to the largest x; non-finite y are
 * skipped. A legend (a colour square and the label, in capitals, per series) is drawn above the
 * plot, in as many rows as the width needs; the axis titles below the x axis and, rotated, left of
 * the y axis.
 */
export function renderLinePlot(series: Series[], width: number, height: number, options: PlotOptions): Uint8Array {
  const logY = options.logY ?? true;
  const fy = (y: number) => (logY ? Math.log10(y) : y);
  const valid = (y: number) => Number.isFinite(y) && (!logY || y > 0);
  const px = new Uint8Array(width * height * 3).fill(255);
  const left = PLOT_LEFT;
  const right = width - 10;
  const legend = legendLayout(series, width);
  const legendRows = legend.length ? legend[legend.length - 1].row + 1 : 0;
  const top = 16 + 16 * legendRows;
  const bottom = height - 44;
  const set = (x: number, y: number, c: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    px[i] = c[0];
    px[i + 1] = c[1];
    px[i + 2] = c[2];
  };
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  for (const s of series) {
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!valid(y)) return;
      xmin = Math.min(xmin, x);
      xmax = Math.max(xmax, x);
      ymin = Math.min(ymin, fy(y));
      ymax = Math.max(ymax, fy(y));
    });
  }
  const text = (str: string, x0: number, y0: number, scale = 2, colour: [number, number, number] = [0, 0, 0]) => {
    let x = x0;
    for (const ch of str) {
      const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()];
      if (g) for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) if (g[r] & (4 >> c)) for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) set(x + c * scale + a, y0 + r * scale + b, colour);
      x += 4 * scale;
    }
  };
  /** Text turned 90° anticlockwise (read bottom to top), its first character at the bottom (x0, y0). */
  const textUp = (str: string, x0: number, y0: number, scale = 2) => {
    let y = y0;
    for (const ch of str) {
      const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()];
      // glyph row r → column x0 + r; glyph column c → row y − c
      if (g) for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) if (g[r] & (4 >> c)) for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) set(x0 + r * scale + a, y - c * scale - b, [0, 0, 0]);
      y -= 4 * scale;
    }
  };
  // axis titles, centred on their axis
  const xTitle = options.xTitle.toUpperCase();
  text(xTitle, Math.round((left + right) / 2 - legendTextWidthPx(xTitle) / 2), bottom + 26);
  const yTitle = options.yTitle.toUpperCase();
  textUp(yTitle, 2, Math.round((top + bottom) / 2 + legendTextWidthPx(yTitle) / 2));
  if (!Number.isFinite(xmin)) return encodePngPixels({ width, height, data: px, channels: 3, depth: 8 });
  if (xmax === xmin) xmax = xmin + 1;
  const step = logY ? 1 : niceStep(Math.max(ymax - ymin, 1e-9), 6);
  ymin = Math.floor(ymin / step) * step;
  ymax = Math.ceil(ymax / step) * step;
  if (ymax <= ymin) ymax = ymin + step;
  const X = (x: number) => Math.round(left + ((x - xmin) / (xmax - xmin)) * (right - left));
  const Y = (ly: number) => Math.round(bottom - ((ly - ymin) / (ymax - ymin)) * (bottom - top));
  const grey: [number, number, number] = [220, 220, 220];
  const ticks = Math.round((ymax - ymin) / step);
  const decimals = logY ? 0 : Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  for (let k = 0; k <= ticks; k++) {
    const d = ymin + k * step;
    for (let x = left; x <= right; x++) set(x, Y(d), grey);
    text(logY ? `1e${Math.round(d)}` : d.toFixed(decimals), 16, Y(d) - 5);
  }
  const xLabel = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  text(xLabel(xmin), left, bottom + 8);
  const xs = xLabel(xmax);
  text(xs, right - xs.length * 8, bottom + 8);
  if (xmin < 0 && xmax > 0) for (let y = top; y <= bottom; y++) set(X(0), y, grey);
  for (let y = top; y <= bottom; y++) set(left, y, [0, 0, 0]);
  for (let x = left; x <= right; x++) set(x, bottom, [0, 0, 0]);
  const line = (x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) => {
    const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
    for (let k = 0; k <= n; k++) {
      const x = Math.round(x0 + ((x1 - x0) * k) / n);
      const y = Math.round(y0 + ((y1 - y0) * k) / n);
      set(x, y, c);
      set(x, y + 1, c);
    }
  };
  series.forEach((s, si) => {
    let prev: [number, number] | undefined;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!valid(y)) return;
      const p: [number, number] = [X(x), Y(fy(y))];
      if (prev) line(prev[0], prev[1], p[0], p[1], s.colour);
      else set(p[0], p[1], s.colour);
      if (options.markers) for (let a = -2; a <= 2; a++) for (let b = -2; b <= 2; b++) set(p[0] + a, p[1] + b, s.colour);
      prev = p;
    });
    const { x: lx, row } = legend[si];
    const ly = 8 + 16 * row;
    for (let dy = 0; dy < 10; dy++) for (let dx = 0; dx < 10; dx++) set(lx + dx, ly + dy, s.colour);
    text(s.label.toUpperCase(), lx + 14, ly);
  });
  return encodePngPixels({ width, height, data: px, channels: 3, depth: 8 });
}

/** Pixel width of `text` drawn by `drawGlyphText` at `scale` (4·scale px per character, the last without its gap). */
export function glyphTextWidthPx(text: string, scale = 2): number {
  const n = [...text].length;
  return n === 0 ? 0 : n * 4 * scale - scale;
}

/**
 * Draws `text` (digits, capitals and a few signs of the 3×5 glyph set; lower case drawn as
 * capitals; unknown characters as blanks) into interleaved RGB pixels, top-left at (x0, y0).
 */
export function drawGlyphText(rgb: Uint8Array, width: number, height: number, text: string, x0: number, y0: number, scale = 2, colour: readonly [number, number, number] = [0, 0, 0]): void {
  let x = x0;
  for (const ch of text) {
    const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()];
    if (g) {
      for (let r = 0; r < 5; r++) {
        for (let c = 0; c < 3; c++) {
          if (!(g[r] & (4 >> c))) continue;
          for (let a = 0; a < scale; a++) {
            for (let b = 0; b < scale; b++) {
              const px = x + c * scale + a;
              const py = y0 + r * scale + b;
              if (px < 0 || py < 0 || px >= width || py >= height) continue;
              const i = (py * width + px) * 3;
              rgb[i] = colour[0];
              rgb[i + 1] = colour[1];
              rgb[i + 2] = colour[2];
            }
          }
        }
      }
    }
    x += 4 * scale;
  }
}
