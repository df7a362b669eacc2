import { relative } from 'node:path';
import { ensureWritableFolder, FocalError, type JobPipelineRunner, type LogRecord } from '../../core/index.js';
import { runInThread } from '../run-host.js';
import { formatLogRecord } from '../progress.js';
import { refuseFreshThreadWithQueue, streamRequest, type GlobalOptions, type WatchOptions } from '../command-options.js';
import { createHost } from '../host.js';
import { EXIT, printJsonLine } from '../output.js';
import { FolderWatcher, type WatchEvent } from '../watch/engine.js';
import { DEFAULT_QUEUE_NAME, JobWaiter, Queue, parseQueueUrl, queueRunner } from '../queue/queue.js';

export type WatchCliOptions = WatchOptions;

/**
 * `focal watch <dir>`: processes every dataset that lands in the folder, once. Exit codes:
 * 0 after a clean stop (and with --once when every job succeeded), 1 with --once when a job
 * failed, 130 when in-flight jobs had to be aborted (forced stop: second signal or grace period over).
 */
export async function watchCommand(dir: string, opts: WatchCliOptions, globals: GlobalOptions): Promise<void> {
  // Each job's run streams as `focal run` does with the same flags (parsed by the same schema).
  const run = streamRequest(opts);
  if (opts.queue && Object.keys(run).length > 0) {
    throw new FocalError('E_USAGE', `--queue: ${Object.keys(run).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} cannot be passed to queue workers (a queued job carries its pipeline and inputs only); run focal watch without --queue to stream its jobs`, { field: '--queue' });
  }
  refuseFreshThreadWithQueue(opts);

  // The output folder first: /proc, /sys, a file or a read-only place is refused before anything starts.
  await ensureWritableFolder(opts.out);
  const host = await createHost(globals, { json: opts.json });
  const { pipeline } = await host.loadPipeline(opts.pipeline);
  const names = Object.keys(pipeline.inputs);
  let inputName = opts.inputName;
  if (inputName === undefined) {
    const required = names.filter((n) => pipeline.inputs[n].default === undefined);
    if (names.length === 1) inputName = names[0];
    else if (required.length === 1) inputName = required[0];
    else throw new FocalError('E_USAGE', `pipeline '${pipeline.name}' has ${names.length} inputs (${names.join(', ') || 'none'}); name the one that receives each file with --input-name`, { file: opts.pipeline });
  } else if (!names.includes(inputName)) {
    throw new FocalError('E_USAGE', `--input-name ${inputName}: pipeline '${pipeline.name}' has no such input (inputs: ${names.join(', ') || 'none'})`, { file: opts.pipeline, field: `/inputs/${inputName}` });
  }
  const type = pipeline.inputs[inputName].type;
  if (type !== 'stack' && type !== 'image') {
    throw new FocalError('E_USAGE', `--input-name ${inputName}: focal watch feeds image files, but input '${inputName}' is a ${type}`, { file: opts.pipeline, field: `/inputs/${inputName}` });
  }

  // With --queue the watcher keeps its ledger and output folders; workers run the pipelines.
  const queued = opts.queue ? await connectQueue(opts.queue, opts.queueName) : undefined;
  const print = opts.json ? (e: WatchEvent) => printJsonLine(e) : (e: WatchEvent) => printHuman(e, opts.out);
  const watcher = new FolderWatcher({
    dir,
    pipelineFile: opts.pipeline,
    outDir: opts.out,
    inputName,
    pattern: opts.pattern,
    concurrency: opts.concurrency,
    maxQueue: opts.maxQueue,
    once: opts.once,
    usePolling: opts.polling,
    followSymlinks: opts.followSymlinks ?? false,
    settleMs: opts.settleMs,
    acquisitionTimeoutMs: opts.acquisitionTimeoutS === undefined ? undefined : opts.acquisitionTimeoutS * 1000,
    run,
    // Each job runs in a run thread (the last successful job's, unless --fresh-thread), so Ctrl-C
    // is answered at once and aborting a job stops it whatever its operations do
    // (core/runtime/isolated-run.ts).
    runner: queued
      ? { run: ({ onWrite: _onWrite, ...request }) => queued.run(request) }
      : {
          run: ({ signal, onEvent, onWrite: _onWrite, ...request }) =>
            runInThread(request, { globals: { plugin: globals.plugin, config: globals.config, verbose: globals.verbose }, cwd: process.cwd(), quietDiscovery: true }, { signal, onEvent, onLog: logToStderr, opTimeoutMs: opts.opTimeoutS !== undefined ? opts.opTimeoutS * 1000 : undefined, freshThread: opts.freshThread }),
        },
    onEvent: print,
  });

  const graceMs = (opts.graceS ?? 30) * 1000;
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      if (!opts.json) process.stderr.write(`focal watch: stopping; waiting up to ${graceMs / 1000} s for running jobs (press Ctrl-C again to abort them)\n`);
      void watcher.stop(graceMs);
    } else watcher.abortAll();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await watcher.start();
    const summary = await watcher.finished;
    if (summary.abandoned > 0) process.exitCode = EXIT.interrupted;
    else if (opts.once && summary.failed > 0) process.exitCode = EXIT.failure;
    else process.exitCode = EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await queued?.close();
  }
}

async function connectQueue(url: string, name?: string): Promise<{ run: JobPipelineRunner; close(): Promise<void> }> {
  const connection = parseQueueUrl(url);
  const queue = new Queue(name ?? DEFAULT_QUEUE_NAME, { connection });
  const waiter = new JobWaiter(queue, connection);
  return {
    run: queueRunner(queue, waiter),
    close: async () => {
      await waiter.close();
      await queue.close();
    },
  };
}

function printHuman(e: WatchEvent, out: string): void {
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r === '' || r.startsWith('..') ? p : r;
  };
  switch (e.event) {
    case 'watch-ready':
      process.stderr.write(`focal watch: watching ${rel(e.dir)} → ${rel(e.out)}${e.recovered ? ` (${e.recovered} job(s) recovered)` : ''}\n`);
      break;
    case 'job-queued':
      process.stdout.write(`queued  ${rel(e.input)}\n`);
      break;
    case 'job-started':
      break;
    case 'job-done':
      process.stdout.write(`done    ${rel(e.input)} → ${rel(e.output)}${e.recovered ? ' (recovered)' : ` (${(e.ms / 1000).toFixed(2)} s)`}\n`);
      break;
    case 'job-failed':
      process.stdout.write(`failed  ${rel(e.input)}: ${e.code}: ${e.message}${e.node ? ` (node ${e.node}${e.op ? `, op ${e.op}` : ''})` : ''}; report ${rel(e.report)}\n`);
      break;
    case 'job-skipped':
      if (e.link) process.stderr.write(`focal watch: skipped ${rel(e.input)}: ${e.reason}\n`);
      break;
    case 'warning':
      process.stderr.write(`focal watch: warning: ${e.message}\n`);
      break;
    case 'watch-stopped':
      process.stderr.write(`focal watch: stopped (${e.done} done, ${e.failed} failed${e.abandoned ? `, ${e.abandoned} abandoned` : ''}${e.queued ? `, ${e.queued} left queued` : ''}) — ledger in ${rel(out)}/.focal-watch/\n`);
      break;
  }
}

/** A job's log records of level warn and above, as the default logger prints them. */
function logToStderr(record: LogRecord): void {
  if (record.level === 'warn' || record.level === 'error') process.stderr.write(`${formatLogRecord(record)}\n`);
}
