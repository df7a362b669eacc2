import { stat } from 'node:fs/promises';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { FocalError } from '../errors.js';
import type { CatalogEntry, OperationCatalog } from './catalog.js';
import type { AnyOperationDef, PluginDef, Ports } from './contract.js';
import {
  contributionManifests, contributionsOf, CONTRIBUTION_POINTS, manifestFromOperation, manifestFromPlugin, paramsJsonSchema, PluginManifestSchema,
  type BundledFile, type Contributions, type ModelExtrasContribution, type OperationManifest, type PluginManifest, type ReaderContribution, type TrainerManifest,
} from './manifest.js';
import type { ModelExtrasDef, ModelExtrasResolver } from '../ml/model-extras.js';
import { folderEntries, folderMatches, type FoundReader } from './readers.js';
import { discoverPlugins, type DiscoverOptions, type DiscoveryProblem } from './discovery.js';

/**
 * Focal's public API as a plugin factory receives it: the module object of
 * `core/index.ts` (the `focal` package's main entry).
 */
export type FocalApi = typeof import('../index.js');

/**
 * The recommended default export of a third-party plugin's entry module: a function
 * that receives Focal's public API and returns the plugin.
 *
 * ```js
 * export default (focal) => focal.definePlugin({ id: 'invert', ..., operations: [
 *   focal.defineOperation({ id: 'invert.apply', params: focal.z.strictObject({ ... }), ... }),
 * ] });
 * ```
 *
 * The plugin then needs no resolvable `focal` (or `zod`) dependency of its own: it
 * can be installed anywhere, it shares the host's copy of zod (so its schemas are the
 * host's zod types), and `instanceof FocalError` works across the boundary. A plain
 * `PluginDef` object as default export is accepted too (it must then import Focal
 * itself, e.g. as a peer dependency).
 */
export type PluginFactory = (focal: FocalApi) => PluginDef | Promise<PluginDef>;

/** Where a registered plugin came from. */
export type PluginSource = 'builtin' | 'package' | 'path' | 'config';

/** Where a third-party plugin lives on disk. */
export interface PluginLocation {
  /** The package folder (holds package.json). */
  packageDir: string;
  /** Entry module, absolute or relative to `packageDir`. */
  entry: string;
  /** How it was found: installed in node_modules, given with `--plugin`, or listed in focal.config.json. */
  source: 'package' | 'path' | 'config';
  /** package.json `name`, used in messages. */
  packageName?: string;
}

/** What `plugins()` lists about one plugin. */
export interface PluginInfo {
  id: string;
  version: string;
  description: string;
  source: PluginSource;
  /** Absent for plugins registered as loaded code (built-ins). */
  location?: { packageDir: string; entry: string; packageName?: string };
  /** semver range of Focal the plugin declares. */
  engine?: string;
  /** Whether the plugin's code has been imported. */
  loaded: boolean;
  operations: OperationManifest[];
  /** What it contributes besides operations: readers, models, sample data, pipelines (every point present, maybe empty). */
  contributions: Contributions;
  /** Trainers the plugin contributes (`focal train <id>`). */
  trainers: TrainerManifest[];
}

export interface PluginRegistryOptions {
  /**
   * Provides Focal's public API to factory-form plugins (`export default (focal) => ...`).
   * Default: `() => import('../index.js')`, a dynamic import evaluated only when the first
   * factory plugin loads, so there is no static import cycle between the public entry
   * (which re-exports this module) and the registry. Embedding applications and tests
   * may pass their own (e.g. a wrapped API).
   */
  hostApi?: () => Promise<FocalApi>;
}

interface Registered {
  info: Omit<PluginInfo, 'loaded' | 'operations' | 'contributions' | 'trainers'>;
  manifest: PluginManifest;
  /** Loaded code; set for built-ins registered as code at once, for the others after `load()`. */
  def?: PluginDef;
  /** Imports the code of a plugin registered with {@link PluginRegistry.registerLazyPlugin}. */
  loader?: () => Promise<PluginDef>;
  loading?: Promise<PluginDef>;
  /** Schemas built from the manifest's JSON Schema, per op id. */
  jsonParams: Map<string, z.ZodType>;
}

/** Result of `PluginRegistry.discover`. */
export interface RegistryDiscoverResult {
  /** Plugins registered by this call. */
  registered: PluginInfo[];
  /** Per-plugin problems (invalid manifests, engine mismatch, duplicates); never fatal. */
  problems: DiscoveryProblem[];
}

/**
 * The host's plugin registry: built-in plugins registered as code, third-party plugins
 * registered from their static manifests and imported lazily on first use.
 *
 * It is an {@link OperationCatalog}: pipelines are validated against `get(opId)`'s
 * manifest and `paramsSchema()` without importing any third-party code; the code is
 * imported by the first `load()` of any of the plugin's operations.
 *
 * One registry per host (no process-global state); plugin ids, operation ids and model tasks
 * with declared extras are unique within it and a second registration of any throws `E_MANIFEST`.
 * It resolves a model task to its extras' schema (a {@link ModelExtrasResolver}, for
 * `loadModelPackage(dir, { extras: registry })`), importing only the owning plugin.
 */
export class PluginRegistry implements OperationCatalog, ModelExtrasResolver {
  private readonly byPlugin = new Map<string, Registered>();
  /** Model task → the plugin that declares its manifests' `extra` (modelExtras contributions). */
  private readonly byTask = new Map<string, Registered>();
  private readonly byOp = new Map<string, { plugin: Registered; op: OperationManifest; entry: CatalogEntry }>();
  private readonly hostApi: () => Promise<FocalApi>;

  constructor(options: PluginRegistryOptions = {}) {
    this.hostApi = options.hostApi ?? (() => import('../index.js'));
  }

  /** Registers a plugin whose code is loaded (built-ins, embedding applications, tests). */
  registerPlugin(def: PluginDef, source: PluginSource = 'builtin'): void {
    checkPluginShape(def, describe({ source, id: String((def as { id?: unknown })?.id) }));
    const manifest = manifestFromPlugin(def);
    const parsed = PluginManifestSchema.safeParse(manifest);
    if (!parsed.success) {
      throw new FocalError('E_MANIFEST', `plugin '${def.id}' is invalid: ${formatIssues(parsed.error.issues)}`, { plugin: def.id });
    }
    this.add({ info: { id: def.id, version: def.version, description: def.description, source }, manifest, def, jsonParams: new Map() });
  }

  /**
   * Registers a plugin from its static manifest with a function that imports its code on first
   * use: how the host registers the built-ins (plugins/builtins.ts), so that listing plugins or
   * validating a pipeline imports no plugin code it does not use. The code is checked against
   * the manifest when it loads, as a third-party plugin's is.
   *
   * `options.parsed` says the manifest is already the output of `PluginManifestSchema`: the
   * built-ins' generated manifests are (test/builtin-manifests.test.ts parses each and finds it
   * unchanged), so every command skips parsing them again (about 10 ms of a start-up).
   */
  registerLazyPlugin(manifest: PluginManifest, load: () => Promise<PluginDef>, source: PluginSource = 'builtin', options: { parsed?: boolean } = {}): void {
    let m = manifest;
    if (!options.parsed) {
      const parsed = PluginManifestSchema.safeParse(manifest);
      if (!parsed.success) {
        throw new FocalError('E_MANIFEST', `plugin manifest of '${String((manifest as { id?: unknown })?.id)}' is invalid: ${formatIssues(parsed.error.issues)}`, { plugin: String((manifest as { id?: unknown })?.id) });
      }
      m = parsed.data;
    }
    this.add({ info: { id: m.id, version: m.version, description: m.description, source }, manifest: m, loader: load, jsonParams: new Map() });
  }

  /**
   * Loads the code of the lazily registered plugins (built-ins) whose operations are named, so
   * that validating a pipeline uses those operations' own zod schemas (with their refinements
   * and messages) rather than ones rebuilt from JSON Schema. Third-party plugins are not loaded
   * here: their code runs only when a pipeline runs. Unknown ids are left to the validator.
   */
  async prepare(opIds: Iterable<string>): Promise<void> {
    const plugins = new Set<string>();
    for (const id of opIds) {
      const p = this.byOp.get(id)?.plugin;
      if (p && p.loader && !p.def) plugins.add(p.manifest.id);
    }
    await Promise.all([...plugins].map((id) => this.loadPlugin(id)));
  }

  /**
   * Registers a third-party plugin from its manifest (the `focal` field of its package.json);
   * its code is not imported until one of its operations is loaded.
   */
  registerManifest(manifest: PluginManifest, location: PluginLocation): void {
    const where = location.packageName ?? location.packageDir;
    const parsed = PluginManifestSchema.safeParse(manifest);
    if (!parsed.success) {
      throw new FocalError('E_MANIFEST', `plugin manifest of ${where} is invalid: ${formatIssues(parsed.error.issues)}`, {
        package: where,
        file: join(location.packageDir, 'package.json'),
      });
    }
    const m = parsed.data;
    const entry = isAbsolute(location.entry) ? location.entry : resolve(location.packageDir, location.entry);
    this.add({
      info: {
        id: m.id,
        version: m.version,
        description: m.description,
        source: location.source,
        location: { packageDir: location.packageDir, entry, ...(location.packageName ? { packageName: location.packageName } : {}) },
        ...(m.engine ? { engine: m.engine } : {}),
      },
      manifest: m,
      jsonParams: new Map(),
    });
  }

  /**
   * Finds third-party plugins (see {@link discoverPlugins}) and registers each one.
   * A plugin whose id or op ids are already registered is skipped and reported as a
   * problem; nothing here throws for a bad plugin.
   */
  async discover(options: DiscoverOptions): Promise<RegistryDiscoverResult> {
    const { manifests, problems } = await discoverPlugins(options);
    const registered: PluginInfo[] = [];
    for (const found of manifests) {
      try {
        this.registerManifest(found.manifest, found.location);
        registered.push(this.info(this.byPlugin.get(found.manifest.id)!));
      } catch (err) {
        if (!(err instanceof FocalError)) throw err;
        problems.push({
          source: found.location.source,
          path: found.location.packageDir,
          ...(found.location.packageName ? { package: found.location.packageName } : {}),
          field: 'focal.id',
          message: err.message,
        });
      }
    }
    return { registered, problems };
  }

  /** Every reader contribution with its plugin id, plugins in id order (manifests only: no code imported). */
  readers(): { pluginId: string; reader: ReaderContribution }[] {
    return [...this.byPlugin.values()]
      .sort((a, b) => a.manifest.id.localeCompare(b.manifest.id))
      .flatMap((p) => (p.manifest.readers ?? []).map((reader) => ({ pluginId: p.manifest.id, reader })));
  }

  /**
   * The reader contribution that takes `path`, with its code, or undefined when none does: for a
   * file, the first reader (plugins in id order) whose `extensions` include the file's
   * (case-insensitive); for a folder, the first whose `folder.contains` patterns its entries
   * match. The choice is made from the manifests; only the chosen reader's plugin is imported.
   */
  async readerFor(path: string): Promise<FoundReader | undefined> {
    const info = await stat(path).catch(() => undefined);
    if (!info) return undefined;
    let found: { pluginId: string; reader: ReaderContribution } | undefined;
    if (info.isDirectory()) {
      const entries = await folderEntries(path);
      if (entries) found = this.readers().find(({ reader }) => reader.folder && folderMatches(entries, reader.folder));
    } else {
      const ext = extname(path).toLowerCase();
      if (ext) found = this.readers().find(({ reader }) => reader.extensions?.includes(ext));
    }
    return found && { pluginId: found.pluginId, reader: await this.loadReader(found.pluginId, found.reader.id) };
  }

  /** A reader's code (imports its plugin on first use). Throws `E_MANIFEST` when the plugin's code has no such reader. */
  async loadReader(pluginId: string, readerId: string): Promise<FoundReader['reader']> {
    const def = await this.loadPlugin(pluginId);
    const reader = def.readers?.find((r) => r.id === readerId);
    if (!reader) {
      throw new FocalError('E_MANIFEST', `${describe(this.byPlugin.get(pluginId)!.info)}: its manifest lists reader '${readerId}' but its code has none`, { plugin: pluginId, reader: readerId });
    }
    return reader;
  }

  /** Every model task whose `extra` a plugin declares, with that plugin's id (manifests only: no code imported). */
  modelExtrasTasks(): { pluginId: string; task: string }[] {
    return [...this.byTask.entries()].map(([task, p]) => ({ pluginId: p.manifest.id, task })).sort((a, b) => a.task.localeCompare(b.task));
  }

  /**
   * The declared extras of model task `task` (imports the owning plugin on first use), or
   * undefined when no registered plugin declares the task. Throws `E_MANIFEST` when the plugin's
   * manifest lists the task but its code does not declare it.
   */
  async extrasFor(task: string): Promise<ModelExtrasDef | undefined> {
    const p = this.byTask.get(task);
    if (!p) return undefined;
    const def = (await this.loadPlugin(p.manifest.id)).modelExtras?.find((d) => d.task === task);
    if (!def) throw new FocalError('E_MANIFEST', `${describe(p.info)}: its manifest lists model extras of task '${task}' but its code has none`, { plugin: p.manifest.id, task });
    return def;
  }

  /** All registered plugins, sorted by id. */
  plugins(): PluginInfo[] {
    return [...this.byPlugin.values()].map((p) => this.info(p)).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** One plugin by id. */
  plugin(id: string): PluginInfo | undefined {
    const p = this.byPlugin.get(id);
    return p && this.info(p);
  }

  get(opId: string): CatalogEntry | undefined {
    return this.byOp.get(opId)?.entry;
  }

  ids(): string[] {
    return [...this.byOp.keys()].sort();
  }

  /**
   * The plugin's code: imports a third-party plugin's entry on the first call (concurrent
   * calls share one import) and checks it against the manifest. Throws `E_OP_NOT_FOUND`
   * for an unknown id, `E_PLUGIN` when the entry cannot be imported or does not export a
   * plugin, `E_MANIFEST` when the code does not match the manifest. A failure is remembered.
   */
  async loadPlugin(pluginId: string): Promise<PluginDef> {
    const p = this.byPlugin.get(pluginId);
    if (!p) throw new FocalError('E_OP_NOT_FOUND', `no plugin '${pluginId}' is registered`, { plugin: pluginId });
    if (p.def) return p.def;
    p.loading ??= this.importAndCheck(p).then((def) => (p.def = def));
    return p.loading;
  }

  private info(p: Registered): PluginInfo {
    return { ...p.info, loaded: p.def !== undefined, operations: p.manifest.operations, contributions: contributionsOf(p.manifest), trainers: p.manifest.trainers ?? [] };
  }

  private add(p: Registered): void {
    const id = p.manifest.id;
    const existing = this.byPlugin.get(id);
    if (existing) {
      throw new FocalError('E_MANIFEST', `plugin id '${id}' from ${describe(p.info)} is already registered by ${describe(existing.info)}`, {
        plugin: id,
        sources: [describe(existing.info), describe(p.info)],
      });
    }
    const seen = new Set<string>();
    for (const op of p.manifest.operations) {
      const other = this.byOp.get(op.id);
      if (other || seen.has(op.id)) {
        const first = other ? describe(other.plugin.info) : describe(p.info);
        throw new FocalError('E_MANIFEST', `operation '${op.id}' from ${describe(p.info)} is already registered by ${first}`, {
          op: op.id,
          sources: [first, describe(p.info)],
        });
      }
      seen.add(op.id);
    }
    for (const { task } of p.manifest.modelExtras ?? []) {
      const other = this.byTask.get(task);
      if (other) {
        throw new FocalError('E_MANIFEST', `model extras of task '${task}' from ${describe(p.info)} are already declared by ${describe(other.info)}; one plugin owns a task`, {
          task,
          sources: [describe(other.info), describe(p.info)],
        });
      }
    }
    this.byPlugin.set(id, p);
    for (const op of p.manifest.operations) this.byOp.set(op.id, { plugin: p, op, entry: this.entryFor(p, op) });
    for (const { task } of p.manifest.modelExtras ?? []) this.byTask.set(task, p);
  }

  private entryFor(p: Registered, op: OperationManifest): CatalogEntry {
    const findOp = (def: PluginDef): AnyOperationDef => def.operations.find((o) => o.id === op.id)!;
    if (p.def) {
      const code = findOp(p.def);
      let manifest: OperationManifest | undefined;
      return {
        pluginId: p.manifest.id,
        pluginVersion: p.manifest.version,
        builtin: p.info.source === 'builtin',
        get manifest() {
          return (manifest ??= manifestFromOperation(code));
        },
        paramsSchema: () => code.params,
        load: async () => code,
      };
    }
    return {
      pluginId: p.manifest.id,
      pluginVersion: p.manifest.version,
      builtin: p.info.source === 'builtin',
      manifest: op,
      paramsSchema: () => (p.def ? findOp(p.def).params : this.schemaFromManifest(p, op)),
      load: async () => findOp(await this.loadPlugin(p.manifest.id)),
    };
  }

  private schemaFromManifest(p: Registered, op: OperationManifest): z.ZodType {
    let schema = p.jsonParams.get(op.id);
    if (!schema) {
      try {
        schema = z.fromJSONSchema(op.params as Parameters<typeof z.fromJSONSchema>[0]);
      } catch (err) {
        throw new FocalError('E_MANIFEST', `${describe(p.info)}: operation '${op.id}': params is not a usable JSON Schema: ${errorMessage(err)}`, {
          plugin: p.manifest.id,
          op: op.id,
          field: `focal.operations.${op.id}.params`,
        }, { cause: err });
      }
      p.jsonParams.set(op.id, schema);
    }
    return schema;
  }

  private async importAndCheck(p: Registered): Promise<PluginDef> {
    if (p.loader) {
      let def: PluginDef;
      try {
        def = await p.loader();
      } catch (err) {
        throw new FocalError('E_PLUGIN', `${describe(p.info)}: cannot load its code: ${errorMessage(err)}`, { plugin: p.manifest.id }, { cause: err });
      }
      checkPluginShape(def, describe(p.info));
      checkAgainstManifest(def, p.manifest, describe(p.info));
      return def;
    }
    const location = p.info.location!;
    const where = describe(p.info);
    const def = await importPluginEntry(location.entry, { hostApi: this.hostApi, packageName: location.packageName ?? location.packageDir });
    checkAgainstManifest(def, p.manifest, where);
    return def;
  }
}

/**
 * Imports a plugin entry module and returns its plugin: the default export, called
 * with Focal's public API when it is a factory function. Throws `E_PLUGIN` naming the
 * package and file when the import or the factory throws, or when the module exports
 * no plugin. Used by the registry, and by tooling that generates a package's manifest.
 */
export async function importPluginEntry(file: string, options: { hostApi?: () => Promise<FocalApi>; packageName?: string } = {}): Promise<PluginDef> {
  const pkg = options.packageName ?? 'plugin';
  const details = { package: pkg, file };
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new FocalError('E_PLUGIN', `${pkg}: cannot import ${file}: ${errorMessage(err)}`, details, { cause: err });
  }
  let exported = mod.default;
  if (exported === undefined) {
    throw new FocalError('E_PLUGIN', `${pkg}: ${file} has no default export (export default (focal) => focal.definePlugin({...}))`, details);
  }
  if (typeof exported === 'function') {
    try {
      const api = await (options.hostApi ?? (() => import('../index.js')))();
      exported = await (exported as PluginFactory)(api);
    } catch (err) {
      throw new FocalError('E_PLUGIN', `${pkg}: the plugin factory exported by ${file} threw: ${errorMessage(err)}`, details, { cause: err });
    }
  }
  checkPluginShape(exported, `${pkg} (${file})`, details);
  return exported;
}

/**
 * The `focal` field to put in a plugin package's package.json, generated from the
 * plugin's code (params as JSON Schema from its zod schemas). `version` is left out:
 * discovery takes it from package.json's own `version`, so it is written only once.
 *
 * @param entry Entry module relative to the package folder, e.g. `"index.js"` or `"dist/index.js"`.
 * @param options.engine semver range of Focal the plugin supports, e.g. `"^0.1.0"`.
 */
export function manifestForPackage(def: PluginDef, entry: string, options: { engine?: string } = {}): Omit<PluginManifest, 'version'> {
  checkPluginShape(def, `plugin '${String(def?.id)}'`);
  const { version: _version, ...rest } = manifestFromPlugin(def);
  const { id, description, operations, ...contributions } = rest;
  const manifest = { id, description, ...(options.engine ? { engine: options.engine } : {}), entry, operations, ...contributions };
  const parsed = PluginManifestSchema.safeParse({ ...manifest, version: def.version });
  if (!parsed.success) throw new FocalError('E_MANIFEST', `plugin '${def.id}' is invalid: ${formatIssues(parsed.error.issues)}`, { plugin: def.id });
  return manifest;
}

function checkPluginShape(value: unknown, where: string, details: Record<string, unknown> = {}): asserts value is PluginDef {
  const fail = (what: string): never => {
    const id = (value as { id?: unknown } | null)?.id;
    throw new FocalError('E_PLUGIN', `${where}: ${what}`, { ...(typeof id === 'string' ? { plugin: id } : {}), ...details });
  };
  if (typeof value !== 'object' || value === null) fail('the default export is not a plugin (expected definePlugin({...}) or a factory returning it)');
  const v = value as Record<string, unknown>;
  if (typeof v.id !== 'string') fail('plugin has no string id');
  if (typeof v.version !== 'string') fail(`plugin '${String(v.id)}' has no string version`);
  if (typeof v.description !== 'string') fail(`plugin '${String(v.id)}' has no string description`);
  if (!Array.isArray(v.operations)) fail(`plugin '${String(v.id)}' has no operations array`);
  (v.operations as unknown[]).forEach((op, i) => {
    const o = (op ?? {}) as Record<string, unknown>;
    const name = typeof o.id === 'string' ? `operation '${o.id}'` : `operations[${i}]`;
    if (typeof o.id !== 'string') fail(`${name} has no string id`);
    if (typeof o.run !== 'function') fail(`${name} has no run function`);
    if (typeof (o.params as { safeParse?: unknown } | undefined)?.safeParse !== 'function') fail(`${name}: params is not a zod schema`);
    if (typeof o.inputs !== 'object' || o.inputs === null || typeof o.outputs !== 'object' || o.outputs === null) fail(`${name} needs inputs and outputs objects`);
  });
  if (v.modelExtras !== undefined) {
    if (!Array.isArray(v.modelExtras)) fail(`plugin '${String(v.id)}': modelExtras is not an array`);
    (v.modelExtras as unknown[]).forEach((r, i) => {
      const o = (r ?? {}) as Record<string, unknown>;
      const name = typeof o.task === 'string' ? `model extras of task '${o.task}'` : `modelExtras[${i}]`;
      if (typeof o.task !== 'string') fail(`${name} has no string task`);
      if (typeof (o.schema as { safeParse?: unknown } | undefined)?.safeParse !== 'function') fail(`${name}: schema is not a zod schema`);
    });
  }
  if (v.readers !== undefined) {
    if (!Array.isArray(v.readers)) fail(`plugin '${String(v.id)}': readers is not an array`);
    (v.readers as unknown[]).forEach((r, i) => {
      const o = (r ?? {}) as Record<string, unknown>;
      const name = typeof o.id === 'string' ? `reader '${o.id}'` : `readers[${i}]`;
      if (typeof o.id !== 'string') fail(`${name} has no string id`);
      if (typeof o.open !== 'function') fail(`${name} has no open(path) function`);
    });
  }
}

/**
 * The param names of an op as its JSON Schema lists them (`properties`): the shape's keys of
 * a plain zod object (refinements keep its type), else from the JSON Schema itself, which
 * costs a first-use conversion of the whole schema.
 */
function paramNames(op: AnyOperationDef): string[] | undefined {
  const schema = op.params as unknown as z.ZodType;
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  const properties = (paramsJsonSchema(op) as { properties?: Record<string, unknown> }).properties;
  return properties ? Object.keys(properties) : undefined;
}

/** Checks loaded code against the manifest it was listed with: same id, same op ids, same ports, same param names. */
function checkAgainstManifest(def: PluginDef, manifest: PluginManifest, where: string): void {
  const mismatch = (message: string, op?: string): never => {
    throw new FocalError('E_MANIFEST', `${where}: ${op ? `operation '${op}': ` : ''}${message}; the package.json "focal" field is out of date with the code (regenerate it with manifestForPackage)`, {
      plugin: manifest.id,
      ...(op ? { op } : {}),
    });
  };
  if (def.id !== manifest.id) mismatch(`the code's plugin id is '${def.id}' but the manifest says '${manifest.id}'`);
  const codeIds = def.operations.map((o) => o.id);
  const manifestIds = manifest.operations.map((o) => o.id);
  const missing = manifestIds.filter((id) => !codeIds.includes(id));
  const extra = codeIds.filter((id) => !manifestIds.includes(id));
  if (missing.length) mismatch(`the manifest lists operation(s) the code does not define: ${missing.join(', ')}`, missing[0]);
  if (extra.length) mismatch(`the code defines operation(s) the manifest does not list: ${extra.join(', ')}`, extra[0]);
  const fromCode = contributionManifests(def);
  const described = (list: readonly (ReaderContribution | BundledFile | ModelExtrasContribution)[] | undefined) =>
    (list ?? []).map((c) => ('task' in c ? c.task : 'path' in c ? `${c.id} (${c.path})` : `${c.id} (${[...(c.extensions ?? []), ...(c.folder?.contains ?? [])].join(' ')})`)).sort().join(', ');
  for (const point of CONTRIBUTION_POINTS) {
    const a = described(manifest[point]);
    const b = described(fromCode[point]);
    if (a !== b) mismatch(`${point} differ: the manifest has [${a}], the code has [${b}]`);
  }
  const codeTrainers = (def.trainers ?? []).map((t) => t.id).sort().join(', ');
  const manifestTrainers = (manifest.trainers ?? []).map((t) => t.id).sort().join(', ');
  if (codeTrainers !== manifestTrainers) mismatch(`trainers differ: the manifest has [${manifestTrainers}], the code has [${codeTrainers}]`);
  for (const m of manifest.operations) {
    const code = def.operations.find((o) => o.id === m.id)!;
    for (const dir of ['inputs', 'outputs'] as const) {
      const diff = portDifference(m[dir] as Ports, code[dir] as Ports);
      if (diff) mismatch(`${dir} differ: ${diff}`, m.id);
    }
    const declared = (m.params as { properties?: Record<string, unknown> }).properties;
    const actual = paramNames(code);
    if (declared && actual) {
      const a = Object.keys(declared).sort().join(', ');
      const b = actual.sort().join(', ');
      if (a !== b) mismatch(`params differ: the manifest has [${a}], the code has [${b}]`, m.id);
    }
  }
}

function portDifference(declared: Ports, actual: Ports): string | undefined {
  const names = new Set([...Object.keys(declared), ...Object.keys(actual)]);
  for (const name of names) {
    const d = declared[name];
    const a = actual[name];
    if (!d) return `port '${name}' is in the code but not in the manifest`;
    if (!a) return `port '${name}' is in the manifest but not in the code`;
    if (d.type !== a.type) return `port '${name}' is ${d.type} in the manifest but ${a.type} in the code`;
    if (Boolean(d.optional) !== Boolean(a.optional)) return `port '${name}' is ${d.optional ? 'optional' : 'required'} in the manifest but ${a.optional ? 'optional' : 'required'} in the code`;
  }
  return undefined;
}

function describe(info: { source: PluginSource; id: string; location?: { packageDir: string; packageName?: string } }): string {
  if (info.source === 'builtin') return `built-in plugin '${info.id}'`;
  const loc = info.location;
  if (!loc) return `${info.source} plugin '${info.id}'`;
  const how = info.source === 'package' ? 'package' : info.source === 'config' ? 'focal.config.json plugin' : '--plugin path';
  return `${how} ${loc.packageName ? `${loc.packageName} (${loc.packageDir})` : loc.packageDir}`;
}

function formatIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.message}`).join('; ');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
