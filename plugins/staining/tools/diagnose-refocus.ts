/**
 * Diagnosis of a cascade G_DR (issue 19): how far is it from the identity, and what does it do to
 * the stain? On fields from the trainers' *validation* seed range (seed 1 + 100 000; never the
 * evaluation's held-out seeds), per defocus:
 *   - AF MAE (normalised units) of the identity (defocused input itself) and of G_DR's output
 *     against the in-focus AF; mean and SD of G_DR's output per channel (the G_VS input was
 *     normalised to mean 0, SD 1);
 *   - stain MAE (Y/Cb/Cr, 8-bit BT.601) of G_VS(input) (framework 1) and G_VS(G_DR(input))
 *     against G_VS(in-focus) (framework 3).
 *   npx tsc -p tsconfig.build.json && node dist/plugins/staining/tools/diagnose-refocus.js \
 *     [--cascade models/staining-cascade-demo] [--staining models/staining-demo] [--fields 4] [--size 128]
 */
import { resolve } from 'node:path';
import { createInferenceEngine, loadModelPackage, tiledInference } from '../../../core/ml.js';
import { simulateFields } from '../data.js';
import { checkCascadeLink } from '../package.js';
import { refocusField, stainField } from '../stain.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const FIELDS = Number(arg('fields', '4'));
const SIZE = Number(arg('size', '128'));
const DEFOCUS = [-2, -1, 0, 1, 2];

const sPkg = await loadModelPackage(resolve(arg('staining', 'models/staining-demo')));
const cPkg = await loadModelPackage(resolve(arg('cascade', 'models/staining-cascade-demo')));
checkCascadeLink(cPkg, sPkg);
const stain = await createInferenceEngine(sPkg, { engine: 'auto' });
const refocus = await createInferenceEngine(cPkg, { engine: 'auto' });
const tiling = { tilePx: SIZE, haloPx: 0, multipleOf: 32 };
const fields = simulateFields({ count: FIELDS, sizePx: SIZE, seed: 1 + 100_000, defocusUm: DEFOCUS });
const mad = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
};
const stats = (a: Float32Array) => {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  let v2 = 0;
  for (const v of a) v2 += (v - m) ** 2;
  return [m, Math.sqrt(v2 / a.length)];
};
console.log(`cascade ${cPkg.manifest.name} ${cPkg.manifest.version}; ${FIELDS} validation-range fields of ${SIZE}²`);
console.log('defocus | AF MAE identity  G_DR | G_DR out mean/SD DAPI, TxRed | stain |ΔY|,|ΔCb|,|ΔCr| fw1 | cascade | cascade, G_DR output renormalised');
for (const d of DEFOCUS) {
  const acc = { idAf: 0, drAf: 0, out: [0, 0, 0, 0], f1: [0, 0, 0], f2: [0, 0, 0], f2n: [0, 0, 0] };
  for (const f of fields) {
    const inp = f.af.get(d)!;
    const foc = f.af.get(0)!;
    const out = await refocusField(inp, SIZE, SIZE, refocus, tiling);
    acc.idAf += (mad(inp[0], foc[0]) + mad(inp[1], foc[1])) / 2 / FIELDS;
    acc.drAf += (mad(out[0], foc[0]) + mad(out[1], foc[1])) / 2 / FIELDS;
    const [m0, s0] = stats(out[0]);
    const [m1, s1] = stats(out[1]);
    [m0, s0, m1, s1].forEach((v, k) => { acc.out[k] += v / FIELDS; });
    const ref = (await stainField(foc, SIZE, SIZE, stain, tiling)).ycc;
    const f1 = (await stainField(inp, SIZE, SIZE, stain, tiling)).ycc;
    // G_DR's raw output straight into G_VS (as the chained cascade does; stainField would renormalise)
    const raw = await tiledInference(out, SIZE, SIZE, stain, { ...tiling, outChannels: 3 });
    // the same with G_DR's output renormalised per field (mean 0, SD 1) before G_VS
    const renorm = (await stainField(out, SIZE, SIZE, stain, tiling)).ycc;
    for (let c = 0; c < 3; c++) {
      acc.f2n[c] += (255 * mad(renorm[c], ref[c])) / FIELDS;
      acc.f1[c] += (255 * mad(f1[c], ref[c])) / FIELDS;
      acc.f2[c] += (255 * mad(raw[c].map((v) => v + 0.5), ref[c])) / FIELDS;
    }
  }
  const f = (a: number[], k = 2) => a.map((v) => v.toFixed(k)).join(' ');
  console.log(`${String(d).padStart(4)} µm | ${acc.idAf.toFixed(3)} ${acc.drAf.toFixed(3)} | ${f(acc.out)} | ${f(acc.f1)} | ${f(acc.f2)} | ${f(acc.f2n)}`);
}
await stain.dispose();
await refocus.dispose();
