import { FocalError, isFocalError } from '../../core/startup.js';
import { streamRequest, type GlobalOptions, type RunOptions } from '../command-options.js';
import { printJsonLine } from '../output.js';
import { createProgressReporter } from '../progress.js';
import { runInThread } from '../run-host.js';

export type { RunOptions } from '../command-options.js';

/** `--input name=file` pairs; a lone `file` is returned under the empty name. */
export function parseInputBindings(values: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    const file = eq > 0 ? v.slice(eq + 1) : v;
    if (file === '') throw new FocalError('E_USAGE', `--input '${v}' names no file (expected <name>=<file>)`);
    if (name in out) throw new FocalError('E_USAGE', `--input '${name || file}' is given twice`);
    out[name] = file;
  }
  return out;
}

/**
 * The pipeline's name and inputs read straight from its JSON, to bind a lone --input without
 * loading the host here (the run's thread validates everything); undefined when the file is not
 * plain enough to say, and the caller loads it properly for the exact error.
 */
async function inputsAtAGlance(file: string): Promise<{ name: string; inputs: Record<string, unknown> } | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const doc = JSON.parse(await readFile(file, 'utf8')) as { name?: unknown; inputs?: unknown };
    if (typeof doc.name !== 'string' || typeof doc.inputs !== 'object' || doc.inputs === null || Array.isArray(doc.inputs)) return undefined;
    return { name: doc.name, inputs: doc.inputs as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

async function loadForInputs(file: string, globals: GlobalOptions, json?: boolean): Promise<{ name: string; inputs: Record<string, unknown> }> {
  const { createHost } = await import('../host.js');
  const host = await createHost(globals, { json });
  return (await host.loadPipeline(file)).pipeline;
}

export async function runCommand(pipelineFile: string, opts: RunOptions, globals: GlobalOptions): Promise<void> {
  const bindings = parseInputBindings(opts.input);
  if ('' in bindings) {
    const file = bindings[''];
    delete bindings[''];
    const pipeline = (await inputsAtAGlance(pipelineFile)) ?? (await loadForInputs(pipelineFile, globals, opts.json));
    const names = Object.keys(pipeline.inputs);
    if (names.length !== 1) {
      throw new FocalError('E_USAGE', `--input ${file}: pipeline '${pipeline.name}' has ${names.length} inputs (${names.join(', ') || 'none'}); name one with --input <name>=<file>`, { file: pipelineFile });
    }
    bindings[names[0]] = file;
  }

  const mode = opts.json ? 'json' : opts.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain';
  const progress = createProgressReporter(mode);
  const controller = new AbortController();
  const onSignal = () => {
    if (!controller.signal.aborted) progress.log('warn', 'interrupted: stopping the run and removing its outputs (Ctrl-C again to stop at once)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // The run gets a thread of its own: this one stays free to answer Ctrl-C at once and to
    // draw progress, whatever the operations do (core/runtime/isolated-run.ts).
    const summary = await runInThread(
      { pipelineFile, inputs: bindings, outDir: opts.out, preview: opts.preview, report: opts.report ?? true, ...(opts.omeTiff ? { tiff: 'ome' as const } : {}), concurrency: opts.concurrency, ...streamRequest(opts) },
      { globals: { plugin: globals.plugin, config: globals.config, verbose: globals.verbose }, cwd: process.cwd(), json: opts.json },
      { signal: controller.signal, onEvent: progress.onEvent, onLog: progress.onLog, opTimeoutMs: opts.opTimeoutS !== undefined ? opts.opTimeoutS * 1000 : undefined },
    ).catch((err: unknown) => {
      if (isFocalError(err) && err.code === 'E_CANCELLED' && controller.signal.aborted) {
        throw new FocalError('E_CANCELLED', `interrupted: the run was stopped, and what it had written to ${opts.out} was removed`, { file: opts.out }, { cause: err });
      }
      throw err;
    });
    progress.stop();
    if (opts.json) {
      printJsonLine({ event: 'result', ok: true, pipeline: summary.pipeline, outputs: summary.outputs, timingsMs: summary.timingsMs, totalMs: summary.totalMs, provenance: summary.provenanceFile, ...(summary.reportFile ? { report: summary.reportFile } : {}) });
    } else if (!opts.quiet) {
      process.stdout.write(`${summary.pipeline}: done in ${(summary.totalMs / 1000).toFixed(2)} s\n`);
      for (const o of summary.outputs) process.stdout.write(`  ${o.name} (${o.type}): ${o.files.join(', ')}\n`);
      process.stdout.write(`  provenance: ${summary.provenanceFile}\n`);
      if (summary.reportFile) process.stdout.write(`\nReport (previews, counts, tables, node times): ${summary.reportFile}\n  open it in a browser: file://${summary.reportFile}\n`);
    }
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
