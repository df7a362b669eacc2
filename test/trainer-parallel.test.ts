/**
 * Data-parallel training (core/ml/parallel.ts): the main thread and a worker thread each take
 * half of every batch, their gradients are averaged; the run must equal a 1-thread run on the
 * whole batch (same batches from the same seeded RNG) up to float summation order, for a plain
 * regression and for a GAN (discriminator updates in parallel too). Needs the compiled worker
 * entry (npm run build).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SeededRandom } from '../core/index.js';
import { loadTf, modelArrays, train, type Tf, type TrainerSpec } from '../core/ml.js';
// @ts-expect-error plain JavaScript fixture (worker threads import it without a compiler)
import { tinySpec } from './fixtures/parallel-spec/spec.mjs';

const FIXTURE = new URL('./fixtures/parallel-spec/spec.mjs', import.meta.url).href;
const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

/** x: noise; target: its 3×3 box blur (zero padding). */
function pair(rng: SeededRandom): { x: Float32Array; y: Float32Array } {
  const x = new Float32Array(64);
  for (let i = 0; i < 64; i++) x[i] = rng.next();
  const y = new Float32Array(64);
  for (let r = 0; r < 8; r++) {
    for (let c = 0; c < 8; c++) {
      let s = 0;
      for (let dr = -1; dr <= 1; dr++) for (let dc = -1; dc <= 1; dc++) if (r + dr >= 0 && r + dr < 8 && c + dc >= 0 && c + dc < 8) s += x[(r + dr) * 8 + c + dc];
      y[r * 8 + c] = s / 9;
    }
  }
  return { x, y };
}

function spec(tf: Tf, gan: boolean, batchSize: number): TrainerSpec {
  const options = { seed: 3, gan };
  const batch = (t: Tf, rng: SeededRandom, n: number) => {
    const ps = Array.from({ length: n }, () => pair(rng));
    const cat = (k: 'x' | 'y') => { const a = new Float32Array(n * 64); ps.forEach((p, i) => a.set(p[k], i * 64)); return a; };
    return { inputs: [t.tensor4d(cat('x'), [n, 8, 8, 1])], target: t.tensor4d(cat('y'), [n, 8, 8, 1]) };
  };
  return {
    ...(tinySpec(tf, options) as Pick<TrainerSpec, 'buildGenerator' | 'buildDiscriminator' | 'termValues'>),
    terms: [{ name: 'mse', weight: 1 }, ...(gan ? [{ name: 'adversarial', weight: 0.1 }] : [])],
    ...(gan ? { adversarialTerm: 'adversarial' } : {}),
    sampleBatch: (t, rng) => batch(t, rng, batchSize),
    // a fixed input's mean squared output: any deterministic number will do for this test
    validate: (t, g) => ({ out: t.tidy(() => t.mean(t.square(g.predict(t.linspace(0, 1, 4 * 64).reshape([4, 8, 8, 1])) as import('@tensorflow/tfjs').Tensor)).dataSync()[0]) }),
    bestBy: { metric: 'out', better: 'lower' },
    parallel: { module: FIXTURE, export: 'tinySpec', options },
  };
}

async function run(tf: Tf, gan: boolean, workers: number) {
  const dir = await mkdtemp(join(tmpdir(), `focal-parallel-${workers}-`));
  dirs.push(dir);
  const r = await train(tf, spec(tf, gan, 4), { iterations: 12, generatorUpdates: 2, discriminatorUpdates: 1, generatorLearningRate: 1e-2, discriminatorLearningRate: 1e-2, validateEvery: 6, seed: 5 }, { outDir: dir, workers });
  const weights = modelArrays(r.generator).map((a) => Float32Array.from(a.data));
  r.generator.dispose();
  return { rows: r.rows, weights };
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => { m = Math.max(m, Math.abs(v - b[i][j])); }));
  return m;
}

describe('data-parallel training (workers)', () => {
  for (const gan of [false, true]) {
    it(`2 threads on half batches equal 1 thread on the whole batch${gan ? ' (GAN: discriminator updates too)' : ''}`, async () => {
      const { tf } = await loadTf();
      const one = await run(tf, gan, 1);
      const two = await run(tf, gan, 2);
      expect(two.rows.map((r) => r.iteration)).toEqual(one.rows.map((r) => r.iteration));
      for (let i = 0; i < one.rows.length; i++) {
        expect(two.rows[i].generator).toBeCloseTo(one.rows[i].generator, 5);
        expect(two.rows[i].mse).toBeCloseTo(one.rows[i].mse!, 5);
        if (gan) expect(two.rows[i].discriminator).toBeCloseTo(one.rows[i].discriminator!, 5);
      }
      // the loss fell, and the weights after 12 iterations (24 updates) agree
      expect(one.rows.at(-1)!.mse!).toBeLessThan(one.rows[0].mse!);
      expect(maxDiff(one.weights, two.weights)).toBeLessThan(1e-4);
    }, 60_000);
  }

  it('refuses workers for a spec that names no parallel module, naming the field', async () => {
    const { tf } = await loadTf();
    const s = { ...spec(tf, false, 4), parallel: undefined };
    await expect(train(tf, s, { iterations: 1 }, { outDir: join(tmpdir(), 'focal-parallel-none'), workers: 2 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'workers' } });
  });
});
