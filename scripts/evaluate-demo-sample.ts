/**
 * Checks the `npm run demo` sample honestly: SSIM / PSNR of the defocused nuclei channel and of
 * the Deep-R output against the in-focus truth (same field, in focus, independent noise), and
 * the nuclei count (pipelines/demo.json's count parameters) on each.
 *
 *   npm run build && node dist/scripts/evaluate-demo-sample.js
 *
 * Scores as plugins/deepr/docs/deepr.md: each image normalised to zero mean and unit variance, 10 px border
 * left out (normalisedScores). Counts: the number of nuclei drawn, and cellcount.count on the
 * truth, the defocused input and the refocused output.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContainer, MemoryLogger, PipelineRunner, PluginRegistry, readTableFile, readTiff, writeTiff } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';
import { normalisedScores } from '../plugins/deepr/evaluate.js';
import { DEMO_DEFOCUS_UM, DEMO_SIZE_PX, makeDemoInFocus, makeDemoTruth } from './make-sample-demo.js';

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
  const runner = createContainer({ catalog: registry, logger: new MemoryLogger() }).resolve(PipelineRunner);
  const tmp = mkdtempSync(join(tmpdir(), 'focal-demo-eval-'));
  try {
    const truthFile = join(tmp, 'truth.tif');
    await writeTiff(truthFile, makeDemoInFocus());
    const demo = join(tmp, 'demo');
    await runner.run({ pipelineFile: join(root, 'pipelines', 'demo.json'), outDir: demo });
    const count = join(root, 'pipelines', 'count-nuclei.json');
    const truthCount = join(tmp, 'count-truth');
    await runner.run({ pipelineFile: count, inputs: { stack: truthFile }, outDir: truthCount });
    const defocusedCount = join(tmp, 'count-defocused');
    await runner.run({ pipelineFile: count, inputs: { stack: join(root, 'samples', 'demo-defocused.tif') }, outDir: defocusedCount });

    const n = DEMO_SIZE_PX;
    const truth = (await readTiff(truthFile)).planes[0];
    const defocused = (await readTiff(join(demo, 'defocused.tif'))).planes[0];
    const refocused = (await readTiff(join(demo, 'refocused.tif'))).planes[0];
    const countOf = async (dir: string) => (await readTableFile(join(dir, 'summary.csv'))).rows[0].count;
    const rows = [
      { image: 'in focus (truth)', ...normalisedScores(truth, truth, n, n, 10), count: await countOf(truthCount) },
      { image: `defocused ${DEMO_DEFOCUS_UM} µm (input)`, ...normalisedScores(defocused, truth, n, n, 10), count: await countOf(defocusedCount) },
      { image: 'Deep-R (refocused)', ...normalisedScores(refocused, truth, n, n, 10), count: await countOf(demo) },
    ];
    console.log(`nuclei drawn: ${makeDemoTruth().count}`);
    console.log('image | SSIM | PSNR (dB) | count');
    for (const r of rows) console.log(`${r.image} | ${r.ssim.toFixed(4)} | ${Number.isFinite(r.psnr) ? r.psnr.toFixed(2) : '∞'} | ${r.count}`);
    if (process.argv.includes('--json')) writeFileSync(1, JSON.stringify(rows) + '\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
