import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FocalError } from '../errors.js';
import { discoverPlugins, formatDiscoveryProblem, hostFocalVersion, readFocalConfig, satisfiesRange, type DiscoveryProblem } from './discovery.js';

let root: string;
let marker: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'focal-discovery-'));
  marker = join(root, 'code-ran.txt');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** An entry module that proves discovery never runs plugin code: it writes a marker and throws. */
const entrySource = () => `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'x'); throw new Error('imported');\n`;

function focalField(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    operations: [
      {
        id: `${id}.run`,
        title: 'Run',
        description: '',
        inputs: { stack: { type: 'stack' } },
        outputs: { stack: { type: 'stack' } },
        params: { type: 'object', properties: { n: { type: 'integer', minimum: 0, default: 1 } } },
      },
    ],
    ...extra,
  };
}

function pkg(dir: string, packageJson: Record<string, unknown> | string, files: Record<string, string> = { 'index.js': entrySource() }): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), typeof packageJson === 'string' ? packageJson : JSON.stringify(packageJson, null, 2));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const nm = (name: string) => join(root, 'node_modules', name);
const byPackage = (problems: DiscoveryProblem[], name: string) => problems.filter((p) => p.package === name || p.path.endsWith(name));

describe('discoverPlugins: installed packages', () => {
  it('finds packages with a focal field (scoped too), fills defaults from package.json and runs no plugin code', async () => {
    pkg(nm('focal-plugin-alpha'), { name: 'focal-plugin-alpha', version: '1.4.0', description: 'Alpha from package.json', main: 'lib/main.js', focal: focalField('alpha') }, { 'lib/main.js': entrySource() });
    pkg(nm('@lab/focal-plugin-beta'), {
      name: '@lab/focal-plugin-beta', version: '0.3.0', keywords: ['focal-plugin'],
      focal: focalField('beta', { version: '0.3.1', description: 'Beta', engine: '^0.1.0', entry: 'dist/index.js' }),
    }, { 'dist/index.js': entrySource() });
    pkg(nm('not-a-plugin'), { name: 'not-a-plugin', version: '1.0.0' });
    pkg(nm('broken-unrelated'), '{ "name": "broken-unrelated", ');
    mkdirSync(nm('.bin'), { recursive: true });
    writeFileSync(nm('stray-file'), 'x');

    const { manifests, problems } = await discoverPlugins({ cwd: root, focalVersion: '0.1.4' });
    expect(problems).toEqual([]);
    expect(manifests.map((m) => m.manifest.id)).toEqual(['beta', 'alpha']); // @lab sorts first
    const alpha = manifests.find((m) => m.manifest.id === 'alpha')!;
    expect(alpha.manifest).toMatchObject({ version: '1.4.0', description: 'Alpha from package.json', entry: 'lib/main.js' });
    expect(alpha.location).toEqual({ packageDir: nm('focal-plugin-alpha'), entry: join(nm('focal-plugin-alpha'), 'lib/main.js'), source: 'package', packageName: 'focal-plugin-alpha' });
    const beta = manifests.find((m) => m.manifest.id === 'beta')!;
    expect(beta.manifest).toMatchObject({ version: '0.3.1', description: 'Beta', engine: '^0.1.0', entry: 'dist/index.js' });
    expect(beta.location.entry).toBe(join(nm('@lab/focal-plugin-beta'), 'dist/index.js'));
    expect(existsSync(marker)).toBe(false);
  });

  it('entry defaults to index.js', async () => {
    pkg(nm('p'), { name: 'p', version: '1.0.0', focal: focalField('p') });
    const { manifests } = await discoverPlugins({ cwd: root, focalVersion: '0.1.0' });
    expect(manifests[0].manifest.entry).toBe('index.js');
    expect(manifests[0].location.entry).toBe(join(nm('p'), 'index.js'));
  });

  it('collects one problem per bad plugin, with package, field and message, and keeps the good ones', async () => {
    pkg(nm('good'), { name: 'good', version: '1.0.0', focal: focalField('good') });
    pkg(nm('keyword-only'), { name: 'keyword-only', version: '1.0.0', keywords: ['focal-plugin'] });
    pkg(nm('broken-json'), '{ "name": "broken-json", "focal": { "id": ');
    pkg(nm('bad-op-id'), { name: 'bad-op-id', version: '1.0.0', focal: { ...focalField('badop'), operations: [{ ...(focalField('badop').operations as object[])[0], id: 'other.run' }] } });
    pkg(nm('bad-op-syntax'), { name: 'bad-op-syntax', version: '1.0.0', focal: { ...focalField('syn'), operations: [{ ...(focalField('syn').operations as object[])[0], id: 'syn.Run_It' }] } });
    pkg(nm('old-engine'), { name: 'old-engine', version: '1.0.0', focal: focalField('old', { engine: '^0.2.0' }) });
    pkg(nm('bad-engine'), { name: 'bad-engine', version: '1.0.0', focal: focalField('badeng', { engine: 'soon' }) });
    pkg(nm('no-entry'), { name: 'no-entry', version: '1.0.0', main: 'dist/index.js', focal: focalField('noentry') });
    pkg(nm('escape-entry'), { name: 'escape-entry', version: '1.0.0', focal: focalField('escape', { entry: '../good/index.js' }) });
    pkg(nm('bad-params'), { name: 'bad-params', version: '1.0.0', focal: { ...focalField('badparams'), operations: [{ ...(focalField('badparams').operations as object[])[0], params: { type: 'object', properties: { n: { type: 'frobnicate' } } } }] } });
    pkg(nm('array-params'), { name: 'array-params', version: '1.0.0', focal: { ...focalField('arr'), operations: [{ ...(focalField('arr').operations as object[])[0], params: { type: 'array' } }] } });
    pkg(nm('no-version'), { name: 'no-version', focal: focalField('nover') });
    pkg(nm('focal-not-object'), { name: 'focal-not-object', version: '1.0.0', focal: 'yes' });

    const { manifests, problems } = await discoverPlugins({ cwd: root, focalVersion: '0.1.0' });
    expect(manifests.map((m) => m.manifest.id)).toEqual(['good']);
    expect(byPackage(problems, 'keyword-only')).toEqual([
      { source: 'package', path: nm('keyword-only'), package: 'keyword-only', field: 'focal', message: expect.stringMatching(/keyword "focal-plugin" but its package.json has no "focal" field \(the plugin manifest is missing\)/) },
    ]);
    expect(byPackage(problems, 'broken-json')).toEqual([{ source: 'package', path: nm('broken-json'), field: 'package.json', message: expect.stringMatching(/^package.json is not valid JSON/) }]);
    expect(byPackage(problems, 'bad-op-id')).toEqual([{ source: 'package', path: nm('bad-op-id'), package: 'bad-op-id', field: 'focal.operations.0.id', message: "operation id 'other.run' must start with 'badop.'" }]);
    expect(byPackage(problems, 'bad-op-syntax')[0]).toMatchObject({ field: 'focal.operations.0.id', message: expect.stringMatching(/operation ids look like/) });
    expect(byPackage(problems, 'old-engine')).toEqual([{ source: 'package', path: nm('old-engine'), package: 'old-engine', field: 'focal.engine', message: 'plugin requires Focal ^0.2.0, this is Focal 0.1.0' }]);
    expect(byPackage(problems, 'bad-engine')[0]).toMatchObject({ field: 'focal.engine', message: expect.stringMatching(/'soon' is not a supported version range/) });
    expect(byPackage(problems, 'no-entry')[0]).toMatchObject({ field: 'focal.entry', message: "entry file 'dist/index.js' does not exist" });
    expect(byPackage(problems, 'escape-entry')[0]).toMatchObject({ field: 'focal.entry', message: expect.stringMatching(/outside the package folder/) });
    expect(byPackage(problems, 'bad-params')[0]).toMatchObject({ field: 'focal.operations.0.params', message: expect.stringMatching(/operation 'badparams.run': params is not a usable JSON Schema/) });
    expect(byPackage(problems, 'array-params')[0]).toMatchObject({ field: 'focal.operations.0.params', message: expect.stringMatching(/must be a JSON Schema of type "object"/) });
    expect(byPackage(problems, 'no-version')).toEqual([{ source: 'package', path: nm('no-version'), package: 'no-version', field: 'focal.version', message: 'no version: set "version" in package.json' }]);
    expect(byPackage(problems, 'focal-not-object')[0]).toMatchObject({ field: 'focal', message: expect.stringMatching(/must be an object/) });
    expect(problems).toHaveLength(12);
    expect(existsSync(marker)).toBe(false);
  });

  it('ignores a missing node_modules and can skip scanning it', async () => {
    expect(await discoverPlugins({ cwd: root, focalVersion: '0.1.0' })).toEqual({ manifests: [], problems: [] });
    pkg(nm('p'), { name: 'p', version: '1.0.0', focal: focalField('p') });
    expect((await discoverPlugins({ cwd: root, focalVersion: '0.1.0', scanNodeModules: false })).manifests).toEqual([]);
  });
});

describe('discoverPlugins: config file and --plugin paths', () => {
  it('reads plugin folders from focal.config.json relative to the config file', async () => {
    pkg(join(root, 'project', 'plugins', 'local'), { name: 'local-plugin', version: '0.0.1', focal: focalField('local') });
    const config = join(root, 'project', 'config', 'focal.config.json');
    mkdirSync(join(root, 'project', 'config'), { recursive: true });
    writeFileSync(config, JSON.stringify({ plugins: ['../plugins/local', '../plugins/missing'], other: { kept: 'for other readers' } }));
    const { manifests, problems } = await discoverPlugins({ cwd: root, configFile: 'project/config/focal.config.json', focalVersion: '0.1.0' });
    expect(manifests.map((m) => [m.manifest.id, m.location.source, m.location.packageDir])).toEqual([['local', 'config', join(root, 'project', 'plugins', 'local')]]);
    expect(problems).toEqual([{ source: 'config', path: join(root, 'project', 'plugins', 'missing'), message: `plugin folder '../plugins/missing' does not exist (listed in ${config})` }]);
  });

  it('uses <cwd>/focal.config.json when no config file is given', async () => {
    pkg(join(root, 'mine'), { name: 'mine', version: '1.0.0', focal: focalField('mine') });
    writeFileSync(join(root, 'focal.config.json'), JSON.stringify({ plugins: ['./mine'] }));
    const { manifests } = await discoverPlugins({ cwd: root, focalVersion: '0.1.0' });
    expect(manifests.map((m) => m.manifest.id)).toEqual(['mine']);
  });

  it('throws E_USAGE for an unusable config file', async () => {
    await expect(discoverPlugins({ cwd: root, configFile: 'nope.json' })).rejects.toMatchObject({ code: 'E_USAGE', details: { file: join(root, 'nope.json') } });
    writeFileSync(join(root, 'bad.json'), '{ plugins: [');
    await expect(discoverPlugins({ cwd: root, configFile: 'bad.json' })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/is not valid JSON/) });
    writeFileSync(join(root, 'focal.config.json'), JSON.stringify({ plugins: './one' }));
    await expect(discoverPlugins({ cwd: root })).rejects.toMatchObject({ code: 'E_USAGE', details: { field: '/plugins' } });
    expect(await readFocalConfig(join(root, 'absent.json'), { optional: true })).toBeUndefined();
  });

  it('takes --plugin paths relative to cwd; reports folders that are not plugins', async () => {
    pkg(join(root, 'dev', 'p1'), { name: 'p1', version: '1.0.0', focal: focalField('p1') });
    pkg(join(root, 'dev', 'plain'), { name: 'plain', version: '1.0.0' });
    mkdirSync(join(root, 'dev', 'empty'));
    writeFileSync(join(root, 'dev', 'file.txt'), 'x');
    const { manifests, problems } = await discoverPlugins({ cwd: join(root, 'dev'), pluginPaths: ['p1', join(root, 'dev', 'plain'), 'empty', 'file.txt', 'gone'], focalVersion: '0.1.0' });
    expect(manifests.map((m) => [m.manifest.id, m.location.source])).toEqual([['p1', 'path']]);
    expect(problems).toEqual([
      { source: 'path', path: join(root, 'dev', 'plain'), package: 'plain', field: 'focal', message: expect.stringMatching(/package.json has no "focal" field/) },
      { source: 'path', path: join(root, 'dev', 'empty'), message: 'plugin folder has no package.json' },
      { source: 'path', path: join(root, 'dev', 'file.txt'), message: 'plugin folder is not a folder' },
      { source: 'path', path: join(root, 'dev', 'gone'), message: "plugin folder 'gone' does not exist" },
    ]);
  });

  it('lists --plugin paths first, then config entries, then installed packages; one folder is read once', async () => {
    pkg(nm('focal-plugin-x'), { name: 'focal-plugin-x', version: '1.0.0', focal: focalField('x') });
    pkg(join(root, 'dev-x'), { name: 'focal-plugin-x', version: '2.0.0-dev', focal: focalField('x') });
    pkg(join(root, 'cfg'), { name: 'cfg', version: '1.0.0', focal: focalField('cfg') });
    symlinkSync(join(root, 'cfg'), nm('cfg-linked'), 'dir'); // npm link: same folder through node_modules
    writeFileSync(join(root, 'focal.config.json'), JSON.stringify({ plugins: ['cfg', './node_modules/focal-plugin-x'] }));
    const { manifests, problems } = await discoverPlugins({ cwd: root, pluginPaths: ['dev-x'], focalVersion: '0.1.0' });
    expect(problems).toEqual([]);
    expect(manifests.map((m) => [m.manifest.id, m.manifest.version, m.location.source])).toEqual([
      ['x', '2.0.0-dev', 'path'],
      ['cfg', '1.0.0', 'config'],
      ['x', '1.0.0', 'config'],
    ]);
  });
});

describe('satisfiesRange', () => {
  it.each([
    ['0.1.0', '^0.1.0', true],
    ['0.1.9', '^0.1.0', true],
    ['0.2.0', '^0.1.0', false],
    ['1.4.2', '^1.2.0', true],
    ['2.0.0', '^1.2.0', false],
    ['0.0.3', '^0.0.3', true],
    ['0.0.4', '^0.0.3', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['1.9.0', '~1', true],
    ['1.0.0', '>=0.1.0', true],
    ['0.0.9', '>=0.1.0', false],
    ['1.0.0', '>=0.1.0 <1.0.0', false],
    ['0.9.9', '>=0.1.0 <1.0.0', true],
    ['1.2.0', '>1.1', true],
    ['1.1.5', '>1.1', false],
    ['1.1.5', '<=1.1', true],
    ['0.1.0', '0.1.0', true],
    ['0.1.1', '0.1.0', false],
    ['0.1.7', '0.1.x', true],
    ['0.1.7', '0.1', true],
    ['0.2.0', '0.1', false],
    ['5.0.0', '*', true],
    ['5.0.0', '', true],
    ['3.0.0', '^1.0.0 || ^3.0.0', true],
    ['2.0.0', '^1.0.0 || ^3.0.0', false],
    ['1.0.0-beta.1', '>=1.0.0', false],
    ['1.0.0-beta.2', '>=1.0.0-beta.1', true],
    ['0.1.0', '>= 0.1.0', true],
  ])('%s satisfies %j: %s', (version, range, expected) => {
    expect(satisfiesRange(version, range)).toBe(expected);
  });

  it('throws E_ARGUMENT for malformed ranges and versions', () => {
    expect(() => satisfiesRange('1.0.0', '1.0.0 - 2.0.0')).toThrow(FocalError);
    expect(() => satisfiesRange('1.0', '*')).toThrow(/not a semver version/);
    expect(() => satisfiesRange('1.0.0', 'latest')).toThrow(/not a supported version range/);
  });
});

describe('helpers', () => {
  it('formatDiscoveryProblem makes one line', () => {
    expect(formatDiscoveryProblem({ source: 'package', path: '/p/node_modules/x', package: 'x', field: 'focal.engine', message: 'too old' })).toBe('plugin x (/p/node_modules/x): focal.engine: too old');
    expect(formatDiscoveryProblem({ source: 'path', path: '/dev/y', message: 'gone' })).toBe('plugin /dev/y: gone');
  });

  it("hostFocalVersion reads Focal's package.json", async () => {
    const own = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await hostFocalVersion()).toBe(own.version);
  });
});
