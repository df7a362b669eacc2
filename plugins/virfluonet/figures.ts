/**
 * Figures of the VirFluoNet plugin: grey montages (per-panel robust stretch) with an optional
 * green error mask, written as PNG with fast-png. Plain loops; no raster library.
 */
import { writeFileAtomic } from '../../core/index.js';
import { encode } from 'fast-png';

export interface Panel {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** Display range; default the 0.5–99.8 % percentiles of the panel. */
  range?: [number, number];
  /** Pixels drawn green (the error mask), same size. */
  mask?: ArrayLike<number>;
}

export function percentileRange(data: ArrayLike<number>, lo = 0.005, hi = 0.998): [number, number] {
  const s = Float32Array.from(data).sort();
  const a = s[Math.floor(lo * (s.length - 1))];
  const b = s[Math.floor(hi * (s.length - 1))];
  return [a, b > a ? b : a + 1];
}

/** Panels in a grid of `columns`, 4-px gaps, RGB. */
export function montageRgb(panels: Panel[], columns: number): { rgb: Uint8Array; width: number; height: number } {
  const pw = Math.max(...panels.map((p) => p.width));
  const ph = Math.max(...panels.map((p) => p.height));
  const gap = 4;
  const rows = Math.ceil(panels.length / columns);
  const width = columns * pw + (columns - 1) * gap;
  const height = rows * ph + (rows - 1) * gap;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  panels.forEach((p, k) => {
    const [lo, hi] = p.range ?? percentileRange(p.data);
    const ox = (k % columns) * (pw + gap);
    const oy = Math.floor(k / columns) * (ph + gap);
    for (let y = 0; y < p.height; y++) {
      for (let x = 0; x < p.width; x++) {
        const i = y * p.width + x;
        const v = Math.round(255 * Math.min(1, Math.max(0, (p.data[i] - lo) / (hi - lo))));
        const o = ((oy + y) * width + ox + x) * 3;
        if (p.mask && p.mask[i]) {
          rgb[o] = 0;
          rgb[o + 1] = 255;
          rgb[o + 2] = 0;
        } else rgb[o] = rgb[o + 1] = rgb[o + 2] = v;
      }
    }
  });
  return { rgb, width, height };
}

export async function writeMontage(path: string, panels: Panel[], columns: number): Promise<void> {
  const m = montageRgb(panels, columns);
  await writeFileAtomic(path, encode({ width: m.width, height: m.height, data: m.rgb, channels: 3, depth: 8 }), { mkdir: true });
}
