/**
 * Data-parallel training for the learning kit's trainer (issue 16, "Training speed"): tfjs's
 * wasm backend runs one thread in Node, so a 2-core machine trains on one core. With
 * `workers: n` the trainer splits every batch along its first axis into n shards; the main
 * thread computes the gradients of shard 0 and n − 1 worker threads (each with its own tfjs
 * backend) those of the others, from the same weights (sent with every step, so every replica
 * starts each step identical). The gradients are averaged (weighted by shard size) and applied
 * once, by the main thread's optimizer. Batches are still drawn by the main thread from the
 * trainer's seeded RNG, so a run with n workers sees exactly the batches of a 1-worker run;
 * only the summation order differs (and batch-normalisation statistics are per shard).
 *
 * A worker cannot receive the plugin's functions, so a spec that trains in parallel names a
 * module and an export ({@link ParallelSpecRef}) that builds its {@link GradientSpec} — the
 * part of a TrainerSpec a gradient needs — from structured-cloneable options.
 */
import { Worker } from 'node:worker_threads';
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError } from '../errors.js';
import { disableOnnxTelemetry } from '../runtime/onnx-telemetry.js';
import { workerModulePath } from '../runtime/workers.js';
import type { Tf } from './backend.js';
import type { TrainBatch, TrainerSpec } from './trainer.js';

type Tensor = tfTypes.Tensor;
type LayersModel = tfTypes.LayersModel;

/** What a gradient needs of a {@link TrainerSpec}: the networks, the term values and the critic. */
export type GradientSpec = Pick<TrainerSpec, 'buildGenerator' | 'buildDiscriminator' | 'termValues' | 'critic' | 'discriminatorLoss' | 'batchNorm'>;

/** Where a worker thread finds a spec's {@link GradientSpec}: `module`'s export `export(tf, options)`. */
export interface ParallelSpecRef {
  /** File URL of the module (a `.ts` source maps to its compiled `dist/` file, as for worker pools). */
  module: string;
  export: string;
  /** Structured-cloneable options given to the export. */
  options: unknown;
}

/** A tensor as it crosses the thread boundary. */
interface Wire {
  data: Float32Array;
  shape: number[];
}

type Request =
  | { kind: 'generator'; id: number; gWeights: Float32Array[]; dWeights: Float32Array[] | null; inputs: Wire[]; target: Wire; terms: { name: string; weight: number }[] }
  | { kind: 'discriminator'; id: number; gWeights: Float32Array[]; dWeights: Float32Array[]; inputs: Wire[]; target: Wire };

type RequestBody = Omit<Extract<Request, { kind: 'generator' }>, 'id'> | Omit<Extract<Request, { kind: 'discriminator' }>, 'id'>;

/** A shard's result: its gradients (trainable weights, in order), its loss and its term values. */
export interface ShardGradients {
  grads: Float32Array[];
  cost: number;
  values: [string, number][];
}

const toWire = (t: Tensor): Wire => ({ data: (t.dataSync() as Float32Array).slice(), shape: t.shape });

/** Splits a batch into `n` shards along axis 0 (sizes differ by at most one; empty shards dropped). */
export function splitBatch(tf: Tf, batch: TrainBatch, n: number): TrainBatch[] {
  const size = batch.target.shape[0];
  const shards: TrainBatch[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const len = Math.floor(size / n) + (i < size % n ? 1 : 0);
    if (len === 0) continue;
    const cut = (t: Tensor) => tf.slice(t, [start, ...t.shape.slice(1).map(() => 0)], [len, ...t.shape.slice(1)]);
    shards.push({ inputs: batch.inputs.map(cut), target: cut(batch.target) });
    start += len;
  }
  return shards;
}

/**
 * The gradients of one shard: the weighted sum of `terms` (generator) or the discriminator loss,
 * differentiated with respect to `vars`. Used by the main thread and by the workers alike.
 */
export function generatorShardGradients(tf: Tf, spec: GradientSpec, generator: LayersModel, discriminator: LayersModel | undefined, batch: TrainBatch, terms: { name: string; weight: number }[], vars: tfTypes.Variable[]): ShardGradients {
  const values: [string, number][] = [];
  const active = new Set(terms.map((t) => t.name));
  const critic = spec.critic ?? ((d: LayersModel, _b: TrainBatch, image: Tensor) => d.apply(image) as Tensor);
  const { value, grads } = tf.variableGrads(() => {
    const out = generator.apply(batch.inputs.length === 1 ? batch.inputs[0] : batch.inputs, { training: spec.batchNorm !== 'frozen' }) as Tensor;
    const c = discriminator ? critic(discriminator, batch, out) : null;
    const v = spec.termValues(tf, { batch, output: out, critic: c, active });
    const weighted: Tensor[] = [];
    for (const t of terms) {
      const x = v[t.name];
      if (!x) throw new FocalError('E_PLUGIN', `trainer: the spec computed no value for the active term '${t.name}'`);
      weighted.push(tf.mul(x, t.weight));
      values.push([t.name, x.dataSync()[0]]);
    }
    return tf.addN(weighted) as tfTypes.Scalar;
  }, vars);
  const out = { grads: vars.map((v) => (grads[v.name].dataSync() as Float32Array).slice()), cost: value.dataSync()[0], values };
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

export function discriminatorShardGradients(tf: Tf, spec: GradientSpec, generator: LayersModel, discriminator: LayersModel, batch: TrainBatch, vars: tfTypes.Variable[], lossOf: NonNullable<GradientSpec['discriminatorLoss']>): ShardGradients {
  const critic = spec.critic ?? ((d: LayersModel, _b: TrainBatch, image: Tensor) => d.apply(image) as Tensor);
  const out = generator.predict(batch.inputs.length === 1 ? batch.inputs[0] : batch.inputs) as Tensor;
  const { value, grads } = tf.variableGrads(() => lossOf(tf, critic(discriminator, batch, out), critic(discriminator, batch, batch.target)) as tfTypes.Scalar, vars);
  const r = { grads: vars.map((v) => (grads[v.name].dataSync() as Float32Array).slice()), cost: value.dataSync()[0], values: [] };
  tf.dispose([value, out, ...Object.values(grads)]);
  return r;
}

/** Shard gradients averaged with weights `sizes` (the shards' batch sizes). */
export function averageGradients(parts: ShardGradients[], sizes: number[]): ShardGradients {
  const total = sizes.reduce((a, b) => a + b, 0);
  const w = sizes.map((s) => s / total);
  const grads = parts[0].grads.map((g, i) => {
    const out = new Float32Array(g.length);
    for (let p = 0; p < parts.length; p++) {
      const src = parts[p].grads[i];
      const k = w[p];
      for (let j = 0; j < out.length; j++) out[j] += k * src[j];
    }
    return out;
  });
  const values = new Map<string, number>();
  parts.forEach((p, i) => { for (const [k, v] of p.values) values.set(k, (values.get(k) ?? 0) + w[i] * v); });
  return { grads, cost: parts.reduce((a, p, i) => a + w[i] * p.cost, 0), values: [...values] };
}

const weightsOf = (m: LayersModel): Float32Array[] => m.getWeights().map((t) => (t.dataSync() as Float32Array).slice());

/** n − 1 worker threads holding replicas of a spec's networks (see the module comment). */
export class GradientWorkers {
  private readonly workers: Worker[];
  private next = 0;
  private readonly pending = new Map<number, { resolve: (r: ShardGradients) => void; reject: (e: Error) => void }>();
  private failure: Error | undefined;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    for (const w of workers) {
      w.on('message', (m: { id: number; ok: boolean; result?: ShardGradients; error?: { message: string; code?: string } }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.result!);
        else p.reject(m.error?.code ? new FocalError(m.error.code as FocalError['code'], m.error.message) : new FocalError('E_PLUGIN', `training worker: ${m.error?.message}`));
      });
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => { if (code !== 0) this.fail(new Error(`exited with code ${code}`)); });
    }
  }

  private fail(e: Error): void {
    this.failure ??= new FocalError('E_PLUGIN', `training worker failed: ${e.message}`, {}, { cause: e });
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  /** Starts `count` workers (each loads tfjs with `backend` and builds the spec's networks); resolves when all are ready. */
  static async start(ref: ParallelSpecRef, count: number, backend: string): Promise<GradientWorkers> {
    const entry = workerModulePath(new URL(`./parallel-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href);
    const module = new URL(`file://${workerModulePath(ref.module)}`).href;
    disableOnnxTelemetry(); // before the threads start: their process.env would not reach onnxruntime
    const workers = Array.from({ length: count }, () => new Worker(entry, { workerData: { module, export: ref.export, options: ref.options, backend } }));
    try {
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        const onMessage = (m: { ready?: boolean; error?: { message: string } }) => {
          if (m.ready) resolve();
          else if (m.error) reject(new FocalError('E_PLUGIN', `training worker could not start: ${m.error.message}`));
          else return;
          w.off('message', onMessage);
        };
        w.on('message', onMessage);
        w.once('error', (e) => reject(new FocalError('E_PLUGIN', `training worker could not start: ${e.message}`, {}, { cause: e })));
      })));
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new GradientWorkers(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  private ask(i: number, req: RequestBody): Promise<ShardGradients> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[i].postMessage({ ...req, id });
    });
  }

  /** Generator gradients of shards 1… (one per worker; shard 0 is the caller's). */
  generator(shards: TrainBatch[], generator: LayersModel, discriminator: LayersModel | undefined, terms: { name: string; weight: number }[]): Promise<ShardGradients>[] {
    const gWeights = weightsOf(generator);
    const dWeights = discriminator ? weightsOf(discriminator) : null;
    return shards.map((s, i) => this.ask(i, { kind: 'generator', gWeights, dWeights, inputs: s.inputs.map(toWire), target: toWire(s.target), terms }));
  }

  discriminator(shards: TrainBatch[], generator: LayersModel, discriminator: LayersModel): Promise<ShardGradients>[] {
    const gWeights = weightsOf(generator);
    const dWeights = weightsOf(discriminator);
    return shards.map((s, i) => this.ask(i, { kind: 'discriminator', gWeights, dWeights, inputs: s.inputs.map(toWire), target: toWire(s.target) }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Applies averaged gradients (arrays in `vars` order) with `optimizer`. */
export function applyGradientArrays(tf: Tf, optimizer: tfTypes.Optimizer, vars: tfTypes.Variable[], grads: Float32Array[]): void {
  const named = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(grads[i], v.shape) }));
  optimizer.applyGradients(named);
  tf.dispose(named.map((n) => n.tensor));
}
