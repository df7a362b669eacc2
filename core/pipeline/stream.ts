/**
 * Streaming a pipeline (issue 21): the pipeline's graph turned into region sources, so that an
 * image larger than memory flows from a lazy input (TIFF, OME-Zarr) through the nodes into a
 * tiled writer region by region. Nothing is computed here: every output is a `RegionSource`
 * whose reads pull the pixels they need through the chain.
 *
 * A node becomes
 * - a **window** of its input when its op declares `window` (stack.crop): reads are offset;
 * - a **tiled operation** (`tiledOperation`) when its op declares `tiling` for these params and
 *   the output port asked for; chained, each stage reads its own halo from the stage before, so
 *   the halos add up; an op that gathers channels (`channels: 'together'`, staining) gets every
 *   channel of a tile at one z/t and makes its own channel count;
 * - a **whole-plane run** when neither, provided its input (all planes) fits in a quarter of
 *   the memory budget (input, output and the op's working copies): the input is read whole
 *   while planning, the op runs once, and its result is served from memory;
 * - for a larger one-plane input of an op that declares `planeStatistics` (learned ops that
 *   standardise their plane): the plane's mean and σ measured in one streaming pass, passed as
 *   params, and the op tiled with the tiling it then declares; with `perChannel`, a one-z/t input
 *   of any channel count, each channel measured (lists of means and σs); likewise for an op that
 *   declares `measurePlane` (a contrast stretch: its limits from the plane's histogram), which
 *   reads the plane region by region itself and returns the params it is then tiled with;
 * - the op's **own stream** when it declares `stream` (tsva.slide: a mosaic assembled from
 *   scanner tiles it reads one at a time): its image inputs as region sources, its table/JSON
 *   inputs whole (these must be pipeline inputs, loaded whole by the caller: `values`); its
 *   table outputs come from the stream's `finish()` after the images are written;
 * - else `E_UNSUPPORTED` naming the node, the op and the size in MB.
 *
 * A node with several image inputs (deconvolution's image and PSF) tiles its largest input with
 * the others given whole when its op's tiling takes them, else runs on whole planes if they fit;
 * a node with none (a PSF generator) runs once in memory.
 *
 * A pipeline output that is a table (or JSON) port streams when its op declares `reduceTiles`
 * for these params and names that port (`cellcount.count`): the node's
 * reduction reads its input tile by tile, once for all its outputs, after the images are written.
 * Otherwise, when the node's one input fits a quarter of the budget, the op runs once on it whole
 * (shared with the node's image outputs, if any); else `E_UNSUPPORTED`.
 */
import { join } from 'node:path';
import { bytesPerSample, type DType, type PixelArray } from '../data/dtype.js';
import { createImage, isImage } from '../data/image.js';
import { createStack, isStack, type Stack } from '../data/stack.js';
import { FocalError, throwIfAborted } from '../errors.js';
import { diskCachedSource } from '../io/disk-cache.js';
import { checkRegion, stackRegionSource, type RegionRequest, type RegionSource } from '../io/lazy-image.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import type { AnyOperationDef, Logger, OpContext, OpStream, ServiceProvider, TilingPlan } from '../plugin/contract.js';
import { withoutPrototype } from '../plugin/params.js';
import { asOpError } from './op-error.js';
import { parseRef, type Pipeline } from './schema.js';
import { tiledOperation, tiledReduction } from './tiled.js';

export interface StreamOptions {
  catalog: OperationCatalog;
  /** The pipeline's image/stack inputs, opened lazily. */
  inputs: Record<string, RegionSource>;
  /** The pipeline's other inputs (tables, JSON), loaded whole: only ops that stream themselves (`OperationDef.stream`) take them. */
  values?: Record<string, unknown>;
  /** Memory the run may use, bytes. */
  budgetBytes: number;
  /** Largest piece a tiled op runs on, px per side (the writer's band height too). */
  tileSize: number;
  services: ServiceProvider;
  logger: Logger;
  signal?: AbortSignal;
  /**
   * A folder for scratch files (the run's staging folder): an op's own stream that another node
   * reads is kept there on disk as it is computed (`diskCachedSource`), so that node's passes
   * (an automatic threshold's, a count's outline reads) do not run the op again. Absent: no cache.
   */
  scratchDir?: string;
}

/** How one node streams, for the log and the run record. */
export interface StreamNodePlan {
  node: string;
  op: string;
  /** 'op': the op streams its outputs itself (OperationDef.stream). */
  mode: 'window' | 'tiled' | 'whole' | 'reduce' | 'op';
  /** Halo this node reads around each region, px (tiled). */
  haloPx?: number;
  /** Halo from the pipeline input to this node's output, summed along the chain, px. */
  totalHaloPx: number;
  width: number;
  height: number;
  dtype: DType;
  /** Tiled with every channel of a tile together (TilingPlan.channels 'together'): the channels read and made per tile. */
  together?: { inChannels: number; outChannels: number };
  /** Mode 'op': the memory one band of `rows` rows costs in the op's stream (OpStream.bandBytes). */
  bandBytes?: (rows: number) => number;
  /** Tiled: what the op holds beyond its pieces whatever the band (TilingPlan.workingBytes). */
  workingBytes?: number;
}

/** A pipeline output that an op reduces from a plane read tile by tile (tables of `cellcount.count`). */
export interface StreamReduction {
  node: string;
  port: string;
  /** Runs the node's reduction (once for all outputs of the node) and gives this output's value. */
  run(onProgress?: (fraction: number) => void): Promise<unknown>;
}

export interface StreamPlan {
  /** Pipeline output name → where its pixels come from. */
  outputs: Record<string, RegionSource>;
  /** Pipeline output name → a table (or JSON) output reduced tile by tile, computed after the images are written. */
  reductions: Record<string, StreamReduction>;
  nodes: StreamNodePlan[];
  /** Releases what the ops' own streams hold (OpStream.close); call once when the run ends. */
  close(): Promise<void>;
}

/** Bytes of all planes of a region source at level 0. */
export function sourceBytes(s: Pick<RegionSource, 'width' | 'height' | 'sizeC' | 'sizeZ' | 'sizeT' | 'dtype'>): number {
  return s.width * s.height * s.sizeC * s.sizeZ * s.sizeT * bytesPerSample(s.dtype);
}

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${(bytes / MB).toFixed(0)} MB`;

/**
 * Memory one band of `rows` rows costs along a chain: each tiled stage holds its input band
 * with halos and its output band; the writer two bands per level (≈ 2 × width × rows × bytes).
 */
export function streamBandBytes(plan: StreamPlan, rows: number): number {
  // a stage is asked for the band plus the halos of the stages after it and reads its own on top: bound both by the chain's largest sum
  const halo = Math.max(0, ...plan.nodes.map((n) => n.totalHaloPx));
  // several ports of one node (staining.cascade's H&E and refocused channels) are separate
  // sources, written one after the other unless a later node reads both: the largest counts
  const perNode = new Map<string, number>();
  for (const n of plan.nodes) {
    if (n.mode === 'op' && n.bandBytes) perNode.set(n.node, n.bandBytes(rows));
    if (n.mode !== 'tiled') continue;
    let bytes: number;
    if (n.together) {
      // every input channel read with its halo (clipped to the image), every output channel kept
      // for the band and the one below, and the op's float working copies of one piece (~12 bytes
      // per channel and pixel: a learned op's input, normalised and accumulated planes)
      const { inChannels, outChannels } = n.together;
      const readRows = Math.min(n.height, rows + 2 * halo);
      const piece = Math.min(n.width, rows + 2 * halo) * readRows;
      bytes = n.width * readRows * 4 * inChannels + 2 * n.width * rows * outChannels * bytesPerSample(n.dtype) + piece * (inChannels + outChannels) * 12;
    } else bytes = (n.width + 2 * halo) * (rows + 2 * halo) * (4 + bytesPerSample(n.dtype));
    bytes += n.workingBytes ?? 0;
    perNode.set(n.node, Math.max(perNode.get(n.node) ?? 0, bytes));
  }
  let total = 0;
  for (const b of perNode.values()) total += b;
  // outputs are written one after the other: the widest writer's bands count (a band of every channel when they are computed together)
  let writer = 0;
  for (const o of Object.values(plan.outputs)) writer = Math.max(writer, 2 * o.width * rows * bytesPerSample(o.dtype) * (o.channelsTogether ? o.sizeC : 1));
  return total + writer;
}

/** The channels a tiled node gathers per tile and what it holds beyond them, for the memory estimate (streamBandBytes). */
function togetherOf(plan: TilingPlan, input: RegionSource): Pick<StreamNodePlan, 'together' | 'workingBytes'> {
  return {
    ...(plan.channels === 'together' ? { together: { inChannels: input.sizeC, outChannels: plan.outputChannels ?? input.sizeC } } : {}),
    ...(plan.workingBytes ? { workingBytes: plan.workingBytes } : {}),
  };
}

/** A rectangle of a source as a source of its own (the stack.crop window). */
function windowSource(input: RegionSource, rect: { x: number; y: number; width: number; height: number }, name: string): RegionSource {
  if (rect.x < 0 || rect.y < 0 || rect.x + rect.width > input.width || rect.y + rect.height > input.height) {
    throw new FocalError('E_PARAMS', `${name}: the rectangle ${rect.x},${rect.y} ${rect.width}×${rect.height} does not lie inside the ${input.width}×${input.height} px image`, { field: 'width' });
  }
  return {
    ...input,
    width: rect.width,
    height: rect.height,
    readRegion(region: RegionRequest, opts?: { signal?: AbortSignal }): Promise<PixelArray> {
      checkRegion({ ...input, width: rect.width, height: rect.height, levels: undefined }, { ...region, level: 0 }, name);
      return input.readRegion({ ...region, level: 0, x: region.x + rect.x, y: region.y + rect.y }, opts);
    },
  };
}

/**
 * Mean and population σ of one plane of a source (default the first: c, z, t = 0), read band
 * by band (`rows` rows at a time), as `standardise` computes them on the whole plane (shifted
 * sums in float64).
 */
export async function planeMeanStd(src: RegionSource, rows: number, signal?: AbortSignal, plane: { c?: number; z?: number; t?: number } = {}): Promise<{ mean: number; std: number }> {
  let n = 0;
  let shift = Number.NaN;
  let s1 = 0;
  let s2 = 0;
  for (let y = 0; y < src.height; y += rows) {
    throwIfAborted(signal);
    const band = await src.readRegion({ ...plane, x: 0, y, w: src.width, h: Math.min(rows, src.height - y) }, { signal });
    if (Number.isNaN(shift)) shift = band[0];
    for (let i = 0; i < band.length; i++) {
      const d = band[i] - shift;
      s1 += d;
      s2 += d * d;
    }
    n += band.length;
  }
  const m = s1 / n;
  const std = Math.sqrt(Math.max(0, s2 / n - m * m));
  return { mean: shift + m, std: std > 0 ? std : 1 };
}

/** Every plane of a source read whole (the caller checked it fits), as the value of an image or stack port. */
async function readWhole(input: RegionSource, type: string, signal: AbortSignal | undefined): Promise<unknown> {
  const planes: PixelArray[] = [];
  for (let t = 0; t < input.sizeT; t++)
    for (let z = 0; z < input.sizeZ; z++)
      for (let c = 0; c < input.sizeC; c++) {
        throwIfAborted(signal);
        planes.push(await input.readRegion({ c, z, t, x: 0, y: 0, w: input.width, h: input.height }, { signal }));
      }
  return type === 'image'
    ? createImage({ width: input.width, height: input.height, dtype: input.dtype, data: planes[0], calibration: input.calibration })
    : createStack({ width: input.width, height: input.height, sizeC: input.sizeC, sizeZ: input.sizeZ, sizeT: input.sizeT, dtype: input.dtype, planes, calibration: input.calibration, channelNames: input.channelNames });
}

/** Runs an op once on its whole inputs (read whole, which the caller checked fits) and gives the outputs `wants` asks for. */
async function runWhole(op: AnyOperationDef, node: string, inputs: Record<string, RegionSource>, params: Record<string, unknown>, wants: (output: string) => boolean, opts: StreamOptions): Promise<Record<string, unknown>> {
  const specs = op.inputs as Record<string, { type: string }>;
  const signal = opts.signal;
  const values: Record<string, unknown> = {};
  for (const [name, src] of Object.entries(inputs)) values[name] = await readWhole(src, specs[name].type, signal);
  const ctx: OpContext = { log: opts.logger, progress: () => undefined, signal: signal ?? new AbortController().signal, services: opts.services, nodeId: node, wants };
  try {
    return (await op.run(ctx, values, op.params.parse(params))) as Record<string, unknown>;
  } catch (err) {
    throw asOpError(op, err);
  }
}

/** An image output of a whole run, served from memory. */
function wholeSource(op: AnyOperationDef, node: string, port: string, out: unknown): RegionSource {
  if (isImage(out)) return stackRegionSource({ ...out, sizeC: 1, sizeZ: 1, sizeT: 1, channelNames: [], planes: [out.data] });
  if (isStack(out)) return stackRegionSource(out as Stack);
  throw new FocalError('E_PORT', `node '${node}' (${op.id}): output '${port}' is not an image or stack`, { field: `/nodes/${node}` });
}

/**
 * Plans a streamed run of `pipeline`: every pipeline output must be an image or stack, or a
 * table reduced tile by tile; every node's inputs must be images or stacks; see the module
 * comment for how each node runs.
 *
 * @throws FocalError `E_UNSUPPORTED` naming the node, the op and the size in MB when a node
 *   needs whole planes that do not fit the budget, or the graph has a shape streaming does not
 *   take (a table output no op reduces tile by tile, a table or JSON input).
 */
export async function planStream(pipeline: Pipeline, opts: StreamOptions): Promise<StreamPlan> {
  const nodes: StreamNodePlan[] = [];
  const sources = new Map<string, Promise<{ src: RegionSource; halo: number }>>();
  const ops = new Map<string, AnyOperationDef>();
  const wholeLimit = opts.budgetBytes / 4;
  /** Node id → the op's own stream (OperationDef.stream), made once for all its outputs; undefined when it declines. */
  const opStreams = new Map<string, Promise<OpStream | undefined>>();
  /** Disk caches of op streams' outputs that other nodes read (closed with the plan). */
  const caches: { close(): Promise<void> }[] = [];
  /** Node id → its one whole run (an image output and its tables share it), with the outputs the pipeline uses. */
  const wholeRuns = new Map<string, Promise<Record<string, unknown>>>();
  const wholeOnce = (op: AnyOperationDef, id: string, inputs: Record<string, RegionSource>, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    let run = wholeRuns.get(id);
    if (!run) {
      const wanted = new Set<string>();
      for (const ref of [...Object.values(pipeline.outputs), ...Object.values(pipeline.nodes).flatMap((n) => Object.values(n.in ?? {}))]) {
        const r = parseRef(ref);
        if (r.kind === 'node' && r.node === id) wanted.add(r.port);
      }
      run = runWhole(op, id, inputs, params, (o) => wanted.has(o), opts);
      run.catch(() => undefined); // a failure belongs to whoever awaits it
      wholeRuns.set(id, run);
    }
    return run;
  };
  /** Runs the node on whole planes (once for all its outputs) and serves its image output `port`; recorded once per node. */
  const runWholePlanes = async (op: AnyOperationDef, id: string, inputs: Record<string, RegionSource>, params: Record<string, unknown>, port: string): Promise<RegionSource> => {
    const src = wholeSource(op, id, port, (await wholeOnce(op, id, inputs, params))[port]);
    if (!nodes.some((n) => n.node === id && n.mode === 'whole')) nodes.push({ node: id, op: op.id, mode: 'whole', totalHaloPx: 0, width: src.width, height: src.height, dtype: src.dtype });
    return src;
  };

  const build = async (ref: string, user: string): Promise<{ src: RegionSource; halo: number }> => {
    const r = parseRef(ref);
    if (r.kind === 'input') {
      const src = opts.inputs[r.input];
      if (!src) throw new FocalError('E_UNSUPPORTED', `${user}: input '${r.input}' is not an image or stack that opens region by region; a streamed run takes image inputs only`, { field: `/inputs/${r.input}` });
      return { src, halo: 0 };
    }
    const key = `${r.node}.${r.port}`;
    let p = sources.get(key);
    if (!p) {
      p = buildNode(r.node, r.port);
      sources.set(key, p);
    }
    return p;
  };

  /**
   * A node with several image inputs (deconvolution: the image and its PSF): the largest input
   * is tiled when the op declares tiling with the others given whole (each of which must fit);
   * else the node runs on whole planes when all its inputs fit a quarter of the budget.
   */
  const severalInputs = async (op: AnyOperationDef, id: string, port: string, params: Record<string, unknown>, parsedParams: unknown, built: Record<string, { src: RegionSource; halo: number }>): Promise<{ src: RegionSource; halo: number }> => {
    const specs = op.inputs as Record<string, { type: string }>;
    const bySize = Object.entries(built).sort(([, a], [, b]) => sourceBytes(b.src) - sourceBytes(a.src));
    const [tiledPort, { src: big, halo: before }] = bySize[0];
    const total = bySize.reduce((a, [, b]) => a + sourceBytes(b.src), 0);
    const rest = total - sourceBytes(big);
    if (rest <= wholeLimit) {
      const others: Record<string, unknown> = {};
      for (const [p, b] of bySize.slice(1)) others[p] = await readWhole(b.src, specs[p].type, opts.signal);
      const plan = op.tiling?.(parsedParams as never, { dtype: big.dtype, calibration: big.calibration, sizeC: big.sizeC, output: port }, others);
      const outputs = Object.keys(op.outputs);
      if (plan && (plan.input ?? tiledPort) === tiledPort && (plan.output ?? (outputs.length === 1 ? outputs[0] : undefined)) === port) {
        const src = tiledOperation(op, big, params, { tileSize: opts.tileSize, signal: opts.signal, services: opts.services, log: opts.logger, inputs: others, output: port });
        nodes.push({ node: id, op: op.id, mode: 'tiled', haloPx: plan.haloPx, totalHaloPx: before + plan.haloPx, width: src.width, height: src.height, dtype: src.dtype, ...togetherOf(plan, big) });
        return { src, halo: before + plan.haloPx };
      }
    }
    if (total > wholeLimit) {
      throw new FocalError(
        'E_UNSUPPORTED',
        `node '${id}' (${op.id}) needs whole planes with these inputs and params, and its inputs are ${mb(total)}, more than a quarter of the memory budget (${mb(opts.budgetBytes)}, --memory-mb) allows; crop a region first (stack.crop) or raise --memory-mb`,
        { op: op.id, field: `/nodes/${id}` },
      );
    }
    opts.logger.info(`node '${id}' (${op.id}) needs whole planes: running it on its ${mb(total)} of inputs in memory`, { node: id });
    const src = await runWholePlanes(op, id, Object.fromEntries(bySize.map(([p, b]) => [p, b.src])), params, port);
    return { src, halo: 0 };
  };

  /**
   * The node's own stream when its op declares `stream` and takes these inputs (image inputs as
   * region sources, table/JSON ones from the pipeline's whole inputs), made once per node.
   */
  const ownStream = (id: string, op: AnyOperationDef): Promise<OpStream | undefined> => {
    let made = opStreams.get(id);
    if (!made) {
      made = (async () => {
        const node = pipeline.nodes[id];
        const inSpecs = op.inputs as Record<string, { type: string }>;
        const params = withoutPrototype(node.params ?? {});
        const parsed = op.params.safeParse(params);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new FocalError('E_PARAMS', `node '${id}' (${node.op}): ${issue.path.join('.') || 'params'}: ${issue.message}`, { op: node.op, field: `/nodes/${id}/params` });
        }
        const inputs: Record<string, unknown> = {};
        let before = 0;
        for (const [p, ref] of Object.entries(node.in ?? {})) {
          const type = inSpecs[p]?.type;
          if (type === 'image' || type === 'stack') {
            const b = await build(ref, `node '${id}'`);
            inputs[p] = b.src;
            before = Math.max(before, b.halo);
            continue;
          }
          const r = parseRef(ref);
          if (r.kind !== 'input' || !opts.values || !(r.input in opts.values)) {
            throw new FocalError('E_UNSUPPORTED', `node '${id}' (${node.op}): input '${p}' (${type}) must come from a pipeline input in a streamed run (tables and JSON are loaded whole; a node's table cannot feed a streamed node)`, { op: node.op, field: `/nodes/${id}/in/${p}` });
          }
          inputs[p] = opts.values[r.input];
        }
        // the node's ports this run uses: a pipeline output, or read by another node
        const used = new Set([...Object.values(pipeline.outputs), ...Object.values(pipeline.nodes).flatMap((n) => Object.values(n.in ?? {}))]);
        const ctx: OpContext = { log: opts.logger, progress: () => undefined, signal: opts.signal ?? new AbortController().signal, services: opts.services, nodeId: id, wants: (p) => used.has(`${id}.${p}`) };
        let s: OpStream | undefined;
        try {
          s = await op.stream?.(ctx, inputs, parsed.data);
        } catch (err) {
          throw asOpError(op, err);
        }
        if (s) {
          const first = Object.values(s.images)[0];
          const shape = first ?? Object.values(inputs).find((v): v is RegionSource => typeof (v as RegionSource | undefined)?.readRegion === 'function');
          nodes.push({ node: id, op: node.op, mode: 'op', totalHaloPx: before, width: shape?.width ?? 1, height: shape?.height ?? 1, dtype: first?.dtype ?? 'float32', bandBytes: (rows) => s.bandBytes(rows) });
        }
        return s;
      })();
      opStreams.set(id, made);
    }
    return made;
  };

  /**
   * Whether a run of `op` on the whole of `input` fits: its declared peak (`wholeBytes`) within
   * half the budget, else the input within a quarter; and what to say when it does not.
   */
  const wholeFits = (op: AnyOperationDef, params: unknown, input: RegionSource): { fits: boolean; why: string } => {
    const bytes = sourceBytes(input);
    const what = `${input.width}×${input.height} ${input.dtype}${input.sizeC * input.sizeZ * input.sizeT > 1 ? ` × ${input.sizeC * input.sizeZ * input.sizeT} planes` : ''}`;
    if (op.wholeBytes) {
      const need = op.wholeBytes(params as never, input);
      return { fits: need <= opts.budgetBytes / 2, why: `a run on its whole input (${mb(bytes)}, ${what}) holds ${mb(need)}, more than half the memory budget (${mb(opts.budgetBytes)}, --memory-mb) allows` };
    }
    return { fits: bytes <= wholeLimit, why: `its input is ${mb(bytes)} (${what}), more than a quarter of the memory budget (${mb(opts.budgetBytes)}, --memory-mb) allows` };
  };

  const buildNode = async (id: string, port: string): Promise<{ src: RegionSource; halo: number }> => {
    const node = pipeline.nodes[id];
    const entry = opts.catalog.get(node.op);
    if (!entry) throw new FocalError('E_OP_NOT_FOUND', `node '${id}': unknown operation '${node.op}'`, { op: node.op, field: `/nodes/${id}` });
    const op = ops.get(node.op) ?? (await entry.load());
    ops.set(node.op, op);
    const inSpecs = op.inputs as Record<string, { type: string }>;
    const outSpec = (op.outputs as Record<string, { type: string }>)[port];
    if (op.stream) {
      const own = await ownStream(id, op);
      const src = own?.images[port];
      if (src) {
        // read by another node (which may pass over it several times): kept on disk as it is computed
        const readByNode = Object.values(pipeline.nodes).some((n) => Object.values(n.in ?? {}).some((ref) => ref === `${id}.${port}`));
        if (!readByNode || !opts.scratchDir) return { src, halo: 0 };
        const cached = await diskCachedSource(src, join(opts.scratchDir, `.cache-${id}-${port}.bin`), opts.tileSize);
        caches.push(cached);
        return { src: cached, halo: 0 };
      }
      if (own) throw new FocalError('E_UNSUPPORTED', `node '${id}' (${node.op}): its streamed run does not make output '${port}'`, { op: node.op, field: `/nodes/${id}` });
    }
    const bound = Object.entries(node.in ?? {});
    if (!outSpec || (outSpec.type !== 'image' && outSpec.type !== 'stack') || bound.some(([p]) => inSpecs[p]?.type !== 'image' && inSpecs[p]?.type !== 'stack')) {
      throw new FocalError('E_UNSUPPORTED', `node '${id}' (${node.op}) cannot be streamed: a streamed run takes nodes whose inputs and outputs are images or stacks (tables only as outputs an op reduces tile by tile)`, { op: node.op, field: `/nodes/${id}` });
    }
    const params = withoutPrototype(node.params ?? {});
    const parsed = op.params.safeParse(params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new FocalError('E_PARAMS', `node '${id}' (${node.op}): ${issue.path.join('.') || 'params'}: ${issue.message}`, { op: node.op, field: `/nodes/${id}/params` });
    }
    const built: Record<string, { src: RegionSource; halo: number }> = {};
    for (const [p, ref] of bound) {
      const b = await build(ref, `node '${id}'`);
      if (inSpecs[p].type === 'image' && b.src.sizeC * b.src.sizeZ * b.src.sizeT !== 1) {
        throw new FocalError('E_PORT', `node '${id}' (${node.op}): input '${p}' is an image but gets ${b.src.sizeC * b.src.sizeZ * b.src.sizeT} planes`, { op: node.op, field: `/nodes/${id}/in/${p}` });
      }
      built[p] = b;
    }
    if (bound.length === 0) {
      // a generator (a PSF): made once, in memory, as an in-memory run makes it
      const src = await runWholePlanes(op, id, {}, params, port);
      return { src, halo: 0 };
    }
    if (bound.length > 1) return severalInputs(op, id, port, params, parsed.data, built);
    const { src: input, halo: before } = built[bound[0][0]];
    const win = op.window?.(parsed.data, { width: input.width, height: input.height });
    if (win) {
      const src = windowSource(input, win, `node '${id}' (${node.op})`);
      nodes.push({ node: id, op: node.op, mode: 'window', totalHaloPx: before, width: src.width, height: src.height, dtype: src.dtype });
      return { src, halo: before };
    }
    const outputs = Object.keys(op.outputs);
    const tilesPort = (plan: TilingPlan | undefined): plan is TilingPlan => plan !== undefined && (plan.output ?? (outputs.length === 1 ? outputs[0] : undefined)) === port;
    const tiling = op.tiling?.(parsed.data, { dtype: input.dtype, calibration: input.calibration, sizeC: input.sizeC, output: port });
    if (tilesPort(tiling)) {
      const src = tiledOperation(op, input, params, { tileSize: opts.tileSize, signal: opts.signal, services: opts.services, log: opts.logger, output: port });
      nodes.push({ node: id, op: node.op, mode: 'tiled', haloPx: tiling.haloPx, totalHaloPx: before + tiling.haloPx, width: src.width, height: src.height, dtype: src.dtype, ...togetherOf(tiling, input) });
      return { src, halo: before + tiling.haloPx };
    }
    const bytes = sourceBytes(input);
    const stats = op.planeStatistics;
    if (bytes > wholeLimit && stats && (stats.perChannel ? input.sizeZ * input.sizeT === 1 : input.sizeC * input.sizeZ * input.sizeT === 1)) {
      // a learned op that standardises its plane (each channel): measure the mean and σ in one pass (per channel), then tile with them
      const measured: { mean: number; std: number }[] = [];
      for (let c = 0; c < (stats.perChannel ? input.sizeC : 1); c++) measured.push(await planeMeanStd(input, opts.tileSize, opts.signal, { c }));
      const withStats = stats.perChannel
        ? { ...params, [stats.meanParam]: measured.map((m) => m.mean), [stats.stdParam]: measured.map((m) => m.std) }
        : { ...params, [stats.meanParam]: measured[0].mean, [stats.stdParam]: measured[0].std };
      const statParsed = op.params.safeParse(withStats);
      const plan = statParsed.success ? op.tiling?.(statParsed.data, { dtype: input.dtype, calibration: input.calibration, sizeC: input.sizeC, output: port }) : undefined;
      if (tilesPort(plan)) {
        const what = measured.map((m) => `mean ${m.mean.toPrecision(6)} and σ ${m.std.toPrecision(6)}`).join('; ');
        opts.logger.info(`node '${id}' (${node.op}): tiles standardised with the whole plane's ${stats.perChannel ? `statistics per channel (${what})` : what}`, { node: id });
        const src = tiledOperation(op, input, withStats, { tileSize: opts.tileSize, signal: opts.signal, services: opts.services, log: opts.logger, output: port });
        nodes.push({ node: id, op: node.op, mode: 'tiled', haloPx: plan.haloPx, totalHaloPx: before + plan.haloPx, width: src.width, height: src.height, dtype: src.dtype, ...togetherOf(plan, input) });
        return { src, halo: before + plan.haloPx };
      }
    }
    if (bytes > wholeLimit && op.measurePlane && input.sizeC * input.sizeZ * input.sizeT === 1) {
      // an op that needs another whole-plane statistic (a contrast stretch's limits): it measures them region by region, then it is tiled with them
      const measured = await op.measurePlane(parsed.data, input, { tileSize: opts.tileSize, signal: opts.signal });
      const measuredParsed = op.params.safeParse(measured);
      const plan = measuredParsed.success ? op.tiling?.(measuredParsed.data, { dtype: input.dtype, calibration: input.calibration, sizeC: input.sizeC, output: port }) : undefined;
      if (tilesPort(plan)) {
        const given = Object.entries(measured as Record<string, unknown>).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((params as Record<string, unknown>)[k]));
        opts.logger.info(`node '${id}' (${node.op}): tiles with the whole plane's ${given.map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')}, measured region by region`, { node: id });
        const src = tiledOperation(op, input, measured as Record<string, unknown>, { tileSize: opts.tileSize, signal: opts.signal, services: opts.services, log: opts.logger, output: port });
        nodes.push({ node: id, op: node.op, mode: 'tiled', haloPx: plan.haloPx, totalHaloPx: before + plan.haloPx, width: src.width, height: src.height, dtype: src.dtype, ...togetherOf(plan, input) });
        return { src, halo: before + plan.haloPx };
      }
    }
    const whole = wholeFits(op, parsed.data, input);
    if (!whole.fits) {
      throw new FocalError('E_UNSUPPORTED', `node '${id}' (${node.op}) needs whole planes, and ${whole.why}; crop a region first (stack.crop) or raise --memory-mb`, { op: node.op, field: `/nodes/${id}` });
    }
    opts.logger.info(`node '${id}' (${node.op}) needs whole planes: running it on its ${mb(bytes)} input in memory`, { node: id });
    const src = await runWholePlanes(op, id, { [bound[0][0]]: input }, params, port);
    return { src, halo: 0 };
  };

  /** The node's table/JSON output `port` as a tile-by-tile reduction, when its op declares one naming that port; undefined for image/stack ports. */
  const reductionOf = async (id: string, port: string): Promise<StreamReduction | undefined> => {
    const node = pipeline.nodes[id];
    const entry = opts.catalog.get(node.op);
    if (!entry) throw new FocalError('E_OP_NOT_FOUND', `node '${id}': unknown operation '${node.op}'`, { op: node.op, field: `/nodes/${id}` });
    const op = ops.get(node.op) ?? (await entry.load());
    ops.set(node.op, op);
    const outSpec = (op.outputs as Record<string, { type: string }>)[port];
    if (!outSpec || outSpec.type === 'image' || outSpec.type === 'stack') return undefined;
    const own = op.stream ? await ownStream(id, op) : undefined;
    if (own?.finish) {
      let run = reduced.get(id);
      if (!run) {
        let result: Promise<Record<string, unknown>> | undefined;
        const finish = own.finish.bind(own);
        run = (onProgress) => (result ??= finish(onProgress).catch((err: unknown) => {
          throw asOpError(op, err);
        }));
        reduced.set(id, run);
      }
      const once = run;
      return {
        node: id,
        port,
        run: async (onProgress) => {
          const all = await once(onProgress);
          if (!(port in all)) throw new FocalError('E_UNSUPPORTED', `node '${id}' (${node.op}): its streamed run does not make output '${port}'`, { op: node.op, field: `/nodes/${id}` });
          return all[port];
        },
      };
    }
    const params = withoutPrototype(node.params ?? {});
    const parsed = op.params.safeParse(params);
    const bound = Object.entries(node.in ?? {});
    const inPorts = Object.keys(op.inputs as Record<string, unknown>);
    const source = parsed.success && bound.length === 1 && inPorts.length === 1 ? await build(bound[0][1], `node '${id}'`) : undefined;
    const declared = source && op.reduceTiles ? op.reduceTiles(parsed.data, { dtype: source.src.dtype, calibration: source.src.calibration }) : undefined;
    const whole = source && parsed.success ? wholeFits(op, parsed.data, source.src) : undefined;
    if (source && !declared?.outputs.includes(port) && whole?.fits) {
      // no reduction for this port, but the input fits: the op runs once on its whole input (after the images, unless an image output of the node ran it already)
      const key = `${id}\u0000whole`;
      let run = reduced.get(key);
      if (!run) {
        const { src: input } = source;
        opts.logger.info(`node '${id}' (${node.op}) needs whole planes for its tables: running it on its ${mb(sourceBytes(input))} input in memory`, { node: id });
        if (!nodes.some((n) => n.node === id && n.mode === 'whole')) nodes.push({ node: id, op: node.op, mode: 'whole', totalHaloPx: 0, width: input.width, height: input.height, dtype: input.dtype });
        run = () => wholeOnce(op, id, { [bound[0][0]]: input }, params);
        reduced.set(key, run);
      }
      const once = run;
      return { node: id, port, run: async () => (await once())[port] };
    }
    if (!source || !declared || !declared.outputs.includes(port)) {
      throw new FocalError(
        'E_UNSUPPORTED',
        `node '${id}' (${node.op}): output '${port}' (${outSpec.type}) cannot be streamed: a streamed run makes tables with ops that reduce a plane tile by tile (cellcount.count), or by running the op on its whole input when that fits${whole ? `, and ${whole.why}` : ''}`,
        { op: node.op, field: `/nodes/${id}` },
      );
    }
    let run = reduced.get(id);
    if (!run) {
      const { src: input, halo } = source;
      nodes.push({ node: id, op: node.op, mode: 'reduce', totalHaloPx: halo, width: input.width, height: input.height, dtype: input.dtype });
      let result: Promise<Record<string, unknown>> | undefined;
      run = (onProgress) => (result ??= tiledReduction(op, input, params, { tileSize: opts.tileSize, signal: opts.signal, services: opts.services, log: opts.logger, onProgress }));
      reduced.set(id, run);
    }
    const once = run;
    return { node: id, port, run: async (onProgress) => (await once(onProgress))[port] };
  };

  const outputs: Record<string, RegionSource> = {};
  const reductions: Record<string, StreamReduction> = {};
  const reduced = new Map<string, (onProgress?: (fraction: number) => void) => Promise<Record<string, unknown>>>();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const c of caches) await c.close().catch((err: unknown) => opts.logger.warn(`removing a scratch file failed: ${err instanceof Error ? err.message : String(err)}`));
    for (const made of opStreams.values()) {
      const s = await made.catch(() => undefined);
      await s?.close?.().catch((err: unknown) => opts.logger.warn(`closing a node's stream failed: ${err instanceof Error ? err.message : String(err)}`));
    }
  };
  try {
    for (const [name, ref] of Object.entries(pipeline.outputs)) {
      const r = parseRef(ref);
      const reduction = r.kind === 'node' ? await reductionOf(r.node, r.port) : undefined;
      if (reduction) reductions[name] = reduction;
      else outputs[name] = (await build(ref, `output '${name}'`)).src;
    }
  } catch (err) {
    await close();
    throw err;
  }
  // a node nobody's output uses still runs in an in-memory run; a streamed one has to say so
  for (const [id, node] of Object.entries(pipeline.nodes)) {
    if (!nodes.some((n) => n.node === id)) opts.logger.warn(`node '${id}' (${node.op}) feeds no output: a streamed run skips it`, { node: id });
  }
  return { outputs, reductions, nodes, close };
}
