/**
 * Scanner tiles, model against model: pairs the per-tile PSNR of two or more evaluate-context runs
 * (their evaluation.json) at each run's package tiling:
 *   node dist/plugins/tsva/tools/compare-context.js --run <label>=<evaluation.json> --run … \
 *     [--pair <label a>:<label b> …] [--out <file.md>]
 * Every run must have scored the same tiles (evaluate-context's fixed seeds; checked through Y1's
 * PSNR, tile by tile). Each `--pair a:b` adds a column a − b, paired per tile, with its 95 %
 * bootstrap interval. Writes the table to --out (default: stdout only).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { flagValue, flagValues, fmt, labelledPath, mean, pairDiff, withInterval } from './report.js';

interface SetResult { name: string; tiles: number; y1: number[]; tilings: number[][] }
interface ContextRun { model: string; configs: { label: string }[]; results: SetResult[] }

const argv = process.argv.slice(2);
const runs = await Promise.all(
  flagValues(argv, 'run').map(async (value) => {
    const { label, path } = labelledPath(value, 'run');
    let parsed: ContextRun;
    try {
      parsed = JSON.parse(await readFile(path, 'utf8')) as ContextRun;
    } catch (err) {
      throw new Error(`--run ${value}: cannot read ${path} as an evaluate-context evaluation.json (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed.results) || !Array.isArray(parsed.configs)) throw new Error(`--run ${value}: ${path} has no results/configs: not an evaluate-context evaluation.json`);
    return { label, path, run: parsed };
  }),
);
if (runs.length < 2) throw new Error('compare-context: give at least two --run <label>=<evaluation.json>');
const byLabel = new Map(runs.map((r) => [r.label, r]));
if (byLabel.size !== runs.length) throw new Error('compare-context: two --run share a label');
const pairs = flagValues(argv, 'pair').map((p) => {
  const [a, b] = p.split(':');
  if (!byLabel.has(a) || !byLabel.has(b)) throw new Error(`--pair ${p}: expected <label>:<label> of two --run labels (${[...byLabel.keys()].join(', ')})`);
  return [a, b] as const;
});

const reference = runs[0];
for (const r of runs.slice(1)) {
  for (const [i, set] of reference.run.results.entries()) {
    const other = r.run.results[i];
    const same = other !== undefined && other.name === set.name && other.y1.length === set.y1.length && other.y1.every((v, k) => Math.abs(v - set.y1[k]) < 1e-9);
    if (!same) throw new Error(`--run ${r.label}=${r.path}: its set ${i + 1} (${other?.name ?? 'missing'}) is not the tiles of ${reference.label}'s (${set.name}); rerun evaluate-context with the same code`);
  }
}

const lines = [
  `Scanner tiles (evaluate-context's 256 px tiles), each model at its package's tiling; PSNR in dB; Δ paired per tile, 95 % bootstrap interval. Runs: ${runs.map((r) => `${r.label} = ${r.run.model} (${r.run.configs[0].label})`).join('; ')}.`,
  '',
  `| set | tiles | Y1 | ${runs.map((r) => r.label).join(' | ')} | ${pairs.map(([a, b]) => `Δ ${a} − ${b}`).join(' | ')} |`,
  `|---|---|---|${runs.map(() => '---').join('|')}|${pairs.map(() => '---').join('|')}|`,
];
const tiles = (label: string, i: number) => byLabel.get(label)!.run.results[i].tilings[0];
for (const [i, set] of reference.run.results.entries()) {
  const cells = runs.map((r) => fmt(mean(r.run.results[i].tilings[0])));
  const diffs = pairs.map(([a, b]) => withInterval(pairDiff(tiles(a, i), tiles(b, i))));
  lines.push(`| ${set.name} | ${set.tiles} | ${fmt(mean(set.y1))} | ${cells.join(' | ')} | ${diffs.join(' | ')} |`);
}
lines.push('');
const out = flagValue(argv, 'out', '');
if (out !== '') await writeFile(out, `${lines.join('\n')}`);
console.log(lines.join('\n'));
