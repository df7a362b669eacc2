import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, symlink, writeFile, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as tfType from '@tensorflow/tfjs';
import { loadModelPackage, loadTfjsModel, parseModelManifest, saveModelPackage, weightsSource, type ModelManifestInput } from './model-package.js';
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
    // the optics fields belong to focus models: a manifest of another task may leave them out
    const { objectiveNa: _na, trainedDefocusRangeUm: _range, ...generic } = json;
    expect(parseModelManifest(generic).objectiveNa).toBeUndefined();
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

describe('model packages: every file loaded lies inside the package and is covered by a sha256 (issue 25)', () => {
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  let base: string;

  /** A fresh copy of a small saved package, with model.json rewritten by `edit` and its sha256 updated in the manifest (so only the new check can refuse it). */
  async function tampered(name: string, edit?: (modelJson: { weightsManifest: { paths: string[] }[] }) => void, editManifest?: (m: Record<string, any>) => void): Promise<string> {
    const pkgDir = join(dir, name);
    await cp(base, pkgDir, { recursive: true });
    const mj = join(pkgDir, 'tfjs', 'model.json');
    const manifestPath = join(pkgDir, 'manifest.json');
    const m = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, any>;
    if (edit) {
      const json = JSON.parse(await readFile(mj, 'utf8'));
      edit(json);
      const text = JSON.stringify(json);
      await writeFile(mj, text);
      m.weights[0].sha256 = sha(text);
    }
    editManifest?.(m);
    await writeFile(manifestPath, JSON.stringify(m));
    return pkgDir;
  }

  beforeAll(async () => {
    base = join(dir, 'trust-base');
    await saveModelPackage(base, { manifest, tfModel: model, exportOnnx: false });
  });

  it('model.json weights paths pointing at ../../../../etc/passwd are refused, naming the field', async () => {
    const pkgDir = await tampered('passwd', (j) => { j.weightsManifest[0].paths = ['../../../../../../../../etc/passwd']; });
    const err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.message).toMatch(/leads outside the package \(to \/etc\/passwd\)/);
    expect(String(err.details?.field)).toMatch(/^weights\.0\.file \(tfjs\/model\.json weightsManifest\.0\.paths\)$/);
  });

  it('tampered weights outside the package, named by model.json, are refused (the manifest hash covered another file)', async () => {
    const outside = join(dir, 'evil-weights.bin');
    const bytes = await readFile(join(base, 'tfjs', 'weights.bin'));
    bytes[20] ^= 0xff;
    await writeFile(outside, bytes);
    const pkgDir = await tampered('outside-weights', (j) => { j.weightsManifest[0].paths = ['../../evil-weights.bin']; });
    const err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.message).toContain(`to ${outside}`);
  });

  it('a weights file inside the package that the manifest does not hash is refused', async () => {
    const pkgDir = await tampered('unlisted', (j) => { j.weightsManifest[0].paths = ['other.bin']; });
    const bytes = await readFile(join(pkgDir, 'tfjs', 'weights.bin'));
    bytes[20] ^= 0xff;
    await writeFile(join(pkgDir, 'tfjs', 'other.bin'), bytes);
    const err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.message).toMatch(/loads 'other\.bin', which the manifest does not list with a sha256/);
    expect(err.details?.field).toBe('weights.0.shards');
  });

  it('a symlink out of the package is refused even when the bytes it leads to match the hash', async () => {
    const pkgDir = await tampered('symlinked');
    const outside = join(dir, 'same-weights.bin');
    await cp(join(base, 'tfjs', 'weights.bin'), outside);
    await unlink(join(pkgDir, 'tfjs', 'weights.bin'));
    await symlink(outside, join(pkgDir, 'tfjs', 'weights.bin'));
    const err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.message).toContain(`leads outside the package (to ${outside})`);
    expect(err.details?.field).toBe('weights.0.shards.0.file');
  });

  it('weights swapped after loadModelPackage are refused when the network is loaded', async () => {
    const pkgDir = await tampered('swapped');
    const pkg = await loadModelPackage(pkgDir);
    const bin = join(pkgDir, 'tfjs', 'weights.bin');
    const bytes = await readFile(bin);
    bytes[20] ^= 0xff;
    await writeFile(bin, bytes);
    const err = await errorOf(loadTfjsModel(pkg, tf));
    expect(err.code).toBe('E_FORMAT');
    expect(err.message).toMatch(/the file was changed/);
  });

  it('channel counts in the manifest must match the network: inputs at load, outputs when the network is loaded', async () => {
    let pkgDir = await tampered('in-channels', undefined, (m) => { m.inputs.channels = 3; });
    let err = await errorOf(loadModelPackage(pkgDir));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.details?.field).toBe('inputs.channels');
    expect(err.message).toMatch(/inputs\.channels is 3, the network \(tfjs\/model\.json\) takes 1/);
    pkgDir = await tampered('out-channels', undefined, (m) => { m.outputs.channels = 2; });
    const pkg = await loadModelPackage(pkgDir);
    err = await errorOf(loadTfjsModel(pkg, tf));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.details?.field).toBe('outputs.channels');
    expect(err.message).toMatch(/outputs\.channels is 2, the network's output has 1 channels/);
  });

  it('the bundled Deep-R demo package and its DPM package still load', async () => {
    const demo = resolve('models', 'deepr-demo');
    const pkg = await loadModelPackage(demo);
    expect(Object.keys(pkg.verified).length).toBe(3);
    expect(pkg.manifest.inputs.channels).toBe(1);
    const dpm = await loadModelPackage(join(demo, 'dpm'));
    expect(dpm.files.tfjs).toBeDefined();
  });
});

describe('resolveModelDir', () => {
  it('finds a bundled model by name, a folder by path, and names the field when neither exists', async () => {
    const { resolveModelDir, bundledModelsDir } = await import('./model-package.js');
    const { existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    expect(existsSync(join(bundledModelsDir(), 'deepr-demo', 'manifest.json'))).toBe(true);
    expect(resolveModelDir('deepr-demo')).toBe(join(bundledModelsDir(), 'deepr-demo'));
    expect(resolveModelDir(join(bundledModelsDir(), 'tsva-demo'))).toBe(join(bundledModelsDir(), 'tsva-demo'));
    expect(() => resolveModelDir('no-such-model-xyz', { field: 'cascade', hint: '; train one' })).toThrow(/cascade: 'no-such-model-xyz' is neither a folder nor a bundled model .*; train one/);
    expect(() => resolveModelDir('./no/such/folder')).toThrow(/model: folder \.\/no\/such\/folder does not exist/);
  });
});

describe('weightsSource', () => {
  it('names the weight data, not the architecture: two trainings of one network differ, ONNX-only packages name the ONNX file', () => {
    const tfjs = (weightsSha: string) => ({ name: 'm', version: '1.0.0', weights: [{ file: 'tfjs/model.json', format: 'tfjs-layers' as const, sha256: 'a'.repeat(64), shards: [{ file: 'tfjs/weights.bin', sha256: weightsSha }] }] });
    expect(weightsSource(tfjs('1'.repeat(64)))).toBe(`m 1.0.0 (tfjs weights sha256 ${'1'.repeat(12)}…)`);
    expect(weightsSource(tfjs('1'.repeat(64)))).not.toBe(weightsSource(tfjs('2'.repeat(64))));
    expect(weightsSource({ name: 'o', version: '2.0.0', weights: [{ file: 'model.onnx', format: 'onnx' as const, sha256: 'b'.repeat(64) }] })).toBe(`o 2.0.0 (onnx weights sha256 ${'b'.repeat(12)}…)`);
  });
});
