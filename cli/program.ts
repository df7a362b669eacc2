/**
 * The `focal` command line: the commands, their options and the error handling around them
 * (cli/main.ts is the executable's entry; it loads this module after starting what can start early).
 */
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import type { z } from 'zod';
import { hostFocalVersion } from '../core/startup.js';
import {
  convertOptions, doctorOptions, globalOptions, reportOptions, infoOptions, pluginsOptions, queueCommandOptions, runOptions, schemaOptions, submitOptions,
  trustOptions, tuiOptions, validateOptions, watchOptions, workerOptions, type GlobalOptions,
} from './command-options.js';
import { addOptions, parseOptions, type OptionsSchema } from './options.js';
import { EXIT, errorJson, exitCodeFor, formatError, outputClosed, printJsonLine } from './output.js';
import { registerTrainCommand } from './commands/train.js';

export type { GlobalOptions } from './command-options.js';

// Commands are imported when they run: `focal --help` loads commander, zod and the option schemas only.
const commands = {
  run: () => import('./commands/run.js'),
  validate: () => import('./commands/validate.js'),
  plugins: () => import('./commands/plugins.js'),
  schema: () => import('./commands/schema.js'),
  info: () => import('./commands/info.js'),
  convert: () => import('./commands/convert.js'),
  tui: () => import('./commands/tui.js'),
  watch: () => import('./commands/watch.js'),
  doctor: () => import('./commands/doctor.js'),
  trust: () => import('./commands/trust.js'),
  queue: () => import('./commands/queue.js'),
  report: () => import('./commands/report.js'),
};

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

  /** A command with its positional arguments and the options of its schema. */
  const command = (name: string, description: string, schema: OptionsSchema, ...args: [string, string][]) => {
    const cmd = program.command(name).description(description);
    for (const [arg, help] of args) cmd.argument(arg, help);
    return addOptions(cmd, schema);
  };

  command('run', 'run a pipeline and write its outputs', runOptions, ['<pipeline>', 'pipeline JSON file'])
    .action(async (pipeline: string, _opts, cmd: Command) => (await commands.run()).runCommand(pipeline, ...optionsOf(runOptions, cmd)));

  command('report', 'rebuild report.html in the output folder of a run, from its run.json and the files there', reportOptions, ['<out>', 'output folder of a focal run'])
    .action(async (out: string, _opts, cmd: Command) => (await commands.report()).reportCommand(out, ...optionsOf(reportOptions, cmd)));

  command('validate', 'check a pipeline without running it; lists every problem', validateOptions, ['<pipeline>', 'pipeline JSON file'])
    .action(async (pipeline: string, _opts, cmd: Command) => (await commands.validate()).validateCommand(pipeline, ...optionsOf(validateOptions, cmd)));

  command('plugins', 'list plugins and their operations, with ports and parameters', pluginsOptions)
    .action(async (_opts, cmd: Command) => (await commands.plugins()).pluginsCommand(...optionsOf(pluginsOptions, cmd)));

  command('trust', 'mark a folder trusted (default: the current one): its focal.config.json and node_modules plugins may then load and run', trustOptions,
    ['[path]', 'folder to trust (default: the current folder)'])
    .action(async (path: string | undefined, _opts, cmd: Command) => (await commands.trust()).trustCommand(path, optionsOf(trustOptions, cmd)[0]));

  command('schema', "print the JSON Schema of pipeline files (with every installed op's params)", schemaOptions)
    .action(async (_opts, cmd: Command) => (await commands.schema()).schemaCommand(...optionsOf(schemaOptions, cmd)));

  command('info', 'show dimensions, pixel type, calibration and metadata of an image file or dataset folder', infoOptions, ['<file>', 'TIFF / OME-TIFF file, or a file or dataset folder a plugin reader takes'])
    .action(async (file: string, _opts, cmd: Command) => (await commands.info()).infoCommand(file, ...optionsOf(infoOptions, cmd)));

  command('convert', 'write an image as a tiled, pyramidal OME-TIFF, a multiscale OME-Zarr or Deep Zoom tiles (.dzi, for web viewers), region by region in bounded memory', convertOptions,
    ['<in>', 'TIFF / OME-TIFF file (stripped or tiled), or an image a plugin reader opens lazily (OME-Zarr folder)'], ['<out>', 'output .ome.tif, .ome.zarr or .dzi'])
    .action(async (input: string, out: string, _opts, cmd: Command) => (await commands.convert()).convertCommand(input, out, ...optionsOf(convertOptions, cmd)));

  command('watch', 'process every image that lands in a folder, exactly once (ledger in <out>/.focal-watch/)', watchOptions, ['<dir>', 'folder to watch (recursively)'])
    .action(async (dir: string, _opts, cmd: Command) => (await commands.watch()).watchCommand(dir, ...optionsOf(watchOptions, cmd)));

  command('tui', 'terminal UI: browse, edit and run pipelines, see results, watch a folder (also: focal with no arguments on a terminal)', tuiOptions,
    ['[pipeline]', 'pipeline JSON file to open'])
    .action(async (pipeline: string | undefined, _opts, cmd: Command) => (await commands.tui()).tuiCommand(pipeline, ...optionsOf(tuiOptions, cmd)));

  command('doctor', 'show the machine, the deep-learning backends found (and why others are not), the default, and onnxruntime', doctorOptions)
    .action(async (_opts, cmd: Command) => (await commands.doctor()).doctorCommand(...optionsOf(doctorOptions, cmd)));

  registerTrainCommand(program);

  command('submit', 'run a pipeline over a batch of inputs as jobs: here, or on a queue that focal worker processes on many machines', submitOptions,
    ['<pipeline>', 'pipeline JSON file'])
    .action(async (pipeline: string, _opts, cmd: Command) => (await commands.queue()).submitCommand(pipeline, ...optionsOf(submitOptions, cmd)));

  command('worker', 'take jobs from a queue and run them, until SIGTERM (finishes running jobs) or a second signal (aborts them)', workerOptions)
    .action(async (_opts, cmd: Command) => (await commands.queue()).workerCommand(...optionsOf(workerOptions, cmd)));

  command('queue', 'show (status), retry the failed jobs of (retry), or empty the waiting jobs of (drain) a queue', queueCommandOptions,
    ['<action>', 'status, retry or drain'])
    .action(async (action: string, _opts, cmd: Command) => (await commands.queue()).queueCommand(action, optionsOf(queueCommandOptions, cmd)[0]));

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
