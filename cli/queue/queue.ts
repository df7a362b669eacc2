/**
 * Focal's job queue on BullMQ (Redis). Jobs carry a JobSpec (core/jobs: references and hashes,
 * never pixels); workers run them with core's runJob. docs/scale-out.md explains the guarantees
 * and the Redis settings they rely on.
 */
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { join } from 'node:path';
import { FocalError, isFocalError, isPermanentFailure, jobIdOf, makeJobSpec, parseJobSpec, runJob, writeJobFailure, type FocalErrorCode, type JobOutcome, type JobPipelineRunner, type JobSpec } from '../../core/index.js';

/** Default queue name (one Redis database can hold several Focal queues: `--queue-name`). */
export const DEFAULT_QUEUE_NAME = 'focal';

/** Attempts for runtime failures (validation and bad-input failures are not retried). */
export const DEFAULT_ATTEMPTS = 3;

/**
 * Parses `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS) into connection options.
 * Query `?tls-insecure=1` accepts a self-signed certificate (test setups only).
 */
export function parseQueueUrl(url: string, flag = '--queue'): ConnectionOptions & { host: string; port: number; db: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FocalError('E_USAGE', `${flag} ${url}: not a URL; expected redis://host:port[/db] or rediss://… for TLS`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new FocalError('E_USAGE', `${flag} ${url}: scheme must be redis:// or rediss:// (TLS), got ${u.protocol}//`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new FocalError('E_USAGE', `${flag} ${url}: database must be a non-negative integer, got '${dbText}'`);
  return {
    host: u.hostname || '127.0.0.1',
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: u.searchParams.get('tls-insecure') === '1' ? { rejectUnauthorized: false } : {} } : {}),
    // Workers block on Redis: ioredis must not give up on a command while Redis restarts.
    maxRetriesPerRequest: null,
  };
}

/** The BullMQ job id of a spec (content-derived, so a resubmission is the same job). */
export function queueJobId(spec: JobSpec): string {
  return `focal-${jobIdOf(spec)}`;
}

export interface SubmitResult {
  submitted: string[];
  /** Jobs already in the queue (waiting, running, done or failed): not added again. */
  known: string[];
}

function withoutLabel(spec: JobSpec): Omit<JobSpec, 'label'> {
  const { label: _label, ...rest } = spec;
  return rest;
}

/**
 * How long finished jobs are kept (worker options, not stored per job): long enough that a
 * resubmission is recognised, bounded so Redis does not grow for ever.
 */
const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 1_000_000 };
const KEEP_FAILED = { age: 30 * 24 * 3600 };

/** Adds jobs; a job whose id is already in the queue is not added again. */
export async function submitJobs(queue: Queue, specs: JobSpec[], options: { attempts?: number; backoffMs?: number } = {}): Promise<SubmitResult> {
  const known: string[] = [];
  const fresh: JobSpec[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const id = queueJobId(spec);
    if (seen.has(id)) continue;
    seen.add(id);
    if (await queue.getJob(id)) known.push(id);
    else fresh.push(spec);
  }
  for (let i = 0; i < fresh.length; i += 1000) {
    await queue.addBulk(
      fresh.slice(i, i + 1000).map((spec) => ({
        // the label travels once, as the job's name
        name: spec.label ?? 'job',
        data: withoutLabel(spec),
        opts: {
          jobId: queueJobId(spec),
          attempts: options.attempts ?? DEFAULT_ATTEMPTS,
          backoff: { type: 'exponential', delay: options.backoffMs ?? 2000 },
        },
      })),
    );
  }
  return { submitted: fresh.map(queueJobId), known };
}

export type WorkerEvent =
  | { event: 'worker-ready'; ts: number; worker: string; queue: string; concurrency: number }
  | { event: 'job-started'; ts: number; worker: string; id: string; label?: string; attempt: number }
  | { event: 'job-done'; ts: number; worker: string; id: string; out: string; ms: number }
  | { event: 'job-already-done'; ts: number; worker: string; id: string; out: string }
  | { event: 'job-failed'; ts: number; worker: string; id: string; code: string; message: string; attempt: number; final: boolean; report?: string }
  | { event: 'worker-stopping'; ts: number; worker: string; force: boolean }
  | { event: 'worker-stopped'; ts: number; worker: string; done: number; failed: number };

export interface FocalWorkerOptions {
  connection: ConnectionOptions;
  queueName?: string;
  name: string;
  concurrency?: number;
  /** Seconds a job's lock lasts without renewal; a killed worker's job is retried after it (default 30). */
  lockS?: number;
  allowPaths?: readonly string[];
  /** Runs a pipeline (in a thread of its own in the CLI). */
  runner: JobPipelineRunner;
  onEvent: (e: WorkerEvent) => void;
}

/** A worker process's queue consumer: runs each job with core's runJob. */
export class FocalWorker {
  private readonly worker: Worker<JobSpec, JobOutcome>;
  private readonly controllers = new Map<string, AbortController>();
  private done = 0;
  private failed = 0;

  constructor(private readonly options: FocalWorkerOptions) {
    const lockMs = Math.round((options.lockS ?? 30) * 1000);
    this.worker = new Worker<JobSpec, JobOutcome>(options.queueName ?? DEFAULT_QUEUE_NAME, (job) => this.process(job), {
      connection: options.connection,
      name: options.name,
      concurrency: options.concurrency ?? 1,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.round(lockMs / 2)),
      maxStalledCount: 2,
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
      autorun: false,
    });
    // Connection errors while Redis restarts are retried by ioredis; they are not fatal.
    this.worker.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.worker.waitUntilReady();
    this.options.onEvent({ event: 'worker-ready', ts: Date.now(), worker: this.options.name, queue: this.worker.name, concurrency: this.worker.concurrency });
    void this.worker.run();
  }

  private async process(job: Job<JobSpec, JobOutcome>): Promise<JobOutcome> {
    const id = job.id ?? '?';
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const emit = this.options.onEvent;
    const worker = this.options.name;
    let spec: JobSpec;
    try {
      spec = parseJobSpec(job.name && job.name !== 'job' ? { ...job.data, label: job.name } : job.data, `job ${id}`);
    } catch (err) {
      this.failed++;
      emit({ event: 'job-failed', ts: Date.now(), worker, id, code: 'E_USAGE', message: (err as Error).message, attempt, final: true });
      throw new UnrecoverableError((err as Error).message);
    }
    const controller = new AbortController();
    this.controllers.set(id, controller);
    emit({ event: 'job-started', ts: Date.now(), worker, id, label: spec.label, attempt });
    try {
      const outcome = await runJob(spec, { runner: this.options.runner, signal: controller.signal, allowPaths: this.options.allowPaths, writeFailureReport: false });
      this.done++;
      if (outcome.state === 'done') emit({ event: 'job-done', ts: Date.now(), worker, id, out: outcome.out, ms: outcome.ms });
      else emit({ event: 'job-already-done', ts: Date.now(), worker, id, out: outcome.out });
      return outcome;
    } catch (err) {
      const cancelled = controller.signal.aborted;
      const permanent = isPermanentFailure(err);
      const final = !cancelled && (permanent || attempt >= attempts);
      const code = isFocalError(err) ? err.code : 'E_INTERNAL';
      const message = err instanceof Error ? err.message : String(err);
      const report = final && spec.reportFailures !== false ? await writeJobFailure(spec, jobIdOf(spec), err).catch(() => undefined) : undefined;
      if (final) this.failed++;
      emit({ event: 'job-failed', ts: Date.now(), worker, id, code, message, attempt, final, ...(report ? { report } : {}) });
      if (permanent) throw new UnrecoverableError(`${code}: ${message}`);
      throw new Error(`${code}: ${message}`);
    } finally {
      this.controllers.delete(id);
    }
  }

  /**
   * Stops taking jobs. Without `force`, running jobs finish first; with it, they are aborted
   * (their temporary folders removed) and return to the queue when their lock expires.
   */
  async stop(force = false): Promise<void> {
    this.options.onEvent({ event: 'worker-stopping', ts: Date.now(), worker: this.options.name, force });
    if (force) for (const c of this.controllers.values()) c.abort();
    await this.worker.close(force);
    this.options.onEvent({ event: 'worker-stopped', ts: Date.now(), worker: this.options.name, done: this.done, failed: this.failed });
  }
}

export interface QueueStatus {
  queue: string;
  counts: Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'prioritized', number>;
  workers: { name: string; addr?: string; age?: number }[];
  failed: { id: string; label?: string; reason: string; attempts: number }[];
}

/** A worker's own name (BullMQ keeps it in the Redis client name, after `:w:`). */
function workerName(w: Record<string, unknown>): string {
  const raw = typeof w.rawname === 'string' ? w.rawname : '';
  const i = raw.lastIndexOf(':w:');
  return i >= 0 ? raw.slice(i + 3) : String(w.name ?? w.id ?? '?');
}

export async function queueStatus(queue: Queue, failedLimit = 20): Promise<QueueStatus> {
  const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
  const workers = await queue.getWorkers();
  const failed = await queue.getFailed(0, Math.max(0, failedLimit - 1));
  return {
    queue: queue.name,
    counts: { waiting: c.waiting ?? 0, active: c.active ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0, delayed: c.delayed ?? 0, prioritized: c.prioritized ?? 0 },
    workers: workers.map((w) => ({ name: workerName(w), ...(w.addr ? { addr: String(w.addr) } : {}), ...(w.age ? { age: Number(w.age) } : {}) })),
    failed: failed.filter((j): j is Job => Boolean(j)).map((j) => ({ id: j.id ?? '?', label: j.name, reason: j.failedReason, attempts: j.attemptsMade })),
  };
}

/**
 * Tells when queued jobs finish: one QueueEvents subscription for any number of waits, plus a
 * periodic look at each pending job's state (events sent while Redis restarted, or before the
 * subscription started, are not missed).
 */
export class JobWaiter {
  private readonly events: QueueEvents;
  private readonly pending = new Map<string, ((r: { ok: boolean; reason?: string }) => void)[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly queue: Queue, connection: ConnectionOptions) {
    this.events = new QueueEvents(queue.name, { connection });
    this.events.on('error', () => undefined);
    this.events.on('completed', ({ jobId }) => this.settle(jobId, { ok: true }));
    this.events.on('failed', ({ jobId }) => void this.look(jobId));
    this.timer = setInterval(() => void this.sweep(), 1000);
  }

  /** Resolves when the job is completed (ok) or failed for good (not ok, with the reason). */
  wait(id: string): Promise<{ ok: boolean; reason?: string }> {
    return new Promise((resolve) => {
      this.pending.set(id, [...(this.pending.get(id) ?? []), resolve]);
      void this.look(id);
    });
  }

  private settle(id: string, r: { ok: boolean; reason?: string }): void {
    const waiters = this.pending.get(id);
    if (!waiters) return;
    this.pending.delete(id);
    for (const w of waiters) w(r);
  }

  private async look(id: string): Promise<void> {
    try {
      const job = await this.queue.getJob(id);
      if (!job) return;
      const state = await job.getState();
      if (state === 'completed') this.settle(id, { ok: true });
      else if (state === 'failed') this.settle(id, { ok: false, reason: job.failedReason });
    } catch {
      // Redis unreachable for now: the next sweep looks again
    }
  }

  private async sweep(): Promise<void> {
    for (const id of [...this.pending.keys()]) await this.look(id);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.events.close();
  }
}

/** Waits until every listed job has completed or failed; returns the ids that failed. */
export async function waitForJobs(waiter: JobWaiter, ids: string[], onFinished?: (id: string, ok: boolean) => void): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    ids.map(async (id) => {
      const r = await waiter.wait(id);
      if (!r.ok) failed.push(id);
      onFinished?.(id, r.ok);
    }),
  );
  return failed;
}

/**
 * A pipeline runner that hands each run to the queue as a job and waits for it (focal watch
 * --queue): the watcher keeps its ledger, temporary folder and rename; workers do the work.
 */
export function queueRunner(queue: Queue, waiter: JobWaiter, attempts?: number): JobPipelineRunner {
  return async (request) => {
    const spec = { ...(await makeJobSpec(request.pipelineFile, request.inputs ?? {}, request.outDir)), reportFailures: false };
    const id = queueJobId(spec);
    await submitJobs(queue, [spec], { attempts });
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => {
        void queue.getJob(id).then((j) => j?.remove().catch(() => undefined));
        reject(new FocalError('E_CANCELLED', 'cancelled while queued or running on a worker'));
      };
      if (request.signal?.aborted) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const r = await Promise.race([waiter.wait(id), aborted]);
    if (!r.ok) {
      const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(r.reason ?? '');
      throw new FocalError((m?.[1] as FocalErrorCode | undefined) ?? 'E_NODE_FAILED', m?.[2] ?? r.reason ?? `job ${id} failed`, { job: id });
    }
    return { pipeline: spec.pipeline, outputs: [], timingsMs: {}, totalMs: 0, provenanceFile: join(request.outDir, 'run.json') };
  };
}

export { Queue, QueueEvents };
