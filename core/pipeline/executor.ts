import pLimit from 'p-limit';
import { imageFromStack, planeCount, stackFromImage, type Stack } from '../data/stack.js';
import type { Image } from '../data/image.js';
import { FocalError, isFocalError, throwIfAborted, type FocalErrorDetails } from '../errors.js';
import { opIdsOf, type OperationCatalog } from '../plugin/catalog.js';
import { safeParseParams } from '../plugin/params.js';
import { portAccepts, type AnyOperationDef, type Logger, type OpContext, type ParamsSchema, type Ports, type PortType, type ServiceProvider } from '../plugin/contract.js';
import { parseRef, type Pipeline } from './schema.js';
import { RateEstimator } from '../runtime/eta.js';
import { asOpError } from './op-error.js';
import { pipelineError, pointerOf, validatePipeline, type PipelineProblem } from './validate.js';

/** Events a run reports, in order of occurrence; all are plain JSON-serialisable objects. */
export type RunEvent =
  | { type: 'node-start'; node: string; op: string }
  /** `fraction` is in [0, 1] and never decreases for a node. */
  | { type: 'node-progress'; node: string; op: string; fraction: number; label?: string }
  | { type: 'node-done'; node: string; op: string; ms: number }
  /** A node ended without result: it failed, or was aborted because the run was cancelled or another node failed. */
  | { type: 'node-error'; node: string; op: string; code: string; message: string }
  /**
   * Mean progress over all nodes (a finished node counts 1, a running one its own fraction);
   * never decreases. `elapsedMs` since the run started; `etaMs` the estimated time left, from
   * the measured rate of progress (absent until there is enough to measure).
   */
  | { type: 'run-progress'; fraction: number; done: number; total: number; elapsedMs: number; etaMs?: number };

export interface RunOptions {
  catalog: OperationCatalog;
  /** Values of the pipeline inputs (Stack, Image, Table, ModelRef, or JSON), already loaded. */
  inputs: Record<string, unknown>;
  /** Handed to every operation as `ctx.services`. */
  services: ServiceProvider;
  /** Operations get a child tagged with their node, op and plugin. */
  logger: Logger;
  signal?: AbortSignal;
  /** Most nodes running at once (default 2). */
  concurrency?: number;
  /** Progress listener; an exception it throws is logged and otherwise ignored. */
  onEvent?: (event: RunEvent) => void;
}

export interface PipelineOutput {
  type: PortType;
  value: unknown;
}

export interface PipelineResult {
  /** Pipeline output name → value. An output naming an optional port its node did not produce is absent. */
  outputs: Record<string, PipelineOutput>;
  /** Node id → wall-clock milliseconds its operation ran. */
  timings: Record<string, number>;
}

export const DEFAULT_CONCURRENCY = 2;

/** The kind of a port value: its `kind` field when it is one of Focal's data types, else json. */
export function valueKind(value: unknown): PortType {
  if (typeof value === 'object' && value !== null) {
    const kind = (value as { kind?: unknown }).kind;
    if (kind === 'image' || kind === 'stack' || kind === 'table' || kind === 'model') return kind;
  }
  return 'json';
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/**
 * A value for a port of type `to`: an image given to a stack port becomes a one-plane
 * stack; a stack given to an image port must hold exactly one plane, which becomes the image.
 * `where` names the port in the error (e.g. "node 'blur' (filter.gaussian) input 'image'").
 */
function coerce(value: unknown, to: PortType, where: string, code: 'E_PORT' | 'E_PLUGIN' = 'E_PORT', details: FocalErrorDetails = {}): unknown {
  const kind = valueKind(value);
  if (to === 'stack' && kind === 'image') return stackFromImage(value as Image);
  if (to === 'image' && kind === 'stack') {
    const stack = value as Stack;
    if (planeCount(stack) !== 1) {
      throw new FocalError(code, `${where} takes a single image plane, but got a stack of c=${stack.sizeC}, z=${stack.sizeZ}, t=${stack.sizeT}; select one plane first (stack.substack, stack.project or focus.best-plane)`, details);
    }
    return imageFromStack(stack);
  }
  return value;
}

interface PreparedNode {
  id: string;
  opId: string;
  pluginId: string;
  /** Inputs still needed elsewhere are copied before this op sees them (third-party ops). */
  copyInputs: boolean;
  op: AnyOperationDef;
  params: unknown;
  /** port → reference */
  in: Record<string, string>;
  /** Distinct nodes this node reads from. */
  producers: string[];
}

/**
 * Runs a pipeline.
 *
 * - The pipeline is validated first (FocalError `E_PIPELINE` listing every problem), and
 *   every declared input must be given with a value of its type (`E_USAGE` when missing
 *   or unknown, `E_PORT` when of the wrong kind); an image given for a `stack` input, or
 *   fed to a `stack` port, becomes a one-plane stack.
 * - Every node runs, whether or not an output needs it (simple and predictable: a node
 *   never silently does nothing), in dependency order; independent nodes run concurrently,
 *   at most `concurrency` at a time.
 * - Each node's params are parsed by its loaded operation's own zod schema (defaults filled),
 *   and its results are checked against the operation's declared output ports: a missing
 *   required output or one of the wrong kind is FocalError `E_PLUGIN` naming node, op and port.
 * - An intermediate value is dropped as soon as no pending node and no pipeline output
 *   needs it, so large stacks do not pile up in memory.
 * - Cancellation through `signal` (before or during the run): no further node starts, the
 *   running nodes' `ctx.signal` is aborted, and the promise rejects with `E_CANCELLED` once
 *   they have returned. A failing node is reported as `E_NODE_FAILED` (details `node`, `op`,
 *   `cause` the original error) and stops the run in the same way. The promise settles only
 *   when no node is running any more.
 */
export async function runPipeline(pipeline: Pipeline, options: RunOptions): Promise<PipelineResult> {
  const { catalog, signal } = options;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new FocalError('E_ARGUMENT', `concurrency must be a positive integer, got ${concurrency}`);
  }
  await catalog.prepare?.(opIdsOf(pipeline));
  const { pipeline: valid, problems } = validatePipeline(pipeline, catalog);
  if (!valid) throw pipelineError(problems);
  throwIfAborted(signal);
  const inputs = checkInputs(valid, options.inputs);
  const nodes = await prepareNodes(valid, catalog);
  throwIfAborted(signal);
  return execute(valid, nodes, inputs, { ...options, concurrency });
}

function checkInputs(pipeline: Pipeline, given: Record<string, unknown>): Map<string, unknown> {
  const declared = Object.keys(pipeline.inputs);
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(pipeline.inputs, name)) {
      throw new FocalError('E_USAGE', `pipeline '${pipeline.name}' has no input '${name}' (inputs: ${declared.length ? declared.join(', ') : 'none'})`, { field: `/inputs/${name}` });
    }
  }
  const values = new Map<string, unknown>();
  for (const [name, spec] of Object.entries(pipeline.inputs)) {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      throw new FocalError('E_USAGE', `pipeline input '${name}' (${spec.type}) was not given`, { field: `/inputs/${name}` });
    }
    const kind = valueKind(value);
    if (!portAccepts(spec.type, kind)) {
      throw new FocalError('E_PORT', `pipeline input '${name}' must be ${article(spec.type)}, but was given ${article(kind)}`, { field: `/inputs/${name}` });
    }
    values.set(name, coerce(value, spec.type, `pipeline input '${name}'`, 'E_PORT', { field: `/inputs/${name}` }));
  }
  return values;
}

/** Loads every node's operation and parses its params with the operation's own schema. */
async function prepareNodes(pipeline: Pipeline, catalog: OperationCatalog): Promise<PreparedNode[]> {
  const loaded = new Map<string, Promise<AnyOperationDef>>();
  const entries = Object.entries(pipeline.nodes);
  const ops = await Promise.all(
    entries.map(async ([id, node]) => {
      const entry = catalog.get(node.op)!; // validated
      if (!loaded.has(node.op)) loaded.set(node.op, entry.load());
      try {
        return { op: await loaded.get(node.op)!, pluginId: entry.pluginId, copyInputs: entry.builtin === false };
      } catch (err) {
        if (isFocalError(err)) throw err;
        throw new FocalError('E_PLUGIN', `cannot load operation '${node.op}' of node '${id}': ${(err as Error)?.message ?? String(err)}`, { node: id, op: node.op }, { cause: err });
      }
    }),
  );
  const prepared = entries.map(([id, node], i) => {
    const { op, pluginId, copyInputs } = ops[i];
    const parsed = safeParseParams(op.params as ParamsSchema, node.params);
    if (!parsed.success) {
      const problems: PipelineProblem[] = parsed.error.issues.map((issue) => ({
        code: 'E_PARAMS',
        pointer: pointerOf(['nodes', id, 'params', ...(issue.path as PropertyKey[])]),
        node: id,
        ...(issue.path.length ? { field: issue.path.map(String).join('.') } : {}),
        message: issue.message,
      }));
      throw new FocalError('E_PARAMS', `node '${id}' (${node.op}): invalid params: ${problems.map((p) => `${p.pointer}: ${p.message}`).join('; ')}`,
        { node: id, op: node.op, field: problems[0]?.pointer, problems });
    }
    for (const port of Object.keys(node.in)) {
      if (!Object.hasOwn(op.inputs, port)) {
        throw new FocalError('E_PLUGIN', `operation '${node.op}' has no input port '${port}' in its code, though its manifest declares it (node '${id}')`, { node: id, op: node.op, port });
      }
    }
    const producers = [...new Set(Object.values(node.in).map(parseRef).flatMap((r) => (r.kind === 'node' ? [r.node] : [])))];
    return { id, opId: node.op, pluginId, copyInputs, op, params: parsed.data, in: node.in, producers };
  });
  // The validator read ports from the manifests; the loaded code must have the ones used.
  const byId = new Map(prepared.map((n) => [n.id, n]));
  const refs = [...prepared.flatMap((n) => Object.values(n.in)), ...Object.values(pipeline.outputs)];
  for (const ref of refs) {
    const r = parseRef(ref);
    if (r.kind !== 'node') continue;
    const producer = byId.get(r.node)!;
    if (!Object.hasOwn(producer.op.outputs, r.port)) {
      throw new FocalError('E_PLUGIN', `operation '${producer.opId}' has no output port '${r.port}' in its code, though its manifest declares it (node '${r.node}')`, { node: r.node, op: producer.opId, port: r.port });
    }
  }
  return prepared;
}

function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  const child = (logger as Logger & { child?: (f: Record<string, unknown>) => Logger }).child;
  if (typeof child === 'function') return child.call(logger, fields);
  const merge = (f?: Record<string, unknown>) => ({ ...fields, ...f });
  return {
    debug: (m, f) => logger.debug(m, merge(f)),
    info: (m, f) => logger.info(m, merge(f)),
    warn: (m, f) => logger.warn(m, merge(f)),
    error: (m, f) => logger.error(m, merge(f)),
  };
}

function isCancellation(err: unknown, signal: AbortSignal): boolean {
  if (isFocalError(err)) return err.code === 'E_CANCELLED';
  return signal.aborted && (err as { name?: unknown } | null)?.name === 'AbortError';
}

/**
 * The values a run holds, by reference (`input` or `node.port`), with reference counts: how
 * many pending node connections still need each value. Values that pipeline outputs name are
 * pinned until the end; any other is dropped when its last reader has taken it.
 */
class LiveValues {
  private readonly pending = new Map<string, number>();
  private readonly pinned: Set<string>;
  readonly values = new Map<string, unknown>();

  constructor(pipeline: Pipeline, nodes: PreparedNode[], inputs: Map<string, unknown>, private readonly logger: Logger) {
    for (const n of nodes) for (const ref of Object.values(n.in)) this.pending.set(ref, (this.pending.get(ref) ?? 0) + 1);
    this.pinned = new Set(Object.values(pipeline.outputs));
    for (const [name, value] of inputs) if (this.keeps(name)) this.values.set(name, value);
  }

  keeps(ref: string): boolean {
    return this.pinned.has(ref) || (this.pending.get(ref) ?? 0) > 0;
  }

  /** One reader of `ref` has taken it. */
  release(ref: string): void {
    const left = (this.pending.get(ref) ?? 0) - 1;
    this.pending.set(ref, left);
    if (left <= 0 && !this.pinned.has(ref) && this.values.delete(ref)) this.logger.debug('released intermediate value', { ref });
  }

  /** Keeps a node's outputs that a pending node or a pipeline output needs. */
  store(nodeId: string, outputs: Record<string, unknown>): void {
    for (const [port, value] of Object.entries(outputs)) {
      const ref = `${nodeId}.${port}`;
      if (this.keeps(ref)) this.values.set(ref, value);
    }
  }
}

/** For each node, the nodes that read from it, and how many producers it still waits for. */
function dependencyGraph(nodes: PreparedNode[]): { dependents: Map<string, string[]>; waiting: Map<string, number> } {
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  const waiting = new Map<string, number>();
  for (const n of nodes) {
    waiting.set(n.id, n.producers.length);
    for (const p of n.producers) dependents.get(p)!.push(n.id);
  }
  return { dependents, waiting };
}

/**
 * Reports events to the listener (an exception it throws is logged and ignored) and keeps
 * the run's progress: each running node's fraction, the nodes done, a never-decreasing mean
 * and an ETA from the rate over the last 10 s of progress (early fast or slow nodes fade out).
 */
class ProgressReporter {
  readonly nodeFraction = new Map<string, number>();
  done = 0;
  private lastFraction = 0;
  private readonly started = performance.now();
  private readonly eta = new RateEstimator({ windowMs: 10_000, minSpanMs: 500 });

  constructor(private readonly total: number, private readonly logger: Logger, private readonly onEvent?: (event: RunEvent) => void) {}

  emit(event: RunEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch (err) {
      this.logger.warn('run event listener threw', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** A node's own progress (clamped to [0, 1], never decreasing; ignored once it has finished or for NaN). */
  node(node: PreparedNode, fraction: number, label?: string): void {
    const previous = this.nodeFraction.get(node.id);
    if (previous === undefined || typeof fraction !== 'number' || Number.isNaN(fraction)) return; // finished, or nonsense
    const f = Math.max(previous, Math.min(1, Math.max(0, fraction)));
    this.nodeFraction.set(node.id, f);
    this.emit({ type: 'node-progress', node: node.id, op: node.opId, fraction: f, ...(label !== undefined ? { label } : {}) });
    this.run();
  }

  run(): void {
    let sum = this.done;
    for (const f of this.nodeFraction.values()) sum += f;
    const { total, done } = this;
    const fraction = total === 0 || done === total ? 1 : Math.max(this.lastFraction, Math.min(1, sum / total));
    this.lastFraction = fraction;
    const elapsedMs = performance.now() - this.started;
    const etaMs = this.eta.add(fraction, 1, elapsedMs).etaMs;
    this.emit({ type: 'run-progress', fraction, done, total, elapsedMs: Math.round(elapsedMs), ...(etaMs !== undefined ? { etaMs: Math.round(etaMs) } : {}) });
  }
}

/**
 * The values of a node's input ports, coerced to the port types.
 * @throws FocalError `E_PORT` when a value cannot feed its port, or a required port's
 *   producer did not give the (optional) output it reads.
 */
function gatherInputs(node: PreparedNode, values: Map<string, unknown>): Record<string, unknown> {
  const { id, opId, op } = node;
  const nodeInputs: Record<string, unknown> = {};
  for (const [port, ref] of Object.entries(node.in)) {
    const spec = (op.inputs as Ports)[port];
    const value = values.get(ref);
    if (value !== undefined) {
      nodeInputs[port] = coerce(value, spec.type, `node '${id}' (${opId}) input '${port}'`, 'E_PORT', { node: id, op: opId, port });
    } else if (!spec.optional) {
      const r = parseRef(ref);
      const producer = r.kind === 'node' ? r.node : ref;
      throw new FocalError('E_PORT',
        `node '${id}' (${opId}): input port '${port}' needs '${ref}', which node '${producer}' did not produce (it is an optional output)`,
        { node: id, op: opId, port });
    }
  }
  return nodeInputs;
}

/**
 * Runs a node's operation. Its error becomes `E_CANCELLED` when it is the run's cancellation,
 * else `E_NODE_FAILED` (details `node`, `op`; the op's error, mapped by {@link asOpError}, as cause).
 */
async function invoke(node: PreparedNode, ctx: OpContext, inputs: Record<string, unknown>, signal: AbortSignal): Promise<unknown> {
  const { id, opId, op } = node;
  try {
    return await op.run(ctx, inputs, node.params);
  } catch (err) {
    if (isCancellation(err, signal)) {
      throw isFocalError(err) ? err : new FocalError('E_CANCELLED', 'cancelled', { node: id, op: opId }, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new FocalError('E_NODE_FAILED', `node '${id}' (${opId}) failed: ${message}`, { node: id, op: opId }, { cause: asOpError(op, err) });
  }
}

/** The pipeline outputs from the values left at the end; one naming an optional output its node did not produce is left out, with a warning. */
function collectOutputs(pipeline: Pipeline, byId: Map<string, PreparedNode>, values: Map<string, unknown>, logger: Logger): Record<string, PipelineOutput> {
  const outputs: Record<string, PipelineOutput> = {};
  for (const [name, ref] of Object.entries(pipeline.outputs)) {
    const r = parseRef(ref);
    const type = r.kind === 'input' ? pipeline.inputs[r.input].type : byId.get(r.node)!.op.outputs[r.port].type;
    const value = values.get(ref);
    if (value === undefined) {
      logger.warn(`pipeline output '${name}' is absent: '${ref}' is an optional output its node did not produce`, { output: name, ref });
      continue;
    }
    outputs[name] = { type, value };
  }
  return outputs;
}

/** Runs the prepared nodes; see {@link RunScheduler}. */
function execute(
  pipeline: Pipeline,
  nodes: PreparedNode[],
  inputs: Map<string, unknown>,
  options: RunOptions & { concurrency: number },
): Promise<PipelineResult> {
  return new RunScheduler(pipeline, nodes, inputs, options).start();
}

/**
 * One run of a pipeline's nodes: each node starts as soon as its producers have finished, at
 * most `concurrency` at once (p-limit). The first failure or a cancellation stops the run:
 * queued nodes never start, running ones see their signal aborted, and the run rejects once
 * the last of them has ended. Intermediate values are released as soon as nothing needs them.
 */
class RunScheduler {
  private readonly byId: Map<string, PreparedNode>;
  private readonly live: LiveValues;
  private readonly dependents: Map<string, string[]>;
  private readonly waiting: Map<string, number>;
  private readonly report: ProgressReporter;
  /** Aborted when the run stops, whatever the reason: what operations see. */
  private readonly controller = new AbortController();
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly timings: Record<string, number> = {};
  private running = 0;
  private stopped = false;
  private failure: unknown;
  private settle!: { resolve: (r: PipelineResult) => void; reject: (e: unknown) => void };
  private readonly onAbort = () => this.stop(new FocalError('E_CANCELLED', 'cancelled'));

  constructor(
    private readonly pipeline: Pipeline,
    private readonly nodes: PreparedNode[],
    inputs: Map<string, unknown>,
    private readonly options: RunOptions & { concurrency: number },
  ) {
    this.byId = new Map(nodes.map((n) => [n.id, n]));
    this.live = new LiveValues(pipeline, nodes, inputs, options.logger);
    ({ dependents: this.dependents, waiting: this.waiting } = dependencyGraph(nodes));
    this.report = new ProgressReporter(nodes.length, options.logger, options.onEvent);
    this.limit = pLimit({ concurrency: options.concurrency, rejectOnClear: true });
  }

  /** Schedules the nodes without producers; settles when every node is done or the run has stopped. */
  start(): Promise<PipelineResult> {
    return new Promise<PipelineResult>((resolve, reject) => {
      this.settle = { resolve, reject };
      const { signal } = this.options;
      if (signal?.aborted) {
        this.stop(new FocalError('E_CANCELLED', 'cancelled'));
        return;
      }
      signal?.addEventListener('abort', this.onAbort, { once: true });
      this.report.run();
      if (this.nodes.length === 0) {
        this.finish();
        return;
      }
      for (const n of this.nodes) if (n.producers.length === 0) this.schedule(n.id);
    });
  }

  /** Settles the run when it can: stopped and nothing running (reject), or every node done (resolve). */
  private finish(): void {
    if (this.stopped && this.running > 0) return;
    if (!this.stopped && this.report.done < this.nodes.length) return;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    if (this.stopped) {
      this.live.values.clear();
      this.settle.reject(this.failure);
      return;
    }
    const outputs = collectOutputs(this.pipeline, this.byId, this.live.values, this.options.logger);
    this.live.values.clear();
    this.settle.resolve({ outputs, timings: this.timings });
  }

  /** Stops the run for `reason` (the first one wins): operations see a cancellation, queued nodes are dropped. */
  private stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.failure = reason;
    // Operations see a cancellation whatever the reason (signal.throwIfAborted() throws it).
    const why = isFocalError(reason) && reason.code !== 'E_CANCELLED' && reason.details.node ? `cancelled: node '${reason.details.node}' failed` : 'cancelled';
    this.controller.abort(new FocalError('E_CANCELLED', why));
    this.limit.clearQueue();
    this.finish();
  }

  private schedule(id: string): void {
    this.limit(() => this.runNode(id)).catch((err: unknown) => {
      // Only queue clearing rejects here (runNode handles its own errors).
      if (!this.stopped) this.stop(err);
    });
  }

  /** A node has ended (with or without result); false when the run is stopping, which this node's end may complete. */
  private ended(node: PreparedNode): boolean {
    this.report.nodeFraction.delete(node.id);
    this.running--;
    if (!this.stopped) return true;
    // A node ending because the run is already stopping (cancelled, or another node failed).
    this.report.emit({ type: 'node-error', node: node.id, op: node.opId, code: 'E_CANCELLED', message: 'run stopped' });
    this.finish();
    return false;
  }

  /** Records why a node ended without result, and stops the run unless it is already stopping. */
  private nodeFailed(node: PreparedNode, error: FocalError): void {
    if (!this.ended(node)) return;
    this.report.emit({ type: 'node-error', node: node.id, op: node.opId, code: error.code, message: error.message });
    this.options.logger.debug('node failed', { node: node.id, op: node.opId, code: error.code });
    this.stop(error);
  }

  /** Records a node's result and schedules the nodes that no longer wait for anything. */
  private nodeDone(node: PreparedNode, outputs: Record<string, unknown>, ms: number): void {
    if (!this.ended(node)) return;
    this.live.store(node.id, outputs);
    this.timings[node.id] = ms;
    this.report.done++;
    this.options.logger.debug('node done', { node: node.id, op: node.opId, ms: Math.round(ms) });
    this.report.emit({ type: 'node-done', node: node.id, op: node.opId, ms });
    this.report.run();
    for (const next of this.dependents.get(node.id)!) {
      const left = this.waiting.get(next)! - 1;
      this.waiting.set(next, left);
      if (left === 0) this.schedule(next);
    }
    this.finish();
  }

  /** The context an operation runs with: its logger, progress, the run's signal, services, and which outputs are wanted. */
  private contextFor(node: PreparedNode): OpContext {
    const { logger, services } = this.options;
    return {
      log: childLogger(logger, { plugin: node.pluginId, op: node.opId, node: node.id }),
      progress: (fraction: number, label?: string) => this.report.node(node, fraction, label),
      signal: this.controller.signal,
      services,
      nodeId: node.id,
      wants: (port: string) => this.live.keeps(`${node.id}.${port}`),
    };
  }

  private async runNode(id: string): Promise<void> {
    if (this.stopped) return;
    const node = this.byId.get(id)!;
    this.running++;
    this.report.nodeFraction.set(id, 0);
    this.report.emit({ type: 'node-start', node: id, op: node.opId });
    let outputs: Record<string, unknown>;
    let ms: number;
    try {
      const nodeInputs = gatherInputs(node, this.live.values);
      // The node now holds what it needs; the run keeps only what others still need.
      for (const ref of Object.values(node.in)) this.live.release(ref);
      if (node.copyInputs) copySharedInputs(node, nodeInputs, (ref) => this.live.keeps(ref));
      const ctx = this.contextFor(node);
      const started = performance.now();
      const result = await invoke(node, ctx, nodeInputs, this.controller.signal);
      ms = performance.now() - started;
      outputs = checkOutputs(node, result, ctx.wants);
    } catch (err) {
      return this.nodeFailed(node, err as FocalError);
    }
    this.nodeDone(node, outputs, ms);
  }
}

/**
 * A third-party operation that modifies an input in place must not change what another node
 * or a pipeline output sees: each input value still needed elsewhere (`stillNeeded`) is replaced
 * by a deep copy (structured clone) for this node. Built-in operations never modify their inputs
 * and get none. Cost: one copy of the pixels (measured in docs/architecture.md).
 */
function copySharedInputs(node: PreparedNode, nodeInputs: Record<string, unknown>, stillNeeded: (ref: string) => boolean): void {
  for (const [port, ref] of Object.entries(node.in)) {
    const value = nodeInputs[port];
    if (value === undefined || !stillNeeded(ref) || valueKind(value) === 'model') continue;
    try {
      nodeInputs[port] = structuredClone(value);
    } catch {
      /* a JSON value holding something uncloneable: handed over as it is */
    }
  }
}

/** The op's outputs, checked against its declared ports; a required output nobody `wanted` may be left out. */
function checkOutputs(node: PreparedNode, result: unknown, wanted: (port: string) => boolean = () => true): Record<string, unknown> {
  const { id, opId, op } = node;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new FocalError('E_PLUGIN', `node '${id}' (${opId}): the operation returned ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result} instead of an object of outputs`, { node: id, op: opId });
  }
  const out: Record<string, unknown> = {};
  for (const [port, spec] of Object.entries(op.outputs as Ports)) {
    const value = (result as Record<string, unknown>)[port];
    if (value === undefined) {
      if (spec.optional || !wanted(port)) continue;
      throw new FocalError('E_PLUGIN', `node '${id}' (${opId}): the operation did not return its output '${port}' (${spec.type})`, { node: id, op: opId, port });
    }
    const kind = valueKind(value);
    const bad = !portAccepts(spec.type, kind) || (kind === 'json' && (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint'));
    if (bad) {
      throw new FocalError('E_PLUGIN', `node '${id}' (${opId}): output '${port}' is declared ${article(spec.type)} but the operation returned ${kind === 'json' ? `a ${typeof value}` : article(kind)}`, { node: id, op: opId, port });
    }
    out[port] = coerce(value, spec.type, `node '${id}' (${opId}) output '${port}'`, 'E_PLUGIN', { node: id, op: opId, port });
  }
  return out;
}
