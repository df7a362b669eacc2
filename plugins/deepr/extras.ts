/**
 * The `extra` of Deep-R's model manifests (tasks 'autofocus' and 'defocus-map', the DPM decoder
 * nested in `<model>/dpm/`), declared as the plugin's `modelExtras` contribution: a package of
 * these tasks loaded through {@link loadDeepRPackage} (or the host) has it validated and typed.
 * Keys not named here are kept (z.looseObject). Light: zod only.
 */
import { z } from '../../core/index.js';
import { defineModelExtras } from '../../core/ml.js';

const family = z.string().regex(/^[a-z0-9-]+$/, { error: 'must be a specimen family name (lower-case words joined by "-")' });

/** What both Deep-R tasks record about the generator and its training (package.ts `manifestFor`). */
const trainingRecord = {
  /** Channels of the first U-Net level. */
  baseChannels: z.number().int().min(1),
  /** U-Net levels. */
  levels: z.number().int().min(1),
  /** Training patch side, px. */
  patchPx: z.number().int().min(1),
  /** Iteration of the kept generator. */
  bestIteration: z.number().int().min(0),
  /** Its validation BerHu. */
  bestValidationBerhu: z.number(),
  /** Its validation SSIM, where measured. */
  bestValidationSsim: z.number().optional(),
  /** The validation score that chose it (absent: 'berhu'). */
  bestBy: z.enum(['berhu', 'ssim']).optional(),
  /** The model the generator was fine-tuned from (`focal train deepr --init-from`). */
  initFrom: z.string().optional(),
  /** Specimen-library families the synthetic sources came from. */
  trainingFamilies: z.array(family).optional(),
  /** Families kept out of training for the generalisation evaluation. */
  heldOutFamilies: z.array(family).optional(),
};

/** `extra` of a Deep-R autofocus package. */
export const deeprAutofocusExtras = defineModelExtras({
  task: 'autofocus',
  description: 'Deep-R autofocus package: generator architecture and training record, the nested DPM package (dpm) and the recommended ensemble',
  schema: z.looseObject({
    ...trainingRecord,
    /** Folder of the nested DPM decoder package, relative to this package (package.ts `dpmFolder` checks it stays inside). */
    dpm: z.string().min(1).optional(),
    /** Recommended inference: one pass, or the mean over the 8 flips/rotations (deepr.autofocus's default). */
    ensemble: z.enum(['none', 'dihedral8']).optional(),
  }),
});
export type DeepRAutofocusExtras = z.output<typeof deeprAutofocusExtras.schema>;

/** `extra` of a Deep-R DPM decoder package. */
export const deeprDpmExtras = defineModelExtras({
  task: 'defocus-map',
  description: "Deep-R DPM decoder package: the autofocus generator's record and what the decoder outputs (dpmTarget)",
  schema: z.looseObject({
    ...trainingRecord,
    /** The signed defocus Δz (default) or its magnitude |Δz|. */
    dpmTarget: z.enum(['signed', 'absolute']).optional(),
  }),
});
export type DeepRDpmExtras = z.output<typeof deeprDpmExtras.schema>;
