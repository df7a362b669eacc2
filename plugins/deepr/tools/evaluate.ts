/**
 * Evaluates a Deep-R model package on held-out synthetic defocus and writes the figures and
 * table of plugins/deepr/docs/deepr.md ("Evaluation").
 *
 *   npm run build && node dist/scripts/evaluate-deepr.js [model dir] [--pairs 12] [--out plugins/deepr/docs/img] [--oracle]
 *   (npm run deepr:evaluate -- …)
 *
 * The classical baselines come from another plugin, so this tool takes them as a parameter
 * ({@link evaluateDeepR}); scripts/evaluate-deepr.ts, on the top floor, passes the
 * deconvolution plugin's Richardson–Lucy and Landweber.
 *
 * Sources: samples/deepr-specimens-heldout.tif (fields of view never seen in training or
 * validation). For each defocus −5…+5 µm (1 µm steps) `--pairs` random 256² crops are imaged
 * with the training simulator; the defocused input, the Deep-R output, and Richardson–Lucy and
 * Landweber with the true PSF are scored
 * against the in-focus image (SSIM, PSNR; all images normalised to zero mean, unit variance;
 * 10 px left out at each edge, as the paper does for its RL/Landweber comparison). RL's and
 * Landweber's iteration counts (5…150) are chosen at each defocus on the same number of pairs from
 * samples/deepr-specimens-validation.tif (the fields that chose the network's checkpoint);
 * `--oracle` chooses them on the held-out pairs instead. The oracle counts and scores are in the
 * CSV either way. Paired differences between methods (same crops) with bootstrap 95% intervals
 * go to <out>/deepr-eval-paired.csv.
 * Writes <out>/deepr-eval-ssim.png, <out>/deepr-eval-psnr.png, <out>/deepr-eval-examples.png,
 * <out>/deepr-eval.csv, and prints a Markdown table.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStack, pairedDifference, readTiff, writePng, writeFileAtomic } from '../../../core/index.js';
import { EVALUATION_METHODS, evaluateAutofocus, evaluateDefocusMap, type EvaluationMethod, type EvaluationRow } from '../evaluate.js';
import { loadDeepRPackage, resolveModelDir } from '../package.js';
import { renderLinePlot } from '../plot.js';

const COLOURS: Record<EvaluationMethod, [number, number, number]> = {
  input: [120, 120, 120],
  deepr: [220, 0, 0],
  'deepr-x8': [240, 150, 0],
  'richardson-lucy': [0, 110, 220],
  landweber: [0, 160, 60],
};

/** Iteration counts tried for RL and Landweber. */
const ITERATIONS = [5, 10, 20, 30, 50, 70, 100, 150];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** RL and Landweber, as evaluateAutofocus takes them. */
export type Deconvolvers = Parameters<typeof evaluateAutofocus>[2]['deconvolvers'];

/** Runs the evaluation with the process's arguments (see the module comment). */
export async function evaluateDeepR(deconvolvers: Deconvolvers): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  const withValue = ['--pairs', '--out'];
  const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && withValue.includes(all[i - 1])));
  const modelDir = resolveModelDir(positional[0] ?? 'deepr-demo');
  const pairs = Number(arg('--pairs') ?? 12);
  const outDir = resolve(arg('--out') ?? join(root, 'plugins', 'deepr', 'docs', 'img'));
  const heldout = await readTiff(join(root, 'samples', 'deepr-specimens-heldout.tif'));
  const sources = heldout.planes.map((p) => ({ data: Float32Array.from(p), width: heldout.width, height: heldout.height }));
  // RL's and Landweber's iteration counts are chosen on the validation fields (as the network's
  // checkpoint is); --oracle chooses them on the held-out pairs themselves instead
  const oracle = process.argv.includes('--oracle');
  const tuning = oracle ? undefined : await readTiff(join(root, 'samples', 'deepr-specimens-validation.tif'));
  const tuningSources = tuning?.planes.map((p) => ({ data: Float32Array.from(p), width: tuning.width, height: tuning.height }));
  const { autofocus: pkg } = await loadDeepRPackage(modelDir);
  const dpmPkg = pkg.manifest.extra.dpm ? (await loadDeepRPackage(modelDir, { dpm: true })).dpm : undefined;
  const defocusUm = [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5];
  const t0 = Date.now();
  const { rows, examples } = await evaluateAutofocus(pkg, sources, {
    deconvolvers,
    defocusUm,
    pairsPerDefocus: pairs,
    patchPx: 256,
    deconvolutionIterations: ITERATIONS,
    tuningSources,
    seed: 1,
    onProgress: (d, t) => process.stderr.write(`\r  ${d}/${t} pairs, ${((Date.now() - t0) / 1000).toFixed(0)} s`),
  });
  process.stderr.write('\n');
  await mkdir(outDir, { recursive: true });

  const by = (m: EvaluationMethod) => rows.filter((r) => r.method === m);
  for (const metric of ['ssim', 'psnr'] as const) {
    const png = renderLinePlot(
      EVALUATION_METHODS.map((m) => ({ label: m, colour: COLOURS[m], x: by(m).map((r) => r.defocusUm), y: by(m).map((r) => r[metric]) })),
      800, 400, { logY: false, markers: true, xTitle: 'defocus (µm)', yTitle: metric === 'ssim' ? 'SSIM (unitless)' : 'PSNR (dB)' },
    );
    await writeFileAtomic(join(outDir, `deepr-eval-${metric}.png`), png);
  }
  const csv = ['defocusUm,method,ssim,ssimSd,psnr,psnrSd,iterations,oracleIterations,oracleSsim,oraclePsnr', ...rows.map((r: EvaluationRow) => [r.defocusUm, r.method, r.ssim.toFixed(4), r.ssimSd.toFixed(4), r.psnr.toFixed(2), r.psnrSd.toFixed(2), r.iterations ?? '', r.oracleIterations ?? '', r.oracleSsim?.toFixed(4) ?? '', r.oraclePsnr?.toFixed(2) ?? ''].join(','))];
  await writeFileAtomic(join(outDir, 'deepr-eval.csv'), `${csv.join('\n')}\n`);

  // examples: rows = target, input, Deep-R (×8 self-ensemble), RL, Landweber; columns = defocus −4, −2, +2, +4 µm (128² centre crops)
  const show = examples.filter((e) => [-4, -2, 2, 4].includes(e.defocusUm));
  const c = 128;
  const side = 256;
  const off = (side - c) / 2;
  const rowsOf: ((e: (typeof show)[number]) => Float32Array)[] = [(e) => e.target, (e) => e.outputs.input, (e) => e.outputs['deepr-x8'], (e) => e.outputs['richardson-lucy'], (e) => e.outputs.landweber];
  const W = show.length * (c + 4);
  const H = rowsOf.length * (c + 4);
  const mont = new Float32Array(W * H).fill(-1.5);
  show.forEach((e, j) => rowsOf.forEach((get, i) => {
    const img = get(e);
    for (let y = 0; y < c; y++) for (let x = 0; x < c; x++) mont[(i * (c + 4) + y) * W + j * (c + 4) + x] = img[(y + off) * side + x + off];
  }));
  await writePng(join(outDir, 'deepr-eval-examples.png'), createStack({ width: W, height: H, dtype: 'float32', planes: [mont] }), { saturatedPercent: 0.5 });

  const fmt = (m: EvaluationMethod, d: number) => {
    const r = rows.find((x) => x.method === m && x.defocusUm === d)!;
    return `${r.ssim.toFixed(3)} / ${r.psnr.toFixed(1)}${r.iterations ? ` (${r.iterations})` : ''}`;
  };
  const lines = [
    `| defocus (µm) | ${defocusUm.join(' | ')} |`,
    `|---|${defocusUm.map(() => '---:').join('|')}|`,
    ...EVALUATION_METHODS.map((m) => `| ${m} | ${defocusUm.map((d) => fmt(m, d)).join(' | ')} |`),
  ];
  const mean = (m: EvaluationMethod, k: 'ssim' | 'psnr', f: (r: EvaluationRow) => boolean) => {
    const xs = by(m).filter(f);
    return xs.reduce((s, r) => s + r[k], 0) / xs.length;
  };
  console.log(lines.join('\n'));
  console.log(`\nmean over −5…+5 µm (SSIM / PSNR dB): ${EVALUATION_METHODS.map((m) => `${m} ${mean(m, 'ssim', () => true).toFixed(3)} / ${mean(m, 'psnr', () => true).toFixed(2)}`).join('; ')}`);
  console.log(`mean over |defocus| ≥ 1 µm: ${EVALUATION_METHODS.map((m) => `${m} ${mean(m, 'ssim', (r) => r.defocusUm !== 0).toFixed(3)} / ${mean(m, 'psnr', (r) => r.defocusUm !== 0).toFixed(2)}`).join('; ')}`);
  if (!oracle) {
    const o = (m: EvaluationMethod, k: 'oracleSsim' | 'oraclePsnr') => {
      const xs = by(m).filter((r) => r.defocusUm !== 0);
      return xs.reduce((s, r) => s + r[k]!, 0) / xs.length;
    };
    console.log(`RL / Landweber with the oracle count (chosen on the held-out pairs) over |defocus| ≥ 1 µm: RL ${o('richardson-lucy', 'oracleSsim').toFixed(4)} / ${o('richardson-lucy', 'oraclePsnr').toFixed(2)}; Landweber ${o('landweber', 'oracleSsim').toFixed(4)} / ${o('landweber', 'oraclePsnr').toFixed(2)}`);
  }
  // paired differences over all crops with 1 ≤ |defocus| ≤ 5 µm (the same crops for every method)
  const pooled = (m: EvaluationMethod, k: 'ssimPerPair' | 'psnrPerPair') => by(m).filter((r) => r.defocusUm !== 0).flatMap((r) => r[k]);
  const paired = ['defocusUm,comparison,metric,meanDifference,ci95Low,ci95High,pairs'];
  for (const [a, b] of [['deepr-x8', 'richardson-lucy'], ['deepr-x8', 'landweber'], ['deepr', 'richardson-lucy'], ['deepr', 'landweber'], ['deepr-x8', 'input']] as [EvaluationMethod, EvaluationMethod][]) {
    for (const [metric, k] of [['ssim', 'ssimPerPair'], ['psnr', 'psnrPerPair']] as const) {
      const d = pairedDifference(pooled(a, k), pooled(b, k), { seed: 1 });
      paired.push(['1..5', `${a} - ${b}`, metric, d.mean.toFixed(4), d.lo.toFixed(4), d.hi.toFixed(4), d.n].join(','));
      console.log(`${a} − ${b}, ${metric}, 1 ≤ |defocus| ≤ 5 µm: ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(4)} (95% CI ${d.lo.toFixed(4)} … ${d.hi.toFixed(4)}, ${d.n} paired crops)`);
      for (const dz of defocusUm) {
        const ra = by(a).find((r) => r.defocusUm === dz)!;
        const rb = by(b).find((r) => r.defocusUm === dz)!;
        const e = pairedDifference(ra[k], rb[k], { seed: 1 });
        paired.push([dz, `${a} - ${b}`, metric, e.mean.toFixed(4), e.lo.toFixed(4), e.hi.toFixed(4), e.n].join(','));
      }
    }
  }
  await writeFileAtomic(join(outDir, 'deepr-eval-paired.csv'), `${paired.join('\n')}\n`);
  if (dpmPkg) {
    const dpmRows = await evaluateDefocusMap(dpmPkg, sources, { defocusUm, pairsPerDefocus: pairs, patchPx: 256, seed: 1 });
    const abs = dpmPkg.manifest.extra.dpmTarget === 'absolute';
    const truth = (d: number) => (abs ? Math.abs(d) : d);
    const png = renderLinePlot([
      { label: 'true', colour: [120, 120, 120], x: defocusUm, y: defocusUm.map(truth) },
      { label: 'DPM', colour: [220, 0, 0], x: dpmRows.map((r) => r.defocusUm), y: dpmRows.map((r) => r.predictedUm) },
    ], 800, 400, { logY: false, markers: true, xTitle: 'true defocus (µm)', yTitle: `predicted ${abs ? '|defocus|' : 'defocus'} (µm)` });
    await writeFileAtomic(join(outDir, 'deepr-eval-dpm.png'), png);
    console.log(`\nDPM (${abs ? '|Δz|' : 'Δz'}, µm): ${dpmRows.map((r) => `${r.defocusUm}: ${r.predictedUm.toFixed(2)} ± ${r.predictedSdUm.toFixed(2)} (pixel MAE ${r.pixelMaeUm.toFixed(2)})`).join('; ')}`);
  }
  console.log(`model ${modelDir} (${pkg.manifest.name} ${pkg.manifest.version}); ${pairs} pairs per defocus; ${((Date.now() - t0) / 1000).toFixed(0)} s; figures in ${outDir}`);
}
