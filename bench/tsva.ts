/**
 * TSVA inference benchmark (plugins/tsva/bench.ts) on the shipped demo model; writes the
 * section between <!-- bench:tsva --> markers in docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/tsva.js [--no-docs] [--model models/tsva-demo]
 */
import { benchTsva, SCANNER_TILE } from '../plugins/tsva/bench.js';
import { isoDate, writeBenchDocs } from './common.js';

const i = process.argv.indexOf('--model');
const model = i >= 0 ? process.argv[i + 1] : 'models/tsva-demo';
const r = await benchTsva(model);
const lines = [
  '## TSVA two-shot refocus (`bench/tsva.ts`, plugins/tsva/bench.ts)',
  '',
  `The shipped demo model (models/tsva-demo) on one scanner tile of the paper's size (${SCANNER_TILE.width} × ${SCANNER_TILE.height} px RGB, two shots), tiled as the package says (${r.tilePx} px tiles, ${r.haloPx} px halo: ${r.networkTiles} network tiles of ${r.tilePx}² px, two 3-channel inputs each), Brenner ordering included. s/cm² at ${r.pixelSizeUm} µm px (${((1e4 / r.pixelSizeUm) ** 2 / (SCANNER_TILE.width * SCANNER_TILE.height)).toFixed(0)} scanner tiles per cm², no overlap). Median of 2 runs after a warm-up. ${isoDate()}, ${r.machine} (a machine shared with other jobs: treat as an upper bound).`,
  '',
  '| engine | s per scanner tile | network tiles/s | s/cm² |',
  '|---|---|---|---|',
  ...r.rows.map((x) => `| ${x.engine} | ${x.secondsPerTile.toFixed(2)} | ${x.networkTilesPerSecond.toFixed(1)} | ${x.secondsPerCm2.toFixed(0)} |`),
];
console.log(lines.join('\n'));
await writeBenchDocs({ writeDocs: !process.argv.includes('--no-docs') }, 'tsva', lines.join('\n'), console.log);
