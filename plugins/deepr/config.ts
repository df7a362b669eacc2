/**
 * Deep-R's training configuration: one zod schema, the source of the fields, their defaults
 * and their validation. {@link trainDeepR} parses its options with it (`z.input` is what a
 * caller gives, `z.output` what a run records in checkpoint/state.json), and the CLI's
 * `focal train deepr` options (trainer.ts) reuse its field schemas, so a default is written once.
 * Light: no tfjs (the CLI imports it to list its flags).
 */
import { FocalError, z } from '../../core/index.js';
import { msSsimScalesFor } from '../../core/ml.js';

const POSITIVE = 'must be a positive integer';
const NON_NEGATIVE = 'must be an integer ≥ 0';
const NON_NEGATIVE_NUMBER = 'must be a number ≥ 0';
const UNIT_FRACTION = 'must be a number in (0, 1]';

const positiveInt = () => z.number({ error: POSITIVE }).int({ error: POSITIVE }).min(1, { error: POSITIVE });
/** An integer ≥ 0 (an iteration: 0 means never, or from the start). */
export const nonNegativeInt = () => z.number({ error: NON_NEGATIVE }).int({ error: NON_NEGATIVE }).min(0, { error: NON_NEGATIVE });
const nonNegativeNumber = () => z.number({ error: NON_NEGATIVE_NUMBER }).min(0, { error: NON_NEGATIVE_NUMBER });
/** A number in (0, 1]: a learning rate or a decay factor. */
export const unitFraction = () => z.number({ error: UNIT_FRACTION }).gt(0, { error: UNIT_FRACTION }).max(1, { error: UNIT_FRACTION });

/** Weights of the generator loss (λ adversarial, ν MS-SSIM, ξ BerHu; plugins/deepr/docs/deepr.md explains the defaults). */
export const LossWeightsSchema = z.object({
  /** λ, least-squares adversarial term (1 − D(G(x)))² (0: no discriminator, pixel losses only). */
  adversarial: nonNegativeNumber().default(0.4),
  /** ν, structural term 1 − MS-SSIM(y, G(x)). */
  msSsim: nonNegativeNumber().default(1),
  /** ξ, BerHu(y, G(x)). */
  berhu: nonNegativeNumber().default(0.5),
  /**
   * Weight of an added single-scale term 1 − SSIM(y, G(x)) (not in the paper; 0 or absent: off).
   * MS-SSIM gives the finest scale only 4.5 % of its exponent; this term weights fine structure.
   */
  ssim: nonNegativeNumber().optional(),
});
export type LossWeights = z.output<typeof LossWeightsSchema>;
/** Default λ, ν, ξ. */
export const DEFAULT_LOSS_WEIGHTS: LossWeights = LossWeightsSchema.parse({});

/** The fields of {@link deeprTrainingConfig}, each with its default and its own check. */
export const deeprTrainingFields = z.object({
  /** Iterations to reach (total, including those of a resumed run). */
  iterations: positiveInt(),
  /** Channels of the first U-Net level (paper: 32). */
  baseChannels: positiveInt().default(32),
  /** U-Net levels (pooling steps). */
  levels: positiveInt().default(5),
  /** Training patch side, px (multiple of 2^levels). */
  patchPx: positiveInt().default(256),
  batchSize: positiveInt().default(5),
  generatorUpdates: positiveInt().default(6),
  discriminatorUpdates: positiveInt().default(3),
  generatorLearningRate: unitFraction().default(5e-4),
  discriminatorLearningRate: unitFraction().default(1e-6),
  /**
   * Step decay: after each of these iterations (ascending) both learning rates are multiplied by
   * the matching `learningRateDecayFactor` (0 or []: constant rates, the paper's schedule). A step
   * at or after a checkpoint's iteration can be added when resuming: the iterations already
   * trained are unchanged. Parsed: the steps as an array, 0 dropped.
   */
  learningRateDecayAt: z.union([nonNegativeInt(), z.array(nonNegativeInt()).readonly()]).default([]),
  /** Factor of each decay step, in (0, 1]: one value for every step, or one per step. Parsed: one per step. */
  learningRateDecayFactor: z.union([unitFraction(), z.array(unitFraction()).readonly()]).default(0.1),
  /**
   * Iterations after this one drop the adversarial term (λ = 0) and do not update the
   * discriminator: a pixel-loss fine-tuning phase (0: never, the paper's schedule). Like the
   * decay, it can be added when resuming at or before it.
   */
  adversarialOffAt: nonNegativeInt().default(0),
  /**
   * With `lossWeights.ssim` > 0: iterations after this one add the term ssim·(1 − SSIM) to the
   * generator loss (0: from the start). Like the decay, it can be added when resuming at or
   * before it.
   */
  ssimTermAfter: nonNegativeInt().default(0),
  /**
   * Weight averaging (stochastic weight averaging, Izmailov et al. 2018; not in the paper): from
   * the first validation after this iteration, the generator's weights at each validation are
   * added to an equal-weight running mean, and that mean is what is validated and may become the
   * best generator; training itself continues from the raw weights (0: off). Like the decay, it
   * can be added when resuming at or before it.
   */
  averageAfter: nonNegativeInt().default(0),
  /**
   * Which validation score picks the best generator: 'berhu' (lowest mean BerHu, the paper's rule)
   * or 'ssim' (highest mean single-scale SSIM, the index the evaluation reports). Changing it when
   * resuming starts the choice afresh from the checkpoint's generator.
   */
  bestBy: z.enum(['berhu', 'ssim'], { error: "must be 'berhu' or 'ssim'" }).default('berhu'),
  /** Validate (and checkpoint) every this many iterations. */
  validateEvery: positiveInt().default(50),
  lossWeights: LossWeightsSchema.prefault({}),
  /** MS-SSIM scales (default: the most the patch allows, ≤ 5). */
  msSsimScales: positiveInt().optional(),
  /** Seed of the weights, the sampling and the augmentation. */
  seed: nonNegativeInt().default(1),
});

type Fields = z.output<typeof deeprTrainingFields>;
const asList = (v: number | readonly number[]): number[] => (typeof v === 'number' ? [v] : [...v]);

/** Cross-field checks: decay steps and factors, the patch against the levels, the MS-SSIM scales against the patch. */
function checkConfig(c: Fields, ctx: z.RefinementCtx): void {
  const steps = asList(c.learningRateDecayAt);
  const at = steps.filter((v) => v !== 0);
  if (at.length !== steps.length && steps.length > 1) ctx.addIssue({ code: 'custom', path: ['learningRateDecayAt'], message: '0 (no decay) cannot be combined with steps' });
  else if (at.some((v, i) => i > 0 && v <= at[i - 1])) ctx.addIssue({ code: 'custom', path: ['learningRateDecayAt'], message: 'steps must be strictly ascending' });
  if (typeof c.learningRateDecayFactor !== 'number' && c.learningRateDecayFactor.length !== at.length) {
    ctx.addIssue({ code: 'custom', path: ['learningRateDecayFactor'], message: `${c.learningRateDecayFactor.length} factors for ${at.length} decay steps (give one factor, or one per step)` });
  }
  const mult = 2 ** c.levels;
  if (c.patchPx % mult !== 0) ctx.addIssue({ code: 'custom', path: ['patchPx'], params: { field: 'patch' }, message: `not a multiple of ${mult} (2^levels)` });
  else if (c.msSsimScales !== undefined && c.msSsimScales > msSsimScalesFor(c.patchPx)) {
    ctx.addIssue({ code: 'custom', path: ['msSsimScales'], message: `${c.patchPx}-px patches allow at most ${msSsimScalesFor(c.patchPx)} MS-SSIM scales` });
  }
}

/**
 * Deep-R's training configuration (Methods, "Network structure, training and validation": GAN
 * with 6 generator and 3 discriminator updates per iteration, Adam 5e-4 / 1e-6, batch 5,
 * validation every 50 iterations, best model by validation BerHu). Its output, in this key
 * order, is the `config` of checkpoint/state.json.
 */
export const deeprTrainingConfig = deeprTrainingFields.superRefine(checkConfig).transform((c) => {
  const at = asList(c.learningRateDecayAt).filter((v) => v !== 0);
  const f = c.learningRateDecayFactor;
  return {
    iterations: c.iterations,
    baseChannels: c.baseChannels,
    levels: c.levels,
    patchPx: c.patchPx,
    batchSize: c.batchSize,
    generatorUpdates: c.generatorUpdates,
    discriminatorUpdates: c.discriminatorUpdates,
    generatorLearningRate: c.generatorLearningRate,
    discriminatorLearningRate: c.discriminatorLearningRate,
    /** Decay steps, ascending (none: []). */
    learningRateDecayAt: at,
    /** One factor per step. */
    learningRateDecayFactor: typeof f === 'number' ? at.map(() => f) : [...f],
    adversarialOffAt: c.adversarialOffAt,
    ssimTermAfter: c.ssimTermAfter,
    averageAfter: c.averageAfter,
    bestBy: c.bestBy,
    validateEvery: c.validateEvery,
    lossWeights: c.lossWeights,
    msSsimScales: c.msSsimScales ?? msSsimScalesFor(c.patchPx),
    seed: c.seed,
  };
});
export type DeepRTrainingConfigInput = z.input<typeof deeprTrainingConfig>;
export type DeepRTrainingConfig = z.output<typeof deeprTrainingConfig>;

/** Error fields that differ from the config's path (the names the kit's resume checks and the CLI use). */
const ERROR_FIELDS: Record<string, string> = {
  'lossWeights.adversarial': 'adversarialWeight',
  'lossWeights.msSsim': 'msSsimWeight',
  'lossWeights.berhu': 'berhuWeight',
  'lossWeights.ssim': 'ssimWeight',
};

const shown = (v: unknown): string => (Array.isArray(v) ? v.join(',') : typeof v === 'string' ? `'${v}'` : String(v));

/**
 * Parses a training configuration (extra keys, such as trainDeepR's runtime options, are left out).
 * @throws FocalError `E_ARGUMENT` `<field>: <problem>, got <value>` with `details.field`.
 */
export function parseTrainingConfig(input: DeepRTrainingConfigInput): DeepRTrainingConfig {
  const r = deeprTrainingConfig.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String);
  const field = (issue.code === 'custom' ? (issue.params?.field as string | undefined) : undefined) ?? ERROR_FIELDS[path.join('.')] ?? path[0] ?? 'config';
  let value: unknown = input;
  for (const k of path) value = (value as Record<string, unknown> | undefined)?.[k];
  throw new FocalError('E_ARGUMENT', `${field}: ${issue.message}, got ${shown(value)}`, { field });
}
