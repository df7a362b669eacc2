/**
 * What a command imports (issue 15): the CLI entry loads no deep-learning runtime, FFT
 * WebAssembly or plugin code for `focal --help`; `focal plugins` reads manifests only; a run
 * imports the plugins its pipeline uses and no others, and none of core's library floors
 * (`focal/imaging`, `focal/specimens`, `focal/ml`) its operations do not use. Every module URL Node resolves is
 * recorded by a module hook (test/fixtures/log-imports.mjs), threads included.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, tempDir } from './helpers.js';

function importsOf(args: string[]): string[] {
  const log = join(tempDir('focal-imports-'), 'imports.log');
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'fixtures', 'log-imports.mjs'), BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, FOCAL_IMPORT_LOG: log, NO_COLOR: '1' },
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  expect(urls.some((u) => u.endsWith('/dist/cli/main.js')), 'the hook recorded the CLI entry').toBe(true);
  return urls;
}

const HEAVY = [/@tensorflow\//, /onnxruntime/, /pffft/];
const pluginsLoaded = (urls: string[]) => [...new Set(urls.map((u) => /\/plugins\/([a-z]+)\/index\.js$/.exec(u)?.[1]).filter((x): x is string => !!x))].sort();

describe('import cost of the CLI', () => {
  it('focal --help loads no deep-learning runtime, no FFT WebAssembly, no command module and no plugin (zod only for the option schemas)', () => {
    const urls = importsOf(['--help']);
    for (const heavy of HEAVY) expect(urls.filter((u) => heavy.test(u))).toEqual([]);
    expect(urls.filter((u) => /\/cli\/commands\/(?!train\.js)[a-z-]+\.js$/.test(u))).toEqual([]);
    expect(urls.filter((u) => /\/plugins\//.test(u))).toEqual([]);
    expect(urls.filter((u) => !u.includes('/node_modules/') && /\/core\/index\.js$/.test(u))).toEqual([]);
  });

  it('focal plugins lists every plugin from manifests, importing no plugin code', () => {
    const urls = importsOf(['plugins', '--json']);
    expect(pluginsLoaded(urls)).toEqual([]);
    for (const heavy of HEAVY) expect(urls.filter((u) => heavy.test(u))).toEqual([]);
  });

  it('a run imports the plugins its pipeline uses and no others', () => {
    const out = join(tempDir('focal-imports-run-'), 'out');
    const urls = importsOf(['run', join(ROOT, 'pipelines', 'denoise-project.json'), '--out', out, '--quiet']);
    expect(pluginsLoaded(urls)).toEqual(['filter', 'stack']);
    for (const heavy of HEAVY) expect(urls.filter((u) => heavy.test(u))).toEqual([]);
  });

  it("a run of stack operations loads none of core's library floors (imaging, specimens, the learning kit)", () => {
    const dir = tempDir('focal-imports-floors-');
    const pipeline = { name: 'pass-through', inputs: { stack: { type: 'stack' } }, nodes: { all: { op: 'stack.substack', in: { stack: 'stack' } } }, outputs: { stack: 'all.stack' } };
    writeFileSync(join(dir, 'pass-through.json'), JSON.stringify(pipeline));
    const urls = importsOf(['run', join(dir, 'pass-through.json'), '--input', join(ROOT, 'samples', 'cells-deformed.tif'), '--out', join(dir, 'out'), '--quiet']);
    expect(pluginsLoaded(urls)).toEqual(['stack']);
    const core = urls.filter((u) => !u.includes('/node_modules/') && /\/dist\/core\//.test(u));
    expect(core.length, 'the hook recorded core modules').toBeGreaterThan(20);
    // core/ml/backend-names.js and core/ml/plot.js are light and re-exported by `focal` itself
    expect(core.filter((u) => /\/core\/(imaging|specimens|numeric\/fft)\/|\/core\/(imaging|specimens|ml|spectral)\.js$|\/core\/ml\/(?!backend-names\.js|plot\.js)/.test(u))).toEqual([]);
  });
});
