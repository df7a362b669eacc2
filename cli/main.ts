#!/usr/bin/env node
import 'reflect-metadata';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { BACKEND_NAMES, hostFocalVersion, z } from '../core/index.js';
import { addOptions, backendName, flag, jsonOnly, parseOptions, type OptionsSchema } from './options.js';
import { endQuietlyWhenOutputCloses, EXIT, errorJson, exitCodeFor, formatError, outputClosed, printJsonLine } from './output.js';
import { runCommand, runOptions } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { pluginsCommand } from './commands/plugins.js';
import { schemaCommand, schemaOptions } from './commands/schema.js';
import { infoCommand } from './commands/info.js';
import { tuiCommand, tuiOptions } from './commands/tui.js';
import { watchCommand, watchOptions } from './commands/watch.js';
import { doctorCommand } from './commands/doctor.js';
import { registerTrainCommand } from './commands/train.js';

/** Options of the root program, given before or after the command. */
export const globalOptions = z.object({
  plugin: flag(z.array(z.string()).optional(), '--plugin <path>', 'load a plugin package from this folder (repeatable)'),
  config: flag(z.string().optional(), '--config <file>', 'focal.config.json to read (default: ./focal.config.json when present)'),
  verbose: flag(z.boolean().optional(), '--verbose', 'print stack traces and debug logs'),
  /** TensorFlow.js backend for deep-learning ops; exported as FOCAL_BACKEND before the command runs. */
  backend: flag(backendName().optional(), '--backend <name>', `TensorFlow.js backend for deep learning: auto, ${BACKEND_NAMES.join(', ')} (default: FOCAL_BACKEND, else the best available)`),
});
export type GlobalOptions = z.output<typeof globalOptions>;

/** The command's own options and the root program's, each parsed with its schema. */
function optionsOf<S extends OptionsSchema>(schema: S, cmd: Command): [z.output<S>, GlobalOptions] {
  return [parseOptions(schema, cmd.opts()), parseOptions(globalOptions, cmd.optsWithGlobals())];
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('focal')
    .description('Focal: plugin-based image processing for microscopy')
    .version(await hostFocalVersion(), '-V, --version');
  addOptions(program, globalOptions)
    .showHelpAfterError('(run focal --help for usage)')
    .exitOverride()
    .hook('preAction', (root) => {
      const { backend } = parseOptions(globalOptions, root.opts());
      if (backend) process.env.FOCAL_BACKEND = backend;
    });

  addOptions(
    program
      .command('run')
      .description('run a pipeline and write its outputs')
      .argument('<pipeline>', 'pipeline JSON file'),
    runOptions,
  ).action(async (pipeline: string, _opts, cmd: Command) => runCommand(pipeline, ...optionsOf(runOptions, cmd)));

  const validateOptions = jsonOnly('print the result as JSON');
  addOptions(
    program
      .command('validate')
      .description('check a pipeline without running it; lists every problem')
      .argument('<pipeline>', 'pipeline JSON file'),
    validateOptions,
  ).action(async (pipeline: string, _opts, cmd: Command) => validateCommand(pipeline, ...optionsOf(validateOptions, cmd)));

  const pluginsOptions = jsonOnly('print as JSON');
  addOptions(
    program
      .command('plugins')
      .description('list plugins and their operations, with ports and parameters'),
    pluginsOptions,
  ).action(async (_opts, cmd: Command) => pluginsCommand(...optionsOf(pluginsOptions, cmd)));

  addOptions(
    program
      .command('schema')
      .description('print the JSON Schema of pipeline files (with every installed op\'s params)'),
    schemaOptions,
  ).action(async (_opts, cmd: Command) => schemaCommand(...optionsOf(schemaOptions, cmd)));

  const infoOptions = jsonOnly('print as JSON');
  addOptions(
    program
      .command('info')
      .description('show dimensions, pixel type, calibration and metadata of an image file')
      .argument('<file>', 'TIFF / OME-TIFF file'),
    infoOptions,
  ).action(async (file: string, _opts, cmd: Command) => infoCommand(file, ...optionsOf(infoOptions, cmd)));

  addOptions(
    program
      .command('watch')
      .description('process every image that lands in a folder, exactly once (ledger in <out>/.focal-watch/)')
      .argument('<dir>', 'folder to watch (recursively)'),
    watchOptions,
  ).action(async (dir: string, _opts, cmd: Command) => watchCommand(dir, ...optionsOf(watchOptions, cmd)));

  addOptions(
    program
      .command('tui')
      .description('terminal UI: browse, edit and run pipelines, see results, watch a folder (also: focal with no arguments on a terminal)')
      .argument('[pipeline]', 'pipeline JSON file to open'),
    tuiOptions,
  ).action(async (pipeline: string | undefined, _opts, cmd: Command) => tuiCommand(pipeline, ...optionsOf(tuiOptions, cmd)));

  const doctorOptions = jsonOnly('print as JSON');
  addOptions(
    program
      .command('doctor')
      .description('show the machine, the deep-learning backends found (and why others are not), the default, and onnxruntime'),
    doctorOptions,
  ).action(async (_opts, cmd: Command) => doctorCommand(...optionsOf(doctorOptions, cmd)));

  registerTrainCommand(program);

  return program;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY) argv = ['tui'];
  const program = await buildProgram();
  const wantsJson = argv.includes('--json');
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    if (outputClosed()) return EXIT.outputClosed;
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    // The reader of our output went away and the command stopped for it: nothing to tell.
    if (outputClosed()) return EXIT.outputClosed;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage; // commander already printed the message
    }
    if (wantsJson) printJsonLine(errorJson(err));
    process.stderr.write(`${formatError(err, verbose)}\n`);
    return exitCodeFor(err);
  }
}

const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  endQuietlyWhenOutputCloses();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
