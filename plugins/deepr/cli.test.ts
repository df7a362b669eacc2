import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureStdio, createStack, writeTiff } from '../../core/index.js';
import { main } from '../../cli/main.js';
import { formatRate, iterationEvent, iterationLine } from './trainer.js';
import { loadDeepRPackage } from './package.js';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('focal train deepr', () => {
  it('--synthetic trains (1 iteration, tiny) and writes a loadable model package with a DPM decoder, loss.csv and loss.png', async () => {
    const root = await mkdtemp(join(tmpdir(), 'deepr-cli-'));
    dirs.push(root);
    const W = 96;
    const img = new Uint16Array(W * W);
    for (let k = 0; k < 60; k++) img[((k * 37) % 90 + 3) * W + ((k * 53) % 90) + 3] = 1000 + k;
    await writeTiff(join(root, 'focus.tif'), createStack({ width: W, height: W, dtype: 'uint16', planes: [img] }));
    const out = join(root, 'run');
    const { value: code, stdout, stderr } = await captureStdio(() => main(['train', 'deepr', '--synthetic', join(root, 'focus.tif'), '--out', out, '--iterations', '1', '--base-channels', '2', '--patch', '64', '--batch', '1', '--validate-every', '1', '--validation-pairs', '1', '--dpm-iterations', '1', '--no-onnx', '--ensemble', 'dihedral8', '--json']));
    const lines = stdout.split('\n').filter(Boolean);
    expect(code, stderr).toBe(0);
    // --json: the iteration event carries the rate and the ETA (0 after the last iteration)
    const iteration = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'iteration')!;
    expect(iteration).toMatchObject({ iteration: 1, iterations: 1, etaMs: 0, eta: '0:00:00' });
    expect(iteration.iterationsPerSecond).toBeGreaterThan(0);
    const { autofocus, dpm } = await loadDeepRPackage(join(out, 'model'), { dpm: true });
    expect(autofocus.manifest.training.command).toMatch(/train deepr --synthetic/);
    expect(autofocus.manifest.trainedDefocusRangeUm).toEqual([-5, 5]);
    expect(autofocus.manifest.objectiveNa).toBe(0.75);
    expect(autofocus.manifest.extra?.baseChannels).toBe(2);
    expect(autofocus.manifest.extra?.ensemble).toBe('dihedral8');
    expect(dpm!.manifest.task).toBe('defocus-map');
    expect((await readFile(join(out, 'model', 'loss.csv'), 'utf8')).trim().split('\n')).toHaveLength(2);
    const bad = await main(['train', 'deepr', '--out', out]);
    expect(bad).not.toBe(0);
    // fine-tuning from that package: pixel losses only, the source recorded in the manifest
    const tuned = join(root, 'tuned');
    expect(await main(['train', 'deepr', '--synthetic', join(root, 'focus.tif'), '--out', tuned, '--iterations', '1', '--base-channels', '2', '--patch', '64', '--batch', '1', '--validate-every', '1', '--validation-pairs', '1', '--no-onnx', '--init-from', join(out, 'model'), '--adversarial-weight', '0', '--generator-lr', '1e-4', '--model-version', '0.2.0', '--training-families', 'nuclei,cells', '--held-out-families', 'disc,points', '--json'])).toBe(0);
    const t = (await loadDeepRPackage(join(tuned, 'model'))).autofocus;
    expect(t.manifest.version).toBe('0.2.0');
    expect(t.manifest.extra).toMatchObject({ trainingFamilies: ['nuclei', 'cells'], heldOutFamilies: ['disc', 'points'] });
    expect(String(t.manifest.extra?.initFrom)).toMatch(/^deepr 0\.1\.0 \(tfjs weights sha256 [0-9a-f]{12}…\)$/);
    expect((await readFile(join(tuned, 'loss.csv'), 'utf8')).split('\n')[1].split(',')[2]).toBe(''); // no adversarial term
    const wider = await captureStdio(() => main(['train', 'deepr', '--synthetic', join(root, 'focus.tif'), '--out', join(root, 'x'), '--iterations', '1', '--base-channels', '4', '--patch', '64', '--init-from', join(out, 'model')]));
    expect(wider.value).not.toBe(0);
    expect(wider.stderr).toMatch(/--init-from .*base 2 channels.*--base-channels 4/);
    const overlap = await captureStdio(() => main(['train', 'deepr', '--synthetic', join(root, 'focus.tif'), '--out', join(root, 'y'), '--training-families', 'nuclei,disc', '--held-out-families', 'disc']));
    expect(overlap.value).not.toBe(0);
    expect(overlap.stderr).toMatch(/--held-out-families disc: also in --training-families/);
  });

  it('the iteration log line shows it/s and the ETA as h:mm:ss; --json carries the same numbers', () => {
    const row = { iteration: 250, generator: 0.51234, adversarial: 0.25, msSsim: 0.2, berhu: 0.1, discriminator: 0.24, validationBerhu: 0.0456, validationSsim: 0.7, seconds: 1234 };
    const progress = { iteration: 250, iterations: 100_000, iterationsPerSecond: 0.2034, etaMs: 490_397_000 };
    const line = iterationLine(row, progress);
    expect(line).toMatch(/^ {2}it 250\/100000: G 0\.5123 .*validation BerHu 0\.0456 SSIM 0\.7000, 1234 s, 0\.203 it\/s, ETA 136:13:17\n$/);
    expect(iterationLine(row, { ...progress, iterationsPerSecond: undefined, etaMs: undefined })).toMatch(/, \? it\/s, ETA -:--:--\n$/);
    expect(formatRate(12.345)).toBe('12.3');
    expect(formatRate(2500.4)).toBe('2500');
    expect(iterationEvent(row, progress)).toEqual({ event: 'iteration', ...row, iterations: 100_000, iterationsPerSecond: 0.2034, etaMs: 490_397_000, eta: '136:13:17' });
    expect(iterationEvent(row, { ...progress, iterationsPerSecond: undefined, etaMs: undefined })).toEqual({ event: 'iteration', ...row, iterations: 100_000, eta: '-:--:--' });
  });

  it('refuses a learning-rate decay factor outside (0, 1] and a negative switch-off iteration, naming the flag', async () => {
    const { stderr } = await captureStdio(async () => {
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--lr-decay-factor', '1.5'])).toBe(2);
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--adversarial-off-at', '-3'])).toBe(2);
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--lr-decay-at', '640,abc'])).toBe(2);
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--lr-decay-factor', '0.5,0'])).toBe(2);
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--ssim-weight', '-1'])).toBe(2);
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--model-version', 'v2'])).toBe(2);
      expect(await main(['train', 'deepr', '--synthetic', 'x.tif', '--out', 'x', '--generator-lr', '0'])).toBe(2);
    });
    const errors = [stderr];
    expect(errors.join('')).toMatch(/--lr-decay-factor:? must be a number in \(0, 1\], got '1.5'/);
    expect(errors.join('')).toMatch(/--adversarial-off-at:? must be an integer ≥ 0, got '-3'/);
    expect(errors.join('')).toMatch(/--lr-decay-at:? must be an integer ≥ 0, got 'abc'/);
    expect(errors.join('')).toMatch(/--ssim-weight:? must be a number ≥ 0, got '-1'/);
    expect(errors.join('')).toMatch(/--lr-decay-factor:? must be a number in \(0, 1\], got '0'/);
    expect(errors.join('')).toMatch(/--model-version:? must be a semantic version/);
    expect(errors.join('')).toMatch(/--generator-lr:? must be a number in \(0, 1\], got '0'/);
  });
});
