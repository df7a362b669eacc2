import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from '../core/index.js';
import { main } from './main.js';
import { flag, parseOptions, positiveInt } from './options.js';
import { runOptions, watchOptions } from './command-options.js';

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function capture(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, stderr };
}

describe('CLI options from zod schemas', () => {
  it('a bad value is a usage error (exit 2) naming the flag and the value', async () => {
    const cases: [string[], string][] = [
      [['run', 'p.json', '-o', 'out', '--concurrency', '0'], "--concurrency: must be a positive integer, got '0'"],
      [['run', 'p.json', '-o', 'out', '--concurrency', '2.5'], "--concurrency: must be a positive integer, got '2.5'"],
      [['watch', 'in', '-p', 'p.json', '-o', 'out', '--max-queue', 'lots'], "--max-queue: must be a positive integer, got 'lots'"],
      [['watch', 'in', '-p', 'p.json', '-o', 'out', '--settle-ms', '-5'], "--settle-ms: must be a positive integer, got '-5'"],
      [['watch', 'in', '-p', 'p.json', '-o', 'out', '--grace-s', ''], "--grace-s: must be a positive integer, got ''"],
      [['--backend', 'cuda', 'doctor'], "--backend: unknown backend 'cuda'"],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr } = await capture(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr, argv.join(' ')).toContain(message);
    }
  });

  it('parses values into the schema output type (numbers, repeatable lists, defaults left out)', () => {
    const run = parseOptions(runOptions, { out: 'o', concurrency: '3', input: ['a=x.tif', 'b=y.tif'], json: true });
    expect(run).toEqual({ out: 'o', concurrency: 3, input: ['a=x.tif', 'b=y.tif'], json: true });
    const watch = parseOptions(watchOptions, { pipeline: 'p.json', out: 'o', acquisitionTimeoutS: '120', unrelatedGlobal: 'x' });
    expect(watch).toEqual({ pipeline: 'p.json', out: 'o', acquisitionTimeoutS: 120 });
  });

  it('names the long flag of a missing required value and of a bad one', () => {
    const schema = z.object({ out: flag(z.string(), '-o, --out <dir>', 'output'), n: flag(positiveInt(), '-n, --count <n>', 'count') });
    expect(() => parseOptions(schema, { n: '1' })).toThrowError(expect.objectContaining({ code: 'E_USAGE', details: { field: '--out' } }));
    expect(() => parseOptions(schema, { out: 'o', n: 'x' })).toThrowError("--count: must be a positive integer, got 'x'");
  });
});
