import { z } from 'zod';
import { PORT_TYPES, type AnyOperationDef, type AnyTrainerDef, type PluginDef, type PortType } from './contract.js';

/**
 * The static manifest of a plugin: everything the host needs to list a plugin's
 * operations and validate pipelines that use them, without running its code.
 * Third-party packages carry it as the `focal` field of their package.json;
 * for built-in plugins it is generated from the code (`manifestFromPlugin`).
 */
export const OP_ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*\.[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
export const PLUGIN_ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export const PortSpecSchema = z.object({
  type: z.enum(PORT_TYPES as unknown as [PortType, ...PortType[]]),
  description: z.string().optional(),
  optional: z.boolean().optional(),
});

export const OperationManifestSchema = z.object({
  id: z.string().regex(OP_ID_PATTERN, 'operation ids look like "plugin.op-name"'),
  title: z.string().min(1),
  description: z.string(),
  inputs: z.record(z.string(), PortSpecSchema),
  outputs: z.record(z.string(), PortSpecSchema),
  /** JSON Schema (draft 2020-12) of the params object, generated from the op's zod schema. */
  params: z.record(z.string(), z.unknown()),
});
export type OperationManifest = z.infer<typeof OperationManifestSchema>;

// --- contribution points: readers, models, sampleData, pipelines, modelExtras ---------------------------
/**
 * What a plugin contributes besides operations. Each point is a zod schema here (the single
 * source of its types) and one optional array field of the manifest, listed in
 * `contributionFields`; the generated built-in manifests and `focal plugins` carry them.
 * Paths are relative to the plugin's package folder (for built-ins: Focal's package root).
 * `readers` (`ReaderDef.open`) and `modelExtras` (a zod schema) have code (core/plugin/contract.ts),
 * imported with the plugin on first use; the others are data.
 */
export const CONTRIBUTION_ID_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const contributionId = z.string().regex(CONTRIBUTION_ID_PATTERN, 'contribution ids are lower-case words joined by "-"');

/** A path inside the plugin's package folder: relative, with no `..` segment. */
const packagePath = z
  .string()
  .min(1)
  .refine((p) => !/^([/\\]|[A-Za-z]:)/.test(p) && !p.split(/[/\\]/).includes('..'), 'paths are relative to the plugin package folder, without ".."');

/** A name pattern inside a dataset folder: a file or folder name, `*` matching any run of characters. */
const namePattern = z.string().min(1).regex(/^[^/\\]+$/, 'folder patterns are single names (no "/"), with * as a wildcard');

/** A file or dataset-folder format the plugin reads into a stack. */
export const ReaderContributionSchema = z
  .object({
    id: contributionId,
    description: z.string(),
    /** Lower-case file extensions with the dot (`.pgm`): files with one of them are read by this reader. */
    extensions: z.array(z.string().regex(/^\.[a-z0-9]+(\.[a-z0-9]+)*$/, 'extensions are lower-case and start with a dot, e.g. ".pgm"')).min(1).optional(),
    /**
     * A dataset folder is read by this reader when, for every pattern, some entry of the folder
     * matches it (e.g. `["NDTiff.index"]`): decided from names alone, without importing code.
     */
    folder: z.object({ contains: z.array(namePattern).min(1) }).optional(),
  })
  .refine((r) => r.extensions !== undefined || r.folder !== undefined, { message: 'a reader needs "extensions", "folder" or both', path: ['extensions'] });
export type ReaderContribution = z.infer<typeof ReaderContributionSchema>;

/** A file or folder the plugin ships: a model package, a sample image or dataset, an example pipeline. */
export const BundledFileSchema = z.object({
  id: contributionId,
  description: z.string(),
  path: packagePath,
});
export type BundledFile = z.infer<typeof BundledFileSchema>;

/**
 * The schema of the `extra` of a model task's manifests (core/ml/model-extras.ts): the task it
 * belongs to and, for people and tools, its JSON Schema. The code (`ModelExtrasDef.schema`, zod)
 * is what validates; the host resolves a task to its plugin from the manifests and imports that
 * plugin when a package of the task is loaded.
 */
export const ModelExtrasContributionSchema = z.object({
  /** The model manifest `task` (one plugin per task in a host). */
  task: contributionId,
  description: z.string(),
  /** JSON Schema of `extra` as written in a manifest, generated from the zod schema. */
  schema: z.record(z.string(), z.unknown()),
});
export type ModelExtrasContribution = z.infer<typeof ModelExtrasContributionSchema>;

/** The contribution fields of a plugin manifest (each optional; absent = none). */
export const contributionFields = {
  readers: z.array(ReaderContributionSchema).optional(),
  /** Bundled model packages (folders holding a model manifest). */
  models: z.array(BundledFileSchema).optional(),
  /** Bundled sample images or datasets. */
  sampleData: z.array(BundledFileSchema).optional(),
  /** Example pipeline files. */
  pipelines: z.array(BundledFileSchema).optional(),
  /** Schemas of the `extra` of the model tasks the plugin owns. */
  modelExtras: z.array(ModelExtrasContributionSchema).optional(),
};
export const ContributionsSchema = z.object(contributionFields);
export type ContributionPoint = keyof typeof contributionFields;
/** The contribution points, in the order `focal plugins` lists them. */
export const CONTRIBUTION_POINTS = Object.keys(contributionFields) as ContributionPoint[];
/** Every contribution point of one plugin, present and possibly empty. */
export type Contributions = { [K in ContributionPoint]-?: NonNullable<z.infer<typeof ContributionsSchema>[K]> };

/** A plugin's contributions with every point present (empty when it declares none). */
export function contributionsOf(m: z.infer<typeof ContributionsSchema>): Contributions {
  return Object.fromEntries(CONTRIBUTION_POINTS.map((point) => [point, structuredClone(m[point] ?? [])])) as Contributions;
}

type AnyContribution = Contributions[ContributionPoint][number];
/** What names a contribution within its point: its id (a model-extras contribution: its task). */
export function contributionKey(c: AnyContribution): string {
  return 'task' in c ? c.task : c.id;
}

/** Duplicate contribution ids within one point, as zod issues at `<point>.<index>.id`. */
function checkContributionIds(m: z.infer<typeof ContributionsSchema>, ctx: z.RefinementCtx): void {
  for (const point of CONTRIBUTION_POINTS) {
    const seen = new Set<string>();
    const key = point === 'modelExtras' ? 'task' : 'id';
    (m[point] ?? []).forEach((c, i) => {
      const id = contributionKey(c);
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: [point, i, key], message: `${point} ${key} '${id}' appears twice` });
      seen.add(id);
    });
  }
}
// --- end of contribution points ------------------------------------------------------------
export const TrainerManifestSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*(\.[a-z][a-z0-9]*(-[a-z0-9]+)*)?$/, 'trainer ids look like "plugin" or "plugin.name"'),
  description: z.string(),
  /** JSON Schema of the options (as given), generated from the trainer's zod schema; each property carries its CLI `flags`. */
  options: z.record(z.string(), z.unknown()),
});
export type TrainerManifest = z.infer<typeof TrainerManifestSchema>;

export const PluginManifestSchema = z
  .object({
    id: z.string().regex(PLUGIN_ID_PATTERN, 'plugin ids are lower-case words joined by "-"'),
    version: z.string().min(1),
    description: z.string(),
    /** semver range of Focal's core this plugin works with, e.g. "^0.1.0". */
    engine: z.string().optional(),
    /** Module that default-exports the plugin (relative to the package folder). */
    entry: z.string().optional(),
    operations: z.array(OperationManifestSchema),
    // contribution points (readers, models, sampleData, pipelines, modelExtras): see contributionFields
    ...contributionFields,
    /** Trainers (`focal train <id>`); absent: none. */
    trainers: z.array(TrainerManifestSchema).optional(),
  })
  .superRefine((m, ctx) => {
    checkContributionIds(m, ctx);
    m.operations.forEach((op, i) => {
      if (!op.id.startsWith(`${m.id}.`)) {
        ctx.addIssue({ code: 'custom', path: ['operations', i, 'id'], message: `operation id '${op.id}' must start with '${m.id}.'` });
      }
    });
    (m.trainers ?? []).forEach((t, i) => {
      if (t.id !== m.id && !t.id.startsWith(`${m.id}.`)) {
        ctx.addIssue({ code: 'custom', path: ['trainers', i, 'id'], message: `trainer id '${t.id}' must be '${m.id}' or start with '${m.id}.'` });
      }
    });
  });
export type PluginManifest = z.infer<typeof PluginManifestSchema>;

/** JSON Schema of an op's params as the pipeline author writes them (defaults make fields optional). */
export function paramsJsonSchema(op: AnyOperationDef): Record<string, unknown> {
  return z.toJSONSchema(op.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

export function manifestFromOperation(op: AnyOperationDef): OperationManifest {
  return {
    id: op.id,
    title: op.title,
    description: op.description,
    inputs: structuredClone(op.inputs),
    outputs: structuredClone(op.outputs),
    params: paramsJsonSchema(op),
  };
}

/** A trainer's manifest: id, description and the JSON Schema of its options (flags kept from the fields' meta). */
export function manifestFromTrainer(t: AnyTrainerDef): TrainerManifest {
  return { id: t.id, description: t.description, options: z.toJSONSchema(t.options, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown> };
}

export function manifestFromPlugin(plugin: PluginDef): PluginManifest {
  return {
    id: plugin.id,
    version: plugin.version,
    description: plugin.description,
    operations: plugin.operations.map(manifestFromOperation),
    ...contributionManifests(plugin),
    ...(plugin.trainers?.length ? { trainers: plugin.trainers.map(manifestFromTrainer) } : {}),
  };
}

/** The manifest entries of a plugin's contributions (readers without their code); points it has none of are left out. */
export function contributionManifests(plugin: PluginDef): z.infer<typeof ContributionsSchema> {
  const out: z.infer<typeof ContributionsSchema> = {};
  if (plugin.readers?.length) {
    out.readers = plugin.readers.map(({ id, description, extensions, folder }) => ({
      id,
      description,
      ...(extensions ? { extensions: [...extensions] } : {}),
      ...(folder ? { folder: { contains: [...folder.contains] } } : {}),
    }));
  }
  if (plugin.models?.length) out.models = plugin.models.map(({ id, description, path }) => ({ id, description, path }));
  if (plugin.sampleData?.length) out.sampleData = plugin.sampleData.map(({ id, description, path }) => ({ id, description, path }));
  if (plugin.pipelines?.length) out.pipelines = plugin.pipelines.map(({ id, description, path }) => ({ id, description, path }));
  if (plugin.modelExtras?.length) out.modelExtras = plugin.modelExtras.map(({ task, description, schema }) => ({ task, description, schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown> }));
  return out;
}
