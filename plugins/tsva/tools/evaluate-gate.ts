/**
 * The ops' focus gate (`gate: 'focus'`, not the paper): Y1 returned as it is when the two-shot
 * focus error puts it within a quarter of the depth of field of focus, the network's output
 * beyond half of it, blended between:
 *   node dist/plugins/tsva/tools/evaluate-gate.js [--tsva tsva-demo] [--unet tsva-unet-baseline-demo] [--out plugins/tsva/docs/gate] [--image a.png …]
 * Scanner-like tiles of 256 px (the estimate's 2 × 2 windows of 128 px) with independent noise
 * (no shot is ever the target), the in-focus plane by Brenner: both datasets under the paper's
 * Gaussian ΔD ~ N(0, 1 µm) and a uniform sweep −3…+3 µm, and the two real images as thin
 * sections (evaluate-real.ts's). Each package runs through the ops' path (refocusPair,
 * onnxruntime) with and without the gate. PSNR (RGB, data range 1) against the in-focus plane;
 * paired differences with 95 % bootstrap intervals. Writes <out>/evaluation.md, evaluation.json,
 * psnr-vs-deltad.png.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { renderLinePlot, type Series } from '../../../core/index.js';
import { psnr } from '../../../core/imaging.js';
import { TwoShotDefocus } from '../defocus-estimate.js';
import { openModel, type OpenModel } from '../ops/common.js';
import { focusGateToleranceUm, refocusPair } from '../refocus.js';
import { SWEEP_UM } from '../recipes.js';
import { simulateDataset, simulateFromImage, type TsvaPatch } from '../simulate.js';
import { flagValue, flagValues, fmt, mean, pairDiff, PSNR_CAP_DB, whiteBalanced, withInterval } from './report.js';

const argv = process.argv.slice(2);
const outDir = flagValue(argv, 'out', 'plugins/tsva/docs/gate');
const tsvaModel = flagValue(argv, 'tsva', 'tsva-demo');
const unetModel = flagValue(argv, 'unet', 'tsva-unet-baseline-demo');
const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
const given = flagValues(argv, 'image');
const images = given.length > 0 ? given : ['ihc.png', 'cell.png'].map((f) => join(SKIMAGE, f)).filter((f) => existsSync(f));
const PX = 256;

const tsva = await openModel({ model: tsvaModel });
const unet = await openModel({ model: unetModel });
const s = tsva.meta.protocol.shotOffsetUm;
const toleranceUm = focusGateToleranceUm(tsva.meta.optics);
const estimator = new TwoShotDefocus({ optics: tsva.meta.optics, shotOffsetUm: s });
const METHODS = ['tsva', 'tsvaGate', 'unet', 'unetGate'] as const;
type Method = (typeof METHODS)[number];
interface SetResult { name: string; deltaD: number[]; estimate: number[]; gateWeight: number[]; y1: number[]; psnr: Record<Method, number[]> }
const results: SetResult[] = [];
const t0 = performance.now();

async function score(name: string, patches: TsvaPatch[]): Promise<void> {
  const r: SetResult = { name, deltaD: [], estimate: [], gateWeight: [], y1: [], psnr: { tsva: [], tsvaGate: [], unet: [], unetGate: [] } };
  const shot = (hwc: Float32Array) => ({ hwc, width: PX, height: PX });
  const run = async (m: OpenModel, p: TsvaPatch, gate?: { deltaDUm: number; shotOffsetUm: number; toleranceUm: number }) => {
    const out = await refocusPair(shot(p.y1), shot(p.y2), m.engine, { tilePx: m.tilePx, haloPx: m.haloPx, multipleOf: m.multipleOf, arch: m.meta.arch, order: 'as-given', ...(gate ? { gate } : {}) });
    return { value: Math.min(PSNR_CAP_DB, psnr(out.hwc, p.x, { dataRange: 1 })), weight: out.gateWeight };
  };
  for (const p of patches) {
    // as the refocus op does: the first shot (here Y1) taken as the one at F − s
    const e = estimator.estimate(p.y1, p.y2, PX, PX).deltaDUm;
    const gate = Number.isFinite(e) ? { deltaDUm: e, shotOffsetUm: s, toleranceUm } : undefined;
    r.deltaD.push(p.deltaDUm);
    r.estimate.push(e);
    r.y1.push(Math.min(PSNR_CAP_DB, psnr(p.y1, p.x, { dataRange: 1 })));
    r.psnr.tsva.push((await run(tsva, p)).value);
    const gated = await run(tsva, p, gate);
    r.psnr.tsvaGate.push(gated.value);
    r.gateWeight.push(gated.weight ?? 1);
    r.psnr.unet.push((await run(unet, p)).value);
    r.psnr.unetGate.push((await run(unet, p, gate)).value);
  }
  results.push(r);
  console.log(`${name}: ${patches.length} tiles (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

try {
  const common = { patchPx: PX, patchesPerSide: 1, noise: 'independent' as const, focus: 'brenner' as const };
  await score('Dataset 1 (he-gland, tiles never trained on), Gaussian ΔD', simulateDataset({ family: 'he-gland', tiles: 40, seed: 828, ...common }));
  await score('Dataset 2 (he-skin, never trained on), Gaussian ΔD', simulateDataset({ family: 'he-skin', tiles: 40, seed: 929, ...common }));
  await score('Dataset 1, sweep', simulateDataset({ family: 'he-gland', tiles: 3, seed: 838, deltaD: SWEEP_UM, ...common }));
  await score('Dataset 2, sweep', simulateDataset({ family: 'he-skin', tiles: 3, seed: 939, deltaD: SWEEP_UM, ...common }));
  for (const file of images) {
    const img = await whiteBalanced(file);
    await score(`${basename(file, '.png')} (real image as a thin section), sweep`, simulateFromImage({ name: basename(file, '.png'), ...img, patchPx: PX, seed: 19, deltaD: SWEEP_UM, noise: 'independent', focus: 'brenner' }));
  }
} finally {
  await tsva.engine.dispose();
  await unet.engine.dispose();
}

const lines: string[] = [
  '# The focus gate (`gate: \'focus\'`)',
  '',
  `Generated by \`node dist/plugins/tsva/tools/evaluate-gate.js --tsva ${tsvaModel} --unet ${unetModel}\` on ${new Date().toISOString().slice(0, 10)} (${((performance.now() - t0) / 1000).toFixed(0)} s).`,
  '',
  `Tiles of ${PX} px, independent noise, the in-focus plane by Brenner; shots at F ∓ ${s} µm. The gate keeps Y1 as it is within ${fmt(toleranceUm)} µm of focus (n·λ/(4·NA²)), the network's output beyond ${fmt(2 * toleranceUm)} µm, blended between; Y1's distance from focus comes from the two-shot estimate (defocus-estimate.ts). PSNR (dB, RGB, data range 1); Δ paired per tile, 95 % bootstrap interval.`,
  '',
  '| set | tiles | Y1 | TSVA | TSVA + gate | Δ gate | TSVA + gate − Y1 | U-Net | U-Net + gate | tiles gated (weight < 1) |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const r of results) {
  lines.push(`| ${r.name} | ${r.y1.length} | ${fmt(mean(r.y1))} | ${fmt(mean(r.psnr.tsva))} | **${fmt(mean(r.psnr.tsvaGate))}** | ${withInterval(pairDiff(r.psnr.tsvaGate, r.psnr.tsva))} | ${withInterval(pairDiff(r.psnr.tsvaGate, r.y1))} | ${fmt(mean(r.psnr.unet))} | ${fmt(mean(r.psnr.unetGate))} | ${r.gateWeight.filter((w) => w < 1).length} |`);
}
for (const r of results) {
  lines.push('', `## ${r.name}: per ΔD (mean PSNR, dB)`, '', '| ΔD (µm) | tiles | Y1 | TSVA | TSVA + gate | Δ gate | mean gate weight | U-Net | U-Net + gate |', '|---|---|---|---|---|---|---|---|---|');
  for (const d of [...new Set(r.deltaD)].sort((a, b) => a - b)) {
    const idx = r.deltaD.map((v, i) => (v === d ? i : -1)).filter((i) => i >= 0);
    const pick = (a: number[]) => idx.map((i) => a[i]);
    lines.push(`| ${d} | ${idx.length} | ${fmt(mean(pick(r.y1)))} | ${fmt(mean(pick(r.psnr.tsva)))} | ${fmt(mean(pick(r.psnr.tsvaGate)))} | ${withInterval(pairDiff(pick(r.psnr.tsvaGate), pick(r.psnr.tsva)))} | ${fmt(mean(pick(r.gateWeight)))} | ${fmt(mean(pick(r.psnr.unet)))} | ${fmt(mean(pick(r.psnr.unetGate)))} |`);
  }
}
lines.push('', 'Figure: psnr-vs-deltad.png (the sweeps: Y1, TSVA and TSVA + gate per ΔD).', '');
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'evaluation.md'), lines.join('\n'));
await writeFile(join(outDir, 'evaluation.json'), JSON.stringify({ tsva: tsvaModel, unet: unetModel, toleranceUm, results }, null, 1));
const COLOURS: [number, number, number][] = [[220, 0, 0], [0, 110, 220], [0, 160, 60], [160, 0, 160]];
const series: Series[] = [];
results.filter((r) => r.name.includes('sweep')).forEach((r, k) => {
  const perD = (a: number[]) => SWEEP_UM.map((d) => mean(r.deltaD.map((v, i) => (v === d ? a[i] : NaN)).filter((v) => !Number.isNaN(v))));
  const c = COLOURS[k % COLOURS.length];
  const tag = r.name.split(' (')[0].split(',')[0];
  series.push({ label: `${tag} Y1`, colour: c.map((v) => Math.round(v + (255 - v) * 0.6)) as [number, number, number], x: SWEEP_UM, y: perD(r.y1) });
  series.push({ label: `${tag} TSVA`, colour: c.map((v) => Math.round(v + (255 - v) * 0.3)) as [number, number, number], x: SWEEP_UM, y: perD(r.psnr.tsva) });
  series.push({ label: `${tag} TSVA+gate`, colour: c, x: SWEEP_UM, y: perD(r.psnr.tsvaGate) });
});
await writeFile(join(outDir, 'psnr-vs-deltad.png'), renderLinePlot(series, 900, 520, { xTitle: 'focus error dD (um)', yTitle: 'PSNR (dB)', logY: false, markers: true }));
console.log(lines.slice(0, 8 + results.length).join('\n'));
