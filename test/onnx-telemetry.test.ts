/**
 * onnxruntime-node records usage telemetry (model names, system metrics) in
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime and a `mat-debug-<pid>.log` in the temporary
 * folder, and uploads it when it can. Focal turns it off (core/runtime/onnx-telemetry.ts): a run
 * whose model goes through onnxruntime in the run thread leaves nothing in either place.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disableOnnxTelemetry, onnxTelemetryOff } from '../core/index.js';
import { ROOT, focal, tempDir } from './helpers.js';

const roots: string[] = [];
afterAll(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

/** A home and a temporary folder of their own, so what onnxruntime writes can be seen. */
function sandbox(): { env: NodeJS.ProcessEnv; home: string; tmp: string; root: string } {
  const root = tempDir('focal-ort-telemetry-');
  roots.push(root);
  const home = join(root, 'home');
  const tmp = join(root, 'tmp');
  mkdirSync(home);
  mkdirSync(tmp);
  // onnxruntime also keeps telemetry off under CI's variables (measured: CI=true), so they are unset here: in CI the test must see what a lab machine would
  return { root, home, tmp, env: { HOME: home, TMPDIR: tmp, XDG_CACHE_HOME: undefined, ORT_DISABLE_TELEMETRY: undefined, CI: undefined, GITHUB_ACTIONS: undefined, TF_BUILD: undefined } };
}

function telemetryTraces(box: { home: string; tmp: string }): string[] {
  const store = join(box.home, '.cache', 'Microsoft');
  return [
    ...(existsSync(store) ? [store] : []),
    ...readdirSync(box.tmp).filter((f) => f.startsWith('mat-debug-') || f === '.ses').map((f) => join(box.tmp, f)),
  ];
}

describe('onnxruntime telemetry', () => {
  it('is turned off unless the user set the variable, and a user\'s 0 is kept', () => {
    const unset: NodeJS.ProcessEnv = {};
    expect(disableOnnxTelemetry(unset)).toBe(true);
    expect(unset.ORT_DISABLE_TELEMETRY).toBe('1');
    const optedIn: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: '0' };
    expect(disableOnnxTelemetry(optedIn)).toBe(false);
    expect(optedIn.ORT_DISABLE_TELEMETRY).toBe('0');
    for (const on of ['', '0', 'false']) expect(onnxTelemetryOff({ ORT_DISABLE_TELEMETRY: on }), on).toBe(false);
    for (const off of ['1', 'true', 'yes']) expect(onnxTelemetryOff({ ORT_DISABLE_TELEMETRY: off }), off).toBe(true);
  });

  it('onnxruntime-node loaded directly leaves its traces (what the next test must not find)', () => {
    const box = sandbox();
    const model = join(ROOT, 'models', 'deepr-demo', 'model.onnx');
    const script = `require(${JSON.stringify(join(ROOT, 'node_modules', 'onnxruntime-node'))}).InferenceSession.create(${JSON.stringify(model)}).then((s) => s.release())`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...box.env }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    // If a later onnxruntime-node stops recording, this list is empty: drop this control then.
    expect(telemetryTraces(box).length, 'telemetry files of a bare onnxruntime-node').toBeGreaterThan(0);
  }, 60_000);

  it('focal run with an ONNX model leaves no telemetry store and no trace file', () => {
    const box = sandbox();
    const out = join(box.root, 'out');
    const r = focal(['run', 'pipelines/deepr-autofocus.json', '--out', out, '--no-report'], { env: box.env });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, 'autofocused.tif')), 'the network ran').toBe(true);
    expect(telemetryTraces(box)).toEqual([]);
  }, 120_000);
});
