/**
 * Issue 25, third-party plugin faults: each misbehaving operation of the fixture plugin
 * (test/fixtures/faulty-plugin) fails its run with an error that names the node, the op and
 * the plugin, leaves no output folder, and never takes the caller's process down.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInThread } from '../cli/run-host.js';
import { isFocalError, readTiff, type FocalError } from '../core/index.js';
import { ROOT } from './helpers.js';

const PLUGIN = join(ROOT, 'test', 'fixtures', 'faulty-plugin');
const SAMPLE = join(ROOT, 'samples', 'beads-zstack.tif');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-faults-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(op: string, options: { opTimeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ error: FocalError; outDir: string }> {
  const name = op.replace(/\W/g, '-');
  const pipelineFile = join(dir, `${name}.json`);
  await writeFile(pipelineFile, JSON.stringify({
    name,
    inputs: { s: { type: 'stack' } },
    nodes: { bad: { op, in: { stack: 's' } } },
    outputs: { out: 'bad.stack' },
  }));
  const outDir = join(dir, `out-${name}`);
  const error = await runInThread({ pipelineFile, inputs: { s: SAMPLE }, outDir }, { globals: { plugin: [PLUGIN] }, cwd: dir, quietDiscovery: true }, options)
    .then(() => { throw new Error('the run succeeded'); }, (e: unknown) => e);
  if (!isFocalError(error)) throw error;
  return { error, outDir };
}

describe('third-party plugin faults', () => {
  it.each([
    ['faulty.exit', /exit code 3/],
    ['faulty.late-throw', /unhandled error.*late boom/],
    ['faulty.unawaited', /unhandled error.*nobody awaited me/],
  ])('%s fails the node, naming node, op and plugin', async (op, why) => {
    const { error, outDir } = await run(op);
    expect(error.code).toBe('E_NODE_FAILED');
    expect(error.details).toMatchObject({ node: 'bad', op });
    expect(error.message).toContain(`node 'bad' (op '${op}' of plugin 'faulty')`);
    expect(error.message).toMatch(why);
    expect(error.message).not.toMatch(/\n\s+at /); // no stack trace in the message
    expect(existsSync(outDir)).toBe(false);
  }, 30_000);

  it('a per-op time limit stops an op whose promise never settles', async () => {
    const { error, outDir } = await run('faulty.hang', { opTimeoutMs: 1000 });
    expect(error.code).toBe('E_NODE_FAILED');
    expect(error.message).toContain("node 'bad' (op 'faulty.hang' of plugin 'faulty') did not finish within the operation time limit of 1 s");
    expect(existsSync(outDir)).toBe(false);
  }, 30_000);

  it('a per-op time limit stops an op that never yields', async () => {
    const { error, outDir } = await run('faulty.busy', { opTimeoutMs: 1000 });
    expect(error.code).toBe('E_NODE_FAILED');
    expect(error.message).toContain("node 'bad' (op 'faulty.busy' of plugin 'faulty') did not finish within the operation time limit of 1 s");
    expect(existsSync(outDir)).toBe(false);
  }, 30_000);

  it('cancelling still stops an op that never yields when there is no time limit', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const { error, outDir } = await run('faulty.busy', { signal: controller.signal });
    expect(error.code).toBe('E_CANCELLED');
    expect(existsSync(outDir)).toBe(false);
  }, 30_000);

  it('an op that zeroes its input in place does not change what another node sees', async () => {
    const pipelineFile = join(dir, 'mutate.json');
    await writeFile(pipelineFile, JSON.stringify({
      name: 'mutate',
      inputs: { s: { type: 'stack' } },
      nodes: { bad: { op: 'faulty.mutate', in: { stack: 's' } }, good: { op: 'faulty.copy', in: { stack: 's' } } },
      outputs: { zeroed: 'bad.stack', kept: 'good.stack' },
    }));
    const summary = await runInThread({ pipelineFile, inputs: { s: SAMPLE }, outDir: join(dir, 'out-mutate'), concurrency: 1 }, { globals: { plugin: [PLUGIN] }, cwd: dir, quietDiscovery: true });
    const file = (name: string) => summary.outputs.find((o) => o.name === name)!.files[0];
    const sum = (planes: ArrayLike<number>[]) => {
      let total = 0;
      for (const p of planes) for (let i = 0; i < p.length; i++) total += p[i];
      return total;
    };
    const original = await readTiff(SAMPLE);
    expect(sum((await readTiff(file('zeroed'))).planes)).toBe(0);
    expect(sum((await readTiff(file('kept'))).planes)).toBe(sum(original.planes));
    expect(sum(original.planes)).toBeGreaterThan(0);
  }, 30_000);
});
