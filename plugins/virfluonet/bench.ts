/**
 * VirFluoNet prediction benchmark: one 1024 × 1024 px simulated Cell-Painting field (the
 * model's input channels), the shipped model, tiled as its package says; onnxruntime (1 and 2
 * threads) and tfjs. Median of `reps` runs after a warm-up.
 *   npx tsc -p tsconfig.build.json && nice node dist/plugins/virfluonet/bench.js [--model virfluonet-cp-cy5] [--reps 3]
 */
import { cpus, loadavg } from 'node:os';
import { renderMultiChannel } from '../../core/specimens.js';
import { createInferenceEngine } from '../../core/ml.js';
import { resolveModelDir } from '../../core/ml.js';
import { loadVirFluoNetPackage } from './package.js';
import { predictField } from './predict.js';

export interface BenchRow {
  engine: string;
  secondsPerField: number;
  networkTiles: number;
}

export async function benchVirFluoNet(model: string, sizePx = 1024, reps = 3): Promise<{ rows: BenchRow[]; tilePx: number; haloPx: number; machine: string }> {
  const { pkg, meta } = await loadVirFluoNetPackage(resolveModelDir(model));
  const m = pkg.manifest;
  const r = renderMultiChannel({ family: meta.family, widthPx: sizePx, heightPx: sizePx, seed: 900_001, channels: meta.inputs.map((c) => c.name), pixelSizeUm: meta.optics.pixelSizeUm });
  const planes = r.channels.map((c) => Float32Array.from(c.image));
  const rows: BenchRow[] = [];
  const configs: [string, Parameters<typeof createInferenceEngine>[1]][] = [['onnxruntime, 2 threads', { engine: 'onnxruntime', threads: 2 }], ['onnxruntime, 1 thread', { engine: 'onnxruntime', threads: 1 }], ['tfjs (wasm here)', { engine: 'tfjs' }]];
  for (const [name, opts] of configs) {
    const engine = await createInferenceEngine(pkg, opts);
    let tiles = 0;
    const counting = { ...engine, run: (x: Float32Array, s: [number, number, number, number]) => ((tiles += s[0]), engine.run(x, s)) };
    const o = { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf ?? 1 };
    await predictField(planes, sizePx, sizePx, meta, counting, o);
    const times: number[] = [];
    for (let k = 0; k < reps; k++) {
      const t0 = performance.now();
      await predictField(planes, sizePx, sizePx, meta, engine, o);
      times.push((performance.now() - t0) / 1000);
    }
    await engine.dispose();
    rows.push({ engine: name, secondsPerField: times.sort((a, b) => a - b)[Math.floor(times.length / 2)], networkTiles: tiles });
  }
  return { rows, tilePx: m.tilePx, haloPx: m.haloPx, machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}` };
}

if (process.argv[1] && /bench\.(js|ts)$/.test(process.argv[1])) {
  const arg = (n: string, d: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i >= 0 ? process.argv[i + 1] : d;
  };
  const model = arg('model', 'virfluonet-cp-cy5');
  const res = await benchVirFluoNet(model, 1024, Number(arg('reps', '3')));
  console.log(`VirFluoNet ${model}, 1024² field, ${res.tilePx}-px tiles, ${res.haloPx}-px halo (${res.rows[0].networkTiles} network tiles); ${new Date().toISOString().slice(0, 10)}, ${res.machine}`);
  console.log('| engine | s per 1024² field | network tiles |\n|---|---|---|');
  for (const r of res.rows) console.log(`| ${r.engine} | ${r.secondsPerField.toFixed(2)} | ${r.networkTiles} |`);
}
