/**
 * VirFluoNet model packages (core's model-package format). `extra.virfluonet` records what a
 * person needs to use the model right: the input channels with their stains, the target, the
 * [−1, 1] map of every channel (the op applies it and inverts it on the output), the optics and
 * the family the model was trained on, the network, the loss weights and the best iteration.
 */
import { FocalError, z } from '../../core/index.js';
import { multiChannelFamilyByName } from '../../core/specimens.js';
import { loadModelPackage, saveModelPackage, type ModelPackage } from '../../core/ml.js';
import { VirFluoNetSchema, type VirFluoNetOptions } from './model.js';
import { ChannelMapSchema, MAP_PERCENTILES, type ChannelMap } from './normalise.js';
import { LEARNING_RATE, LOSS_WEIGHTS } from './train.js';

const ChannelSchema = z.object({ name: z.string().min(1), stains: z.string(), wavelengthUm: z.number().positive() });

export const VirFluoNetMetaSchema = z.object({
  mode: z.enum(['virtual-stain', 'autofocus']),
  family: z.string(),
  inputs: z.array(ChannelSchema).min(1),
  target: ChannelSchema,
  normalisation: z.object({
    percentiles: z.tuple([z.number(), z.number()]),
    inputs: z.array(ChannelMapSchema).min(1),
    target: ChannelMapSchema,
  }),
  optics: z.object({ pixelSizeUm: z.number().positive(), na: z.number().positive(), refractiveIndex: z.number().min(1) }),
  /** Autofocus mode: the input defocus values trained on, µm. */
  defocusUm: z.array(z.number()).optional(),
  net: VirFluoNetSchema,
  patchPx: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  learningRate: z.number().positive(),
  lossWeights: z.object({ mae: z.number(), adversarial: z.number(), weights: z.number() }),
  trainFields: z.number().int().nonnegative(),
  validationFields: z.number().int().nonnegative(),
  fieldPx: z.number().int().positive(),
  seeds: z.object({ train: z.tuple([z.number(), z.number()]), validation: z.tuple([z.number(), z.number()]) }),
  bestIteration: z.number().int(),
  bestValidationMae: z.number(),
});
export type VirFluoNetMeta = z.infer<typeof VirFluoNetMetaSchema>;

export interface SaveOptions {
  name: string;
  version: string;
  family: string;
  inputs: string[];
  target: string;
  maps: { inputs: ChannelMap[]; target: ChannelMap };
  optics: { pixelSizeUm: number; na: number; refractiveIndex: number };
  defocusUm?: number[];
  net: VirFluoNetOptions;
  patchPx: number;
  batchSize: number;
  fieldPx: number;
  trainSeeds: [number, number];
  validationSeeds: [number, number];
  bestIteration: number;
  bestValidationMae: number;
  iterations: number;
  command: string;
  exportOnnx?: boolean;
}

export async function saveVirFluoNetPackage(dir: string, model: import('@tensorflow/tfjs').LayersModel, o: SaveOptions): Promise<ModelPackage> {
  const fam = multiChannelFamilyByName(o.family);
  const info = (c: string) => {
    const ch = fam.channels.find((q) => q.name === c)!;
    return { name: ch.name, stains: ch.stains, wavelengthUm: ch.wavelengthUm };
  };
  const autofocus = o.defocusUm !== undefined;
  const meta: VirFluoNetMeta = {
    mode: autofocus ? 'autofocus' : 'virtual-stain', family: o.family, inputs: o.inputs.map(info), target: info(o.target),
    normalisation: { percentiles: MAP_PERCENTILES, inputs: o.maps.inputs, target: o.maps.target }, optics: o.optics, ...(autofocus ? { defocusUm: o.defocusUm } : {}),
    net: o.net, patchPx: o.patchPx, batchSize: o.batchSize, learningRate: LEARNING_RATE, lossWeights: { ...LOSS_WEIGHTS },
    trainFields: o.trainSeeds[1] - o.trainSeeds[0] + 1, validationFields: o.validationSeeds[1] - o.validationSeeds[0] + 1, fieldPx: o.fieldPx,
    seeds: { train: o.trainSeeds, validation: o.validationSeeds }, bestIteration: o.bestIteration, bestValidationMae: o.bestValidationMae,
  };
  const m = 2 ** o.net.levels;
  const tilePx = Math.max(m, 128 - (128 % m));
  const dz = o.defocusUm ?? [0];
  return saveModelPackage(dir, {
    tfModel: model,
    exportOnnx: o.exportOnnx ?? true,
    manifest: {
      name: o.name,
      version: o.version,
      task: autofocus ? 'autofocus' : 'virtual-staining',
      description: autofocus
        ? `VirFluoNet autofocus: defocused ${o.target} (${dz.join(', ')} µm) → in-focus ${o.target}, simulated ${o.family}, demo scale`
        : `VirFluoNet: ${o.inputs.join(' + ')} → ${o.target} (${info(o.target).stains}), simulated ${o.family}, demo scale`,
      license: 'MIT',
      tags: ['virfluonet', 'virtual-staining', 'cgan', o.family],
      // the per-channel [−1, 1] maps are in extra.virfluonet.normalisation (one linear map per channel; the op applies them)
      inputs: { channels: o.inputs.length, axes: 'YXC', channelNames: o.inputs, normalisation: { kind: 'none' } },
      outputs: { channels: 1, axes: 'YXC', channelNames: [o.target] },
      pixelSizeUm: o.optics.pixelSizeUm,
      objectiveNa: o.optics.na,
      trainedDefocusRangeUm: [Math.min(...dz), Math.max(...dz)],
      tilePx,
      haloPx: tilePx / 8,
      multipleOf: m,
      training: { command: o.command, data: `simulated ${o.family} fields (${o.fieldPx}² px), training seeds ${o.trainSeeds.join('–')}, validation seeds ${o.validationSeeds.join('–')}`, iterations: o.iterations, date: new Date().toISOString().slice(0, 10) },
      extra: { virfluonet: meta },
    },
  });
}

export async function loadVirFluoNetPackage(dir: string): Promise<{ pkg: ModelPackage; meta: VirFluoNetMeta }> {
  const pkg = await loadModelPackage(dir);
  const parsed = VirFluoNetMetaSchema.safeParse((pkg.manifest.extra ?? {}).virfluonet);
  if (!parsed.success) throw new FocalError('E_MANIFEST', `model: ${dir} is not a VirFluoNet package (extra.virfluonet: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`, { field: 'model', file: dir });
  return { pkg, meta: parsed.data };
}
