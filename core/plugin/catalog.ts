import type { z } from 'zod';
import { FocalError } from '../errors.js';
import type { AnyOperationDef, PluginDef } from './contract.js';
import { manifestFromOperation, type OperationManifest } from './manifest.js';
import type { FoundReader } from './readers.js';

/** One operation as the host knows it: its static manifest, and its code on demand. */
export interface CatalogEntry {
  readonly pluginId: string;
  readonly pluginVersion: string;
  readonly manifest: OperationManifest;
  /**
   * False for a third-party plugin's operation: the executor hands it a copy of any input that
   * another node or a pipeline output still needs. True (built-in) or absent (plugins a library
   * user composed in memory): trusted not to modify its inputs, no copy.
   */
  readonly builtin?: boolean;
  /** Schema that validates (and fills defaults of) the op's params: the op's own zod schema when its code is loaded, else one built from the manifest's JSON Schema. */
  paramsSchema(): z.ZodType;
  /** The operation's code; a third-party plugin's module is imported on the first call. */
  load(): Promise<AnyOperationDef>;
}

/** What the pipeline validator and executor need from the plugin registry. */
export interface OperationCatalog {
  get(opId: string): CatalogEntry | undefined;
  /** All operation ids, sorted. */
  ids(): string[];
  /**
   * Makes the named operations' own param schemas available before validation (a registry
   * loads the code of lazily registered built-ins); absent where all code is loaded already.
   */
  prepare?(opIds: Iterable<string>): Promise<void>;
  /**
   * The plugin reader contribution that takes this input path (by extension, or a dataset
   * folder by its contents), with its code; undefined when none does. Absent: TIFF only.
   */
  readerFor?(path: string): Promise<FoundReader | undefined>;
}

/** The op ids a pipeline document names (tolerant of any shape: validation reports the problems). */
export function opIdsOf(doc: unknown): string[] {
  const nodes = (doc as { nodes?: unknown } | null)?.nodes;
  if (typeof nodes !== 'object' || nodes === null) return [];
  return Object.values(nodes as Record<string, unknown>).flatMap((n) => {
    const op = (n as { op?: unknown } | null)?.op;
    return typeof op === 'string' ? [op] : [];
  });
}

/** An in-memory catalog over plugins whose code is already loaded (built-ins, tests). */
export function catalogFromPlugins(plugins: readonly PluginDef[]): OperationCatalog {
  const entries = new Map<string, CatalogEntry>();
  for (const plugin of plugins) {
    for (const op of plugin.operations) {
      if (entries.has(op.id)) throw new FocalError('E_MANIFEST', `operation '${op.id}' is declared twice`, { op: op.id });
      entries.set(op.id, entryFromOperation(plugin, op));
    }
  }
  return { get: (id) => entries.get(id), ids: () => [...entries.keys()].sort() };
}

export function entryFromOperation(plugin: Pick<PluginDef, 'id' | 'version'>, op: AnyOperationDef): CatalogEntry {
  let manifest: OperationManifest | undefined;
  return {
    pluginId: plugin.id,
    pluginVersion: plugin.version,
    get manifest() {
      return (manifest ??= manifestFromOperation(op));
    },
    paramsSchema: () => op.params,
    load: async () => op,
  };
}
