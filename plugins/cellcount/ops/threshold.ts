import { FocalError, createTable, defineOperation, planeCount, planePosition, throwIfAborted, withPlanes, z, type Cell, type PixelArray, type Stack } from '../../../core/index.js';
import { THRESHOLD_METHODS, applyThreshold, thresholdLimits, type ThresholdLimits } from '../threshold.js';

/**
 * Throws E_PORT for an RGB stack given to an op that works on grey planes.
 * @throws FocalError `E_PORT`
 */
export function requireGrey(stack: Stack, opId: string, port = 'stack'): void {
  if (stack.rgb) {
    throw new FocalError(
      'E_PORT',
      `${opId}: input '${port}' is an RGB colour image; this operation needs grey planes — convert it first with cellcount.rgb-to-grey or cellcount.colour-deconvolution`,
      { port },
    );
  }
}

const METHOD_NAMES = [...THRESHOLD_METHODS, 'manual'] as const;

export const thresholdParams = z
  .strictObject({
    method: z.enum(METHOD_NAMES).default('Default').describe("ImageJ auto-threshold method (Image › Adjust › Threshold), or 'manual' with lower/upper"),
    darkBackground: z.boolean().default(true).describe('True: objects are brighter than the background (ImageJ\'s "dark"); false: darker objects'),
    lower: z.number().min(-3.4e38).max(3.4e38).optional().describe("Manual lower limit in pixel units (inclusive); only with method 'manual'"),
    upper: z.number().min(-3.4e38).max(3.4e38).optional().describe("Manual upper limit in pixel units (inclusive); only with method 'manual'"),
    stackHistogram: z.boolean().default(false).describe('Compute one threshold from the histogram of all planes together (ImageJ\'s "stack histogram") instead of one per plane'),
  })
  .superRefine((p, ctx) => {
    if (p.method === 'manual') {
      if (p.lower === undefined) ctx.addIssue({ code: 'custom', path: ['lower'], message: "method 'manual' needs lower and upper" });
      if (p.upper === undefined) ctx.addIssue({ code: 'custom', path: ['upper'], message: "method 'manual' needs lower and upper" });
      if (p.lower !== undefined && p.upper !== undefined && p.lower > p.upper) ctx.addIssue({ code: 'custom', path: ['lower'], message: 'lower must not exceed upper' });
    } else if (p.lower !== undefined || p.upper !== undefined) {
      ctx.addIssue({ code: 'custom', path: [p.lower !== undefined ? 'lower' : 'upper'], message: "lower/upper are only used with method 'manual'" });
    }
  });

function concat(planes: PixelArray[]): PixelArray {
  const n = planes.reduce((a, p) => a + p.length, 0);
  const first = planes[0];
  const out = new (first.constructor as { new (n: number): PixelArray })(n);
  let o = 0;
  for (const p of planes) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const thresholdOp = defineOperation({
  id: 'cellcount.threshold',
  title: 'Threshold',
  description:
    "Binary mask from ImageJ's automatic threshold methods (same names and results as setAutoThreshold in ImageJ 1.53t; 16/32-bit images thresholded on a 256-bin histogram over [min, max]) or manual limits.",
  inputs: { stack: { type: 'stack', description: 'Grey image or hyperstack (uint8, uint16 or float32)' } },
  outputs: {
    mask: { type: 'stack', description: 'uint8 mask, 255 where lower ≤ value ≤ upper, else 0; same shape and calibration' },
    threshold: { type: 'table', description: 'Limits used per plane: plane, lower, upper (pixel units; ImageJ reports ±1e30 for open 32-bit ends)' },
  },
  params: thresholdParams,
  run(ctx, { stack }, params) {
    requireGrey(stack, 'cellcount.threshold');
    const total = planeCount(stack);
    const method = params.method;
    // the schema's refinement guarantees lower and upper with 'manual'
    const limitsOf = (data: PixelArray): ThresholdLimits =>
      method === 'manual' ? { lower: params.lower!, upper: params.upper!, threshold: NaN } : thresholdLimits(data, stack.dtype, method, { darkBackground: params.darkBackground });
    const shared = method === 'manual' ? limitsOf(stack.planes[0]) : params.stackHistogram && total > 1 ? limitsOf(concat(stack.planes)) : undefined;
    const planes: Uint8Array[] = [];
    const rows: Record<string, Cell>[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      const lim = shared ?? limitsOf(stack.planes[i]);
      planes.push(applyThreshold(stack.planes[i], lim.lower, lim.upper));
      const { c, z: zi, t } = planePosition(stack, i);
      rows.push({ plane: i, c, z: zi, t, lower: lim.lower, upper: lim.upper });
      ctx.progress((i + 1) / total);
    }
    ctx.log.debug('threshold', { method: params.method, darkBackground: params.darkBackground, first: rows[0] });
    const mask = withPlanes(stack, planes);
    mask.metadata = { ...mask.metadata, threshold: { method: params.method, darkBackground: params.darkBackground } };
    return { mask, threshold: createTable(['plane', 'c', 'z', 't', 'lower', 'upper'], rows) };
  },
  // manual limits make it a point operation; an automatic method needs the plane's histogram
  tiling: ({ method }) => (method === 'manual' ? { haloPx: 0, dtype: 'uint8', output: 'mask' } : undefined),
});
