import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIoBench } from '../../bench/io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-bench-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bench/io (small run)', () => {
  it('measures, and replaces its section of the benchmarks file', async () => {
    const docsPath = join(dir, 'benchmarks.md');
    await writeFile(docsPath, '# Benchmarks\n\n<!-- bench:other -->\nkeep me\n<!-- /bench:other -->\n');
    const opts = { width: 64, height: 32, planes: 3, repetitions: 1, dataDir: join(dir, 'data'), docsPath, log: () => undefined };
    const r = await runIoBench(opts);
    expect(r.bytes).toBe(64 * 32 * 3 * 2);
    expect(r.focal.write.seconds).toHaveLength(1);
    expect(r.focal.read.mbPerS).toBeGreaterThan(0);
    expect(r.markdown).toMatch(/^<!-- bench:io -->\n## TIFF I\/O/);
    expect(r.markdown.trimEnd().endsWith('<!-- /bench:io -->')).toBe(true);
    if (r.tifffile) expect(r.ratio!.read).toBeCloseTo(r.focal.read.mbPerS / r.tifffile.read.mbPerS, 9);
    await runIoBench(opts);
    const text = await readFile(docsPath, 'utf8');
    expect(text.match(/<!-- bench:io -->/g)).toHaveLength(1);
    expect(text).toContain('keep me');
  });
});
