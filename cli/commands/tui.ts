import { FocalError, z, type LogRecord, type RunRequest } from '../../core/index.js';
import { flag } from '../options.js';
import { runInThread } from '../run-host.js';
import type { GlobalOptions } from '../main.js';
import { createHost } from '../host.js';

export const tuiOptions = z.object({
  out: flag(z.string().optional(), '-o, --out <dir>', 'output folder of runs (default: out/<pipeline name>)'),
});
export type TuiOptions = z.output<typeof tuiOptions>;

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
