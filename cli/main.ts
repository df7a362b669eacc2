#!/usr/bin/env node
import 'reflect-metadata';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES, FocalError, hostFocalVersion, parseBackendName } from '../core/startup.js';
import { endQuietlyWhenOutputCloses, EXIT, errorJson, exitCodeFor, formatError, outputClosed, printJsonLine } from './output.js';
import { registerTrainCommand } from './commands/train.js';
// Commands are imported when they run: `focal --help` loads commander and this file only.
const commands = {
  run: () => import('./commands/run.js'),
  validate: () => import('./commands/validate.js'),
  plugins: () => import('./commands/plugins.js'),
  schema: () => import('./commands/schema.js'),
  info: () => import('./commands/info.js'),
  tui: () => import('./commands/tui.js'),
  watch: () => import('./commands/watch.js'),
  doctor: () => import('./commands/doctor.js'),
  trust: () => import('./commands/trust.js'),
  queue: () => import('./commands/queue.js'),
};

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
    .action(async (pipeline: string, opts, cmd: Command) => (await commands.run()).runCommand(pipeline, opts, cmd.optsWithGlobals()));

  program
    .command('validate')
    .description('check a pipeline without running it; lists every problem')
    .argument('<pipeline>', 'pipeline JSON file')
    .option('--json', 'print the result as JSON')
    .action(async (pipeline: string, opts, cmd: Command) => (await commands.validate()).validateCommand(pipeline, opts, cmd.optsWithGlobals()));

  program
    .command('plugins')
    .description('list plugins and their operations, with ports and parameters')
    .option('--json', 'print as JSON')
    .action(async (opts, cmd: Command) => (await commands.plugins()).pluginsCommand(opts, cmd.optsWithGlobals()));

  program
    .command('trust')
    .description('mark a folder trusted (default: the current one): its focal.config.json and node_modules plugins may then load and run')
    .argument('[path]', 'folder to trust (default: the current folder)')
    .option('--list', 'list the trusted folders')
    .option('--remove', 'forget a trusted folder')
    .option('--json', 'print as JSON')
    .action(async (path: string | undefined, opts) => (await commands.trust()).trustCommand(path, opts));

  program
    .command('schema')
    .description('print the JSON Schema of pipeline files (with every installed op\'s params)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--core', 'only the document shape, without per-op params')
    .action(async (opts, cmd: Command) => (await commands.schema()).schemaCommand(opts, cmd.optsWithGlobals()));

  program
    .command('info')
    .description('show dimensions, pixel type, calibration and metadata of an image file')
    .argument('<file>', 'TIFF / OME-TIFF file')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts, cmd: Command) => (await commands.info()).infoCommand(file, opts, cmd.optsWithGlobals()));

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
    .option('--queue <url>', 'hand each job to this Redis job queue (focal worker runs them) instead of running it here; raise --concurrency to keep workers busy')
    .option('--queue-name <name>', 'queue name in that Redis (default focal)')
    .addOption(new Option('--settle-ms <ms>', 'size and mtime must be unchanged this long (default 2000)').argParser((v) => positiveInt(v, '--settle-ms')))
    .addOption(new Option('--acquisition-timeout-s <s>', 'process a dataset still incomplete this long after its last change, with a warning (default 120)').argParser((v) => positiveInt(v, '--acquisition-timeout-s')))
    .addOption(new Option('--op-timeout-s <s>', 'fail the run when one operation runs longer than this (default: no limit)').argParser((v) => positiveInt(v, '--op-timeout-s')))
    .addOption(new Option('--grace-s <s>', 'on SIGINT/SIGTERM, wait this long for running jobs before aborting them (default 30)').argParser((v) => positiveInt(v, '--grace-s')))
    .action(async (dir: string, opts, cmd: Command) => (await commands.watch()).watchCommand(dir, opts, cmd.optsWithGlobals()));

  program
    .command('tui')
    .description('terminal UI: browse, edit and run pipelines, see results, watch a folder (also: focal with no arguments on a terminal)')
    .argument('[pipeline]', 'pipeline JSON file to open')
    .option('-o, --out <dir>', 'output folder of runs (default: out/<pipeline name>)')
    .action(async (pipeline: string | undefined, opts, cmd: Command) => (await commands.tui()).tuiCommand(pipeline, opts, cmd.optsWithGlobals()));

  program
    .command('doctor')
    .description('show the machine, the deep-learning backends found (and why others are not), the default, and onnxruntime')
    .option('--json', 'print as JSON')
    .action(async (opts, cmd: Command) => (await commands.doctor()).doctorCommand(opts, cmd.optsWithGlobals()));

  registerTrainCommand(program);

  const queueOptions = (cmd: Command, required: boolean) => {
    const url = '--queue <url>';
    const text = 'Redis of the job queue: redis://[user:password@]host:port[/db], rediss:// for TLS';
    if (required) cmd.requiredOption(url, text);
    else cmd.option(url, `${text} (default: run the jobs in this process)`);
    return cmd.option('--queue-name <name>', 'queue name in that Redis (default focal)');
  };

  queueOptions(
    program
      .command('submit')
      .description('run a pipeline over a batch of inputs as jobs: here, or on a queue that focal worker processes on many machines')
      .argument('<pipeline>', 'pipeline JSON file')
      .option('-i, --input <name=file|glob>', 'bind an input to a file, or to a glob (one job per file; repeatable, one glob at most)', collect)
      .option('--csv <file>', 'one job per row: columns named after the pipeline inputs, optional out column (relative to --out)')
      .requiredOption('-o, --out <dir>', 'parent folder: one output folder per job, failed/ reports')
      .addOption(new Option('--attempts <n>', 'attempts for runtime failures (bad input or pipeline: 1) (default 3 on a queue, 1 here)').argParser((v) => positiveInt(v, '--attempts')))
      .option('--wait', 'with --queue: wait until every job is done or failed (exit 1 if any failed)')
      .addOption(new Option('--concurrency <n>', 'without --queue: jobs at once (default 1)').argParser((v) => positiveInt(v, '--concurrency')))
      .option('--allow-path <dir>', 'without --queue: refuse jobs whose files leave these folders (repeatable)', collect)
      .option('--json', 'print one JSON event per line'),
    false,
  ).action(async (pipeline: string, opts, cmd: Command) => (await commands.queue()).submitCommand(pipeline, opts, cmd.optsWithGlobals()));

  queueOptions(
    program
      .command('worker')
      .description('take jobs from a queue and run them, until SIGTERM (finishes running jobs) or a second signal (aborts them)')
      .addOption(new Option('--concurrency <n>', 'jobs at once (default 1)').argParser((v) => positiveInt(v, '--concurrency')))
      .option('--name <name>', 'worker name shown by focal queue status (default: host-pid)')
      .addOption(new Option('--lock-s <s>', "seconds a job's lock lasts without renewal: a killed worker's job runs elsewhere after it (default 30)").argParser((v) => positiveInt(v, '--lock-s')))
      .option('--allow-path <dir>', 'only run jobs whose files are inside these folders (repeatable; default: any)', collect)
      .option('--json', 'print one JSON event per line'),
    true,
  ).action(async (opts, cmd: Command) => (await commands.queue()).workerCommand(opts, cmd.optsWithGlobals()));

  queueOptions(
    program
      .command('queue')
      .description('show (status), retry the failed jobs of (retry), or empty the waiting jobs of (drain) a queue')
      .argument('<action>', 'status, retry or drain')
      .option('--json', 'print as JSON'),
    true,
  ).action(async (action: string, opts) => (await commands.queue()).queueCommand(action, opts));

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
