import { beforeAll, describe, expect, it } from 'vitest';
import type * as tfType from '@tensorflow/tfjs';
import { createTfjsEngine, planAxis, tiledInference, type InferenceEngine } from './inference.js';
import { isFocalError } from '../errors.js';

let tf: typeof tfType;
beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
});

function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Two 3×3 convolutions: receptive-field radius 2, translation-equivariant. */
function smallConvNet(inC: number, outC: number): tfType.LayersModel {
  const input = tf.input({ shape: [null, null, inC] });
  const a = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }), biasInitializer: 'ones' }).apply(input);
  const b = tf.layers.conv2d({ filters: outC, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }).apply(a) as tfType.SymbolicTensor;
  return tf.model({ inputs: input, outputs: b });
}

/** Whole-image inference (zero 'same' padding at the borders). */
async function whole(engine: InferenceEngine, planes: Float32Array[], w: number, h: number): Promise<Float32Array[]> {
  const nc = planes.length;
  const input = new Float32Array(w * h * nc);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < nc; c++) input[i * nc + c] = planes[c][i];
  const out = await engine.run(input, [1, h, w, nc]);
  const oc = out.shape[3];
  return Array.from({ length: oc }, (_, c) => Float32Array.from({ length: w * h }, (_, i) => out.data[i * oc + c]));
}

function maxDiff(a: Float32Array, b: Float32Array, w: number, h: number, keep: (x: number, y: number) => boolean): number {
  let m = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (keep(x, y)) m = Math.max(m, Math.abs(a[y * w + x] - b[y * w + x]));
  return m;
}

describe('planAxis', () => {
  it('blend weights sum to 1 at every image pixel, for many sizes', () => {
    for (const size of [1, 7, 31, 32, 33, 100, 257]) {
      for (const [tile, halo, blend] of [[32, 4, 2], [32, 4, 8], [16, 0, 3], [24, 5, 0]]) {
        const plan = planAxis(size, tile, halo, blend, 8);
        expect(plan.tile % 8).toBe(0);
        const sum = new Float64Array(size);
        plan.origins.forEach((o, k) => plan.weights[k].forEach((w, u) => { if (o + u >= 0 && o + u < size) sum[o + u] += w; }));
        for (const s of sum) expect(s).toBeCloseTo(1, 6);
      }
    }
  });

  it('rejects a tile with no room inside the halo', () => {
    expect(() => planAxis(100, 8, 4, 0, 1)).toThrow(/tile size 8 px/);
  });
});

describe('tiledInference', () => {
  it('equals whole-image inference away from the borders (non-multiple sizes, several tiles, 2 → 3 channels) and has no seams', async () => {
    const model = smallConvNet(2, 3);
    const engine = createTfjsEngine(tf, model);
    const w = 83;
    const h = 57;
    const planes = [noise(w * h, 1), noise(w * h, 2)];
    const progress: number[] = [];
    const tiled = await tiledInference(planes, w, h, engine, { tilePx: 20, haloPx: 4, outChannels: 3, multipleOf: 4, batchSize: 4, onProgress: (f) => progress.push(f) });
    const ref = await whole(engine, planes, w, h);
    const px = planAxis(w, 20, 4, 2, 4);
    const py = planAxis(h, 20, 4, 2, 4);
    expect(px.origins.length * py.origins.length).toBeGreaterThan(20);
    expect(progress.at(-1)).toBe(1);
    expect(progress.length).toBe(Math.ceil((px.origins.length * py.origins.length) / 4));
    // Tile boundaries: every column/row where a tile's weight starts or stops being 1.
    const seamX = new Set<number>();
    px.origins.forEach((o, k) => px.weights[k].forEach((v, u) => { if (v > 0 && v < 1) seamX.add(o + u); }));
    const seamY = new Set<number>();
    py.origins.forEach((o, k) => py.weights[k].forEach((v, u) => { if (v > 0 && v < 1) seamY.add(o + u); }));
    const interior = (x: number, y: number) => x >= 3 && y >= 3 && x < w - 3 && y < h - 3;
    for (let c = 0; c < 3; c++) {
      const atSeams = maxDiff(tiled[c], ref[c], w, h, (x, y) => interior(x, y) && (seamX.has(x) || seamY.has(y)));
      const elsewhere = maxDiff(tiled[c], ref[c], w, h, (x, y) => interior(x, y) && !seamX.has(x) && !seamY.has(y));
      expect(atSeams).toBeLessThan(1e-5);
      expect(elsewhere).toBeLessThan(1e-5);
    }
    // Near the borders the tiles see mirrored, the whole image zero-padded data: they differ there.
    expect(maxDiff(tiled[0], ref[0], w, h, (x, y) => !interior(x, y))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('blends tiles of a model whose receptive field is wider than the halo without seams', async () => {
    // Four 5×5 convolutions: receptive-field radius 8 > halo 2, so neighbouring tiles disagree near their edges.
    const input = tf.input({ shape: [null, null, 1] });
    let x = input as tfType.SymbolicTensor;
    for (let i = 0; i < 4; i++) x = tf.layers.conv2d({ filters: i === 3 ? 1 : 4, kernelSize: 5, padding: 'same', activation: i === 3 ? 'linear' : 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed: 10 + i }) }).apply(x) as tfType.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: x });
    const engine = createTfjsEngine(tf, model);
    const w = 150;
    const h = 40;
    // A smooth input (so that the model's output and its errors vary smoothly; a tile border shows as a jump).
    const plane = Float32Array.from({ length: w * h }, (_, i) => Math.sin((i % w) / 7) * Math.cos(Math.floor(i / w) / 5));
    const ref = (await whole(engine, [plane], w, h))[0];
    const jumps = async (blendPx: number) => {
      const out = (await tiledInference([plane], w, h, engine, { tilePx: 40, haloPx: 2, blendPx, outChannels: 1 }))[0];
      const plan = planAxis(w, 40, 2, blendPx, 1);
      // Columns x where x → x + 1 crosses from one tile's crop region into the next (or into its blend band).
      const seam = new Set<number>();
      plan.origins.forEach((o, k) => { if (k > 0) { seam.add(o + 1); seam.add(o + 2 + blendPx - 1); } });
      let atSeam = 0;
      let elsewhere = 0;
      for (let y = 10; y < h - 10; y++) for (let xx = 10; xx < w - 11; xx++) {
        const d = Math.abs((out[y * w + xx + 1] - ref[y * w + xx + 1]) - (out[y * w + xx] - ref[y * w + xx]));
        if (seam.has(xx)) atSeam = Math.max(atSeam, d); else elsewhere = Math.max(elsewhere, d);
      }
      return { atSeam, elsewhere };
    };
    const hard = await jumps(0);

    const blended = await jumps(12);
    expect(hard.atSeam).toBeGreaterThan(1e-3);
    expect(hard.atSeam).toBeGreaterThan(1.5 * hard.elsewhere); // without blending the tile borders show as jumps
    expect(blended.atSeam).toBeLessThan(1.5 * blended.elsewhere + 1e-6); // blended, they are no larger than elsewhere
    expect(blended.elsewhere).toBeLessThan(hard.atSeam);
    model.dispose();
  });

  it('handles a one-tile image smaller than the tile, and batching does not change results', async () => {
    const model = smallConvNet(1, 1);
    const engine = createTfjsEngine(tf, model);
    const w = 19;
    const h = 11;
    const plane = noise(w * h, 9);
    const calls: number[][] = [];
    const spy: InferenceEngine = { kind: 'tfjs', run: (d, s) => { calls.push([...s]); return engine.run(d, s); }, dispose: async () => {} };
    const one = (await tiledInference([plane], w, h, spy, { tilePx: 64, haloPx: 3, outChannels: 1, multipleOf: 8 }))[0];
    expect(calls).toEqual([[1, 24, 32, 1]]); // shrunk to the image + halo, rounded up to 8
    const ref = (await whole(engine, [plane], w, h))[0];
    expect(maxDiff(one, ref, w, h, (x, y) => x >= 2 && y >= 2 && x < w - 2 && y < h - 2)).toBeLessThan(1e-5);
    const big = noise(70 * 50, 4);
    const a = await tiledInference([big], 70, 50, engine, { tilePx: 24, haloPx: 3, outChannels: 1, batchSize: 1 });
    const b = await tiledInference([big], 70, 50, engine, { tilePx: 24, haloPx: 3, outChannels: 1, batchSize: 5 });
    expect(maxDiff(a[0], b[0], 70, 50, () => true)).toBeLessThan(1e-6);
    model.dispose();
  });

  it('cancels through the AbortSignal with E_CANCELLED', async () => {
    const model = smallConvNet(1, 1);
    const engine = createTfjsEngine(tf, model);
    const plane = noise(64 * 64, 3);
    const controller = new AbortController();
    let progressCalls = 0;
    const err = await tiledInference([plane], 64, 64, engine, {
      tilePx: 16, haloPx: 2, outChannels: 1, signal: controller.signal,
      onProgress: () => { progressCalls++; controller.abort(); },
    }).catch((e: unknown) => e);
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(progressCalls).toBe(1);
    const pre = new AbortController();
    pre.abort();
    await expect(tiledInference([plane], 64, 64, engine, { tilePx: 16, haloPx: 2, outChannels: 1, signal: pre.signal })).rejects.toMatchObject({ code: 'E_CANCELLED' });
    model.dispose();
  });

  it('rejects bad arguments with errors naming the field', async () => {
    const model = smallConvNet(1, 1);
    const engine = createTfjsEngine(tf, model);
    await expect(tiledInference([new Float32Array(10)], 4, 4, engine, { tilePx: 8, haloPx: 1, outChannels: 1 })).rejects.toMatchObject({ code: 'E_PARAMS', details: { field: 'channels[0]' } });
    await expect(tiledInference([new Float32Array(16)], 4, 4, engine, { tilePx: 8, haloPx: -1, outChannels: 1 })).rejects.toMatchObject({ details: { field: 'haloPx' } });
    await expect(tiledInference([new Float32Array(16)], 4, 4, engine, { tilePx: 8, haloPx: 1, outChannels: 2 })).rejects.toMatchObject({ code: 'E_ARGUMENT', details: { field: 'outChannels' } });
    model.dispose();
  });
});
