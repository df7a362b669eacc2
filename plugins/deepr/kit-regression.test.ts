/**
 * Deep-R on core's learning kit trains exactly as before the move: re-training stage 2 of the
 * shipped demo model from the same seed gives the loss rows recorded with the old code
 * (fixtures/stage2-losses.json). About a minute on an idle core, so it runs only with
 * FOCAL_SLOW_TESTS=1 (`npm run test:slow`), never in `npm test`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';

const slow = process.env.FOCAL_SLOW_TESTS === '1';
const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe.runIf(slow)('Deep-R on the learning kit (slow)', () => {
  it('re-training the demo model\'s stage 2 for 5 iterations gives the losses recorded before the move', async () => {
    const fixture = JSON.parse(await readFile(new URL('./fixtures/stage2-losses.json', import.meta.url), 'utf8')) as { args: string[]; rows: Record<string, number>[] };
    const out = await mkdtemp(join(tmpdir(), 'deepr-kit-'));
    dirs.push(out);
    const lines: string[] = [];
    const writeOut = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => { lines.push(...String(chunk).split('\n').filter(Boolean)); return true; }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main([...fixture.args, '--out', out]);
    } finally {
      process.stdout.write = writeOut;
    }
    expect(code).toBe(0);
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'iteration');
    expect(rows).toHaveLength(fixture.rows.length);
    fixture.rows.forEach((want, i) => {
      for (const [k, v] of Object.entries(want)) expect(rows[i][k], `iteration ${i + 1}, ${k}`).toBeCloseTo(v, 5);
    });
  }, 900_000);
});
