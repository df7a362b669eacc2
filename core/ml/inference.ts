/**
 * Inference engines (onnxruntime-node or tfjs) behind one interface, and tiled
 * inference for images of any size: overlapping tiles with a discarded halo and a
 * raised-cosine blend band (weights sum to 1 everywhere → no seams), half-sample
 * mirror padding at the image borders, tiles batched, memory bounded by the batch.
 * See docs/model-package.md.
 */
import { availableParallelism } from 'node:os';
import type * as tfType from '@tensorflow/tfjs';
import type * as ortType from 'onnxruntime-node';
import { FocalError, throwIfAborted } from '../errors.js';
import { loadTfjsModel, mlTf, type ModelPackage } from './model-package.js';
import { nativeCall } from '../runtime/native-calls.js';
import { disableOnnxTelemetry } from '../runtime/onnx-telemetry.js';

export type Nhwc = [number, number, number, number];

export interface InferenceEngine {
  readonly kind: 'onnxruntime' | 'tfjs';
  /** Runs the model on an NHWC float32 batch (a model with k inputs: channels split evenly, see {@link splitInputs}); returns the NHWC output. */
  run(input: Float32Array, shape: Nhwc): Promise<{ data: Float32Array; shape: Nhwc }>;
  dispose(): Promise<void>;
}

export type EngineChoice = 'auto' | 'onnxruntime' | 'tfjs';

export interface InferenceEngineOptions {
  /** 'auto' (default): onnxruntime when the package has ONNX weights and onnxruntime-node loads, else tfjs — onnxruntime measured faster (docs/model-package.md). */
  engine?: EngineChoice;
  /** CPU threads for onnxruntime (intra-op); default FOCAL_THREADS or the number of cores. */
  threads?: number;
}

/** The order 'auto' tries engines in, fastest first as measured on the Deep-R U-Net (docs/model-package.md). */
export const AUTO_ENGINE_ORDER: readonly ('onnxruntime' | 'tfjs')[] = ['onnxruntime', 'tfjs'];

function defaultMlThreads(): number {
  const fromEnv = Number.parseInt(process.env.FOCAL_THREADS ?? '', 10);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(1, availableParallelism());
}

let ortPromise: Promise<typeof ortType> | undefined;
/**
 * onnxruntime-node, imported once, with its usage telemetry off (core/runtime/onnx-telemetry.ts):
 * the one way Focal and its plugins, benches and tests load it.
 *
 * The import is a native call too (core/runtime/native-calls.ts): loading the addon runs its
 * native initialisation, and a run thread terminated in the middle of it takes the process down
 * (`terminate called after throwing an instance of 'Napi::Error'`, SIGABRT). Seen with Ctrl-C
 * just as a Deep-R node started, once in 40 tries under load; reproduced by terminating a bare
 * worker thread during the import (once in 40 tries near its end, never after it).
 */
export async function loadOnnxRuntime(): Promise<typeof ortType> {
  disableOnnxTelemetry();
  if (ortPromise) return ortPromise;
  const loading = nativeCall(() => import('onnxruntime-node')).then((m) => {
    const d = (m as unknown as { default?: typeof ortType }).default;
    return d?.InferenceSession ? d : (m as unknown as typeof ortType);
  });
  ortPromise = loading;
  // refused (the thread is stopping) or failed: not kept, so a later call tries afresh
  loading.catch(() => {
    if (ortPromise === loading) ortPromise = undefined;
  });
  return loading;
}

/** An onnxruntime-node engine for an ONNX model (path or bytes). */
export async function createOnnxEngine(model: string | Uint8Array, options: { threads?: number } = {}): Promise<InferenceEngine> {
  const ort = await loadOnnxRuntime();
  // every onnxruntime call is counted: a run thread is never terminated in the middle of one (core/runtime/native-calls.ts)
  const session = await nativeCall(() => ort.InferenceSession.create(model as string, {
    intraOpNumThreads: options.threads ?? defaultMlThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }));
  const inputNames = session.inputNames;
  const outputName = session.outputNames[0];
  return {
    kind: 'onnxruntime',
    async run(input, shape) {
      const feeds = Object.fromEntries(splitInputs(input, shape, inputNames.length).map((p, i) => [inputNames[i], new ort.Tensor('float32', p.data, p.shape)]));
      const result = await nativeCall(() => session.run(feeds));
      const out = result[outputName];
      const data = out.data as Float32Array;
      if (out.dims.length !== 4) fail(`model output has rank ${out.dims.length}, expected 4 (NHWC)`);
      return { data, shape: out.dims.map(Number) as Nhwc };
    },
    async dispose() {
      await nativeCall(() => session.release()).catch((err: unknown) => {
        // a thread being stopped releases nothing more: termination frees the session
        if (!(err instanceof FocalError && err.code === 'E_CANCELLED')) throw err;
      });
    },
  };
}

/**
 * A model with k inputs (e.g. TSVA's two shots through a shared encoder) takes the NHWC
 * batch's channels split evenly, in input order: channels [0, C/k) feed input 0, and so on.
 */
export function splitInputs(input: Float32Array, shape: Nhwc, k: number): { data: Float32Array; shape: Nhwc }[] {
  if (k === 1) return [{ data: input, shape }];
  const [n, h, w, c] = shape;
  if (c % k !== 0) fail(`the model has ${k} inputs, so the ${c} input channels must split evenly between them`);
  const ck = c / k;
  const parts = Array.from({ length: k }, () => new Float32Array(n * h * w * ck));
  for (let p = 0, q = 0; p < n * h * w; p++, q += c) {
    for (let j = 0; j < k; j++) for (let i = 0; i < ck; i++) parts[j][p * ck + i] = input[q + j * ck + i];
  }
  return parts.map((data) => ({ data, shape: [n, h, w, ck] as Nhwc }));
}

function fail(message: string): never {
  throw new FocalError('E_ARGUMENT', message);
}

/** A tfjs engine for an in-memory tf.LayersModel (disposing the engine disposes the model only if `owns`). */
export function createTfjsEngine(tf: typeof tfType, model: tfType.LayersModel, owns = false): InferenceEngine {
  return {
    kind: 'tfjs',
    async run(input, shape) {
      const out = tf.tidy(() => {
        const xs = splitInputs(input, shape, model.inputs.length).map((p) => tf.tensor4d(p.data, p.shape));
        return model.predict(xs.length === 1 ? xs[0] : xs) as tfType.Tensor;
      });
      try {
        if (out.rank !== 4) fail(`model output has rank ${out.rank}, expected 4 (NHWC)`);
        return { data: (await out.data()) as Float32Array, shape: out.shape as Nhwc };
      } finally {
        out.dispose();
      }
    },
    async dispose() {
      if (owns) model.dispose();
    },
  };
}

/** Creates the inference engine for a model package ('auto': see AUTO_ENGINE_ORDER). */
export async function createInferenceEngine(pkg: ModelPackage, options: InferenceEngineOptions = {}): Promise<InferenceEngine> {
  const choice = options.engine ?? 'auto';
  if (choice === 'onnxruntime') {
    if (!pkg.files.onnx) throw new FocalError('E_UNSUPPORTED', `model package ${pkg.dir} has no ONNX weights; re-save it with exportOnnx or use engine 'tfjs'`, { file: pkg.dir, field: 'engine' });
    return createOnnxEngine(pkg.files.onnx, options);
  }
  if (choice === 'tfjs') {
    const tf = await mlTf();
    return createTfjsEngine(tf, await loadTfjsModel(pkg, tf), true);
  }
  if (choice !== 'auto') throw new FocalError('E_PARAMS', `engine must be 'auto', 'onnxruntime' or 'tfjs', got '${String(choice)}'`, { field: 'engine' });
  const problems: string[] = [];
  for (const kind of AUTO_ENGINE_ORDER) {
    if (kind === 'onnxruntime' && !pkg.files.onnx) { problems.push('no ONNX weights'); continue; }
    if (kind === 'tfjs' && !pkg.files.tfjs) { problems.push('no tfjs weights'); continue; }
    try {
      return await createInferenceEngine(pkg, { ...options, engine: kind });
    } catch (e) {
      problems.push(`${kind}: ${(e as Error).message}`);
    }
  }
  throw new FocalError('E_UNSUPPORTED', `no inference engine could run model package ${pkg.dir} (${problems.join('; ')})`, { file: pkg.dir, field: 'engine' });
}

// ---------------------------------------------------------------- tiled inference

export interface TiledInferenceOptions {
  /** Network input tile size in px (rounded up to `multipleOf`; shrunk for small images). */
  tilePx: number;
  /** Context px discarded on each side of a tile (≥ the model's receptive-field radius for exact results). */
  haloPx: number;
  /** Minimum width of the raised-cosine blend band between neighbouring tiles, inside the halo-cropped region (default ⌈haloPx / 2⌉; widened so that tiles step by multiples of `multipleOf`). */
  blendPx?: number;
  /** Tiles per engine call (default 1). Memory: batchSize × tile² × (in + out channels) floats. */
  batchSize?: number;
  outChannels: number;
  /** Tile sides are multiples of this (32 for a 5-level U-Net). */
  multipleOf?: number;
  signal?: AbortSignal;
  /** Called with the fraction of tiles done (0…1) after each batch. */
  onProgress?: (fraction: number) => void;
  /**
   * Only these pixels are wanted (OpContext.keep of a tiled run): tiles whose blend weights do
   * not reach the rectangle are skipped, and pixels no run tile covers are 0. The wanted pixels
   * are those of the full run.
   */
  keep?: { x: number; y: number; width: number; height: number };
}

interface AxisPlan {
  /** Tile length along the axis (network input). */
  tile: number;
  /** Tile origins in image coordinates (may be negative: mirror-padded). */
  origins: number[];
  /** Blend weight of each tile position, per tile index (first/last/inner differ). */
  weights: Float32Array[];
}

/** Tiling along one axis: see docs/model-package.md ("Tiled inference"). */
export function planAxis(size: number, tilePx: number, haloPx: number, blendPx: number, multipleOf: number): AxisPlan {
  const roundUp = (v: number) => Math.ceil(v / multipleOf) * multipleOf;
  const tile = Math.min(roundUp(tilePx), roundUp(size + 2 * haloPx));
  const inner = tile - 2 * haloPx;
  const single = size <= inner;
  // The step between tiles is a multiple of `multipleOf`, so that every tile sees the
  // image at the same phase of the network's pooling grid; the blend band takes the rest.
  let step = Math.floor((inner - Math.max(0, blendPx)) / multipleOf) * multipleOf;
  if (2 * step < inner) step = Math.ceil(inner / 2 / multipleOf) * multipleOf;
  if (!single && (step < 1 || step > inner)) {
    throw new FocalError('E_PARAMS', `tile size ${tile} px leaves no room inside a halo of ${haloPx} px on each side (tiles step by multiples of ${multipleOf} px); use a larger tileSize or a smaller halo`, { field: 'tilePx' });
  }
  const blend = single ? 0 : inner - step;
  const count = single ? 1 : 1 + Math.ceil((size - inner) / step);
  const origins = Array.from({ length: count }, (_, k) => -haloPx + k * step);
  const weights = origins.map((_, k) => {
    const w = new Float32Array(tile);
    for (let u = 0; u < tile; u++) {
      let v: number;
      if (u < haloPx) v = k === 0 ? 1 : 0;
      else if (u < haloPx + blend) v = k === 0 ? 1 : Math.sin((Math.PI * (u - haloPx + 0.5)) / (2 * blend)) ** 2;
      else if (u < tile - haloPx - blend) v = 1;
      else if (u < tile - haloPx) v = k === count - 1 ? 1 : Math.cos((Math.PI * (u - (tile - haloPx - blend) + 0.5)) / (2 * blend)) ** 2;
      else v = k === count - 1 ? 1 : 0;
      w[u] = v;
    }
    return w;
  });
  return { tile, origins, weights };
}

/** What creating an onnxruntime session costs a process beyond its tensors (measured 31–48 MiB for six bundled packages: bench/network-memory.ts). */
export const SESSION_BYTES = 48 * 1024 * 1024;

/**
 * Memory a network run in tiles holds beside the image, bytes: its session, and the tensors of
 * one engine call — `batchSize` tiles of `tilePx`² px × `activationFloats` floats per pixel
 * (core's `unetActivationFloats` for a U-Net). onnxruntime keeps a buffer per tensor (its memory
 * pattern), so this is what it holds, not a bound on a cleverer runtime. For a streamed run's
 * budget (TilingPlan.workingBytes).
 */
export function inferenceWorkingBytes(o: { activationFloats: number; tilePx: number; batchSize?: number }): number {
  return SESSION_BYTES + (o.batchSize ?? 1) * o.tilePx * o.tilePx * o.activationFloats * 4;
}

/**
 * The halo and grid (TilingPlan.haloPx, gridPx) with which a streamed run of an op that calls
 * `tiledInference` with these settings (default blend) equals its whole-plane run: pieces start
 * on the tiles' step, so they hold the whole plane's tiles, and reach one tile minus its halo
 * past what they keep, so every tile that weighs on a kept pixel lies inside the piece.
 */
export function tiledInferenceStreaming(o: { tilePx: number; haloPx: number; multipleOf?: number; blendPx?: number }): { haloPx: number; gridPx: number } {
  const multipleOf = o.multipleOf ?? 1;
  // the axis plan of a plane much larger than a tile: its tile size and step
  const ax = planAxis(16 * (o.tilePx + multipleOf), o.tilePx, o.haloPx, o.blendPx ?? Math.ceil(o.haloPx / 2), multipleOf);
  return { haloPx: ax.tile - o.haloPx, gridPx: ax.origins[1] - ax.origins[0] };
}

/** Half-sample symmetric mirror of any integer coordinate into [0, n). */
function mirror(i: number, n: number): number {
  const period = 2 * n;
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - 1 - j;
  return j;
}

/**
 * Runs `engine` over an image of any size in overlapping tiles and blends the tile
 * outputs. `channels` are the input planes (row-major width × height each); returns
 * `outChannels` planes of the same size.
 */
export async function tiledInference(
  channels: Float32Array[],
  width: number,
  height: number,
  engine: InferenceEngine,
  options: TiledInferenceOptions,
): Promise<Float32Array[]> {
  const { tilePx, haloPx, outChannels, signal, onProgress } = options;
  const multipleOf = options.multipleOf ?? 1;
  const batchSize = options.batchSize ?? 1;
  const blendPx = options.blendPx ?? Math.ceil(haloPx / 2);
  const positiveInt = (v: number, field: string, min = 1) => {
    if (!Number.isInteger(v) || v < min) throw new FocalError('E_PARAMS', `${field} must be an integer ≥ ${min}, got ${v}`, { field });
  };
  positiveInt(width, 'width');
  positiveInt(height, 'height');
  positiveInt(tilePx, 'tilePx');
  positiveInt(haloPx, 'haloPx', 0);
  positiveInt(blendPx, 'blendPx', 0);
  positiveInt(batchSize, 'batchSize');
  positiveInt(outChannels, 'outChannels');
  positiveInt(multipleOf, 'multipleOf');
  if (channels.length === 0) throw new FocalError('E_PARAMS', 'tiledInference needs at least one input channel', { field: 'channels' });
  channels.forEach((c, i) => {
    if (c.length !== width * height) throw new FocalError('E_PARAMS', `input channel ${i} has ${c.length} values, expected ${width} × ${height}`, { field: `channels[${i}]` });
  });
  throwIfAborted(signal);

  const px = planAxis(width, tilePx, haloPx, blendPx, multipleOf);
  const py = planAxis(height, tilePx, haloPx, blendPx, multipleOf);
  const tw = px.tile;
  const th = py.tile;
  const nc = channels.length;
  /** Whether tile k of an axis has a non-zero weight on [a, b) (image coordinates). */
  const reaches = (ax: AxisPlan, k: number, a: number, b: number): boolean => {
    const w = ax.weights[k];
    const o = ax.origins[k];
    for (let u = Math.max(0, a - o); u < Math.min(ax.tile, b - o); u++) if (w[u] > 0) return true;
    return false;
  };
  const keep = options.keep;
  const tiles: [number, number][] = [];
  for (let ky = 0; ky < py.origins.length; ky++) {
    if (keep && !reaches(py, ky, keep.y, keep.y + keep.height)) continue;
    for (let kx = 0; kx < px.origins.length; kx++) {
      if (keep && !reaches(px, kx, keep.x, keep.x + keep.width)) continue;
      tiles.push([ky, kx]);
    }
  }

  const acc = Array.from({ length: outChannels }, () => new Float32Array(width * height));
  const wsum = new Float32Array(width * height);
  const xIndex = new Int32Array(tw);
  let done = 0;
  for (let start = 0; start < tiles.length; start += batchSize) {
    throwIfAborted(signal);
    const batch = tiles.slice(start, start + batchSize);
    const input = new Float32Array(batch.length * th * tw * nc);
    batch.forEach(([ky, kx], b) => {
      const ox = px.origins[kx];
      const oy = py.origins[ky];
      for (let u = 0; u < tw; u++) xIndex[u] = mirror(ox + u, width);
      let p = b * th * tw * nc;
      for (let v = 0; v < th; v++) {
        const row = mirror(oy + v, height) * width;
        for (let u = 0; u < tw; u++) {
          const src = row + xIndex[u];
          for (let c = 0; c < nc; c++) input[p++] = channels[c][src];
        }
      }
    });
    const out = await engine.run(input, [batch.length, th, tw, nc]);
    throwIfAborted(signal);
    const [ob, oh, ow, oc] = out.shape;
    if (ob !== batch.length || oh !== th || ow !== tw || oc !== outChannels) {
      throw new FocalError('E_ARGUMENT', `model output shape [${out.shape.join(', ')}] does not match the tile [${batch.length}, ${th}, ${tw}, ${outChannels}]`, { field: 'outChannels' });
    }
    batch.forEach(([ky, kx], b) => {
      const ox = px.origins[kx];
      const oy = py.origins[ky];
      const wx = px.weights[kx];
      const wy = py.weights[ky];
      const u0 = Math.max(0, -ox);
      const u1 = Math.min(tw, width - ox);
      const v0 = Math.max(0, -oy);
      const v1 = Math.min(th, height - oy);
      for (let v = v0; v < v1; v++) {
        const wv = wy[v];
        if (wv === 0) continue;
        const row = (oy + v) * width + ox;
        const base = ((b * th + v) * tw) * oc;
        for (let u = u0; u < u1; u++) {
          const w = wv * wx[u];
          if (w === 0) continue;
          const i = row + u;
          wsum[i] += w;
          const q = base + u * oc;
          for (let c = 0; c < oc; c++) acc[c][i] += w * out.data[q + c];
        }
      }
    });
    done += batch.length;
    onProgress?.(done / tiles.length);
  }
  for (let i = 0; i < wsum.length; i++) {
    const s = wsum[i];
    if (s === 0) continue; // a pixel outside `keep` that no run tile covers stays 0
    for (let c = 0; c < outChannels; c++) acc[c][i] /= s;
  }
  return acc;
}
