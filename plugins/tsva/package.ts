/**
 * TSVA model packages (core's model-package format): the manifest records the architecture,
 * the training families, the ΔD distribution, the shot offset and the optics, and the loss
 * curve, so a package says what it was trained for.
 */
import { FocalError, z } from '../../core/index.js';
import { inferenceWorkingBytes, loadModelPackage, saveModelPackage, unetActivationFloats, unetReachPx, type ModelPackage } from '../../core/ml.js';
import { TSVA_ARCHS, TsvaNetSchema, unetOptionsFor, usesBothShots, type TsvaArch, type TsvaNetOptions } from './model.js';
import { TRAIN_RECIPE } from './recipes.js';
import { DEFAULT_OPTICS, DEFAULT_PROTOCOL, TsvaFocusRuleSchema, TsvaNoiseSchema, TsvaOpticsSchema, TsvaProtocolSchema } from './simulate.js';
import type { HistoryRow } from './train.js';

/** Version of the packages this code writes: 0.7.0 = 0.6.0 fine-tuned on 192 px patches (tile interiors, not only borders: see docs/tsva.md, How much of a tile the network sees); 0.6.0 = the varied half also under a uniform absorber (dark, even fields); 0.5.0 = half the training sections re-stained (other stains than H&E) and cut 1–5 µm thick; 0.4.0 = also trained on softened sections (0.3.0: in-focus plane by Brenner, frozen BN; 0.2.0: the section's mid-plane, z-stack noise; 0.1.0: independent noise). */
export const TSVA_PACKAGE_VERSION = '0.7.0';

/**
 * The tiling a new package records (tsva.refocus and tsva.slide use it unless told `tileSize` /
 * `overlapPx`): a halo of the network's reach (core's `unetReachPx`: how far an input pixel can
 * change an output pixel; 66 px for the demo's base 8, 3 levels, 2 convs; 138 px with 4 levels),
 * rounded up to the network's multiple, so a tiled run equals one pass over the whole image;
 * tiles of TSVA_TILE_PX, or six halos where the network reaches further (the halo is work thrown
 * away: 512 px tiles with a 72 px halo keep 52 % of it, 864 px with 144 px 44 %).
 *
 * The shipped packages (0.6.0, and 0.7.0 after it) record 512 px with a 48 px halo, chosen by
 * measurement before this rule: an impulse changes their networks' output up to 59 px away (the
 * bound is 66), but beyond 48 px by so little that a tiled run is within 5e-3/255 of one pass
 * (0.6.0 TSVA 4.8e-3/255 at 48 px, 0.6/255 at 40 px; 0.7.0 TSVA 1.9e-3/255 at 48 px, 0.22/255
 * at 40; the 32 px that 0.6.0 and earlier packages first recorded: 9/255), and 512/48 took
 * 1.34–1.35 s per scanner tile instead of 3.72–4.05 s with 128/32 (two runs of bench/tsva.ts,
 * onnxruntime, 2 threads).
 */
export const TSVA_TILE_PX = 512;

export function tsvaTiling(arch: TsvaArch, net: TsvaNetOptions): { tilePx: number; haloPx: number } {
  const m = 2 ** net.levels;
  const roundUp = (v: number) => Math.ceil(v / m) * m;
  const haloPx = roundUp(unetReachPx(unetOptionsFor(arch, net)));
  return { tilePx: Math.max(TSVA_TILE_PX, roundUp(6 * haloPx)), haloPx };
}

/**
 * What running a package's network in tiles of `tilePx` holds beside the image, bytes: its
 * onnxruntime session and the tensors of one tile (core's inferenceWorkingBytes). TSVA demo,
 * 512 px tiles: 209 floats a pixel, 257 MiB; measured 31 + 208 MiB (bench/network-memory.ts).
 */
export function tsvaWorkingBytes(meta: Pick<TsvaMeta, 'arch' | 'net' | 'residual'>, tilePx: number): number {
  return inferenceWorkingBytes({ activationFloats: unetActivationFloats(unetOptionsFor(meta.arch, meta.net, undefined, meta.residual !== false)), tilePx });
}

/** The TSVA-specific part of the manifest (`extra.tsva`). */
export const TsvaMetaSchema = z.object({
  arch: z.enum(TSVA_ARCHS),
  net: TsvaNetSchema,
  trainingFamilies: z.array(z.string()),
  protocol: TsvaProtocolSchema,
  /** Noise of the training data (absent in packages made before the option existed: those had 'independent'). */
  noise: TsvaNoiseSchema.optional(),
  /** The training data's in-focus plane: 'brenner' (the paper's rule) or 'mid-plane'; absent: 'mid-plane' (packages ≤ 0.2.0). */
  focus: TsvaFocusRuleSchema.optional(),
  optics: TsvaOpticsSchema,
  patchPx: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  learningRate: z.number().positive(),
  trainPatches: z.number().int().nonnegative(),
  valPatches: z.number().int().nonnegative(),
  bestIteration: z.number().int(),
  /** The package a fine-tuning run started from (name, version and weights hash); absent when trained from random weights. */
  initFrom: z.string().optional(),
  /** 'mse' (the paper) or 'psnr' (minus the per-patch PSNR; not the paper); absent: 'mse'. */
  loss: z.enum(['mse', 'psnr']).optional(),
  /** How batch normalisation ran while learning (`--batch-norm`): 'frozen' on its moving averages, 'joint' on batch statistics of both shots together; absent: 'batch'. */
  batchNorm: z.enum(['batch', 'joint', 'frozen']).optional(),
  /** false: the no-residual ablation (`--residual off`: Y1 is not added to the output); absent: true, the paper's network. */
  residual: z.boolean().optional(),
  /** Specimen softness of the training data: σ ~ U(0, this) µm per tile (`--softness`); absent: none. */
  softnessMaxUm: z.number().min(0).optional(),
  /** Fraction of the training tiles re-stained with random stain pairs and cut 1–5 µm thick (`--variety`); absent: none (all H&E, 3–4 µm). */
  varietyFraction: z.number().min(0).max(1).optional(),
  /** The varied tiles' uniform absorber: optical density ~ U(0, this) (`--uniform-od`); absent: none. */
  uniformOdMax: z.number().min(0).max(2).optional(),
  history: z.array(z.object({
    iteration: z.number(), trainMse: z.number().nullable(), valMse: z.number(), seconds: z.number(),
    trainPsnr: z.number().optional(), valPsnr: z.number().optional(),
  })),
});
export type TsvaMeta = z.infer<typeof TsvaMetaSchema>;

export interface SaveTsvaPackageOptions {
  arch: TsvaArch;
  net: TsvaNetOptions;
  model: import('@tensorflow/tfjs').LayersModel;
  history: HistoryRow[];
  bestIteration: number;
  iterations: number;
  batchSize: number;
  trainPatches: number;
  valPatches: number;
  command: string;
  /** The weights the run started from (`--init-from`), as the trainer names them. */
  initFrom?: string;
  /** The training loss (default 'mse'). */
  loss?: 'mse' | 'psnr';
  /** Adam's learning rate (default 5e-4, the paper's). */
  learningRate?: number;
  /** How batch normalisation ran while learning (default 'batch'). */
  batchNorm?: 'batch' | 'joint' | 'frozen';
  /** The training data's recipe (default the demo's TRAIN_RECIPE). */
  recipe?: typeof TRAIN_RECIPE;
  /** Y1 added to the output (default true); false for the no-residual ablation. */
  residual?: boolean;
  /** The manifest's name (default {@link defaultTsvaPackageName}). */
  name?: string;
}

const PACKAGE_NAMES: Record<TsvaArch, string> = { tsva: 'tsva-demo', unet: 'tsva-unet-baseline-demo', 'early-fusion': 'tsva-early-fusion-ablation' };

/**
 * A package's name when the run gives none: the shipped model's for its arch ('tsva-demo',
 * 'tsva-unet-baseline-demo'; 'tsva-early-fusion-ablation'), and `<that>-no-residual` for the
 * no-residual ablation, which is never the shipped network.
 */
export function defaultTsvaPackageName(arch: TsvaArch, residual = true): string {
  return residual ? PACKAGE_NAMES[arch] : `${PACKAGE_NAMES[arch]}-no-residual`;
}
const PACKAGE_DESCRIPTIONS: Record<TsvaArch, string> = {
  tsva: 'TSVA (two shots at F ± s → in-focus RGB), demo scale, trained on simulated he-gland H&E',
  unet: 'U-Net baseline of TSVA (the sharper shot Y1 → in-focus RGB), same size and training as tsva-demo',
  'early-fusion': 'early-fusion ablation of TSVA (not the paper\'s): the baseline U-Net with Y1 and Y2 as six input channels',
};

export async function saveTsvaPackage(dir: string, o: SaveTsvaPackageOptions): Promise<ModelPackage> {
  const recipe = o.recipe ?? TRAIN_RECIPE;
  const meta: TsvaMeta = {
    arch: o.arch, net: o.net, trainingFamilies: [recipe.family], protocol: recipe.protocol ?? DEFAULT_PROTOCOL, noise: recipe.noise ?? 'stack', focus: recipe.focus ?? 'mid-plane', optics: DEFAULT_OPTICS, patchPx: recipe.patchPx,
    batchSize: o.batchSize, learningRate: o.learningRate ?? 5e-4, trainPatches: o.trainPatches, valPatches: o.valPatches, bestIteration: o.bestIteration, ...(o.initFrom !== undefined ? { initFrom: o.initFrom } : {}), ...(o.loss !== undefined ? { loss: o.loss } : {}), ...(o.batchNorm !== undefined ? { batchNorm: o.batchNorm } : {}), ...(o.residual === false ? { residual: false } : {}), ...(recipe.softnessMaxUm ? { softnessMaxUm: recipe.softnessMaxUm } : {}), ...(recipe.varietyFraction ? { varietyFraction: recipe.varietyFraction } : {}), ...(recipe.uniformOdMax ? { uniformOdMax: recipe.uniformOdMax } : {}), history: o.history,
  };
  const m = 2 ** o.net.levels;
  const inputs = { channels: o.net.colourChannels, axes: 'YXC' as const, channelNames: usesBothShots(o.arch) ? ['Y1 R', 'Y1 G', 'Y1 B', 'Y2 R', 'Y2 G', 'Y2 B'] : ['Y1 R', 'Y1 G', 'Y1 B'], normalisation: { kind: 'scale-linear' as const, offset: 0, gain: 1 } };
  return saveModelPackage(dir, {
    tfModel: o.model,
    manifest: {
      name: o.name ?? defaultTsvaPackageName(o.arch, o.residual !== false),
      version: TSVA_PACKAGE_VERSION,
      task: usesBothShots(o.arch) ? 'two-shot-refocus' : 'single-shot-refocus',
      description: `${recipe.varietyFraction ? PACKAGE_DESCRIPTIONS[o.arch].replace('simulated he-gland H&E', `simulated he-gland sections (${Math.round(100 * (1 - recipe.varietyFraction))} % H&E 3–4 µm thick, ${Math.round(100 * recipe.varietyFraction)} % other stains 1–5 µm${recipe.uniformOdMax ? `, under a uniform absorber of OD up to ${recipe.uniformOdMax}` : ''})`) : PACKAGE_DESCRIPTIONS[o.arch]}${recipe.protocol && recipe.protocol.shotOffsetUm !== DEFAULT_PROTOCOL.shotOffsetUm ? `, shots at F ± ${recipe.protocol.shotOffsetUm} µm` : ''}${o.residual === false ? '; ablation without the residual +Y1' : ''}`,
      license: 'MIT',
      tags: ['tsva', 'brightfield', 'H&E', 'refocus', ...(recipe.varietyFraction ? ['stain-varied'] : [])],
      inputs: { ...inputs, channels: inputs.channelNames.length },
      outputs: { channels: o.net.colourChannels, axes: 'YXC', channelNames: ['R', 'G', 'B'] },
      pixelSizeUm: DEFAULT_OPTICS.pixelSizeUm,
      objectiveNa: DEFAULT_OPTICS.na,
      trainedDefocusRangeUm: [-DEFAULT_PROTOCOL.deltaDMaxUm, DEFAULT_PROTOCOL.deltaDMaxUm],
      ...tsvaTiling(o.arch, o.net),
      multipleOf: m,
      training: { command: o.command, data: `simulated ${recipe.family} (${JSON.stringify(recipe)})`, iterations: o.iterations, date: new Date().toISOString().slice(0, 10) },
      extra: { tsva: meta },
    },
  });
}

/** A TSVA package and its validated metadata. */
export async function loadTsvaPackage(dir: string): Promise<{ pkg: ModelPackage; meta: TsvaMeta }> {
  const pkg = await loadModelPackage(dir);
  const parsed = TsvaMetaSchema.safeParse((pkg.manifest.extra ?? {}).tsva);
  if (!parsed.success) throw new FocalError('E_MANIFEST', `model: ${dir} is not a TSVA package (extra.tsva: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`, { field: 'model', file: dir });
  return { pkg, meta: parsed.data };
}
