import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FocalError } from '../errors.js';
import { assertNotOverwriting, ensureWritableFolder, isStagingFolder, processAlive, protectedFiles, removeStaleRunFiles, stagingName } from './run-output.js';
import { removeRunFiles } from './runner.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-run-output-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  expect(r.status).toBe(0);
  return r.pid;
}

async function rejection(promise: Promise<unknown>): Promise<FocalError> {
  try {
    await promise;
  } catch (err) {
    return err as FocalError;
  }
  throw new Error('expected the promise to reject');
}

describe('removeStaleRunFiles (issue 25: leftovers of killed runs)', () => {
  it('removes the staging folders, temp files and probes of dead processes, and nothing of a live one', async () => {
    const out = join(dir, 'stale');
    await mkdir(out);
    const dead = deadPid();
    expect(processAlive(dead)).toBe(false);
    expect(processAlive(process.pid)).toBe(true);
    const deadStaging = join(out, `.focal-staging-${dead}-0a1b2c`);
    await mkdir(deadStaging);
    await writeFile(join(deadStaging, 'img.tif'), 'partial');
    await writeFile(join(deadStaging, `.img.tif.focal-tmp-${dead}-00ff`), 'partial');
    await writeFile(join(out, `.img.tif.focal-tmp-${dead}-deadbeef`), 'partial');
    await writeFile(join(out, `.focal-probe-${dead}-12ab`), 'focal');
    const liveStaging = join(out, `.focal-staging-${process.pid}-abcdef`);
    await mkdir(liveStaging);
    await writeFile(join(out, `.img.tif.focal-tmp-${process.pid}-cafe`), 'being written');
    await writeFile(join(out, 'img.tif'), 'an output');
    await writeFile(join(out, `.focal-staging-${dead}-notes.txt`), 'not a staging name');

    const removed = await removeStaleRunFiles(out);

    expect(removed.sort()).toEqual([`.focal-probe-${dead}-12ab`, `.focal-staging-${dead}-0a1b2c`, `.img.tif.focal-tmp-${dead}-deadbeef`].sort());
    expect(readdirSync(out).sort()).toEqual([`.focal-staging-${dead}-notes.txt`, `.focal-staging-${process.pid}-abcdef`, `.img.tif.focal-tmp-${process.pid}-cafe`, 'img.tif'].sort());
  });

  it('names staging folders with this pid, and removeRunFiles removes a staging folder with its contents', async () => {
    const name = stagingName();
    expect(name).toMatch(new RegExp(`^\\.focal-staging-${process.pid}-[0-9a-f]+$`));
    expect(isStagingFolder(join(dir, name))).toBe(true);
    expect(isStagingFolder(join(dir, 'staging'))).toBe(false);
    const out = join(dir, 'undo');
    const staging = join(out, name);
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, 'a.tif'), 'x');
    await writeFile(join(out, 'keep.txt'), 'user file');
    await removeRunFiles({ started: [staging], written: [] }, undefined, out);
    expect(readdirSync(out)).toEqual(['keep.txt']);
  });

  it('removeRunFiles removes a folder the run moved into place (report_files/) with its contents, and leaves others', async () => {
    const out = join(dir, 'undo-folder');
    await mkdir(join(out, 'report_files', 'tiles_files', '0'), { recursive: true });
    await writeFile(join(out, 'report_files', 'tiles_files', '0', '0_0.png'), 'x');
    await writeFile(join(out, 'result.tif'), 'x');
    await mkdir(join(out, 'mine'));
    await writeFile(join(out, 'mine', 'notes.txt'), 'user file');
    await removeRunFiles({ started: [join(out, 'result.tif'), join(out, 'report_files')], written: [join(out, 'result.tif'), join(out, 'report_files')] }, undefined, out);
    expect(readdirSync(out)).toEqual(['mine']);
    expect(readdirSync(join(out, 'mine'))).toEqual(['notes.txt']);
  });
});

describe('removeRunFiles and the folders a run created', () => {
  it('removes the empty folders the run created up to createdDir, also when the deepest is gone already (a thread stopped halfway through its own clean-up)', async () => {
    const created = join(dir, 'made');
    const out = join(created, 'a', 'out');
    await mkdir(join(created, 'a'), { recursive: true }); // out itself removed already
    await removeRunFiles({ started: [], written: [] }, created, out);
    expect(existsSync(created)).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });

  it("removes this process's writability probes from the output folder (a run thread terminated inside ensureWritableFolder left one), not another live process's", async () => {
    const created = join(dir, 'made-probe');
    const out = join(created, 'out');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `.focal-probe-${process.pid}-0badc0de`), 'focal');
    await removeRunFiles({ started: [], written: [] }, created, out);
    expect(existsSync(created)).toBe(false);
    // a folder the run did not create keeps everything but this process's probe
    const kept = join(dir, 'kept-probe');
    await mkdir(kept);
    const other = `.focal-probe-${process.ppid}-0badc0de`;
    await writeFile(join(kept, `.focal-probe-${process.pid}-0badc0de`), 'focal');
    await writeFile(join(kept, other), 'focal');
    await removeRunFiles({ started: [], written: [] }, undefined, kept);
    expect(readdirSync(kept)).toEqual([other]);
  });

  it('stops at a folder that is not empty, and never goes above createdDir', async () => {
    const created = join(dir, 'made-kept');
    const out = join(created, 'out');
    await mkdir(out, { recursive: true });
    await writeFile(join(created, 'user.txt'), 'user file');
    await removeRunFiles({ started: [], written: [] }, created, out);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(created)).toEqual(['user.txt']);
    const empty = join(dir, 'empty-parent');
    await mkdir(join(empty, 'created', 'out'), { recursive: true });
    await removeRunFiles({ started: [], written: [] }, join(empty, 'created'), join(empty, 'created', 'out'));
    expect(existsSync(join(empty, 'created'))).toBe(false);
    expect(existsSync(empty)).toBe(true);
  });
});

describe('ensureWritableFolder (issue 25: --out /proc/xyz spun forever)', () => {
  it.each(['/proc/focal-out', '/proc/self/focal-out', '/sys/focal-out', '/dev/focal-out', '/dev/shm/focal-out/x'])('refuses %s (a kernel file system) without creating anything', async (folder) => {
    const err = await rejection(ensureWritableFolder(folder));
    expect(err).toBeInstanceOf(FocalError);
    expect(err).toMatchObject({ code: 'E_IO', details: { file: folder } });
    expect(err.message).toMatch(new RegExp(`^output folder ${folder} is not writable: it is under /(proc|sys|dev), a kernel file system`));
    expect(existsSync(folder)).toBe(false);
  });

  it('refuses a symlink into /proc, and a file in the way', async () => {
    const link = join(dir, 'to-proc');
    await symlink('/proc', link);
    await expect(ensureWritableFolder(join(link, 'out'))).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/under \/proc/) });
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(ensureWritableFolder(file)).rejects.toMatchObject({ code: 'E_IO', message: `output folder ${file} is not writable: a file is in the way (it is not a folder)` });
    await expect(ensureWritableFolder(join(file, 'out'))).rejects.toMatchObject({ code: 'E_IO', message: expect.stringMatching(/a file is in the way/) });
  });

  it('creates missing folders one level at a time, returns the outermost, and leaves no probe file', async () => {
    const top = join(dir, 'new');
    expect(await ensureWritableFolder(join(top, 'a', 'b'))).toBe(top);
    expect(readdirSync(join(top, 'a', 'b'))).toEqual([]);
    expect(await ensureWritableFolder(join(top, 'a', 'b'))).toBeUndefined();
  });
});

describe('assertNotOverwriting (issue 25: an output replaced its input)', () => {
  it('refuses an output that is an input by path, through a symlinked folder, or as a hard link; allows other files', async () => {
    const io = join(dir, 'io');
    await mkdir(io);
    const input = join(io, 'img.tif');
    await writeFile(input, 'pixels');
    await symlink(io, join(dir, 'io-link'));
    await mkdir(join(dir, 'other'));
    await link(input, join(dir, 'other', 'same.tif'));
    const reads = await protectedFiles([{ label: "input 'stack'", file: input }, { label: 'the pipeline file', file: join(dir, 'p.json') }]);

    const err = await rejection(assertNotOverwriting([{ name: 'img', file: join(io, 'img.tif') }], reads));
    expect(err).toMatchObject({ code: 'E_USAGE', details: { file: join(io, 'img.tif'), field: '/outputs/img', input } });
    expect(err.message).toBe(`output 'img' would be written to ${join(io, 'img.tif')}, which is input 'stack' (${input}): a run never overwrites what it reads; choose another --out folder or rename the output`);
    await expect(assertNotOverwriting([{ name: 'img', file: join(dir, 'io-link', 'img.tif') }], reads)).rejects.toMatchObject({ code: 'E_USAGE', details: { input } });
    await expect(assertNotOverwriting([{ name: 'same', file: join(dir, 'other', 'same.tif') }], reads)).rejects.toMatchObject({ code: 'E_USAGE', details: { input } });
    await expect(assertNotOverwriting([{ name: 'p', file: join(dir, 'p.json') }], reads)).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/which is the pipeline file/) });
    await expect(assertNotOverwriting([{ name: 'img', file: join(io, 'img.png') }, { name: 'x', file: join(dir, 'other', 'x.tif') }], reads)).resolves.toBeUndefined();
  });
});
