/**
 * Tensor files for training checkpoints (learning kit): one JSON index plus one little-endian
 * float32 blob, each written atomically.
 */
import { readFile } from 'node:fs/promises';
import type * as tfTypes from '@tensorflow/tfjs';
import { FocalError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Tf } from './backend.js';

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Writes `<base>.json` (names, shapes) and `<base>.bin` (float32 data). The .bin is written first. */
export async function saveArrays(base: string, arrays: NamedArray[]): Promise<void> {
  const total = arrays.reduce((s, a) => s + a.data.length, 0);
  const blob = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    blob.set(a.data, o);
    o += a.data.length;
  }
  await writeFileAtomic(`${base}.bin`, new Uint8Array(blob.buffer), { mkdir: true });
  await writeFileAtomic(`${base}.json`, JSON.stringify({ format: 'focal-deepr-tensors', version: 1, tensors: arrays.map((a) => ({ name: a.name, shape: a.shape })) }), { mkdir: true });
}

/** Reads what {@link saveArrays} wrote. @throws FocalError `E_ARGUMENT` (field `checkpoint`) when the files disagree. */
export async function loadArrays(base: string): Promise<NamedArray[]> {
  let index: { format?: string; tensors?: { name: string; shape: number[] }[] };
  try {
    index = JSON.parse(await readFile(`${base}.json`, 'utf8'));
  } catch (e) {
    throw new FocalError('E_ARGUMENT', `checkpoint: cannot read ${base}.json (${(e as Error).message})`, { field: 'checkpoint', file: `${base}.json` });
  }
  if (index.format !== 'focal-deepr-tensors' || !Array.isArray(index.tensors)) throw new FocalError('E_ARGUMENT', `checkpoint: ${base}.json is not a tensor index`, { field: 'checkpoint', file: `${base}.json` });
  const buf = await readFile(`${base}.bin`);
  const blob = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const out: NamedArray[] = [];
  let o = 0;
  for (const t of index.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (o + n > blob.length) throw new FocalError('E_ARGUMENT', `checkpoint: ${base}.bin is shorter than its index says`, { field: 'checkpoint', file: `${base}.bin` });
    out.push({ name: t.name, shape: t.shape, data: blob.slice(o, o + n) });
    o += n;
  }
  if (o !== blob.length) throw new FocalError('E_ARGUMENT', `checkpoint: ${base}.bin is longer than its index says`, { field: 'checkpoint', file: `${base}.bin` });
  return out;
}

/** A model's weights as arrays (in getWeights order). */
export function modelArrays(model: tfTypes.LayersModel): NamedArray[] {
  return model.weights.map((w) => {
    const v = w.read();
    return { name: w.name, shape: v.shape.slice(), data: v.dataSync() as Float32Array };
  });
}

/** Sets a model's weights from arrays saved by {@link modelArrays} (same architecture). */
export function setModelArrays(tf: Tf, model: tfTypes.LayersModel, arrays: NamedArray[]): void {
  const ws = model.weights;
  if (ws.length !== arrays.length) throw new FocalError('E_ARGUMENT', `checkpoint: ${arrays.length} weight tensors for a model with ${ws.length} (different baseChannels / levels?)`, { field: 'checkpoint' });
  const tensors = arrays.map((a, i) => {
    if (a.shape.join('x') !== ws[i].shape.join('x')) throw new FocalError('E_ARGUMENT', `checkpoint: weight ${ws[i].name} has shape [${a.shape}], the model's is [${ws[i].shape}]`, { field: 'checkpoint' });
    return tf.tensor(a.data, a.shape);
  });
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** An optimizer's state (Adam: iteration count and both moments) as arrays. */
export async function optimizerArrays(opt: tfTypes.Optimizer): Promise<NamedArray[]> {
  const named = await opt.getWeights();
  return named.map((n) => ({ name: n.name, shape: n.tensor.shape.slice(), data: Float32Array.from(n.tensor.dataSync()) }));
}

/** Restores what {@link optimizerArrays} saved. */
export async function setOptimizerArrays(tf: Tf, opt: tfTypes.Optimizer, arrays: NamedArray[]): Promise<void> {
  await opt.setWeights(arrays.map((a) => ({ name: a.name, tensor: tf.tensor(a.data, a.shape) })));
}
