/**
 * `resample` of the Deep-R ops: an image whose calibration gives another pixel size than the
 * model's is processed on the model's grid (finer pixels; 'always' also coarser) and the output
 * resampled back to the image's pixels; 'off' feeds it as it is, with a warning.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStack, runOp, testContext, type Stack } from '../../../core/index.js';
import { destandardise, resamplePlane, standardise } from '../../../core/imaging.js';
import { deeprPlugin } from '../index.js';
import { autofocus } from './autofocus.js';
import { buildGenerator } from '../model.js';
import { saveDeepRPackage } from '../package.js';
import { getTf } from '../tf.js';

const op = (id: string) => deeprPlugin.operations.find((o) => o.id === id)!;
let root = '';
let dir = '';
let generator: ReturnType<typeof buildGenerator>;
let tf: Awaited<ReturnType<typeof getTf>>['tf'];

beforeAll(async () => {
  ({ tf } = await getTf());
  generator = buildGenerator(tf, { baseChannels: 2, seed: 7 });
  root = await mkdtemp(join(tmpdir(), 'deepr-resample-'));
  dir = join(root, 'model');
  await saveDeepRPackage(dir, generator, {
    name: 'deepr-grid-test', baseChannels: 2, levels: 5, patchPx: 64, iterations: 0, bestIteration: 0, bestValidationBerhu: 1,
    pixelSizeUm: 0.325, objectiveNa: 0.75, defocusRangeUm: [-5, 5], command: 'test', data: 'test', exportOnnx: false,
  });
});
afterAll(async () => { await rm(root, { recursive: true, force: true }); });

function cells(n: number): Float32Array {
  const a = new Float32Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) a[y * n + x] = 200 + 80 * Math.sin(x / 3) * Math.cos(y / 4) + 30 * Math.sin((x * y) / 90);
  return a;
}
const image = (n: number, px: number) => createStack({ width: n, height: n, dtype: 'float32', planes: [cells(n)], calibration: { pixelWidthUm: px, pixelHeightUm: px } });
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => { let d = 0; for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i])); return d; };
const params = { engine: 'tfjs', overlapPx: 0, safety: 'off' };

describe('deepr.autofocus resample', () => {
  it("'always': the network on the model's grid, the output resampled back to the image's pixels (equals doing it by hand)", async () => {
    const ctx = testContext();
    const res = (await runOp(op('deepr.autofocus'), { image: image(128, 0.1625) }, { model: dir, tileSize: 64, ...params, resample: 'always' }, ctx)).image as Stack;
    expect([res.width, res.height, res.calibration.pixelWidthUm]).toEqual([128, 128, 0.1625]);
    expect(ctx.logs.filter((l) => l.level === 'info' || l.level === 'warn')).toEqual([{ level: 'info', message: expect.stringMatching(/^image: 0\.1625 µm pixels .*deepr-grid-test was trained on 0\.325 µm pixels, so the image is refocused on its grid \(×0\.500\)/) }]);
    // by hand: the plane standardised, shrunk to 64² (one 64-px tile, no halo), the generator, enlarged back, mapped back with the plane's mean and σ
    const n = standardise(cells(128));
    const down = resamplePlane(n.data, 128, 128, 64, 64);
    const net = tf.tidy(() => (generator.predict(tf.tensor4d(down, [1, 64, 64, 1])) as import('@tensorflow/tfjs').Tensor).dataSync());
    const expected = destandardise(resamplePlane(net, 64, 64, 128, 128), n.mean, n.std);
    expect(maxDiff(res.planes[0], expected)).toBeLessThan(1e-3 * n.std);
    const off = (await runOp(op('deepr.autofocus'), { image: image(128, 0.1625) }, { model: dir, tileSize: 64, ...params, resample: 'off' })).image as Stack;
    expect(maxDiff(off.planes[0], res.planes[0])).toBeGreaterThan(1e-2 * n.std);
  });

  it("'auto': pixels up to 2× coarser or under 2× finer are fed as they are (and the log says so); others on the model's grid", async () => {
    for (const px of [0.2167, 0.65]) {
      const ctx = testContext();
      const auto = (await runOp(op('deepr.autofocus'), { image: image(64, px) }, { model: dir, tileSize: 64, ...params }, ctx)).image as Stack;
      expect(ctx.logs.filter((l) => l.level === 'info' || l.level === 'warn')).toEqual([{ level: 'info', message: expect.stringMatching(new RegExp(`^image: ${px} µm pixels .*deepr-grid-test was trained on 0\\.325 µm pixels: within 2× of it the image is refocused as it is`)) }]);
      const off = (await runOp(op('deepr.autofocus'), { image: image(64, px) }, { model: dir, tileSize: 64, ...params, resample: 'off' })).image as Stack;
      expect(Array.from(auto.planes[0])).toEqual(Array.from(off.planes[0]));
    }
    const ctx = testContext();
    const far = (await runOp(op('deepr.autofocus'), { image: image(128, 0.1) }, { model: dir, tileSize: 64, ...params }, ctx)).image as Stack;
    expect([far.width, far.height]).toEqual([128, 128]);
    expect(ctx.logs.filter((l) => l.level === 'info' || l.level === 'warn')).toEqual([{ level: 'info', message: expect.stringMatching(/^image: 0\.1 µm pixels .*refocused on its grid \(×0\.308\)/) }]);
    const offCtx = testContext();
    const off = (await runOp(op('deepr.autofocus'), { image: image(128, 0.1) }, { model: dir, tileSize: 64, ...params, resample: 'off' }, offCtx)).image as Stack;
    expect(offCtx.logs.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', message: expect.stringMatching(/^image: 0\.1 µm pixels .* 3\.25× the pixels it learned/) }]);
    expect(maxDiff(far.planes[0], off.planes[0])).toBeGreaterThan(0);
  });

  it("a streamed run widens the halo to the network's reach in the image's pixels when it works on the model's grid", () => {
    const plan = (px: number, resample = 'auto') => autofocus.tiling!(autofocus.params.parse({ model: dir, planeMean: 0, planeStd: 1, overlapPx: 16, resample }), { dtype: 'float32', calibration: { pixelWidthUm: px } });
    expect(plan(0.325)?.haloPx).toBe(16);
    expect(plan(0.2167)?.haloPx).toBe(16);
    expect(plan(0.65)?.haloPx).toBe(16);
    // 2× finer: on the grid (a 2.5 µm defocus already spans the model's ±5 µm in pixels there)
    expect(plan(0.1625)?.haloPx).toBe(32 + 8);
    expect(plan(0.1625, 'always')?.haloPx).toBe(32 + 8);
    expect(plan(0.1)?.haloPx).toBe(Math.ceil(16 / (0.1 / 0.325)) + 8);
    expect(plan(0.65, 'always')?.haloPx).toBe(8 + 8);
  });
});
