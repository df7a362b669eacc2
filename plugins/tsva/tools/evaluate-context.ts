/**
 * How much of a scanner tile the network sees at once (the ops' `tileSize` / `overlapPx`):
 *   node dist/plugins/tsva/tools/evaluate-context.js [--model tsva-demo] [--out plugins/tsva/docs/context]
 * The demo networks were trained on 64 px patches, zero-padded at every border, so almost every
 * pixel they learned from lies within their reach (72 px) of a border. The package's tiling
 * (512 px tiles, 48 px halo) shows them interiors they never saw. Here each 256 px scanner tile
 * (independent noise, in-focus plane by Brenner; ΔD −3…+3 µm without ±0.5 µm, where Y1 is in
 * focus) is refocused through core's tiledInference with several tilings, on both datasets'
 * sweeps and the two real images (evaluate-real.ts's, as thin sections), and each 64 px block is
 * also refocused alone, to compare the same pixels with and without the rest of the tile around
 * them. PSNR (dB, RGB, data range 1) against the in-focus plane; paired differences with 95 %
 * bootstrap intervals; the mean level of the output minus the target's. Writes
 * <out>/evaluation.md and evaluation.json.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { psnr } from '../../../core/imaging.js';
import { tiledInference } from '../../../core/ml.js';
import { openModel } from '../ops/common.js';
import { SWEEP_UM } from '../recipes.js';
import { simulateDataset, simulateFromImage, type TsvaPatch } from '../simulate.js';
import { flagValue, fmt, mean, pairDiff, PSNR_CAP_DB, whiteBalanced, withInterval } from './report.js';

const argv = process.argv.slice(2);
const modelName = flagValue(argv, 'model', 'tsva-demo');
const outDir = flagValue(argv, 'out', 'plugins/tsva/docs/context');
const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
const PX = 256;
const BLOCK = 64;

const m = await openModel({ model: modelName });
const CONFIGS: { label: string; tilePx: number; haloPx: number; blendPx?: number }[] = [
  { label: `package (${m.tilePx} px, halo ${m.haloPx})`, tilePx: m.tilePx, haloPx: m.haloPx },
  { label: '128 px, halo 32', tilePx: 128, haloPx: 32 },
  { label: '64 px, halo 16', tilePx: 64, haloPx: 16 },
  { label: '64 px, no halo, 32 px blend', tilePx: 64, haloPx: 0, blendPx: 32 },
];
const t0 = performance.now();

async function refocus(y1: Float32Array, y2: Float32Array, size: number, tiling: { tilePx: number; haloPx: number; blendPx?: number }): Promise<Float32Array> {
  const n = size * size;
  const channels: Float32Array[] = [];
  for (const s of m.meta.arch === 'unet' ? [y1] : [y1, y2]) {
    for (let c = 0; c < 3; c++) channels.push(Float32Array.from({ length: n }, (_, i) => s[i * 3 + c]));
  }
  const out = await tiledInference(channels, size, size, m.engine, { ...tiling, outChannels: 3, multipleOf: m.multipleOf });
  const hwc = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) hwc[i * 3 + c] = out[c][i];
  return hwc;
}

function block(hwc: Float32Array, bx: number, by: number): Float32Array {
  const out = new Float32Array(BLOCK * BLOCK * 3);
  for (let y = 0; y < BLOCK; y++) out.set(hwc.subarray(((by + y) * PX + bx) * 3, ((by + y) * PX + bx + BLOCK) * 3), y * BLOCK * 3);
  return out;
}

const score = (a: Float32Array, x: Float32Array) => Math.min(PSNR_CAP_DB, psnr(a, x, { dataRange: 1 }));
const meanOf = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;

interface SetResult { name: string; tiles: number; y1: number[]; tilings: number[][]; blocks: { y1: number[]; inTile: number[]; alone: number[]; levelInTile: number[]; levelAlone: number[] } }
const results: SetResult[] = [];

async function evaluate(name: string, all: TsvaPatch[]): Promise<void> {
  const patches = all.filter((p) => Math.abs(Math.abs(p.deltaDUm) - 0.5) > 1e-9);
  const r: SetResult = { name, tiles: patches.length, y1: [], tilings: CONFIGS.map(() => []), blocks: { y1: [], inTile: [], alone: [], levelInTile: [], levelAlone: [] } };
  for (const p of patches) {
    r.y1.push(score(p.y1, p.x));
    const outs: Float32Array[] = [];
    for (const [k, cfg] of CONFIGS.entries()) {
      outs.push(await refocus(p.y1, p.y2, PX, cfg));
      r.tilings[k].push(score(outs[k], p.x));
    }
    for (let by = 0; by < PX; by += BLOCK) {
      for (let bx = 0; bx < PX; bx += BLOCK) {
        const [y1, y2, x, inTile] = [p.y1, p.y2, p.x, outs[0]].map((a) => block(a, bx, by));
        const alone = await refocus(y1, y2, BLOCK, { tilePx: BLOCK, haloPx: 0, blendPx: 0 });
        r.blocks.y1.push(score(y1, x));
        r.blocks.inTile.push(score(inTile, x));
        r.blocks.alone.push(score(alone, x));
        r.blocks.levelInTile.push(meanOf(inTile) - meanOf(x));
        r.blocks.levelAlone.push(meanOf(alone) - meanOf(x));
      }
    }
  }
  results.push(r);
  console.log(`${name}: ${patches.length} tiles (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

try {
  const common = { patchPx: PX, patchesPerSide: 1, noise: 'independent' as const, focus: 'brenner' as const };
  await evaluate('Dataset 1 (he-gland), sweep', simulateDataset({ family: 'he-gland', tiles: 3, seed: 838, deltaD: SWEEP_UM, ...common }));
  await evaluate('Dataset 2 (he-skin, never trained on), sweep', simulateDataset({ family: 'he-skin', tiles: 3, seed: 939, deltaD: SWEEP_UM, ...common }));
  for (const file of ['ihc.png', 'cell.png'].map((f) => join(SKIMAGE, f)).filter((f) => existsSync(f))) {
    const img = await whiteBalanced(file);
    await evaluate(`${basename(file, '.png')} (real image as a thin section), sweep`, simulateFromImage({ name: basename(file, '.png'), ...img, patchPx: PX, seed: 19, deltaD: SWEEP_UM, noise: 'independent', focus: 'brenner' }));
  }
} finally {
  await m.engine.dispose();
}

const lines = [
  `# Context: how much of a tile the network sees (${m.name})`,
  '',
  `Generated by \`node dist/plugins/tsva/tools/evaluate-context.js --model ${modelName}\` on ${new Date().toISOString().slice(0, 10)} (${((performance.now() - t0) / 1000).toFixed(0)} s). ${PX} px tiles, independent noise, in-focus plane by Brenner, ΔD −3…+3 µm without ±0.5 µm. PSNR in dB; Δ paired per tile (or block), 95 % bootstrap interval.`,
  '',
  `## The whole tile, by tiling (\`tileSize\` / \`overlapPx\`)`,
  '',
  `| set | tiles | Y1 | ${CONFIGS.map((c) => c.label).join(' | ')} | Δ 64 px halo 16 − package |`,
  `|---|---|---|${CONFIGS.map(() => '---').join('|')}|---|`,
];
const small = CONFIGS.findIndex((c) => c.tilePx === 64 && c.haloPx === 16);
for (const r of results) lines.push(`| ${r.name} | ${r.tiles} | ${fmt(mean(r.y1))} | ${r.tilings.map((t) => fmt(mean(t))).join(' | ')} | ${withInterval(pairDiff(r.tilings[small], r.tilings[0]))} |`);
lines.push(
  '',
  `## The same ${BLOCK} px blocks: cut from the package's tiling of the whole tile, or refocused alone`,
  '',
  '| set | blocks | Y1 | in the tile | alone | Δ alone − in the tile | level − target, in the tile | alone |',
  '|---|---|---|---|---|---|---|---|',
);
for (const r of results) {
  const b = r.blocks;
  lines.push(`| ${r.name} | ${b.y1.length} | ${fmt(mean(b.y1))} | ${fmt(mean(b.inTile))} | ${fmt(mean(b.alone))} | ${withInterval(pairDiff(b.alone, b.inTile))} | ${mean(b.levelInTile).toExponential(1)} | ${mean(b.levelAlone).toExponential(1)} |`);
}
lines.push('');
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'evaluation.md'), lines.join('\n'));
await writeFile(join(outDir, 'evaluation.json'), JSON.stringify({ model: modelName, configs: CONFIGS, results }, null, 1));
console.log(lines.join('\n'));
