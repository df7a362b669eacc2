import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchArgs, describeMachine, formatLoad, machineInfo, median, percentile, replaceBenchSection, writeBenchDocs } from '../bench/common.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'focal-bench-common-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bench/common', () => {
  it('median and percentile', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const xs = [5, 1, 4];
    median(xs);
    expect(xs).toEqual([5, 1, 4]); // not reordered
    const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];
    expect(percentile(ten, 50)).toBe(6);
    expect(percentile(ten, 95)).toBe(10);
    expect(percentile(ten, 0)).toBe(1);
    expect(percentile(ten, 100)).toBe(10);
  });

  it('machineInfo describes this machine', () => {
    const m = machineInfo();
    expect(m.cores).toBeGreaterThan(0);
    expect(m.ramGiB).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.load).toHaveLength(3);
    expect(describeMachine(m)).toBe(`${m.cpu}, ${m.cores} cores, ${m.ramGiB.toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}`);
    expect(formatLoad([1.234, 0.5, 2], 2)).toBe('1.23 / 0.50 / 2.00');
  });

  it('replaceBenchSection appends, then replaces only its own section', async () => {
    const path = join(dir, 'benchmarks.md');
    await writeFile(path, '# Benchmarks\n\n<!-- bench:other -->\nkeep me\n<!-- /bench:other -->\n');
    await replaceBenchSection(path, 'x', '## X\n\nfirst');
    expect(await readFile(path, 'utf8')).toBe('# Benchmarks\n\n<!-- bench:other -->\nkeep me\n<!-- /bench:other -->\n\n<!-- bench:x -->\n## X\n\nfirst\n<!-- /bench:x -->\n');
    // markdown that already carries its markers is not wrapped twice
    await replaceBenchSection(path, 'x', '<!-- bench:x -->\n## X\n\nsecond\n<!-- /bench:x -->');
    const text = await readFile(path, 'utf8');
    expect(text).toBe('# Benchmarks\n\n<!-- bench:other -->\nkeep me\n<!-- /bench:other -->\n\n<!-- bench:x -->\n## X\n\nsecond\n<!-- /bench:x -->\n');
  });

  it('writeBenchDocs writes <root>/docs/benchmarks.md unless writeDocs is false; benchArgs parses flags', async () => {
    const root = join(dir, 'root');
    const logged: string[] = [];
    await writeBenchDocs({ writeDocs: false }, 'z', 'nothing', (m) => logged.push(m), root);
    expect(logged).toEqual([]);
    await writeBenchDocs({}, 'z', 'body', (m) => logged.push(m), root);
    expect(await readFile(join(root, 'docs', 'benchmarks.md'), 'utf8')).toContain('<!-- bench:z -->\nbody\n<!-- /bench:z -->');
    expect(logged).toEqual([`wrote ${join(root, 'docs', 'benchmarks.md')}`]);
    const a = benchArgs(['--size', '512', '--no-docs']);
    expect(a.number('--size')).toBe(512);
    expect(a.number('--reps')).toBeUndefined();
    expect(a.has('--no-docs')).toBe(true);
    expect(a.has('--no-elastix')).toBe(false);
  });

  it('replaceBenchSection creates a missing file and its folder', async () => {
    const path = join(dir, 'new', 'docs', 'benchmarks.md');
    await replaceBenchSection(path, 'y', 'body');
    const text = await readFile(path, 'utf8');
    expect(text.startsWith('# Benchmarks\n')).toBe(true);
    expect(text.endsWith('\n\n<!-- bench:y -->\nbody\n<!-- /bench:y -->\n')).toBe(true);
  });
});
