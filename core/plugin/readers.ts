import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ReaderDef } from './contract.js';
import type { ReaderContribution } from './manifest.js';

/** A reader the registry chose for a path: its plugin and its code. */
export interface FoundReader {
  pluginId: string;
  reader: ReaderDef;
}

/** The extensions Focal's own TIFF reader takes (the runner and `focal info` use it for these, plugin readers for the rest). */
export const TIFF_EXTENSIONS = ['.tif', '.tiff', '.btf', '.tf8'] as const;

/** Whether `path` names a TIFF file by its extension (case-insensitive). */
export function isTiffPath(path: string): boolean {
  return (TIFF_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** Whether a file name matches a reader's folder pattern (`*` matches any run of characters; case-sensitive). */
export function nameMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** Whether a folder's entries satisfy a reader's `folder.contains` (every pattern matched by some entry). */
export function folderMatches(entries: readonly string[], folder: NonNullable<ReaderContribution['folder']>): boolean {
  return folder.contains.every((pattern) => entries.some((name) => nameMatches(pattern, name)));
}

/** The names in a folder, or undefined when it cannot be listed. */
export async function folderEntries(dir: string): Promise<string[] | undefined> {
  try {
    return await readdir(dir);
  } catch {
    return undefined;
  }
}
