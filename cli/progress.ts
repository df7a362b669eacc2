import cliProgress from 'cli-progress';
import type { RunEvent } from '../core/index.js';

/**
 * Progress display for `focal run`: a bar with the overall fraction and the nodes
 * running now on a TTY; plain log lines when stderr is not a TTY; JSON lines with --json.
 */
export function createProgressReporter(mode: 'tty' | 'plain' | 'json' | 'quiet'): { onEvent: (e: RunEvent) => void; stop: () => void } {
  if (mode === 'json') {
    return { onEvent: (e) => process.stdout.write(`${JSON.stringify({ ...e, event: e.type })}\n`), stop: () => undefined };
  }
  if (mode === 'quiet') return { onEvent: () => undefined, stop: () => undefined };
  if (mode === 'plain') {
    return {
      onEvent: (e) => {
        if (e.type === 'node-done') process.stderr.write(`done ${e.node} (${Math.round(e.ms)} ms)\n`);
        else if (e.type === 'node-start') process.stderr.write(`start ${e.node} (${e.op})\n`);
      },
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: ' {bar} {percentage}% | {done}/{total} nodes | {running}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const running = new Map<string, number>();
  let started = false;
  let done = 0;
  let total = 0;
  const label = () => [...running.entries()].map(([n, f]) => `${n} ${Math.round(f * 100)}%`).join(', ') || '-';
  return {
    onEvent: (e) => {
      if (!started) {
        bar.start(100, 0, { done: 0, total: '?', running: '-' });
        started = true;
      }
      if (e.type === 'node-start') running.set(e.node, 0);
      else if (e.type === 'node-progress') running.set(e.node, e.fraction);
      else if (e.type === 'node-done' || e.type === 'node-error') running.delete(e.node);
      if (e.type === 'run-progress') {
        done = e.done;
        total = e.total;
        bar.update(Math.round(e.fraction * 100), { done, total, running: label() });
      } else bar.update({ done, total, running: label() });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
