import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isFocalError } from '../../core/index.js';
import { loadDeepRPackage } from './package.js';

let dir: string;
const demo = resolve('models', 'deepr-demo');

async function withDpm(name: string, dpm: string): Promise<string> {
  const pkg = join(dir, name);
  await cp(demo, pkg, { recursive: true, filter: (src) => !src.endsWith('.onnx') && !src.endsWith('.png') && !src.endsWith('.csv') });
  const path = join(pkg, 'manifest.json');
  const m = JSON.parse(await readFile(path, 'utf8')) as { weights: { format: string }[]; extra: Record<string, unknown> };
  m.weights = m.weights.filter((w) => w.format !== 'onnx');
  m.extra.dpm = dpm;
  await writeFile(path, JSON.stringify(m));
  return pkg;
}

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(isFocalError(e)).toBe(true);
  return e as { code: string; message: string; details: Record<string, unknown> };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-deepr-pkg-'));
  // A DPM package outside the autofocus package (a valid one: a copy of the demo's).
  await cp(join(demo, 'dpm'), join(dir, 'elsewhere-dpm'), { recursive: true });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('Deep-R packages: extra.dpm stays inside the package (issue 25)', () => {
  it('the bundled demo loads with its DPM decoder', async () => {
    const { dpm } = await loadDeepRPackage(await withDpm('ok', 'dpm'), { dpm: true });
    expect(dpm?.manifest.task).toBe('defocus-map');
  });

  it('extra.dpm pointing outside the package (../ or absolute) is refused, naming the field', async () => {
    let err = await errorOf(loadDeepRPackage(await withDpm('dotdot', '../elsewhere-dpm'), { dpm: true }));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.details.field).toBe('extra.dpm');
    expect(err.message).toMatch(/leads outside the package/);
    err = await errorOf(loadDeepRPackage(await withDpm('absolute', join(dir, 'elsewhere-dpm')), { dpm: true }));
    expect(err.code).toBe('E_MANIFEST');
    expect(err.message).toMatch(/absolute path/);
  });

  it('a dpm folder that is a symlink out of the package is refused', async () => {
    const pkg = await withDpm('linked', 'dpm2');
    await mkdir(join(pkg, 'sub'));
    await symlink(join(dir, 'elsewhere-dpm'), join(pkg, 'dpm2'));
    const err = await errorOf(loadDeepRPackage(pkg, { dpm: true }));
    expect(err.details.field).toBe('extra.dpm');
    expect(err.message).toContain(`to ${join(dir, 'elsewhere-dpm')}`);
  });
});
