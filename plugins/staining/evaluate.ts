/**
 * The paper's framework comparison (Fig. 4, Supplementary Fig. S1) on simulated held-out lung
 * fields, with the bundled (or given) packages:
 *   node dist/plugins/staining/evaluate.js [--fields 16] [--size 128] [--out plugins/staining/docs/eval]
 *     [--staining models/staining-demo] [--cascade models/staining-cascade-demo] [--nostyle models/staining-cascade-nostyle-demo]
 * Frameworks: (1) staining of the defocused field, (2) cascade with style loss, (3) staining of
 * the in-focus field (reference), (4) cascade without style loss. Per defocus −3…+3 µm (0.5 µm
 * steps): mean |ΔY|, |ΔCb|, |ΔCr| (BT.601 studio, 8-bit scale, as metrics.compare-colour) of 1, 2,
 * 4 against 3 per field; paired upper-tailed t-tests (2 better than 1; 2 better than 4) and
 * bootstrap intervals of the paired differences; PSNR against framework 3 and against the true
 * H&E. Writes results.json, results.csv, colour-vs-defocus-{Y,Cb,Cr}.png, montage.png (labelled),
 * histogram-{Cb,Cr}.png (per framework and the true H&E at +2 µm, pooled over the fields) and
 * slide-focus-maps.png (`staining.slide` with its defaults: the focal surface and both maps'
 * residual defocus).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pairedDifference, pairedTTest, renderLinePlot, runOp, type Table } from '../../core/index.js';
import { rgbToYcbcr601 } from '../../core/imaging.js';
import { createInferenceEngine, loadModelPackage, type InferenceEngine } from '../../core/ml.js';
import { simulateFields } from './data.js';
import { channelHistogramPng, encodeRgb, labelledMontage, slideFocusFigure } from './figures.js';
import { slide } from './ops/slide.js';
import { checkCascadeLink } from './package.js';
import { cascadeField, stainField, type Planes3 } from './stain.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const FIELDS = Number(arg('fields', '16'));
const SIZE = Number(arg('size', '128'));
const OUT = resolve(arg('out', 'plugins/staining/docs/eval'));
const DEFOCUS = Array.from({ length: 13 }, (_, i) => -3 + 0.5 * i);
const CH = ['Y', 'Cb', 'Cr'] as const;

function ycc255(rgb: Planes3): Float32Array[] {
  return rgbToYcbcr601(rgb).map((p) => p.map((v) => v * 255));
}
function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}
function psnr(a: Planes3, b: Planes3): number {
  let s = 0;
  let n = 0;
  for (let c = 0; c < 3; c++) for (let i = 0; i < a[c].length; i++) { s += (a[c][i] - b[c][i]) ** 2; n++; }
  return 10 * Math.log10(1 / (s / n));
}

async function main(): Promise<void> {
  const stainingDir = resolve(arg('staining', 'models/staining-demo'));
  const cascadeDir = resolve(arg('cascade', 'models/staining-cascade-demo'));
  const nostyleDir = resolve(arg('nostyle', 'models/staining-cascade-nostyle-demo'));
  const haveNoStyle = existsSync(nostyleDir);
  if (!haveNoStyle) console.log(`no framework-4 package at ${nostyleDir}: framework 4 is skipped`);
  const [sPkg, cPkg] = await Promise.all([stainingDir, cascadeDir].map((d) => loadModelPackage(d)));
  const nPkg = haveNoStyle ? await loadModelPackage(nostyleDir) : undefined;
  checkCascadeLink(cPkg, sPkg);
  if (nPkg) checkCascadeLink(nPkg, sPkg);
  const [stain, refocusStyle]: InferenceEngine[] = await Promise.all([sPkg, cPkg].map((p) => createInferenceEngine(p, { engine: 'auto' })));
  const refocusNoStyle: InferenceEngine | undefined = nPkg ? await createInferenceEngine(nPkg, { engine: 'auto' }) : undefined;
  const tiling = { tilePx: SIZE, haloPx: 0, multipleOf: 32 };
  const t0 = Date.now();
  // held-out fields: seeds far from the training (seed·7919 + i, i < fields) and validation ranges
  const fields = simulateFields({ count: FIELDS, sizePx: SIZE, seed: 900_001, defocusUm: DEFOCUS });
  console.log(`simulated ${FIELDS} held-out fields × ${DEFOCUS.length} planes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  // diff[framework][defocus index][channel][field]
  const diff: Record<'f1' | 'f2' | 'f4', number[][][]> = { f1: [], f2: [], f4: [] };
  const psnrRef: Record<'f1' | 'f2' | 'f4', number[][]> = { f1: [], f2: [], f4: [] };
  const psnrTruth: Record<'f1' | 'f2' | 'f3' | 'f4', number[][]> = { f1: [], f2: [], f3: [], f4: [] };
  const montage: { af: Float32Array[]; imgs: Planes3[] } = { af: [], imgs: [] };
  const HIST_UM = 2;
  // 8-bit Cb, Cr values at HIST_UM per framework and the truth, pooled over the fields
  const hist: Record<'truth' | 'f1' | 'f2' | 'f3' | 'f4', [number[], number[]]> = { truth: [[], []], f1: [[], []], f2: [[], []], f3: [[], []], f4: [[], []] };
  const t1 = Date.now();
  let cascadeMs = 0;
  let cascadeRuns = 0;
  const f3s: Planes3[] = [];
  for (const f of fields) f3s.push((await stainField(f.af.get(0)!, f.width, f.height, stain, tiling)).rgb);
  for (const [k, d] of DEFOCUS.entries()) {
    for (const key of ['f1', 'f2', 'f4'] as const) { diff[key][k] = [[], [], []]; psnrRef[key][k] = []; }
    for (const key of ['f1', 'f2', 'f3', 'f4'] as const) psnrTruth[key][k] = [];
    for (const [i, f] of fields.entries()) {
      const af = f.af.get(d)!;
      const f1 = (await stainField(af, f.width, f.height, stain, tiling)).rgb;
      const c0 = performance.now();
      const f2 = (await cascadeField(af, f.width, f.height, refocusStyle, stain, tiling)).rgb;
      cascadeMs += performance.now() - c0;
      cascadeRuns++;
      const f4 = refocusNoStyle ? (await cascadeField(af, f.width, f.height, refocusNoStyle, stain, tiling)).rgb : f1.map((p) => p.map(() => NaN)) as Planes3;
      const ref = ycc255(f3s[i]);
      for (const [key, img] of [['f1', f1], ['f2', f2], ['f4', f4]] as const) {
        const y = ycc255(img);
        for (let c = 0; c < 3; c++) diff[key][k][c].push(meanAbsDiff(y[c], ref[c]));
        psnrRef[key][k].push(psnr(img, f3s[i]));
      }
      for (const [key, img] of [['f1', f1], ['f2', f2], ['f3', f3s[i]], ['f4', f4]] as const) psnrTruth[key][k].push(psnr(img, f.heRgb));
      if (d === HIST_UM) {
        for (const [key, img] of [['truth', f.heRgb], ['f1', f1], ['f2', f2], ['f3', f3s[i]], ['f4', f4]] as const) {
          if (key === 'f4' && !refocusNoStyle) continue;
          const y = ycc255(img);
          for (let c = 0; c < 2; c++) for (const v of y[c + 1]) hist[key][c].push(v);
        }
      }
      if (i === 0 && d === 2) {
        montage.af = af;
        montage.imgs = [f1, f2, f3s[i], f4, f.heRgb];
      }
    }
  }
  console.log(`inference: ${((Date.now() - t1) / 1000).toFixed(1)} s; cascade ${(cascadeMs / cascadeRuns).toFixed(1)} ms per ${SIZE}² field`);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const rows: Record<string, number | string>[] = [];
  for (const [k, d] of DEFOCUS.entries()) {
    for (let c = 0; c < 3; c++) {
      const f1 = diff.f1[k][c], f2 = diff.f2[k][c], f4 = diff.f4[k][c];
      const safeT = (a: number[], b: number[]) => { try { return pairedTTest(a, b, 'greater').p; } catch { return NaN; } };
      const b12 = pairedDifference(f1, f2, { seed: 1, reps: 2000 });
      const b42 = haveNoStyle ? pairedDifference(f4, f2, { seed: 2, reps: 2000 }) : { mean: NaN, lo: NaN, hi: NaN };
      rows.push({
        defocusUm: d, channel: CH[c], f1: mean(f1), f2: mean(f2), f4: mean(f4),
        p_2_better_than_1: safeT(f1, f2), diff12: b12.mean, diff12Lo: b12.lo, diff12Hi: b12.hi,
        p_2_better_than_4: haveNoStyle ? safeT(f4, f2) : NaN, diff42: b42.mean, diff42Lo: b42.lo, diff42Hi: b42.hi,
      });
    }
  }
  const psnrRows = DEFOCUS.map((d, k) => ({
    defocusUm: d, psnrRef1: mean(psnrRef.f1[k]), psnrRef2: mean(psnrRef.f2[k]), psnrRef4: mean(psnrRef.f4[k]),
    psnrTruth1: mean(psnrTruth.f1[k]), psnrTruth2: mean(psnrTruth.f2[k]), psnrTruth3: mean(psnrTruth.f3[k]), psnrTruth4: mean(psnrTruth.f4[k]),
  }));
  await mkdir(OUT, { recursive: true });
  await writeFile(join(OUT, 'results.json'), JSON.stringify({ fields: FIELDS, sizePx: SIZE, packages: { staining: stainingDir, cascade: cascadeDir, nostyle: nostyleDir }, cascadeMsPerField: cascadeMs / cascadeRuns, colour: rows, psnr: psnrRows }, null, 1));
  const cols = Object.keys(rows[0]);
  await writeFile(join(OUT, 'results.csv'), `${cols.join(',')}\n${rows.map((r) => cols.map((c) => r[c]).join(',')).join('\n')}\n`);
  // colour difference vs defocus: one plot per channel, stacked vertically
  const plots = CH.map((ch, c) => renderLinePlot(
    ([['framework 1 (no refocus)', [200, 0, 0], 'f1'], ['framework 2 (cascade, style loss)', [0, 110, 220], 'f2'], ['framework 4 (cascade, no style loss)', [0, 160, 60], 'f4']] as const).filter(([, , key]) => key !== 'f4' || haveNoStyle).map(([label, colour, key]) => ({
      label, colour: [...colour] as [number, number, number], x: DEFOCUS, y: DEFOCUS.map((_, k) => mean(diff[key][k][c])),
    })), 640, 300, { xTitle: 'defocus (µm)', yTitle: `mean |Δ${ch}| vs framework 3 (8-bit)`, logY: false, markers: true },
  ));
  for (const [c, png] of plots.entries()) await writeFile(join(OUT, `colour-vs-defocus-${CH[c]}.png`), png);
  // montage: AF (DAPI as green, TxRed as magenta), frameworks 1–4, true H&E, at +2 µm; labelled
  const sc = (a: Float32Array) => a.map((v) => (v + 2) / 5);
  const [dapi, txr] = [sc(montage.af[0]), sc(montage.af[1])];
  const labels = ['AF +2 µm', 'F1 no refocus', 'F2 cascade', 'F3 in focus', 'F4 no style', 'true H&E'];
  await writeFile(join(OUT, 'montage.png'), encodeRgb(labelledMontage([[txr, dapi, txr], ...montage.imgs], labels, SIZE)));
  // Cb / Cr histograms at +2 µm
  const histSeries = ([['true H&E', [0, 0, 0], 'truth'], ['framework 3 (in focus)', [150, 150, 150], 'f3'], ['framework 1', [200, 0, 0], 'f1'], ['framework 2', [0, 110, 220], 'f2'], ['framework 4', [0, 160, 60], 'f4']] as const)
    .filter(([, , key]) => hist[key][0].length > 0);
  for (const [c, ch] of (['Cb', 'Cr'] as const).entries()) {
    await writeFile(join(OUT, `histogram-${ch}.png`), channelHistogramPng(histSeries.map(([label, colour, key]) => ({ label, colour: [...colour] as [number, number, number], values: hist[key][c] })), ch, `at +${HIST_UM} µm, ${FIELDS} fields`));
  }
  // the simulated slide (staining.slide defaults: 16 × 13 fields of 2048² px, 6 µm peak-to-peak surface)
  const slideOut = await runOp(slide, {}, {});
  await writeFile(join(OUT, 'slide-focus-maps.png'), encodeRgb(slideFocusFigure(slideOut.fields as Table)));
  for (const e of [stain, refocusStyle, refocusNoStyle]) await e?.dispose();
  console.log('defocus ch   f1     f2     f4    p(2<1)   p(2<4)');
  for (const r of rows) console.log(`${String(r.defocusUm).padStart(5)} ${String(r.channel).padEnd(3)} ${(r.f1 as number).toFixed(2).padStart(6)} ${(r.f2 as number).toFixed(2).padStart(6)} ${(r.f4 as number).toFixed(2).padStart(6)} ${(r.p_2_better_than_1 as number).toExponential(1).padStart(8)} ${(r.p_2_better_than_4 as number).toExponential(1).padStart(8)}`);
  console.log(JSON.stringify(psnrRows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v.toFixed(2))])))));
  console.log(`wrote ${OUT}`);
}

await main();
