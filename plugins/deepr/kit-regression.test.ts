/**
 * Deep-R on core's learning kit trains exactly as before the move: re-training stage 2 of the
 * demo model from the same seed gives the loss rows recorded with the old code
 * (fixtures/stage2-losses.json). The rows were recorded starting from demo model 0.2.0, the one
 * shipped at that commit; the shipped model has changed since (0.4.0), so the test takes 0.2.0's
 * package out of the repository's history (`git archive`; it needs a clone with history). About a
 * minute on an idle core, so it runs only with FOCAL_SLOW_TESTS=1 (`npm run test:slow`), never in
 * `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { captureStdio } from '../../core/index.js';

const slow = process.env.FOCAL_SLOW_TESTS === '1';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The commit whose code and demo model (0.2.0) the fixture was recorded with. */
const RECORDED_AT = '840fdc6';

/** Demo model 0.2.0's package, from the repository's history, into `dir`; its folder. */
function demoModelAtRecording(dir: string): string {
  try {
    const tar = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', RECORDED_AT, 'models/deepr-demo'], { maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  } catch (err) {
    throw new Error(`this test needs demo model 0.2.0 from commit ${RECORDED_AT} (a git clone with history): ${(err as Error).message}`);
  }
  return join(dir, 'models', 'deepr-demo');
}
const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe.runIf(slow)('Deep-R on the learning kit (slow)', () => {
  it('re-training the demo model\'s stage 2 for 5 iterations gives the losses recorded before the move', async () => {
    const fixture = JSON.parse(await readFile(new URL('./fixtures/stage2-losses.json', import.meta.url), 'utf8')) as { args: string[]; rows: Record<string, number>[] };
    const out = await mkdtemp(join(tmpdir(), 'deepr-kit-'));
    dirs.push(out);
    const models = await mkdtemp(join(tmpdir(), 'deepr-kit-model-'));
    dirs.push(models);
    const args = [...fixture.args];
    const at = args.indexOf('--init-from');
    expect(args[at + 1]).toBe('deepr-demo');
    args[at + 1] = demoModelAtRecording(models);
    const { value: code, stdout, stderr } = await captureStdio(() => main([...args, '--out', out]));
    const lines = stdout.split('\n').filter(Boolean);
    expect(code, stderr).toBe(0);
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'iteration');
    expect(rows).toHaveLength(fixture.rows.length);
    fixture.rows.forEach((want, i) => {
      for (const [k, v] of Object.entries(want)) expect(rows[i][k], `iteration ${i + 1}, ${k}`).toBeCloseTo(v, 5);
    });
  }, 900_000);
});
