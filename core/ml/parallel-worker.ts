/**
 * A data-parallel training worker (parallel.ts): loads tfjs with the main thread's backend,
 * builds the spec's networks from its {@link ParallelSpecRef}, then answers gradient requests:
 * set the replicas' weights to the sent ones, compute the shard's gradients, send them back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadTf } from './backend.js';
import type { BackendName } from './backend-names.js';
import { lsganDiscriminatorLoss } from './losses.js';
import { discriminatorShardGradients, generatorShardGradients, type GradientSpec } from './parallel.js';

interface Wire { data: Float32Array; shape: number[] }
const port = parentPort!;
const data = workerData as { module: string; export: string; options: unknown; backend: BackendName };

try {
  const { tf } = await loadTf({ backend: data.backend });
  const mod = (await import(data.module)) as Record<string, (tf: unknown, options: unknown) => GradientSpec>;
  const make = mod[data.export];
  if (typeof make !== 'function') throw new Error(`${data.module} has no export ${data.export}`);
  const spec = make(tf, data.options);
  const generator = spec.buildGenerator();
  const discriminator = spec.buildDiscriminator?.();
  const gVars = generator.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const dVars = discriminator?.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const lossOf = spec.discriminatorLoss ?? ((t: typeof tf, fake: tfTypes.Tensor, real: tfTypes.Tensor) => lsganDiscriminatorLoss(t, fake, real));
  const set = (m: tfTypes.LayersModel, ws: Float32Array[]) => {
    const current = m.weights;
    if (ws.length !== current.length) throw new Error(`${ws.length} weight arrays for a network with ${current.length}`);
    const ts = ws.map((w, i) => tf.tensor(w, current[i].shape as number[]));
    m.setWeights(ts);
    tf.dispose(ts);
  };
  const tensor = (w: Wire) => tf.tensor(w.data, w.shape);
  port.on('message', (m: { kind: 'generator' | 'discriminator'; id: number; gWeights: Float32Array[]; dWeights: Float32Array[] | null; inputs: Wire[]; target: Wire; terms?: { name: string; weight: number }[] }) => {
    const inputs = m.inputs.map(tensor);
    const target = tensor(m.target);
    try {
      set(generator, m.gWeights);
      if (discriminator && m.dWeights) set(discriminator, m.dWeights);
      const batch = { inputs, target };
      const result = m.kind === 'generator'
        ? generatorShardGradients(tf, spec, generator, m.dWeights ? discriminator : undefined, batch, m.terms!, gVars)
        : discriminatorShardGradients(tf, spec, generator, discriminator!, batch, dVars!, lossOf);
      port.postMessage({ id: m.id, ok: true, result });
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: { message: (e as Error).message, code: (e as { code?: string }).code } });
    } finally {
      tf.dispose([...inputs, target]);
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ error: { message: (e as Error).message } });
}
