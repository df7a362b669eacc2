/**
 * TSVA inference benchmark (plugins/tsva/bench.ts) on the shipped demo model; writes the
 * section between <!-- bench:tsva --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/tsva.js [--no-docs] [--model models/tsva-demo] [--baseline models/tsva-unet-baseline-demo]
 */
import { benchTsva, PREVIOUS_TILING, SCANNER_TILE, TILING_BORDER_PX } from '../plugins/tsva/bench.js';
import { isoDate, writeBenchDocs } from './common.js';

const arg = (name: string, fallback: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : fallback; };
const model = arg('--model', 'models/tsva-demo');
const baseline = arg('--baseline', 'models/tsva-unet-baseline-demo');
const r = await benchTsva(model);
const u = await benchTsva(baseline);
const lines = [
  '## TSVA two-shot refocus (`bench/tsva.ts`, plugins/tsva/bench.ts)',
  '',
  `The shipped demo model (${model}, ${r.arch} ${r.version}) and, side by side in the same run, its reference, the single-shot U-Net baseline (${baseline}, ${u.arch} ${u.version}: same width and depth, one path), on one scanner tile of the paper's size (${SCANNER_TILE.width} × ${SCANNER_TILE.height} px RGB, two shots), tiled as the package says (${r.tilePx} px tiles, ${r.haloPx} px halo: ${r.networkTiles} network tiles of ${r.tilePx}² px), Brenner ordering included. s/cm² at ${r.pixelSizeUm} µm px (${((1e4 / r.pixelSizeUm) ** 2 / (SCANNER_TILE.width * SCANNER_TILE.height)).toFixed(0)} scanner tiles per cm², no overlap). Median of 2 runs after a warm-up. ${isoDate()}, ${r.machine} (a machine shared with other jobs: treat as an upper bound).`,
  '',
  '| engine | TSVA s per scanner tile | network tiles/s | s/cm² | U-Net s per scanner tile | TSVA / U-Net time |',
  '|---|---|---|---|---|---|',
  ...r.rows.map((x, k) => `| ${x.engine} | ${x.secondsPerTile.toFixed(2)} | ${x.networkTilesPerSecond.toFixed(1)} | ${x.secondsPerCm2.toFixed(0)} | ${u.rows[k].secondsPerTile.toFixed(2)} | ${(x.secondsPerTile / u.rows[k].secondsPerTile).toFixed(2)} |`),
  '',
  `Tiling (onnxruntime, 2 threads, same run): the package's against the ${PREVIOUS_TILING.tilePx} px tiles with a ${PREVIOUS_TILING.haloPx} px halo that 0.6.0 and earlier packages first recorded, each compared with one pass of the network over the whole scanner tile, at least ${TILING_BORDER_PX} px from its edge (an impulse changes the networks' output up to 59 px away; past 48 px very little).`,
  '',
  '| model | tiling | s per scanner tile | max \\|tiled − one pass\\| (of 255) |',
  '|---|---|---|---|',
  ...([[r, 'TSVA'], [u, 'U-Net']] as const).flatMap(([x, name]) => x.tilings.map((t) => `| ${name} | ${t.tilePx} px, halo ${t.haloPx} px${t.tilePx === x.tilePx && t.haloPx === x.haloPx ? " (the package's)" : ''} | ${t.secondsPerTile.toFixed(2)} | ${t.maxDiffOf255 < 0.01 ? t.maxDiffOf255.toExponential(1) : t.maxDiffOf255.toFixed(2)} |`)),
  '',
  `Cancelled 0.3 s into a scanner tile (onnxruntime, 2 threads, the package's tiling), refocus stopped with E_CANCELLED after ${r.cancelSeconds.map((x) => x.toFixed(2)).join(', ')} s (TSVA) and ${u.cancelSeconds.map((x) => x.toFixed(2)).join(', ')} s (U-Net): it checks between network tiles.`,
  '',
  `The consistency guard (\`guard: 'consistency'\`, off by default) adds at most ${r.guardSecondsPerTile.toFixed(2)} s per scanner tile (all three colour channels fitted; median of 2; it stops early once a channel's weight is 0).`,
  '',
  `Shots of another calibrated pixel size (\`resample: 'auto'\`, the default: refocused on the model's ${r.pixelSizeUm} µm grid, the correction resampled back), TSVA, onnxruntime 2 threads, medians of 2 beside the plain run in the same process: ${r.resampled.map((x) => `${x.pixelSizeUm} µm pixels ${x.secondsPerTile.toFixed(2)} s per scanner tile against ${x.plainSecondsPerTile.toFixed(2)} s as given (${(x.secondsPerTile / x.plainSecondsPerTile).toFixed(2)}×)`).join('; ')}.`,
  '',
  `The two-shot focus error (\`deltaDUm\` in tsva.slide's table; no network, 72 windows of 128 px): ${r.focusSecondsPerTile.toFixed(2)} s per scanner tile (median of 2), ${r.focusFirstSeconds.toFixed(2)} s for the first, which also makes its transfer-function table.`,
];
console.log(lines.join('\n'));
await writeBenchDocs({ writeDocs: !process.argv.includes('--no-docs') }, 'tsva', lines.join('\n'), console.log);
