import type { Command } from 'commander';
// Light imports only: this module registers `focal train` on every start of the CLI; the host
// (core's full entry, the plugins' manifests) is imported when `focal train` runs.
import { FocalError } from '../../core/startup.js';
import type { GlobalOptions } from '../main.js';
import { printJsonLine } from '../output.js';

/**
 * Registers `focal train`: `--list` lists the trainers the installed plugins contribute
 * (from their manifests, no plugin code imported); `focal train <trainer> [options]` loads the
 * plugin, turns the trainer's zod options schema into commander options (flags in each field's
 * meta, cli/options.ts), parses them with that schema and runs the trainer.
 * `focal train <trainer> --help` shows the trainer's options. No plugin is named here.
 */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model a plugin contributes: focal train --list; focal train <trainer> [options] (e.g. deepr; focal train <trainer> --help)')
    .argument('[trainer]', 'trainer id (see --list)')
    .option('--list', 'list the trainers of the installed plugins')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (trainer: string | undefined, opts: { list?: boolean }, cmd: Command) => {
      const rest = cmd.args.slice(trainer === undefined ? 0 : 1);
      const { parseOptions } = await import('../options.js');
      const { globalOptions } = await import('../command-options.js');
      const globals = parseOptions(globalOptions, cmd.optsWithGlobals()) as GlobalOptions;
      if (trainer === undefined || trainer.startsWith('-')) {
        if (opts.list) return listTrainers(globals, rest.includes('--json') || trainer === '--json');
        cmd.outputHelp();
        return;
      }
      await runTrainer(trainer, rest, globals, rootArgs(cmd));
    });
}

async function listTrainers(globals: GlobalOptions, json: boolean): Promise<void> {
  const { createHost } = await import('../host.js');
  const host = await createHost(globals, { json });
  const rows = host.registry.plugins().flatMap((p) => p.trainers.map((t) => ({ id: t.id, plugin: p.id, description: t.description })));
  if (json) printJsonLine({ event: 'trainers', trainers: rows });
  else if (rows.length === 0) process.stdout.write('no trainers: no installed plugin contributes one\n');
  else for (const r of rows) process.stdout.write(`${r.id.padEnd(16)} ${r.description} (plugin ${r.plugin})\n`);
}

async function runTrainer(id: string, args: string[], globals: GlobalOptions, argv: string[]): Promise<void> {
  const { createHost } = await import('../host.js');
  const json = args.includes('--json');
  const host = await createHost(globals, { json });
  const owner = host.registry.plugins().find((p) => p.trainers.some((t) => t.id === id));
  if (!owner) {
    const known = host.registry.plugins().flatMap((p) => p.trainers.map((t) => t.id));
    throw new FocalError('E_USAGE', `no trainer '${id}' (installed: ${known.join(', ') || 'none'}; see focal train --list)`);
  }
  const def = (await host.registry.loadPlugin(owner.id)).trainers?.find((t) => t.id === id);
  if (!def) throw new FocalError('E_MANIFEST', `plugin '${owner.id}' lists trainer '${id}' in its manifest but its code does not define it`, { plugin: owner.id });
  const { Command } = await import('commander');
  const { addOptions, parseOptions } = await import('../options.js');
  const sub = addOptions(new Command(`focal train ${id}`).description(def.description).exitOverride().showHelpAfterError(`(run focal train ${id} --help for usage)`), def.options);
  // --json is the CLI's (events as JSON lines); a trainer's schema may declare it too
  sub.parse('json' in def.options.shape ? args : args.filter((a) => a !== '--json'), { from: 'user' });
  const options = parseOptions(def.options, sub.opts());
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  try {
    await def.run({
      signal: controller.signal,
      argv,
      json,
      event: (e) => printJsonLine(e),
      log: (line) => process.stderr.write(`${line}\n`),
    }, options);
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** The arguments the program was parsed from (for records such as a model manifest's training command). */
function rootArgs(cmd: Command): string[] {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return (root as Command & { rawArgs?: string[] }).rawArgs ?? process.argv.slice(2);
}
