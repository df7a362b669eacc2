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
    /** Trainers (`focal train <id>`); absent: none. */
    trainers: z.array(TrainerManifestSchema).optional(),
  })
  .superRefine((m, ctx) => {
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
    ...(plugin.trainers?.length ? { trainers: plugin.trainers.map(manifestFromTrainer) } : {}),
  };
}
