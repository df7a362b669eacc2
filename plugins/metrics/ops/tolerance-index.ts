import { createImage, createStack, createTable, defineOperation, FocalError, type Image, type Stack, z } from '../../../core/index.js';
import { absoluteDifference, dtypeFullScale, fixedToleranceError, otsuThreshold, TOLERANCE_VARIANTS, toleranceIndex } from '../tolerance-index.js';
import { assertNoNaNPort, assertSameSize } from './compare.js';

/** Columns of the one-row `summary` table, in order. */
export const TOLERANCE_SUMMARY_COLUMNS = [
  'variant',
  'fullScale',
  'levelPercent',
  'tolerance',
  'indexValue',
  'ieAtLevel',
  'seAtLevel',
  'fixedTolerance',
  'errorAreaFraction',
  'errorAreaPx',
  'ieAtFixed',
  'mae',
  'maxError',
  'signalThreshold',
  'signalFraction',
  'signalMean',
] as const;

/** Columns of the `curves` table (one row per tolerance level; `level` in % of the bit depth). */
export const TOLERANCE_CURVE_COLUMNS = ['level', 'tolerance', 'ie', 'se', 'sum', 'errorPx'] as const;

export const toleranceIndexParams = z.strictObject({
  variant: z.enum(TOLERANCE_VARIANTS).default('literal').describe("Reading of the paper's Eq. 7 (docs/metrics.md): 'literal' (Methods: IE = mean |O−G| within tolerance / full scale, SE = fraction of pixels beyond; no interior minimum), 'signal-normalised' (Discussion: IE / the ground truth's mean signal, SE / its signal area), 'signal-tolerance' (IE = the tolerance / mean signal, SE / signal area; has an interior minimum)"),
  fullScale: z.number().positive().max(3.4e38).optional().describe('Full scale of the bit depth, intensity units (tolerances are 0 … 99 % of it); default: 255 for uint8, 65535 for uint16 references; required for float32. Give 4095 for 12-bit data in 16-bit files'),
  weightIntensity: z.number().min(0).max(1e6).default(1).describe('β1, the weight of the intensity error IE'),
  weightArea: z.number().min(0).max(1e6).default(1).describe('β2, the weight of the area error SE'),
  signalThreshold: z.number().min(-3.4e38).max(3.4e38).optional().describe("Ground-truth pixels above it are signal (Ω_s, for the signal variants' mean signal and area), intensity units; default: Otsu's threshold of the ground truth"),
  fixedTolerance8bit: z.number().min(0).max(255).default(50).describe('Tolerance of the error mask and the fixed-tolerance error area, on the 8-bit scale (50 = the paper\'s green mask at 50/255), scaled to the full scale'),
});

function fullScaleOf(reference: Image, given: number | undefined): number {
  if (given !== undefined) return given;
  const s = dtypeFullScale(reference.data);
  if (s === undefined) {
    throw new FocalError('E_PARAMS', `fullScale: the reference is ${reference.dtype}, which has no bit depth; give fullScale (e.g. 1 for data in 0 … 1)`, { field: 'fullScale' });
  }
  return s;
}

/** The reference stretched to grey (min … max) with the error pixels bright green, as RGB planes. */
function overlayPlanes(reference: Image, mask: Uint8Array): Uint8Array[] {
  const n = mask.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = reference.data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const scale = max > min ? 255 / (max - min) : 0;
  const r = new Uint8Array(n);
  const g = new Uint8Array(n);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (mask[i]) {
      g[i] = 255;
    } else {
      const v = Math.round((reference.data[i] - min) * scale);
      r[i] = v;
      g[i] = v;
      b[i] = v;
    }
  }
  return [r, g, b];
}

export const toleranceIndexOp = defineOperation({
  id: 'metrics.tolerance-index',
  title: 'Tolerance-level error index',
  description:
    "VirFluoNet's tolerance-level index of a predicted image against its ground truth: intensity error IE(t), segmented-area error SE(t) and their weighted sum over tolerances 0 … 99 % of the bit depth, the tolerance level (argmin) and index value, the error area at a fixed tolerance (50/255, the paper's green mask), the error map and the error mask. Three readings of the paper's ambiguous formula (`variant`).",
  inputs: {
    image: { type: 'image', description: 'The predicted image O' },
    reference: { type: 'image', description: 'Ground truth G of the same size' },
  },
  outputs: {
    summary: { type: 'table', description: 'One row: variant, fullScale, levelPercent (the tolerance level TL, % of the bit depth), tolerance (intensity units), indexValue (S at TL), ieAtLevel, seAtLevel, fixedTolerance, errorAreaFraction, errorAreaPx, ieAtFixed, mae, maxError, signalThreshold, signalFraction, signalMean' },
    curves: { type: 'table', description: 'One row per tolerance level: level (% of the bit depth), tolerance (intensity units), ie, se, sum (β1·IE + β2·SE), errorPx (pixels beyond the tolerance)' },
    error: { type: 'image', description: 'The error map |O − G| (float32, intensity units; previews show it in viridis with a colour bar)' },
    mask: { type: 'image', description: 'Error mask at the fixed tolerance: 255 where |O − G| > tolerance, else 0 (uint8)' },
    overlay: { type: 'stack', description: 'RGB figure: the ground truth in grey (min … max) with the error pixels bright green, as in the paper' },
  },
  params: toleranceIndexParams,
  run(ctx, { image, reference }, params) {
    assertSameSize(image, reference, ['image', 'reference']);
    assertNoNaNPort(image, 'image');
    assertNoNaNPort(reference, 'reference');
    const fullScale = fullScaleOf(reference, params.fullScale);
    const signalThreshold = params.signalThreshold ?? otsuThreshold(reference.data);
    let result;
    try {
      result = toleranceIndex(image.data, reference.data, { fullScale, variant: params.variant, weightIntensity: params.weightIntensity, weightArea: params.weightArea, signalThreshold });
    } catch (e) {
      if (e instanceof FocalError && e.code === 'E_ARGUMENT' && e.details?.field === 'signalThreshold') {
        throw new FocalError('E_PARAMS', `${e.message}${params.signalThreshold === undefined ? ' (the default is Otsu\'s threshold of the reference)' : ''}`, { field: 'signalThreshold' }, { cause: e });
      }
      throw e;
    }
    ctx.progress(0.8);
    const fixedTolerance = (params.fixedTolerance8bit / 255) * fullScale;
    const fixed = fixedToleranceError(image.data, reference.data, fixedTolerance, fullScale);
    const i = result.argmin;
    if (params.variant === 'literal' && result.maxError < result.tolerance[result.tolerance.length - 1] && result.tolerance[i] >= result.maxError) {
      ctx.log.info(`tolerance level ${result.levelAtMinPercent} % is the first tolerance above the largest error (${result.maxError}), as the literal reading always gives: its index value is MAE / fullScale; compare models by the curves and errorAreaFraction`);
    }
    const summary = createTable([...TOLERANCE_SUMMARY_COLUMNS], [
      {
        variant: result.variant,
        fullScale,
        levelPercent: result.levelAtMinPercent,
        tolerance: result.tolerance[i],
        indexValue: result.indexValue,
        ieAtLevel: result.ie[i],
        seAtLevel: result.se[i],
        fixedTolerance,
        errorAreaFraction: fixed.errorFraction,
        errorAreaPx: fixed.errorPx,
        ieAtFixed: fixed.ie,
        mae: result.mae,
        maxError: result.maxError,
        signalThreshold,
        signalFraction: result.signalFraction ?? null,
        signalMean: result.signalMean ?? null,
      },
    ]);
    const curves = createTable(
      [...TOLERANCE_CURVE_COLUMNS],
      Array.from(result.levelPercent, (level, k) => ({ level, tolerance: result.tolerance[k], ie: result.ie[k], se: result.se[k], sum: result.sum[k], errorPx: result.errorPx[k] })),
    );
    // the images only when something takes them (ctx.wants; without it, all)
    const wants = (port: string) => ctx.wants?.(port) ?? true;
    let error: Image | undefined;
    let mask: Image | undefined;
    let overlay: Stack | undefined;
    if (wants('error')) {
      error = createImage({ width: image.width, height: image.height, data: Float32Array.from(absoluteDifference(image.data, reference.data)), calibration: reference.calibration, metadata: { valueMap: { quantity: 'absolute error |O − G|' } } });
    }
    if (wants('mask')) mask = createImage({ width: image.width, height: image.height, data: fixed.mask, calibration: reference.calibration });
    if (wants('overlay')) overlay = createStack({ width: image.width, height: image.height, dtype: 'uint8', sizeC: 3, planes: overlayPlanes(reference, fixed.mask), rgb: true, calibration: reference.calibration });
    ctx.progress(1);
    // images nobody wants are left out (ctx.wants); the executor accepts that, as for cellcount.count
    return { summary, curves, error: error!, mask: mask!, overlay: overlay! };
  },
});
