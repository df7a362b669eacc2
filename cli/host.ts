import { resolve } from 'node:path';
import type { DependencyContainer } from 'tsyringe';
import { ConsoleLogger, createContainer, formatDiscoveryProblem, isTrustedFolder, loadPipelineFile, userConfigDir, PluginRegistry, type DiscoveryProblem, type LoadedPipeline, type LogRecord } from '../core/index.js';
import { registerBuiltins } from '../plugins/builtins.js';
import type { GlobalOptions } from './main.js';
import { printJsonLine } from './output.js';

export interface Host {
  registry: PluginRegistry;
  container: DependencyContainer;
  problems: DiscoveryProblem[];
  loadPipeline(file: string): Promise<LoadedPipeline>;
}

/**
 * The CLI's composition root: a registry with the built-in plugins plus those discovered
 * in --plugin paths, --config, the user's own focal.config.json (user config folder) and,
 * only when the current folder is trusted (`focal trust`), ./focal.config.json and
 * ./node_modules; and a DI container around it.
 * Discovery problems are warnings (on stderr, or JSON lines with --json), never fatal.
 */
export async function createHost(globals: GlobalOptions, options: { json?: boolean; cwd?: string; logSink?: (record: LogRecord) => void; threads?: number; quiet?: boolean } = {}): Promise<Host> {
  const logger = new ConsoleLogger({ level: globals.verbose ? 'debug' : 'info', sink: options.logSink });
  const registry = new PluginRegistry();
  registerBuiltins(registry); // manifests now, each plugin's code on first use
  const cwd = options.cwd ?? process.cwd();
  const { problems } = await registry.discover({
    cwd,
    configFile: globals.config ? resolve(globals.config) : undefined,
    pluginPaths: (globals.plugin ?? []).map((p) => resolve(p)),
    ...(await folderTrust(cwd)),
  });
  for (const p of options.quiet ? [] : problems) {
    if (options.json) printJsonLine({ event: 'warning', kind: 'plugin', ...p });
    else process.stderr.write(`focal: warning: ${formatDiscoveryProblem(p)}\n`);
  }
  const container = createContainer({ catalog: registry, logger, threads: options.threads });
  return { registry, container, problems, loadPipeline: (file) => loadPipelineFile(file, registry) };
}

/** Plugin code from the current folder loads only when the user trusts it (core/plugin/trust.ts). */
async function folderTrust(cwd: string): Promise<{ trustCwd: boolean; userConfigDir: string }> {
  const configDir = userConfigDir();
  return { trustCwd: await isTrustedFolder(cwd, configDir), userConfigDir: configDir };
}
