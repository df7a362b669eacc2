/**
 * Deep-R generalisation on specimen families the demo model never saw (issue 17): for each
 * held-out family, `--fields` rendered fields (256 × 256 px, 0.325 µm, seeds 1…) are imaged
 * with the demo model's optics (Born & Wolf, 0.75 NA, n 1.0, 0.53 µm; Poisson–Gaussian noise at
 * the rendered photon budget, 1.5 e⁻ read noise, rounded to integers as a uint16 camera) at
 * |Δz| ∈ {0, 0.5, 1, 2, 3, 4, 5} µm, and scored against the noise-free in-focus object (SSIM,
 * PSNR after zero-mean unit-variance normalisation, 10 px border left out):
 * the input, the deepr.autofocus op with safety 'off' (raw network) and with the safety
 * check ('consistency', applied to the same raw output). Brightfield families are scored on their green transmitted channel.
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/evaluate-deepr-generalisation.js [--fields 2] [--out plugins/deepr/docs/img] [--model <package dir>]
 *
 * Writes <out>/deepr-generalisation.csv and <out>/deepr-generalisation-ssim.png.
 */
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, testContext, writeFileAtomic, type Stack } from '../core/index.js';
import { autofocus } from '../plugins/deepr/ops/autofocus.js';
import { normalisedScores } from '../plugins/deepr/evaluate.js';
import { renderLinePlot } from '../plugins/deepr/plot.js';
import { applySafety } from '../plugins/deepr/safety.js';
import { TRAINING_FAMILIES } from '../plugins/deepr/tools/make-library-sources.js';
import { defocusSeries, renderSpecimen } from '../core/index.js';


export const HELD_OUT = ['cells', 'disc', 'points', 'actin', 'microtubules', 'he-gland'];
const DZ = [0, 0.5, 1, 2, 3, 4, 5];
const N = 256;
const OPTICS = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325 };
const METHODS = ['input', 'deepr', 'deepr+safety', 'blend-only', 'gate-1.5px'] as const;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const fields = Number(arg('--fields') ?? 2);
  const outDir = resolve(arg('--out') ?? join(root, 'plugins', 'deepr', 'docs', 'img'));
  const families = (arg('--families') ?? HELD_OUT.join(',')).split(',');
  const model = arg('--model') ? resolve(arg('--model')!) : undefined;
  const trainedOn = families.filter((f) => TRAINING_FAMILIES.includes(f));
  if (trainedOn.length) throw new Error(`--families ${trainedOn.join(', ')}: the demo model is trained on these (plugins/deepr/tools/make-library-sources.ts); a generalisation claim needs families it never saw`);
  const t0 = Date.now();
  const scores: Record<string, number[]> = {};
  const add = (fam: string, dz: number, m: string, s: { ssim: number; psnr: number }) => {
    (scores[`${fam}|${dz}|${m}|ssim`] ??= []).push(s.ssim);
    (scores[`${fam}|${dz}|${m}|psnr`] ??= []).push(s.psnr);
  };
  const weights: string[] = [];
  for (const fam of families) {
    for (let seed = 1; seed <= fields; seed++) {
      const r = renderSpecimen({ family: fam, widthPx: N, heightPx: N, pixelSizeUm: OPTICS.pixelSizeUm, seed });
      const truth = r.modality === 'fluorescence' ? r.image : r.rgb[1];
      let peak = 0;
      for (const v of truth) peak = Math.max(peak, v);
      const planes = defocusSeries(truth, N, N, { ...OPTICS, defocusUm: DZ, photons: peak, readNoiseE: 1.5, seed }).map((p) => Float32Array.from(p.image, (v) => Math.min(65535, Math.max(0, Math.round(v)))));
      const stack: Stack = createStack({ width: N, height: N, dtype: 'float32', sizeZ: DZ.length, planes, calibration: { pixelWidthUm: OPTICS.pixelSizeUm, pixelHeightUm: OPTICS.pixelSizeUm } });
      const { image: raw } = (await autofocus.run(testContext(), { image: stack }, autofocus.params.parse({ safety: 'off', ...(model ? { model } : {}) }))) as { image: Stack };
      DZ.forEach((dz, k) => {
        const safe = applySafety(planes[k], raw.planes[k], N, N);
        weights.push(`${fam},${seed},${dz},${safe.weight.toFixed(3)},${safe.sigmaPx},${safe.residualRatio.toFixed(2)}`);
        add(fam, dz, 'input', normalisedScores(planes[k], truth, N, N, 10));
        add(fam, dz, 'deepr', normalisedScores(raw.planes[k], truth, N, N, 10));
        add(fam, dz, 'deepr+safety', normalisedScores(safe.image, truth, N, N, 10));
        // the options measured for the default: no in-focus gate; a wider gate
        add(fam, dz, 'blend-only', normalisedScores(applySafety(planes[k], raw.planes[k], N, N, { inFocusSigmaPx: -1 }).image, truth, N, N, 10));
        add(fam, dz, 'gate-1.5px', normalisedScores(applySafety(planes[k], raw.planes[k], N, N, { inFocusSigmaPx: 1.5 }).image, truth, N, N, 10));
      });
      process.stderr.write(`\r${fam} field ${seed}, ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
    }
  }
  process.stderr.write('\n');
  const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
  const csv = ['family,defocusUm,method,ssim,psnr,fields'];
  for (const fam of families) for (const dz of DZ) for (const m of METHODS) csv.push([fam, dz, m, mean(scores[`${fam}|${dz}|${m}|ssim`]).toFixed(4), mean(scores[`${fam}|${dz}|${m}|psnr`]).toFixed(2), fields].join(','));
  const all = (dz: number, m: string, k: 'ssim' | 'psnr') => mean(families.flatMap((f) => scores[`${f}|${dz}|${m}|${k}`]));
  for (const dz of DZ) for (const m of METHODS) csv.push(['all', dz, m, all(dz, m, 'ssim').toFixed(4), all(dz, m, 'psnr').toFixed(2), fields * families.length].join(','));
  await writeFileAtomic(join(outDir, 'deepr-generalisation.csv'), `${csv.join('\n')}\n`, { mkdir: true });
  await writeFileAtomic(join(outDir, 'deepr-generalisation-safety.csv'), `family,seed,defocusUm,weight,sigmaPx,residualRatio\n${weights.join('\n')}\n`);
  const colours: [number, number, number][] = [[120, 120, 120], [220, 0, 0], [0, 110, 220], [0, 160, 60], [240, 150, 0]];
  const series = METHODS.flatMap((m, i) => [{ label: `${m} (mean)`, colour: colours[i], x: DZ, y: DZ.map((dz) => all(dz, m, 'ssim')) }]);
  const famSeries = families.flatMap((f) => METHODS.slice(0, 2).map((m, i) => ({ label: `${f} ${m}`, colour: colours[i].map((c) => Math.min(230, c + 90)) as [number, number, number], x: DZ, y: DZ.map((dz) => mean(scores[`${f}|${dz}|${m}|ssim`])) })));
  await writeFileAtomic(join(outDir, 'deepr-generalisation-ssim.png'), renderLinePlot(series, 800, 400, { logY: false, markers: true, xTitle: 'defocus (µm)', yTitle: 'SSIM (unitless)' }));
  await writeFileAtomic(join(outDir, 'deepr-generalisation-ssim-families.png'), renderLinePlot(famSeries, 1000, 500, { logY: false, markers: true, xTitle: 'defocus (µm)', yTitle: 'SSIM (unitless)' }));
  const table = [`| family | ${DZ.map((d) => `${d} µm`).join(' | ')} |`, `|---|${DZ.map(() => '---:').join('|')}|`];
  for (const f of [...families, 'all']) {
    const cell = (dz: number) => METHODS.map((m) => (f === 'all' ? all(dz, m, 'ssim') : mean(scores[`${f}|${dz}|${m}|ssim`])).toFixed(3)).join(' / ');
    table.push(`| ${f} | ${DZ.map(cell).join(' | ')} |`);
  }
  console.log(`SSIM input / Deep-R / Deep-R + safety, ${fields} fields per family:\n${table.join('\n')}`);
  console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s; ${outDir}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
