import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProgressReporter } from '../cli/progress.js';
import { focal, tempDir } from './helpers.js';

/** A stream stand-in that records what is written. */
function recorder(tty = false): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const ok = () => true;
  const stream = { write: (s: string) => (chunks.push(s), true), isTTY: tty, columns: 200, cursorTo: ok, clearLine: ok, clearScreenDown: ok, moveCursor: ok, on: () => stream, removeListener: () => stream } as unknown as NodeJS.WriteStream;
  return { stream, text: () => chunks.join('') };
}

describe('progress output', () => {
  it('plain mode logs node starts and ends, 10 % steps with nodes done, elapsed time and ETA, and log records', () => {
    const { stream, text } = recorder();
    const p = createProgressReporter('plain', stream);
    p.onEvent({ type: 'node-start', node: 'a', op: 'x.y' });
    p.onEvent({ type: 'run-progress', fraction: 0.25, done: 0, total: 2, elapsedMs: 2000, etaMs: 6000 });
    p.onEvent({ type: 'run-progress', fraction: 0.27, done: 0, total: 2, elapsedMs: 2100, etaMs: 5900 });
    p.onEvent({ type: 'node-done', node: 'a', op: 'x.y', ms: 4000 });
    p.onLog({ level: 'warn', message: 'careful', fields: { node: 'a' } });
    p.stop();
    expect(text()).toBe('start a (x.y)\nprogress 20% (0/2 nodes, 0:00:02 elapsed, ETA 0:00:06)\ndone a (4000 ms)\nwarn: careful (node=a)\n');
  });

  it('the bar counts nodes of the pipeline, not percent (it once showed 2/100 nodes)', () => {
    const { stream, text } = recorder(true);
    const p = createProgressReporter('tty', stream);
    p.onEvent({ type: 'node-start', node: 'a', op: 'x.y' });
    p.onEvent({ type: 'run-progress', fraction: 0.5, done: 1, total: 2, elapsedMs: 1000, etaMs: 60_000 });
    p.stop();
    expect(text()).toContain('1/2 nodes');
    expect(text()).not.toContain('/100 nodes');
    expect(text()).toMatch(/ETA 0:0(0:59|1:00)/);
  });
});

describe('focal run --json', () => {
  it('run-progress lines carry nodes done, elapsed and ETA; log records are JSON events too', () => {
    const out = join(tempDir(), 'out');
    const r = focal(['run', 'pipelines/count-nuclei.json', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const progress = lines.filter((l) => l.event === 'run-progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p.total).toBe(3);
      expect(typeof p.elapsedMs).toBe('number');
    }
    expect(progress.at(-1)).toMatchObject({ fraction: 1, done: 3, etaMs: 0 });
    const log = lines.find((l) => l.event === 'log' && l.message === 'counted particles');
    expect(log).toMatchObject({ level: 'info', fields: { node: 'count', op: 'cellcount.count' } });
    expect(lines.at(-1)).toMatchObject({ event: 'result', ok: true });
    expect(r.stderr).not.toContain('counted particles'); // not also printed as text
  });

  it('a failed run leaves no output folder behind', () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', inputs: { stack: { type: 'stack', default: join(dir, 'missing.tif') } }, nodes: {}, outputs: { s: 'stack' } }));
    const out = join(dir, 'a', 'b');
    const r = focal(['run', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('missing.tif');
    expect(existsSync(join(dir, 'a'))).toBe(false);
  });
});
