/**
 * The paper's Table II counting, shared by the TSVA evaluations in scripts/ (the top floor:
 * plugins/tsva never imports the cellcount plugin): an RGB image in [0, 1] → grey → normalise
 * contrast 0.35 % → Otsu (dark objects) → particles ≥ 150 px (≈ 16 µm² at 0.325 µm), through the
 * cellcount plugin's ops.
 */
import { createStack, runOp, type Stack, type Table } from '../core/index.js';
import { cellcountPlugin } from '../plugins/index.js';

const op = (id: string) => cellcountPlugin.operations.find((o) => o.id === id)!;

/** Channel `c` of an interleaved RGB image. */
export function channelOf(hwc: Float32Array, c: number): Float32Array {
  const n = hwc.length / 3;
  const p = new Float32Array(n);
  for (let i = 0; i < n; i++) p[i] = hwc[i * 3 + c];
  return p;
}

/** Cells counted in an interleaved RGB image (values in [0, 1]) of `width` × `height`. */
export async function countCells(hwc: Float32Array, width: number, height: number): Promise<number> {
  const planes = [0, 1, 2].map((c) => Uint8Array.from(channelOf(hwc, c), (v) => Math.round(255 * Math.min(1, Math.max(0, v)))));
  const rgbStack = createStack({ width, height, dtype: 'uint8', sizeC: 3, rgb: true, planes });
  const grey = (await runOp(op('cellcount.rgb-to-grey'), { stack: rgbStack })).stack as Stack;
  const norm = (await runOp(op('cellcount.normalise-contrast'), { stack: grey }, { saturatedPercent: 0.35 })).stack as Stack;
  const r = await runOp(op('cellcount.count'), { image: norm }, { method: 'Otsu', darkBackground: false, minAreaPx: 150, includeHoles: true, excludeEdges: false });
  return Number((r.summary as Table).rows[0].count);
}
