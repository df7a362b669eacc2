/**
 * Test helpers for operation tests, for built-in and third-party plugin authors alike.
 * A minimal OpContext that records progress and log calls, `runOp`, which parses
 * params through the op's own zod schema (defaults filled, as the executor does), and
 * `captureStdio`, for tests that run a command in-process and read what it printed.
 */
import { FocalError } from '../errors.js';
import { asOpError } from '../pipeline/op-error.js';
import type { AnyOperationDef, Logger, OpContext, ServiceProvider } from '../plugin/contract.js';

export interface TestContext extends OpContext {
  readonly progressCalls: { fraction: number; label?: string }[];
  readonly logs: { level: keyof Logger; message: string }[];
}

/**
 * A recording OpContext. `services` resolves nothing unless given (e.g. the provider of a
 * container from `createContainer`, or a stub serving just the tokens an op needs).
 */
export function testContext(options: { signal?: AbortSignal; onProgress?: (fraction: number) => void; services?: ServiceProvider } = {}): TestContext {
  const progressCalls: { fraction: number; label?: string }[] = [];
  const logs: { level: keyof Logger; message: string }[] = [];
  const log: Logger = {
    debug: (message) => void logs.push({ level: 'debug', message }),
    info: (message) => void logs.push({ level: 'info', message }),
    warn: (message) => void logs.push({ level: 'warn', message }),
    error: (message) => void logs.push({ level: 'error', message }),
  };
  return {
    log,
    progressCalls,
    logs,
    progress(fraction, label) {
      progressCalls.push({ fraction, ...(label !== undefined ? { label } : {}) });
      options.onProgress?.(fraction);
    },
    signal: options.signal ?? new AbortController().signal,
    services: options.services ?? {
      resolve() {
        throw new FocalError('E_ARGUMENT', 'no services are registered in this test context');
      },
    },
  };
}

/**
 * Parses `params` with the op's schema (throws the zod error on invalid params) and runs the
 * op; its errors are mapped as the executor maps them (`E_ARGUMENT` naming an input port or
 * a param becomes `E_PORT` / `E_PARAMS`, see {@link asOpError}).
 */
export async function runOp(op: AnyOperationDef, inputs: Record<string, unknown>, params: Record<string, unknown> = {}, ctx: OpContext = testContext()): Promise<Record<string, unknown>> {
  const parsed = op.params.parse(params);
  try {
    return (await op.run(ctx, inputs, parsed)) as Record<string, unknown>;
  } catch (err) {
    throw asOpError(op, err);
  }
}

/**
 * Runs `fn` with `process.stdout` and `process.stderr` captured (nothing reaches the terminal) and
 * gives its value with what it wrote to each; both streams are restored afterwards, also when `fn`
 * throws. For a CLI's `main(argv)` run in-process: `const { value: code, stderr } = await
 * captureStdio(() => main([...]))`.
 */
export async function captureStdio<T>(fn: () => Promise<T>): Promise<{ value: T; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { stderr += String(chunk); return true; }) as typeof process.stderr.write;
  try {
    const value = await fn();
    return { value, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}
