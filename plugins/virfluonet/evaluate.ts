/**
 * VirFluoNet evaluation (issue 20): the shipped Cell-Painting models on held-out simulated
 * fields (test seeds 200 001…, never trained or validated on).
 *
 *   npx tsc -p tsconfig.build.json && nice node dist/plugins/virfluonet/evaluate.js \
 *     [--fields 24] [--models virfluonet-cp-dapi,virfluonet-cp-cy5,…] [--out plugins/virfluonet/docs]
 *
 * Per target and field: MAE, PSNR and SSIM on [0, 1] — (a) the camera's 16-bit range (ADU/65535, what the
 * paper's magnitudes suggest) and (b) the target's own range (its [−1, 1] map's p0.1…p99.9 mapped
 * to 0…1, clipped), which makes channels of different brightness comparable; the error area at
 * 50/255 (the paper's green mask: |prediction − truth| > 50 on 8 bit of the range (b)); per-cell
 * mean and integrated intensity of the real and virtual channel (cells from the simulation's
 * truth labels) and their Pearson r. Paired bootstrap intervals (95 %, 2000 resamples of
 * fields) of the differences between targets, for the paper's ranking nucleus ≫ mitochondria > ER.
 * Autofocus models: the defocused input and the output against the in-focus field per defocus,
 * paired intervals of output − input, the shipping rule (`autofocusSummary`) and
 * img/autofocus-<metric>-vs-defocus-<model>.png.
 * Writes evaluation.json, evaluation.md (tables) and img/ (montage with the error mask).
 * The full tolerance-index curves are `metrics.tolerance-index` (another issue's op), not here.
 */
import { join } from 'node:path';
import { FocalError, pairedDifference, renderLinePlot, writeFileAtomic } from '../../core/index.js';
import { pearson, psnr, ssim } from '../../core/imaging.js';
import { createInferenceEngine } from '../../core/ml.js';
import { makeFields, SEED_BASE } from './data.js';
import { writeMontage, type Panel } from './figures.js';
import { toUnitRange } from './normalise.js';
import { resolveModelDir } from '../../core/ml.js';
import { loadVirFluoNetPackage, type VirFluoNetMeta } from './package.js';
import { predictField } from './predict.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

export const ERROR_TOLERANCE_8BIT = 50;

export const DEFAULT_MODELS = ['virfluonet-cp-dapi', 'virfluonet-cp-cy5', 'virfluonet-cp-gfp', 'virfluonet-mda-factin-vinculin', 'virfluonet-mda-phc-vinculin', 'virfluonet-mda-phc-dapi'];

export interface FieldScores {
  seed: number;
  defocusUm: number;
  mae16: number;
  psnr16: number;
  ssim16: number;
  mae: number;
  psnr: number;
  ssim: number;
  errorArea50: number;
}

/** Scores of one prediction against its truth (both ADU), see the module comment. */
export function scoreField(pred: Float32Array, truth: Float32Array, width: number, height: number, meta: VirFluoNetMeta, seed: number, defocusUm = 0): FieldScores {
  const a16 = pred.map((v) => v / 65535);
  const b16 = truth.map((v) => v / 65535);
  const unit = (x: Float32Array) => toUnitRange(x, meta.normalisation.target).map((v) => (v + 1) / 2);
  const a = unit(pred);
  const b = unit(truth);
  const mae = (x: Float32Array, y: Float32Array) => {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]);
    return s / x.length;
  };
  let err = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(Math.round(255 * a[i]) - Math.round(255 * b[i])) > ERROR_TOLERANCE_8BIT) err++;
  return {
    seed, defocusUm, mae16: mae(a16, b16), psnr16: psnr(a16, b16, { dataRange: 1 }), ssim16: ssim(a16, b16, width, height, { dataRange: 1 }),
    mae: mae(a, b), psnr: psnr(a, b, { dataRange: 1 }), ssim: ssim(a, b, width, height, { dataRange: 1 }), errorArea50: err / a.length,
  };
}

/** Per-cell mean and integrated intensity (ADU above the camera offset) of an image over labelled cells. */
export function perCell(image: Float32Array, labels: Int32Array, offsetAdu = 100): { mean: number[]; integrated: number[] } {
  const sum = new Map<number, number>();
  const count = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i];
    if (k === 0) continue;
    sum.set(k, (sum.get(k) ?? 0) + image[i] - offsetAdu);
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const keys = [...sum.keys()].filter((k) => (count.get(k) ?? 0) >= 50).sort((x, y) => x - y);
  return { mean: keys.map((k) => sum.get(k)! / count.get(k)!), integrated: keys.map((k) => sum.get(k)!) };
}

const AF_METRICS = [['mae', 'lower'], ['psnr', 'higher'], ['ssim', 'higher'], ['mae16', 'lower'], ['psnr16', 'higher'], ['ssim16', 'higher']] as const;
type AfMetric = (typeof AF_METRICS)[number][0];

export interface AutofocusRow {
  defocusUm: number;
  fields: number;
  input: Record<AfMetric, number>;
  output: Record<AfMetric, number>;
  /** output − input, paired over the fields of this defocus (95 % bootstrap). */
  diff: Record<AfMetric, { mean: number; lo: number; hi: number }>;
  /** 'better' (some metric's interval on the better side, none on the worse), 'worse' (some on the worse side), 'level'. */
  verdict: 'better' | 'worse' | 'level' | 'mixed';
}

/**
 * Differences too small to matter (they are "level" even when an interval excludes 0: an
 * identity model differs from its input by float rounding and the map's clipping): MAE 0.5 % of
 * the input's, PSNR 0.05 dB, SSIM 0.001.
 */
export function negligible(metric: AfMetric, inputValue: number): number {
  return metric.startsWith('mae') ? 0.005 * Math.abs(inputValue) : metric.startsWith('psnr') ? 0.05 : 0.001;
}

/**
 * The autofocus model against its own defocused input, per defocus: means, paired differences
 * (output − input over the same fields) with 95 % bootstrap intervals, and the shipping rule
 * (level with the input at every defocus on every metric, better on some). A metric is better
 * or worse at a defocus when its interval excludes 0 and the mean difference is not
 * {@link negligible}.
 */
export function autofocusSummary(model: string, output: FieldScores[], input: FieldScores[]): { model: string; perDefocus: AutofocusRow[]; worseSomewhere: boolean; betterSomewhere: boolean; ship: boolean } {
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const perDefocus = [...new Set(output.map((f) => f.defocusUm))].sort((x, y) => x - y).map((dz): AutofocusRow => {
    const o = output.filter((f) => f.defocusUm === dz);
    const i = input.filter((f) => f.defocusUm === dz);
    if (o.length !== i.length || o.some((f, k) => f.seed !== i[k].seed)) throw new FocalError('E_ARGUMENT', `autofocus at ${dz} µm: output and input scores are not paired by seed`, { field: 'scores' });
    const pick = (a: FieldScores[]) => Object.fromEntries(AF_METRICS.map(([k]) => [k, mean(a.map((f) => f[k]))])) as Record<AfMetric, number>;
    const diff = Object.fromEntries(AF_METRICS.map(([k]) => {
      const d = pairedDifference(o.map((f) => f[k]), i.map((f) => f[k]), { reps: 2000, level: 0.95, seed: 7 });
      return [k, { mean: d.mean, lo: d.lo, hi: d.hi }];
    })) as AutofocusRow['diff'];
    const inp = pick(i);
    const matters = (k: AfMetric) => Math.abs(diff[k].mean) > negligible(k, inp[k]);
    const better = AF_METRICS.some(([k, b]) => matters(k) && (b === 'lower' ? diff[k].hi < 0 : diff[k].lo > 0));
    const worse = AF_METRICS.some(([k, b]) => matters(k) && (b === 'lower' ? diff[k].lo > 0 : diff[k].hi < 0));
    return { defocusUm: dz, fields: o.length, input: inp, output: pick(o), diff, verdict: better && worse ? 'mixed' : worse ? 'worse' : better ? 'better' : 'level' };
  });
  const worseSomewhere = perDefocus.some((d) => d.verdict === 'worse' || d.verdict === 'mixed');
  const betterSomewhere = perDefocus.some((d) => d.verdict === 'better' || d.verdict === 'mixed');
  return { model, perDefocus, worseSomewhere, betterSomewhere, ship: !worseSomewhere && betterSomewhere };
}

/** MAE, PSNR and SSIM (target range) of the input and the output vs defocus, one PNG each. */
async function writeAutofocusFigures(dir: string, a: ReturnType<typeof autofocusSummary>): Promise<void> {
  const x = a.perDefocus.map((d) => d.defocusUm);
  for (const [k, title] of [['mae', 'MAE (target range 0-1)'], ['psnr', 'PSNR (target range, dB)'], ['ssim', 'SSIM (target range)']] as const) {
    const series = [
      { label: 'defocused input', colour: [214, 39, 40] as [number, number, number], x, y: a.perDefocus.map((d) => d.input[k]) },
      { label: 'autofocus output', colour: [31, 119, 180] as [number, number, number], x, y: a.perDefocus.map((d) => d.output[k]) },
      { label: 'output 95 % low', colour: [150, 190, 230] as [number, number, number], x, y: a.perDefocus.map((d) => d.input[k] + d.diff[k].lo) },
      { label: 'output 95 % high', colour: [150, 190, 230] as [number, number, number], x, y: a.perDefocus.map((d) => d.input[k] + d.diff[k].hi) },
    ];
    await writeFileAtomic(join(dir, `autofocus-${k}-vs-defocus-${a.model}.png`), renderLinePlot(series, 640, 360, { xTitle: 'defocus (µm)', yTitle: title, logY: false, markers: true }), { mkdir: true });
  }
}

async function main(): Promise<void> {
  const n = Number(arg('fields', '24'));
  const out = arg('out', 'plugins/virfluonet/docs');
  const models = arg('models', DEFAULT_MODELS.join(',')).split(',');
  const results: Record<string, { meta: VirFluoNetMeta; name: string; fields: FieldScores[]; inputScores: FieldScores[]; cells: { mean: [number[], number[]]; integrated: [number[], number[]] }; seconds: number }> = {};
  for (const name of models) {
    const { pkg, meta } = await loadVirFluoNetPackage(resolveModelDir(name));
    const m = pkg.manifest;
    const fieldPx = meta.fieldPx;
    const spec = { family: meta.family, inputs: meta.inputs.map((c) => c.name), target: meta.target.name, fieldPx, ...(meta.defocusUm ? { defocusUm: meta.defocusUm } : {}), pixelSizeUm: meta.optics.pixelSizeUm };
    // autofocus: every seed gives one field per defocus value
    const fields = makeFields(spec, SEED_BASE.test, meta.defocusUm ? Math.max(2, Math.round(n / 3)) : n);
    const inputScores: FieldScores[] = [];
    const engine = await createInferenceEngine(pkg, { engine: 'auto' });
    const scores: FieldScores[] = [];
    const cells = { mean: [[], []] as [number[], number[]], integrated: [[], []] as [number[], number[]] };
    const t0 = performance.now();
    for (const f of fields) {
      const pred = await predictField(f.inputs, f.width, f.height, meta, engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf ?? 1 });
      scores.push(scoreField(pred, f.target, f.width, f.height, meta, f.seed, f.defocusUm));
      if (meta.mode === 'autofocus') inputScores.push(scoreField(f.inputs[0], f.target, f.width, f.height, meta, f.seed, f.defocusUm));
      const real = perCell(f.target, f.cellLabels);
      const virt = perCell(pred, f.cellLabels);
      cells.mean[0].push(...real.mean);
      cells.mean[1].push(...virt.mean);
      cells.integrated[0].push(...real.integrated);
      cells.integrated[1].push(...virt.integrated);
      if (f === fields[0] || (meta.mode === 'autofocus' && f === fields[fields.length - 1])) {
        const unit = (x: Float32Array) => toUnitRange(x, meta.normalisation.target).map((v) => (v + 1) / 2);
        const a = unit(pred);
        const b = unit(f.target);
        const mask = Uint8Array.from(a, (v, i) => (Math.abs(Math.round(255 * v) - Math.round(255 * b[i])) > ERROR_TOLERANCE_8BIT ? 1 : 0));
        const panels: Panel[] = [
          ...f.inputs.map((p) => ({ data: p, width: f.width, height: f.height })),
          { data: pred, width: f.width, height: f.height, range: [meta.normalisation.target.lowAdu, meta.normalisation.target.highAdu] },
          { data: f.target, width: f.width, height: f.height, range: [meta.normalisation.target.lowAdu, meta.normalisation.target.highAdu] },
          { data: f.target, width: f.width, height: f.height, range: [meta.normalisation.target.lowAdu, meta.normalisation.target.highAdu], mask },
        ];
        await writeMontage(join(out, 'img', `montage-${m.name}${meta.mode === 'autofocus' ? `-${f.defocusUm}um` : ''}.png`), panels, panels.length);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    await engine.dispose();
    results[m.name] = { meta, name: m.name, fields: scores, inputScores, cells, seconds };
    console.log(`${name}: ${meta.inputs.map((c) => c.name).join('+')} → ${meta.target.name}: ${n} fields in ${seconds.toFixed(1)} s (${engine.kind})`);
  }

  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const metricKeys = ['mae16', 'psnr16', 'ssim16', 'mae', 'psnr', 'ssim', 'errorArea50'] as const;
  const summary = Object.fromEntries(Object.entries(results).map(([name, r]) => [name, {
    inputs: r.meta.inputs.map((c) => c.name), target: r.meta.target.name, shows: r.meta.target.stains, fields: r.fields.length,
    ...(Object.fromEntries(metricKeys.map((k) => [k, mean(r.fields.map((f) => f[k]))])) as Record<(typeof metricKeys)[number], number>),
    cells: r.cells.mean[0].length, pearsonMean: pearson(r.cells.mean[0], r.cells.mean[1]), pearsonIntegrated: pearson(r.cells.integrated[0], r.cells.integrated[1]),
    secondsPerField: r.seconds / r.fields.length,
  }]));
  // the paper's ranking: nucleus ≫ mitochondria > ER — paired over the same test seeds
  const byTarget = (t: string) => Object.values(results).find((r) => r.meta.family === 'cell-painting' && r.meta.mode === 'virtual-stain' && r.meta.target.name === t);
  const pairs: { a: string; b: string; metric: string; better: 'lower' | 'higher'; mean: number; lo: number; hi: number; holds: boolean }[] = [];
  for (const [ta, tb] of [['DAPI', 'Cy5'], ['Cy5', 'GFP'], ['DAPI', 'GFP']]) {
    const ra = byTarget(ta);
    const rb = byTarget(tb);
    if (!ra || !rb) continue;
    for (const [metric, better] of [['mae', 'lower'], ['psnr', 'higher'], ['ssim', 'higher'], ['mae16', 'lower'], ['psnr16', 'higher'], ['ssim16', 'higher'], ['errorArea50', 'lower']] as const) {
      const d = pairedDifference(ra.fields.map((f) => f[metric]), rb.fields.map((f) => f[metric]), { reps: 2000, level: 0.95, seed: 7 });
      const holds = better === 'lower' ? d.hi < 0 : d.lo > 0;
      pairs.push({ a: ta, b: tb, metric, better, mean: d.mean, lo: d.lo, hi: d.hi, holds });
    }
  }
  // F-actin → vinculin vs phase contrast → vinculin (same test fields)
  const fa = Object.values(results).find((r) => r.meta.family === 'mda-mb-231' && r.meta.target.name === 'vinculin' && r.meta.inputs[0].name === 'F-actin');
  const phc = Object.values(results).find((r) => r.meta.family === 'mda-mb-231' && r.meta.target.name === 'vinculin' && r.meta.inputs[0].name === 'PhC');
  if (fa && phc) {
    for (const [metric, better] of [['errorArea50', 'lower'], ['mae', 'lower'], ['psnr', 'higher'], ['ssim', 'higher']] as const) {
      const d = pairedDifference(fa.fields.map((f) => f[metric]), phc.fields.map((f) => f[metric]), { reps: 2000, level: 0.95, seed: 7 });
      pairs.push({ a: 'F-actin → vinculin', b: 'PhC → vinculin', metric, better, mean: d.mean, lo: d.lo, hi: d.hi, holds: better === 'lower' ? d.hi < 0 : d.lo > 0 });
    }
  }
  // autofocus: input (defocused) vs output, per defocus, paired over the same fields (output − input)
  const autofocus = Object.values(results).filter((r) => r.meta.mode === 'autofocus').map((r) => autofocusSummary(r.name, r.fields, r.inputScores));
  const record = { date: new Date().toISOString(), testSeeds: [SEED_BASE.test, SEED_BASE.test + n - 1], summary, pairs, autofocus, perField: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.fields])) };
  await writeFileAtomic(join(out, 'evaluation.json'), JSON.stringify(record, null, 1) + '\n', { mkdir: true });

  const f4 = (v: number) => (Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(4));
  const lines = [
    `Held-out simulated fields: ${n} per model (autofocus: ${Math.max(2, Math.round(n / 3))} seeds × each defocus) at the training field size, test seeds from ${SEED_BASE.test} (${record.date.slice(0, 10)}).`,
    '',
    '| model | inputs → target | MAE (16 bit) | PSNR (16 bit, dB) | SSIM (16 bit) | MAE (target range) | PSNR (target range, dB) | SSIM (target range) | error area at 50/255 | per-cell r (mean) | per-cell r (integrated) | cells |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(summary).map(([name, s]) => `| ${name} | ${s.inputs.join(' + ')} → ${s.target} | ${f4(s.mae16 as number)} | ${(s.psnr16 as number).toFixed(2)} | ${(s.ssim16 as number).toFixed(4)} | ${f4(s.mae as number)} | ${(s.psnr as number).toFixed(2)} | ${(s.ssim as number).toFixed(4)} | ${f4(s.errorArea50 as number)} | ${s.pearsonMean.toFixed(3)} | ${s.pearsonIntegrated.toFixed(3)} | ${s.cells} |`),
    '',
    'Paired differences (first − second target, same test fields), mean and 95 % bootstrap interval:',
    '',
    '| pair | metric | better | difference | 95 % interval | ranking holds |',
    '|---|---|---|---|---|---|',
    ...pairs.map((p) => `| ${p.a} vs ${p.b} | ${p.metric} | ${p.better} | ${f4(p.mean)} | [${f4(p.lo)}, ${f4(p.hi)}] | ${p.holds ? 'yes' : 'no'} |`),
    ...autofocus.flatMap((a) => [
      '',
      `Autofocus model ${a.model}: defocused input vs output against the in-focus field, mean over the fields of each defocus; output − input paired over the same fields, 95 % bootstrap interval (target range 0–1 unless marked 16 bit):`,
      '',
      '| defocus (µm) | fields | MAE in → out | Δ MAE [95 %] | PSNR in → out (dB) | Δ PSNR [95 %] | SSIM in → out | Δ SSIM [95 %] | MAE (16 bit) in → out | Δ MAE 16 bit [95 %] | verdict |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...a.perDefocus.map((d) => `| ${d.defocusUm} | ${d.fields} | ${f4(d.input.mae)} → ${f4(d.output.mae)} | ${f4(d.diff.mae.mean)} [${f4(d.diff.mae.lo)}, ${f4(d.diff.mae.hi)}] | ${d.input.psnr.toFixed(2)} → ${d.output.psnr.toFixed(2)} | ${d.diff.psnr.mean.toFixed(2)} [${d.diff.psnr.lo.toFixed(2)}, ${d.diff.psnr.hi.toFixed(2)}] | ${d.input.ssim.toFixed(4)} → ${d.output.ssim.toFixed(4)} | ${f4(d.diff.ssim.mean)} [${f4(d.diff.ssim.lo)}, ${f4(d.diff.ssim.hi)}] | ${f4(d.input.mae16)} → ${f4(d.output.mae16)} | ${f4(d.diff.mae16.mean)} [${f4(d.diff.mae16.lo)}, ${f4(d.diff.mae16.hi)}] | ${d.verdict} |`),
      '',
      `Verdict over all defocus values and the metrics MAE, PSNR, SSIM (target range and 16 bit; a difference counts when its interval excludes 0 and it exceeds MAE 0.5 % of the input's, 0.05 dB, 0.001 SSIM): ${a.worseSomewhere ? '**worse than the input somewhere**' : 'not worse than the input anywhere'}; ${a.betterSomewhere ? 'better somewhere' : 'better nowhere'} → ${a.ship ? '**ship**' : '**do not ship**'} (ship = level everywhere and better somewhere).`,
    ]),
  ];
  await writeFileAtomic(join(out, 'evaluation.md'), lines.join('\n') + '\n', { mkdir: true });
  const colours: [number, number, number][] = [[31, 119, 180], [214, 39, 40], [44, 160, 44], [148, 103, 189]];
  const series = Object.entries(results).map(([name, r], k) => ({ label: `${r.meta.target.name} (${name})`, colour: colours[k % colours.length], x: r.fields.map((_, i) => i), y: r.fields.map((f) => f.mae) }));
  await writeFileAtomic(join(out, 'img', 'per-field-mae.png'), renderLinePlot(series, 800, 400, { xTitle: 'held-out test field (seed - 200001)', yTitle: 'MAE (target range 0-1, unitless)', logY: false, markers: true }), { mkdir: true });
  for (const a of autofocus) await writeAutofocusFigures(join(out, 'img'), a);
  console.log(lines.join('\n'));
}

if (process.argv[1] && /evaluate\.(js|ts)$/.test(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
