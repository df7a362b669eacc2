/**
 * The README's list of built-in operations, generated from the plugin registry so that it
 * cannot go stale: `npm run docs:operations` rewrites the part of README.md between
 *
 *   <!-- operations:start … -->
 *   <!-- operations:end -->
 *
 * in place (atomically), grouped by plugin, one line per operation: its id and title.
 * `--check` only says whether README.md is up to date (exit 1 when it is not).
 * test/readme-operations.test.ts fails when README.md differs from what this renders.
 *
 *   node dist/scripts/readme-operations.js [--check] [README.md]
 */
import 'reflect-metadata';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginRegistry, writeFileAtomic, type PluginInfo } from '../core/index.js';
import { builtinPlugins } from '../plugins/index.js';

export const START_MARKER = '<!-- operations:start (generated from the plugin registry by `npm run docs:operations`: do not edit by hand) -->';
export const END_MARKER = '<!-- operations:end -->';
const START_PREFIX = '<!-- operations:start';

/** The built-in plugins as the `focal` host registers them (plugins/index.ts), sorted by id. */
export function builtinPluginInfos(): PluginInfo[] {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins) registry.registerPlugin(plugin, 'builtin');
  return registry.plugins();
}

/** Text for one line of Markdown: no line breaks, no characters Markdown would read as markup. */
function inline(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/([\\`*_[\]<>|])/g, '\\$1');
}

/**
 * The section between the markers (markers included, no trailing newline): one line per
 * plugin (id, link to its doc when `docFor` gives one, description), then one line per
 * operation (id and title).
 */
export function renderOperationsSection(plugins: PluginInfo[], docFor: (pluginId: string) => string | undefined = () => undefined): string {
  const lines = [START_MARKER];
  for (const p of plugins) {
    const doc = docFor(p.id);
    lines.push(`- **${p.id}**${doc ? ` ([${doc}](${doc}))` : ''}: ${inline(p.description)}`);
    for (const op of p.operations) lines.push(`  - \`${op.id}\`: ${inline(op.title)}`);
  }
  lines.push(END_MARKER);
  return lines.join('\n');
}

/** The section for the built-in plugins, linking `plugins/<id>/docs/<id>.md` or `docs/<id>.md` where `root` has one. */
export function builtinOperationsSection(root: string): string {
  // a plugin's own folder (plugins/<id>/docs/<id>.md) first, then docs/<id>.md
  const docOf = (id: string) => [`plugins/${id}/docs/${id}.md`, `docs/${id}.md`].find((f) => existsSync(join(root, f)));
  return renderOperationsSection(builtinPluginInfos(), docOf);
}

/** Where the section is in `text`: [start of the start marker, end of the end marker). Throws unless both markers occur once, in order. */
export function findSection(text: string): { start: number; end: number } {
  const start = text.indexOf(START_PREFIX);
  const endAt = text.indexOf(END_MARKER);
  if (start < 0 || endAt < 0) throw new Error(`README has no ${START_PREFIX} … -->/${END_MARKER} markers`);
  if (text.indexOf(START_PREFIX, start + 1) >= 0 || text.indexOf(END_MARKER, endAt + 1) >= 0) throw new Error('README has the operations markers more than once');
  if (endAt < start) throw new Error(`README's ${END_MARKER} comes before its start marker`);
  return { start, end: endAt + END_MARKER.length };
}

/** The section as `text` holds it, markers included. */
export function currentSection(text: string): string {
  const { start, end } = findSection(text);
  return text.slice(start, end);
}

/** `text` with the section replaced by `section`. */
export function replaceSection(text: string, section: string): string {
  const { start, end } = findSection(text);
  return text.slice(0, start) + section + text.slice(end);
}

async function cli(args: string[]): Promise<number> {
  const check = args.includes('--check');
  const readme = resolve(args.find((a) => a !== '--check') ?? 'README.md');
  const text = readFileSync(readme, 'utf8');
  const updated = replaceSection(text, builtinOperationsSection(dirname(readme)));
  if (updated === text) {
    process.stdout.write(`${readme}: the operation list is up to date\n`);
    return 0;
  }
  if (check) {
    process.stderr.write(`${readme}: the operation list is out of date: run npm run docs:operations\n`);
    return 1;
  }
  await writeFileAtomic(readme, updated);
  process.stdout.write(`${readme}: operation list rewritten from the plugin registry\n`);
  return 0;
}

const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`readme-operations: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
