import type { z } from 'zod';
import { FocalError } from '../errors.js';
import { safeParseParams } from '../plugin/params.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import { portAccepts, type PortSpec, type PortType } from '../plugin/contract.js';
import {
  escapePointer, parseRef, PIPELINE_REF_PATTERN, PipelineInputSchema, PipelineNodeSchema, PipelineSchema,
  type Pipeline,
} from './schema.js';

export type PipelineProblemCode =
  /** The document does not have the shape of a pipeline (missing or misspelt keys, wrong types, bad names). */
  | 'E_SCHEMA'
  /** A node names an operation that no installed plugin provides. */
  | 'E_OP_NOT_FOUND'
  /** A node connects an input port its operation does not have, or a reference names an output port that does not exist. */
  | 'E_PORT_UNKNOWN'
  /** A connection feeds a value of one type into a port of another. */
  | 'E_PORT_TYPE'
  /** A required input port of a node's operation is not connected. */
  | 'E_INPUT_MISSING'
  /** A reference names a pipeline input or node that does not exist. */
  | 'E_REF'
  /** Nodes depend on each other in a cycle. */
  | 'E_CYCLE'
  /** A node's params fail its operation's parameter schema. */
  | 'E_PARAMS';

/**
 * Output names a pipeline may not use (compared case-insensitively, as some file systems do):
 * `run` would write `run.json`, the provenance record every run writes beside its outputs.
 */
export const RESERVED_OUTPUT_NAMES: readonly string[] = ['run'];

export interface PipelineProblem {
  code: PipelineProblemCode;
  /** JSON pointer (RFC 6901) into the document, e.g. `/nodes/blur/params/sigmaPx`; `''` is the whole document. */
  pointer: string;
  /** Node id, when the problem is in a node. */
  node?: string;
  /** The parameter, port, input or output concerned (a param path is dot-joined: `roi.width`). */
  field?: string;
  message: string;
}

export interface ValidationResult {
  /** The parsed pipeline (defaults filled), only when there are no problems. */
  pipeline?: Pipeline;
  problems: PipelineProblem[];
}

export interface ValidateOptions {
  /** The file the document came from; `assertValidPipeline` names it in its error (problems themselves carry pointers only). */
  file?: string;
}

type Key = PropertyKey;

export function pointerOf(path: readonly Key[]): string {
  return path.map((k) => `/${escapePointer(String(k))}`).join('');
}

/**
 * Checks a pipeline document against its schema and the operation catalog, and
 * reports every problem found (not only the first): shape errors, unknown operations,
 * ports and references, port type mismatches, unconnected required inputs, cycles
 * and invalid params. `pipeline` is set only when `problems` is empty.
 */
export function validatePipeline(doc: unknown, catalog: OperationCatalog, _options: ValidateOptions = {}): ValidationResult {
  const problems: PipelineProblem[] = [];
  const parsed = PipelineSchema.safeParse(doc);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...schemaProblems(issue));
  }
  problems.push(...semanticProblems(doc, catalog));
  if (problems.length > 0) return { problems };
  return { pipeline: parsed.data, problems };
}

/** One line per problem: `<file> <pointer>: <message>` (the pointer `/` stands for the whole document). */
export function formatProblems(problems: readonly PipelineProblem[], file?: string): string[] {
  return problems.map((p) => `${file ? `${file} ` : ''}${p.pointer || '/'}: ${p.message}`);
}

/** Validates and returns the pipeline, or throws FocalError('E_PIPELINE') with `details.problems`. */
export function assertValidPipeline(doc: unknown, catalog: OperationCatalog, options: ValidateOptions = {}): Pipeline {
  const { pipeline, problems } = validatePipeline(doc, catalog, options);
  if (pipeline) return pipeline;
  throw pipelineError(problems, options.file);
}

export function pipelineError(problems: PipelineProblem[], file?: string): FocalError {
  const what = file ?? 'the pipeline';
  const summary = problems.length === 1
    ? `${what} is not a valid pipeline: ${formatProblems(problems)[0]}`
    : `${what} is not a valid pipeline (${problems.length} problems)`;
  return new FocalError('E_PIPELINE', summary, { ...(file !== undefined ? { file } : {}), problems });
}

// ---------------------------------------------------------------------------------------------
// Schema (shape) problems

const KNOWN_KEYS: { match: (path: readonly Key[]) => boolean; keys: string[] }[] = [
  { match: (p) => p.length === 0, keys: Object.keys(PipelineSchema.shape) },
  { match: (p) => p.length === 2 && p[0] === 'inputs', keys: Object.keys(PipelineInputSchema.shape) },
  { match: (p) => p.length === 2 && p[0] === 'nodes', keys: Object.keys(PipelineNodeSchema.shape) },
];

function nodeOf(path: readonly Key[]): string | undefined {
  return path[0] === 'nodes' && path.length >= 2 ? String(path[1]) : undefined;
}

function problem(code: PipelineProblemCode, path: readonly Key[], message: string, field?: string): PipelineProblem {
  const node = nodeOf(path);
  return { code, pointer: pointerOf(path), ...(node !== undefined ? { node } : {}), ...(field !== undefined ? { field } : {}), message };
}

function schemaProblems(issue: z.core.$ZodIssue): PipelineProblem[] {
  const path = issue.path as Key[];
  if (issue.code === 'unrecognized_keys') {
    const known = KNOWN_KEYS.find((k) => k.match(path))?.keys ?? [];
    return issue.keys.map((key) => {
      const hint = didYouMean(key, known);
      return problem('E_SCHEMA', [...path, key], `unknown key '${key}'${hint}${known.length && !hint ? ` (allowed: ${known.join(', ')})` : ''}`, key);
    });
  }
  let message = issue.message;
  if (issue.code === 'invalid_key') {
    message = `invalid name '${String(path[path.length - 1])}': ${issue.issues.map((i) => i.message).join('; ')}`;
  } else if (issue.code === 'invalid_type' && issue.input === undefined && path.length > 0) {
    message = `'${String(path[path.length - 1])}' is required`;
  }
  return [problem('E_SCHEMA', path, message, path.length > 0 ? String(path[path.length - 1]) : undefined)];
}

// ---------------------------------------------------------------------------------------------
// Semantic problems, checked on whatever parts of the document have a usable shape
// (parts with a broken shape have already been reported as E_SCHEMA).

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function entriesOf(v: unknown): [string, unknown][] {
  return isObject(v) ? Object.entries(v) : [];
}

interface LooseNode {
  id: string;
  op?: string;
  /** Output ports of the op when it is known. */
  outputs?: Record<string, PortSpec>;
}

function semanticProblems(doc: unknown, catalog: OperationCatalog): PipelineProblem[] {
  if (!isObject(doc)) return [];
  const problems: PipelineProblem[] = [];

  const inputTypes = new Map<string, PortType | undefined>();
  for (const [name, spec] of entriesOf(doc.inputs)) {
    const type = isObject(spec) ? spec.type : undefined;
    inputTypes.set(name, typeof type === 'string' && PIPELINE_PORT_TYPES.has(type) ? (type as PortType) : undefined);
  }

  const nodes = new Map<string, LooseNode>();
  for (const [id, raw] of entriesOf(doc.nodes)) {
    const op = isObject(raw) && typeof raw.op === 'string' && raw.op.length > 0 ? raw.op : undefined;
    const entry = op !== undefined ? catalog.get(op) : undefined;
    nodes.set(id, { id, op, outputs: entry?.manifest.outputs });
  }

  /** Resolves a reference to the type of the value it names; undefined when unknown (a problem is then recorded unless another check covers it). */
  const resolveRef = (ref: string, path: Key[], consumer: string): { type?: PortType; node?: string; ok: boolean } => {
    const r = parseRef(ref);
    if (r.kind === 'input') {
      if (inputTypes.has(r.input)) return { type: inputTypes.get(r.input), ok: true };
      const known = [...inputTypes.keys()];
      const asNode = nodes.get(r.input);
      let hint = didYouMean(r.input, known);
      if (!hint && asNode) {
        const ports = asNode.outputs ? Object.keys(asNode.outputs) : [];
        hint = `; to use node '${r.input}', name one of its outputs: ${ports.length ? ports.map((p) => `'${r.input}.${p}'`).join(', ') : `'${r.input}.<port>'`}`;
      }
      problems.push(problem('E_REF', path, `${consumer} refers to '${ref}', which is not a pipeline input (inputs: ${known.length ? known.join(', ') : 'none'})${hint}`));
      return { ok: false };
    }
    const producer = nodes.get(r.node);
    if (!producer) {
      const hint = didYouMean(r.node, [...nodes.keys()]);
      problems.push(problem('E_REF', path, `${consumer} refers to '${ref}', but there is no node '${r.node}'${hint}`));
      return { ok: false };
    }
    if (!producer.outputs) return { node: r.node, ok: true }; // unknown op: reported on the node
    const spec = producer.outputs[r.port];
    if (!spec) {
      const ports = Object.keys(producer.outputs);
      const hint = didYouMean(r.port, ports);
      problems.push(problem('E_PORT_UNKNOWN', path,
        `${consumer} refers to '${ref}', but operation '${producer.op}' of node '${r.node}' has no output port '${r.port}' (outputs: ${ports.length ? ports.join(', ') : 'none'})${hint}`,
        r.port));
      return { node: r.node, ok: false };
    }
    return { type: spec.type, node: r.node, ok: true };
  };

  /** Dependencies between nodes: consumer → [producer, port path]. */
  const edges = new Map<string, { producer: string; path: Key[] }[]>();

  for (const [id, raw] of entriesOf(doc.nodes)) {
    if (!isObject(raw)) continue;
    const base: Key[] = ['nodes', id];
    const node = nodes.get(id)!;
    const entry = node.op !== undefined ? catalog.get(node.op) : undefined;
    if (node.op !== undefined && !entry) {
      const ids = catalog.ids();
      problems.push(problem('E_OP_NOT_FOUND', [...base, 'op'], `unknown operation '${node.op}'${didYouMean(node.op, ids, suggestOps(node.op, ids))}`, 'op'));
    }
    const manifestInputs = entry?.manifest.inputs;
    const deps: { producer: string; path: Key[] }[] = [];
    const connected = new Set<string>();
    for (const [port, ref] of entriesOf(raw.in)) {
      connected.add(port);
      const path: Key[] = [...base, 'in', port];
      const spec = manifestInputs?.[port];
      if (manifestInputs && !spec) {
        const ports = Object.keys(manifestInputs);
        problems.push(problem('E_PORT_UNKNOWN', path,
          `operation '${node.op}' has no input port '${port}' (inputs: ${ports.length ? ports.join(', ') : 'none'})${didYouMean(port, ports)}`, port));
      }
      if (typeof ref !== 'string' || !PIPELINE_REF_PATTERN.test(ref)) continue; // E_SCHEMA
      const resolved = resolveRef(ref, path, `input port '${port}' of node '${id}'`);
      if (resolved.node !== undefined) deps.push({ producer: resolved.node, path });
      if (spec && resolved.type && !portAccepts(spec.type, resolved.type)) {
        problems.push(problem('E_PORT_TYPE', path,
          `input port '${port}' of '${node.op}' takes ${article(spec.type)}, but '${ref}' is ${article(resolved.type)}`, port));
      }
    }
    edges.set(id, deps);
    if (manifestInputs && (raw.in === undefined || isObject(raw.in))) {
      for (const [port, spec] of Object.entries(manifestInputs)) {
        if (spec.optional || connected.has(port)) continue;
        problems.push(problem('E_INPUT_MISSING', [...base, 'in'],
          `input port '${port}' (${spec.type}) of operation '${node.op}' is not connected`, port));
      }
    }
    if (entry && (raw.params === undefined || isObject(raw.params))) {
      problems.push(...paramsProblems(id, node.op!, raw.params ?? {}, entry.paramsSchema(), entry.manifest.params));
    }
  }

  for (const [name, ref] of entriesOf(doc.outputs)) {
    if (RESERVED_OUTPUT_NAMES.includes(name.toLowerCase())) {
      problems.push(problem('E_SCHEMA', ['outputs', name],
        `output name '${name}' is reserved: the run's provenance record is written as run.json beside the outputs, so this output would overwrite it or be overwritten; rename it (e.g. '${name}-result')`, name));
    }
    if (typeof ref !== 'string' || !PIPELINE_REF_PATTERN.test(ref)) continue;
    resolveRef(ref, ['outputs', name], `output '${name}'`);
  }

  problems.push(...cycleProblems(edges));
  return problems;
}

const PIPELINE_PORT_TYPES = new Set<string>(PipelineInputSchema.shape.type.options);

function article(type: PortType): string {
  return `${type === 'image' ? 'an' : 'a'} ${type}`;
}

function paramsProblems(node: string, op: string, params: unknown, schema: z.ZodType, jsonSchema: Record<string, unknown>): PipelineProblem[] {
  const base: Key[] = ['nodes', node, 'params'];
  const problems: PipelineProblem[] = [];
  const properties = isObject(jsonSchema.properties) ? Object.keys(jsonSchema.properties) : undefined;
  const result = safeParseParams(schema, params);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path as Key[];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) problems.push(problem('E_PARAMS', [...base, ...path, key], unknownParamMessage(op, key, path.length === 0 ? properties : undefined), [...path, key].map(String).join('.')));
      } else {
        problems.push(problem('E_PARAMS', [...base, ...path], issue.message, path.length ? path.map(String).join('.') : undefined));
      }
    }
  }
  // A plain zod object drops keys it does not know; in a pipeline that is almost always a
  // misspelt parameter that would silently take its default, so it is reported.
  if (properties && jsonSchema.additionalProperties === undefined && isObject(params)) {
    for (const key of Object.keys(params)) {
      if (!properties.includes(key)) problems.push(problem('E_PARAMS', [...base, key], unknownParamMessage(op, key, properties), key));
    }
  }
  return problems;
}

function unknownParamMessage(op: string, key: string, known: string[] | undefined): string {
  const hint = known ? didYouMean(key, known) : '';
  return `operation '${op}' has no parameter '${key}'${hint || (known ? ` (parameters: ${known.length ? known.join(', ') : 'none'})` : '')}`;
}

/** Strongly connected components (Tarjan); each with more than one node, or a node that feeds itself, is a cycle. */
function cycleProblems(edges: Map<string, { producer: string; path: Key[] }[]>): PipelineProblem[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  const deps = (id: string) => (edges.get(id) ?? []).map((e) => e.producer).filter((p) => edges.has(p));

  // Iterative Tarjan so that long chains cannot overflow the call stack.
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: { id: string; next: number }[] = [{ id: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const frame = work[work.length - 1];
      const succ = deps(frame.id);
      if (frame.next < succ.length) {
        const w = succ[frame.next++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ id: w, next: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].id;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.id)!));
      }
      if (low.get(frame.id) === index.get(frame.id)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== frame.id);
        components.push(component);
      }
    }
  }

  const order = [...edges.keys()];
  const problems: PipelineProblem[] = [];
  for (const component of components) {
    const members = new Set(component);
    const selfLoop = component.length === 1 && deps(component[0]).includes(component[0]);
    if (component.length === 1 && !selfLoop) continue;
    const first = order.find((id) => members.has(id))!;
    const cycle = shortestCycle(first, members, edges);
    // Data flows producer → consumer: show the cycle in that direction.
    const flow = [cycle[0], ...cycle.slice(1).reverse()];
    const shown = [...flow, flow[0]].map((id) => `'${id}'`).join(' → ');
    const extra = members.size > cycle.length ? ` (nodes in the loop: ${order.filter((id) => members.has(id)).join(', ')})` : '';
    // Point at the connection of `first` that closes the cycle.
    const closing = (edges.get(first) ?? []).find((e) => e.producer === cycle[1 % cycle.length]);
    problems.push(problem('E_CYCLE', closing?.path ?? ['nodes', first],
      `nodes form a cycle: ${shown}${extra}; a node cannot depend on its own output`));
  }
  return problems;
}

/** Shortest path first → … → first following dependency edges inside the component (BFS). */
function shortestCycle(first: string, members: Set<string>, edges: Map<string, { producer: string; path: Key[] }[]>): string[] {
  const prev = new Map<string, string>();
  const queue = [first];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift()!;
    for (const { producer } of edges.get(id) ?? []) {
      if (!members.has(producer)) continue;
      if (producer === first) {
        const path = [id];
        let cur = id;
        while (cur !== first) {
          cur = prev.get(cur)!;
          path.push(cur);
        }
        return path.reverse();
      }
      if (seen.has(producer)) continue;
      seen.add(producer);
      prev.set(producer, id);
      queue.push(producer);
    }
  }
  return [first];
}

// ---------------------------------------------------------------------------------------------
// Suggestions

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** Up to three candidates close to `name` (edit distance ≤ max(2, a third of its length)), nearest first. */
export function nearest(name: string, candidates: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  return candidates
    .map((c) => ({ c, d: editDistance(lower, c.toLowerCase()) }))
    .filter(({ d }) => d <= limit)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, 3)
    .map(({ c }) => c);
}

/** Ops whose name after the plugin prefix matches, e.g. `project` or `other.project` → `stack.project`. */
function suggestOps(op: string, ids: readonly string[]): string[] {
  const short = op.slice(op.lastIndexOf('.') + 1);
  return ids.filter((id) => id.slice(id.indexOf('.') + 1) === short && id !== op);
}

function didYouMean(name: string, candidates: readonly string[], extra: readonly string[] = []): string {
  const list = [...new Set([...nearest(name, candidates), ...extra])].slice(0, 3);
  if (!list.length) return '';
  return `; did you mean ${list.map((c) => `'${c}'`).join(' or ')}?`;
}
