/**
 * Deep-R on images of another pixel size (`deepr.autofocus` param `resample`): the same physical
 * fields (an 83.2 µm square of each held-out family) rendered and imaged with the demo model's
 * optics (Born & Wolf, 0.75 NA, n 1.0, 0.53 µm; Poisson–Gaussian noise, 1.5 e⁻ read noise, uint16
 * counts) at camera pixels other than the 0.325 µm the model was trained on, at |Δz| ∈ {1, 2, 3}
 * µm, each plane calibrated with its true pixel size. Methods: the input; `deepr.autofocus` with
 * `resample: 'off'` (the plane fed as it is: a defocus spans another number of pixels than the
 * network learned), `'always'` (refocused on the model's grid, the output resampled back) and
 * `'auto'` (the default: 'off' up to 2× coarser or under 2× finer than the model's pixels, else
 * 'always'; taken from the op's own rule, `deeprGrid`). Scored against the noise-free in-focus object at the same pixels (PSNR after
 * zero-mean unit-variance normalisation, SSIM; a 3.25 µm border left out), paired over fields
 * with bootstrap 95 % intervals.
 *
 *   npx tsc -p tsconfig.build.json && node dist/plugins/deepr/tools/evaluate-pixel-size.js [--fields 4] [--ensemble none] [--out plugins/deepr/docs]
 *
 * Writes <out>/pixel-size.md, <out>/img/deepr-pixel-size.csv and -psnr.png / -ssim.png (the mean
 * over |Δz| against the pixel size, each method); prints the table.
 */
import { join } from 'node:path';
import { createStack, pairedDifference, renderLinePlot, testContext, writeFileAtomic, type Series, type Stack } from '../../../core/index.js';
import { defocusSeries } from '../../../core/imaging.js';
import { renderSpecimen } from '../../../core/specimens.js';
import { normalisedScores } from '../evaluate.js';
import { autofocus, deeprGrid, FED_AS_IS_RATIO } from '../ops/autofocus.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const FIELDS = Number(flag('fields', '4'));
if (!Number.isInteger(FIELDS) || FIELDS < 2) throw new Error(`--fields: must be an integer ≥ 2, got ${flag('fields', '')}`);
const ENSEMBLE = flag('ensemble', 'none');
if (ENSEMBLE !== 'none' && ENSEMBLE !== 'dihedral8') throw new Error(`--ensemble: 'none' or 'dihedral8', got ${ENSEMBLE}`);
const OUT = flag('out', 'plugins/deepr/docs');

const FIELD_UM = 83.2;
const BORDER_UM = 3.25;
const TRAINED_PX = 0.325;
/** Camera pixels (µm): a third, half, 2/3, the model's, 1.5×, twice and three times; 256 px at the model's. */
const PIXEL_SIZES_UM = [0.1083, 0.1625, 0.2167, 0.325, 0.4875, 0.65, 0.975];
const DZ_UM = [1, 2, 3];
const FAMILIES = ['disc', 'actin', 'microtubules'];
const OPTICS = { na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53 };
const METHODS = ['input', 'off', 'auto', 'always'] as const;
type Method = (typeof METHODS)[number];

const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const scores: Record<string, { psnr: number; ssim: number }[]> = {};
const key = (px: number, dz: number, m: Method) => `${px}|${dz}|${m}`;
const t0 = performance.now();
for (const px of PIXEL_SIZES_UM) {
  const n = Math.round(FIELD_UM / px);
  const border = Math.round(BORDER_UM / px);
  for (const family of FAMILIES) {
    for (let seed = 1; seed <= FIELDS; seed++) {
      const r = renderSpecimen({ family, widthPx: n, heightPx: n, pixelSizeUm: px, seed });
      if (r.modality !== 'fluorescence') throw new Error(`${family}: not a fluorescence family`);
      let peak = 0;
      for (const v of r.image) peak = Math.max(peak, v);
      const planes = defocusSeries(r.image, n, n, { ...OPTICS, pixelSizeUm: px, defocusUm: DZ_UM, photons: peak, readNoiseE: 1.5, seed }).map((p) => Float32Array.from(p.image, (v) => Math.min(65535, Math.max(0, Math.round(v)))));
      const stack: Stack = createStack({ width: n, height: n, dtype: 'float32', sizeZ: DZ_UM.length, planes, calibration: { pixelWidthUm: px, pixelHeightUm: px } });
      const run = async (resample: 'off' | 'auto' | 'always') => ((await autofocus.run(testContext(), { image: stack }, autofocus.params.parse({ safety: 'off', ensemble: ENSEMBLE, resample }))) as { image: Stack }).image;
      const off = await run('off');
      const always = px === TRAINED_PX ? off : await run('always');
      // 'auto' is whichever of the two the op picks for this calibration
      const auto = deeprGrid({ pixelWidthUm: px }, { name: 'demo', pixelSizeUm: TRAINED_PX }, 'auto', 'autofocus').scale === 1 ? off : always;
      const out = { input: stack, off, always, auto };
      DZ_UM.forEach((dz, k) => {
        for (const m of METHODS) (scores[key(px, dz, m)] ??= []).push(normalisedScores(out[m].planes[k], r.image, n, n, border));
      });
    }
  }
  console.error(`${px} µm pixels (${n} px fields): ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const f = (v: number, d = 2) => v.toFixed(d);
const sgn = (v: number, d = 2) => `${v >= 0 ? '+' : ''}${v.toFixed(d)}`;
const csv = ['pixelSizeUm,defocusUm,method,psnr,ssim,fields'];
const lines = [
  '# Deep-R at other pixel sizes (`resample`)',
  '',
  `\`node dist/plugins/deepr/tools/evaluate-pixel-size.js${argv.length ? ` ${argv.join(' ')}` : ''}\` (${new Date().toISOString().slice(0, 10)}, ${((performance.now() - t0) / 1000).toFixed(0)} s on this 2-core machine; the tool's header says how the images are made). The demo model was trained on ${TRAINED_PX} µm pixels. Each row: ${FAMILIES.length} held-out fluorescence families (${FAMILIES.join(', ')}) × ${FIELDS} fields of ${FIELD_UM} µm, ensemble '${ENSEMBLE}', safety 'off'. "off": the plane fed as it is (\`resample: 'off'\`, a warning); "always": on the model's grid, the output resampled back; "auto" (the default): "off" for pixels up to ${FED_AS_IS_RATIO}× coarser or under ${FED_AS_IS_RATIO}× finer than the model's, else "always". PSNR (dB) after zero-mean unit-variance normalisation; Δ paired per field, 95 % bootstrap interval.`,
  '',
  '| pixel (µm) | field (px) | abs Δz (µm) | input PSNR / SSIM | off | always | always − off, dB | auto − input, dB |',
  '|---|---|---|---|---|---|---|---|',
];
for (const px of PIXEL_SIZES_UM) {
  for (const dz of DZ_UM) {
    const get = (m: Method) => scores[key(px, dz, m)];
    for (const m of METHODS) csv.push([px, dz, m, f(mean(get(m).map((s) => s.psnr)), 3), f(mean(get(m).map((s) => s.ssim)), 4), get(m).length].join(','));
    const cell = (m: Method) => `${f(mean(get(m).map((s) => s.psnr)))} / ${f(mean(get(m).map((s) => s.ssim)), 3)}`;
    const d = (a: Method, b: Method) => {
      const p = pairedDifference(get(a).map((s) => s.psnr), get(b).map((s) => s.psnr), { seed: 1 });
      return `${sgn(p.mean)} [${sgn(p.lo)}, ${sgn(p.hi)}]`;
    };
    lines.push(`| ${px} | ${Math.round(FIELD_UM / px)} | ${dz} | ${cell('input')} | ${cell('off')} | ${cell('always')} | ${px === TRAINED_PX ? '(the same)' : d('always', 'off')} | ${d('auto', 'input')} |`);
  }
}
lines.push('');
const COLOURS: Record<Method, [number, number, number]> = { input: [120, 120, 120], off: [220, 0, 0], always: [0, 110, 220], auto: [0, 160, 60] };
const LABELS: Record<Method, string> = { input: 'input', off: 'as it is (off)', always: 'on the model grid (always)', auto: 'auto (default)' };
for (const k of ['psnr', 'ssim'] as const) {
  const series: Series[] = METHODS.map((m) => ({ label: LABELS[m], colour: COLOURS[m], x: PIXEL_SIZES_UM, y: PIXEL_SIZES_UM.map((px) => mean(DZ_UM.map((dz) => mean(scores[key(px, dz, m)].map((s) => s[k]))))) }));
  await writeFileAtomic(join(OUT, 'img', `deepr-pixel-size-${k}.png`), renderLinePlot(series, 800, 400, { logY: false, markers: true, xTitle: `camera pixel (µm), model: ${TRAINED_PX}`, yTitle: k === 'psnr' ? 'PSNR (dB), mean over 1-3 µm' : 'SSIM, mean over 1-3 µm' }), { mkdir: true });
}
lines.push(`![PSNR against pixel size](img/deepr-pixel-size-psnr.png) ![SSIM against pixel size](img/deepr-pixel-size-ssim.png)`, '');
await writeFileAtomic(join(OUT, 'img', 'deepr-pixel-size.csv'), `${csv.join('\n')}\n`, { mkdir: true });
await writeFileAtomic(join(OUT, 'pixel-size.md'), `${lines.join('\n')}\n`, { mkdir: true });
console.log(lines.join('\n'));
