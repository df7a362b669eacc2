/**
 * Terminal image previews from the PNG a run writes beside each image output: each character
 * cell shows two pixels, the upper half block '▀' coloured with the top pixel (foreground) on the
 * bottom pixel (background), so any terminal with 24-bit colour shows the image inside Ink's
 * text frame (no inline-image escape codes, which Ink's redraw would count and overwrite).
 */
import { readFile } from 'node:fs/promises';
import { decode } from 'fast-png';

/** A preview grid: `rows` × `cols` cells, each the grey or RGB colour of its top and bottom pixel. */
export interface CellPreview {
  cols: number;
  rows: number;
  /** Row-major, `[top, bottom]` colours as '#rrggbb'. */
  cells: [string, string][];
  /** The source image's size. */
  width: number;
  height: number;
}

const hex = (r: number, g: number, b: number) => `#${[r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, '0')).join('')}`;

/**
 * Box-averages an 8-bit grey or RGB(A) image into at most `maxCols` × `maxRows` cells (two
 * pixels per cell, vertically), keeping its aspect ratio (a cell is about twice as tall as wide).
 */
export function cellPreview(data: ArrayLike<number>, width: number, height: number, channels: number, maxCols: number, maxRows: number): CellPreview {
  const scale = Math.min(maxCols / width, (2 * maxRows) / height, 1);
  const cols = Math.max(1, Math.round(width * scale));
  const px = Math.max(2, 2 * Math.round((height * scale) / 2)); // pixel rows, even
  const rows = px / 2;
  const colour = (x0: number, x1: number, y0: number, y1: number): string => {
    const acc = [0, 0, 0];
    let n = 0;
    for (let y = y0; y < Math.max(y1, y0 + 1) && y < height; y++) {
      for (let x = x0; x < Math.max(x1, x0 + 1) && x < width; x++) {
        const i = (y * width + x) * channels;
        if (channels >= 3) {
          acc[0] += data[i];
          acc[1] += data[i + 1];
          acc[2] += data[i + 2];
        } else {
          acc[0] += data[i];
          acc[1] += data[i];
          acc[2] += data[i];
        }
        n++;
      }
    }
    return hex(acc[0] / n, acc[1] / n, acc[2] / n);
  };
  const cells: [string, string][] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x0 = Math.floor((c * width) / cols);
      const x1 = Math.floor(((c + 1) * width) / cols);
      const yt0 = Math.floor((2 * r * height) / px);
      const yt1 = Math.floor(((2 * r + 1) * height) / px);
      const yb1 = Math.floor(((2 * r + 2) * height) / px);
      cells.push([colour(x0, x1, yt0, yt1), colour(x0, x1, yt1, yb1)]);
    }
  }
  return { cols, rows, cells, width, height };
}

/** Reads an 8-bit PNG (grey, grey+alpha, RGB, RGBA; 16-bit scaled to 8) and makes its {@link cellPreview}. */
export async function pngCellPreview(file: string, maxCols: number, maxRows: number): Promise<CellPreview> {
  const png = decode(await readFile(file));
  const data = png.depth === 16 ? Array.from(png.data as Uint16Array, (v) => v / 257) : (png.data as Uint8Array);
  const channels = png.channels;
  const grey = channels === 2 ? Array.from({ length: png.width * png.height }, (_, i) => data[i * 2]) : undefined; // drop alpha
  return cellPreview(grey ?? data, png.width, png.height, grey ? 1 : channels, maxCols, maxRows);
}
