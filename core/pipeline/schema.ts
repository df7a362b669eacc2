import { z } from 'zod';
import { PORT_TYPES, type PortType } from '../plugin/contract.js';
import type { OperationCatalog } from '../plugin/catalog.js';

/**
 * The pipeline document: a JSON file naming its inputs, a graph of operation nodes
 * and the outputs to keep. This zod schema is the single source of the pipeline's
 * TypeScript types and of its JSON Schema (`pipelineJsonSchema`).
 *
 * Every object is strict: an unknown key (a typo such as `param` for `params`) is an
 * error rather than silently ignored.
 */

/** Node ids, input and output names: a letter, then letters, digits, `_` or `-`; no dots. */
export const PIPELINE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** A pipeline input name, or `node.port`. */
export const PIPELINE_REF_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)?$/;

const NAME_MESSAGE = 'names start with a letter and contain only letters, digits, "_" and "-" (no dots)';

const NameSchema = z.string().regex(PIPELINE_NAME_PATTERN, NAME_MESSAGE);

export const PortRefSchema = z
  .string()
  .regex(PIPELINE_REF_PATTERN, 'a reference is a pipeline input name ("stack") or a node output ("mip.image")')
  .meta({
    description: 'A pipeline input name (no dot), or `node.port` for an output port of a node.',
    examples: ['stack', 'mip.image'],
  });

export const PortTypeSchema = z.enum(PORT_TYPES as unknown as [PortType, ...PortType[]]).meta({
  description: 'Kind of value: image (one plane), stack (c/z/t hyperstack), table, model (a model package) or json.',
});

export const PipelineInputSchema = z
  .strictObject({
    type: PortTypeSchema,
    description: z.string().optional().meta({ description: 'What the input is.' }),
    default: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'File used when the input is not given on the command line; relative to the pipeline file\'s folder.' }),
  })
  .meta({ title: 'Pipeline input', description: 'A value the pipeline is given when it runs, usually loaded from a file.' });

export const PipelineNodeSchema = z
  .strictObject({
    op: z.string().min(1).meta({ description: 'Operation id, `<plugin>.<operation>` (`focal plugins` lists them).', examples: ['stack.project'] }),
    in: z
      .record(z.string().min(1), PortRefSchema)
      .default({})
      .meta({ description: 'Input port of the operation → the value it is fed: a pipeline input name or `node.port`.' }),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: 'Parameters of the operation; omitted ones take their defaults.' }),
  })
  .meta({ title: 'Pipeline node', description: 'One step: an operation applied to values produced by pipeline inputs or other nodes.' });

export const PipelineSchema = z
  .strictObject({
    $schema: z.string().optional().meta({ description: 'JSON Schema of this document, for editors; ignored by Focal.' }),
    name: z.string().min(1).meta({ description: 'Short name of the pipeline.' }),
    description: z.string().optional().meta({ description: 'What the pipeline does.' }),
    inputs: z
      .record(NameSchema, PipelineInputSchema)
      .default({})
      .meta({ description: 'Named values the pipeline is given when it runs.' }),
    nodes: z
      .record(NameSchema, PipelineNodeSchema)
      .default({})
      .meta({ description: 'Operation nodes by id. All nodes run, in dependency order; independent nodes run concurrently.' }),
    outputs: z
      .record(NameSchema, PortRefSchema)
      .refine((r) => Object.keys(r).length > 0, 'a pipeline needs at least one output')
      .meta({ description: 'Results to keep: output name → a pipeline input name or `node.port`.', minProperties: 1 }),
  })
  .meta({ title: 'Focal pipeline', description: 'A Focal image-processing pipeline: inputs, a graph of operation nodes, and outputs.' });

/** A validated pipeline (defaults filled: `inputs`, `nodes` and each node's `in` are present). */
export type Pipeline = z.infer<typeof PipelineSchema>;
/** A pipeline as written (before defaults are filled). */
export type PipelineDocument = z.input<typeof PipelineSchema>;
export type PipelineNode = Pipeline['nodes'][string];
export type PipelineInput = Pipeline['inputs'][string];

/** A parsed reference: a pipeline input, or an output port of a node. */
export type PortRef = { kind: 'input'; input: string } | { kind: 'node'; node: string; port: string };

export function parseRef(ref: string): PortRef {
  const dot = ref.indexOf('.');
  return dot < 0 ? { kind: 'input', input: ref } : { kind: 'node', node: ref.slice(0, dot), port: ref.slice(dot + 1) };
}

type JsonObject = Record<string, unknown>;

/**
 * JSON Schema (draft 2020-12) of pipeline documents, for editors and `focal schema`.
 *
 * With a catalog, node `op` lists the known operation ids and, for each op, an
 * `if`/`then` rule describes its input ports and its params (from the op's manifest),
 * so editors complete and check parameters too.
 */
export function pipelineJsonSchema(catalog?: OperationCatalog): JsonObject {
  const schema = z.toJSONSchema(PipelineSchema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonObject;
  if (!catalog) return schema;

  const nodes = (schema.properties as JsonObject).nodes as JsonObject;
  const node = nodes.additionalProperties as JsonObject;
  const nodeProps = node.properties as JsonObject;
  const ids = catalog.ids();
  const defs: JsonObject = { ...((schema.$defs as JsonObject | undefined) ?? {}) };
  const rules: JsonObject[] = [];
  for (const id of ids) {
    const manifest = catalog.get(id)?.manifest;
    if (!manifest) continue;
    const ports: JsonObject = {};
    for (const [port, spec] of Object.entries(manifest.inputs)) {
      ports[port] = {
        type: 'string',
        description: `${spec.type}${spec.optional ? ', optional' : ''}${spec.description ? `: ${spec.description}` : ''}`,
      };
    }
    const required = Object.entries(manifest.inputs).filter(([, s]) => !s.optional).map(([p]) => p);
    rules.push({
      if: { properties: { op: { const: id } }, required: ['op'] },
      then: {
        description: `${manifest.title}: ${manifest.description}`,
        properties: {
          in: { properties: ports, additionalProperties: false, ...(required.length ? { required } : {}) },
          params: embedSchema(manifest.params, `${id}.params`, defs),
        },
        ...(required.length ? { required: ['in'] } : {}),
      },
    });
  }
  nodeProps.op = { ...(nodeProps.op as JsonObject), enum: ids };
  if (rules.length) node.allOf = rules;
  if (Object.keys(defs).length) schema.$defs = defs;
  return schema;
}

/**
 * Prepares a standalone JSON Schema to be nested in the pipeline schema: drops its
 * `$schema`/`$id`, moves its `$defs` into the root's under prefixed names and rewrites
 * local `$ref`s (including a self-reference `#`) to point there.
 */
function embedSchema(source: JsonObject, prefix: string, rootDefs: JsonObject): JsonObject {
  const { $schema: _s, $id: _i, $defs, definitions, ...rest } = source as JsonObject & { $defs?: JsonObject; definitions?: JsonObject };
  const localDefs: JsonObject = { ...((definitions as JsonObject | undefined) ?? {}), ...(($defs as JsonObject | undefined) ?? {}) };
  const defName = (name: string) => `${prefix}.${name}`;
  let selfReferenced = false;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value as JsonObject)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#')) {
        const m = /^#\/(?:\$defs|definitions)\/([^/]+)(\/.*)?$/.exec(v);
        if (m) out[k] = `#/$defs/${escapePointer(defName(unescapePointer(decodeURIComponent(m[1]))))}${m[2] ?? ''}`;
        else {
          // '#' or '#/properties/...': a pointer into the params schema itself.
          selfReferenced = true;
          out[k] = `#/$defs/${escapePointer(prefix)}${v.slice(1)}`;
        }
      } else out[k] = rewrite(v);
    }
    return out;
  };
  const body = rewrite(rest) as JsonObject;
  for (const [name, def] of Object.entries(localDefs)) rootDefs[defName(name)] = rewrite(def);
  if (selfReferenced) {
    rootDefs[prefix] = body;
    return { $ref: `#/$defs/${escapePointer(prefix)}` };
  }
  return body;
}

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
