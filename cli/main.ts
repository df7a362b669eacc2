#!/usr/bin/env node
/**
 * The `focal` executable's entry. It stays small on purpose: for `focal run` it first starts the
 * run's thread (cli/run-host.ts), which then loads core, the readers and the plugin host on the
 * machine's other core while this thread loads the command line (cli/program.ts) and parses it.
 * The thread is taken over by the run, or dropped (it never keeps the process alive) when the
 * command ends before running anything, e.g. on a usage error.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { prestartRunThread } from './run-host.js';

export type { GlobalOptions } from './command-options.js';

/** Runs the command line `argv` (without `node` and the script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  return (await import('./program.js')).main(argv);
}

const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === 'run' && !argv.includes('--help') && !argv.includes('-h')) prestartRunThread();
  const { endQuietlyWhenOutputCloses } = await import('./output.js');
  endQuietlyWhenOutputCloses();
  main(argv).then((code) => {
    process.exitCode = code;
  });
}
