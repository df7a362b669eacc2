import { isFocalError, USAGE_ERROR_CODES, type FocalError } from '../core/index.js';

/** Exit codes of the `focal` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

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
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
