/**
 * Scale-out commands (docs/scale-out.md): `focal submit` (a job or a batch; in this process
 * without --queue, else onto a BullMQ queue in Redis), `focal worker` (runs queued jobs) and
 * `focal queue status|retry|drain`. All run a job through core's runJob.
 */
import { relative } from 'node:path';
import pLimit from 'p-limit';
import { appendJobTables, FocalError, isFocalError, isPermanentFailure, jobFailureReport, jobIdOf, runJob, writeJobFailure, type JobPipelineRunner, type JobSpec } from '../../core/index.js';
import { refuseFreshThreadWithQueue, type GlobalOptions, type QueueCommandOptions, type SubmitOptions, type WorkerOptions } from '../command-options.js';
import { createHost } from '../host.js';
import { EXIT, printJsonLine } from '../output.js';
import { runInThread } from '../run-host.js';
import { jobsFromBindings, jobsFromCsv } from '../queue/batch.js';
import { DEFAULT_QUEUE_NAME, FocalWorker, JobWaiter, parseQueueUrl, Queue, queueJobId, queueStatus, submitJobs, waitForJobs, type WorkerEvent } from '../queue/queue.js';
import { parseInputBindings } from './run.js';

/** Runs pipelines in run threads with this CLI's host (the same runner as `focal run`); a thread is kept between jobs unless freshThread. */
function threadRunner(globals: GlobalOptions, freshThread: boolean | undefined): JobPipelineRunner {
  return ({ signal, onEvent, ...request }) =>
    runInThread(request, { globals: { plugin: globals.plugin, config: globals.config, verbose: globals.verbose }, cwd: process.cwd(), quietDiscovery: true }, { signal, onEvent, freshThread });
}

const rel = (p: string) => {
  const r = relative(process.cwd(), p);
  return r === '' || r.startsWith('..') ? p : r;
};

async function planJobs(pipelineFile: string, opts: SubmitOptions, globals: GlobalOptions): Promise<JobSpec[]> {
  const host = await createHost(globals, { json: opts.json, quiet: true });
  const { pipeline } = await host.loadPipeline(pipelineFile);
  const names = Object.keys(pipeline.inputs);
  if (opts.csv) {
    if (opts.input?.length) throw new FocalError('E_USAGE', '--csv and --input cannot be combined: put every binding in the CSV');
    return jobsFromCsv(pipelineFile, opts.csv, opts.out, names);
  }
  const bindings = parseInputBindings(opts.input);
  if ('' in bindings) {
    if (names.length !== 1) throw new FocalError('E_USAGE', `--input ${bindings['']}: pipeline '${pipeline.name}' has ${names.length} inputs (${names.join(', ') || 'none'}); name one with --input <name>=<file or glob>`, { file: pipelineFile });
    bindings[names[0]] = bindings[''];
    delete bindings[''];
  }
  for (const n of Object.keys(bindings)) {
    if (!names.includes(n)) throw new FocalError('E_USAGE', `--input ${n}: pipeline '${pipeline.name}' has no such input (inputs: ${names.join(', ') || 'none'})`, { file: pipelineFile, field: `/inputs/${n}` });
  }
  return jobsFromBindings(pipelineFile, bindings, opts.out);
}

/** `focal submit`: plan the jobs, then run them here or put them on the queue. */
export async function submitCommand(pipelineFile: string, opts: SubmitOptions, globals: GlobalOptions): Promise<void> {
  refuseFreshThreadWithQueue(opts);
  const specs = await planJobs(pipelineFile, opts, globals);
  if (!opts.queue) return runHere(specs, opts, globals);

  const connection = parseQueueUrl(opts.queue);
  const queue = new Queue(opts.queueName ?? DEFAULT_QUEUE_NAME, { connection });
  const waiter = opts.wait ? new JobWaiter(queue, connection) : undefined;
  try {
    const result = await submitJobs(queue, specs, { attempts: opts.attempts });
    if (opts.json) printJsonLine({ event: 'submitted', queue: queue.name, jobs: specs.length, submitted: result.submitted.length, known: result.known.length, ids: specs.map(queueJobId) });
    else process.stdout.write(`submitted ${result.submitted.length} job(s) to ${queue.name}${result.known.length ? ` (${result.known.length} already in the queue, not added again)` : ''}\n`);
    if (waiter) {
      // This process is the batch tables' one writer: workers on other machines would race for
      // <out>/<table>.csv, so each finished job's tables are appended here as it is reported done.
      const byId = new Map(specs.map((s) => [queueJobId(s), s]));
      const appends: Promise<void>[] = [];
      const failed = await waitForJobs(waiter, specs.map(queueJobId), (id, ok) => {
        if (opts.json) printJsonLine({ event: ok ? 'job-finished' : 'job-failed', id });
        const spec = byId.get(id);
        if (ok && spec) appends.push(appendTables(opts.out, spec, opts.json));
      });
      await Promise.all(appends);
      if (!opts.json) process.stdout.write(`finished: ${specs.length - failed.length} done, ${failed.length} failed${failed.length ? ` (reports in <out>/failed/)` : ''}\n`);
      if (failed.length) process.exitCode = EXIT.failure;
    }
  } finally {
    await waiter?.close();
    await queue.close();
  }
}

/**
 * Appends a finished queued job's tables to the batch's combined CSVs. A failure is a warning (the
 * job's own outputs are complete; `focal submit` without --queue over the same inputs finds the
 * jobs done and appends them again).
 */
async function appendTables(out: string, spec: JobSpec, json: boolean | undefined): Promise<void> {
  const id = jobIdOf(spec);
  try {
    const files = await appendJobTables(out, { id, inputs: spec.inputs, out: spec.out });
    if (json && files.length) printJsonLine({ event: 'tables-appended', id, files });
  } catch (err) {
    const message = `${spec.label ?? id}: its tables were not added to the combined tables: ${err instanceof Error ? err.message : String(err)}`;
    if (json) printJsonLine({ event: 'warning', id, message });
    else process.stderr.write(`focal submit: warning: ${message}\n`);
  }
}

/** The embedded default: the same jobs, run by this process (in run threads, kept between jobs unless --fresh-thread). */
async function runHere(specs: JobSpec[], opts: SubmitOptions, globals: GlobalOptions): Promise<void> {
  const runner = threadRunner(globals, opts.freshThread);
  const limit = pLimit(opts.concurrency ?? 1);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    controller.abort();
    limit.clearQueue();
    if (signals === 1 && !opts.json) process.stderr.write('focal submit: interrupted: stopping; running jobs leave nothing behind\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failed = 0;
  let done = 0;
  try {
    await Promise.all(
      specs.map((spec) =>
        limit(async () => {
          const id = jobIdOf(spec);
          const attempts = Math.max(1, opts.attempts ?? 1);
          for (let attempt = 1; attempt <= attempts; attempt++) {
            if (controller.signal.aborted) return;
            try {
              const outcome = await runJob(spec, { runner, signal: controller.signal, allowPaths: opts.allowPath, writeFailureReport: false });
              // the job's tables join the batch's combined CSVs (<out>/<table>.csv), input and job id first
              const combined = await appendJobTables(opts.out, { id, inputs: spec.inputs, out: outcome.out });
              if (opts.json && combined.length) printJsonLine({ event: 'tables-appended', id, files: combined });
              done++;
              if (opts.json) printJsonLine({ event: outcome.state === 'done' ? 'job-done' : 'job-already-done', id, label: spec.label, out: outcome.out, ...(outcome.state === 'done' ? { ms: outcome.ms } : {}) });
              else process.stdout.write(`${outcome.state === 'done' ? 'done   ' : 'skipped'} ${spec.label ?? id} → ${rel(outcome.out)}${outcome.state === 'done' ? ` (${(outcome.ms / 1000).toFixed(2)} s)` : ' (already done)'}\n`);
              return;
            } catch (err) {
              if (controller.signal.aborted) return;
              const final = isPermanentFailure(err) || attempt === attempts;
              if (!final) continue;
              failed++;
              const refused = isFocalError(err) && err.details.reason === 'path-not-allowed';
              const report = refused ? undefined : await writeJobFailure(spec, id, err);
              const code = isFocalError(err) ? err.code : 'E_INTERNAL';
              const message = err instanceof Error ? err.message : String(err);
              if (opts.json) printJsonLine({ event: 'job-failed', id, label: spec.label, code, message, ...(report ? { report } : {}) });
              else process.stdout.write(`failed  ${spec.label ?? id}: ${code}: ${message}${report ? `; report ${rel(report)}` : ''}\n`);
              return;
            }
          }
        }),
      ),
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (controller.signal.aborted) {
    process.exitCode = EXIT.interrupted;
    return;
  }
  if (!opts.json) process.stderr.write(`focal submit: ${done} done, ${failed} failed${failed ? ` (reports in ${rel(jobFailureReport(specs[0]).replace(/[^/\\]+$/, ''))})` : ''}\n`);
  if (failed) process.exitCode = EXIT.failure;
}

/** `focal worker`: takes jobs from the queue until SIGTERM/SIGINT (the first finishes running jobs, the second aborts them). */
export async function workerCommand(opts: WorkerOptions, globals: GlobalOptions): Promise<void> {
  if (!opts.queue) throw new FocalError('E_USAGE', 'focal worker needs --queue redis://host:port[/db]');
  const connection = parseQueueUrl(opts.queue);
  const { hostname } = await import('node:os');
  const name = opts.name ?? `${hostname()}-${process.pid}`;
  const print = opts.json ? (e: WorkerEvent) => printJsonLine(e) : printWorkerEvent;
  const worker = new FocalWorker({ connection, queueName: opts.queueName, name, concurrency: opts.concurrency, lockS: opts.lockS, allowPaths: opts.allowPath, runner: threadRunner(globals, opts.freshThread), onEvent: print });
  let signals = 0;
  let stopped: Promise<void> | undefined;
  const onSignal = () => {
    signals++;
    if (signals === 1) stopped = worker.stop(false);
    else {
      process.exitCode = EXIT.interrupted;
      stopped = worker.stop(true);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await worker.start();
  await new Promise<void>((resolve) => {
    const check = () => (stopped ? void stopped.then(resolve, resolve) : setTimeout(check, 100));
    check();
  });
  // a second signal may arrive while the first stop is finishing
  await stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

function printWorkerEvent(e: WorkerEvent): void {
  switch (e.event) {
    case 'worker-ready':
      process.stderr.write(`focal worker ${e.worker}: taking jobs from ${e.queue} (${e.concurrency} at once)\n`);
      break;
    case 'job-started':
      process.stdout.write(`started ${e.label ?? e.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}\n`);
      break;
    case 'job-done':
      process.stdout.write(`done    ${e.id} → ${rel(e.out)} (${(e.ms / 1000).toFixed(2)} s)\n`);
      break;
    case 'job-already-done':
      process.stdout.write(`skipped ${e.id}: already done in ${rel(e.out)}\n`);
      break;
    case 'job-failed':
      process.stdout.write(`failed  ${e.id} (attempt ${e.attempt}${e.final ? ', final' : ', will retry'}): ${e.code}: ${e.message}${e.report ? `; report ${rel(e.report)}` : ''}\n`);
      break;
    case 'worker-stopping':
      process.stderr.write(e.force ? `focal worker ${e.worker}: aborting running jobs (they return to the queue)\n` : `focal worker ${e.worker}: stopping after the running jobs (Ctrl-C again to abort them)\n`);
      break;
    case 'worker-stopped':
      process.stderr.write(`focal worker ${e.worker}: stopped (${e.done} done, ${e.failed} failed)\n`);
      break;
  }
}

/** `focal queue status|retry|drain`. */
export async function queueCommand(action: string, opts: QueueCommandOptions): Promise<void> {
  if (!['status', 'retry', 'drain'].includes(action)) throw new FocalError('E_USAGE', `focal queue ${action}: unknown action; use status, retry or drain`);
  if (!opts.queue) throw new FocalError('E_USAGE', `focal queue ${action} needs --queue redis://host:port[/db]`);
  const queue = new Queue(opts.queueName ?? DEFAULT_QUEUE_NAME, { connection: parseQueueUrl(opts.queue) });
  try {
    if (action === 'retry') await queue.retryJobs({ state: 'failed' });
    if (action === 'drain') await queue.drain();
    const status = await queueStatus(queue);
    if (opts.json) printJsonLine({ event: action, ...status });
    else {
      const c = status.counts;
      process.stdout.write(
        `queue ${status.queue}: ${c.waiting + c.prioritized} waiting, ${c.active} running, ${c.delayed} delayed (retry backoff), ${c.completed} done, ${c.failed} failed\n` +
          `workers: ${status.workers.length}${status.workers.length ? ` (${status.workers.map((w) => w.name).join(', ')})` : ''}\n`,
      );
      for (const f of status.failed) process.stdout.write(`  failed ${f.id} ${f.label ?? ''}: ${f.reason}\n`);
    }
  } finally {
    await queue.close();
  }
}
