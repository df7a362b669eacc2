/**
 * The `extra` of the staining plugin's cascade packages (task 'staining-cascade'), declared as its
 * `modelExtras` contribution: the link to the staining (G_VS) package the cascade was trained
 * against. Other keys (architecture, losses, training record) are kept as written. The staining
 * packages' own task, 'virtual-staining', is shared with VirFluoNet's packages, so neither plugin
 * declares it. Light: zod only.
 */
import { z } from '../../core/index.js';
import { defineModelExtras } from '../../core/ml.js';

/** The staining package a cascade names: name, version and the sha256 of its tfjs weights shard. */
export const StainingLinkSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  /** sha256 of the staining package's tfjs weights shard (weights.bin). */
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits' }),
});
export type StainingLink = z.output<typeof StainingLinkSchema>;

/** `extra` of a cascade (G_DR) package. */
export const stainingCascadeExtras = defineModelExtras({
  task: 'staining-cascade',
  description: 'Cascade (G_DR) package: the staining package it was trained against (stainingPackage), checked when the cascade is opened',
  schema: z.looseObject({ stainingPackage: StainingLinkSchema.optional() }),
});
