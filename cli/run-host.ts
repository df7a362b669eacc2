/**
 * The host module of isolated runs (core's runIsolated): builds, inside the run's own thread,
 * the same host as the CLI (built-in plugins, discovered plugins, core services) and a
 * PipelineRunner on it. `focal run`, the TUI and `focal watch` run pipelines through it, so
 * Ctrl-C and the TUI's cancel key stop any operation within a fixed time.
 */
import { prestartIsolatedRun, runIsolated, RunThreadPool, type IsolatedRunHooks, type IsolatedRunOptions, type IsolatedRunRequest, type PrestartedRun, type RunSummary } from '../core/startup.js';
import type { GlobalOptions } from './main.js';

/** What the thread needs to build the host (structured-cloned). */
export interface RunHostConfig {
  globals: Pick<GlobalOptions, 'plugin' | 'config' | 'verbose'>;
  cwd: string;
  /** Plugin discovery warnings as JSON lines (`--json`) instead of text. */
  json?: boolean;
  /** Worker-pool threads of the run's compute service (default: cores). */
  threads?: number;
  /** Skip printing plugin-discovery warnings (the caller printed them already). */
  quietDiscovery?: boolean;
}

/** What createIsolatedRunner imports, loaded ahead in a prestarted thread (it needs no config). */
export async function preloadIsolatedRunner(): Promise<void> {
  await import('reflect-metadata');
  await Promise.all([import('../core/index.js'), import('./host.js')]);
}

export async function createIsolatedRunner(config: RunHostConfig, hooks: IsolatedRunHooks): Promise<{ run: (request: IsolatedRunRequest) => Promise<RunSummary> }> {
  // Imported here, inside the run's thread: the thread that starts runs stays light.
  await import('reflect-metadata');
  const { PipelineRunner } = await import('../core/index.js');
  const { createHost } = await import('./host.js');
  const host = await createHost(config.globals, { json: config.json, cwd: config.cwd, logSink: hooks.log, threads: config.threads, quiet: config.quietDiscovery });
  const runner = host.container.resolve(PipelineRunner);
  return { run: (request) => runner.run(request) };
}

let prestarted: PrestartedRun | undefined;

/**
 * This process's run threads kept between runs: `focal watch`, `focal submit`, `focal worker`
 * and the TUI run one pipeline after another, and a kept thread has its modules loaded.
 */
const pool = new RunThreadPool();

/**
 * Starts the run thread of this process now (`focal run` calls it first thing, so the thread
 * loads core and the host while the command line is parsed); the next runInThread takes it.
 */
export function prestartRunThread(): void {
  prestarted ??= prestartIsolatedRun(import.meta.url);
}

/**
 * Runs a pipeline in a thread with this host (see core/runtime/isolated-run.ts): a kept thread
 * when one is idle, else the prestarted thread when there is one, else a new one; with
 * `freshThread`, never a kept one, and the thread is not kept after the run.
 */
export function runInThread(
  request: IsolatedRunRequest,
  config: RunHostConfig,
  { freshThread, ...options }: Omit<IsolatedRunOptions, 'hostModule' | 'hostConfig' | 'prestarted' | 'pool'> & { freshThread?: boolean } = {},
): Promise<RunSummary> {
  const thread = prestarted;
  prestarted = undefined;
  return runIsolated(request, { ...options, hostModule: import.meta.url, hostConfig: config, prestarted: thread, pool: freshThread ? undefined : pool });
}
