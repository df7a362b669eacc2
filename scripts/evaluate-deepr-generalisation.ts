/**
 * Deep-R generalisation on specimen families the demo model never saw (issue 17): for each
 * held-out family, `--fields` rendered fields (256 × 256 px, 0.325 µm, seeds 1…) are imaged
 * with the demo model's optics (Born & Wolf, 0.75 NA, n 1.0, 0.53 µm; Poisson–Gaussian noise at
 * the rendered photon budget, 1.5 e⁻ read noise, rounded to integers as a uint16 camera) at
 * |Δz| ∈ {0, 0.5, 1, 2, 3, 4, 5} µm, and scored against the noise-free in-focus object (SSIM,
 * PSNR after zero-mean unit-variance normalisation, 10 px border left out). Methods:
 * - `input`: the defocused plane;
 * - `deepr`: the deepr.autofocus op with its default parameters (the package's ensemble,
 *   dihedral8 for the demo model; safety 'off'); `deepr-1pass`: ensemble 'none';
 * - `deepr+safety`: the default output through the safety check ('consistency');
 * - `richardson-lucy`, `landweber`: the deconvolution plugin's RL and Landweber given the TRUE
 *   PSF of each plane (the simulator's own Born & Wolf PSF and window). Their iteration counts
 *   (5…150) are chosen per |Δz| on the *training* families' validation fields (seeds 2000…,
 *   the fields that chose the network's checkpoint), never on the held-out families.
 * Paired differences (the same fields and noise for every method) with bootstrap 95 % intervals:
 * Deep-R − input at each |Δz|, and Deep-R − RL / Landweber averaged over 1–5 µm per field.
 * Brightfield families are scored on their green transmitted channel.
 *
 * It lives on the top floor (scripts/) because it hands the deconvolution plugin's methods to
 * Deep-R's evaluation (a plugin imports no other plugin).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/evaluate-deepr-generalisation.js [--fields 5] [--out plugins/deepr/docs/img] [--model <package dir>]
 *
 * Writes <out>/deepr-generalisation.csv, -paired.csv, -safety.csv, -ssim.png,
 * -ssim-families.png, -psnr-families.png, -psnr.png and -examples.png, and prints Markdown tables.
 */
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, drawGlyphText, pairedDifference, testContext, writeFileAtomic, type Stack } from '../core/index.js';
import { applySafety, bornWolfHalfSizePx, bornWolfPsf, defocusSeries, standardise } from '../core/imaging.js';
import { renderSpecimen } from '../core/specimens.js';
import { encode } from 'fast-png';
import { landweber, richardsonLucy } from '../plugins/deconvolution/deconvolve.js';
import { autofocus } from '../plugins/deepr/ops/autofocus.js';
import { normalisedScores } from '../plugins/deepr/evaluate.js';
import { loadDeepRPackage, resolveModelDir } from '../plugins/deepr/package.js';
import { renderLinePlot } from '../plugins/deepr/plot.js';
import { TRAINING_FAMILIES } from '../plugins/deepr/tools/make-library-sources.js';

/** Held-out families when the model's manifest does not name them (extra.heldOutFamilies). */
export const HELD_OUT = ['disc', 'points', 'actin', 'microtubules', 'he-gland'];
const DZ = [0, 0.5, 1, 2, 3, 4, 5];
const N = 256;
const BORDER = 10;
const OPTICS = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325 };
/** The simulator's PSF window for this defocus list (core/imaging/defocus.ts: from the largest |Δz|). */
const PSF_PX = 2 * Math.min(bornWolfHalfSizePx({ ...OPTICS, maxDefocusUm: Math.max(...DZ) }), 2 * N) + 1;
const ITERATIONS = [5, 10, 20, 30, 50, 70, 100, 150];
const METHODS = ['input', 'deepr', 'deepr-1pass', 'deepr+safety', 'richardson-lucy', 'landweber'] as const;
type Method = (typeof METHODS)[number];
const COLOURS: Record<Method, [number, number, number]> = {
  input: [120, 120, 120],
  deepr: [220, 0, 0],
  'deepr-1pass': [240, 150, 0],
  'deepr+safety': [150, 0, 150],
  'richardson-lucy': [0, 110, 220],
  landweber: [0, 160, 60],
};
const CLASSICAL = ['richardson-lucy', 'landweber'] as const;
type Classical = (typeof CLASSICAL)[number];
const DECONVOLVE = { 'richardson-lucy': richardsonLucy, landweber };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Field {
  truth: Float32Array;
  /** One plane per DZ, photo-electrons, integer counts. */
  planes: Float32Array[];
}

/** A rendered field imaged at every DZ (noise seeded by the field's seed). */
function imageField(family: string, seed: number): Field {
  const r = renderSpecimen({ family, widthPx: N, heightPx: N, pixelSizeUm: OPTICS.pixelSizeUm, seed });
  const truth = r.modality === 'fluorescence' ? r.image : r.rgb[1];
  let peak = 0;
  for (const v of truth) peak = Math.max(peak, v);
  const planes = defocusSeries(truth, N, N, { ...OPTICS, defocusUm: DZ, photons: peak, readNoiseE: 1.5, seed }).map((p) => Float32Array.from(p.image, (v) => Math.min(65535, Math.max(0, Math.round(v)))));
  return { truth: Float32Array.from(truth), planes };
}

const psfCache = new Map<number, Float32Array>();
const truePsf = (dz: number) => {
  let p = psfCache.get(dz);
  if (!p) psfCache.set(dz, (p = bornWolfPsf({ ...OPTICS, sizePx: PSF_PX, defocusUm: Math.abs(dz) })));
  return p;
};

/** Runs `method` with the true PSF up to the largest of `counts`, handing the estimate at each count to `at`. */
function deconvolveAt(method: Classical, plane: Float32Array, dz: number, counts: number[], at: (it: number, estimate: Float32Array) => void): void {
  const max = Math.max(...counts);
  DECONVOLVE[method](plane, { width: N, height: N, depth: 1 }, truePsf(dz), { width: PSF_PX, height: PSF_PX, depth: 1 }, {
    iterations: max,
    onIteration: (it, est) => {
      if (counts.includes(it)) at(it, est);
    },
  });
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const fields = Number(arg('--fields') ?? 5);
  const outDir = resolve(arg('--out') ?? join(root, 'plugins', 'deepr', 'docs', 'img'));
  const model = arg('--model') ? resolve(arg('--model')!) : undefined;
  // the families come from the model's manifest (focal train deepr --training-families / --held-out-families)
  const modelDir = resolveModelDir(model ?? 'deepr-demo');
  const { extra } = (await loadDeepRPackage(modelDir)).autofocus.manifest;
  const trainingFamilies = extra.trainingFamilies ?? TRAINING_FAMILIES;
  const families = (arg('--families') ?? (extra.heldOutFamilies ?? HELD_OUT).join(',')).split(',');
  const trainedOn = families.filter((f) => trainingFamilies.includes(f));
  if (trainedOn.length) throw new Error(`--families ${trainedOn.join(', ')}: ${modelDir} was trained on these (its manifest's extra.trainingFamilies, or plugins/deepr/tools/make-library-sources.ts); a generalisation claim needs families it never saw`);
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

  // 1. RL / Landweber iteration counts per |Δz|, chosen on the training families' validation fields
  const tuned: Record<string, number> = {};
  const tuneScores: Record<string, number[]> = {};
  for (const family of trainingFamilies) {
    const f = imageField(family, 2000);
    DZ.forEach((dz, k) => {
      for (const m of CLASSICAL) deconvolveAt(m, f.planes[k], dz, ITERATIONS, (it, est) => (tuneScores[`${m}|${dz}|${it}`] ??= []).push(normalisedScores(est, f.truth, N, N, BORDER).ssim));
    });
    process.stderr.write(`\rtuning RL/Landweber on ${family} (seed 2000), ${elapsed()}   `);
  }
  for (const m of CLASSICAL) for (const dz of DZ) tuned[`${m}|${dz}`] = ITERATIONS.reduce((b, c) => (mean(tuneScores[`${m}|${dz}|${c}`]) > mean(tuneScores[`${m}|${dz}|${b}`]) ? c : b), ITERATIONS[0]);
  process.stderr.write('\n');

  // 2. the held-out families
  const scores: Record<string, number[]> = {};
  const add = (fam: string, dz: number, m: Method, s: { ssim: number; psnr: number }) => {
    (scores[`${fam}|${dz}|${m}|ssim`] ??= []).push(s.ssim);
    (scores[`${fam}|${dz}|${m}|psnr`] ??= []).push(s.psnr);
  };
  const weights: string[] = [];
  const examples: Record<string, Record<string, Float32Array>> = {};
  const params = (ensemble?: 'none') => autofocus.params.parse({ safety: 'off', ...(ensemble ? { ensemble } : {}), ...(model ? { model } : {}) });
  for (const fam of families) {
    for (let seed = 1; seed <= fields; seed++) {
      const { truth, planes } = imageField(fam, seed);
      const stack: Stack = createStack({ width: N, height: N, dtype: 'float32', sizeZ: DZ.length, planes, calibration: { pixelWidthUm: OPTICS.pixelSizeUm, pixelHeightUm: OPTICS.pixelSizeUm } });
      const { image: out } = (await autofocus.run(testContext(), { image: stack }, params())) as { image: Stack };
      const { image: one } = (await autofocus.run(testContext(), { image: stack }, params('none'))) as { image: Stack };
      DZ.forEach((dz, k) => {
        const score = (img: ArrayLike<number>) => normalisedScores(img, truth, N, N, BORDER);
        const safe = applySafety(planes[k], out.planes[k], N, N);
        weights.push(`${fam},${seed},${dz},${safe.weight.toFixed(3)},${safe.sigmaPx},${safe.residualRatio.toFixed(2)}`);
        add(fam, dz, 'input', score(planes[k]));
        add(fam, dz, 'deepr', score(out.planes[k]));
        add(fam, dz, 'deepr-1pass', score(one.planes[k]));
        add(fam, dz, 'deepr+safety', score(safe.image));
        const kept: Record<string, Float32Array> = {};
        for (const m of CLASSICAL) {
          const count = tuned[`${m}|${dz}`];
          deconvolveAt(m, planes[k], dz, [count], (_it, est) => {
            add(fam, dz, m, score(est));
            kept[m] = Float32Array.from(est);
          });
        }
        if (seed === 1 && dz === 3) examples[fam] = { truth, input: planes[k], deepr: Float32Array.from(out.planes[k]), 'richardson-lucy': kept['richardson-lucy'] };
      });
      process.stderr.write(`\r${fam} field ${seed}, ${elapsed()}   `);
    }
  }
  process.stderr.write('\n');

  // 3. tables, intervals, figures
  const get = (fam: string, dz: number, m: Method, k: 'ssim' | 'psnr') => (fam === 'all' ? families.flatMap((f) => scores[`${f}|${dz}|${m}|${k}`]) : scores[`${fam}|${dz}|${m}|${k}`]);
  const csv = ['family,defocusUm,method,ssim,psnr,fields,iterations'];
  for (const fam of [...families, 'all']) {
    for (const dz of DZ) for (const m of METHODS) csv.push([fam, dz, m, mean(get(fam, dz, m, 'ssim')).toFixed(4), mean(get(fam, dz, m, 'psnr')).toFixed(2), get(fam, dz, m, 'ssim').length, tuned[`${m}|${dz}`] ?? ''].join(','));
  }
  await writeFileAtomic(join(outDir, 'deepr-generalisation.csv'), `${csv.join('\n')}\n`, { mkdir: true });
  await writeFileAtomic(join(outDir, 'deepr-generalisation-safety.csv'), `family,seed,defocusUm,weight,sigmaPx,residualRatio\n${weights.join('\n')}\n`);

  const paired = ['scope,defocusUm,comparison,metric,meanDifference,ci95Low,ci95High,n'];
  const intervals: string[] = [];
  const fmt = (d: { mean: number; lo: number; hi: number }, digits = 4) => `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(digits)} [${d.lo.toFixed(digits)}, ${d.hi.toFixed(digits)}]`;
  for (const scope of [...families, 'all']) {
    for (const dz of DZ) {
      for (const k of ['ssim', 'psnr'] as const) {
        const d = pairedDifference(get(scope, dz, 'deepr', k), get(scope, dz, 'input', k), { seed: 1 });
        paired.push([scope, dz, 'deepr - input', k, d.mean.toFixed(4), d.lo.toFixed(4), d.hi.toFixed(4), d.n].join(','));
        if (scope === 'all' && k === 'ssim') intervals.push(`| ${dz} | ${fmt(d)} |`);
      }
    }
  }
  // per field, the mean over 1–5 µm (same fields for every method)
  const over15 = (m: Method, k: 'ssim' | 'psnr') => {
    const planesUsed = DZ.filter((dz) => dz >= 1);
    return families.flatMap((f) => Array.from({ length: fields }, (_, i) => mean(planesUsed.map((dz) => scores[`${f}|${dz}|${m}|${k}`][i]))));
  };
  // the worst single plane for each Deep-R variant: the largest SSIM loss against its own input
  const worst: string[] = [];
  for (const m of ['deepr', 'deepr-1pass', 'deepr+safety'] as const) {
    let w = { d: Infinity, where: '' };
    for (const f of families) for (const dz of DZ) scores[`${f}|${dz}|${m}|ssim`].forEach((v, i) => {
      const d = v - scores[`${f}|${dz}|input|ssim`][i];
      if (d < w.d) w = { d, where: `${f}, seed ${i + 1}, ${dz} µm` };
    });
    const below = families.flatMap((f) => DZ.flatMap((dz) => scores[`${f}|${dz}|${m}|ssim`].map((v, i) => v - scores[`${f}|${dz}|input|ssim`][i]))).filter((d) => d < -0.005).length;
    worst.push(`| ${m} | ${w.d.toFixed(4)} (${w.where}) | ${below} of ${families.length * fields * DZ.length} |`);
  }
  const vsClassical: string[] = [];
  for (const [a, b] of [['deepr', 'richardson-lucy'], ['deepr', 'landweber'], ['deepr', 'input'], ['deepr-1pass', 'richardson-lucy'], ['deepr+safety', 'richardson-lucy']] as [Method, Method][]) {
    for (const k of ['ssim', 'psnr'] as const) {
      const d = pairedDifference(over15(a, k), over15(b, k), { seed: 1 });
      paired.push(['all', '1..5', `${a} - ${b}`, k, d.mean.toFixed(4), d.lo.toFixed(4), d.hi.toFixed(4), d.n].join(','));
      vsClassical.push(`| ${a} − ${b} | ${k.toUpperCase()} | ${fmt(d, k === 'ssim' ? 4 : 2)} |`);
    }
  }
  await writeFileAtomic(join(outDir, 'deepr-generalisation-paired.csv'), `${paired.join('\n')}\n`);

  for (const k of ['ssim', 'psnr'] as const) {
    const series = METHODS.map((m) => ({ label: m, colour: COLOURS[m], x: DZ, y: DZ.map((dz) => mean(get('all', dz, m, k))) }));
    await writeFileAtomic(join(outDir, `deepr-generalisation-${k}.png`), renderLinePlot(series, 800, 400, { logY: false, markers: true, xTitle: 'defocus |Δz| (µm)', yTitle: k === 'ssim' ? 'SSIM, mean over held-out families' : 'PSNR (dB), mean over held-out families' }));
  }
  const famColours: [number, number, number][] = [[220, 0, 0], [0, 110, 220], [0, 160, 60], [240, 150, 0], [150, 0, 150], [0, 170, 170]];
  for (const k of ['ssim', 'psnr'] as const) {
    const famSeries = families.flatMap((f, i) => [
      { label: `${f} Deep-R`, colour: famColours[i % famColours.length], x: DZ, y: DZ.map((dz) => mean(get(f, dz, 'deepr', k))) },
      { label: `${f} input`, colour: famColours[i % famColours.length].map((c) => Math.min(235, c + 120)) as [number, number, number], x: DZ, y: DZ.map((dz) => mean(get(f, dz, 'input', k))) },
    ]);
    await writeFileAtomic(join(outDir, `deepr-generalisation-${k}-families.png`), renderLinePlot(famSeries, 1000, 500, { logY: false, markers: true, xTitle: 'defocus |Δz| (µm)', yTitle: k === 'ssim' ? 'SSIM (unitless)' : 'PSNR (dB)' }));
  }
  await writeExamples(join(outDir, 'deepr-generalisation-examples.png'), families.filter((f) => examples[f]), examples);

  const methodsShown: Method[] = ['input', 'deepr', 'richardson-lucy'];
  const table = [`| family | ${DZ.map((d) => `${d} µm`).join(' | ')} |`, `|---|${DZ.map(() => '---:').join('|')}|`];
  for (const f of [...families, 'all']) table.push(`| ${f} | ${DZ.map((dz) => methodsShown.map((m) => mean(get(f, dz, m, 'ssim')).toFixed(3)).join('/')).join(' | ')} |`);
  console.log(`Mean SSIM ${methodsShown.join(' / ')}, ${fields} fields per family:\n${table.join('\n')}`);
  console.log(`\nRL / Landweber iterations per |Δz| (chosen on the training families' validation fields): ${DZ.map((dz) => `${dz}: ${tuned[`richardson-lucy|${dz}`]}/${tuned[`landweber|${dz}`]}`).join(', ')}`);
  console.log(`\nDeep-R − input, SSIM, all held-out fields (mean [95 % bootstrap interval]):\n| |Δz| µm | difference |\n|---|---|\n${intervals.join('\n')}`);
  console.log(`\nMean over 1–5 µm per field, paired (n = ${families.length * fields}):\n| comparison | metric | difference |\n|---|---|---|\n${vsClassical.join('\n')}`);
  console.log(`\nWorst plane against its input (SSIM difference) and planes more than 0.005 below their input:\n| method | worst | planes < −0.005 |\n|---|---|---|\n${worst.join('\n')}`);
  console.log(`${elapsed()}; ${outDir}`);
}

/** Rows: held-out families at |Δz| = 3 µm (seed 1); columns: truth, input, Deep-R, RL; each panel normalised on its own. */
async function writeExamples(path: string, families: string[], examples: Record<string, Record<string, Float32Array>>): Promise<void> {
  const cols = ['truth', 'input', 'deepr', 'richardson-lucy'];
  const titles = ['in focus (truth)', 'input, 3 um', 'Deep-R', 'RL, true PSF'];
  const c = 160;
  const off = (N - c) / 2;
  const gap = 4;
  const labelW = 130;
  const head = 24;
  const W = labelW + cols.length * (c + gap);
  const H = head + families.length * (c + gap);
  const rgb = new Uint8Array(W * H * 3).fill(255);
  families.forEach((f, i) => {
    drawGlyphText(rgb, W, H, f, 4, head + i * (c + gap) + c / 2 - 7, 2);
    cols.forEach((col, j) => {
      const img = standardise(examples[f][col]).data;
      const x0 = labelW + j * (c + gap);
      const y0 = head + i * (c + gap);
      for (let y = 0; y < c; y++) {
        for (let x = 0; x < c; x++) {
          const v = Math.max(0, Math.min(255, Math.round(((img[(y + off) * N + x + off] + 2) / 6) * 255)));
          const o = ((y0 + y) * W + x0 + x) * 3;
          rgb[o] = rgb[o + 1] = rgb[o + 2] = v;
        }
      }
    });
  });
  cols.forEach((_, j) => drawGlyphText(rgb, W, H, titles[j], labelW + j * (c + gap) + 2, 4, 2));
  await writeFileAtomic(path, encode({ width: W, height: H, data: rgb, channels: 3, depth: 8 }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
