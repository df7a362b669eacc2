/**
 * Compares TSVA-family packages of any arch (TSVA, the U-Net baseline, early fusion, with or without
 * the residual) on TSVA's test sets — the architecture ablations:
 *   node dist/plugins/tsva/tools/compare.js --model <label>=<package> [--model …] [--reference <label>]
 *     [--sets d1-gauss,d2-gauss,…] [--pass-through] [--ckpt /work/ckpt/tsva] [--out <dir>]
 * The sets are those of scripts/evaluate-tsva.ts (recipes.ts; cached in <ckpt>/data/<set>, as
 * tools/make-data.ts makes them): Dataset 1 (he-gland, held-out tiles) and Dataset 2 (he-skin, never
 * trained on), the Gaussian ΔD protocol and the uniform sweep, z-stack and independent noise.
 * PSNR (RGB, data range 1, per patch capped at 60 dB as in evaluate-tsva); every package against the
 * reference (default: the first), paired per patch, 95 % bootstrap interval, per set and per ΔD of
 * the sweeps. Also each package's training (arch, residual, start, iterations, best validation MSE)
 * from its manifest. Writes <out>/evaluation.md, evaluation.json, loss.png (validation MSE against
 * iteration, from each manifest's history) and psnr-vs-deltad.png (the sweeps with z-stack noise).
 * `--pass-through`: also, on the patches with |ΔD| = s (one shot on the in-focus plane, so Y1 is
 * it), each output's PSNR against the target and against Y1 — how much of Y1, noise included,
 * each network passes through.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderLinePlot, type Series } from '../../../core/index.js';
import { psnr } from '../../../core/imaging.js';
import { loadTf, loadTfjsModel, weightsSource } from '../../../core/ml.js';
import { datasetFromRecipe } from '../data.js';
import { loadTsvaPackage, type TsvaMeta } from '../package.js';
import { predictPatches } from '../train.js';
import { SWEEP_UM, TEST_RECIPES } from '../recipes.js';
import { DEFAULT_PROTOCOL } from '../simulate.js';
import { flagValue, flagValues, fmt, labelledPath, mean, pairDiff, PSNR_CAP_DB, towardTarget, trainingSeconds, withInterval } from './report.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: string) => flagValue(argv, name, fallback);
const ckpt = arg('ckpt', '/work/ckpt/tsva');
const outDir = arg('out', 'plugins/tsva/docs/compare');
const sets = arg('sets', Object.keys(TEST_RECIPES).join(',')).split(',');
for (const s of sets) if (!TEST_RECIPES[s]) throw new Error(`--sets: '${s}' is not a test set (${Object.keys(TEST_RECIPES).join(', ')})`);

const { tf } = await loadTf();
interface Entry { label: string; dir: string; meta: TsvaMeta; model: Awaited<ReturnType<typeof loadTfjsModel>>; version: string; weights: string }
const models: Entry[] = [];
for (const a of flagValues(argv, 'model')) {
  const { label, path: dir } = labelledPath(a, 'model');
  if (label === 'y1' || models.some((m) => m.label === label)) throw new Error(`--model ${a}: each package needs its own label (and not y1)`);
  const { pkg, meta } = await loadTsvaPackage(dir);
  models.push({ label, dir, meta, model: await loadTfjsModel(pkg, tf as never), version: pkg.manifest.version, weights: weightsSource(pkg.manifest) });
}
if (models.length < 2) throw new Error('--model <label>=<package>: give at least two packages to compare');
const reference = arg('reference', models[0].label);
if (!models.some((m) => m.label === reference)) throw new Error(`--reference ${reference}: not one of the labels (${models.map((m) => m.label).join(', ')})`);
const others = models.filter((m) => m.label !== reference);
const passThrough = argv.includes('--pass-through');

/** PSNR per patch: set → method (y1 or a label) → values; and the patches' ΔD. */
const scores: Record<string, Record<string, number[]>> = {};
const deltaD: Record<string, number[]> = {};
/** --pass-through: PSNR of each output against Y1 (capped), per set and label, on the patches with |ΔD| = s. */
const toY1: Record<string, Record<string, number[]>> = {};
const toward: Record<string, Record<string, { beta: number; off: number }>> = {};
/** The patches with |ΔD| = s, per set. */
const atSIndex: Record<string, number[]> = {};
for (const name of sets) {
  const t0 = Date.now();
  const patches = await datasetFromRecipe(join(ckpt, 'data', name), TEST_RECIPES[name]);
  const P = TEST_RECIPES[name].patchPx;
  const score = (outs: Float32Array[]) => patches.map((p, i) => Math.min(PSNR_CAP_DB, psnr(outs[i], p.x, { dataRange: 1 })));
  scores[name] = { y1: score(patches.map((p) => p.y1)) };
  const s = TEST_RECIPES[name].protocol?.shotOffsetUm ?? DEFAULT_PROTOCOL.shotOffsetUm;
  const atS = patches.map((p, i) => (Math.abs(Math.abs(p.deltaDUm) - s) < 1e-9 ? i : -1)).filter((i) => i >= 0);
  if (passThrough) { toY1[name] = {}; toward[name] = {}; }
  for (const m of models) {
    const outs = await predictPatches(tf as never, m.model as never, m.meta.arch, patches, P);
    scores[name][m.label] = score(outs);
    if (passThrough) {
      toY1[name][m.label] = atS.map((i) => Math.min(PSNR_CAP_DB, psnr(outs[i], patches[i].y1, { dataRange: 1 })));
      toward[name][m.label] = towardTarget(atS.map((i) => outs[i]), atS.map((i) => patches[i]));
    }
  }
  atSIndex[name] = atS;
  deltaD[name] = patches.map((p) => p.deltaDUm);
  console.log(`${name}: ${patches.length} patches (${((Date.now() - t0) / 1000).toFixed(0)} s); ${Object.entries(scores[name]).map(([k, v]) => `${k} ${mean(v).toFixed(2)}`).join(', ')}`);
}

// ---- report
const describe = (m: Entry) => {
  const h = m.meta.history;
  const best = h.length > 0 ? h.reduce((a, b) => (b.valMse < a.valMse ? b : a)) : undefined;
  const last = h.at(-1);
  return `| ${m.label} | ${m.weights} | ${m.meta.arch} | ${m.meta.residual === false ? 'no' : 'yes'} | ${m.meta.initFrom ?? 'random weights'} | ${m.meta.batchNorm ?? 'batch'} | ${last ? last.iteration : '–'} | ${best ? `${best.valMse.toExponential(3)} (it ${best.iteration})` : '–'} | ${h.length > 0 ? fmt(trainingSeconds(h), 0) : '–'} |`;
};
const command = `node dist/plugins/tsva/tools/compare.js ${argv.join(' ')}`;
const lines: string[] = ['# TSVA architecture comparison (generated by plugins/tsva/tools/compare.ts)', '',
  `Command: \`${command}\`. Packages: ${models.map((m) => `${m.label} = ${m.dir} (${m.meta.arch} ${m.version})`).join('; ')}. PSNR in dB, RGB, data range 1, per patch capped at ${PSNR_CAP_DB} dB; Δ = package − ${reference}, paired per patch, 95 % bootstrap interval (2000 resamples). Test sets as in scripts/evaluate-tsva.ts (the in-focus plane by Brenner; z-stack noise: a shot on the in-focus plane is the target; \`-indep\`: every image its own noise).`, '',
  '## Training (from each manifest)', '', 'Packages are named by their manifests (name, version, weights hash); a run\'s start is named the same way, so the hash tells which package it started from.', '', '| package | manifest | arch | residual +Y1 | start | batch norm | iterations | best validation MSE | training time (s) |', '|---|---|---|---|---|---|---|---|---|',
  ...models.map(describe), '',
  '## Per test set', '', `| set | patches | Y1 | ${models.map((m) => m.label).join(' | ')} | ${others.map((m) => `Δ ${m.label} − ${reference}`).join(' | ')} |`, `|---|---|---|${models.map(() => '---|').join('')}${others.map(() => '---|').join('')}`];
const perSet: Record<string, unknown> = {};
for (const name of sets) {
  const r = scores[name];
  const diffs = others.map((m) => pairDiff(r[m.label], r[reference]));
  lines.push(`| ${name} | ${r.y1.length} | ${fmt(mean(r.y1))} | ${models.map((m) => fmt(mean(r[m.label]))).join(' | ')} | ${diffs.map(withInterval).join(' | ')} |`);
  perSet[name] = { n: r.y1.length, y1: mean(r.y1), psnr: Object.fromEntries(models.map((m) => [m.label, mean(r[m.label])])), vsReference: Object.fromEntries(others.map((m, i) => [m.label, diffs[i]])) };
}
const sweeps = sets.filter((s) => s.includes('sweep'));
const perDeltaD: Record<string, unknown[]> = {};
if (sweeps.length > 0) {
  lines.push('', `## Per ΔD (uniform sweeps; mean PSNR, Δ − ${reference} paired)`, '', `| set | ΔD (µm) | patches | Y1 | ${models.map((m) => m.label).join(' | ')} | ${others.map((m) => `Δ ${m.label} − ${reference}`).join(' | ')} |`, `|---|---|---|---|${models.map(() => '---|').join('')}${others.map(() => '---|').join('')}`);
  for (const name of sweeps) {
    perDeltaD[name] = [];
    for (const d of SWEEP_UM) {
      const idx = deltaD[name].map((v, i) => (v === d ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) continue;
      const pick = (a: number[]) => idx.map((i) => a[i]);
      const diffs = others.map((m) => pairDiff(pick(scores[name][m.label]), pick(scores[name][reference])));
      lines.push(`| ${name} | ${d} | ${idx.length} | ${fmt(mean(pick(scores[name].y1)))} | ${models.map((m) => fmt(mean(pick(scores[name][m.label])))).join(' | ')} | ${diffs.map(withInterval).join(' | ')} |`);
      perDeltaD[name].push({ deltaDUm: d, n: idx.length, y1: mean(pick(scores[name].y1)), psnr: Object.fromEntries(models.map((m) => [m.label, mean(pick(scores[name][m.label]))])), vsReference: Object.fromEntries(others.map((m, i) => [m.label, diffs[i]])) });
    }
  }
}
const atSSummary: Record<string, unknown> = {};
if (passThrough) {
  lines.push('', '## At |ΔD| = s: one shot on the in-focus plane (Y1), each output against the target and against Y1', '',
    'With z-stack noise Y1 *is* the target (Y1 vs target is capped at 60 dB), so passing it through is right; with independent noise the target has its own noise, and a verbatim Y1 carries all of its own. Mean PSNR (dB); "vs Y1": how close each output stays to Y1, noise included (60 = Y1 unchanged). β and off (independent noise only; pooled over the patches): the output\'s change e = out − Y1 split along n = target − Y1; β = ⟨e, n⟩ / |n|² is how far it moved toward the target (denoising), off = |e − βn|² / |n|² the change that is not (distortion); its pooled squared error relative to Y1\'s is (1 − β)² + off.', '',
    `| set | patches | Y1 vs target | ${models.map((m) => `${m.label} vs target | ${m.label} vs Y1 | ${m.label} β / off`).join(' | ')} |`, `|---|---|---|${models.map(() => '---|---|---|').join('')}`);
  for (const name of sets) {
    const idx = atSIndex[name];
    if (idx.length === 0) continue;
    const pick = (a: number[]) => idx.map((i) => a[i]);
    const split = (label: string) => { const t = toward[name][label]; return Number.isFinite(t.beta) ? `${fmt(t.beta, 3)} / ${fmt(t.off, 3)}` : '–'; };
    lines.push(`| ${name} | ${idx.length} | ${fmt(mean(pick(scores[name].y1)))} | ${models.map((m) => `${fmt(mean(pick(scores[name][m.label])))} | ${fmt(mean(toY1[name][m.label]))} | ${split(m.label)}`).join(' | ')} |`);
    atSSummary[name] = { n: idx.length, y1VsTarget: mean(pick(scores[name].y1)), vsTarget: Object.fromEntries(models.map((m) => [m.label, mean(pick(scores[name][m.label]))])), vsY1: Object.fromEntries(models.map((m) => [m.label, mean(toY1[name][m.label])])), towardTarget: toward[name] };
  }
}
lines.push('', 'Figures: loss.png (validation MSE against iteration, from each manifest), psnr-vs-deltad.png (mean PSNR against ΔD on the z-stack-noise sweeps, each package and Y1).', '');

// ---- figures
const PALETTE: [number, number, number][] = [[220, 0, 0], [0, 110, 220], [0, 160, 60], [160, 0, 160], [230, 120, 0], [0, 150, 150]];
const lossSeries: Series[] = models.map((m, i) => ({ label: m.label, colour: PALETTE[i % PALETTE.length], x: m.meta.history.map((h) => h.iteration), y: m.meta.history.map((h) => h.valMse) }));
const sweepSeries: Series[] = sweeps.filter((s) => !s.endsWith('-indep')).flatMap((name, k) => {
  const rows = perDeltaD[name] as { deltaDUm: number; y1: number; psnr: Record<string, number> }[];
  const tag = name.startsWith('d1') ? 'D1' : 'D2';
  return [
    { label: `${tag} Y1`, colour: k === 0 ? [0, 0, 0] : [130, 130, 130], x: rows.map((r) => r.deltaDUm), y: rows.map((r) => r.y1) } as Series,
    ...models.map((m, i) => ({ label: `${tag} ${m.label}`, colour: k === 0 ? PALETTE[i % PALETTE.length] : PALETTE[i % PALETTE.length].map((c) => Math.round(c + (255 - c) * 0.5)) as [number, number, number], x: rows.map((r) => r.deltaDUm), y: rows.map((r) => r.psnr[m.label]) })),
  ];
});
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'loss.png'), renderLinePlot(lossSeries, 800, 400, { xTitle: 'iteration', yTitle: 'validation MSE (unitless, log scale)' }));
if (sweepSeries.length > 0) await writeFile(join(outDir, 'psnr-vs-deltad.png'), renderLinePlot(sweepSeries, 800, 440, { xTitle: 'focus error dD (um)', yTitle: 'PSNR (dB)', logY: false, markers: true }));
await writeFile(join(outDir, 'evaluation.md'), lines.join('\n'));
await writeFile(join(outDir, 'evaluation.json'), JSON.stringify({ reference, packages: models.map((m) => ({ label: m.label, dir: m.dir, weights: m.weights, arch: m.meta.arch, version: m.version, residual: m.meta.residual !== false, initFrom: m.meta.initFrom ?? null, history: m.meta.history })), perSet, perDeltaD, ...(passThrough ? { atS: atSSummary } : {}) }, null, 1));
console.log(lines.join('\n'));
