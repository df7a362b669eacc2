import type { WatchEvent } from '../watch/engine.js';

export interface WatchError {
  at: number;
  input: string;
  message: string;
  node?: string;
  op?: string;
}

/** What the watch dashboard shows; derived from the watch engine's events by `watchReducer`. */
export interface WatchStatus {
  state: 'stopped' | 'starting' | 'watching' | 'stopping';
  folder?: string;
  out?: string;
  pipeline?: string;
  startedAt?: number;
  queued: number;
  running: string[];
  done: number;
  failed: number;
  /** Completion times of done jobs (for throughput over the last minutes). */
  doneTimes: number[];
  lastErrors: WatchError[];
  warnings: string[];
}

export type WatchAction =
  | { type: 'starting'; folder: string; out: string; pipeline: string; at: number }
  | { type: 'event'; event: WatchEvent }
  | { type: 'stopping' }
  | { type: 'stopped' }
  | { type: 'error'; message: string; at: number };

export const initialWatchStatus: WatchStatus = { state: 'stopped', queued: 0, running: [], done: 0, failed: 0, doneTimes: [], lastErrors: [], warnings: [] };

const KEEP = 5;

export function watchReducer(s: WatchStatus, a: WatchAction): WatchStatus {
  switch (a.type) {
    case 'starting':
      return { ...initialWatchStatus, state: 'starting', folder: a.folder, out: a.out, pipeline: a.pipeline, startedAt: a.at };
    case 'stopping':
      return { ...s, state: 'stopping' };
    case 'stopped':
      return { ...s, state: 'stopped', running: [], queued: 0 };
    case 'error':
      return { ...s, state: s.state === 'starting' ? 'stopped' : s.state, lastErrors: [...s.lastErrors, { at: a.at, input: '-', message: a.message }].slice(-KEEP) };
    case 'event': {
      const e = a.event;
      switch (e.event) {
        case 'watch-ready':
          return { ...s, state: 'watching' };
        case 'job-queued':
          return { ...s, queued: s.queued + 1 };
        case 'job-started':
          return { ...s, queued: Math.max(0, s.queued - 1), running: [...s.running, e.input] };
        case 'job-done':
          return { ...s, running: s.running.filter((r) => r !== e.input), done: s.done + 1, doneTimes: [...s.doneTimes, e.ts].slice(-1000) };
        case 'job-failed':
          return {
            ...s,
            running: s.running.filter((r) => r !== e.input),
            failed: s.failed + 1,
            lastErrors: [...s.lastErrors, { at: e.ts, input: e.input, message: `${e.code}: ${e.message}`, node: e.node, op: e.op }].slice(-KEEP),
          };
        case 'warning':
          return { ...s, warnings: [...s.warnings, e.input ? `${e.input}: ${e.message}` : e.message].slice(-KEEP) };
        case 'watch-stopped':
          return { ...s, state: 'stopped', running: [], queued: e.queued };
        default:
          return s;
      }
    }
    default:
      return s;
  }
}

/** Files per minute over the last `windowMs` (or since the start when shorter). */
export function throughputPerMinute(s: WatchStatus, now: number, windowMs = 5 * 60_000): number {
  if (s.startedAt === undefined) return 0;
  const from = Math.max(s.startedAt, now - windowMs);
  const span = now - from;
  if (span <= 0) return 0;
  const n = s.doneTimes.filter((t) => t >= from).length;
  return (n * 60_000) / span;
}

/** Starts and stops a watcher; the CLI implements it over the watch engine (FolderWatcher). */
export interface WatchController {
  start(options: { folder: string; pipelineFile: string; outDir: string; onEvent: (e: WatchEvent) => void }): Promise<void>;
  stop(): Promise<void>;
}
