/**
 * Issue 25: a named pipe (FIFO) called `.tif` hung `focal info`, `focal run` and `focal watch`
 * (opening a FIFO for reading waits for a writer). The CLI refuses it naming the file; the
 * watcher skips it with a warning event and processes the regular files beside it.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContainer, createStack, MemoryLogger, PipelineRunner, PluginRegistry, readTiff, writeTiff } from '../core/index.js';
import { FolderWatcher, type WatchEvent } from '../cli/watch/engine.js';
import { focal, ROOT, tempDir } from './helpers.js';

describe('focal info / focal run and a FIFO named .tif', () => {
  it('both exit 1 with an error naming the file, without waiting for a writer', () => {
    const dir = tempDir('focal-fifo-');
    const fifo = join(dir, 'stack.tif');
    execFileSync('mkfifo', [fifo]);
    const info = focal(['info', fifo], { timeoutMs: 30_000 });
    expect(info.code).toBe(1);
    expect(info.stderr).toContain(`cannot open ${fifo}: it is a named pipe (FIFO), not a regular file`);
    const run = focal(['run', join(ROOT, 'pipelines', 'best-focus.json'), '--input', `stack=${fifo}`, '--out', join(dir, 'out')], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot open ${fifo}: it is a named pipe (FIFO), not a regular file`);
  });
});

async function watchOnce(inDir: string, root: string): Promise<WatchEvent[]> {
  const pipeline = join(root, 'copy.json');
  writeFileSync(pipeline, JSON.stringify({ name: 'copy', inputs: { img: { type: 'stack' } }, nodes: {}, outputs: { copy: 'img' } }));
  const container = createContainer({ catalog: new PluginRegistry(), logger: new MemoryLogger(), threads: 1 });
  const events: WatchEvent[] = [];
  const w = new FolderWatcher({
    dir: inDir,
    outDir: join(root, 'out'),
    pipelineFile: pipeline,
    inputName: 'img',
    once: true,
    settleMs: 60,
    acquisitionTimeoutMs: 1000,
    runner: container.resolve(PipelineRunner),
    onEvent: (e) => events.push(e),
  });
  await w.start();
  await w.finished; // a hang here fails the test at vitest's timeout
  return events;
}

describe('focal watch and non-regular files', () => {
  it('an NDTiff folder whose NDTiff.index is a FIFO is given up with a warning, not waited on forever', async () => {
    const root = tempDir('focal-watch-fifo-nd-');
    const inDir = join(root, 'in');
    const acq = join(inDir, 'acq');
    mkdirSync(acq, { recursive: true });
    execFileSync('mkfifo', [join(acq, 'NDTiff.index')]);
    writeFileSync(join(acq, 'acq_NDTiffStack.tif'), 'II*\0');
    const events = await watchOnce(inDir, root);
    const messages = events.filter((e): e is Extract<WatchEvent, { event: 'warning' }> => e.event === 'warning').map((e) => e.message);
    expect(messages.some((m) => m.includes(join(acq, 'NDTiff.index')) && /not a regular file/.test(m))).toBe(true);
    expect(events.filter((e) => e.event === 'job-queued')).toEqual([]);
  });

  it('a FIFO named .tif is skipped with a warning event; the regular file beside it is processed', async () => {
    const root = tempDir('focal-watch-fifo-');
    const inDir = join(root, 'in');
    const out = join(root, 'out');
    mkdirSync(inDir);
    const fifo = join(inDir, 'pipe.tif');
    execFileSync('mkfifo', [fifo]);
    await writeTiff(join(inDir, 'real.tif'), createStack({ width: 4, height: 4, dtype: 'uint8', planes: [new Uint8Array(16).fill(9)] }));
    const events = await watchOnce(inDir, root);
    const warnings = events.filter((e): e is Extract<WatchEvent, { event: 'warning' }> => e.event === 'warning');
    const about = warnings.filter((e) => e.input === fifo);
    expect(about).toHaveLength(1);
    expect(about[0].message).toContain(fifo);
    expect(about[0].message).toMatch(/named pipe \(FIFO\), not a regular file; skipped/);
    expect(events.filter((e) => e.event === 'job-queued').map((e) => (e as { input: string }).input)).toEqual([join(inDir, 'real.tif')]);
    expect(events.filter((e) => e.event === 'job-failed')).toEqual([]);
    const s = await readTiff(join(out, 'real', 'copy.tif'));
    expect(s.planes[0][0]).toBe(9);
  });
});
