/**
 * What keeps a run from harming data in its output folder (PipelineRunner, issue 25):
 *
 * - the output folder is checked before anything runs: an existing or creatable regular folder,
 *   writable (a probe file is written and removed), and not on a kernel file system (/proc, /sys,
 *   /dev, or one of those file system types mounted elsewhere);
 * - no output file may be an input file or the pipeline file: same real path, or the same file
 *   through another name (hard link: same device and inode);
 * - a run writes its files into a hidden staging folder inside the output folder
 *   (`.focal-staging-<pid>-<hex>`) and moves them into place only when all are written;
 * - the staging folders and atomic-write temporary files (`.<name>.focal-tmp-<pid>-<hex>`) that a
 *   killed run left are removed by the next run into the same folder, when the process named in
 *   them is no longer alive (never those of a live run).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, realpath, rm, rmdir, stat, statfs, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { FocalError } from '../errors.js';

/** Name of the provenance record a run writes beside its outputs. */
export const PROVENANCE_FILE = 'run.json';

const STAGING_PATTERN = /^\.focal-staging-(\d+)-[0-9a-f]+$/;
const TEMP_PATTERN = /^\..+\.focal-tmp-(\d+)-[0-9a-f]+$/;
const PROBE_PATTERN = /^\.focal-probe-(\d+)-[0-9a-f]+$/;

/** A new staging folder name for this process. */
export function stagingName(): string {
  return `.focal-staging-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Whether `file`'s name is that of a run's staging folder. */
export function isStagingFolder(file: string): boolean {
  return STAGING_PATTERN.test(basename(file));
}

/** Whether a process with this id exists (one of another user counts: EPERM). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // not a pid Focal writes: leave it alone
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes, from `dir` (not below it), the staging folders, temporary files and probe files left by
 * runs whose process is gone (killed, crashed, power cut). Those of live processes, this one
 * included, are left alone. Returns the names removed. Never throws.
 */
export async function removeStaleRunFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = STAGING_PATTERN.exec(name) ?? TEMP_PATTERN.exec(name) ?? PROBE_PATTERN.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      /* left for a later run */
    }
  }
  return removed;
}

/** The real path of `path` when it may not exist yet: its nearest existing ancestor's real path, then the rest. */
export async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  const rest: string[] = [];
  for (let d = abs; ; d = dirname(d)) {
    try {
      const real = await realpath(d);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch {
      if (dirname(d) === d) return abs;
      rest.push(basename(d));
    }
  }
}

// Kernel file systems where a "folder" is not storage (statfs f_type, linux/magic.h).
const SPECIAL_FS: Record<number, string> = {
  0x9fa0: 'proc', 0x62656572: 'sysfs', 0x1cd1: 'devpts', 0x27e0eb: 'cgroup', 0x63677270: 'cgroup2',
  0x64626720: 'debugfs', 0x74726163: 'tracefs', 0x73636673: 'securityfs', 0xcafe4a11: 'bpf',
};
const SPECIAL_ROOTS = ['/proc', '/sys', '/dev'];

/**
 * Checks the output folder and creates it if needed: it must not be on a kernel file system, must
 * be (or become) a regular folder, and a file must be creatable in it (a probe file is written and
 * removed). Folders are created one level at a time (Node's recursive mkdir loops forever on
 * /proc). Returns the outermost folder it created (undefined when `dir` already existed), for
 * `removeRunFiles`.
 * @throws FocalError `E_IO` naming the folder and the reason.
 */
export async function ensureWritableFolder(dir: string): Promise<string | undefined> {
  const abs = resolve(dir);
  const fail = (reason: string, cause?: unknown): FocalError =>
    new FocalError('E_IO', `output folder ${dir} is not writable: ${reason}`, { file: dir }, cause !== undefined ? { cause } : undefined);
  const real = await realPathOf(abs);
  const root = SPECIAL_ROOTS.find((r) => real === r || real.startsWith(`${r}${sep}`));
  if (root) throw fail(`it is under ${root}, a kernel file system, not storage; choose a folder on a disk`);
  // The nearest existing ancestor (or the folder itself): its file system type.
  let existing = abs;
  const missing: string[] = [];
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch {
      if (dirname(existing) === existing) break;
      missing.unshift(existing);
      existing = dirname(existing);
    }
  }
  try {
    const fs = await statfs(existing);
    const kind = SPECIAL_FS[Number(fs.type)];
    if (kind) throw fail(`it is on a ${kind} file system, not storage; choose a folder on a disk`);
  } catch (err) {
    if (err instanceof FocalError) throw err;
  }
  let created: string | undefined;
  for (const d of missing) {
    try {
      await mkdir(d);
      created ??= d;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made by someone else meanwhile; checked below
      throw fail(errnoReason(err), err);
    }
  }
  try {
    const info = await stat(abs);
    if (!info.isDirectory()) throw fail('a file is in the way (it is not a folder)');
    await access(abs, constants.W_OK);
    const probe = join(abs, `.focal-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    await writeFile(probe, 'focal', { flag: 'wx' });
    // Gone already is fine: a cancelled run's clean-up in this process removes this process's
    // probes from the folder it cleans (removeRunFiles), and may do so while this check runs.
    await unlink(probe).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  } catch (err) {
    if (err instanceof FocalError) throw err;
    throw fail(errnoReason(err), err);
  }
  return created;
}

function errnoReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' ? 'permission denied'
    : code === 'ENOTDIR' || code === 'EEXIST' ? 'a file is in the way'
    : code === 'EROFS' ? 'read-only file system'
    : code === 'ENOSPC' ? 'disk full'
    : (err as Error).message;
}

interface FileIdentity {
  /** What the file is to the user (the input name, or 'the pipeline file'). */
  label: string;
  file: string;
  /** Real paths that name it: the path as given (real folder) and its target when it is a symlink. */
  paths: Set<string>;
  /** dev:ino of the file and of the link itself. */
  inodes: Set<string>;
}

/** Identities of the files a run reads, for {@link assertNotOverwriting}. */
export async function protectedFiles(files: { label: string; file: string }[]): Promise<FileIdentity[]> {
  const out: FileIdentity[] = [];
  for (const { label, file } of files) {
    const abs = resolve(file);
    const paths = new Set([join(await realPathOf(dirname(abs)), basename(abs))]);
    const inodes = new Set<string>();
    await realpath(abs).then((p) => paths.add(p), () => undefined);
    await stat(abs).then((s) => inodes.add(`${s.dev}:${s.ino}`), () => undefined);
    await lstat(abs).then((s) => inodes.add(`${s.dev}:${s.ino}`), () => undefined);
    out.push({ label, file, paths, inodes });
  }
  return out;
}

/**
 * Throws FocalError `E_USAGE` when one of `outputs` (output name → files it would write) is one of
 * the protected files: the same real path, or the same file under another name (dev and inode).
 */
export async function assertNotOverwriting(outputs: { name: string; file: string; field?: string; what?: string }[], protect: FileIdentity[]): Promise<void> {
  for (const { name, file, field, what } of outputs) {
    const abs = resolve(file);
    const real = join(await realPathOf(dirname(abs)), basename(abs));
    const info = await lstat(abs).catch(() => undefined);
    const inode = info ? `${info.dev}:${info.ino}` : undefined;
    const hit = protect.find((p) => p.paths.has(real) || (inode !== undefined && p.inodes.has(inode)));
    if (hit) {
      throw new FocalError(
        'E_USAGE',
        `${what ?? `output '${name}'`} would be written to ${file}, which is ${hit.label} (${hit.file}): a run never overwrites what it reads; choose another --out folder or rename the output`,
        { file, field: field ?? `/outputs/${name}`, input: hit.file },
      );
    }
  }
}

/** The output files of a run: those whose write began, and those whose write completed. */
export interface RunFiles {
  started: readonly string[];
  written: readonly string[];
}

/**
 * Undoes what a failed or cancelled run left in its output folder: its staging folder
 * (`.focal-staging-*`, with everything in it), each file it wrote completely (a same-named file of an earlier run that this run did not replace yet stays),
 * the temporary sibling of every atomic write it began (`.<name>.focal-tmp-*`), this process's
 * writability probes in `dir` (`.focal-probe-<pid>-*`: a run thread terminated between the
 * probe's write and its removal in ensureWritableFolder leaves one, which nobody else removes
 * while this process lives), then the folders from `dir` up to `createdDir` (the outermost one
 * the run created), each only if empty. Never throws.
 */
export async function removeRunFiles(files: RunFiles, createdDir: string | undefined, dir: string): Promise<void> {
  for (const file of new Set([...files.started, ...files.written])) {
    if (isStagingFolder(file)) await rm(file, { recursive: true, force: true }).catch(() => undefined);
  }
  // a folder this run moved into place (the report's report_files/) goes whole; it is this run's own
  for (const file of files.written) {
    const folder = (await lstat(file).catch(() => undefined))?.isDirectory() ?? false;
    await rm(file, { force: true, recursive: folder }).catch(() => undefined);
  }
  const byFolder = new Map<string, string[]>();
  for (const file of files.started) byFolder.set(dirname(file), [...(byFolder.get(dirname(file)) ?? []), `.${basename(file)}.focal-tmp-`]);
  for (const [folder, stems] of byFolder) {
    const names = await readdir(folder).catch(() => [] as string[]);
    for (const name of names) {
      if (stems.some((s) => name.startsWith(s))) await rm(join(folder, name), { force: true }).catch(() => undefined);
    }
  }
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (Number(PROBE_PATTERN.exec(name)?.[1]) === process.pid) await rm(join(dir, name), { force: true }).catch(() => undefined);
  }
  if (createdDir === undefined) return;
  const top = resolve(createdDir);
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      await rmdir(d); // removes only an empty folder
    } catch (err) {
      // Gone already (a run thread terminated halfway through its own clean-up removed it): go
      // on to its parent. Not empty, or not ours to remove: stop.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
    }
    if (d === top || dirname(d) === d) return;
  }
}
