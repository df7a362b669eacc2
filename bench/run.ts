/**
 * Runs the benchmarks one after another (each in its own process, so they do not share a heap):
 *
 *   npm run bench                 # all of them
 *   npm run bench -- io edof      # only these
 *
 * Each benchmark compares Focal with its reference tool in the same run and rewrites its own
 * section of docs/benchmarks.md. Run them on a quiet machine: the figures are wall-clock times.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js' && f !== 'common.js') // common.js: shared helpers, not a benchmark
  .map((f) => f.slice(0, -3))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  console.error(`focal bench: unknown benchmark(s) ${unknown.join(', ')}; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length ? wanted : all) {
  console.log(`\n=== bench/${name} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, `${name}.js`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${name} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
