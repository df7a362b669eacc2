/**
 * TSVA evaluation (issue 18; the paper's Tables II and III on simulated data):
 *   node dist/scripts/evaluate-tsva.js [--tsva models/tsva-demo] [--unet models/tsva-unet-baseline-demo]
 *     [--prev-tsva <dir> --prev-unet <dir>] [--early-fusion <dir>] [--rl-iterations 3] [--ckpt /work/ckpt/tsva] [--out plugins/tsva/docs] [--softness <µm>]
 *     [--patch <px>]
 * PSNR (RGB, data range 1 ≡ 255 on 8-bit) and SSIM (mean over R, G, B) per signed ΔD for the
 * input Y1, the U-Net baseline (Y1) and TSVA (Y1 + Y2) on Dataset 1 (he-gland, held-out tiles)
 * and Dataset 2 (he-skin, never trained on), under the paper's Gaussian ΔD protocol and a
 * uniform sweep; paired TSVA − U-Net differences with bootstrap 95 % intervals; cell counts
 * (the paper's four ImageJ steps through the cellcount plugin) on 256 px images under the Gaussian
 * protocol (Table II) and on the sweep's tiles (128 px at 64 px patches; per ΔD); every PSNR set with the paper's
 * z-stack noise (a shot on the in-focus plane is the target) and with independent noise (`-indep`);
 * figures (PSNR vs ΔD, examples with error maps). Writes <out>/evaluation.md, evaluation.json, img/.
 * Classical reference: Richardson–Lucy on Y1 with the true PSF (Born & Wolf at Y1's defocus from
 * the in-focus plane, per colour at its wavelength; the deconvolution plugin's `richardsonLucy`).
 * `--prev-tsva/--prev-unet`: a second pair (e.g. the previously shipped models), compared with
 * the first, paired, per test set. `--early-fusion <dir>`: the ablation (both shots as six channels
 * of the baseline U-Net; not the paper's), against the U-Net and TSVA, paired, per set and per ΔD.
 * `--patch <px>`: the PSNR sets at another patch side (default 64; recipes.ts's `atPatchSize`,
 * the same tissue per tile and as many patches: 192 px is one patch a tile, nine times the tiles;
 * cached as <name>-p<px>); the sweep counts then count each tile's patches put back together.
 * Reached from scripts/ (the top floor): plugins/tsva never imports the cellcount or deconvolution plugin.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createStack, writePng } from '../core/index.js';
import { bornWolfHalfSizePx, bornWolfPsf, psnr, ssim } from '../core/imaging.js';
import { loadTf, loadTfjsModel } from '../core/ml.js';
import { richardsonLucy } from '../plugins/deconvolution/deconvolve.js';
import { datasetFromRecipe } from '../plugins/tsva/data.js';
import { loadTsvaPackage } from '../plugins/tsva/package.js';
import type { TsvaArch } from '../plugins/tsva/model.js';
import { predictPatches } from '../plugins/tsva/train.js';
import { atPatchSize, COUNT_RECIPES, PATCH_PX, SWEEP_UM, TEST_RECIPES as RECIPES_64 } from '../plugins/tsva/recipes.js';
import { DEFAULT_OPTICS, type TsvaPatch } from '../plugins/tsva/simulate.js';
import { channelOf, countCells } from './tsva-cellcount.js';
import { flagValue, fmt, mean, pairDiff, PSNR_CAP_DB, withInterval, type Diff } from '../plugins/tsva/tools/report.js';

const arg = (name: string, fallback: string) => flagValue(process.argv.slice(2), name, fallback);
const ckpt = arg('ckpt', '/work/ckpt/tsva');
const outDir = arg('out', 'plugins/tsva/docs');
const rlIterations = Number(arg('rl-iterations', '3'));
if (!Number.isInteger(rlIterations) || rlIterations < 1) throw new Error(`--rl-iterations: must be a positive integer, got ${arg('rl-iterations', '')}`);
const methods: Record<string, string> = { tsva: arg('tsva', 'models/tsva-demo'), unet: arg('unet', 'models/tsva-unet-baseline-demo') };
const prev = { tsva: arg('prev-tsva', ''), unet: arg('prev-unet', '') };
// --softness <µm>: every test and count set with specimen softness σ ~ U(0, µm) per tile (cached as <name>-soft<µm>)
const softness = Number(arg('softness', '0'));
if (!(softness >= 0)) throw new Error(`--softness: must be a number ≥ 0 (µm), got ${arg('softness', '')}`);
const withSoftness = <R extends object>(r: R): R => (softness > 0 ? { ...r, softnessMaxUm: softness } : r);
const patchPx = Number(arg('patch', String(PATCH_PX)));
if (!Number.isInteger(patchPx) || patchPx < 32 || patchPx > 512 || patchPx % 8 !== 0) throw new Error(`--patch: must be a multiple of 8 from 32 to 512 (px), got ${arg('patch', '')}`);
const TEST_RECIPES = Object.fromEntries(Object.entries(RECIPES_64).map(([name, r]) => [name, atPatchSize(r, patchPx, { keepPatches: true })]));
const dataPath = (name: string) => join(ckpt, 'data', `${name}${name in TEST_RECIPES && patchPx !== PATCH_PX ? `-p${patchPx}` : ''}${softness > 0 ? `-soft${softness}` : ''}`);
if ((prev.tsva === '') !== (prev.unet === '')) throw new Error('--prev-tsva and --prev-unet go together');
if (prev.tsva !== '') Object.assign(methods, { prevTsva: prev.tsva, prevUnet: prev.unet });
const earlyFusion = arg('early-fusion', '');
if (earlyFusion !== '') methods.ef = earlyFusion;

const { tf } = await loadTf();
type Model = Awaited<ReturnType<typeof loadTfjsModel>>;
const models: Record<string, { model: Model; arch: TsvaArch }> = {};
for (const [k, dir] of Object.entries(methods)) {
  const { pkg, meta } = await loadTsvaPackage(dir);
  models[k] = { model: await loadTfjsModel(pkg, tf as never), arch: meta.arch };
  if (k === 'ef' && meta.arch !== 'early-fusion') throw new Error(`--early-fusion ${dir}: a ${meta.arch} package, not an early-fusion one`);
}

const predict = (m: { model: Model; arch: TsvaArch }, patches: TsvaPatch[], P: number) => predictPatches(tf as never, m.model as never, m.arch, patches, P);

/** Richardson–Lucy on Y1 with the true PSF: Born & Wolf at Y1's defocus (ΔD ± s) from the in-focus plane, per colour. */
function rlOnY1(p: TsvaPatch, P: number): Float32Array {
  const defocusUm = Math.abs(p.deltaDUm + p.y1OffsetUm);
  const out = new Float32Array(P * P * 3);
  for (let c = 0; c < 3; c++) {
    const optics = { na: DEFAULT_OPTICS.na, refractiveIndex: DEFAULT_OPTICS.refractiveIndex, wavelengthUm: DEFAULT_OPTICS.wavelengthsUm[c], pixelSizeUm: DEFAULT_OPTICS.pixelSizeUm };
    const size = 2 * Math.min((P - 2) / 2, bornWolfHalfSizePx({ ...optics, maxDefocusUm: defocusUm })) + 1;
    const psf = bornWolfPsf({ ...optics, defocusUm, sizePx: size, oversampling: 2 });
    const { image } = richardsonLucy(channelOf(p.y1, c), { width: P, height: P }, psf, { width: size, height: size }, { iterations: rlIterations });
    for (let i = 0; i < P * P; i++) out[i * 3 + c] = Math.min(1, Math.max(0, image[i]));
  }
  return out;
}

const ssimRgb = (a: Float32Array, b: Float32Array, P: number) => [0, 1, 2].reduce((s, c) => s + ssim(channelOf(a, c), channelOf(b, c), P, P, { dataRange: 1 }), 0) / 3;
const sd = (a: number[]) => (a.length < 2 ? 0 : Math.sqrt(a.reduce((s, v) => s + (v - mean(a)) ** 2, 0) / (a.length - 1)));

type Ablation = { efMinusUnet: Diff; tsvaMinusEf: Diff };
interface Row { deltaDUm: number; n: number; psnr: Record<string, [number, number]>; ssim: Record<string, number>; diff: Diff; diffPrev?: { tsva: Diff; unet: Diff }; ablation?: Ablation }
const results: Record<string, { rows: Row[]; overall: { psnr: Record<string, number>; pooledPsnr: Record<string, number>; mseShareAtHalf: Record<string, number>; patchShareAtHalf: number; y1OnPlane: string; ssim: Record<string, number>; diff: Diff; diffPrev?: { tsva: Diff; unet: Diff }; ablation?: Ablation; n: number }; outputs: Record<string, Float32Array[]>; patches: TsvaPatch[] }> = {};
for (const [name, recipe] of Object.entries(TEST_RECIPES)) {
  const patches = await datasetFromRecipe(dataPath(name), withSoftness(recipe));
  const P = recipe.patchPx;
  const outputs: Record<string, Float32Array[]> = { y1: patches.map((p) => p.y1), rl: patches.map((p) => rlOnY1(p, P)) };
  for (const k of Object.keys(models)) outputs[k] = await predict(models[k], patches, P);
  const score = (k: string) => patches.map((p, i) => Math.min(PSNR_CAP_DB, psnr(outputs[k][i], p.x, { dataRange: 1 })));
  const scoreS = (k: string) => patches.map((p, i) => ssimRgb(outputs[k][i], p.x, P));
  const ps = Object.fromEntries(Object.keys(outputs).map((k) => [k, score(k)]));
  // PSNR of the MSE pooled over all patches (what the MSE loss weighs), beside the paper's mean of per-patch PSNR
  const mseOf = (k: string) => patches.map((p, i) => outputs[k][i].reduce((se, v, j) => se + (v - p.x[j]) ** 2, 0) / p.x.length);
  const pooled = (k: string) => -10 * Math.log10(mean(mseOf(k)));
  // the share of the summed MSE carried by the ΔD = ±s patches (where one shot is on the in-focus plane)
  const onPlane = patches.map((p) => Math.abs(Math.abs(p.deltaDUm) - 0.5) < 1e-9);
  const shareAtHalf = (k: string) => { const m = mseOf(k); return m.reduce((a, v, i) => a + (onPlane[i] ? v : 0), 0) / m.reduce((a, v) => a + v, 0); };
  const ss = Object.fromEntries(Object.keys(outputs).map((k) => [k, scoreS(k)]));
  const rows: Row[] = [];
  for (const d of SWEEP_UM) {
    const idx = patches.map((p, i) => (p.deltaDUm === d ? i : -1)).filter((i) => i >= 0);
    if (idx.length === 0) continue;
    const pick = (a: number[]) => idx.map((i) => a[i]);
    const diff = pairDiff(pick(ps.tsva), pick(ps.unet));
    rows.push({
      deltaDUm: d, n: idx.length,
      psnr: Object.fromEntries(Object.keys(ps).map((k) => [k, [mean(pick(ps[k])), sd(pick(ps[k]))]])) as Row['psnr'],
      ssim: Object.fromEntries(Object.keys(ss).map((k) => [k, mean(pick(ss[k]))])),
      diff,
      ...(ps.prevTsva ? { diffPrev: { tsva: pairDiff(pick(ps.tsva), pick(ps.prevTsva)), unet: pairDiff(pick(ps.unet), pick(ps.prevUnet)) } } : {}),
      ...(ps.ef ? { ablation: { efMinusUnet: pairDiff(pick(ps.ef), pick(ps.unet)), tsvaMinusEf: pairDiff(pick(ps.tsva), pick(ps.ef)) } } : {}),
    });
  }
  results[name] = {
    rows,
    overall: { psnr: Object.fromEntries(Object.keys(ps).map((k) => [k, mean(ps[k])])), pooledPsnr: Object.fromEntries(Object.keys(ps).map((k) => [k, pooled(k)])),
      mseShareAtHalf: Object.fromEntries(['unet', 'tsva'].map((k) => [k, shareAtHalf(k)])), patchShareAtHalf: mean(onPlane.map(Number)),
      y1OnPlane: `${patches.filter((p, i) => onPlane[i] && Math.abs(p.deltaDUm + p.y1OffsetUm) < 1e-9).length}/${onPlane.filter(Boolean).length}`, ssim: Object.fromEntries(Object.keys(ss).map((k) => [k, mean(ss[k])])), diff: pairDiff(ps.tsva, ps.unet), n: patches.length,
      ...(ps.prevTsva ? { diffPrev: { tsva: pairDiff(ps.tsva, ps.prevTsva), unet: pairDiff(ps.unet, ps.prevUnet) } } : {}),
      ...(ps.ef ? { ablation: { efMinusUnet: pairDiff(ps.ef, ps.unet), tsvaMinusEf: pairDiff(ps.tsva, ps.ef) } } : {}) },
    outputs, patches,
  };
  console.log(`${name}: ${patches.length} patches, PSNR Y1 ${mean(ps.y1).toFixed(2)}, RL ${mean(ps.rl).toFixed(2)}, U-Net ${mean(ps.unet).toFixed(2)}, TSVA ${mean(ps.tsva).toFixed(2)} dB`);
}

// ---- cell counts (Table II): the four ImageJ steps on each sweep tile's patches put back together (128 px at 64 px patches)
function assemble(list: Float32Array[], P: number, across: number): Float32Array {
  const S = across * P;
  const out = new Float32Array(S * S * 3);
  list.forEach((p, k) => {
    const ox = (k % across) * P;
    const oy = Math.floor(k / across) * P;
    for (let y = 0; y < P; y++) out.set(p.subarray(y * P * 3, (y + 1) * P * 3), ((oy + y) * S + ox) * 3);
  });
  return out;
}
const counts: Record<string, { deltaDUm: number; gt: number; tsva: number; unet: number; y1: number; rl: number }[]> = {};
for (const name of ['d1-sweep', 'd2-sweep']) {
  const r = results[name];
  const { patchPx: P, patchesPerSide: across } = TEST_RECIPES[name];
  const S = across * P;
  const rows: (typeof counts)[string] = [];
  const tiles = [...new Set(r.patches.map((p) => p.tile))];
  for (const t of tiles) {
    for (const d of SWEEP_UM) {
      const idx = r.patches.map((p, i) => (p.tile === t && p.deltaDUm === d ? i : -1)).filter((i) => i >= 0);
      if (idx.length !== across * across) continue;
      const get = (k: string) => assemble(idx.map((i) => r.outputs[k][i]), P, across);
      rows.push({
        deltaDUm: d,
        gt: await countCells(assemble(idx.map((i) => r.patches[i].x), P, across), S, S),
        tsva: await countCells(get('tsva'), S, S),
        unet: await countCells(get('unet'), S, S),
        y1: await countCells(get('y1'), S, S),
        rl: await countCells(get('rl'), S, S),
      });
    }
  }
  counts[name] = rows;
}

// ---- cell counts (Table II, the paper's protocol): whole 256 px images, Gaussian ΔD, z-stack noise
interface CountRow { deltaDUm: number; gt: number; tsva: number; unet: number; y1: number }
const countSets: Record<string, CountRow[]> = {};
for (const [name, recipe] of Object.entries(COUNT_RECIPES)) {
  const patches = await datasetFromRecipe(dataPath(name), withSoftness(recipe));
  const P = recipe.patchPx;
  const out = { tsva: await predict(models.tsva, patches, P), unet: await predict(models.unet, patches, P) };
  const rows: CountRow[] = [];
  for (const [i, p] of patches.entries()) {
    rows.push({ deltaDUm: p.deltaDUm, gt: await countCells(p.x, P, P), tsva: await countCells(out.tsva[i], P, P), unet: await countCells(out.unet[i], P, P), y1: await countCells(p.y1, P, P) });
  }
  countSets[name] = rows;
  console.log(`${name}: ${rows.length} images, mean count in focus ${mean(rows.map((r) => r.gt)).toFixed(2)}, TSVA ${mean(rows.map((r) => r.tsva)).toFixed(2)}, U-Net ${mean(rows.map((r) => r.unet)).toFixed(2)}, Y1 ${mean(rows.map((r) => r.y1)).toFixed(2)}`);
}

// ---- figures
await mkdir(join(outDir, 'img'), { recursive: true });
function svgCurves(suffix: string, noise: string): string {
  const W = 760, H = 340, x0 = 60, y0 = 20, pw = 300, ph = 260;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`];
  const sets = [[`d1-sweep${suffix}`, `Dataset 1 (he-gland), uniform sweep, ${noise}`], [`d2-sweep${suffix}`, `Dataset 2 (he-skin, unseen), sweep, ${noise}`]];
  const all = sets.flatMap(([n]) => results[n].rows.flatMap((r) => Object.values(r.psnr).map((v) => v[0])));
  const lo = Math.floor(Math.min(...all)) - 1, hi = Math.ceil(Math.max(...all)) + 1;
  const colours: Record<string, string> = { y1: '#999999', rl: '#2ca02c', unet: '#1f77b4', tsva: '#d62728' };
  sets.forEach(([n, title], s) => {
    const ox = x0 + s * (pw + 80);
    const X = (d: number) => ox + ((d + 3) / 6) * pw;
    const Y = (v: number) => y0 + ph - ((v - lo) / (hi - lo)) * ph;
    parts.push(`<rect x="${ox}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`, `<text x="${ox}" y="${y0 - 6}">${title}</text>`);
    for (let d = -3; d <= 3; d++) parts.push(`<text x="${X(d) - 6}" y="${y0 + ph + 14}">${d}</text>`);
    for (let v = lo; v <= hi; v += 2) parts.push(`<text x="${ox - 28}" y="${Y(v) + 4}">${v}</text>`);
    parts.push(`<text x="${ox + pw / 2 - 30}" y="${y0 + ph + 30}">ΔD (µm)</text>`);
    for (const k of ['y1', 'rl', 'unet', 'tsva']) {
      const pts = results[n].rows.map((r) => `${X(r.deltaDUm).toFixed(1)},${Y(r.psnr[k][0]).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${pts}" fill="none" stroke="${colours[k]}" stroke-width="2"/>`);
    }
  });
  parts.push(`<text x="${x0}" y="${H - 4}" fill="#999999">— Y1 (input)</text><text x="${x0 + 95}" y="${H - 4}" fill="#2ca02c">— RL (Y1, true PSF)</text><text x="${x0 + 215}" y="${H - 4}" fill="#1f77b4">— U-Net (Y1)</text><text x="${x0 + 320}" y="${H - 4}" fill="#d62728">— TSVA (Y1 + Y2)</text><text x="${x0 + 440}" y="${H - 4}">PSNR (dB)${softness > 0 ? `; sections softened, σ ≤ ${softness} µm` : ''}</text></svg>`);
  return parts.join('\n');
}
await writeFile(join(outDir, 'img', 'psnr-vs-deltad.svg'), svgCurves('', 'z-stack noise'));
await writeFile(join(outDir, 'img', 'psnr-vs-deltad-indep.svg'), svgCurves('-indep', 'independent noise'));
// examples: per dataset, ΔD = −2, −0.5, 0, +1.5 rows of Y1 | Y2 | U-Net | TSVA | in focus | |U-Net − X|·5 | |TSVA − X|·5
for (const name of ['d1-sweep', 'd2-sweep']) {
  const r = results[name];
  const P = TEST_RECIPES[name].patchPx;
  const ds = [-2, -0.5, 0, 1.5];
  const cols = 7, W = cols * P, H = ds.length * P;
  const planes = [0, 1, 2].map(() => new Uint8Array(W * H));
  ds.forEach((d, row) => {
    const i = r.patches.findIndex((p) => p.deltaDUm === d);
    const p = r.patches[i];
    const err = (a: Float32Array) => a.map((v, j) => Math.min(1, 1 - 5 * Math.abs(v - p.x[j])));
    const panels = [p.y1, p.y2, r.outputs.unet[i], r.outputs.tsva[i], p.x, err(r.outputs.unet[i]), err(r.outputs.tsva[i])];
    panels.forEach((img, col) => {
      for (let y = 0; y < P; y++) for (let x = 0; x < P; x++) for (let c = 0; c < 3; c++) planes[c][(row * P + y) * W + col * P + x] = Math.round(255 * Math.min(1, Math.max(0, img[(y * P + x) * 3 + c])));
    });
  });
  await writePng(join(outDir, 'img', `examples-${name}.png`), createStack({ width: W, height: H, dtype: 'uint8', sizeC: 3, rgb: true, planes }), { saturatedPercent: 0 });
}

// ---- report
/** Where the in-focus plane (Brenner) lies relative to the section's mid-plane, over the set's patches. */
function focusSpread(patches: TsvaPatch[]): string {
  const z = patches.filter((p) => p.focusUm !== undefined).map((p) => Math.abs(p.focusUm!));
  if (z.length === 0) return '';
  const counts = [...new Set(z)].sort((a, b) => a - b).map((v) => `${v === 0 ? '0' : `±${v}`} µm ${fmt((100 * z.filter((u) => u === v).length) / z.length, 0)} %`);
  return ` In-focus plane (highest Brenner) from the section's mid-plane: ${counts.join(', ')}.`;
}
const command = `node dist/scripts/evaluate-tsva.js ${process.argv.slice(2).join(' ')}`.trim();
const lines: string[] = ['# TSVA evaluation (generated by scripts/evaluate-tsva.ts)', '', `Command: \`${command}\` (TSVA ${methods.tsva}, U-Net ${methods.unet}). Patches of ${TEST_RECIPES['d1-gauss'].patchPx} px${patchPx !== PATCH_PX ? ` (\`--patch\`; the shipped evaluation's are ${PATCH_PX} px)` : ''}. PSNR in dB on RGB with data range 1 (≡ 255 on 8-bit), per patch capped at ${PSNR_CAP_DB} dB (with z-stack noise Y1 is the target itself when Brenner picks the in-focus shot). The in-focus plane (target, origin of ΔD) is each patch's z-stack plane of highest Brenner gradient (the paper's rule; datasets before 2026-12-06 used the section's mid-plane), mean ± SD over patches; Δ = TSVA − U-Net, paired, with a 95 % bootstrap interval (2000 resamples). SSIM: mean of R, G, B. \"PSNR of the pooled MSE\": −10·log10 of the MSE over all patches of the set (what the MSE loss weighs; a few high-PSNR patches move it little, unlike the mean of per-patch PSNR). RL: Richardson–Lucy on Y1, ${rlIterations} iterations, with the true PSF (Born & Wolf at Y1's defocus ΔD ± s from the in-focus plane, per colour; it restores the object, not the in-focus image, which still has the in-focus PSF and its own noise).`, ''];
const baseLabel: Record<string, string> = { 'd1-gauss': 'Dataset 1 (he-gland, held-out tiles), Gaussian ΔD ~ N(0, 1 µm) (the paper\'s protocol)', 'd2-gauss': 'Dataset 2 (he-skin, never trained on), Gaussian ΔD', 'd1-sweep': 'Dataset 1, uniform sweep (every patch at every ΔD)', 'd2-sweep': 'Dataset 2, uniform sweep' };
const label = (name: string) => `${baseLabel[name.replace(/-indep$/, '')]}, ${name.endsWith('-indep') ? 'independent noise (no shot equals the target)' : 'z-stack noise (the paper\'s data: a shot on the in-focus plane is the target)'}${softness > 0 ? `, sections softened by σ ~ U(0, ${softness} µm) per tile` : ''}`;
for (const [name, r] of Object.entries(results)) {
  lines.push(`## ${label(name)}`, '', '| ΔD (µm) | n | Y1 | RL | U-Net | TSVA | Δ TSVA − U-Net [95 % CI] | SSIM Y1 / U-Net / TSVA |', '|---|---|---|---|---|---|---|---|');
  for (const row of r.rows) lines.push(`| ${row.deltaDUm} | ${row.n} | ${fmt(row.psnr.y1[0])} ± ${fmt(row.psnr.y1[1])} | ${fmt(row.psnr.rl[0])} | ${fmt(row.psnr.unet[0])} ± ${fmt(row.psnr.unet[1])} | ${fmt(row.psnr.tsva[0])} ± ${fmt(row.psnr.tsva[1])} | ${withInterval(row.diff)} | ${fmt(row.ssim.y1, 3)} / ${fmt(row.ssim.unet, 3)} / ${fmt(row.ssim.tsva, 3)} |`);
  const o = r.overall;
  lines.push(`| **all** | ${o.n} | ${fmt(o.psnr.y1)} | ${fmt(o.psnr.rl)} | ${fmt(o.psnr.unet)} | ${fmt(o.psnr.tsva)} | **${withInterval(o.diff)}** | ${fmt(o.ssim.y1, 3)} / ${fmt(o.ssim.unet, 3)} / ${fmt(o.ssim.tsva, 3)} |`);
  lines.push(`| PSNR of the pooled MSE | ${o.n} | ${fmt(o.pooledPsnr.y1)} | ${fmt(o.pooledPsnr.rl)} | ${fmt(o.pooledPsnr.unet)} | ${fmt(o.pooledPsnr.tsva)} | ${fmt(o.pooledPsnr.tsva - o.pooledPsnr.unet)} | |`, '',
    `ΔD = ±0.5 µm: ${fmt(100 * o.patchShareAtHalf, 0)} % of the patches, ${fmt(100 * o.mseShareAtHalf.unet, 0)} % (U-Net) and ${fmt(100 * o.mseShareAtHalf.tsva, 0)} % (TSVA) of the summed MSE; Y1 is the shot on the in-focus plane in ${o.y1OnPlane} of them.${focusSpread(r.patches)}`, '');
}
if (prev.tsva !== '') {
  lines.push(`## These models vs the previous pair (TSVA ${prev.tsva}, U-Net ${prev.unet})`, '', 'PSNR (dB), all patches of each set; Δ paired, 95 % bootstrap interval; worst ΔD = the ΔD with the lowest mean Δ.', '', '| set | prev TSVA | TSVA | Δ TSVA − prev [95 % CI] | worst ΔD of TSVA − prev | prev U-Net | U-Net | Δ U-Net − prev [95 % CI] |', '|---|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) {
    const o = r.overall;
    const worst = r.rows.reduce((a, b) => (b.diffPrev!.tsva.mean < a.diffPrev!.tsva.mean ? b : a));
    lines.push(`| ${name} | ${fmt(o.psnr.prevTsva)} | ${fmt(o.psnr.tsva)} | ${withInterval(o.diffPrev!.tsva)} | ${worst.deltaDUm} µm: ${fmt(worst.diffPrev!.tsva.mean)} | ${fmt(o.psnr.prevUnet)} | ${fmt(o.psnr.unet)} | ${withInterval(o.diffPrev!.unet)} |`);
  }
  lines.push('');
}
if (earlyFusion !== '') {
  lines.push(`## Early-fusion ablation (${earlyFusion}; not the paper's)`, '', 'The baseline U-Net with Y1 and Y2 as six input channels: it has the second shot but not TSVA\'s two paths with shared weights. PSNR (dB); Δ paired, 95 % bootstrap interval.', '', '| set | U-Net | early fusion | TSVA | Δ early fusion − U-Net (the second shot) | Δ TSVA − early fusion (the two paths) |', '|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results)) lines.push(`| ${name} | ${fmt(r.overall.psnr.unet)} | ${fmt(r.overall.psnr.ef)} | ${fmt(r.overall.psnr.tsva)} | ${withInterval(r.overall.ablation!.efMinusUnet)} | ${withInterval(r.overall.ablation!.tsvaMinusEf)} |`);
  lines.push('', '| sweep set | ΔD (µm) | U-Net | early fusion | TSVA | Δ early fusion − U-Net | Δ TSVA − early fusion |', '|---|---|---|---|---|---|---|');
  for (const name of ['d1-sweep', 'd2-sweep']) for (const row of results[name].rows) lines.push(`| ${name} | ${row.deltaDUm} | ${fmt(row.psnr.unet[0])} | ${fmt(row.psnr.ef[0])} | ${fmt(row.psnr.tsva[0])} | ${withInterval(row.ablation!.efMinusUnet)} | ${withInterval(row.ablation!.tsvaMinusEf)} |`);
  lines.push('');
}
const countSummary: Record<string, unknown> = {};
lines.push('## Cell counts (Table II, the paper\'s protocol): grey → normalise contrast 0.35 % → Otsu (dark objects) → count ≥ 150 px (≈ 16 µm²), on whole 256 px images, Gaussian ΔD, z-stack noise', '', 'Mean count per image by |ΔD| (the paper\'s Table II lists ΔD ≥ 0.5); Δ = method − in focus, paired over images, 95 % bootstrap interval; relative = Δ / in-focus mean.', '', '| set | abs ΔD (µm) | images | in focus | TSVA | U-Net | Y1 |', '|---|---|---|---|---|---|---|');
for (const [name, rows] of Object.entries(countSets)) {
  for (const d of [...new Set(rows.map((r) => Math.abs(r.deltaDUm)))].sort((a, b) => a - b)) {
    const rs = rows.filter((r) => Math.abs(r.deltaDUm) === d);
    lines.push(`| ${name} | ${d} | ${rs.length} | ${fmt(mean(rs.map((r) => r.gt)))} | ${fmt(mean(rs.map((r) => r.tsva)))} | ${fmt(mean(rs.map((r) => r.unet)))} | ${fmt(mean(rs.map((r) => r.y1)))} |`);
  }
  const gt = mean(rows.map((r) => r.gt));
  const dOf = (k: 'tsva' | 'unet' | 'y1') => pairDiff(rows.map((r) => r[k]), rows.map((r) => r.gt));
  const cell = (k: 'tsva' | 'unet' | 'y1') => { const d = dOf(k); return `**${fmt(gt + d.mean)}** (${fmt(100 * d.mean / gt, 1)} % [${fmt(100 * d.lo / gt, 1)}, ${fmt(100 * d.hi / gt, 1)}], mean abs ${fmt(mean(rows.map((r) => Math.abs(r[k] - r.gt))))})`; };
  countSummary[name] = { images: rows.length, gt, tsva: dOf('tsva'), unet: dOf('unet'), y1: dOf('y1') };
  lines.push(`| **${name} all** | | ${rows.length} | **${fmt(gt)}** | ${cell('tsva')} | ${cell('unet')} | ${cell('y1')} |`);
  // the first 40 images: the whole set before 2026-12-06, kept comparable
  if (rows.length > 40) {
    const first = rows.slice(0, 40);
    const gt40 = mean(first.map((r) => r.gt));
    const cell40 = (k: 'tsva' | 'unet' | 'y1') => { const d = pairDiff(first.map((r) => r[k]), first.map((r) => r.gt)); return `${fmt(gt40 + d.mean)} (${fmt(100 * d.mean / gt40, 1)} % [${fmt(100 * d.lo / gt40, 1)}, ${fmt(100 * d.hi / gt40, 1)}])`; };
    lines.push(`| ${name}, its first 40 images (the set before 2026-12-06) | | 40 | ${fmt(gt40)} | ${cell40('tsva')} | ${cell40('unet')} | ${cell40('y1')} |`);
  }
}
lines.push('');
lines.push(`## Cell counts (per ΔD): grey → normalise contrast 0.35 % → Otsu (dark objects) → count ≥ 150 px, on ${TEST_RECIPES['d1-sweep'].patchesPerSide * TEST_RECIPES['d1-sweep'].patchPx} px tiles of the sweep sets (z-stack noise)`, '', '| set | ΔD (µm) | tiles | in focus | TSVA | U-Net | Y1 | RL |', '|---|---|---|---|---|---|---|---|');
const sweepCountSummary: Record<string, unknown> = {};
for (const [name, rows] of Object.entries(counts)) {
  for (const d of SWEEP_UM) {
    const rs = rows.filter((r) => r.deltaDUm === d);
    if (rs.length) lines.push(`| ${name} | ${d} | ${rs.length} | ${fmt(mean(rs.map((r) => r.gt)))} | ${fmt(mean(rs.map((r) => r.tsva)))} | ${fmt(mean(rs.map((r) => r.unet)))} | ${fmt(mean(rs.map((r) => r.y1)))} | ${fmt(mean(rs.map((r) => r.rl)))} |`);
  }
  const gt = mean(rows.map((r) => r.gt));
  const s = { gt, tsva: mean(rows.map((r) => r.tsva)), unet: mean(rows.map((r) => r.unet)), y1: mean(rows.map((r) => r.y1)), rl: mean(rows.map((r) => r.rl)), absErrTsva: mean(rows.map((r) => Math.abs(r.tsva - r.gt))), absErrUnet: mean(rows.map((r) => Math.abs(r.unet - r.gt))) };
  sweepCountSummary[name] = s;
  lines.push(`| **${name} all** | | ${rows.length} | **${fmt(gt)}** | **${fmt(s.tsva)}** (${fmt((100 * (s.tsva - gt)) / gt, 1)} %, mean abs ${fmt(s.absErrTsva)}) | **${fmt(s.unet)}** (${fmt((100 * (s.unet - gt)) / gt, 1)} %, mean abs ${fmt(s.absErrUnet)}) | ${fmt(s.y1)} | ${fmt(s.rl)} |`);
}
lines.push('', 'Figures: img/psnr-vs-deltad.svg and img/psnr-vs-deltad-indep.svg (PSNR vs ΔD: Y1, RL, U-Net, TSVA, both datasets; z-stack / independent noise); img/examples-d1-sweep.png, img/examples-d2-sweep.png (z-stack noise; rows ΔD = −2, −0.5, 0, +1.5 µm; columns Y1, Y2, U-Net, TSVA, in focus, 1 − 5·|U-Net − X|, 1 − 5·|TSVA − X|).', '');
await writeFile(join(outDir, 'evaluation.md'), lines.join('\n'));
await writeFile(join(outDir, 'evaluation.json'), JSON.stringify({ results: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { rows: v.rows, overall: v.overall }])), counts, sweepCountSummary, countSets, countSummary }, null, 1));
console.log(lines.join('\n'));
