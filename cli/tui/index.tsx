import { render } from 'ink';
import { ConsoleLogger, createContainer, FocalError, PipelineRunner, type OperationCatalog, type Pipeline } from '../../core/index.js';
import { FolderWatcher, type WatchEvent, type WatchOptions } from '../watch/engine.js';
import { App } from './App.js';
import { createTuiServices, type TuiServicesOptions } from './services.js';
import { colorEnabled } from './theme.js';
import type { WatchController } from './watch-state.js';

export { App, type AppProps } from './App.js';
export { createTuiServices, type TuiServices } from './services.js';

export interface StartTuiOptions {
  catalog: OperationCatalog;
  loadPipeline(file: string): Promise<{ pipeline: Pipeline; inputDefaults: Record<string, string> }>;
  pipeline?: string;
  outDir?: string;
  cwd?: string;
  /** How runs are executed (the CLI: in a thread of their own); default in this thread. */
  execute?: TuiServicesOptions['execute'];
}

/** A WatchController over the watch engine (FolderWatcher): the pipeline's first stack/image input receives each dataset. */
export function folderWatchController(options: Pick<StartTuiOptions, 'catalog' | 'loadPipeline'>, engine: Partial<Pick<WatchOptions, 'settleMs' | 'concurrency' | 'pattern'>> = {}): WatchController {
  let watcher: FolderWatcher | undefined;
  return {
    async start({ folder, pipelineFile, outDir, onEvent }) {
      const { pipeline } = await options.loadPipeline(pipelineFile);
      const inputName = Object.entries(pipeline.inputs).find(([, s]) => s.type === 'stack' || s.type === 'image')?.[0];
      if (!inputName) throw new FocalError('E_USAGE', `pipeline '${pipeline.name}' has no stack or image input to feed the watched files to`, { file: pipelineFile });
      const logger = new ConsoleLogger({ level: 'warn', sink: (r) => onEvent({ event: 'warning', ts: Date.now(), message: r.message } as WatchEvent) });
      const runner = createContainer({ catalog: options.catalog, logger }).resolve(PipelineRunner);
      watcher = new FolderWatcher({ ...engine, dir: folder, pipelineFile, outDir, inputName, runner, onEvent });
      await watcher.start();
    },
    async stop() {
      const w = watcher;
      watcher = undefined;
      if (w) await w.stop();
    },
  };
}

/** Renders the terminal UI and resolves when the user quits. */
export async function startTui(options: StartTuiOptions): Promise<void> {
  const services = createTuiServices({ catalog: options.catalog, loadPipeline: options.loadPipeline, cwd: options.cwd, execute: options.execute });
  const watch = folderWatchController(options);
  const instance = render(<App services={services} watch={watch} pipeline={options.pipeline} outDir={options.outDir} color={colorEnabled()} />, { exitOnCtrlC: true });
  await instance.waitUntilExit();
  await watch.stop().catch(() => undefined);
}
