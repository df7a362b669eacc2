/**
 * Rate and ETA from progress samples, for progress lines and bars (training iterations,
 * pipeline nodes, …). Pure: no clock is read here; the caller gives each sample's time, so
 * it is tested with synthetic timestamps and a caller can leave pauses out of the rate
 * (e.g. feed training time without validation time).
 *
 * The rate is measured over a moving window: the samples of the last `windowMs`, at least
 * the last `minSamples` of them. A sample whose `done` or time goes backwards starts a new
 * series (a restart); earlier samples are ignored.
 */

/** Progress at one moment: `done` of `total` units (iterations, nodes, …) at `timeMs` (any origin, ms). */
export interface ProgressSample {
  done: number;
  total: number;
  timeMs: number;
}

export interface RateEstimate {
  /** Units done and total, from the latest sample (0 and 0 without samples). */
  done: number;
  total: number;
  /**
   * Units per second over the window; undefined until two samples (of one series) span
   * some time. 0 when nothing was done in the window (then `etaMs` is undefined).
   */
  ratePerSecond: number | undefined;
  /** Time to reach `total` at that rate, ms: 0 once done ≥ total, undefined without a positive rate. */
  etaMs: number | undefined;
}

export interface RateWindowOptions {
  /** Window of the moving rate, ms (default 30 000). */
  windowMs?: number;
  /** Samples the window holds at least, however old (≥ 2; default 2). */
  minSamples?: number;
  /** No rate (and no ETA) until the window spans at least this many ms (default 0: any time > 0). */
  minSpanMs?: number;
}

const DEFAULT_WINDOW_MS = 30_000;

type Window = { windowMs: number; minSamples: number; minSpanMs: number };

function windowOptions(options: RateWindowOptions): Window {
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const minSamples = Math.max(2, Math.floor(options.minSamples ?? 2));
  return { windowMs: windowMs > 0 ? windowMs : DEFAULT_WINDOW_MS, minSamples, minSpanMs: Math.max(0, options.minSpanMs ?? 0) };
}

/** Index of the first sample of the last series (after the last step back in done or time). */
function seriesStart(samples: readonly ProgressSample[]): number {
  for (let i = samples.length - 1; i > 0; i--) {
    if (samples[i].done < samples[i - 1].done || samples[i].timeMs < samples[i - 1].timeMs) return i;
  }
  return 0;
}

/**
 * The rate (units/s) over the moving window and the time left to `total`, from samples in
 * time order (the latest last). Pure: the same samples give the same estimate.
 * @example
 * estimateRate([{ done: 0, total: 100, timeMs: 0 }, { done: 10, total: 100, timeMs: 5000 }])
 * // → { done: 10, total: 100, ratePerSecond: 2, etaMs: 45000 }
 */
export function estimateRate(samples: readonly ProgressSample[], options: RateWindowOptions = {}): RateEstimate {
  const { windowMs, minSamples, minSpanMs } = windowOptions(options);
  const last = samples.at(-1);
  if (!last) return { done: 0, total: 0, ratePerSecond: undefined, etaMs: undefined };
  const start = seriesStart(samples);
  let first = samples.length - 1;
  while (first > start && (samples.length - first < minSamples || last.timeMs - samples[first - 1].timeMs <= windowMs)) first--;
  const from = samples[first];
  const dt = last.timeMs - from.timeMs;
  const ratePerSecond = first < samples.length - 1 && dt > 0 && dt >= minSpanMs ? ((last.done - from.done) * 1000) / dt : undefined;
  const left = Math.max(0, last.total - last.done);
  const etaMs = left === 0 ? 0 : ratePerSecond !== undefined && ratePerSecond > 0 ? (left * 1000) / ratePerSecond : undefined;
  return { done: last.done, total: last.total, ratePerSecond, etaMs };
}

/**
 * {@link estimateRate} fed one sample at a time; keeps only the samples the window needs.
 * @example
 * const eta = new RateEstimator({ windowMs: 60_000 });
 * eta.add(0, 1000, 0);
 * const { ratePerSecond, etaMs } = eta.add(5, 1000, 2500); // 2 it/s, 497 500 ms left
 */
export class RateEstimator {
  private readonly options: Window;
  private samples: ProgressSample[] = [];

  constructor(options: RateWindowOptions = {}) {
    this.options = windowOptions(options);
  }

  /** Adds a sample (`timeMs` in the caller's time base) and returns the estimate with it. */
  add(done: number, total: number, timeMs: number): RateEstimate {
    const prev = this.samples.at(-1);
    if (prev && (done < prev.done || timeMs < prev.timeMs)) this.samples = [];
    this.samples.push({ done, total, timeMs });
    // drop the samples estimateRate would not use: older than the window and not among the last minSamples
    const { windowMs, minSamples } = this.options;
    let drop = 0;
    while (this.samples.length - drop > minSamples && timeMs - this.samples[drop].timeMs > windowMs) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    return this.estimate;
  }

  /** The estimate from the samples so far. */
  get estimate(): RateEstimate {
    return estimateRate(this.samples, this.options);
  }

  /** Forgets every sample. */
  reset(): void {
    this.samples = [];
  }
}

/**
 * A duration as h:mm:ss (hours not capped: 100 000 s → '27:46:40'); '-:--:--' for
 * undefined, negative or non-finite values (no estimate yet). Rounded to whole seconds.
 */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '-:--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
