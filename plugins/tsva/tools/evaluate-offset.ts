/**
 * TSVA's shot-offset ablation (the reading's PROPOSAL s ∈ {0.5, 1, 1.5} µm; the paper uses 0.5):
 *   node dist/plugins/tsva/tools/evaluate-offset.js --tsva <label>=<package> [--tsva …] [--unet <label>=<package> …]
 *     [--offsets 0.5,1,1.5] [--ckpt /work/ckpt/tsva] [--out plugins/tsva/docs/offset]
 * The test scenes of scripts/evaluate-tsva.ts (recipes.ts) (Dataset 1 he-gland held-out tiles, Dataset 2
 * he-skin never trained on; the Gaussian ΔD protocol and the uniform sweep), with independent
 * noise (no shot equals the target, whatever s), acquired at every offset s: F − s and F + s.
 * The PSF margin is the same for every s (`marginDefocusUm`), so every s sees the same scenes,
 * in-focus planes and ΔD, and differences between offsets are paired per patch.
 * Every package is run on every offset; the "matched" TSVA (U-Net) for an offset is the first
 * TSVA (U-Net) package given that was trained at it (its package's `protocol.shotOffsetUm`). PSNR (RGB, data range 1);
 * paired differences with 95 % bootstrap intervals. Writes <out>/evaluation.md, evaluation.json,
 * psnr-vs-deltad.svg.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { psnr } from '../../../core/imaging.js';
import { loadTf, loadTfjsModel } from '../../../core/ml.js';
import { datasetFromRecipe } from '../data.js';
import { loadTsvaPackage } from '../package.js';
import type { TsvaArch } from '../model.js';
import { predictPatches } from '../train.js';
import { SWEEP_UM, TEST_RECIPES } from '../recipes.js';
import { DEFAULT_PROTOCOL, FOCUS_SEARCH_UM, type TsvaPatch } from '../simulate.js';
import { flagValue, flagValues, fmt, labelledPath, mean, pairDiff, withInterval } from './report.js';

const argv = process.argv.slice(2);
const args = (name: string) => flagValues(argv, name);
const arg = (name: string, fallback: string) => flagValue(argv, name, fallback);
const ckpt = arg('ckpt', '/work/ckpt/tsva');
const outDir = arg('out', 'plugins/tsva/docs/offset');
const tsvaArgs = args('tsva');
if (tsvaArgs.length === 0) throw new Error('--tsva <label>=<package>: give at least one TSVA package');

const { tf } = await loadTf();
type Model = Awaited<ReturnType<typeof loadTfjsModel>>;
interface Entry { label: string; dir: string; model: Model; arch: TsvaArch; trainedS: number }
async function open(flag: 'tsva' | 'unet'): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const a of args(flag)) {
    const { label, path: dir } = labelledPath(a, flag);
    const { pkg, meta } = await loadTsvaPackage(dir);
    if (meta.arch !== flag) throw new Error(`--${flag} ${a}: a ${meta.arch} package, not a ${flag} one`);
    out.push({ label, dir, model: await loadTfjsModel(pkg, tf as never), arch: meta.arch, trainedS: meta.protocol.shotOffsetUm });
  }
  return out;
}
const tsvas = await open('tsva');
const unets = await open('unet');
if (new Set([...tsvas, ...unets].map((e) => e.label)).size !== tsvas.length + unets.length || [...tsvas, ...unets].some((e) => e.label === 'y1')) throw new Error('labels: each package needs its own label (and not y1)');
const offsets = arg('offsets', '') !== '' ? arg('offsets', '').split(',').map(Number) : [...new Set(tsvas.map((t) => t.trainedS))].sort((a, b) => a - b);
if (offsets.some((s) => !(s > 0 && s <= 2))) throw new Error(`--offsets: each must be in (0, 2] µm, got ${arg('offsets', '')}`);
const matched = new Map(offsets.map((s) => [s, tsvas.find((t) => t.trainedS === s)]));
const matchedUnet = new Map(offsets.map((s) => [s, unets.find((t) => t.trainedS === s)]));
const reference = offsets.includes(DEFAULT_PROTOCOL.shotOffsetUm) ? DEFAULT_PROTOCOL.shotOffsetUm : offsets[0];

// one PSF margin for every offset: the largest |ΔD| (3 µm) + the largest s + half a 5 µm section + the focus search
const marginDefocusUm = DEFAULT_PROTOCOL.deltaDMaxUm + Math.max(...offsets) + 2.5 + FOCUS_SEARCH_UM;
const SETS = ['d1-gauss-indep', 'd2-gauss-indep', 'd1-sweep-indep', 'd2-sweep-indep'];

/** PSNR per patch: set → offset → method (y1, unet, a TSVA label) → values; and the patches' ΔD. */
const scores: Record<string, Record<number, Record<string, number[]>>> = {};
const deltaD: Record<string, number[]> = {};
const targets: Record<string, Float32Array[]> = {};
for (const name of SETS) {
  scores[name] = {};
  for (const s of offsets) {
    const recipe = { ...TEST_RECIPES[name], protocol: { ...DEFAULT_PROTOCOL, shotOffsetUm: s }, marginDefocusUm };
    const t0 = Date.now();
    const patches: TsvaPatch[] = await datasetFromRecipe(join(ckpt, 'data', 'offset', `${name}-s${s}-m${marginDefocusUm}`), recipe);
    const P = recipe.patchPx;
    const ds = patches.map((p) => p.deltaDUm);
    if (deltaD[name] && (ds.some((d, i) => d !== deltaD[name][i]) || patches.some((p, i) => p.x.some((v, k) => v !== targets[name][i][k])))) throw new Error(`${name}: the ΔD draws or targets differ between offsets; the comparison would not be paired`);
    deltaD[name] = ds;
    targets[name] = patches.map((p) => p.x);
    const score = (outs: Float32Array[]) => patches.map((p, i) => psnr(outs[i], p.x, { dataRange: 1 }));
    const row: Record<string, number[]> = { y1: score(patches.map((p) => p.y1)) };
    for (const t of [...tsvas, ...unets]) row[t.label] = score(await predictPatches(tf as never, t.model as never, t.arch, patches, P));
    scores[name][s] = row;
    console.log(`${name} s=${s}: ${patches.length} patches (${((Date.now() - t0) / 1000).toFixed(0)} s); ${Object.entries(row).map(([k, v]) => `${k} ${mean(v).toFixed(2)}`).join(', ')}`);
  }
}

// ---- report
const m = (s: number) => matched.get(s)?.label;
const command = `node dist/plugins/tsva/tools/evaluate-offset.js ${argv.join(' ')}`;
const label: Record<string, string> = { 'd1-gauss-indep': 'Dataset 1 (he-gland, held-out tiles), Gaussian ΔD ~ N(0, 1 µm)', 'd2-gauss-indep': 'Dataset 2 (he-skin, never trained on), Gaussian ΔD', 'd1-sweep-indep': 'Dataset 1, uniform sweep −3…+3 µm', 'd2-sweep-indep': 'Dataset 2, uniform sweep' };
const mu = (s: number) => matchedUnet.get(s)?.label;
const lines: string[] = ['# TSVA shot-offset ablation (generated by plugins/tsva/tools/evaluate-offset.ts)', '',
  `Command: \`${command}\`. Packages: ${[...tsvas, ...unets].map((t) => `${t.label} = ${t.dir} (${t.arch}, trained at s = ${t.trainedS} µm)`).join('; ')}.`,
  `The shots are at F − s and F + s; every offset images the same scenes, in-focus planes and ΔD (one PSF margin, for ${marginDefocusUm} µm of defocus), with independent noise (no shot equals the target, whatever s), so differences between offsets are paired per patch. PSNR in dB, RGB, data range 1; Δ paired, 95 % bootstrap interval (2000 resamples). "Matched": the package of that arch trained at that offset.`, '',
  '## Matched networks, per offset', '',
  `| set | s (µm) | patches | Y1 | matched U-Net | matched TSVA | Δ TSVA − U-Net | Δ TSVA − TSVA at s = ${reference} | Δ TSVA − Y1 |`,
  '|---|---|---|---|---|---|---|---|---|'];
const summary: Record<string, unknown> = {};
for (const name of SETS) {
  for (const s of offsets) {
    const r = scores[name][s];
    const [t, u] = [m(s), mu(s)];
    const vsRef = t && m(reference) ? pairDiff(r[t], scores[name][reference][m(reference)!]) : undefined;
    const vsY1 = t ? pairDiff(r[t], r.y1) : undefined;
    const vsUnet = t && u ? pairDiff(r[t], r[u]) : undefined;
    lines.push(`| ${name} | ${s} | ${r.y1.length} | ${fmt(mean(r.y1))} | ${u ? `${fmt(mean(r[u]))} (${u})` : '–'} | ${t ? `${fmt(mean(r[t]))} (${t})` : '–'} | ${vsUnet ? withInterval(vsUnet) : '–'} | ${vsRef && s !== reference ? withInterval(vsRef) : '–'} | ${vsY1 ? withInterval(vsY1) : '–'} |`);
    summary[`${name}@${s}`] = { y1: mean(r.y1), ...(u ? { unet: u, unetPsnr: mean(r[u]) } : {}), ...(t ? { matched: t, tsva: mean(r[t]), vsReference: vsRef, vsY1, vsUnet } : {}) };
  }
}
lines.push('', '## Every package at every offset (mean PSNR, dB; the Gaussian sets)', '', `| package (trained at s) | ${offsets.map((s) => `d1 at s = ${s}`).join(' | ')} | ${offsets.map((s) => `d2 at s = ${s}`).join(' | ')} |`, `|---|${offsets.map(() => '---|').join('')}${offsets.map(() => '---|').join('')}`);
for (const t of [...tsvas, ...unets]) lines.push(`| ${t.label}, ${t.arch} (${t.trainedS} µm) | ${['d1-gauss-indep', 'd2-gauss-indep'].map((n) => offsets.map((s) => fmt(mean(scores[n][s][t.label]))).join(' | ')).join(' | ')} |`);
lines.push('', '## Per ΔD (uniform sweeps): matched TSVA and Y1 at each offset (mean PSNR, dB; best TSVA in bold)', '', `| set | ΔD (µm) | patches | ${offsets.map((s) => `Y1 s = ${s}`).join(' | ')} | ${offsets.map((s) => `TSVA s = ${s}`).join(' | ')} | ${offsets.filter((s) => s !== reference).map((s) => `Δ TSVA s = ${s} − s = ${reference}`).join(' | ')} | ${offsets.map((s) => `Δ TSVA − U-Net, s = ${s}`).join(' | ')} |`, `|---|---|---|${offsets.map(() => '---|').join('')}${offsets.map(() => '---|').join('')}${offsets.filter((s) => s !== reference).map(() => '---|').join('')}${offsets.map(() => '---|').join('')}`);
const perDeltaD: Record<string, unknown[]> = {};
for (const name of ['d1-sweep-indep', 'd2-sweep-indep']) {
  perDeltaD[name] = [];
  for (const d of SWEEP_UM) {
    const idx = deltaD[name].map((v, i) => (v === d ? i : -1)).filter((i) => i >= 0);
    const pick = (a: number[]) => idx.map((i) => a[i]);
    const y1 = offsets.map((s) => mean(pick(scores[name][s].y1)));
    const ts = offsets.map((s) => (m(s) ? mean(pick(scores[name][s][m(s)!])) : NaN));
    const best = Math.max(...ts.filter(Number.isFinite));
    const diffs = offsets.filter((s) => s !== reference).map((s) => (m(s) && m(reference) ? pairDiff(pick(scores[name][s][m(s)!]), pick(scores[name][reference][m(reference)!])) : undefined));
    const us = offsets.map((s) => (mu(s) ? mean(pick(scores[name][s][mu(s)!])) : NaN));
    const tu = offsets.map((s) => (m(s) && mu(s) ? pairDiff(pick(scores[name][s][m(s)!]), pick(scores[name][s][mu(s)!])) : undefined));
    lines.push(`| ${name} | ${d} | ${idx.length} | ${y1.map((v) => fmt(v)).join(' | ')} | ${ts.map((v) => (v === best ? `**${fmt(v)}**` : fmt(v))).join(' | ')} | ${diffs.map((x) => (x ? withInterval(x) : '–')).join(' | ')} | ${tu.map((x) => (x ? withInterval(x) : '–')).join(' | ')} |`);
    perDeltaD[name].push({ deltaDUm: d, n: idx.length, y1: Object.fromEntries(offsets.map((s, i) => [s, y1[i]])), tsva: Object.fromEntries(offsets.map((s, i) => [s, ts[i]])), unet: Object.fromEntries(offsets.map((s, i) => [s, us[i]])), tsvaMinusUnet: Object.fromEntries(offsets.map((s, i) => [s, tu[i]])), vsReference: Object.fromEntries(offsets.filter((s) => s !== reference).map((s, i) => [s, diffs[i]])) });
  }
}
lines.push('', 'Figure: psnr-vs-deltad.svg (the sweeps: matched TSVA, solid; matched U-Net, dotted; Y1, dashed; at each offset).', '');

// ---- figure: PSNR vs ΔD per offset, both sweeps
const colours = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e'];
const W = 760, H = 350, x0 = 60, y0 = 24, pw = 300, ph = 260;
const all = ['d1-sweep-indep', 'd2-sweep-indep'].flatMap((n) => (perDeltaD[n] as { y1: Record<number, number>; tsva: Record<number, number>; unet: Record<number, number> }[]).flatMap((r) => [...Object.values(r.y1), ...Object.values(r.tsva), ...Object.values(r.unet)].filter(Number.isFinite)));
const lo = Math.floor(Math.min(...all)) - 1, hi = Math.ceil(Math.max(...all)) + 1;
const svg: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="#fff"/>`];
['d1-sweep-indep', 'd2-sweep-indep'].forEach((n, k) => {
  const ox = x0 + k * (pw + 80);
  const X = (d: number) => ox + ((d + 3) / 6) * pw;
  const Y = (v: number) => y0 + ph - ((v - lo) / (hi - lo)) * ph;
  svg.push(`<rect x="${ox}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#000"/>`, `<text x="${ox}" y="${y0 - 8}">${k === 0 ? 'Dataset 1 (he-gland), sweep' : 'Dataset 2 (he-skin, unseen), sweep'}, independent noise</text>`);
  for (let d = -3; d <= 3; d++) svg.push(`<text x="${X(d) - 6}" y="${y0 + ph + 14}">${d}</text>`);
  for (let v = lo; v <= hi; v += 2) svg.push(`<text x="${ox - 28}" y="${Y(v) + 4}">${v}</text>`);
  svg.push(`<text x="${ox + pw / 2 - 30}" y="${y0 + ph + 30}">ΔD (µm)</text>`);
  const rows = perDeltaD[n] as { deltaDUm: number; y1: Record<number, number>; tsva: Record<number, number>; unet: Record<number, number> }[];
  offsets.forEach((s, i) => {
    svg.push(`<polyline points="${rows.map((r) => `${X(r.deltaDUm).toFixed(1)},${Y(r.y1[s]).toFixed(1)}`).join(' ')}" fill="none" stroke="${colours[i]}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    if (m(s)) svg.push(`<polyline points="${rows.map((r) => `${X(r.deltaDUm).toFixed(1)},${Y(r.tsva[s]).toFixed(1)}`).join(' ')}" fill="none" stroke="${colours[i]}" stroke-width="2.2"/>`);
    if (mu(s)) svg.push(`<polyline points="${rows.map((r) => `${X(r.deltaDUm).toFixed(1)},${Y(r.unet[s]).toFixed(1)}`).join(' ')}" fill="none" stroke="${colours[i]}" stroke-width="1" stroke-dasharray="1 2"/>`);
  });
});
svg.push(`<text x="${x0}" y="${H - 6}">PSNR (dB). ${offsets.map((s, i) => `<tspan fill="${colours[i]}">s = ${s} µm</tspan>`).join('   ')}   — TSVA trained at s   ··· U-Net trained at s   - - Y1</text></svg>`);

await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'psnr-vs-deltad.svg'), svg.join('\n'));
await writeFile(join(outDir, 'evaluation.md'), lines.join('\n'));
await writeFile(join(outDir, 'evaluation.json'), JSON.stringify({ offsets, marginDefocusUm, packages: [...tsvas, ...unets].map((t) => ({ label: t.label, dir: t.dir, arch: t.arch, trainedS: t.trainedS })), summary, perDeltaD,
  matrix: Object.fromEntries([...tsvas, ...unets].map((t) => [t.label, Object.fromEntries(['d1-gauss-indep', 'd2-gauss-indep'].map((n) => [n, Object.fromEntries(offsets.map((s) => [s, mean(scores[n][s][t.label])]))]))])) }, null, 1));
console.log(lines.join('\n'));
