// The strips run in worker threads, which import the compiled dist/plugins/deconvolution/parallel.js:
// `npm test` builds it first; after editing this plugin, run `npx tsc -p tsconfig.build.json` before these tests.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { catalogFromPlugins, COMPUTE_SERVICE, createContainer, createStack, createWorkerPool, isFocalError, mulberry32, runOp, SERVICE_PROVIDER, type Stack, type Table, testContext, type WorkerPool } from '../../core/index.js';
import { bornWolfPsf } from '../../core/imaging.js';
import { convolve, landweber, richardsonLucy } from './deconvolve.js';
import { landweberOp } from './ops/landweber.js';
import { richardsonLucyOp } from './ops/richardson-lucy.js';
import { landweberInWorkers, PARALLEL_MIN_PLANE_PX, parallelStrips, planStrips, richardsonLucyInWorkers } from './parallel.js';

const N = 600;
const K = 17;
const dims = { width: N, height: N };
const pd = { width: K, height: K };
const psf = bornWolfPsf({ na: 0.75, refractiveIndex: 1, wavelengthUm: 0.53, pixelSizeUm: 0.325, defocusUm: 1.5, sizePx: K });

/** Nuclei-like blobs (one per ~900 px²) on a background of 30, blurred with the PSF, with noise. */
function blurredCells(w: number, h: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  const img = new Float32Array(w * h).fill(30);
  for (let k = 0; k < Math.round((w * h) / 900); k++) {
    const cx = r() * w;
    const cy = r() * h;
    const rad = 3 + r() * 6;
    const amp = 200 + r() * 600;
    for (let y = Math.max(0, Math.floor(cy - rad)); y <= Math.min(h - 1, Math.ceil(cy + rad)); y++) {
      for (let x = Math.max(0, Math.floor(cx - rad)); x <= Math.min(w - 1, Math.ceil(cx + rad)); x++) {
        const d = Math.hypot(x - cx, y - cy) / rad;
        if (d < 1) img[y * w + x] += amp * (1 - 0.5 * d * d);
      }
    }
  }
  const y = convolve(img, { width: w, height: h }, psf, pd);
  for (let i = 0; i < y.length; i++) y[i] = Math.max(0, y[i] + Math.sqrt(y[i]) * (r() + r() + r() - 1.5));
  return y;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let peak = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) peak = Math.max(peak, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / peak;
}

/** Root-mean-square difference relative to the peak of b. */
function rmsRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let peak = 0;
  let ss = 0;
  for (let i = 0; i < b.length; i++) {
    peak = Math.max(peak, Math.abs(b[i]));
    ss += (a[i] - b[i]) ** 2;
  }
  return Math.sqrt(ss / b.length) / peak;
}

/** A pool that counts the tasks it runs. */
function countingPool(pool: WorkerPool): WorkerPool & { calls: number } {
  const counted = {
    calls: 0,
    size: pool.size,
    run<T>(...args: Parameters<WorkerPool['run']>): Promise<T> {
      counted.calls++;
      return pool.run<T>(...args);
    },
    destroy: () => pool.destroy(),
  };
  return counted;
}

const image = blurredCells(N, N, 11);
const realPool = createWorkerPool({ threads: 2 });
afterAll(() => realPool.destroy());

describe('strip geometry', () => {
  it('one strip below the threshold or with one thread; strips overlap by the tile margin 2·(k − 1)', () => {
    expect(PARALLEL_MIN_PLANE_PX).toBe(512 * 512);
    expect(parallelStrips({ width: 511, height: 512 }, pd, 4)).toBe(1);
    expect(parallelStrips({ width: 512, height: 512 }, pd, 2)).toBe(2);
    expect(parallelStrips(dims, pd, 1)).toBe(1);
    expect(parallelStrips({ width: 1024, height: 1024 }, pd, 2, 5)).toBe(1); // too little work for the worker start-up
    expect(parallelStrips({ width: 1024, height: 1024 }, pd, 2, 100)).toBe(2);
    // each strip owns at least twice its margin: 600 rows, 65 px PSF (margin 128) → at most 2 strips
    expect(parallelStrips(dims, { width: 65, height: 65 }, 8)).toBe(2);
    const plan = planStrips(N, K, 3);
    expect(plan).toEqual([
      { y0: 0, y1: 232, own0: 0, own1: 200 },
      { y0: 168, y1: 432, own0: 200, own1: 400 },
      { y0: 368, y1: 600, own0: 400, own1: 600 },
    ]);
  });
});

describe('deconvolution in worker threads (2 strips) = single-threaded untiled run', () => {
  // 600², 17 px Born & Wolf PSF, 20 iterations, 2 strips of 332 rows. Measured max |Δ| / max:
  // RL 1.3e-6, Landweber 1.3e-6: stated tolerance 1e-4 of the peak (the engine's tiles: 2e-4).
  // RL-TV is ill-conditioned: ∇u/|∇u| flips where ∇u ≈ 0, so a perturbation of the data by
  // 1e-6 (relative) moves the single-threaded result by 1.3e-2 of the peak at a few pixels
  // (RMS 4.5e-5), and the engine's own tiles differ by 4e-3. Strips measured: max 6.1e-3,
  // RMS 3.0e-5 (16 of 360 000 pixels above 1e-3): stated tolerance max 2e-2, RMS 1e-4.
  const cases = [
    { name: 'RL', maxTol: 1e-4, rmsTol: 1e-5, run: (pool?: WorkerPool) => (pool ? richardsonLucyInWorkers(image, dims, psf, pd, { iterations: 20, pool, strips: 2 }) : richardsonLucy(image, dims, psf, pd, { iterations: 20 })) },
    { name: 'RL-TV', maxTol: 2e-2, rmsTol: 1e-4, run: (pool?: WorkerPool) => (pool ? richardsonLucyInWorkers(image, dims, psf, pd, { iterations: 20, tvLambda: 0.01, pool, strips: 2 }) : richardsonLucy(image, dims, psf, pd, { iterations: 20, tvLambda: 0.01 })) },
    { name: 'Landweber', maxTol: 1e-4, rmsTol: 1e-5, run: (pool?: WorkerPool) => (pool ? landweberInWorkers(image, dims, psf, pd, { iterations: 20, pool, strips: 2 }) : landweber(image, dims, psf, pd, { iterations: 20 })) },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const pool = countingPool(realPool);
      const full = await c.run();
      const par = await c.run(pool);
      expect(full.strips).toBeUndefined();
      expect(par.strips).toBe(2);
      expect(pool.calls).toBe(2);
      expect(par.image.length).toBe(N * N);
      const err = maxRelDiff(par.image, full.image);
      const rms = rmsRelDiff(par.image, full.image);
      // eslint-disable-next-line no-console
      console.log(`${c.name}: 2 strips in workers vs untiled: max |Δ| / max = ${err.toExponential(2)}, RMS / max = ${rms.toExponential(2)}`);
      expect(err).toBeLessThan(c.maxTol);
      expect(rms).toBeLessThan(c.rmsTol);
      // and not trivially: the result differs from the input
      expect(maxRelDiff(par.image, image)).toBeGreaterThan(0.05);
    });
  }

  it('a 3D volume is cut along y through every z plane', async () => {
    const w = 512;
    const h = 512;
    const depth = 3;
    const vol = new Float32Array(w * h * depth);
    for (let z = 0; z < depth; z++) vol.set(blurredCells(w, h, 20 + z), z * w * h);
    const psf3 = new Float32Array(K * K * 3);
    psf3.set(psf.map((v) => v * 0.3), 0);
    psf3.set(psf, K * K);
    psf3.set(psf.map((v) => v * 0.3), 2 * K * K);
    const d3 = { width: w, height: h, depth };
    const p3 = { width: K, height: K, depth: 3 };
    const full = landweber(vol, d3, psf3, p3, { iterations: 3 });
    const par = await landweberInWorkers(vol, d3, psf3, p3, { iterations: 3, pool: realPool, strips: 2 });
    expect(par.strips).toBe(2);
    const err = maxRelDiff(par.image, full.image);
    // eslint-disable-next-line no-console
    console.log(`3D Landweber: 2 strips in workers vs untiled: max |Δ| / max = ${err.toExponential(2)}`);
    // measured 3.5e-6
    expect(err).toBeLessThan(1e-4);
  });

  it('reports progress from inside the workers: per iteration of each strip, weighted by rows, monotonic, ending at 1', async () => {
    const fractions: number[] = [];
    const strips: number[] = [];
    const res = await landweberInWorkers(image, dims, psf, pd, { iterations: 6, pool: realPool, strips: 2, onStrip: (done) => strips.push(done), onProgress: (f) => fractions.push(f) });
    expect(res.strips).toBe(2);
    expect(strips).toEqual([1, 2]);
    // 2 strips × 6 iterations (steps of 1/6, all posted): 12 reports, each one a new value
    expect(fractions).toHaveLength(12);
    expect(fractions.filter((f) => f > 0 && f < 1)).toHaveLength(11);
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThan(fractions[i - 1]);
    expect(fractions.at(-1)).toBe(1);
    // the strips hold equal rows here: after both did 3 of 6 iterations the run is half done
    const plan = planStrips(N, K, 2);
    expect(plan[0].y1 - plan[0].y0).toBe(plan[1].y1 - plan[1].y0);
    expect(fractions.some((f) => Math.abs(f - 0.5) < 1e-12)).toBe(true);
    // on this thread (below the threshold) progress comes per iteration
    const small: number[] = [];
    await landweberInWorkers(image.subarray(0, 100 * 100), { width: 100, height: 100 }, psf, pd, { iterations: 4, pool: realPool, onProgress: (f) => small.push(f) });
    expect(small).toEqual([0.25, 0.5, 0.75, 1]);
  });

  it('stays on this thread with onIteration, below the threshold, and checks inputs before splitting', async () => {
    const pool = countingPool(realPool);
    const seen: number[] = [];
    const res = await richardsonLucyInWorkers(image, dims, psf, pd, { iterations: 3, pool, onIteration: (i) => seen.push(i) });
    expect(seen).toEqual([1, 2, 3]);
    expect(res.strips).toBeUndefined();
    const small = await richardsonLucyInWorkers(image.subarray(0, 100 * 100), { width: 100, height: 100 }, psf, pd, { iterations: 2, pool });
    expect(small.strips).toBeUndefined();
    const bad = image.slice();
    bad[12345] = Number.NaN;
    let err: unknown;
    try {
      await landweberInWorkers(bad, dims, psf, pd, { iterations: 2, pool, strips: 2 });
    } catch (e) {
      err = e;
    }
    expect(isFocalError(err) && `${err.code}:${err.details.field}`).toBe('E_ARGUMENT:image');
    expect((err as Error).message).toMatch(/value 12345 is NaN/);
    expect(pool.calls).toBe(0);
  });

  it('is cancellable: aborting stops the workers with E_CANCELLED', async () => {
    const controller = new AbortController();
    const t = Date.now();
    const p = richardsonLucyInWorkers(image, dims, psf, pd, { iterations: 100_000, pool: realPool, strips: 2, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    let err: unknown;
    try {
      await p;
    } catch (e) {
      err = e;
    }
    expect(isFocalError(err) && err.code).toBe('E_CANCELLED');
    expect(Date.now() - t).toBeLessThan(20_000);
  });
});

describe('ops with a worker pool from the host (DI)', () => {
  const container = createContainer({ catalog: catalogFromPlugins([]), threads: 2 });
  const services = container.resolve(SERVICE_PROVIDER);
  afterAll(() => services.resolve(COMPUTE_SERVICE).workers.destroy());
  const stack = (data: Float32Array, w = N, h = N) => createStack({ width: w, height: h, dtype: 'float32', planes: [data], calibration: { pixelWidthUm: 0.325, pixelHeightUm: 0.325 } });
  const psfStack = createStack({ width: K, height: K, dtype: 'float32', planes: [psf] });

  it('without a reference, a large plane runs in strips on the host pool (progress from inside the workers), equal to the function', async () => {
    const workers = services.resolve(COMPUTE_SERVICE).workers;
    const spy = vi.spyOn(workers, 'run');
    const ctx = testContext({ services });
    try {
      // 80 iterations: enough work (N² × 80 ≥ PARALLEL_MIN_WORK) for the op to use the workers
      const out = await runOp(richardsonLucyOp, { image: stack(image), psf: psfStack }, { iterations: 80 }, ctx);
      expect(spy).toHaveBeenCalledTimes(2);
      // each strip reports its 80 iterations (steps of 1.25 %, none held back by the 1 % throttle): many intermediate values, monotonic, ending at 1
      const fractions = ctx.progressCalls.map((c) => c.fraction);
      expect(fractions.filter((f) => f > 0 && f < 1).length).toBeGreaterThanOrEqual(100);
      for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
      expect(fractions.at(-1)).toBe(1);
      expect(new Set(ctx.progressCalls.map((c) => c.label))).toEqual(new Set(['volume 1/1, 2 strips in workers']));
      const res = (out.image as Stack).planes[0] as Float32Array;
      expect(maxRelDiff(res, richardsonLucy(image, dims, psf, pd, { iterations: 80 }).image)).toBeLessThan(1e-4);
      // too little work (10 iterations) stays on this thread
      spy.mockClear();
      await runOp(richardsonLucyOp, { image: stack(image), psf: psfStack }, { iterations: 10 }, ctx);
      expect(spy).not.toHaveBeenCalled();
      // zero padding stays on this thread (kept exact for the comparison with scikit-image)
      spy.mockClear();
      await runOp(landweberOp, { image: stack(image), psf: psfStack }, { iterations: 2, boundary: 'zero' }, ctx);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('with a reference, runs on this thread and reports stats after every iteration', async () => {
    const workers = services.resolve(COMPUTE_SERVICE).workers;
    const spy = vi.spyOn(workers, 'run');
    const ctx = testContext({ services });
    try {
      const w = 512;
      const img = blurredCells(w, w, 5);
      const ref = img.map((v) => v * 1.01 + 1);
      const out = await runOp(landweberOp, { image: stack(img, w, w), psf: psfStack, reference: stack(ref, w, w) }, { iterations: 3 }, ctx);
      expect(spy).not.toHaveBeenCalled();
      const stats = out.stats as Table;
      expect(stats.columns).toEqual(['iteration', 'psnr', 'ssim']);
      expect(stats.rows.map((r) => r.iteration)).toEqual([1, 2, 3]);
      expect(stats.rows.every((r) => Number.isFinite(r.psnr as number) && (r.ssim as number) > 0)).toBe(true);
      expect(ctx.progressCalls).toHaveLength(3);
    } finally {
      spy.mockRestore();
    }
  });
});
