/**
 * The virtual-staining paper's co-registration step as an exercise with a known answer
 * (issue 19, "Data"; paper 000, Methods "Image pre-processing and co-registration").
 *
 * Per field (held-out seeds of the specimen library's lung section, family `he-lung`):
 * - the tissue is rendered on a canvas larger than the field; the fixed image is the in-focus
 *   two-channel autofluorescence (AF) of the central `size`² field;
 * - the moving image is the H&E rendering of the canvas warped by a random affine (±2°
 *   rotation, ±2 % scale, ±3 px shift) plus a smooth elastic field (largest displacement 3 px)
 *   (plugins/elastic/known-warp.ts), with Gaussian noise of 2 grey levels, `margin` px larger
 *   than the field on every side; so the true fixed → moving mapping is known at every pixel;
 * - it is registered back three ways with the elastic plugin's `coregisterElastic`
 *   (cross-correlation → affine → B-spline, its default levels, grid and bending weights):
 *   (a) multimodal: H&E luminance → AF DAPI channel, metric `mi`;
 *   (b) the paper's loop, one round: the AF is stained with the shipped rough staining network
 *       (models/staining-demo, G_VS not retrained on the registered pairs), and the H&E
 *       luminance is registered to the virtual H&E's luminance, metric `ncc` (monomodal);
 *   (c) no registration: the nominal crop (the field's position without the warp);
 *   variants: (a) with the luminance inverted (1 − Y: tissue bright, as in the AF, so that the
 *   cross-correlation step, which needs a positive correlation, finds the field); (b) affine only
 *   (no elastic stage); (b) with metric `mi` on the rough stain; and a reference (r) the H&E registered to the
 *   field's true H&E (same modality, metric `ncc`: what the registration reaches when the
 *   contrast matches).
 * Check of the rough stain alone: its luminance registered onto the field's own true H&E (no
 * warp, so the true displacement is 0) affine only (ncc), with the elastic stage (ncc) and with mi.
 * Errors over the whole field and over tissue only (true H&E luminance < 0.95; the alveolar air
 * has no structure to register, so its field is set by the bending regulariser).
 * Error = |recovered − true| mapped position (px) at every pixel ≥ 16 px from the border:
 * mean and 95th percentile per field; paired differences with bootstrap 95 % intervals over
 * the fields (core's pairedDifference).
 *
 * It lives in scripts/ because it composes two plugins (staining and elastic).
 *
 *   npx tsc -p tsconfig.build.json && node dist/scripts/staining-coregistration.js [--fields 8] [--size 512] [--seed 960001] [--out plugins/staining/docs/coreg]
 *
 * Writes <out>/coregistration.csv, coregistration.json and coregistration-example.png (field 0:
 * AF | warped H&E | rough stain | registered (a, 1 − Y) | registered (b, ncc) | error maps of
 * no registration, (a) Y, (a) 1 − Y, (b) ncc, (b) mi), and prints Markdown tables.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FocalError, gaussianRandom, lutColour, mulberry32, pairedDifference, writeFileAtomic } from '../core/index.js';
import { LUNG_PIXEL_SIZE_UM, renderLungAutofluorescence, renderLungHE, renderLungTissue } from '../core/specimens.js';
import { createInferenceEngine, loadModelPackage } from '../core/ml.js';
import { coregisterElastic, registerElastic, warpImage, type CoregisterResult } from '../plugins/elastic/register.js';
import { displacementError, knownWarp, warpField, type DisplacementError } from '../plugins/elastic/known-warp.js';
import { normalisePlane } from '../plugins/staining/data.js';
import { encodeRgb, labelledMontage } from '../plugins/staining/figures.js';
import { stainField } from '../plugins/staining/stain.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string): string => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const intArg = (name: string, dflt: number, min: number): number => {
  const v = Number(arg(name, String(dflt)));
  if (!Number.isInteger(v) || v < min) throw new FocalError('E_ARGUMENT', `--${name}: expected an integer ≥ ${min}, got ${arg(name, '')}`, { field: name });
  return v;
};
const FIELDS = intArg('fields', 8, 1);
const N = intArg('size', 512, 64);
const SEED = intArg('seed', 960001, 1);
/** Moving-image margin around the field (px) and extra canvas around the moving image (so the warp never samples outside the tissue). */
const MARGIN = intArg('margin', 48, 8);
const PAD = 32;
const BORDER = 16;
const TISSUE_LUMINANCE = 0.95;
/** Bending weight of (b)'s elastic stage (default: the elastic plugin's default for ncc). */
const B_BENDING = Number(arg('b-bending', '100'));
const OUT = resolve(arg('out', 'plugins/staining/docs/coreg'));
const STAINING = resolve(arg('staining', 'models/staining-demo'));
const METHODS = ['a-mi', 'a-mi-inverted', 'b-rough-stain-ncc', 'b-rough-stain-affine-only', 'b-rough-stain-mi', 'c-identity', 'r-true-he-ncc'] as const;
type Method = (typeof METHODS)[number];

const luminance = (rgb: readonly Float32Array[]): Float32Array => rgb[0].map((r, i) => 0.299 * r + 0.587 * rgb[1][i] + 0.114 * rgb[2][i]);
const crop = (p: Float32Array, w: number, x0: number, y0: number, s: number): Float32Array => {
  const o = new Float32Array(s * s);
  for (let y = 0; y < s; y++) o.set(p.subarray((y0 + y) * w + x0, (y0 + y) * w + x0 + s), y * s);
  return o;
};

interface FieldResult {
  field: number;
  seed: number;
  warp: { rotationDeg: number; scale: number; shiftPx: [number, number]; elasticMaxPx: number };
  errors: Record<Method, DisplacementError>;
  /** The same over tissue pixels only. */
  tissueErrors: Record<Method, DisplacementError>;
  tissueFraction: number;
  seconds: Record<Method, number>;
  match: Partial<Record<Method, { x: number; y: number; ncc: number }>>;
  stainSeconds: number;
  /** Check of the rough stain alone: it registered onto the field's own true H&E (no warp; truth u = 0), mean |u| px over the field / tissue. */
  roughVsTrue: Record<RoughCheck, { field: number; tissue: number }>;
}

const ROUGH_CHECKS = ['ncc-affine-only', 'ncc', 'mi'] as const;
type RoughCheck = (typeof ROUGH_CHECKS)[number];

async function main(): Promise<void> {
  const pkg = await loadModelPackage(STAINING);
  const stain = await createInferenceEngine(pkg, { engine: 'auto' });
  const NM = N + 2 * MARGIN, S = NM + 2 * PAD;
  const results: FieldResult[] = [];
  let figure: Uint8Array | undefined;
  for (let f = 0; f < FIELDS; f++) {
    const seed = SEED + f;
    const t0 = performance.now();
    const tissue = renderLungTissue({ width: S, height: S, pixelSizeUm: LUNG_PIXEL_SIZE_UM }, {}, seed);
    const he = renderLungHE(tissue);
    const afFull = renderLungAutofluorescence(tissue, { defocusUm: 0, seed: seed * 31 + 7 });
    const af = afFull.map((p) => crop(p, S, PAD + MARGIN, PAD + MARGIN, N)) as [Float32Array, Float32Array];
    // moving: the canvas H&E warped (moving(X) = he(w(X) + PAD)), noise of 2 grey levels
    const w = knownWarp(NM, NM, seed * 17 + 3);
    const wf = warpField(w);
    const noise = mulberry32(seed * 13 + 5);
    const moving = he.map((p) => warpImage({ data: p, width: S, height: S }, wf.ux.map((v) => v + PAD), wf.uy.map((v) => v + PAD), NM, NM).map((v) => v + (2 / 255) * gaussianRandom(noise)));
    // the truth: fixed pixel x shows tissue at x + PAD + MARGIN = w(X) + PAD, so X = w⁻¹(x + MARGIN)
    const tx = new Float32Array(N * N), ty = new Float32Array(N * N);
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) [tx[y * N + x], ty[y * N + x]] = w.inverse(x + MARGIN, y + MARGIN);
    const simSeconds = (performance.now() - t0) / 1000;
    const movingY = { data: luminance(moving), width: NM, height: NM };

    const regs: Partial<Record<Method, CoregisterResult>> = {};
    const seconds = {} as Record<Method, number>;
    let t = performance.now();
    regs['a-mi'] = coregisterElastic(movingY, { data: af[0], width: N, height: N }, { metric: 'mi' });
    seconds['a-mi'] = (performance.now() - t) / 1000;
    t = performance.now();
    regs['a-mi-inverted'] = coregisterElastic({ ...movingY, data: movingY.data.map((v) => 1 - v) }, { data: af[0], width: N, height: N }, { metric: 'mi' });
    seconds['a-mi-inverted'] = (performance.now() - t) / 1000;
    t = performance.now();
    const virtual = (await stainField(af, N, N, stain, { tilePx: N, haloPx: 0, multipleOf: 32 })).rgb;
    const stainSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    regs['b-rough-stain-ncc'] = coregisterElastic(movingY, { data: luminance(virtual), width: N, height: N }, { metric: 'ncc', bendingWeight: B_BENDING });
    seconds['b-rough-stain-ncc'] = (performance.now() - t) / 1000 + stainSeconds;
    t = performance.now();
    regs['b-rough-stain-affine-only'] = coregisterElastic(movingY, { data: luminance(virtual), width: N, height: N }, { metric: 'ncc', affineOnly: true });
    seconds['b-rough-stain-affine-only'] = (performance.now() - t) / 1000 + stainSeconds;
    t = performance.now();
    regs['b-rough-stain-mi'] = coregisterElastic(movingY, { data: luminance(virtual), width: N, height: N }, { metric: 'mi' });
    seconds['b-rough-stain-mi'] = (performance.now() - t) / 1000 + stainSeconds;
    seconds['c-identity'] = 0;
    t = performance.now();
    regs['r-true-he-ncc'] = coregisterElastic(movingY, { data: crop(luminance(he), S, PAD + MARGIN, PAD + MARGIN, N), width: N, height: N }, { metric: 'ncc' });
    seconds['r-true-he-ncc'] = (performance.now() - t) / 1000;
    const fields: Record<Method, { ux: Float32Array; uy: Float32Array }> = {
      'a-mi': regs['a-mi'], 'a-mi-inverted': regs['a-mi-inverted'], 'b-rough-stain-ncc': regs['b-rough-stain-ncc'], 'b-rough-stain-affine-only': regs['b-rough-stain-affine-only'],
      'b-rough-stain-mi': regs['b-rough-stain-mi'],
      'c-identity': { ux: new Float32Array(N * N).fill(MARGIN), uy: new Float32Array(N * N).fill(MARGIN) },
      'r-true-he-ncc': regs['r-true-he-ncc'],
    };
    // tissue: pixels where the true H&E of the field is stained (luminance < 0.95), i.e. not alveolar air
    const mask = crop(luminance(he), S, PAD + MARGIN, PAD + MARGIN, N).map((v) => (v < TISSUE_LUMINANCE ? 1 : 0));
    const tissueFraction = mask.reduce((s, v) => s + v, 0) / mask.length;
    const maps = {} as Record<Method, Float32Array>;
    const errors = {} as Record<Method, DisplacementError>;
    const tissueErrors = {} as Record<Method, DisplacementError>;
    for (const m of METHODS) {
      maps[m] = new Float32Array(N * N);
      errors[m] = displacementError(fields[m].ux, fields[m].uy, tx, ty, N, N, { marginPx: BORDER, perPixel: maps[m] });
      tissueErrors[m] = displacementError(fields[m].ux, fields[m].uy, tx, ty, N, N, { marginPx: BORDER, mask });
    }
    // the rough stain against the field's own true H&E (both on the fixed grid, truth u = 0)
    const trueY = { data: crop(luminance(he), S, PAD + MARGIN, PAD + MARGIN, N), width: N, height: N };
    const gx = Float32Array.from({ length: N * N }, (_, i) => i % N), gy = Float32Array.from({ length: N * N }, (_, i) => Math.floor(i / N));
    const roughVsTrue = {} as FieldResult['roughVsTrue'];
    for (const c of ROUGH_CHECKS) {
      const r = registerElastic({ data: luminance(virtual), width: N, height: N }, trueY, { metric: c === 'mi' ? 'mi' : 'ncc', affineInit: true, affineOnly: c === 'ncc-affine-only' });
      roughVsTrue[c] = {
        field: displacementError(r.ux, r.uy, gx, gy, N, N, { marginPx: BORDER }).mean,
        tissue: displacementError(r.ux, r.uy, gx, gy, N, N, { marginPx: BORDER, mask }).mean,
      };
    }
    const match = { 'a-mi': regs['a-mi'].match, 'a-mi-inverted': regs['a-mi-inverted'].match, 'b-rough-stain-ncc': regs['b-rough-stain-ncc'].match, 'b-rough-stain-affine-only': regs['b-rough-stain-affine-only'].match, 'b-rough-stain-mi': regs['b-rough-stain-mi'].match, 'r-true-he-ncc': regs['r-true-he-ncc'].match };
    results.push({ field: f, seed, warp: { rotationDeg: w.rotationDeg, scale: w.scale, shiftPx: w.shiftPx, elasticMaxPx: w.elasticMaxPx }, errors, tissueErrors, tissueFraction, roughVsTrue, seconds, match, stainSeconds });
    console.error(`field ${f} (seed ${seed}): simulate ${simSeconds.toFixed(1)} s; ` + METHODS.map((m) => `${m} mean ${errors[m].mean.toFixed(3)} p95 ${errors[m].p95.toFixed(3)} px (${seconds[m].toFixed(1)} s)`).join('; ')
      + `; tissue ${(100 * tissueFraction).toFixed(0)} %: ` + METHODS.map((m) => `${m} ${tissueErrors[m].mean.toFixed(3)}/${tissueErrors[m].p95.toFixed(3)}`).join(' ')
      + '; rough stain vs its true H&E ' + ROUGH_CHECKS.map((c) => `${c} ${roughVsTrue[c].field.toFixed(3)}/${roughVsTrue[c].tissue.toFixed(3)}`).join(' ')
      + `; match a (${match['a-mi'].x}, ${match['a-mi'].y}) ncc ${match['a-mi'].ncc.toFixed(3)}, b (${match['b-rough-stain-ncc'].x}, ${match['b-rough-stain-ncc'].y}) ncc ${match['b-rough-stain-ncc'].ncc.toFixed(3)}`);
    if (f === 0) figure = exampleFigure(af, moving, virtual, fields, maps, NM);
  }
  await stain.dispose();

  const per = (m: Method, k: 'mean' | 'p95') => results.map((r) => r.errors[m][k]);
  const perT = (m: Method, k: 'mean' | 'p95') => results.map((r) => r.tissueErrors[m][k]);
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  const summary = Object.fromEntries(METHODS.map((m) => [m, {
    mean: avg(per(m, 'mean')), p95: avg(per(m, 'p95')), worstFieldMean: Math.max(...per(m, 'mean')), tissueMean: avg(perT(m, 'mean')), tissueP95: avg(perT(m, 'p95')), seconds: avg(results.map((r) => r.seconds[m])),
  }]));
  const pairs = [['a-mi', 'c-identity'], ['a-mi-inverted', 'c-identity'], ['b-rough-stain-ncc', 'c-identity'], ['b-rough-stain-ncc', 'a-mi'], ['b-rough-stain-ncc', 'a-mi-inverted'], ['b-rough-stain-ncc', 'b-rough-stain-affine-only'], ['b-rough-stain-mi', 'a-mi-inverted']] as const;
  const paired = pairs.map(([p, q]) => ({
    a: p, b: q, mean: pairedDifference(per(p, 'mean'), per(q, 'mean'), { seed: 1 }), p95: pairedDifference(per(p, 'p95'), per(q, 'p95'), { seed: 2 }),
    tissueMean: pairedDifference(perT(p, 'mean'), perT(q, 'mean'), { seed: 3 }), tissueP95: pairedDifference(perT(p, 'p95'), perT(q, 'p95'), { seed: 4 }),
  }));
  const setup = { fields: FIELDS, sizePx: N, marginPx: MARGIN, borderPx: BORDER, firstSeed: SEED, staining: `${pkg.manifest.name} ${pkg.manifest.version}`, defocusUm: 0 };

  const roughSummary = Object.fromEntries(ROUGH_CHECKS.map((c) => [c, {
    field: avg(results.map((r) => r.roughVsTrue[c].field)), tissue: avg(results.map((r) => r.roughVsTrue[c].tissue)),
    fieldRange: [Math.min(...results.map((r) => r.roughVsTrue[c].field)), Math.max(...results.map((r) => r.roughVsTrue[c].field))],
  }]));
  const csv = ['field,seed,method,meanPx,p95Px,maxPx,tissueMeanPx,tissueP95Px,tissueFraction,seconds,matchX,matchY,matchNcc,rotationDeg,scale,shiftX,shiftY,elasticMaxPx'];
  for (const r of results) {
    for (const m of METHODS) {
      const e = r.errors[m], mt = r.match[m];
      csv.push([r.field, r.seed, m, e.mean.toFixed(4), e.p95.toFixed(4), e.max.toFixed(4), r.tissueErrors[m].mean.toFixed(4), r.tissueErrors[m].p95.toFixed(4), r.tissueFraction.toFixed(3), r.seconds[m].toFixed(2), mt?.x ?? '', mt?.y ?? '', mt ? mt.ncc.toFixed(4) : '',
        r.warp.rotationDeg.toFixed(3), r.warp.scale.toFixed(4), r.warp.shiftPx[0].toFixed(2), r.warp.shiftPx[1].toFixed(2), r.warp.elasticMaxPx.toFixed(2)].join(','));
    }
  }
  await mkdir(OUT, { recursive: true });
  await writeFileAtomic(join(OUT, 'coregistration.csv'), csv.join('\n') + '\n');
  await writeFileAtomic(join(OUT, 'coregistration.json'), JSON.stringify({ setup, summary, paired, roughVsTrue: roughSummary, fields: results }, null, 1) + '\n');
  if (figure) await writeFileAtomic(join(OUT, 'coregistration-example.png'), figure);

  const f3 = (v: number) => v.toFixed(3);
  console.log(`\n| method | field: mean (px) | field: 95th pct (px) | worst field mean (px) | tissue: mean (px) | tissue: 95th pct (px) | time per field (s) |\n|---|---:|---:|---:|---:|---:|---:|`);
  for (const m of METHODS) console.log(`| ${m} | ${f3(summary[m].mean)} | ${f3(summary[m].p95)} | ${f3(summary[m].worstFieldMean)} | ${f3(summary[m].tissueMean)} | ${f3(summary[m].tissueP95)} | ${summary[m].seconds.toFixed(1)} |`);
  const ci = (d: { mean: number; lo: number; hi: number }) => `${f3(d.mean)} [${f3(d.lo)}, ${f3(d.hi)}]`;
  console.log(`\n| paired difference (px, 95 % interval) | field mean | field 95th pct | tissue mean | tissue 95th pct |\n|---|---|---|---|---|`);
  for (const p of paired) console.log(`| ${p.a} − ${p.b} | ${ci(p.mean)} | ${ci(p.p95)} | ${ci(p.tissueMean)} | ${ci(p.tissueP95)} |`);
  console.log(`\n| rough stain → its own true H&E (truth 0) | mean |u| field (px) | range over fields | mean |u| tissue (px) |\n|---|---:|---|---:|`);
  for (const c of ROUGH_CHECKS) console.log(`| ${c} | ${f3(roughSummary[c].field)} | ${f3(roughSummary[c].fieldRange[0])}–${f3(roughSummary[c].fieldRange[1])} | ${f3(roughSummary[c].tissue)} |`);
}

/** 2 × 2 box average of a square plane. */
function half(p: Float32Array, n: number): Float32Array {
  const h = n >> 1;
  const o = new Float32Array(h * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < h; x++) o[y * h + x] = 0.25 * (p[2 * y * n + 2 * x] + p[2 * y * n + 2 * x + 1] + p[(2 * y + 1) * n + 2 * x] + p[(2 * y + 1) * n + 2 * x + 1]);
  return o;
}

/** Viridis planes of an error map on 0…maxPx (margin NaN → black). */
function errorPanel(map: Float32Array, maxPx: number): Float32Array[] {
  const rgb = [new Float32Array(map.length), new Float32Array(map.length), new Float32Array(map.length)];
  for (let i = 0; i < map.length; i++) {
    const c = lutColour('viridis', map[i] / maxPx);
    for (let k = 0; k < 3; k++) rgb[k][i] = c[k] / 255;
  }
  return rgb;
}

function exampleFigure(
  af: Float32Array[], moving: Float32Array[], virtual: Float32Array[], fields: Record<Method, { ux: Float32Array; uy: Float32Array }>, maps: Record<Method, Float32Array>, NM: number,
): Uint8Array {
  const small = (p: Float32Array) => half(p, N);
  const [dapi, txr] = af.map((p) => small(normalisePlane(p).map((v) => (v + 2) / 5)));
  const warped = moving.map((p) => small(crop(p, NM, MARGIN, MARGIN, N)));
  const reg = (m: Method) => moving.map((p) => small(warpImage({ data: p, width: NM, height: NM }, fields[m].ux, fields[m].uy, N, N)));
  const identityMax = maps['c-identity'].reduce((m, v) => (v > m ? v : m), 0);
  const errMax = 2;
  const err = (m: Method) => errorPanel(small(maps[m]), errMax);
  const panels = [[txr, dapi, txr], warped, virtual.map(small), reg('a-mi-inverted'), reg('b-rough-stain-ncc'),
    errorPanel(small(maps['c-identity']), Math.ceil(identityMax)), err('a-mi'), err('a-mi-inverted'), err('b-rough-stain-ncc'), err('b-rough-stain-mi')];
  const labels = ['AF in focus', 'warped H&E', 'rough stain', 'reg a MI 1-Y', 'reg b NCC', `err none 0-${Math.ceil(identityMax)}px`, `err a Y 0-${errMax}px`, `err a 1-Y 0-${errMax}`,
    `err b NCC 0-${errMax}`, `err b MI 0-${errMax}`];
  return encodeRgb(labelledMontage(panels, labels, N >> 1));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
