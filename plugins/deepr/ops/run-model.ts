import { FocalError, planeCount, throwIfAborted, withPlanes, type OpContext, type PixelArray, type Stack } from '../../../core/index.js';
import { destandardise, standardise } from '../../../core/imaging.js';
import { createInferenceEngine, onModelGrid, tiledInference, type ModelPackage, AUGMENT_COUNT, selfEnsemble, type Ensemble } from '../../../core/ml.js';

/** Params shared by the Deep-R ops. */
export interface ModelRunParams {
  tileSize?: number;
  overlapPx?: number;
  engine: 'auto' | 'onnxruntime' | 'tfjs';
  /** One pass (default), or the mean over the 8 flips/rotations (deepr.autofocus defaults to its package's `extra.ensemble`). */
  ensemble?: Ensemble;
  /** Standardise with this mean and σ instead of each plane's own (a streamed run passes the whole plane's). */
  planeMean?: number;
  planeStd?: number;
  /**
   * The plane's pixel size ÷ the model's (core's `modelGrid`; default 1): ≠ 1, each plane is
   * processed on the model's pixel grid and the output resampled back to the plane's (core's
   * `onModelGrid`, not residual: the network also removes noise, which a residual would keep;
   * plugins/deepr/docs/pixel-size.md).
   */
  scale?: number;
}

/** `(x − mean) / std` with given statistics (σ ≤ 0 counts as 1, as `standardise` does). */
function standardiseWith(plane: ArrayLike<number>, mean: number, std: number): { data: Float32Array; mean: number; std: number } {
  const s = std > 0 ? std : 1;
  const data = new Float32Array(plane.length);
  for (let i = 0; i < plane.length; i++) data[i] = (plane[i] - mean) / s;
  return { data, mean, std: s };
}


/**
 * Runs a single-channel package plane by plane with tiled inference: each plane normalised
 * to zero mean / unit variance, the output optionally mapped back with the plane's mean and σ.
 */
export async function runPlanes(ctx: OpContext, stack: Stack, pkg: ModelPackage, params: ModelRunParams, restoreScale: boolean): Promise<Stack> {
  const m = pkg.manifest;
  const multiple = m.multipleOf ?? 1;
  const tilePx = params.tileSize ?? m.tilePx;
  const haloPx = params.overlapPx ?? m.haloPx;
  if (tilePx % multiple !== 0) throw new FocalError('E_PARAMS', `tileSize: ${tilePx} px is not a multiple of ${multiple} (the model's)`, { field: 'tileSize' });
  if (2 * haloPx >= tilePx) throw new FocalError('E_PARAMS', `overlapPx: ${haloPx} px leaves nothing of a ${tilePx}-px tile (needs 2·overlapPx < tileSize)`, { field: 'overlapPx' });
  if (stack.rgb) throw new FocalError('E_PORT', 'image: RGB images are not supported; give one fluorescence channel', { field: 'image' });
  const ensemble = params.ensemble ?? 'none';
  const engine = await createInferenceEngine(pkg, { engine: params.engine });
  try {
    const total = planeCount(stack);
    const planes: PixelArray[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      const n = params.planeMean !== undefined && params.planeStd !== undefined ? standardiseWith(stack.planes[i], params.planeMean, params.planeStd) : standardise(stack.planes[i]);
      const passes = ensemble === 'dihedral8' ? AUGMENT_COUNT : 1;
      let pass = 0;
      const onGrid = (data: Float32Array, width: number, height: number) =>
        selfEnsemble(data, width, height, ensemble, async (d, w, h) => {
          const p = pass++;
          const [result] = await tiledInference([d], w, h, engine, {
            tilePx,
            haloPx,
            outChannels: 1,
            multipleOf: multiple,
            signal: ctx.signal,
            onProgress: (f) => ctx.progress((i + (p + f) / passes) / total),
          });
          return result;
        });
      const scale = params.scale ?? 1;
      const out = scale === 1 ? await onGrid(n.data, stack.width, stack.height) : await onModelGrid([n.data], stack.width, stack.height, 1, scale, ([d], w, h) => onGrid(d, w, h), { residual: false, signal: ctx.signal });
      planes.push(restoreScale ? destandardise(out, n.mean, n.std) : out);
      ctx.progress((i + 1) / total);
    }
    return withPlanes(stack, planes);
  } finally {
    await engine.dispose();
  }
}
