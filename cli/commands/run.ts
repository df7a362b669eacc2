import { FocalError, PipelineRunner } from '../../core/index.js';
import type { GlobalOptions } from '../main.js';
import { createHost } from '../host.js';
import { printJsonLine } from '../output.js';
import { createProgressReporter } from '../progress.js';

export interface RunOptions {
  input?: string[];
  out: string;
  preview?: boolean;
  json?: boolean;
  quiet?: boolean;
  concurrency?: number;
}

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

export async function runCommand(pipelineFile: string, opts: RunOptions, globals: GlobalOptions): Promise<void> {
  const host = await createHost(globals, { json: opts.json });
  const runner = host.container.resolve(PipelineRunner);
  const bindings = parseInputBindings(opts.input);
  if ('' in bindings) {
    const file = bindings[''];
    delete bindings[''];
    const { pipeline } = await host.loadPipeline(pipelineFile);
    const names = Object.keys(pipeline.inputs);
    if (names.length !== 1) {
      throw new FocalError('E_USAGE', `--input ${file}: pipeline '${pipeline.name}' has ${names.length} inputs (${names.join(', ') || 'none'}); name one with --input <name>=<file>`, { file: pipelineFile });
    }
    bindings[names[0]] = file;
  }

  const mode = opts.json ? 'json' : opts.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain';
  const progress = createProgressReporter(mode);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const summary = await runner.run({
      pipelineFile,
      inputs: bindings,
      outDir: opts.out,
      preview: opts.preview,
      signal: controller.signal,
      onEvent: progress.onEvent,
      concurrency: opts.concurrency,
    });
    progress.stop();
    if (opts.json) {
      printJsonLine({ event: 'result', ok: true, pipeline: summary.pipeline, outputs: summary.outputs, timingsMs: summary.timingsMs, totalMs: summary.totalMs, provenance: summary.provenanceFile });
    } else if (!opts.quiet) {
      process.stdout.write(`${summary.pipeline}: done in ${(summary.totalMs / 1000).toFixed(2)} s\n`);
      for (const o of summary.outputs) process.stdout.write(`  ${o.name} (${o.type}): ${o.files.join(', ')}\n`);
      process.stdout.write(`  provenance: ${summary.provenanceFile}\n`);
    }
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
