/**
 * Deep-learning runtime: one 3×3, 64 → 64 channel convolution on a 512 × 512 image
 * (forward, batch 1, 'same', no bias; 19.3 GFLOP counting a multiply–add as 2) on tfjs's cpu backend, tfjs-wasm
 * and onnxruntime-node (1 and 2 intra-op threads, the model exported by core/ml/onnx),
 * and the filter gradient (Conv2DBackpropFilter) of the same convolution at 128 × 128
 * on cpu (tfjs's kernel) and wasm (core/ml/wasm-kernels.ts's composition).
 *
 * Writes the section between <!-- bench:ml-runtime --> markers in docs/benchmarks.md.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/ml-runtime.js`
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTf } from '../core/ml/backend.js';
import { wasmStockKernel } from '../core/ml/wasm-kernels.js';

interface Row {
  what: string;
  runs: number[];
  gflop: number;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function timeAsync(fn: () => Promise<unknown>, reps: number, warmUp = true): Promise<number[]> {
  if (warmUp) await fn(); // kernel set-up, XNNPACK packing, ORT session first run
  const runs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    runs.push((performance.now() - t) / 1000);
  }
  return runs;
}

export async function runMlRuntimeBench(options: { writeDocs?: boolean; docsPath?: string; log?: (m: string) => void } = {}): Promise<string> {
  const log = options.log ?? ((m: string) => console.log(m));
  const { tf } = await loadTf({ backend: 'wasm' });
  const S = 512;
  const C = 64;
  const fwdGflop = (2 * S * S * C * C * 9) / 1e9;
  const xs = seeded(S * S * C, 1);
  const ws = seeded(9 * C * C, 2).map((v) => v * 0.05);
  const rows: Row[] = [];

  // The pure-JS cpu backend takes about a minute per run here: one run, no warm-up.
  const forward = async (backend: 'cpu' | 'wasm', reps: number): Promise<Float32Array> => {
    await tf.setBackend(backend);
    const x = tf.tensor4d(xs, [1, S, S, C]);
    const w = tf.tensor4d(ws, [3, 3, C, C]);
    let out: Float32Array = new Float32Array(0);
    const runs = await timeAsync(async () => {
      const y = tf.conv2d(x, w, 1, 'same');
      out = (await y.data()) as Float32Array;
      y.dispose();
    }, reps, backend === 'wasm');
    tf.dispose([x, w]);
    rows.push({ what: `tfjs ${backend} backend${backend === 'wasm' ? ' (XNNPACK, SIMD, 1 thread)' : ''}`, runs, gflop: fwdGflop });
    log(`forward ${backend}: ${runs.map((r) => r.toFixed(3)).join(', ')} s`);
    return out;
  };
  const ref: Float32Array = await forward('wasm', 5);
  await forward('cpu', 1);

  // onnxruntime-node on the same convolution, exported from a one-layer tf.LayersModel.
  let ortNote = '';
  try {
    const { exportOnnx } = await import('../core/ml/onnx/export.js');
    const ort = await (await import('../core/ml/inference.js')).loadOnnxRuntime();
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [S, S, C], filters: C, kernelSize: 3, padding: 'same', useBias: false })],
    });
    model.layers[0]!.setWeights([tf.tensor4d(ws, [3, 3, C, C])]);
    const bytes = exportOnnx(model);
    for (const threads of [1, 2]) {
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      const input = new ort.Tensor('float32', xs, [1, S, S, C]);
      let out: Float32Array = new Float32Array(0);
      const runs = await timeAsync(async () => {
        const r = await session.run({ [session.inputNames[0]!]: input });
        out = r[session.outputNames[0]!]!.data as Float32Array;
      }, 5);
      let maxDiff = 0;
      let maxRef = 0;
      for (let i = 0; i < out.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(out[i]! - ref[i]!));
        maxRef = Math.max(maxRef, Math.abs(ref[i]!));
      }
      rows.push({ what: `onnxruntime-node ${ort.env.versions.node}, ${threads} thread${threads > 1 ? 's' : ''}`, runs, gflop: fwdGflop, note: `max abs(ORT − wasm) / max abs(wasm) = ${(maxDiff / maxRef).toExponential(1)}` });
      log(`forward ort ${threads}: ${runs.map((r) => r.toFixed(3)).join(', ')} s`);
      await session.release();
    }
    model.dispose();
  } catch (err) {
    ortNote = `onnxruntime-node skipped: ${err instanceof Error ? err.message : String(err)}`;
    log(ortNote);
  }

  // Filter gradient at 256²: what training needs per conv layer and step.
  const G = 128;
  const gradGflop = (2 * G * G * C * C * 9) / 1e9;
  const gx = seeded(G * G * C, 3);
  const gdy = seeded(G * G * C, 4);
  const gradRows: Row[] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await tf.setBackend(backend);
    const x = tf.tensor4d(gx, [1, G, G, C]);
    const dy = tf.tensor4d(gdy, [1, G, G, C]);
    const runs = await timeAsync(async () => {
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, C, C] };
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as never) as import('@tensorflow/tfjs').Tensor;
      await dw.data();
      dw.dispose();
    }, backend === 'wasm' ? 5 : 1, backend === 'wasm');
    tf.dispose([x, dy]);
    gradRows.push({ what: backend === 'wasm' ? 'tfjs wasm: Focal\'s kernel (per-tap products: one image, ≥ 32 channels)' : 'tfjs cpu backend: its own kernel', runs, gflop: gradGflop });
    log(`backprop-filter ${backend}: ${runs.map((r) => r.toFixed(3)).join(', ')} s`);
  }

  // Input gradient (stride 1) at 128²: tfjs-backend-wasm's own kernel vs Focal's replacement.
  await tf.setBackend('wasm');
  const inputRows: Row[] = [];
  {
    const dy = tf.tensor4d(gdy, [1, G, G, C]);
    const filter = tf.tensor4d(seeded(9 * C * C, 5), [3, 3, C, C]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [1, G, G, C] };
    const stock = wasmStockKernel('Conv2DBackpropInput');
    let maxDiff = 0;
    let maxRef = 0;
    const ours = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as never) as import('@tensorflow/tfjs').Tensor;
    const oursData = await ours.data();
    if (stock) {
      const runs = await timeAsync(async () => {
        const info = stock({ inputs: { dy, filter }, backend: tf.backend(), attrs: attrs as never }) as import('@tensorflow/tfjs').TensorInfo;
        const t = tf.engine().makeTensorFromTensorInfo(info);
        const d = await t.data();
        for (let i = 0; i < d.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(d[i]! - oursData[i]!));
          maxRef = Math.max(maxRef, Math.abs(d[i]!));
        }
        t.dispose();
      }, 3, true);
      inputRows.push({ what: 'tfjs wasm: its own kernel', runs, gflop: gradGflop });
    }
    ours.dispose();
    const runs = await timeAsync(async () => {
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as never) as import('@tensorflow/tfjs').Tensor;
      await dx.data();
      dx.dispose();
    }, 5, true);
    inputRows.push({ what: 'tfjs wasm: Focal\'s kernel (one flipped-kernel convolution)', runs, gflop: gradGflop, note: stock ? `max abs difference / max abs = ${(maxDiff / maxRef).toExponential(1)}` : undefined });
    tf.dispose([dy, filter]);
    log(`backprop-input: ${inputRows.map((r) => median(r.runs).toFixed(3)).join(' vs ')} s`);
  }

  const fmt = (r: Row): string =>
    `| ${r.what} | ${median(r.runs).toFixed(3)} | ${Number((r.gflop / median(r.runs)).toPrecision(3))} | ${r.runs.map((v) => v.toFixed(3)).join(', ')} |${r.note ? ` ${r.note} |` : ' |'}`;
  const byName = (p: string): number | undefined => {
    const r = rows.find((x) => x.what.startsWith(p));
    return r ? median(r.runs) : undefined;
  };
  const wasm = byName('tfjs wasm')!;
  const ort2 = byName('onnxruntime-node') !== undefined ? median(rows.find((x) => x.what.endsWith('2 threads'))!.runs) : undefined;
  const cpu = byName('tfjs cpu')!;
  const c = cpus();
  const md = `<!-- bench:ml-runtime -->
## Deep-learning runtime: one convolution on each engine (bench/ml-runtime.ts)

Forward: 3 × 3 convolution, 64 → 64 channels, 512 × 512, batch 1, 'same', no bias (${fwdGflop.toFixed(2)} GFLOP, a multiply–add counted as 2), float32 NHWC. Filter and input gradients: the same convolution's Conv2DBackpropFilter and Conv2DBackpropInput at 128 × 128 (${gradGflop.toFixed(2)} GFLOP each). Median of the timed runs, after one untimed warm-up run (none for the slow cpu backend, timed once); times include reading the result back.

Machine: ${c[0]?.model.trim()}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}. Load average at the end: ${loadavg().map((v) => v.toFixed(2)).join(' ')} — measured while other jobs shared the machine.

| Forward conv 512² | Median (s) | GFLOP/s | Runs (s) | Note |
|---|---:|---:|---|---|
${rows.map(fmt).join('\n')}

${ortNote ? `${ortNote}\n\n` : ''}wasm vs cpu backend: ${(cpu / wasm).toFixed(1)}× faster.${ort2 !== undefined ? ` onnxruntime-node (2 threads) vs wasm (1 thread): ${(wasm / ort2).toFixed(1)}× faster.` : ''} tfjs-backend-wasm runs one thread in Node (its multi-threaded build is disabled there; forcing it fails, see docs/ml-runtime.md), so no 2-thread wasm row.

| Filter gradient 128² | Median (s) | GFLOP/s | Runs (s) | |
|---|---:|---:|---|---|
${gradRows.map(fmt).join('\n')}

| Input gradient 128² (stride 1) | Median (s) | GFLOP/s | Runs (s) | |
|---|---:|---:|---|---|
${inputRows.map(fmt).join('\n')}

Reproduce: \`npx tsc -p tsconfig.build.json && node dist/bench/ml-runtime.js\`
<!-- /bench:ml-runtime -->`;
  if (options.writeDocs ?? true) {
    const docs = resolve(options.docsPath ?? join('docs', 'benchmarks.md'));
    const text = readFileSync(docs, 'utf8');
    const re = /<!-- bench:ml-runtime -->[\s\S]*?<!-- \/bench:ml-runtime -->/;
    writeFileSync(docs, re.test(text) ? text.replace(re, md) : `${text.trimEnd()}\n\n${md}\n`);
  }
  return md;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runMlRuntimeBench().then(
    (md) => {
      console.log(md);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
