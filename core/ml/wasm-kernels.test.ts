import { beforeAll, describe, expect, it } from 'vitest';
import { loadTf, type Tf } from './backend.js';
import { conv2dBackpropFilterComposed, registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels.js';

type Tensor = import('@tensorflow/tfjs').Tensor;
type Tensor4D = import('@tensorflow/tfjs').Tensor4D;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;

let tf: Tf;

beforeAll(async () => {
  ({ tf } = await loadTf({ backend: 'wasm' }));
});

/** Deterministic uniform numbers in [-1, 1). */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

/** Runs `f` on a backend and returns its output's values. */
async function on(backend: 'cpu' | 'wasm', f: () => Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const t = tf.tidy(f);
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

describe('wasm Conv2DBackpropFilter', () => {
  it('is missing from tfjs-backend-wasm and registered by loadTf', () => {
    expect(WASM_TRAINING_KERNELS).toContain('Conv2DBackpropFilter');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  const cases: Array<{ x: [number, number, number, number]; k: number; s: 1 | 2; pad: 'same' | 'valid' }> = [
    { x: [2, 9, 9, 3], k: 3, s: 1, pad: 'same' },
    { x: [2, 9, 9, 3], k: 3, s: 2, pad: 'same' },
    { x: [1, 10, 7, 4], k: 3, s: 2, pad: 'same' },
    { x: [2, 8, 8, 5], k: 1, s: 1, pad: 'same' },
    { x: [1, 9, 11, 2], k: 3, s: 1, pad: 'valid' },
    { x: [2, 11, 9, 3], k: 3, s: 2, pad: 'valid' },
    { x: [1, 8, 8, 4], k: 2, s: 2, pad: 'same' },
  ];
  for (const c of cases) {
    it(`matches cpu: x ${c.x.join('×')}, ${c.k}×${c.k}, stride ${c.s}, ${c.pad}`, async () => {
      const cout = 6;
      const xs = seeded(c.x.reduce((a, b) => a * b, 1), 7 + c.k + c.s);
      const ws = seeded(c.k * c.k * c.x[3] * cout, 99);
      const filterShape: [number, number, number, number] = [c.k, c.k, c.x[3], cout];
      // dL/dW of sum(conv2d(x, W) ⊙ R), R random: exercises Conv2DBackpropFilter through the gradient.
      const grad = (): Tensor => {
        const x = tf.tensor4d(xs, c.x);
        const w = tf.tensor4d(ws, filterShape);
        const yShape = tf.conv2d(x, w, c.s, c.pad).shape;
        const r = tf.tensor(seeded(yShape.reduce((a, b) => a * b, 1), 3), yShape);
        return tf.grad((wv) => tf.sum(tf.mul(tf.conv2d(x, wv as Tensor4D, c.s, c.pad), r)))(w);
      };
      const ref = await on('cpu', grad);
      const got = await on('wasm', grad);
      expect(got.length).toBe(ref.length);
      expect(relErr(got, ref)).toBeLessThan(1e-4);
    });
  }

  it('matches cpu on the per-tap path (one image, ≥ 32 input and output channels)', async () => {
    const xs = seeded(1 * 10 * 9 * 32, 51);
    const ws = seeded(3 * 3 * 32 * 40, 52);
    const grad = (): Tensor => {
      const x = tf.tensor4d(xs, [1, 10, 9, 32]);
      const w = tf.tensor4d(ws, [3, 3, 32, 40]);
      const r = tf.tensor4d(seeded(10 * 9 * 40, 53), [1, 10, 9, 40]);
      return tf.grad((wv) => tf.sum(tf.mul(tf.conv2d(x, wv as Tensor4D, 1, 'same'), r)))(w);
    };
    expect(relErr(await on('wasm', grad), await on('cpu', grad))).toBeLessThan(1e-4);
  });

  it('matches cpu through the filter gradient of conv2dTranspose (stride 2, same; kernels 2 and 3)', async () => {
    for (const k of [2, 3]) {
      const xs = seeded(2 * 5 * 5 * 4, 11 + k);
      const ws = seeded(k * k * 3 * 4, 5); // [kh, kw, outChannels, inChannels]
      const rs = seeded(2 * 10 * 10 * 3, 13);
      const grad = (): Tensor => {
        const x = tf.tensor4d(xs, [2, 5, 5, 4]);
        const w = tf.tensor4d(ws, [k, k, 3, 4]);
        const r = tf.tensor4d(rs, [2, 10, 10, 3]);
        return tf.grad((wv) =>
          tf.sum(tf.mul(tf.conv2dTranspose(x, wv as Tensor4D, [2, 10, 10, 3], 2, 'same'), r)),
        )(w);
      };
      const ref = await on('cpu', grad);
      const got = await on('wasm', grad);
      expect(relErr(got, ref)).toBeLessThan(1e-4);
    }
  });

  it('accepts NCHW inputs (same result as NHWC)', async () => {
    const xs = seeded(2 * 7 * 6 * 3, 31);
    const ds = seeded(2 * 4 * 3 * 5, 32);
    const nhwc = await on('wasm', () =>
      conv2dBackpropFilterComposed(tf, tf.tensor4d(xs, [2, 7, 6, 3]), tf.tensor4d(ds, [2, 4, 3, 5]), [3, 3, 3, 5], 2, 'same'));
    const nchw = await on('wasm', () =>
      conv2dBackpropFilterComposed(
        tf,
        tf.transpose(tf.tensor4d(xs, [2, 7, 6, 3]), [0, 3, 1, 2]),
        tf.transpose(tf.tensor4d(ds, [2, 4, 3, 5]), [0, 3, 1, 2]),
        [3, 3, 3, 5], 2, 'same', 'NCHW'));
    expect(relErr(nchw, nhwc)).toBeLessThan(1e-6);
  });

  it('runs as the wasm kernel and does not leak tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(seeded(1 * 6 * 6 * 2, 1), [1, 6, 6, 2]);
    const dy = tf.tensor4d(seeded(1 * 3 * 3 * 3, 2), [1, 3, 3, 3]);
    const before = tf.memory().numTensors;
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] };
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as Tensor;
    expect(dw.shape).toEqual([3, 3, 2, 3]);
    dw.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
  });
});

describe('wasm Conv2DBackpropInput (stride 1 as one convolution)', () => {
  it('replaces the wasm kernel once, even when registered twice', () => {
    expect(WASM_TRAINING_KERNELS).toContain('Conv2DBackpropInput');
    expect(registerWasmTrainingKernels(tf)).toEqual([]);
    expect((tf.getKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc as { focal?: boolean }).focal).toBe(true);
  });

  // Stride 1 takes the fast path; stride 2 and the explicit-padding case exercise the rest.
  const cases: Array<{ x: [number, number, number, number]; k: [number, number]; s: 1 | 2; pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] }> = [
    { x: [2, 9, 9, 3], k: [3, 3], s: 1, pad: 'same' },
    { x: [1, 10, 7, 4], k: [3, 3], s: 1, pad: 'valid' },
    { x: [2, 8, 8, 5], k: [1, 1], s: 1, pad: 'same' },
    { x: [1, 8, 9, 2], k: [2, 2], s: 1, pad: 'same' },
    { x: [1, 7, 8, 3], k: [3, 5], s: 1, pad: 'same' },
    { x: [1, 9, 9, 2], k: [3, 3], s: 1, pad: [[0, 0], [2, 0], [1, 1], [0, 0]] },
    { x: [2, 9, 9, 3], k: [3, 3], s: 2, pad: 'same' },
  ];
  for (const c of cases) {
    it(`matches cpu: x ${c.x.join('×')}, ${c.k.join('×')}, stride ${c.s}, ${JSON.stringify(c.pad)}`, async () => {
      const cout = 4;
      const xs = seeded(c.x.reduce((a, b) => a * b, 1), 17 + c.k[0] + c.s);
      const ws = seeded(c.k[0] * c.k[1] * c.x[3] * cout, 29);
      const filterShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], cout];
      // dL/dX of sum(conv2d(x, W) ⊙ R): exercises Conv2DBackpropInput through the gradient.
      const grad = (): Tensor => {
        const x = tf.tensor4d(xs, c.x);
        const w = tf.tensor4d(ws, filterShape);
        const yShape = tf.conv2d(x, w, c.s, c.pad).shape;
        const r = tf.tensor(seeded(yShape.reduce((a, b) => a * b, 1), 5), yShape);
        return tf.grad((xv) => tf.sum(tf.mul(tf.conv2d(xv as Tensor4D, w, c.s, c.pad), r)))(x);
      };
      const ref = await on('cpu', grad);
      const got = await on('wasm', grad);
      expect(got.length).toBe(ref.length);
      expect(relErr(got, ref)).toBeLessThan(1e-5);
    });
  }

  it('matches cpu for conv2dTranspose with stride 1 (its forward pass is this kernel)', async () => {
    const xs = seeded(2 * 6 * 6 * 4, 41);
    const ws = seeded(3 * 3 * 3 * 4, 43);
    const f = (): Tensor => tf.conv2dTranspose(tf.tensor4d(xs, [2, 6, 6, 4]), tf.tensor4d(ws, [3, 3, 3, 4]), [2, 6, 6, 3], 1, 'same');
    expect(relErr(await on('wasm', f), await on('cpu', f))).toBeLessThan(1e-5);
  });

  it('does not leak tensors', async () => {
    await tf.setBackend('wasm');
    const dy = tf.tensor4d(seeded(1 * 6 * 6 * 3, 2), [1, 6, 6, 3]);
    const filter = tf.tensor4d(seeded(3 * 3 * 2 * 3, 3), [3, 3, 2, 3]);
    const before = tf.memory().numTensors;
    const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 6, 6, 2] } as never) as Tensor;
    expect(dx.shape).toEqual([1, 6, 6, 2]);
    dx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([dy, filter]);
  });
});

describe('training on wasm', () => {
  it('a tiny U-Net (the Deep-R layer set) trains and its loss falls', async () => {
    await tf.setBackend('wasm');
    const inp = tf.input({ shape: [16, 16, 1] });
    const c1 = tf.layers.leakyReLU({ alpha: 0.1 }).apply(
      tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(inp),
    ) as SymbolicTensor;
    const c1b = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(c1) as SymbolicTensor;
    const res = tf.layers.add().apply([c1, c1b]) as SymbolicTensor;
    const p = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(res) as SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(p) as SymbolicTensor;
    const up = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(c2) as SymbolicTensor;
    const up2 = tf.layers.upSampling2d({ size: [2, 2] }).apply(c2) as SymbolicTensor;
    const cat = tf.layers.concatenate().apply([res, up, up2]) as SymbolicTensor;
    const out = tf.layers.activation({ activation: 'tanh' }).apply(
      tf.layers.conv2d({ filters: 1, kernelSize: 1, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }).apply(cat),
    ) as SymbolicTensor;
    const model = tf.model({ inputs: inp, outputs: out });

    const x = tf.tensor4d(seeded(4 * 16 * 16, 21), [4, 16, 16, 1]);
    const y = tf.tidy(() => tf.mul(tf.avgPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, 'valid'), 2).tanh()); // a smoothing task
    const opt = tf.train.adam(0.01);
    const losses: number[] = [];
    for (let step = 0; step < 8; step++) {
      const loss = opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as Tensor), true)!;
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    expect(tf.getBackend()).toBe('wasm');
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! * 0.8);
    tf.dispose([x, y]);
    model.dispose();
    opt.dispose();
  });
});
