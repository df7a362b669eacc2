/**
 * The evaluation's figures as RGB pixels (PNG-encoded by the caller or here): the labelled
 * example montage, Cb/Cr histograms per framework against the true H&E, and the simulated slide
 * with its focus maps (from `staining.slide`'s fields table). Text uses core's 3×5 glyphs
 * (drawn in capitals).
 */
import { encode } from 'fast-png';
import { drawGlyphText, FocalError, glyphTextWidthPx, lutColour, renderLinePlot, type Table } from '../../core/index.js';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bit. */
  data: Uint8Array;
}

export function encodeRgb(img: RgbImage): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 });
}

const GAP = 4;
const LABEL_H = 18;

/**
 * Panels (each three planes in [0, 1], `sizePx` square) side by side with a label above each
 * (`labels[k]`, clipped to the panel width at glyph scale 2).
 */
export function labelledMontage(panels: readonly (readonly ArrayLike<number>[])[], labels: readonly string[], sizePx: number): RgbImage {
  if (panels.length !== labels.length) throw new FocalError('E_ARGUMENT', `labels: ${labels.length} labels for ${panels.length} panels`, { field: 'labels' });
  const n = sizePx;
  const width = panels.length * n + (panels.length - 1) * GAP;
  const height = LABEL_H + n;
  const data = new Uint8Array(width * height * 3).fill(255);
  panels.forEach((rgb, p) => {
    rgb.forEach((plane, c) => {
      if (plane.length !== n * n) throw new FocalError('E_ARGUMENT', `panels[${p}]: channel ${c} has ${plane.length} pixels, expected ${n}×${n}`, { field: 'panels' });
    });
    const x0 = p * (n + GAP);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < 3; c++) {
      data[((LABEL_H + y) * width + x0 + x) * 3 + c] = Math.round(255 * Math.min(1, Math.max(0, rgb[c][y * n + x])));
    }
    let text = labels[p].toUpperCase();
    while (text.length > 1 && glyphTextWidthPx(text) > n) text = text.slice(0, -1);
    drawGlyphText(data, width, height, text, x0 + Math.max(0, Math.floor((n - glyphTextWidthPx(text)) / 2)), 4);
  });
  return { width, height, data };
}

/** Fraction (%) of values per integer bin from lo to hi (inclusive; values rounded, outside ones dropped). */
export function histogramPercent(values: ArrayLike<number>, lo: number, hi: number): number[] {
  const counts = new Array<number>(hi - lo + 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const k = Math.round(values[i]) - lo;
    if (k >= 0 && k < counts.length) counts[k]++;
  }
  return counts.map((c) => (100 * c) / Math.max(1, values.length));
}

export interface HistogramSeries {
  label: string;
  colour: [number, number, number];
  /** 8-bit channel values, pooled over fields. */
  values: ArrayLike<number>;
}

/** Line histograms (1-level bins) of one 8-bit channel per series, over the range holding 99.8 % of all values. */
export function channelHistogramPng(series: HistogramSeries[], channel: string, title: string): Uint8Array {
  const all = series.flatMap((s) => Array.from(s.values));
  all.sort((a, b) => a - b);
  const lo = Math.floor(all[Math.floor(0.001 * (all.length - 1))]);
  const hi = Math.ceil(all[Math.ceil(0.999 * (all.length - 1))]);
  const x = Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  return renderLinePlot(series.map((s) => ({ label: s.label, colour: s.colour, x, y: histogramPercent(s.values, lo, hi) })), 720, 340, {
    xTitle: `${channel} (8-bit BT.601) ${title}`, yTitle: 'pixels (%)', logY: false,
  });
}

const cellOf = (t: Table, col: string, r: number): number => {
  const v = t.rows[r][col];
  if (typeof v !== 'number') throw new FocalError('E_ARGUMENT', `fields: row ${r} column ${col} is ${String(v)}, expected a number`, { field: 'fields' });
  return v;
};

/**
 * The simulated slide: three maps side by side, one square of `cellPx` per field: the true focal
 * surface (µm), and the residual defocus of every field (surface − interpolated map, µm) with the
 * fine and with the coarse focus map; the fields where a map measured focus are outlined in black.
 * Diverging colours, symmetric about 0 (the surface about its mean); the range under each map.
 */
export function slideFocusFigure(fields: Table, cellPx = 20): RgbImage {
  const n = fields.rows.length;
  if (n === 0) throw new FocalError('E_ARGUMENT', 'fields: the table has no rows', { field: 'fields' });
  let fxMax = 0;
  let fyMax = 0;
  for (let r = 0; r < n; r++) [fxMax, fyMax] = [Math.max(fxMax, cellOf(fields, 'fx', r)), Math.max(fyMax, cellOf(fields, 'fy', r))];
  const nx = fxMax + 1;
  const ny = fyMax + 1;
  const mapW = nx * cellPx;
  const mapH = ny * cellPx;
  const pad = 16;
  const top = 22;
  const barH = 10;
  const bottom = 50;
  const width = 3 * mapW + 4 * pad;
  const height = top + mapH + bottom;
  const data = new Uint8Array(width * height * 3).fill(255);
  const set = (x: number, y: number, c: readonly number[]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    [data[i], data[i + 1], data[i + 2]] = [c[0], c[1], c[2]];
  };
  let surfMean = 0;
  for (let r = 0; r < n; r++) surfMean += cellOf(fields, 'surfaceUm', r) / n;
  let surfHalf = 0;
  let resHalf = 0;
  for (let r = 0; r < n; r++) {
    surfHalf = Math.max(surfHalf, Math.abs(cellOf(fields, 'surfaceUm', r) - surfMean));
    resHalf = Math.max(resHalf, Math.abs(cellOf(fields, 'fineDefocusUm', r)), Math.abs(cellOf(fields, 'coarseDefocusUm', r)));
  }
  const rms = (col: string) => Math.sqrt(fields.rows.reduce((q, _, r) => q + cellOf(fields, col, r) ** 2, 0) / n);
  const panels = [
    { title: 'focal surface (µm)', value: (r: number) => cellOf(fields, 'surfaceUm', r) - surfMean, half: surfHalf, centre: surfMean, mark: undefined, note: `p-p ${(2 * surfHalf).toFixed(1)} µm` },
    { title: 'fine map: defocus (µm)', value: (r: number) => cellOf(fields, 'fineDefocusUm', r), half: resHalf, centre: 0, mark: 'fineFocusPoint', note: `rms ${rms('fineDefocusUm').toFixed(2)} µm` },
    { title: 'coarse map: defocus (µm)', value: (r: number) => cellOf(fields, 'coarseDefocusUm', r), half: resHalf, centre: 0, mark: 'coarseFocusPoint', note: `rms ${rms('coarseDefocusUm').toFixed(2)} µm` },
  ];
  panels.forEach((p, k) => {
    const x0 = pad + k * (mapW + pad);
    drawGlyphText(data, width, height, p.title.toUpperCase(), x0, 4);
    for (let r = 0; r < n; r++) {
      const fx = cellOf(fields, 'fx', r);
      const fy = cellOf(fields, 'fy', r);
      const colour = lutColour('diverging', 0.5 + p.value(r) / (2 * (p.half || 1)));
      const marked = p.mark !== undefined && cellOf(fields, p.mark, r) === 1;
      for (let y = 0; y < cellPx; y++) for (let x = 0; x < cellPx; x++) {
        const edge = x < 2 || y < 2 || x >= cellPx - 2 || y >= cellPx - 2;
        set(x0 + fx * cellPx + x, top + fy * cellPx + y, marked && edge ? [0, 0, 0] : colour);
      }
    }
    // colour bar with its end values
    const by = top + mapH + 6;
    for (let x = 0; x < mapW; x++) {
      const colour = lutColour('diverging', x / (mapW - 1));
      for (let y = 0; y < barH; y++) set(x0 + x, by + y, colour);
    }
    const lo = (p.centre - p.half).toFixed(2);
    const hi = `+${(p.centre + p.half).toFixed(2)}`.replace('+-', '-');
    drawGlyphText(data, width, height, lo, x0, by + barH + 4);
    drawGlyphText(data, width, height, hi, x0 + mapW - glyphTextWidthPx(hi), by + barH + 4);
    drawGlyphText(data, width, height, p.note.toUpperCase(), x0 + Math.floor((mapW - glyphTextWidthPx(p.note)) / 2), by + barH + 18);
  });
  return { width, height, data };
}
