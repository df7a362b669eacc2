import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGenerator } from './model.js';
import { evaluateAutofocus, normalisedScores } from './evaluate.js';
import { getTf } from './tf.js';
import { loadDeepRPackage, saveDeepRPackage } from './package.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

/** Bright discs on a dark background: an in-focus specimen with edges that blur visibly. */
function discs(n: number): Float32Array {
  const a = new Float32Array(n * n);
  for (let k = 0; k < 40; k++) {
    const cx = (k * 37) % n;
    const cy = (k * 61) % n;
    const r = 3 + (k % 4);
    for (let y = Math.max(0, cy - r); y < Math.min(n, cy + r + 1); y++) for (let x = Math.max(0, cx - r); x < Math.min(n, cx + r + 1); x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) a[y * n + x] = 100;
  }
  return a;
}

/**
 * Small direct-convolution Richardson–Lucy and Landweber for these tests (the deconvolution
 * plugin's FFT versions are the real baselines; scripts/evaluate-deepr.ts passes those to plugins/deepr/tools/evaluate.ts).
 */
function convolveSame(img: Float32Array, w: number, h: number, psf: Float32Array, pw: number, ph: number, flip: boolean): Float32Array {
  const out = new Float32Array(w * h);
  const cx = pw >> 1;
  const cy = ph >> 1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let j = 0; j < ph; j++) {
        const yy = y + (flip ? j - cy : cy - j);
        if (yy < 0 || yy >= h) continue;
        for (let i = 0; i < pw; i++) {
          const xx = x + (flip ? i - cx : cx - i);
          if (xx >= 0 && xx < w) acc += img[yy * w + xx] * psf[j * pw + i];
        }
      }
      out[y * w + x] = acc;
    }
  return out;
}
type Dims = { width: number; height: number; depth: number };
type IterOptions = { iterations: number; onIteration: (it: number, est: Float32Array) => void };
const testDeconvolvers = {
  'richardson-lucy': (data: Float32Array, d: Dims, psf: Float32Array, p: Dims, o: IterOptions) => {
    let est = new Float32Array(data.length).fill(data.reduce((a, b) => a + b, 0) / data.length);
    for (let it = 1; it <= o.iterations; it++) {
      const blurred = convolveSame(est, d.width, d.height, psf, p.width, p.height, false);
      const ratio = data.map((v, i) => v / Math.max(blurred[i], 1e-6));
      const corr = convolveSame(ratio, d.width, d.height, psf, p.width, p.height, true);
      est = est.map((v, i) => v * corr[i]);
      o.onIteration(it, est);
    }
  },
  landweber: (data: Float32Array, d: Dims, psf: Float32Array, p: Dims, o: IterOptions) => {
    let est = Float32Array.from(data);
    for (let it = 1; it <= o.iterations; it++) {
      const blurred = convolveSame(est, d.width, d.height, psf, p.width, p.height, false);
      const grad = convolveSame(data.map((v, i) => v - blurred[i]), d.width, d.height, psf, p.width, p.height, true);
      est = est.map((v, i) => Math.max(0, v + grad[i]));
      o.onIteration(it, est);
    }
  },
};

describe('normalisedScores', () => {
  it('ignores offset and scale, leaves out the border, and is 1 / ∞ for the same image', () => {
    const n = 48;
    const img = discs(n);
    const same = normalisedScores(img, img, n, n);
    expect(same.ssim).toBeCloseTo(1, 12);
    expect(same.psnr).toBe(Infinity);
    const noisy = img.map((v, i) => v + ((i * 7919) % 13) - 6);
    const a = normalisedScores(noisy, img, n, n);
    const b = normalisedScores(noisy.map((v) => 3 * v + 50), img, n, n);
    expect(b.ssim).toBeCloseTo(a.ssim, 10);
    expect(b.psnr).toBeCloseTo(a.psnr, 8);
    // damage only the outer 10 px: with borderPx 10 the score is perfect again
    const edged = Float32Array.from(img);
    for (let i = 0; i < n; i++) edged[i] = edged[i * n] = 1000;
    expect(normalisedScores(edged, img, n, n).ssim).toBeLessThan(0.99);
    expect(normalisedScores(edged, img, n, n, 10).ssim).toBeCloseTo(1, 12);
  });
});

describe('evaluateAutofocus', () => {
  it('scores input, Deep-R (one pass and ×8 self-ensemble), RL and Landweber per defocus, picking the best of the given iteration counts', async () => {
    const { tf } = await getTf();
    const generator = buildGenerator(tf, { baseChannels: 4, seed: 3 });
    const out = await mkdtemp(join(tmpdir(), 'deepr-eval-'));
    dirs.push(out);
    const dir = join(out, 'model');
    await saveDeepRPackage(dir, generator, {
      name: 'deepr-eval-test', baseChannels: 4, levels: 5, patchPx: 64, iterations: 0, bestIteration: 0, bestValidationBerhu: 1,
      pixelSizeUm: 0.325, objectiveNa: 0.75, defocusRangeUm: [-5, 5], command: 'test', data: 'test',
    });
    const { autofocus } = await loadDeepRPackage(dir);
    const n = 160;
    const { rows, examples } = await evaluateAutofocus(autofocus, [{ data: discs(n), width: n, height: n }], {
      deconvolvers: testDeconvolvers, defocusUm: [0, 4], pairsPerDefocus: 2, patchPx: 64, deconvolutionIterations: [2, 8], seed: 1,
    });
    expect(rows).toHaveLength(10);
    expect(examples.map((e) => e.defocusUm)).toEqual([0, 4]);
    const at = (m: string, d: number) => rows.find((r) => r.method === m && r.defocusUm === d)!;
    for (const r of rows) {
      expect(Number.isFinite(r.ssim) && r.ssim <= 1).toBe(true);
      if (r.method === 'richardson-lucy' || r.method === 'landweber') expect([2, 8]).toContain(r.iterations);
      else expect(r.iterations).toBeUndefined();
    }
    // 4 µm of defocus degrades the input; deconvolution with the true PSF recovers part of it
    expect(at('input', 4).ssim).toBeLessThan(at('input', 0).ssim - 0.1);
    expect(at('richardson-lucy', 4).ssim).toBeGreaterThan(at('input', 4).ssim);
    expect(examples[1].outputs.deepr).toHaveLength(64 * 64);
    expect(examples[1].outputs['deepr-x8']).toHaveLength(64 * 64);
    expect(at('deepr-x8', 4).ssim).not.toBe(at('deepr', 4).ssim);
    // per-pair scores behind each mean (paired across methods); without tuning images the count used is the oracle's
    for (const r of rows) {
      expect(r.ssimPerPair).toHaveLength(2);
      expect(r.ssim).toBeCloseTo((r.ssimPerPair[0] + r.ssimPerPair[1]) / 2, 12);
      if (r.iterations !== undefined) {
        expect(r.oracleIterations).toBe(r.iterations);
        expect(r.oracleSsim).toBeCloseTo(r.ssim, 12);
      }
    }

    // counts chosen on other images: the held-out scores are those of the tuned count, never above the oracle's
    const shifted = discs(n).map((_, i, a) => a[(i + 17 * n + 5) % a.length]);
    const tuned = await evaluateAutofocus(autofocus, [{ data: discs(n), width: n, height: n }], {
      deconvolvers: testDeconvolvers, defocusUm: [4], pairsPerDefocus: 2, patchPx: 64, deconvolutionIterations: [1, 3, 10], seed: 1, tuningSources: [{ data: shifted, width: n, height: n }],
    });
    for (const r of tuned.rows.filter((x) => x.iterations !== undefined)) {
      expect([1, 3, 10]).toContain(r.iterations);
      expect([1, 3, 10]).toContain(r.oracleIterations);
      expect(r.oracleSsim!).toBeGreaterThanOrEqual(r.ssim - 1e-12);
      if (r.iterations === r.oracleIterations) expect(r.oracleSsim).toBeCloseTo(r.ssim, 12);
    }
    // direct-convolution deconvolvers with a 4 µm PSF: 15 s alone on a 2-core AVX2 machine (30 s with counts up to 30, and 64 s beside
    // another test file, past the default 60 s)
  }, 150_000);
});
