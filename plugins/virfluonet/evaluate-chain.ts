/**
 * Cell Painting predictions from defocused inputs, with and without the autofocus step (issue 20,
 * the paper's use of its AF model: "applied to out-of-focus U2OS-CPS images, mainly the Golgi +
 * F-actin channel, before" virtual staining).
 *
 *   npx tsc -p tsconfig.build.json && nice node dist/plugins/virfluonet/evaluate-chain.js \
 *     --af <autofocus package dir or id> [--models virfluonet-cp-dapi,virfluonet-cp-cy5,virfluonet-cp-gfp] \
 *     [--seeds 8] [--defocus -12,-8,-4] [--out plugins/virfluonet/docs]
 *
 * Per held-out seed (200 001…) and defocus: the whole field (every channel) is rendered at that
 * defocus; each two-channel model (TxRed + Cy3 → target) predicts the in-focus target from
 * (a) the in-focus inputs (the reference), (b) the defocused inputs as they are, and (c) the
 * TxRed channel refocused by the autofocus model (trained on TxRed alone) with the Cy3 channel
 * left defocused (the autofocus model is not applied to Cy3: another structure, another
 * wavelength, and the paper's AF model was used mainly on the TxRed channel). Scores against
 * the in-focus target as evaluate.ts (target range 0–1 and 16 bit), and the paired difference
 * (c) − (b) with 95 % bootstrap intervals over the seeds ("helps"/"hurts" when the interval
 * excludes 0 and the difference is not negligible, evaluate.ts's margins). Writes evaluation-chain.md/.json and
 * img/chain-<metric>-vs-defocus.png.
 */
import { join } from 'node:path';
import { FocalError, pairedDifference, renderLinePlot, writeFileAtomic } from '../../core/index.js';
import { renderMultiChannel } from '../../core/specimens.js';
import { createInferenceEngine, resolveModelDir } from '../../core/ml.js';
import { SEED_BASE } from './data.js';
import { negligible, scoreField, type FieldScores } from './evaluate.js';
import { loadVirFluoNetPackage } from './package.js';
import { predictField } from './predict.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

type Variant = 'focused' | 'defocused' | 'refocused';
const VARIANTS: Variant[] = ['focused', 'defocused', 'refocused'];
const METRICS = [['mae', 'lower'], ['psnr', 'higher'], ['ssim', 'higher'], ['mae16', 'lower'], ['errorArea50', 'lower']] as const;

async function main(): Promise<void> {
  const afName = arg('af', '');
  if (!afName) throw new FocalError('E_ARGUMENT', '--af: give the autofocus package (folder or model id)', { field: 'af' });
  const models = arg('models', 'virfluonet-cp-dapi,virfluonet-cp-cy5,virfluonet-cp-gfp').split(',');
  const seeds = Number(arg('seeds', '8'));
  const defocus = arg('defocus', '-12,-8,-4').split(',').map(Number);
  const out = arg('out', 'plugins/virfluonet/docs');
  const af = await loadVirFluoNetPackage(resolveModelDir(afName));
  if (af.meta.mode !== 'autofocus') throw new FocalError('E_ARGUMENT', `--af: ${afName} is a ${af.meta.mode} model, not an autofocus model`, { field: 'af' });
  const afChannel = af.meta.target.name;
  const afEngine = await createInferenceEngine(af.pkg, { engine: 'auto' });
  const tiling = (m: typeof af.pkg.manifest) => ({ tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf ?? 1 });
  const stainers = await Promise.all(models.map(async (name) => {
    const p = await loadVirFluoNetPackage(resolveModelDir(name));
    if (p.meta.mode !== 'virtual-stain') throw new FocalError('E_ARGUMENT', `--models: ${name} is not a virtual-staining model`, { field: 'models' });
    if (p.meta.family !== af.meta.family) throw new FocalError('E_ARGUMENT', `--models: ${name} is a ${p.meta.family} model, the autofocus model ${af.meta.family}`, { field: 'models' });
    if (!p.meta.inputs.some((c) => c.name === afChannel)) throw new FocalError('E_ARGUMENT', `--models: ${name} does not take ${afChannel}, the channel the autofocus model refocuses`, { field: 'models' });
    if (Math.abs(p.meta.optics.pixelSizeUm - af.meta.optics.pixelSizeUm) > 1e-9) throw new FocalError('E_ARGUMENT', `--models: ${name} has ${p.meta.optics.pixelSizeUm} µm pixels, the autofocus model ${af.meta.optics.pixelSizeUm}`, { field: 'models' });
    return { name, ...p, engine: await createInferenceEngine(p.pkg, { engine: 'auto' }) };
  }));
  const fieldPx = Math.max(...stainers.map((s) => s.meta.fieldPx));
  const channels = [...new Set(stainers.flatMap((s) => [...s.meta.inputs.map((c) => c.name), s.meta.target.name]))];
  // scores[model][variant][dz] → per seed
  const perDefocus = (): Record<number, FieldScores[]> => Object.fromEntries(defocus.map((dz) => [dz, [] as FieldScores[]]));
  const scores: Record<string, Record<Variant, Record<number, FieldScores[]>>> = Object.fromEntries(stainers.map((s) => [s.name, { focused: perDefocus(), defocused: perDefocus(), refocused: perDefocus() }]));
  const afScores: Record<number, { input: FieldScores[]; output: FieldScores[] }> = Object.fromEntries(defocus.map((dz) => [dz, { input: [], output: [] }]));
  const t0 = performance.now();
  for (let seed = SEED_BASE.test; seed < SEED_BASE.test + seeds; seed++) {
    const base = { family: af.meta.family, widthPx: fieldPx, heightPx: fieldPx, seed, pixelSizeUm: af.meta.optics.pixelSizeUm, channels };
    const focus = renderMultiChannel(base);
    const plane = (r: typeof focus, c: string) => Float32Array.from(r.channels[channels.indexOf(c)].image);
    const reference = new Map<string, Float32Array>();
    for (const s of stainers) reference.set(s.name, await predictField(s.meta.inputs.map((c) => plane(focus, c.name)), fieldPx, fieldPx, s.meta, s.engine, tiling(s.pkg.manifest)));
    for (const dz of defocus) {
      const blurred = renderMultiChannel({ ...base, defocusUm: dz });
      const afInput = plane(blurred, afChannel);
      const refocused = await predictField([afInput], fieldPx, fieldPx, af.meta, afEngine, tiling(af.pkg.manifest));
      afScores[dz].input.push(scoreField(afInput, plane(focus, afChannel), fieldPx, fieldPx, af.meta, seed, dz));
      afScores[dz].output.push(scoreField(refocused, plane(focus, afChannel), fieldPx, fieldPx, af.meta, seed, dz));
      for (const s of stainers) {
        const truth = plane(focus, s.meta.target.name);
        const inputs = (v: Variant) => s.meta.inputs.map((c) => (c.name === afChannel && v === 'refocused' ? refocused : plane(blurred, c.name)));
        const preds: Record<Variant, Float32Array> = {
          focused: reference.get(s.name)!,
          defocused: await predictField(inputs('defocused'), fieldPx, fieldPx, s.meta, s.engine, tiling(s.pkg.manifest)),
          refocused: await predictField(inputs('refocused'), fieldPx, fieldPx, s.meta, s.engine, tiling(s.pkg.manifest)),
        };
        for (const v of VARIANTS) scores[s.name][v][dz].push(scoreField(preds[v], truth, fieldPx, fieldPx, s.meta, seed, dz));
      }
    }
    console.log(`seed ${seed}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  await afEngine.dispose();
  for (const s of stainers) await s.engine.dispose();

  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const rows = stainers.flatMap((s) => defocus.map((dz) => {
    const sc = scores[s.name];
    const m = (v: Variant, k: (typeof METRICS)[number][0]) => mean(sc[v][dz].map((f) => f[k]));
    const diff = Object.fromEntries(METRICS.map(([k, better]) => {
      const d = pairedDifference(sc.refocused[dz].map((f) => f[k]), sc.defocused[dz].map((f) => f[k]), { reps: 2000, level: 0.95, seed: 7 });
      const matters = Math.abs(d.mean) > (k === 'errorArea50' ? 0.001 : negligible(k, m('defocused', k)));
      const helps = matters && (better === 'lower' ? d.hi < 0 : d.lo > 0);
      const hurts = matters && (better === 'lower' ? d.lo > 0 : d.hi < 0);
      return [k, { mean: d.mean, lo: d.lo, hi: d.hi, effect: helps ? 'helps' : hurts ? 'hurts' : 'no difference' }];
    }));
    return { model: s.name, target: s.meta.target.name, defocusUm: dz, seeds: sc.defocused[dz].length, means: Object.fromEntries(VARIANTS.map((v) => [v, Object.fromEntries(METRICS.map(([k]) => [k, m(v, k)]))])), refocusedMinusDefocused: diff };
  }));
  const afRows = defocus.map((dz) => ({ defocusUm: dz, input: Object.fromEntries(METRICS.map(([k]) => [k, mean(afScores[dz].input.map((f) => f[k]))])), output: Object.fromEntries(METRICS.map(([k]) => [k, mean(afScores[dz].output.map((f) => f[k]))])) }));
  const record = { date: new Date().toISOString(), autofocusModel: af.pkg.manifest.name, autofocusVersion: af.pkg.manifest.version, models, testSeeds: [SEED_BASE.test, SEED_BASE.test + seeds - 1], defocusUm: defocus, fieldPx, rows, autofocusOnTxRed: afRows };
  await writeFileAtomic(join(out, 'evaluation-chain.json'), JSON.stringify(record, null, 1) + '\n', { mkdir: true });

  const f4 = (v: number) => (Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(4));
  const lines = [
    `Cell Painting predictions from defocused fields, with and without the autofocus step (${af.pkg.manifest.name} ${af.pkg.manifest.version} on ${afChannel}; Cy3 left defocused). ${seeds} held-out seeds from ${SEED_BASE.test}, ${fieldPx}² px, every channel rendered at the defocus; target range 0–1 (${record.date.slice(0, 10)}).`,
    '',
    '| model → target | defocus (µm) | MAE: in focus / defocused / refocused | Δ MAE refocused − defocused [95 %] | SSIM: in focus / defocused / refocused | Δ SSIM [95 %] | PSNR (dB): in focus / defocused / refocused | Δ PSNR [95 %] |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const t = (k: 'mae' | 'ssim' | 'psnr', fmt: (v: number) => string) => `${fmt(r.means.focused[k])} / ${fmt(r.means.defocused[k])} / ${fmt(r.means.refocused[k])}`;
      const d = (k: 'mae' | 'ssim' | 'psnr', fmt: (v: number) => string) => `${fmt(r.refocusedMinusDefocused[k].mean)} [${fmt(r.refocusedMinusDefocused[k].lo)}, ${fmt(r.refocusedMinusDefocused[k].hi)}] (${r.refocusedMinusDefocused[k].effect})`;
      return `| ${r.model} → ${r.target} | ${r.defocusUm} | ${t('mae', f4)} | ${d('mae', f4)} | ${t('ssim', f4)} | ${d('ssim', f4)} | ${t('psnr', (v) => v.toFixed(2))} | ${d('psnr', (v) => v.toFixed(2))} |`;
    }),
    '',
    `The autofocus model on the same fields' ${afChannel} (input → output): ` + afRows.map((r) => `${r.defocusUm} µm MAE ${f4(r.input.mae)} → ${f4(r.output.mae)}, SSIM ${r.input.ssim.toFixed(4)} → ${r.output.ssim.toFixed(4)}`).join('; ') + '.',
  ];
  await writeFileAtomic(join(out, 'evaluation-chain.md'), lines.join('\n') + '\n', { mkdir: true });
  const colours: [number, number, number][] = [[31, 119, 180], [214, 39, 40], [44, 160, 44]];
  for (const [k, title] of [['mae', 'MAE (target range 0-1)'], ['ssim', 'SSIM (target range)']] as const) {
    const series = stainers.flatMap((s, i) => (['defocused', 'refocused'] as const).map((v) => ({
      label: `${s.meta.target.name} ${v}`, colour: (v === 'defocused' ? colours[i].map((c) => Math.round(c + (255 - c) * 0.55)) : colours[i]) as [number, number, number],
      x: defocus, y: rows.filter((r) => r.model === s.name).map((r) => r.means[v][k]),
    })));
    await writeFileAtomic(join(out, 'img', `chain-${k}-vs-defocus.png`), renderLinePlot(series, 720, 400, { xTitle: 'defocus of every channel (µm)', yTitle: title, logY: false, markers: true }), { mkdir: true });
  }
  console.log(lines.join('\n'));
}

if (process.argv[1] && /evaluate-chain\.(js|ts)$/.test(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
