/**
 * What a network run in tiles holds beside the image: onnxruntime's session and the tensors of
 * one network tile, against core's estimate (`unetActivationFloats` × 4 bytes a pixel, which
 * a streamed run's budget counts through TilingPlan.workingBytes / tsva.slide's bandBytes).
 * For four bundled packages at tiles of 256, 512 and 1024 px: the growth of the process's RSS
 * over creating the session and running four tiles, each in a fresh child process (an arena
 * does not shrink, so one process per row).
 *
 * Writes the section between <!-- bench:network-memory --> markers in docs/benchmarks.md.
 * Run: `npx tsc -p tsconfig.build.json && node dist/bench/network-memory.js [--no-docs]`
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledModelsDir, createOnnxEngine, unetActivationFloats, type UNetOptions } from '../core/ml.js';
import { unetOptionsFor, TsvaNetSchema } from '../plugins/tsva/model.js';
import { refocuserOptions, stainerOptions } from '../plugins/staining/model.js';
import { deeprGeneratorOptions } from '../plugins/deepr/model.js';
import { generatorActivationFloats } from '../plugins/virfluonet/model.js';
import { describeMachine, isoDate, isMain, machineInfo, runBenchMain, writeBenchDocs } from './common.js';

interface Net {
  model: string;
  what: string;
  inputs: number;
  channels: number;
  /** The count the budget uses (floats per pixel of a network tile). */
  floats: number;
  /** Which function gives it. */
  counter: string;
}

const unet = (options: UNetOptions) => ({ floats: unetActivationFloats(options), counter: 'unetActivationFloats' });
const NETS: Net[] = [
  { model: 'tsva-demo', what: 'TSVA (two RGB paths, base 8, 3 levels)', inputs: 2, channels: 3, ...unet(unetOptionsFor('tsva', TsvaNetSchema.parse({}))) },
  { model: 'tsva-unet-baseline-demo', what: 'its U-Net baseline', inputs: 1, channels: 3, ...unet(unetOptionsFor('unet', TsvaNetSchema.parse({}))) },
  { model: 'staining-demo', what: 'staining G_VS (base 8, 4 levels, 3 convs, residual)', inputs: 1, channels: 2, ...unet(stainerOptions(8)) },
  { model: 'staining-cascade-demo', what: 'cascade G_DR (base 8, 5 levels, residual)', inputs: 1, channels: 2, ...unet(refocuserOptions(8)) },
  { model: 'deepr-demo', what: 'Deep-R (base 8, 5 levels)', inputs: 1, channels: 1, ...unet(deeprGeneratorOptions({ baseChannels: 8, levels: 5 })) },
  { model: 'virfluonet-cp-cy5', what: 'VirFluoNet generator (2 channels, base 16, 5 levels)', inputs: 1, channels: 2, floats: generatorActivationFloats({ inputChannels: 2, baseChannels: 16, levels: 5, discriminatorChannels: 8 }), counter: 'generatorActivationFloats' },
];
const SIZES = [256, 512, 1024];
const MiB = 1024 * 1024;

/** In a child: the RSS growth (bytes) over creating the session, and over four runs of one tile. */
async function measureHere(model: string, px: number, channels: number, inputs: number): Promise<{ session: number; tensors: number }> {
  const r0 = process.memoryUsage().rss;
  const engine = await createOnnxEngine(join(bundledModelsDir(), model, 'model.onnx'), { threads: 2 });
  const r1 = process.memoryUsage().rss;
  let peak = r1;
  const input = new Float32Array(px * px * channels * inputs).fill(0.5);
  for (let i = 0; i < 4; i++) {
    await engine.run(input, [1, px, px, channels * inputs]);
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  await engine.dispose();
  // the input and output arrays are the caller's (counted by the ops as their working copies)
  return { session: r1 - r0, tensors: peak - r1 - input.byteLength - (px * px * channels * 4) };
}

export async function bench(args: { has(flag: string): boolean }): Promise<string> {
  const machine = machineInfo();
  const rows: string[] = [];
  const self = fileURLToPath(import.meta.url);
  for (const net of NETS) {
    const estimate = net.floats * 4;
    for (const px of SIZES) {
      const out = execFileSync(process.execPath, [self, '--child', net.model, String(px), String(net.channels), String(net.inputs)], { encoding: 'utf8' });
      const m = JSON.parse(out.trim().split('\n').at(-1)!) as { session: number; tensors: number };
      const perPx = m.tensors / (px * px);
      rows.push(`| ${net.model} | ${net.what} | ${px} | ${(m.session / MiB).toFixed(0)} | ${(m.tensors / MiB).toFixed(0)} | ${perPx.toFixed(0)} | ${estimate.toFixed(0)} | ${(perPx / estimate).toFixed(2)} |`);
      process.stderr.write(`${rows.at(-1)}\n`);
    }
  }
  const md = [
    "## A network's memory beside the image: onnxruntime's session and one tile's tensors (`bench/network-memory.ts`)",
    '',
    `${isoDate()}, ${describeMachine(machine)}. \`node dist/bench/network-memory.js\`: onnxruntime-node, 2 threads, one fresh process per row; RSS growth over creating the session, and over four runs of one tile (less the tile's input and output arrays, which the ops count as their own). Estimate: core's \`unetActivationFloats\` (VirFluoNet: its \`generatorActivationFloats\`) × 4 bytes, what a streamed run's budget counts per pixel of a network tile (plus 48 MiB for the session).`,
    '',
    '| package | network | tile (px) | session (MiB) | tensors (MiB) | tensors (B/px) | estimate (B/px) | measured / estimate |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  await writeBenchDocs({ writeDocs: !args.has('--no-docs') }, 'network-memory', md, (m) => process.stderr.write(`${m}\n`));
  return md;
}

if (isMain(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [model, px, channels, inputs] = [argv[1], Number(argv[2]), Number(argv[3]), Number(argv[4])];
    measureHere(model, px, channels, inputs).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`), (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    });
  } else runBenchMain(bench, (md) => md);
}
