/**
 * The autofocus dataset format (docs/autofocus-dataset.md): one zod schema for a FOV folder's
 * manifest.json and for the pair-table columns a trainer reads, used by the writer
 * (`dataset.autofocus-pairs`, plugins/dataset) and by every reader (Deep-R's, plugins/deepr).
 * It lives in core because the writer and the readers are different plugins.
 */
import { z } from 'zod';

export const AUTOFOCUS_DATASET_FORMAT = 'focal-autofocus-pairs';
export const AUTOFOCUS_DATASET_VERSION = 1;

const count = z.number().int().nonnegative();

/** manifest.json of one FOV folder. Fields a reader needs are required; the rest is provenance. */
export const AutofocusDatasetManifestSchema = z.looseObject({
  format: z.literal(AUTOFOCUS_DATASET_FORMAT),
  version: z.literal(AUTOFOCUS_DATASET_VERSION),
  /** File names inside the folder. */
  files: z.object({
    inputs: z.string().min(1).default('inputs.tif'),
    targets: z.string().min(1).default('targets.tif'),
    pairs: z.string().min(1).default('pairs.csv'),
  }).default({ inputs: 'inputs.tif', targets: 'targets.tif', pairs: 'pairs.csv' }),
  /** Side of the square patches, px. */
  patchPx: z.number().int().positive(),
  zStepUm: z.number().positive(),
  pixelSizeUm: z.number().positive().optional(),
  pairs: count.optional(),
  targets: count.optional(),
  patches: count.optional(),
  droppedPatches: z.array(z.object({ patch: count, x: count, y: count, focusZ: count })).optional(),
  dtype: z.string().optional(),
  channel: count.optional(),
  channelName: z.string().optional(),
  defocusRangeUm: z.tuple([z.number(), z.number()]).optional(),
  defocusSign: z.string().optional(),
  focusSelection: z.string().optional(),
  focusCriterion: z.string().optional(),
  normalisation: z.string().optional(),
  source: z.object({ width: count, height: count, sizeZ: count, sizeC: count }).optional(),
});
export type AutofocusDatasetManifest = z.output<typeof AutofocusDatasetManifestSchema>;
export type AutofocusDatasetManifestInput = z.input<typeof AutofocusDatasetManifestSchema>;

/** The pair-table columns a trainer uses (plane indices into inputs.tif and targets.tif, defocus in µm); other columns are provenance. */
export const AutofocusPairRowSchema = z.object({
  pair: count,
  target: count,
  defocusUm: z.number(),
});
export type AutofocusPairRow = z.output<typeof AutofocusPairRowSchema>;
