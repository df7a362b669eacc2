import { existsSync } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { FocalError } from '../errors.js';
import { PluginManifestSchema, type PluginManifest } from './manifest.js';
import type { PluginLocation } from './registry.js';

/**
 * Discovery of third-party plugins. A plugin is an npm package folder whose
 * package.json carries a `focal` field: the plugin's static manifest (id, optional
 * version / description / engine / entry, and its operations with ports and params as
 * JSON Schema). Discovery reads manifests only; it never imports plugin code.
 *
 * Three places are searched, in this order (the first registration of an id wins, so a
 * path given explicitly shadows an installed package of the same id, and the shadowed
 * one is reported as a problem by the registry):
 *
 * 1. `--plugin <path>` folders (`pluginPaths`, relative to `cwd`);
 * 2. folders listed in `focal.config.json` (`{ "plugins": ["./my-plugin"] }`, relative to
 *    the config file; `configFile`, else `<cwd>/focal.config.json` when it exists);
 * 3. packages installed in `<cwd>/node_modules` (`@scope/*` included) whose package.json
 *    has a `focal` field or the keyword `focal-plugin`.
 *
 * Never throws for a bad plugin: every problem (unreadable package.json, invalid manifest,
 * unsupported engine, missing entry file, params that are not a usable JSON Schema) is
 * collected with the package and field concerned, and that plugin is skipped. Only an
 * unusable config file (named explicitly and missing, invalid JSON, `plugins` not an array
 * of strings) throws, with `E_USAGE`: it is the user's command input, not a plugin.
 */
export interface DiscoverOptions {
  /** Project folder: its node_modules is scanned and relative `pluginPaths` resolve against it. */
  cwd: string;
  /** focal.config.json to read; default `<cwd>/focal.config.json` when present. */
  configFile?: string;
  /** Plugin package folders given on the command line (`--plugin`). */
  pluginPaths?: string[];
  /** Focal's version that `engine` ranges are checked against; default: the version in Focal's package.json. */
  focalVersion?: string;
  /** Scan `<cwd>/node_modules` (default true). */
  scanNodeModules?: boolean;
  /**
   * Whether `cwd` is trusted to run plugin code (default true, for library use). When false,
   * `<cwd>/focal.config.json` (unless named as `configFile`) and `<cwd>/node_modules` are not
   * loaded; each skipped config file or plugin package is reported as a problem saying why.
   */
  trustCwd?: boolean;
  /** The user's configuration folder: its `focal.config.json` plugins are always loaded (see trust.ts). */
  userConfigDir?: string;
}

export interface DiscoveredPlugin {
  /** The validated manifest, with `version`, `description` and `entry` defaults filled in from package.json. */
  manifest: PluginManifest;
  location: PluginLocation;
}

export interface DiscoveryProblem {
  source: PluginLocation['source'];
  /** Package folder (or the path as given, when it could not be resolved). */
  path: string;
  /** package.json name, when known. */
  package?: string;
  /** The package.json field concerned, e.g. `focal.operations.0.id`, `focal.engine`. */
  field?: string;
  message: string;
}

export interface DiscoveryResult {
  manifests: DiscoveredPlugin[];
  problems: DiscoveryProblem[];
}

/** The contents of focal.config.json that discovery reads. */
export interface FocalConfig {
  /** Plugin package folders, relative to the config file. */
  plugins: string[];
}

export const CONFIG_FILE_NAME = 'focal.config.json';
export const PLUGIN_KEYWORD = 'focal-plugin';

interface PackageJson {
  name?: unknown;
  version?: unknown;
  description?: unknown;
  main?: unknown;
  keywords?: unknown;
  focal?: unknown;
}

/** Finds plugin manifests; see {@link DiscoverOptions}. */
export async function discoverPlugins(options: DiscoverOptions): Promise<DiscoveryResult> {
  const cwd = resolve(options.cwd);
  const focalVersion = options.focalVersion ?? (await hostFocalVersion());
  const manifests: DiscoveredPlugin[] = [];
  const problems: DiscoveryProblem[] = [];
  const seen = new Set<string>();

  const candidates: { dir: string; source: PluginLocation['source']; given: string; from?: string }[] = [];
  for (const p of options.pluginPaths ?? []) candidates.push({ dir: resolve(cwd, p), source: 'path', given: p });
  const trustCwd = options.trustCwd ?? true;
  const untrusted = (what: string) => `not loaded: ${what} is in ${cwd}, a folder not marked trusted (plugins run code; if you trust this folder, run: focal trust ${JSON.stringify(cwd)})`;
  const configFiles: { file: string; optional: boolean }[] = [];
  if (options.userConfigDir !== undefined) configFiles.push({ file: join(options.userConfigDir, CONFIG_FILE_NAME), optional: true });
  if (options.configFile !== undefined) configFiles.push({ file: resolve(cwd, options.configFile), optional: false });
  else if (trustCwd) configFiles.push({ file: join(cwd, CONFIG_FILE_NAME), optional: true });
  else if (existsSync(join(cwd, CONFIG_FILE_NAME))) problems.push({ source: 'config', path: join(cwd, CONFIG_FILE_NAME), message: untrusted(CONFIG_FILE_NAME) });
  for (const { file: configFile, optional } of configFiles) {
    const config = await readFocalConfig(configFile, { optional });
    for (const p of config?.plugins ?? []) candidates.push({ dir: resolve(dirname(configFile), p), source: 'config', given: p, from: configFile });
  }

  for (const c of candidates) {
    const real = await realpathOrUndefined(c.dir);
    if (real === undefined) {
      problems.push({ source: c.source, path: c.dir, message: `plugin folder '${c.given}' does not exist${c.from ? ` (listed in ${c.from})` : ''}` });
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const result = await inspectPackage(c.dir, c.source, focalVersion, true);
    if (result) pushResult(result, manifests, problems);
  }

  if (options.scanNodeModules ?? true) {
    for (const dir of await installedPackageDirs(join(cwd, 'node_modules'))) {
      const real = await realpathOrUndefined(dir);
      if (real === undefined || seen.has(real)) continue;
      seen.add(real);
      const result = await inspectPackage(dir, 'package', focalVersion, false);
      if (result && !trustCwd) {
        // Only package.json was read (data); the plugin's code is not loaded.
        if (!Array.isArray(result)) problems.push({ source: 'package', path: dir, package: result.location.packageName, message: untrusted('this package') });
        continue;
      }
      if (result) pushResult(result, manifests, problems);
    }
  }
  return { manifests, problems };
}

/** One line for a problem: `<package> (<path>): <field>: <message>`. */
export function formatDiscoveryProblem(p: DiscoveryProblem): string {
  const who = p.package ? `${p.package} (${p.path})` : p.path;
  return `plugin ${who}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/**
 * Reads focal.config.json. Returns undefined when `optional` and the file does not exist.
 * Throws `E_USAGE` naming the file when it is missing (not optional), not JSON, or its
 * `plugins` is not an array of strings. Other keys are left to their readers.
 */
export async function readFocalConfig(file: string, options: { optional?: boolean } = {}): Promise<FocalConfig | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (options.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FocalError('E_USAGE', `cannot read config file ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FocalError('E_USAGE', `config file ${file} is not valid JSON: ${(err as Error).message}`, { file }, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FocalError('E_USAGE', `config file ${file} must hold a JSON object`, { file });
  }
  const plugins = (json as { plugins?: unknown }).plugins;
  if (plugins !== undefined && (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string'))) {
    throw new FocalError('E_USAGE', `config file ${file}: "plugins" must be an array of folder paths`, { file, field: '/plugins' });
  }
  return { plugins: (plugins as string[] | undefined) ?? [] };
}

function pushResult(result: DiscoveredPlugin | DiscoveryProblem[], manifests: DiscoveredPlugin[], problems: DiscoveryProblem[]): void {
  if (Array.isArray(result)) problems.push(...result);
  else manifests.push(result);
}

/** Package folders directly in node_modules, and in its `@scope` folders; sorted. */
async function installedPackageDirs(nodeModules: string): Promise<string[]> {
  const names = await readdirOrEmpty(nodeModules);
  const dirs: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const sub of (await readdirOrEmpty(join(nodeModules, name))).sort()) {
        if (!sub.startsWith('.')) dirs.push(join(nodeModules, name, sub));
      }
    } else dirs.push(join(nodeModules, name));
  }
  return dirs;
}

/**
 * Reads one package folder. Returns undefined for a node_modules package that is not a
 * Focal plugin, the manifest when it is a valid one, else its problems.
 */
async function inspectPackage(dir: string, source: PluginLocation['source'], focalVersion: string, explicit: boolean): Promise<DiscoveredPlugin | DiscoveryProblem[] | undefined> {
  const pkgFile = join(dir, 'package.json');
  let text: string;
  try {
    text = await readFile(pkgFile, 'utf8');
  } catch (err) {
    if (!explicit) return undefined; // a file or a folder without package.json in node_modules
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'has no package.json' : code === 'ENOTDIR' ? 'is not a folder' : `package.json cannot be read: ${(err as Error).message}`;
    return [{ source, path: dir, message: `plugin folder ${why}` }];
  }
  let pkg: PackageJson;
  try {
    pkg = JSON.parse(text) as PackageJson;
    if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) throw new Error('not a JSON object');
  } catch (err) {
    // In node_modules a broken package.json is reported only when it looks like a Focal plugin.
    if (!explicit && !text.includes('"focal')) return undefined;
    return [{ source, path: dir, field: 'package.json', message: `package.json is not valid JSON: ${(err as Error).message}` }];
  }
  const name = typeof pkg.name === 'string' ? pkg.name : undefined;
  const base = { source, path: dir, ...(name ? { package: name } : {}) };
  const keywords = Array.isArray(pkg.keywords) ? pkg.keywords : [];
  if (pkg.focal === undefined) {
    if (explicit) return [{ ...base, field: 'focal', message: 'package.json has no "focal" field (the plugin manifest); generate it with manifestForPackage' }];
    if (keywords.includes(PLUGIN_KEYWORD)) {
      return [{ ...base, field: 'focal', message: `package has the keyword "${PLUGIN_KEYWORD}" but its package.json has no "focal" field (the plugin manifest is missing)` }];
    }
    return undefined;
  }
  if (typeof pkg.focal !== 'object' || pkg.focal === null || Array.isArray(pkg.focal)) {
    return [{ ...base, field: 'focal', message: 'the "focal" field must be an object (the plugin manifest)' }];
  }
  const focal = pkg.focal as Record<string, unknown>;
  const problems: DiscoveryProblem[] = [];
  const candidate = {
    ...focal,
    version: focal.version ?? pkg.version,
    description: focal.description ?? (typeof pkg.description === 'string' ? pkg.description : ''),
    entry: focal.entry ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js'),
  };
  if (candidate.version === undefined) problems.push({ ...base, field: 'focal.version', message: 'no version: set "version" in package.json' });
  const parsed = PluginManifestSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (candidate.version === undefined && issue.path[0] === 'version') continue;
      problems.push({ ...base, field: ['focal', ...issue.path.map(String)].join('.'), message: issue.message });
    }
    return problems;
  }
  const manifest = parsed.data;

  if (manifest.engine !== undefined) {
    try {
      if (!satisfiesRange(focalVersion, manifest.engine)) {
        problems.push({ ...base, field: 'focal.engine', message: `plugin requires Focal ${manifest.engine}, this is Focal ${focalVersion}` });
      }
    } catch (err) {
      problems.push({ ...base, field: 'focal.engine', message: (err as Error).message });
    }
  }

  manifest.operations.forEach((op, i) => {
    const field = `focal.operations.${i}.params`;
    if (op.params.type !== undefined && op.params.type !== 'object') {
      problems.push({ ...base, field, message: `operation '${op.id}': params must be a JSON Schema of type "object"` });
      return;
    }
    try {
      z.fromJSONSchema(op.params as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (err) {
      problems.push({ ...base, field, message: `operation '${op.id}': params is not a usable JSON Schema: ${(err as Error).message}` });
    }
  });

  const entry = resolve(dir, manifest.entry!);
  const rel = relative(dir, entry);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    problems.push({ ...base, field: 'focal.entry', message: `entry '${manifest.entry}' lies outside the package folder` });
  } else {
    const s = await stat(entry).catch(() => undefined);
    if (!s?.isFile()) problems.push({ ...base, field: 'focal.entry', message: `entry file '${manifest.entry}' does not exist` });
  }

  if (problems.length) return problems;
  return { manifest, location: { packageDir: dir, entry, source, ...(name ? { packageName: name } : {}) } };
}

import { hostFocalVersion } from './version.js';
export { hostFocalVersion };

async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

// ---- a small semver range check ----

type Triple = [number, number, number, string?];

const VERSION_RE = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const PARTIAL_RE = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function parseVersion(v: string): Triple {
  const m = VERSION_RE.exec(v.trim());
  if (!m) throw new FocalError('E_ARGUMENT', `'${v}' is not a semver version (x.y.z)`);
  return [Number(m[1]), Number(m[2]), Number(m[3]), m[4]];
}

function compare(a: Triple, b: Triple): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
  if (a[3] === b[3]) return 0;
  if (a[3] === undefined) return 1; // a release is greater than its pre-releases
  if (b[3] === undefined) return -1;
  const pa = a[3].split('.');
  const pb = b[3].split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    const na = /^\d+$/.test(pa[i]) ? Number(pa[i]) : NaN;
    const nb = /^\d+$/.test(pb[i]) ? Number(pb[i]) : NaN;
    if (pa[i] === pb[i]) continue;
    if (!Number.isNaN(na) && !Number.isNaN(nb)) return na < nb ? -1 : 1;
    if (!Number.isNaN(na)) return -1;
    if (!Number.isNaN(nb)) return 1;
    return pa[i] < pb[i] ? -1 : 1;
  }
  return 0;
}

type Test = (v: Triple) => boolean;

function comparatorTests(comp: string, range: string): Test[] {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(comp)!;
  const op = m[1] ?? '';
  const p = PARTIAL_RE.exec(m[2]);
  if (!p) throw new FocalError('E_ARGUMENT', `'${range}' is not a supported version range (use e.g. "^0.1.0", "~1.2.0", ">=1.0.0 <2.0.0", "*")`);
  const wild = (s: string | undefined) => s === undefined || /^[xX*]$/.test(s);
  const major = wild(p[1]) ? undefined : Number(p[1]);
  const minor = major === undefined || wild(p[2]) ? undefined : Number(p[2]);
  const patch = minor === undefined || wild(p[3]) ? undefined : Number(p[3]);
  const pre = patch === undefined ? undefined : p[4];
  const ge = (t: Triple): Test => (v) => compare(v, t) >= 0;
  const lt = (t: Triple): Test => (v) => compare(v, t) < 0;
  const low: Triple = [major ?? 0, minor ?? 0, patch ?? 0, pre];
  if (major === undefined) return op === '<' || op === '>' ? [() => false] : [];
  // upper bound (exclusive) of the partial version itself: 1 → 2.0.0, 1.2 → 1.3.0
  const nextOfPartial: Triple = minor === undefined ? [major + 1, 0, 0] : patch === undefined ? [major, minor + 1, 0] : [major, minor, patch + 1];
  switch (op) {
    case '^': {
      const hi: Triple = major > 0 || minor === undefined ? [major + 1, 0, 0] : minor > 0 || patch === undefined ? [0, minor + 1, 0] : [0, 0, patch + 1];
      return [ge(low), lt(hi)];
    }
    case '~':
      return [ge(low), lt(minor === undefined ? [major + 1, 0, 0] : [major, minor + 1, 0])];
    case '>=':
      return [ge(low)];
    case '>':
      return patch === undefined ? [ge(nextOfPartial)] : [(v) => compare(v, low) > 0];
    case '<=':
      return patch === undefined ? [lt(nextOfPartial)] : [(v) => compare(v, low) <= 0];
    case '<':
      return [lt(low)];
    default:
      return patch === undefined ? [ge(low), lt(nextOfPartial)] : [(v) => compare(v, low) === 0];
  }
}

/**
 * Whether `version` satisfies the semver `range`. Supports `*`, exact versions, partial
 * versions and x-ranges (`1.2`, `1.x`), `^`, `~`, `>=`, `>`, `<=`, `<`, `=`, space-separated
 * comparators (all must hold) and `||` alternatives. Pre-release versions are ordered as
 * semver orders them but are not otherwise excluded. Hyphen ranges are not supported.
 * Throws `E_ARGUMENT` for a malformed version or range.
 */
export function satisfiesRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  const alternatives = range.split('||');
  return alternatives
    .map((alt) => {
      const comps = alt.trim().replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1').split(/\s+/).filter(Boolean);
      return comps.flatMap((c) => comparatorTests(c, range));
    })
    .some((tests) => tests.every((t) => t(v)));
}
