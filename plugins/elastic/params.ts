/**
 * The params schema of elastic.register / elastic.coregister: the single source of the
 * registration defaults. registerElastic (the numeric API) fills every option a caller leaves
 * out from ELASTIC_DEFAULTS, which is this schema parsed from {}.
 *
 * Defaults tuned on the tuning part of the registration test set (plugins/elastic/testset.ts,
 * bench/registration-elastic-tune.ts) — never on the held-out families the benchmark reports;
 * the sweep and its numbers are in docs/elastic.md.
 */
import { z } from '../../core/index.js';

/**
 * Default bending weight per metric: the metrics' costs have different scales, and on the
 * tuning part MI was most accurate with a 10× larger weight than SSD (docs/elastic.md). ncc was
 * not in the sweep and keeps the earlier default.
 */
export const BENDING_WEIGHT_DEFAULTS: Readonly<Record<'ssd' | 'ncc' | 'mi', number>> = Object.freeze({ ssd: 100, ncc: 100, mi: 1000 });

const BENDING_DEFAULTS_TEXT = `ssd ${BENDING_WEIGHT_DEFAULTS.ssd}, ncc ${BENDING_WEIGHT_DEFAULTS.ncc}, mi ${BENDING_WEIGHT_DEFAULTS.mi}`;

/** Params shared by elastic.register and elastic.coregister. */
export const registrationFields = {
  metric: z.enum(['ssd', 'ncc', 'mi']).default('ssd').describe('Similarity: ssd (same modality), ncc (linear intensity change), mi (Mattes mutual information, multimodal)'),
  gridSpacingPx: z.number().min(2).max(4096).default(16).describe('Control-point spacing of the finest B-spline grid, px (doubles at each coarser level)'),
  levels: z.number().int().min(1).max(10).default(3).describe('Pyramid levels (1 = full resolution only); the coarsest level must keep ≥ 16 px'),
  bendingWeight: z
    .number()
    .min(0)
    .max(1e9)
    .optional()
    .describe(`Weight of the bending energy (mean of uxx² + 2uxy² + uyy² over the knots, px⁻²) added to the metric; default by metric: ${BENDING_DEFAULTS_TEXT}`),
  iterations: z.number().int().min(0).max(10000).default(100).describe('Maximum L-BFGS iterations per pyramid level'),
  tolerance: z.number().min(0).max(1).default(1e-4).describe('A level stops when the cost fell by less than this fraction over the last 5 iterations'),
  bins: z.number().int().min(8).max(256).default(32).describe('Histogram bins for metric mi'),
  maxSamples: z
    .number()
    .int()
    .min(0)
    .max(4294967296)
    .default(0)
    .refine((v) => v === 0 || v >= 256, 'give 0 (every pixel) or at least 256')
    .describe('Most fixed pixels the metric uses per level (a larger level is evaluated on a regular subgrid, faster, a little less accurate); 0 = every pixel'),
};

/** The default bending weight for a metric. */
export function defaultBendingWeight(metric: 'ssd' | 'ncc' | 'mi'): number {
  return BENDING_WEIGHT_DEFAULTS[metric];
}

export type RegistrationParams = z.infer<z.ZodObject<typeof registrationFields>>;

/** Every default of the schema above. */
export const ELASTIC_DEFAULTS: Readonly<RegistrationParams> = Object.freeze(z.object(registrationFields).parse({}));
