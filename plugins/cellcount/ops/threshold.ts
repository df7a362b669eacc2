import { FocalError, createTable, defineOperation, planeCount, planePosition, throwIfAborted, withPlanes, z, type Cell, type PixelArray, type Stack } from '../../../core/index.js';
import { THRESHOLD_METHODS, applyThreshold, thresholdLimits, type ThresholdLimits, type ThresholdMethod } from '../threshold.js';

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

type ThresholdParams = z.infer<typeof thresholdParams>;

function checkParams(p: ThresholdParams): void {
  if (p.method === 'manual') {
    for (const f of ['lower', 'upper'] as const) {
      if (typeof p[f] !== 'number' || Number.isNaN(p[f])) throw new FocalError('E_PARAMS', `${f}: method 'manual' needs numeric lower and upper limits`, { field: f });
    }
    if (p.lower! > p.upper!) throw new FocalError('E_PARAMS', `lower: ${p.lower} is above upper ${p.upper}`, { field: 'lower' });
  } else if (p.lower !== undefined || p.upper !== undefined) {
    const field = p.lower !== undefined ? 'lower' : 'upper';
    throw new FocalError('E_PARAMS', `${field}: lower/upper are only used with method 'manual' (method is '${p.method}')`, { field });
  }
}

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
    checkParams(params);
    const total = planeCount(stack);
    let shared: ThresholdLimits | undefined;
    if (params.method === 'manual') shared = { lower: params.lower!, upper: params.upper!, threshold: NaN };
    else if (params.stackHistogram && total > 1) {
      shared = thresholdLimits(concat(stack.planes), stack.dtype, params.method as ThresholdMethod, { darkBackground: params.darkBackground });
    }
    const planes: Uint8Array[] = [];
    const rows: Record<string, Cell>[] = [];
    for (let i = 0; i < total; i++) {
      throwIfAborted(ctx.signal);
      const lim = shared ?? thresholdLimits(stack.planes[i], stack.dtype, params.method as ThresholdMethod, { darkBackground: params.darkBackground });
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
});
