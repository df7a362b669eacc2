import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { loadModelPackage, loadTfjsModel, parseModelManifest, saveModelPackage, type ModelManifestInput } from './model-package.js';
import { createInferenceEngine, tiledInference } from './inference.js';
import { buildUNetFixture } from './onnx/fixtures.js';
import { isFocalError } from '../errors.js';

let tf: typeof tfType;
let dir: string;
let model: tfType.LayersModel;

const manifest: Omit<ModelManifestInput, 'weights'> = {
  name: 'test-unet',
  version: '0.1.0',
  task: 'autofocus',
  description: 'a 3-level U-Net with random weights, for tests',
  inputs: { channels: 1, axes: 'YXC', normalisation: { kind: 'zero-mean-unit-variance' } },
  outputs: { channels: 1, axes: 'YXC' },
  pixelSizeUm: 0.325,
  objectiveNa: 0.75,
  trainedDefocusRangeUm: [-5, 5],
  tilePx: 64,
  haloPx: 8,
  multipleOf: 8,
  training: { command: 'none (random weights)', data: 'none' },
};

function noise(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5);
}

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; message: string; details?: Record<string, unknown> }> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(isFocalError(e)).toBe(true);
  return e as { code: string; message: string; details: Record<string, unknown> };
}

beforeAll(async () => {
  tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'focal-model-'));
  model = buildUNetFixture(tf, { baseChannels: 4, levels: 3, seed: 3 });
});
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('model packages', () => {
  it('save → load round trip: tfjs and ONNX engines both load and agree with the original model', async () => {
    const pkgDir = join(dir, 'ok');
    const saved = await saveModelPackage(pkgDir, { manifest, tfModel: model });
    expect(saved.manifest.weights.map((w) => w.format)).toEqual(['tfjs-layers', 'onnx']);
    const pkg = await loadModelPackage(pkgDir);
    expect(pkg.manifest.name).toBe('test-unet');
    expect(pkg.files.onnx).toBe(join(pkgDir, 'model.onnx'));
    const input = noise(2 * 32 * 40, 7);
    const want = tf.tidy(() => (model.predict(tf.tensor4d(input, [2, 32, 40, 1])) as tfType.Tensor).dataSync() as Float32Array);
    const reloaded = await loadTfjsModel(pkg, tf);
    const again = tf.tidy(() => (reloaded.predict(tf.tensor4d(input, [2, 32, 40, 1])) as tfType.Tensor).dataSync() as Float32Array);
    expect(Array.from(again)).toEqual(Array.from(want));
    reloaded.dispose();
    for (const engine of ['tfjs', 'onnxruntime', 'auto'] as const) {
      const e = await createInferenceEngine(pkg, { engine, threads: 1 });
      expect(e.kind).toBe(engine === 'auto' ? 'onnxruntime' : engine);
      const out = await e.run(input, [2, 32, 40, 1]);
      expect(out.shape).toEqual([2, 32, 40, 1]);
      let d = 0;
      for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(out.data[i] - want[i]));
      expect(d).toBeLessThan(1e-4);
      // Tiled inference through the ONNX engine matches the tfjs engine.
      if (engine === 'onnxruntime') {
        const plane = noise(70 * 45, 2);
        const opts = { tilePx: 32, haloPx: 8, outChannels: 1, multipleOf: 8, batchSize: 2 };
        const a = await tiledInference([plane], 70, 45, e, opts);
        const t = await createInferenceEngine(pkg, { engine: 'tfjs' });
        const b = await tiledInference([plane], 70, 45, t, opts);
        let m = 0;
        for (let i = 0; i < a[0].length; i++) m = Math.max(m, Math.abs(a[0][i] - b[0][i]));
        expect(m).toBeLessThan(1e-4);
        await t.dispose();
      }
      await e.dispose();
    }
  });

  it('a package without ONNX weights: auto falls back to tfjs; onnxruntime is refused clearly', async () => {
    const pkgDir = join(dir, 'tfjs-only');
    const pkg = await saveModelPackage(pkgDir, { manifest, tfModel: model, exportOnnx: false });
    expect(pkg.files.onnx).toBeUndefined();
    const e = await createInferenceEngine(pkg);
    expect(e.kind).toBe('tfjs');
    await e.dispose();
    const err = await errorOf(createInferenceEngine(pkg, { engine: 'onnxruntime' }));
    expect(err.code).toBe('E_UNSUPPORTED');
    expect(err.message).toMatch(/no ONNX weights/);
  });

  it('manifest validation names the missing or bad field', async () => {
    const pkgDir = join(dir, 'bad-manifest');
    await saveModelPackage(pkgDir, { manifest, tfModel: model, exportOnnx: false });
    const path = join(pkgDir, 'manifest.json');
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const { pixelSizeUm: _, ...withoutPixelSize } = json;
    await writeFile(path, JSON.stringify(withoutPixelSize));
    let err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.message).toMatch(/pixelSizeUm/);
    expect(err.details?.field).toBe('pixelSizeUm');
    await writeFile(path, JSON.stringify({ ...json, weights: [{ file: '../../etc/passwd', format: 'onnx', sha256: 'abc' }] }));
    err = await errorOf(loadModelPackage(pkgDir));
    expect(err.message).toMatch(/weights\.0\.file: must be a path inside the model folder/);
    expect(err.message).toMatch(/weights\.0\.sha256/);
    await writeFile(path, '{ not json');
    expect((await errorOf(loadModelPackage(pkgDir))).code).toBe('E_MANIFEST');
    expect((await errorOf(loadModelPackage(join(dir, 'nowhere')))).message).toMatch(/does not exist/);
    expect(() => parseModelManifest({ ...json, trainedDefocusRangeUm: [5, -5] })).toThrow(/trainedDefocusRangeUm: min must not exceed max/);
    await expect(saveModelPackage(join(dir, 'never'), { manifest: { ...manifest, version: 'one' }, tfModel: model })).rejects.toThrow(/version: must be a semantic version/);
  });

  it('a changed weights file fails the sha256 check (E_FORMAT naming the file); a missing one is E_IO naming it', async () => {
    const pkgDir = join(dir, 'tampered');
    await saveModelPackage(pkgDir, { manifest, tfModel: model });
    const bin = join(pkgDir, 'tfjs', 'weights.bin');
    const bytes = await readFile(bin);
    bytes[10] ^= 0xff;
    await writeFile(bin, bytes);
    let err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_FORMAT');
    expect(err.message).toMatch(/sha256 of 'tfjs\/weights\.bin'/);
    expect(err.details?.file).toBe(bin);
    await saveModelPackage(pkgDir, { manifest, tfModel: model }); // replaces the tampered package
    await loadModelPackage(pkgDir);
    await unlink(join(pkgDir, 'model.onnx'));
    err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_IO');
    expect(err.message).toMatch(/weights file 'model\.onnx' is missing/);
  });
});
