/**
 * Held-out evaluation of a Deep-R model against classical deconvolution given the true PSF
 * (the paper's Fig. 3 comparison, on synthetic data where the truth is known).
 */
import { FocalError, SeededRandom } from '../../core/index.js';
import { bornWolfHalfSizePx, bornWolfPsf, cropBorder, psnr, ssim, standardise } from '../../core/imaging.js';
import { createInferenceEngine, type ModelPackage, selfEnsemble } from '../../core/ml.js';
import type { DeepRDpmPackage } from './package.js';
import { SYNTHETIC_DEFAULTS, syntheticPair, type SourceImage, type TrainingPair } from './data.js';

/** 'deepr': one pass of the network; 'deepr-x8': the mean over the 8 flips/rotations ({@link selfEnsemble}). */
export const EVALUATION_METHODS = ['input', 'deepr', 'deepr-x8', 'richardson-lucy', 'landweber'] as const;
export type EvaluationMethod = (typeof EVALUATION_METHODS)[number];

/**
 * A classical iterative deconvolution the evaluation compares against (the deconvolution
 * plugin's Richardson–Lucy and Landweber; the caller passes them in, so this plugin does not
 * import another plugin). It must call `onIteration(it, estimate)` after every iteration.
 */
export type IterativeDeconvolver = (
  data: Float32Array,
  dims: { width: number; height: number; depth: number },
  psf: Float32Array,
  psfDims: { width: number; height: number; depth: number },
  options: { iterations: number; onIteration: (iteration: number, estimate: Float32Array) => void },
) => unknown;

export interface EvaluateOptions {
  /** The classical baselines, given the true PSF. */
  deconvolvers: Record<'richardson-lucy' | 'landweber', IterativeDeconvolver>;
  /** Defocus distances to test, µm. */
  defocusUm: number[];
  /** Pairs per defocus distance (random crops of the sources, fresh noise). */
  pairsPerDefocus: number;
  /** Side of the evaluated crops, px (multiple of 32). */
  patchPx: number;
  /** Iteration counts tried for RL and Landweber; at each defocus the best (highest mean SSIM) is reported. */
  deconvolutionIterations: number[];
  /**
   * In-focus images on which RL's and Landweber's iteration counts are chosen (at each defocus,
   * the count with the best mean SSIM on `pairsPerDefocus` pairs from these), so that the
   * held-out images only measure: the same rule as choosing a network's checkpoint on validation
   * data. Without them the count is chosen on the held-out pairs themselves (an oracle choice
   * that favours the classical methods). Rows always report the oracle too.
   */
  tuningSources?: SourceImage[];
  /** Pixels left out at each edge when scoring (the paper crops 10 px for its RL/Landweber comparison). Default 10. */
  borderPx?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluationRow {
  defocusUm: number;
  method: EvaluationMethod;
  /** Mean over the pairs. */
  ssim: number;
  psnr: number;
  /** Standard deviation over the pairs. */
  ssimSd: number;
  psnrSd: number;
  /** For RL and Landweber: the iteration count used (chosen on the tuning images, or the oracle count without them). */
  iterations?: number;
  /** For RL and Landweber: the count with the best mean SSIM on these pairs, and its scores. */
  oracleIterations?: number;
  oracleSsim?: number;
  oraclePsnr?: number;
  /** The per-pair scores behind the means (same pairs, in the same order, for every method: paired comparisons). */
  ssimPerPair: number[];
  psnrPerPair: number[];
}

export interface EvaluationResult {
  rows: EvaluationRow[];
  /** One example pair per defocus (the first) with each method's output, normalised. */
  examples: { defocusUm: number; target: Float32Array; outputs: Record<EvaluationMethod, Float32Array> }[];
}

/**
 * SSIM and PSNR of `image` against `target` with `borderPx` left out at each edge, both
 * normalised to zero mean and unit variance first (each method's output has its own scale: the
 * network predicts a normalised image, RL/Landweber keep photo-electrons), with the normalised
 * target's max − min as data range.
 */
export function normalisedScores(image: ArrayLike<number>, target: ArrayLike<number>, width: number, height: number, borderPx = 0): { ssim: number; psnr: number } {
  const ci = cropBorder(image, width, height, borderPx);
  const a = standardise(ci.data).data;
  const b = standardise(cropBorder(target, width, height, borderPx).data).data;
  width = ci.width;
  height = ci.height;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of b) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const dataRange = hi - lo;
  return { ssim: ssim(a, b, width, height, { dataRange }), psnr: psnr(a, b, { dataRange }) };
}

const meanSd = (v: number[]): [number, number] => {
  const m = v.reduce((s, x) => s + x, 0) / v.length;
  return [m, Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(1, v.length - 1))];
};

/**
 * Images held-out in-focus sources at each defocus (the training simulator: Born & Wolf PSF,
 * NA 0.75, n 1.0, 0.53 µm, 0.325 µm px, Poisson–Gaussian noise; target = the noisy in-focus
 * image) and scores the defocused input, the Deep-R output, and Richardson–Lucy and Landweber
 * deconvolution with the exact PSF used for the simulation at the best of the given iteration
 * counts (an oracle choice that favours the classical methods).
 */
export async function evaluateAutofocus(pkg: ModelPackage, sources: SourceImage[], options: EvaluateOptions): Promise<EvaluationResult> {
  const { patchPx } = options;
  const border = options.borderPx ?? 10;
  if (patchPx % 32 !== 0) throw new FocalError('E_ARGUMENT', `patchPx: ${patchPx} is not a multiple of 32`, { field: 'patchPx' });
  if (options.deconvolutionIterations.length === 0) throw new FocalError('E_ARGUMENT', 'deconvolutionIterations: give at least one count', { field: 'deconvolutionIterations' });
  const o = SYNTHETIC_DEFAULTS;
  const maxAbs = Math.max(...options.defocusUm.map(Math.abs));
  const psfSizePx = 2 * bornWolfHalfSizePx({ na: o.na, refractiveIndex: o.refractiveIndex, wavelengthUm: o.wavelengthUm, pixelSizeUm: o.pixelSizeUm, maxDefocusUm: maxAbs }) + 1;
  const counts = [...options.deconvolutionIterations].sort((a, b) => a - b);
  const maxIt = counts[counts.length - 1];
  const engine = await createInferenceEngine(pkg, { engine: 'auto' });
  const rows: EvaluationRow[] = [];
  const examples: EvaluationResult['examples'] = [];
  const total = options.defocusUm.length * options.pairsPerDefocus;
  let done = 0;
  try {
    for (const dz of options.defocusUm) {
      const rng = new SeededRandom((options.seed ?? 1) * 7919 + Math.round(dz * 1000));
      const psf = bornWolfPsf({ na: o.na, refractiveIndex: o.refractiveIndex, wavelengthUm: o.wavelengthUm, pixelSizeUm: o.pixelSizeUm, sizePx: psfSizePx, defocusUm: Math.abs(dz) });
      const scores: Record<string, { ssim: number[]; psnr: number[] }> = {};
      /** Runs RL or Landweber with the true PSF for `maxIt` iterations, calling `at` at each of the counts. */
      const deconvolve = (method: 'richardson-lucy' | 'landweber', pair: TrainingPair, at: (it: number, est: Float32Array) => void) => {
        const onIteration = (it: number, est: Float32Array) => {
          if (counts.includes(it)) at(it, est);
        };
        // the input is in photo-electrons with a small background; both methods need x ≥ 0 data
        const data = Float32Array.from(pair.input, (v) => Math.max(v, 0));
        const dims = { width: patchPx, height: patchPx, depth: 1 };
        const psfDims = { width: psfSizePx, height: psfSizePx, depth: 1 };
        options.deconvolvers[method](data, dims, psf, psfDims, { iterations: maxIt, onIteration });
      };
      const add = (key: string, s: { ssim: number; psnr: number }) => {
        (scores[key] ??= { ssim: [], psnr: [] }).ssim.push(s.ssim);
        scores[key].psnr.push(s.psnr);
      };
      // the iteration counts chosen on the tuning images (before any held-out pair is drawn)
      const tuned: Partial<Record<'richardson-lucy' | 'landweber', number>> = {};
      if (options.tuningSources) {
        const trng = new SeededRandom((options.seed ?? 1) * 104729 + Math.round(dz * 1000));
        const t: Record<string, number[]> = {};
        for (let k = 0; k < options.pairsPerDefocus; k++) {
          const pair = syntheticPair(options.tuningSources, patchPx, trng, {}, dz);
          for (const method of ['richardson-lucy', 'landweber'] as const) {
            deconvolve(method, pair, (it, est) => (t[`${method}@${it}`] ??= []).push(normalisedScores(est, pair.target, patchPx, patchPx, border).ssim));
          }
        }
        for (const method of ['richardson-lucy', 'landweber'] as const) tuned[method] = counts.reduce((b, c) => (meanSd(t[`${method}@${c}`])[0] > meanSd(t[`${method}@${b}`])[0] ? c : b), counts[0]);
      }
      for (let k = 0; k < options.pairsPerDefocus; k++) {
        const pair: TrainingPair = syntheticPair(sources, patchPx, rng, {}, dz);
        add('input', normalisedScores(pair.input, pair.target, patchPx, patchPx, border));
        const n = standardise(pair.input);
        const predict = async (d: Float32Array, w: number, h: number) => (await engine.run(d, [1, h, w, 1])).data;
        const out = await predict(n.data, patchPx, patchPx);
        add('deepr', normalisedScores(out, pair.target, patchPx, patchPx, border));
        const outX8 = await selfEnsemble(n.data, patchPx, patchPx, 'dihedral8', predict, out);
        add('deepr-x8', normalisedScores(outX8, pair.target, patchPx, patchPx, border));
        const kept: Partial<Record<EvaluationMethod, Float32Array>> = {};
        for (const method of ['richardson-lucy', 'landweber'] as const) {
          let best = { s: -Infinity, img: new Float32Array(0) };
          deconvolve(method, pair, (it, est) => {
            const s = normalisedScores(est, pair.target, patchPx, patchPx, border);
            add(`${method}@${it}`, s);
            // the example shows the count that is reported (tuned, else the best for this pair)
            if (k === 0 && (tuned[method] === undefined ? s.ssim > best.s : it === tuned[method])) best = { s: s.ssim, img: Float32Array.from(est) };
          });
          kept[method] = best.img;
        }
        if (k === 0) {
          examples.push({
            defocusUm: dz,
            target: standardise(pair.target).data,
            outputs: { input: n.data, deepr: standardise(out).data, 'deepr-x8': standardise(outX8).data, 'richardson-lucy': standardise(kept['richardson-lucy']!).data, landweber: standardise(kept.landweber!).data },
          });
        }
        options.onProgress?.(++done, total);
      }
      for (const method of EVALUATION_METHODS) {
        let key: string = method;
        let extra: Partial<EvaluationRow> = {};
        if (method === 'richardson-lucy' || method === 'landweber') {
          // the count with the best mean SSIM on these pairs (oracle), and the one used
          const oracle = counts.reduce((b, c) => (meanSd(scores[`${method}@${c}`].ssim)[0] > meanSd(scores[`${method}@${b}`].ssim)[0] ? c : b), counts[0]);
          const iterations = tuned[method] ?? oracle;
          key = `${method}@${iterations}`;
          extra = { iterations, oracleIterations: oracle, oracleSsim: meanSd(scores[`${method}@${oracle}`].ssim)[0], oraclePsnr: meanSd(scores[`${method}@${oracle}`].psnr)[0] };
        }
        const [sm, ss] = meanSd(scores[key].ssim);
        const [pm, ps] = meanSd(scores[key].psnr);
        rows.push({ defocusUm: dz, method, ssim: sm, psnr: pm, ssimSd: ss, psnrSd: ps, ...extra, ssimPerPair: scores[key].ssim, psnrPerPair: scores[key].psnr });
      }
    }
  } finally {
    await engine.dispose();
  }
  return { rows, examples };
}

export interface DefocusMapRow {
  defocusUm: number;
  /** Mean over pairs of each map's mean, µm. */
  predictedUm: number;
  /** Standard deviation over pairs of each map's mean, µm. */
  predictedSdUm: number;
  /** Mean over pairs of the per-pixel absolute error against the target (|Δz| or Δz, as the DPM was trained), µm. */
  pixelMaeUm: number;
}

/**
 * Runs a DPM package (deepr.defocus-map's model) on held-out synthetic pairs at each defocus
 * and compares its per-pixel output with the true defocus (its magnitude when the package's
 * `extra.dpmTarget` is 'absolute').
 */
export async function evaluateDefocusMap(dpm: DeepRDpmPackage, sources: SourceImage[], options: Pick<EvaluateOptions, 'defocusUm' | 'pairsPerDefocus' | 'patchPx' | 'seed'>): Promise<DefocusMapRow[]> {
  const absolute = dpm.manifest.extra.dpmTarget === 'absolute';
  const engine = await createInferenceEngine(dpm, { engine: 'auto' });
  const rows: DefocusMapRow[] = [];
  const P = options.patchPx;
  try {
    for (const dz of options.defocusUm) {
      const rng = new SeededRandom((options.seed ?? 1) * 7919 + Math.round(dz * 1000));
      const truth = absolute ? Math.abs(dz) : dz;
      const means: number[] = [];
      let mae = 0;
      for (let k = 0; k < options.pairsPerDefocus; k++) {
        const pair = syntheticPair(sources, P, rng, {}, dz);
        const map = (await engine.run(standardise(pair.input).data, [1, P, P, 1])).data;
        let s = 0;
        let e = 0;
        for (const v of map) {
          s += v;
          e += Math.abs(v - truth);
        }
        means.push(s / map.length);
        mae += e / map.length;
      }
      const [m, sd] = meanSd(means);
      rows.push({ defocusUm: dz, predictedUm: m, predictedSdUm: sd, pixelMaeUm: mae / options.pairsPerDefocus });
    }
  } finally {
    await engine.dispose();
  }
  return rows;
}
