/**
 * Training as a plugin contribution: `focal train --list` lists the trainers of the built-in
 * and third-party plugins, and `focal train <trainer>` runs a third-party one (a fixture plugin
 * given with --plugin) with its options parsed from its zod schema, `--json` events included.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.js';
import { captureStdio } from '../core/index.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'trainer-plugin');

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { value: code, stdout: out, stderr: err } = await captureStdio(() => main(argv));
  return { code, out, err };
}

describe('focal train (trainers contributed by plugins)', () => {
  it('--list shows the built-in trainers (Deep-R, VirFluoNet) and a third-party plugin\'s', async () => {
    const r = await capture(['train', '--list', '--plugin', fixture]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^deepr +train Deep-R .*\(plugin deepr\)$/m);
    expect(r.out).toMatch(/^line +fit y = a·x \+ b .*\(plugin line\)$/m);
    expect(r.out).toMatch(/^virfluonet +train VirFluoNet .*\(plugin virfluonet\)$/m);
    const j = await capture(['train', '--list', '--json', '--plugin', fixture]);
    const ev = JSON.parse(j.out.trim().split('\n').at(-1)!);
    expect(ev.trainers.map((t: { id: string }) => t.id).sort()).toEqual(['deepr', 'line', 'staining', 'staining.deepr', 'tsva', 'virfluonet']);
  });

  it('runs a third-party trainer with options from its schema and --json events', async () => {
    const r = await capture(['train', 'line', '--iterations', '1000', '--slope', '3', '--rate', '0.5', '--json', '--plugin', fixture]);
    expect(r.code).toBe(0);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string>);
    const its = events.filter((e) => e.event === 'iteration');
    expect(its).toHaveLength(1000);
    expect(its[999].loss).toBeLessThan(Number(its[0].loss) * 1e-3);
    const result = events.find((e) => e.event === 'result')!;
    expect(result.a).toBeCloseTo(3, 2);
    expect(result.b).toBeCloseTo(0.5, 2);
  });

  it('refuses a bad option value naming the flag, and an unknown trainer', async () => {
    const bad = await capture(['train', 'line', '--rate', '0', '--plugin', fixture]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--rate: must be > 0, got '0'/);
    const none = await capture(['train', 'nosuch']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no trainer 'nosuch' \(installed: deepr/);
  });
});
