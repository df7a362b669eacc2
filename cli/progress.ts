import cliProgress from 'cli-progress';
import { formatDuration, type LogRecord, type RunEvent } from '../core/startup.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export interface ProgressReporter {
  onEvent(event: RunEvent): void;
  /** A log record of the run: a line on stderr (above the bar on a TTY), a JSON event with --json. */
  onLog(record: LogRecord): void;
  /** A message of the CLI itself, shown like a log record. */
  log(level: LogRecord['level'], message: string): void;
  stop(): void;
}

/** `level: message (key=value …)`, as the default logger prints. */
export function formatLogRecord(r: LogRecord): string {
  const tags = Object.entries(r.fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${r.level}: ${r.message}${tags ? ` (${tags})` : ''}`;
}

/**
 * Progress display for `focal run`. Every mode shows the same facts: nodes done of the
 * total, the running nodes with their own fraction, the overall fraction (a finished node
 * counts 1, a running one its fraction), elapsed time and the ETA estimated from the measured
 * rate (run-progress events carry them). On a TTY: one bar on stderr, log lines printed above
 * it. Without a TTY: a line per node start/end and per log record. With --json: every event
 * and every log record as a JSON line on stdout.
 */
export function createProgressReporter(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const json = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  if (mode === 'json') {
    return {
      onEvent: (e) => json({ ...e, event: e.type }),
      onLog: (r) => json({ event: r.level === 'warn' ? 'warning' : 'log', level: r.level, message: r.message, ...(Object.keys(r.fields).length ? { fields: r.fields } : {}) }),
      log: (level, message) => json({ event: level === 'warn' ? 'warning' : 'log', level, message }),
      stop: () => undefined,
    };
  }
  if (mode === 'quiet') {
    const line = (r: LogRecord) => {
      if (r.level === 'warn' || r.level === 'error') stream.write(`${formatLogRecord(r)}\n`);
    };
    return { onEvent: () => undefined, onLog: line, log: (level, message) => line({ level, message, fields: {} }), stop: () => undefined };
  }
  if (mode === 'plain') {
    let last = '';
    const line = (r: LogRecord) => stream.write(`${formatLogRecord(r)}\n`);
    return {
      onEvent: (e) => {
        if (e.type === 'node-start') stream.write(`start ${e.node} (${e.op})\n`);
        else if (e.type === 'node-done') stream.write(`done ${e.node} (${Math.round(e.ms)} ms)\n`);
        else if (e.type === 'run-progress') {
          // One line per whole 10 % step, so a log file shows how far a long run got.
          const step = `${Math.floor(e.fraction * 10) * 10}`;
          if (step !== last && e.fraction < 1) {
            last = step;
            stream.write(`progress ${step}% (${e.done}/${e.total} nodes, ${formatDuration(e.elapsedMs)} elapsed, ETA ${e.etaMs === undefined || e.etaMs < 1000 ? formatDuration(undefined) : formatDuration(e.etaMs)})\n`);
          }
        }
      },
      onLog: line,
      log: (level, message) => line({ level, message, fields: {} }),
      stop: () => undefined,
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      // cli-progress reserves {total}, {value}, {eta} and {duration}: the payload uses its own names.
      format: ' {bar} {percentage}% | {nodesDone}/{nodesTotal} nodes | {running} | {elapsed} elapsed | ETA {etaText}',
      hideCursor: true,
      clearOnComplete: false,
      stream,
      etaBuffer: 1,
    },
    cliProgress.Presets.shades_classic,
  );
  const running = new Map<string, number>();
  let started = false;
  let stopped = false;
  const payload = { nodesDone: 0, nodesTotal: '?' as number | string, running: '-', elapsed: formatDuration(0), etaText: formatDuration(undefined) };
  let percent = 0;
  const startedAt = Date.now();
  // The last estimate counts down between events; once it is used up with the run not done,
  // the estimate was too short and is shown as unknown rather than as 0:00.
  let eta: { ms: number; at: number } | undefined;
  const etaText = () => {
    if (!eta) return formatDuration(undefined);
    const left = eta.ms - (Date.now() - eta.at);
    return left >= 1000 || eta.ms === 0 ? formatDuration(Math.max(0, left)) : formatDuration(undefined);
  };
  const label = () => [...running.entries()].map(([n, f]) => `${n} ${Math.round(f * 100)}%`).join(', ') || '-';
  const ensure = () => {
    if (!started && !stopped) {
      bar.start(100, 0, payload);
      started = true;
    }
  };
  const line = (r: LogRecord) => {
    if (started && !stopped) {
      // Clear the bar's line, print, and draw the bar again below.
      stream.write('\r\x1b[2K');
      stream.write(`${formatLogRecord(r)}\n`);
      bar.render();
    } else stream.write(`${formatLogRecord(r)}\n`);
  };
  // The elapsed clock ticks even while a node reports nothing.
  const ticker = setInterval(() => {
    if (!started || stopped) return;
    payload.elapsed = formatDuration(Date.now() - startedAt);
    payload.etaText = etaText();
    bar.update(percent, payload);
  }, 1000);
  ticker.unref();
  return {
    onEvent: (e) => {
      ensure();
      if (e.type === 'node-start') running.set(e.node, 0);
      else if (e.type === 'node-progress') running.set(e.node, e.fraction);
      else if (e.type === 'node-done' || e.type === 'node-error') running.delete(e.node);
      payload.running = label();
      if (e.type === 'run-progress') {
        percent = Math.round(e.fraction * 100);
        payload.nodesDone = e.done;
        payload.nodesTotal = e.total;
        payload.elapsed = formatDuration(e.elapsedMs);
        eta = e.etaMs === undefined ? undefined : { ms: e.etaMs, at: Date.now() };
        payload.etaText = etaText();
      }
      bar.update(percent, payload);
    },
    onLog: line,
    log: (level, message) => line({ level, message, fields: {} }),
    stop: () => {
      clearInterval(ticker);
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
