/**
 * Folder trust: a project folder's own `focal.config.json` and `node_modules` may run plugin
 * code, so Focal loads them only when the user has marked the folder trusted (`focal trust
 * [path]`). Trusted folders are remembered by real path in `trusted-folders.json` in the
 * user's configuration folder (see {@link userConfigDir}); trusting a folder trusts the folders
 * inside it. Plugins named on the command line (`--plugin`, `--config`) and those listed in the
 * user's own configuration are always loaded: the user chose them.
 */
import { readFile, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, relative, resolve, isAbsolute } from 'node:path';
import { FocalError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export const TRUST_FILE_NAME = 'trusted-folders.json';

/**
 * The user's Focal configuration folder: `$XDG_CONFIG_HOME/focal`, else `%APPDATA%\focal` on
 * Windows, else `~/.config/focal`. Holds `focal.config.json` (plugins always loaded) and the
 * trusted-folders list.
 */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)) return join(env.XDG_CONFIG_HOME, 'focal');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'focal');
  return join(env.HOME || homedir(), '.config', 'focal');
}

function trustFile(configDir: string): string {
  return join(configDir, TRUST_FILE_NAME);
}

/** The trusted folders (real paths), sorted. A missing file is an empty list; a broken one is an error naming it. */
export async function listTrustedFolders(configDir = userConfigDir()): Promise<string[]> {
  const file = trustFile(configDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FocalError('E_IO', `cannot read ${file}: ${(err as Error).message}`, { file });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FocalError('E_USAGE', `${file} is not valid JSON (${(err as Error).message}); fix or delete it`, { file });
  }
  const folders = (doc as { folders?: unknown })?.folders;
  if (!Array.isArray(folders) || !folders.every((f) => typeof f === 'string' && isAbsolute(f))) {
    throw new FocalError('E_USAGE', `${file}: "folders" must be an array of absolute paths; fix or delete it`, { file, field: 'folders' });
  }
  return [...new Set(folders as string[])].sort();
}

async function saveTrustedFolders(configDir: string, folders: string[]): Promise<void> {
  await writeFileAtomic(trustFile(configDir), `${JSON.stringify({ folders: [...new Set(folders)].sort() }, null, 2)}\n`, { mkdir: true });
}

async function realFolder(path: string): Promise<string> {
  try {
    return await realpath(resolve(path));
  } catch {
    throw new FocalError('E_USAGE', `folder '${path}' does not exist`, { file: path });
  }
}

/** Marks a folder trusted; returns its real path. */
export async function trustFolder(path: string, configDir = userConfigDir()): Promise<string> {
  const real = await realFolder(path);
  const folders = await listTrustedFolders(configDir);
  if (!folders.includes(real)) await saveTrustedFolders(configDir, [...folders, real]);
  return real;
}

/** Removes a folder from the trusted list; returns its real path and whether it was there. */
export async function untrustFolder(path: string, configDir = userConfigDir()): Promise<{ folder: string; removed: boolean }> {
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch {
    real = resolve(path); // a folder deleted since: remove it by the path given
  }
  const folders = await listTrustedFolders(configDir);
  if (!folders.includes(real)) return { folder: real, removed: false };
  await saveTrustedFolders(configDir, folders.filter((f) => f !== real));
  return { folder: real, removed: true };
}

/** Whether `dir` (by real path) is a trusted folder or inside one. */
export async function isTrustedFolder(dir: string, configDir = userConfigDir()): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(resolve(dir));
  } catch {
    return false;
  }
  for (const f of await listTrustedFolders(configDir)) {
    const rel = relative(f, real);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return true;
  }
  return false;
}
