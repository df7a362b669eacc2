/**
 * `focal submit` and `focal watch` run job after job in one kept run thread (core's
 * RunThreadPool), and `--fresh-thread` gives every job a new one. Observed through the test
 * plugin's faulty.count, whose output is how many times it has run in its thread: state a
 * plugin keeps in its module reaches the next job on a kept thread, and never with
 * --fresh-thread.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStack, readTiff, writeTiff } from '../core/index.js';
import { focal, ROOT, tempDir } from './helpers.js';

const PLUGIN = ['--plugin', join(ROOT, 'test', 'fixtures', 'faulty-plugin')];
const root = tempDir('focal-thread-reuse-');
const inDir = join(root, 'in');
const pipeline = join(root, 'count.json');

beforeAll(async () => {
  mkdirSync(inDir);
  for (let i = 0; i < 3; i++) {
    await writeTiff(join(inDir, `s${i}.tif`), createStack({ width: 8, height: 8, dtype: 'uint16', planes: [new Uint16Array(64).fill(i + 7)] }));
  }
  writeFileSync(pipeline, JSON.stringify({ name: 'count', inputs: { stack: { type: 'stack' } }, nodes: { c: { op: 'faulty.count', in: { stack: 'stack' } } }, outputs: { count: 'c.stack' } }));
});

/** faulty.count's value in each job's output, in job order (the file names' order). */
async function counts(out: string): Promise<number[]> {
  const jobs = readdirSync(out).filter((d) => /^s\d$/.test(d)).sort();
  expect(jobs).toEqual(['s0', 's1', 's2']);
  return Promise.all(jobs.map(async (j) => (await readTiff(join(out, j, 'count.tif'))).planes[0][0]));
}

describe('a kept run thread between jobs', () => {
  it('focal submit runs the jobs on one thread; --fresh-thread starts one per job', async () => {
    const kept = focal([...PLUGIN, 'submit', pipeline, '--input', join(inDir, '*.tif'), '--out', join(root, 'kept'), '--json']);
    expect(kept.code, kept.stderr).toBe(0);
    expect(await counts(join(root, 'kept'))).toEqual([1, 2, 3]);
    const fresh = focal([...PLUGIN, 'submit', pipeline, '--input', join(inDir, '*.tif'), '--out', join(root, 'fresh'), '--fresh-thread', '--json']);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(await counts(join(root, 'fresh'))).toEqual([1, 1, 1]);
  });

  it('focal watch keeps its thread too, and --fresh-thread with --queue is refused, naming the flag', async () => {
    const w = focal([...PLUGIN, 'watch', inDir, '--pipeline', pipeline, '--out', join(root, 'watch'), '--once', '--settle-ms', '100', '--json']);
    expect(w.code, w.stderr).toBe(0);
    expect((await counts(join(root, 'watch'))).sort()).toEqual([1, 2, 3]);
    for (const cmd of [['submit', pipeline, '--input', join(inDir, '*.tif'), '--out', join(root, 'q')], ['watch', inDir, '--pipeline', pipeline, '--out', join(root, 'q')]]) {
      const r = focal([...PLUGIN, ...cmd, '--queue', 'redis://127.0.0.1:1', '--fresh-thread']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--fresh-thread with --queue');
    }
  });
});
