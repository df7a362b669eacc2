import { isFocalError, USAGE_ERROR_CODES, type FocalError } from '../core/startup.js';

/**
 * Exit codes of the `focal` command. `outputClosed` (128 + SIGPIPE) is what a shell reports
 * for a Unix tool whose reader went away (`focal schema | head -1`).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130, outputClosed: 141 } as const;

export function exitCodeFor(err: unknown): number {
  if (isFocalError(err)) {
    if (err.code === 'E_CANCELLED') return EXIT.interrupted;
    return USAGE_ERROR_CODES.has(err.code) ? EXIT.usage : EXIT.failure;
  }
  return EXIT.failure;
}

interface Problem {
  pointer?: string;
  message: string;
}

/**
 * One clear line per problem: `focal: <file>: <pointer>: <message>`. Pipeline
 * validation errors list every problem, one per line. Stack traces only when verbose.
 */
export function formatError(err: unknown, verbose: boolean): string {
  const lines: string[] = [];
  if (isFocalError(err)) {
    const problems = (err as FocalError).details.problems as Problem[] | undefined;
    if (Array.isArray(problems) && problems.length > 0) {
      const file = err.details.file ? `${err.details.file}: ` : '';
      lines.push(`focal: error: ${err.message}`);
      for (const p of problems) lines.push(`  ${file}${p.pointer || '/'}: ${p.message}`);
    } else {
      lines.push(`focal: error: ${err.message}`);
    }
    if (verbose) {
      let cause: unknown = err.cause;
      while (cause) {
        lines.push(`  caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`);
        cause = cause instanceof Error ? cause.cause : undefined;
      }
      if (err.stack) lines.push(err.stack);
    }
  } else if (err instanceof Error) {
    lines.push(`focal: internal error: ${err.message}`);
    if (verbose && err.stack) lines.push(err.stack);
    else lines.push('  (run again with --verbose for the stack trace, and please report it)');
  } else {
    lines.push(`focal: internal error: ${String(err)}`);
  }
  return lines.join('\n');
}

export function errorJson(err: unknown): Record<string, unknown> {
  if (isFocalError(err)) return { event: 'error', code: err.code, message: err.message, details: err.details };
  return { event: 'error', code: 'E_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export function printJsonLine(value: unknown): void {
  if (closedOutput) return;
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

let closedOutput: 'stdout' | 'stderr' | undefined;

/** Which of stdout / stderr was found closed by its reader (EPIPE), if one was. */
export function outputClosed(): 'stdout' | 'stderr' | undefined {
  return closedOutput;
}

/**
 * Makes a closed stdout or stderr (the reader of a pipe went away: `focal schema | head -1`)
 * end the process quietly, as it ends a Unix tool: no stack trace, exit code 141.
 *
 * Without this, the EPIPE of the next write is an unhandled 'error' event, which prints a
 * stack trace and exits 1. With it, the first EPIPE marks the output closed (later writes are
 * dropped: Node discards writes to a destroyed stream without throwing), then:
 * - a command that stops cleanly on Ctrl-C (run, watch, train listen for SIGINT) is asked to
 *   stop in the same way, so a run removes what it wrote and nothing half-written is left; it
 *   ends when it has stopped, and main() reports exit 141 and prints no error;
 * - any other command exits 141 at once.
 * Errors other than EPIPE are left to Node's default handling.
 */
export function endQuietlyWhenOutputCloses(): void {
  const watch = (name: 'stdout' | 'stderr', stream: NodeJS.WriteStream) => {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      if (closedOutput) return;
      closedOutput = name;
      process.exitCode = EXIT.outputClosed;
      if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
      else process.exit(EXIT.outputClosed);
    });
  };
  watch('stdout', process.stdout);
  watch('stderr', process.stderr);
}
