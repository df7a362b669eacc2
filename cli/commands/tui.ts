import { FocalError, type LogRecord, type RunRequest } from '../../core/index.js';
import { runInThread } from '../run-host.js';
import type { GlobalOptions, TuiOptions } from '../command-options.js';
import { createHost } from '../host.js';

export type { TuiOptions } from '../command-options.js';

/** `focal tui [pipeline]`: the terminal UI. Ink and React are imported here, lazily, so other commands stay headless. */
export async function tuiCommand(pipeline: string | undefined, opts: TuiOptions, globals: GlobalOptions): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new FocalError('E_USAGE', 'focal tui needs an interactive terminal (stdin and stdout must be a TTY); use focal run or focal watch in scripts');
  }
  const host = await createHost(globals);
  // Ink renders nothing until exit when it believes it runs in CI (the CI or
  // CONTINUOUS_INTEGRATION variable is set). Here stdin and stdout are a TTY, so a person
  // (or tmux) is watching: switch that detection off before Ink is first imported.
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) if (key in process.env) process.env[key] = 'false';
  const { startTui } = await import('../tui/index.js');
  // Runs get a thread of their own: the screen stays live and `c` stops any operation at once.
  const execute = (request: RunRequest, onLog: (record: LogRecord) => void) => {
    const { signal, onEvent, onWrite: _onWrite, ...rest } = request;
    return runInThread(rest, { globals: { plugin: globals.plugin, config: globals.config, verbose: globals.verbose }, cwd: process.cwd(), quietDiscovery: true }, { signal, onEvent, onLog });
  };
  await startTui({ catalog: host.registry, loadPipeline: host.loadPipeline, pipeline, outDir: opts.out, execute });
}
