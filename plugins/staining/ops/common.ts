/** What the staining ops share: model params and resolution, reading the two AF channels, RGB output stacks. */
import { createStack, FocalError, planeIndex, z, type Stack } from '../../../core/index.js';

export const DEMO_STAINING = 'staining-demo';
export const DEMO_CASCADE = 'staining-cascade-demo';

export const tilingParams = {
  tileSize: z.number().int().positive().max(65536).optional().describe("Tile side, px (a multiple of the model's multipleOf); default: the package's tilePx"),
  overlapPx: z.number().int().nonnegative().max(32768).optional().describe("Halo of context on each tile side, px (blended seams); default: the package's haloPx (the cascade: the larger of both)"),
  engine: z.enum(['auto', 'onnxruntime', 'tfjs']).default('auto').describe("Inference engine: 'auto' (onnxruntime when the package has ONNX weights, else tfjs)"),
  outputType: z.enum(['uint8', 'float32']).default('uint8').describe("Pixel type of the H&E result: 'uint8' RGB (0–255) or 'float32' RGB in [0, 1]"),
};

/** The two autofluorescence channels (DAPI, TxRed) of a one-plane stack, as float planes. */
export function afChannels(stack: Stack, field = 'image'): [Float32Array, Float32Array] {
  if (stack.sizeC !== 2) throw new FocalError('E_PORT', `${field}: has ${stack.sizeC} channels; give the two autofluorescence channels (DAPI, TxRed)`, { field });
  if (stack.sizeZ !== 1 || stack.sizeT !== 1) throw new FocalError('E_PORT', `${field}: has ${stack.sizeZ} z planes and ${stack.sizeT} time points; give one field (one plane per channel)`, { field });
  return [0, 1].map((c) => Float32Array.from(stack.planes[planeIndex(stack, c, 0, 0)] as ArrayLike<number>, Number)) as [Float32Array, Float32Array];
}

/** An RGB stack from planes in [0, 1] (clipped): uint8 (×255, rounded) or float32. */
export function rgbStack(rgb: readonly Float32Array[], width: number, height: number, dtype: 'uint8' | 'float32', calibration?: Stack['calibration']): Stack {
  const planes = rgb.map((p) => {
    const out = dtype === 'uint8' ? new Uint8Array(p.length) : new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) {
      const v = Math.min(1, Math.max(0, p[i]));
      out[i] = dtype === 'uint8' ? Math.round(255 * v) : v;
    }
    return out;
  });
  return createStack({ width, height, dtype, sizeC: 3, rgb: true, planes, channelNames: ['R', 'G', 'B'], ...(calibration ? { calibration } : {}) });
}

export function checkTiling(tilePx: number, haloPx: number, multipleOf: number): void {
  if (tilePx % multipleOf !== 0) throw new FocalError('E_PARAMS', `tileSize: ${tilePx} px is not a multiple of ${multipleOf} (the model's)`, { field: 'tileSize' });
  if (2 * haloPx >= tilePx) throw new FocalError('E_PARAMS', `overlapPx: ${haloPx} px leaves nothing of a ${tilePx}-px tile (needs 2·overlapPx < tileSize)`, { field: 'overlapPx' });
}
