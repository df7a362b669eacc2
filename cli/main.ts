#!/usr/bin/env node
import 'reflect-metadata';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES, FocalError, hostFocalVersion, parseBackendName } from '../core/index.js';
import { endQuietlyWhenOutputCloses, EXIT, errorJson, exitCodeFor, formatError, outputClosed, printJsonLine } from './output.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { pluginsCommand } from './commands/plugins.js';
import { trustCommand } from './commands/trust.js';
import { schemaCommand } from './commands/schema.js';
import { infoCommand } from './commands/info.js';
import { tuiCommand } from './commands/tui.js';
import { watchCommand } from './commands/watch.js';
import { doctorCommand } from './commands/doctor.js';
import { registerTrainCommand } from './commands/train.js';

export interface GlobalOptions {
  plugin?: string[];
  config?: string;
  verbose?: boolean;
  /** TensorFlow.js backend for deep-learning ops; exported as FOCAL_BACKEND before the command runs. */
  backend?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('focal')
    .description('Focal: plugin-based image processing for microscopy')
    .version(await hostFocalVersion(), '-V, --version')
    .option('--plugin <path>', 'load a plugin package from this folder (repeatable)', collect)
    .option('--config <file>', 'focal.config.json to read (default: ./focal.config.json when present)')
    .option('--verbose', 'print stack traces and debug logs')
    .addOption(
      new Option('--backend <name>', `TensorFlow.js backend for deep learning: auto, ${BACKEND_NAMES.join(', ')} (default: FOCAL_BACKEND, else the best available)`)
        .argParser((v) => parseBackendName(v, '--backend') ?? 'auto'),
    )
    .showHelpAfterError('(run focal --help for usage)')
    .exitOverride()
    .hook('preAction', (root) => {
      const backend = (root.opts() as GlobalOptions).backend;
      if (backend) process.env.FOCAL_BACKEND = backend;
    });

  program
    .command('run')
    .description('run a pipeline and write its outputs')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('-i, --input <name=file>', 'bind a pipeline input to a file (repeatable); a lone file binds the only input', collect)
    .requiredOption('-o, --out <dir>', 'output folder (created if needed)')
    .option('--preview', 'also write an 8-bit PNG preview of every image output')
    .option('--report', 'also write report.html: previews, counts, tables and node times in one page')
    .option('--json', 'print progress and the result as JSON lines on stdout')
    .option('-q, --quiet', 'no progress output')
    .addOption(new Option('--concurrency <n>', 'nodes run at once (default: cores)').argParser((v) => positiveInt(v, '--concurrency')))
    .addOption(new Option('--op-timeout-s <s>', 'fail the run when one operation runs longer than this (default: no limit)').argParser((v) => positiveInt(v, '--op-timeout-s')))
    .action(async (pipeline: string, opts, cmd: Command) => runCommand(pipeline, opts, cmd.optsWithGlobals()));

  program
    .command('validate')
    .description('check a pipeline without running it; lists every problem')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--json', 'print the result as JSON')
    .action(async (pipeline: string, opts, cmd: Command) => validateCommand(pipeline, opts, cmd.optsWithGlobals()));

  program
    .command('plugins')
    .description('list plugins and their operations, with ports and parameters')
    .option('--json', 'print as JSON')
    .action(async (opts, cmd: Command) => pluginsCommand(opts, cmd.optsWithGlobals()));

  program
    .command('trust')
    .description('mark a folder trusted (default: the current one): its focal.config.json and node_modules plugins may then load and run')
    .argument('[path]', 'folder to trust (default: the current folder)')
    .option('--list', 'list the trusted folders')
    .option('--remove', 'forget a trusted folder')
    .option('--json', 'print as JSON')
    .action(async (path: string | undefined, opts) => trustCommand(path, opts));

  program
    .command('schema')
    .description('print the JSON Schema of pipeline files (with every installed op\'s params)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--core', 'only the document shape, without per-op params')
    .action(async (opts, cmd: Command) => schemaCommand(opts, cmd.optsWithGlobals()));

  program
    .command('info')
    .description('show dimensions, pixel type, calibration and metadata of an image file')
    .argument('<file>', 'TIFF / OME-TIFF file')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts, cmd: Command) => infoCommand(file, opts, cmd.optsWithGlobals()));

  program
    .command('watch')
    .description('process every image that lands in a folder, exactly once (ledger in <out>/.focal-watch/)')
    .argument('<dir>', 'folder to watch (recursively)')
    .requiredOption('-p, --pipeline <file>', 'pipeline JSON file')
    .requiredOption('-o, --out <dir>', 'output folder: one subfolder per input, failed/ reports, the ledger')
    .option('--input-name <name>', 'pipeline input that receives each file (default: the only input)')
    .option('--pattern <glob>', 'which files to take, relative to <dir> (default: **/*.{tif,tiff}, case-insensitive)')
    .addOption(new Option('--concurrency <n>', 'jobs at once (default 1)').argParser((v) => positiveInt(v, '--concurrency')))
    .addOption(new Option('--max-queue <n>', 'most jobs queued or running; more complete files wait (default 64)').argParser((v) => positiveInt(v, '--max-queue')))
    .option('--once', 'process what is there (waiting for it to be complete), then exit')
    .option('--polling', 'poll the folder (every 0.5 s) instead of file-system events, for network shares')
    .option('--follow-symlinks', 'follow symbolic links to files and folders (default: skip them); each real file is processed once and a folder loop is entered once')
    .option('--json', 'print one JSON event per line on stdout')
    .addOption(new Option('--settle-ms <ms>', 'size and mtime must be unchanged this long (default 2000)').argParser((v) => positiveInt(v, '--settle-ms')))
    .addOption(new Option('--acquisition-timeout-s <s>', 'process a dataset still incomplete this long after its last change, with a warning (default 120)').argParser((v) => positiveInt(v, '--acquisition-timeout-s')))
    .addOption(new Option('--op-timeout-s <s>', 'fail the run when one operation runs longer than this (default: no limit)').argParser((v) => positiveInt(v, '--op-timeout-s')))
    .addOption(new Option('--grace-s <s>', 'on SIGINT/SIGTERM, wait this long for running jobs before aborting them (default 30)').argParser((v) => positiveInt(v, '--grace-s')))
    .action(async (dir: string, opts, cmd: Command) => watchCommand(dir, opts, cmd.optsWithGlobals()));

  program
    .command('tui')
    .description('terminal UI: browse, edit and run pipelines, see results, watch a folder (also: focal with no arguments on a terminal)')
    .argument('[pipeline]', 'pipeline JSON file to open')
    .option('-o, --out <dir>', 'output folder of runs (default: out/<pipeline name>)')
    .action(async (pipeline: string | undefined, opts, cmd: Command) => tuiCommand(pipeline, opts, cmd.optsWithGlobals()));

  program
    .command('doctor')
    .description('show the machine, the deep-learning backends found (and why others are not), the default, and onnxruntime')
    .option('--json', 'print as JSON')
    .action(async (opts, cmd: Command) => doctorCommand(opts, cmd.optsWithGlobals()));

  registerTrainCommand(program);

  return program;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new FocalError('E_USAGE', `${name} must be a positive integer, got '${value}'`);
  return n;
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
