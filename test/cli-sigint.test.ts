/**
 * Issue 14, "Must show": Ctrl-C during each long bundled pipeline stops it, with exit 130 and no
 * outputs. Real processes: the built CLI (`focal run <pipeline> --input … --out … --json`) gets
 * SIGINT (or SIGTERM) as soon as its long node reports that it started; the pipelines' inputs are
 * bound to synthetic files (bench/cancel.ts, makeLongInputs) large enough that the long node runs
 * for seconds when left alone (bench/cancel.ts's uninterrupted runs on a 2-core machine:
 * deconvolve-rl 10.6 s, deconvolve-landweber 20.2 s, elastic-register 13.6 s, edof-fuse 3.5 s,
 * stackreg-align 7.1 s, prepare-autofocus-dataset 6.5 s, simulate-defocus 11.8 s,
 * deepr-autofocus 26.1 s, count-nuclei 6.6 s). How fast they stop is the benchmark's business
 * (docs/benchmarks.md, "Stopping a run"), not this test's: no wall-clock thresholds here.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interruptRun, LONG_PIPELINES, makeLongInputs, type InterruptedRun, type LongInputs } from '../bench/cancel.js';

let dir: string;
let files: LongInputs;
/** A run that does not end is killed before vitest's 60 s test timeout (and the test fails). */
const timeoutMs = 45_000;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-sigint-'));
  files = await makeLongInputs(dir);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Stopped on purpose: exit 130, no result, the cancellation reported, no stack trace, the long node never done. */
function expectStopped(r: InterruptedRun, longNodes: string[]): void {
  expect(r.interruptedNode, `no long node started; stderr:\n${r.stderr}`).toBeDefined();
  expect(r.longNodeDoneBeforeSignal).toBe(false);
  expect(r.signal, `ended by a signal; stderr:\n${r.stderr}`).toBeNull();
  expect(r.code, r.stderr).toBe(130);
  expect(r.stdout).not.toContain('"event":"result"');
  expect(r.events.filter((e) => e.event === 'node-done' && longNodes.includes(String(e.node)))).toEqual([]);
  expect(r.events.find((e) => e.event === 'error')).toMatchObject({ code: 'E_CANCELLED' });
  expect(r.stderr).toMatch(/interrupted/);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/Unhandled|internal error|TypeError|RangeError/);
}

describe('focal run: Ctrl-C during a long bundled pipeline', () => {
  it.each(LONG_PIPELINES.map((p) => [p.name, p] as const))('%s: SIGINT in its long node → exit 130, no outputs, no output folder', async (_name, p) => {
    const out = join(dir, p.name, 'out');
    const r = await interruptRun({ pipeline: p.name, inputs: p.inputs(files), out, longNodes: p.longNodes, timeoutMs });
    expectStopped(r, p.longNodes);
    expect(r.outExists).toBe(false);
    expect(existsSync(join(dir, p.name))).toBe(false); // the parent folder it created too
  });

  it('SIGTERM stops a run the same way', async () => {
    const out = join(dir, 'sigterm', 'out');
    const r = await interruptRun({ pipeline: 'stackreg-align', inputs: { stack: files.zstack }, out, longNodes: ['align'], signal: 'SIGTERM', timeoutMs });
    expectStopped(r, ['align']);
    expect(r.outExists).toBe(false);
  });

  it('an output folder that existed stays, with only the file that was there before', async () => {
    const out = join(dir, 'existing');
    await mkdir(out);
    await writeFile(join(out, 'notes.txt'), 'my notes');
    // three nodes finish before the long one starts; a run writes its outputs only after its last
    // node, so the stopped run must leave the folder exactly as it found it
    const r = await interruptRun({ pipeline: 'deconvolve-rl', inputs: { stack: files.zstack }, out, longNodes: ['deconvolved'], timeoutMs });
    expectStopped(r, ['deconvolved']);
    expect(r.events.some((e) => e.event === 'node-done' && e.node === 'defocused')).toBe(true);
    expect(readdirSync(out)).toEqual(['notes.txt']);
  });
});
