import { encodePngPixels } from './png-encode.js';
import type { PixelArray } from '../data/dtype.js';
import { isImage, type Image } from '../data/image.js';
import { planeIndex, stackFromImage, type Stack } from '../data/stack.js';
import { FocalError } from '../errors.js';
import { drawGlyphText, glyphTextWidthPx } from '../ml/plot.js';
import { writeFileAtomic } from './atomic.js';
import { autoContrastRange } from './png.js';

/**
 * Channel colours of ImageJ's composite images (CompositeImage default LUTs):
 * red, green, blue, grey, cyan, magenta, yellow, then repeating.
 */
export const IMAGEJ_CHANNEL_COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 255],
  [0, 255, 255],
  [255, 0, 255],
  [255, 255, 0],
];

export interface FigureOptions {
  /** ImageJ Enhance Contrast saturation per channel, % (default 0.35). */
  saturatedPercent?: number;
  /** Show as a label image (0 black, k ≥ 1 distinct colours). Default: metadata.labels === true. */
  labels?: boolean;
  /** Panels smaller than this (longer side, px) are enlarged by an integer factor, nearest neighbour. Default 256. */
  minSize?: number;
  /** At most this many z/t panels; more are sampled evenly (first and last kept). Default 16. */
  maxPanels?: number;
  /** Draw a scale bar when the x calibration is known. Default true. */
  scaleBar?: boolean;
  /** Larger montages are shrunk by an integer step (every step-th pixel) to fit this longer side. Default 2048. */
  maxSize?: number;
  /** Show a one-channel image as values in a colour map with a colour bar. Default: metadata.valueMap (see `ValueMap`). */
  valueMap?: ValueMap;
}

/**
 * What a one-channel image's values mean, when they matter more than its look (height maps,
 * defocus maps, error maps): set by the op that makes it as `metadata.valueMap`, like
 * `metadata.labels`. The preview then shows the values in a colour map over their full range
 * (not contrast-stretched) with a colour bar labelled with the range.
 */
export interface ValueMap {
  /** What the values are, for captions ('height', 'absolute error'). */
  quantity?: string;
  /** Their unit, for captions ('µm'). */
  unit?: string;
  /** 'viridis' (default; perceptually uniform, for magnitudes) or 'diverging' (blue–white–red, symmetric about 0, for signed values). */
  lut?: 'viridis' | 'diverging';
}

/** The value map a stack declares in `metadata.valueMap`, or undefined when it declares none (or not an object). */
export function valueMapOf(metadata: Record<string, unknown>): ValueMap | undefined {
  const v = metadata.valueMap;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const m = v as Record<string, unknown>;
  return {
    ...(typeof m.quantity === 'string' ? { quantity: m.quantity } : {}),
    ...(typeof m.unit === 'string' ? { unit: m.unit } : {}),
    lut: m.lut === 'diverging' ? 'diverging' : 'viridis',
  };
}

/** Anchor colours at equal steps from 0 to 1: viridis (matplotlib, 9 samples) and a blue–white–red diverging map (ColorBrewer RdBu, 5). */
const LUTS: Record<'viridis' | 'diverging', readonly (readonly [number, number, number])[]> = {
  viridis: [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]],
  diverging: [[33, 102, 172], [103, 169, 207], [247, 247, 247], [239, 138, 98], [178, 24, 43]],
};

/** Colour of g ∈ [0, 1] in a LUT (linear between its anchors); NaN black. */
export function lutColour(lut: 'viridis' | 'diverging', g: number): [number, number, number] {
  if (Number.isNaN(g)) return [0, 0, 0];
  const a = LUTS[lut];
  const x = Math.min(1, Math.max(0, g)) * (a.length - 1);
  const i = Math.min(a.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((k) => Math.round(a[i][k] + f * (a[i + 1][k] - a[i][k]))) as [number, number, number];
}

/**
 * A short number for a colour bar label: rounded to the decimal place that resolves about a
 * twentieth of the bar's range (`range`, max − min; 0 = the number alone to 3 significant digits),
 * in exponent form when the numbers are very large or very small.
 */
export function colourBarNumber(v: number, range = 0): string {
  if (!Number.isFinite(v)) return String(v);
  const scale = range > 0 ? range : Math.abs(v);
  if (scale === 0) return '0';
  if (scale >= 1e5 || scale < 1e-3) return v.toExponential(1).replace('e+', 'e');
  if (range > 0) {
    const decimals = Math.max(0, -Math.floor(Math.log10(range / 20)));
    const r = Number(v.toFixed(decimals));
    return String(r === 0 ? 0 : r); // no "-0"
  }
  return String(Number(v.toPrecision(3)));
}

/** Colour bar layout, figure pixels: gap from the montage, bar width, gap to the numbers, glyph scale. */
const BAR = { gap: 8, width: 16, textGap: 5, margin: 6, glyph: 2 } as const;

/** Where one z/t plane sits in the montage (pixels of the figure). */
export interface FigurePanel {
  z: number;
  t: number;
  x: number;
  y: number;
}

/** An RGB figure: composite of all channels, montage over z and t, optional scale bar. */
export interface Figure {
  width: number;
  height: number;
  channels: 3;
  /** Interleaved RGB. */
  data: Uint8Array;
  /** Integer nearest-neighbour enlargement of each panel. */
  scale: number;
  /** Every step-th source pixel is shown (1 unless the montage would pass maxSize). */
  step: number;
  panelWidth: number;
  panelHeight: number;
  columns: number;
  panels: FigurePanel[];
  /** Per channel, the values mapped to 0 and 255 (absent for label and RGB images). */
  displayRanges?: [number, number][];
  /** Colour of each channel (ImageJ convention), absent for label and RGB images. */
  channelColours?: (readonly [number, number, number])[];
  /** The bar drawn in the first panel: its length in µm and in figure pixels. */
  scaleBar?: { um: number; px: number };
  /** The colour bar right of the montage for value maps: the range it spans (bottom to top), its LUT, what and in which unit. */
  colourBar?: { min: number; max: number; lut: 'viridis' | 'diverging'; quantity?: string; unit?: string; x: number; width: number };
  /** 'composite', 'grey', 'rgb', 'labels' or 'values' (a value map in a colour LUT with a colour bar). */
  mode: 'composite' | 'grey' | 'rgb' | 'labels' | 'values';
}

/** Gap between montage panels, figure pixels (drawn mid grey). */
export const PANEL_GAP = 2;

/**
 * Distinct colour of label k (k ≥ 1; 0 is black): hues spaced by the golden angle so
 * neighbouring labels differ, full value so label 1 is as bright as any other.
 */
export function labelColour(k: number): [number, number, number] {
  if (k === 0) return [0, 0, 0];
  const h = (((k - 1) * 0.6180339887498949) % 1) * 6;
  const s = k % 2 === 1 ? 0.85 : 0.6;
  const i = Math.floor(h);
  const f = h - i;
  const p = 1 - s;
  const q = 1 - s * f;
  const u = 1 - s * (1 - f);
  const rgb = [
    [1, u, p],
    [q, 1, p],
    [p, 1, u],
    [p, q, 1],
    [u, p, 1],
    [1, p, q],
  ][i % 6];
  return [Math.round(rgb[0] * 255), Math.round(rgb[1] * 255), Math.round(rgb[2] * 255)];
}

/** A round scale-bar length (1, 2 or 5 × 10^n µm) of at most `maxUm`. */
export function niceLengthUm(maxUm: number): number {
  if (!(maxUm > 0)) return 0;
  const p = Math.pow(10, Math.floor(Math.log10(maxUm)));
  for (const m of [5, 2, 1]) if (m * p <= maxUm) return m * p;
  return p;
}

function samplePanels(sizeZ: number, sizeT: number, maxPanels: number): { z: number; t: number }[] {
  const all: { z: number; t: number }[] = [];
  for (let t = 0; t < sizeT; t++) for (let z = 0; z < sizeZ; z++) all.push({ z, t });
  if (all.length <= maxPanels) return all;
  if (maxPanels === 1) return [all[Math.floor(all.length / 2)]];
  return Array.from({ length: maxPanels }, (_, i) => all[Math.round((i * (all.length - 1)) / (maxPanels - 1))]);
}

function concat(planes: PixelArray[]): PixelArray {
  if (planes.length === 1) return planes[0];
  const Ctor = planes[0].constructor as new (n: number) => PixelArray;
  const out = new Ctor(planes.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of planes) {
    (out as unknown as { set(a: ArrayLike<number>, o: number): void }).set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * One grey panel (one channel, white): the general loop of renderFigure specialised, with the
 * same arithmetic (g = (v − lo)/(hi − lo), NaN and g ≤ 0 black, g > 1 white, round(g·255)), so
 * the bytes are identical; it is several times faster on a cold start, where a run's report
 * spends its time.
 */
function drawGreyPanel(plane: PixelArray, w: number, h: number, step: number, scale: number, range: [number, number], data: Uint8Array, W: number, x0: number, y0: number): void {
  const [lo, hi] = range;
  const span = hi - lo;
  for (let y = 0, py = 0; y < h; y += step, py++) {
    for (let x = 0, qx = 0; x < w; x += step, qx++) {
      const v = plane[y * w + x];
      let g: number;
      if (span > 0) g = (v - lo) / span;
      else g = v > lo ? 1 : 0;
      let k = 0;
      if (g > 0) k = g >= 1 ? 255 : Math.min(255, Math.round(g * 255));
      if (scale === 1) {
        const o = ((y0 + py) * W + x0 + qx) * 3;
        data[o] = k;
        data[o + 1] = k;
        data[o + 2] = k;
        continue;
      }
      for (let dy = 0; dy < scale; dy++) {
        let o = ((y0 + py * scale + dy) * W + x0 + qx * scale) * 3;
        for (let dx = 0; dx < scale; dx++, o += 3) {
          data[o] = k;
          data[o + 1] = k;
          data[o + 2] = k;
        }
      }
    }
  }
}

/**
 * Renders what a person should see of a stack: every channel in its ImageJ colour
 * (one channel: grey), every z/t plane as a montage panel, label images with distinct
 * colours, small images enlarged (nearest) and a scale bar from the calibration.
 */
export function renderFigure(value: Stack | Image, options: FigureOptions = {}): Figure {
  const stack = isImage(value) ? stackFromImage(value) : value;
  const maxPanels = options.maxPanels ?? 16;
  if (!Number.isInteger(maxPanels) || maxPanels < 1) throw new FocalError('E_ARGUMENT', `maxPanels must be a positive integer, got ${maxPanels}`, { field: 'maxPanels' });
  const minSize = options.minSize ?? 256;
  const labels = options.labels ?? stack.metadata.labels === true;
  const { width: w, height: h } = stack;
  const scale = Math.max(1, Math.min(32, Math.floor(minSize / Math.max(w, h))));
  const chosen = samplePanels(stack.sizeZ, stack.sizeT, maxPanels);
  const columns = Math.ceil(Math.sqrt(chosen.length));
  const rows = Math.ceil(chosen.length / columns);
  const maxSize = options.maxSize ?? 2048;
  const step = scale > 1 ? 1 : Math.max(1, Math.ceil(Math.max(columns * w, rows * h) / maxSize));
  const pw = Math.ceil(w / step) * scale;
  const ph = Math.ceil(h / step) * scale;
  const montageW = columns * pw + (columns - 1) * PANEL_GAP;
  const H = rows * ph + (rows - 1) * PANEL_GAP;
  const valueMap = !labels && !stack.rgb && stack.sizeC === 1 ? (options.valueMap ?? valueMapOf(stack.metadata)) : undefined;
  const mode: Figure['mode'] = labels ? 'labels' : stack.rgb ? 'rgb' : valueMap ? 'values' : stack.sizeC === 1 ? 'grey' : 'composite';
  const panels: FigurePanel[] = chosen.map(({ z, t }, i) => ({ z, t, x: (i % columns) * (pw + PANEL_GAP), y: Math.floor(i / columns) * (ph + PANEL_GAP) }));

  // Per channel: display range over the shown planes, and colour. A value map spans its full
  // finite range (symmetric about 0 for a diverging map), so the colour bar reads as values.
  const channels = labels || stack.rgb ? [] : Array.from({ length: stack.sizeC }, (_, c) => c);
  const displayRanges = channels.map((c) => {
    const values = concat(chosen.map(({ z, t }) => stack.planes[planeIndex(stack, c, z, t)]));
    if (!valueMap) return autoContrastRange(values, options.saturatedPercent ?? 0.35);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi >= lo)) return [0, 0] as [number, number]; // no finite value
    if (valueMap.lut === 'diverging') {
      const m = Math.max(Math.abs(lo), Math.abs(hi));
      return [-m, m] as [number, number];
    }
    return [lo, hi] as [number, number];
  });
  const barLabels = valueMap ? [displayRanges[0][1], (displayRanges[0][0] + displayRanges[0][1]) / 2, displayRanges[0][0]].map((v) => colourBarNumber(v, displayRanges[0][1] - displayRanges[0][0])) : [];
  const barArea = valueMap ? BAR.gap + BAR.width + BAR.textGap + Math.max(...barLabels.map((l) => glyphTextWidthPx(l, BAR.glyph))) + BAR.margin : 0;
  const W = montageW + barArea;
  const data = new Uint8Array(W * H * 3).fill(128);
  const colours = channels.map((c) => (stack.sizeC === 1 ? ([255, 255, 255] as const) : IMAGEJ_CHANNEL_COLOURS[c % IMAGEJ_CHANNEL_COLOURS.length]));

  const px = new Float64Array(3);
  for (const panel of panels) {
    const { z, t } = panel;
    const planes = Array.from({ length: stack.sizeC }, (_, c) => stack.planes[planeIndex(stack, c, z, t)]);
    if (mode === 'grey') {
      drawGreyPanel(planes[0], w, h, step, scale, displayRanges[0], data, W, panel.x, panel.y);
      continue;
    }
    for (let y = 0; y < h; y += step) {
      for (let x = 0; x < w; x += step) {
        const i = y * w + x;
        if (labels) {
          const v = planes[0][i];
          const k = v > 0 && Number.isFinite(v) ? Math.round(v) : 0;
          const col = labelColour(k);
          px[0] = col[0];
          px[1] = col[1];
          px[2] = col[2];
        } else if (stack.rgb) {
          px[0] = planes[0][i];
          px[1] = planes[1][i];
          px[2] = planes[2][i];
        } else {
          px.fill(0);
          if (valueMap) {
            const [lo, hi] = displayRanges[0];
            const v = planes[0][i];
            const col = lutColour(valueMap.lut ?? 'viridis', hi > lo ? (v - lo) / (hi - lo) : Number.isFinite(v) ? 0.5 : NaN);
            px[0] = col[0];
            px[1] = col[1];
            px[2] = col[2];
          } else for (const c of channels) {
            const [lo, hi] = displayRanges[c];
            const v = planes[c][i];
            let g: number;
            if (hi > lo) g = (v - lo) / (hi - lo);
            else g = v > lo ? 1 : 0;
            if (!(g > 0)) continue; // NaN → 0
            if (g > 1) g = 1;
            const col = colours[c];
            px[0] += g * col[0];
            px[1] += g * col[1];
            px[2] += g * col[2];
          }
        }
        const r = Math.min(255, Math.round(px[0]));
        const gg = Math.min(255, Math.round(px[1]));
        const b = Math.min(255, Math.round(px[2]));
        for (let dy = 0; dy < scale; dy++) {
          let o = ((panel.y + (y / step) * scale + dy) * W + panel.x + (x / step) * scale) * 3;
          for (let dx = 0; dx < scale; dx++, o += 3) {
            data[o] = r;
            data[o + 1] = gg;
            data[o + 2] = b;
          }
        }
      }
    }
  }

  let scaleBar: Figure['scaleBar'];
  const um = stack.calibration.pixelWidthUm;
  if ((options.scaleBar ?? true) && um !== undefined && um > 0) {
    const lengthUm = niceLengthUm((w * um) / 4);
    const barPx = Math.round((lengthUm / um / step) * scale);
    if (lengthUm > 0 && barPx >= 4) {
      scaleBar = { um: lengthUm, px: barPx };
      const thick = Math.max(2, Math.round(ph / 60));
      const margin = Math.max(2, Math.round(pw / 30));
      const x0 = pw - margin - barPx;
      const y0 = ph - margin - thick;
      // White bar with a one-pixel dark border so it shows on any background.
      for (let y = y0 - 1; y <= y0 + thick; y++) {
        for (let x = x0 - 1; x <= x0 + barPx; x++) {
          if (x < 0 || y < 0 || x >= pw || y >= ph) continue;
          const border = y === y0 - 1 || y === y0 + thick || x === x0 - 1 || x === x0 + barPx;
          const o = (y * W + x) * 3;
          data[o] = data[o + 1] = data[o + 2] = border ? 0 : 255;
        }
      }
    }
  }

  let colourBar: Figure['colourBar'];
  if (valueMap) {
    const [lo, hi] = displayRanges[0];
    const lut = valueMap.lut ?? 'viridis';
    const x0 = montageW + BAR.gap;
    // black behind the bar and its numbers, the bar from max (top) to min (bottom)
    for (let y = 0; y < H; y++) for (let x = montageW; x < W; x++) data.fill(0, (y * W + x) * 3, (y * W + x) * 3 + 3);
    for (let y = 0; y < H; y++) {
      const col = lutColour(lut, H > 1 ? 1 - y / (H - 1) : 0.5);
      for (let x = x0; x < x0 + BAR.width; x++) data.set(col, (y * W + x) * 3);
    }
    const textH = 5 * BAR.glyph;
    const tx = x0 + BAR.width + BAR.textGap;
    const white = [255, 255, 255] as const;
    if (H >= 2 * textH + 2) {
      drawGlyphText(data, W, H, barLabels[0], tx, 0, BAR.glyph, white);
      drawGlyphText(data, W, H, barLabels[2], tx, H - textH, BAR.glyph, white);
      if (H >= 4 * textH) drawGlyphText(data, W, H, barLabels[1], tx, Math.round((H - textH) / 2), BAR.glyph, white);
    }
    colourBar = { min: lo, max: hi, lut, ...(valueMap.quantity ? { quantity: valueMap.quantity } : {}), ...(valueMap.unit ? { unit: valueMap.unit } : {}), x: x0, width: BAR.width };
  }

  return {
    width: W,
    height: H,
    channels: 3,
    data,
    scale,
    step,
    panelWidth: pw,
    panelHeight: ph,
    columns,
    panels,
    displayRanges: channels.length > 0 ? displayRanges : undefined,
    channelColours: channels.length > 0 ? colours : undefined,
    scaleBar,
    ...(colourBar ? { colourBar } : {}),
    mode,
  };
}

/** PNG bytes of renderFigure(value, options). */
export function encodeFigurePng(value: Stack | Image, options: FigureOptions = {}): Uint8Array {
  const f = renderFigure(value, options);
  return encodePngPixels({ width: f.width, height: f.height, data: f.data, channels: 3, depth: 8 });
}

/** Writes renderFigure(value, options) as an RGB PNG, atomically. */
export async function writeFigurePng(path: string, value: Stack | Image, options: FigureOptions & { mkdir?: boolean } = {}): Promise<void> {
  await writeFileAtomic(path, encodeFigurePng(value, options), { mkdir: options.mkdir });
}
