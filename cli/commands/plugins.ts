import { CONTRIBUTION_POINTS, type OperationManifest, type PluginInfo } from '../../core/index.js';
import type { GlobalOptions } from '../main.js';
import { createHost } from '../host.js';
import { printJsonLine } from '../output.js';

/** Lists every plugin: its operations (ports, params) and its contributions (readers, models, sample data, pipelines, model extras). */
export async function pluginsCommand(opts: { json?: boolean }, globals: GlobalOptions): Promise<void> {
  const host = await createHost(globals, { json: opts.json });
  const plugins = host.registry.plugins();
  if (opts.json) {
    printJsonLine({ plugins });
    return;
  }
  process.stdout.write(plugins.map(formatPlugin).join('\n'));
}

function formatPlugin(p: PluginInfo): string {
  const where = p.location ? ` ${p.location.packageName ?? p.location.packageDir}` : '';
  const lines = [`${p.id} ${p.version} (${p.source}${where}): ${p.description}`];
  for (const op of p.operations) lines.push(...formatOperation(op));
  lines.push(...formatContributions(p));
  return `${lines.join('\n')}\n`;
}

function formatContributions(p: PluginInfo): string[] {
  const lines: string[] = [];
  for (const point of CONTRIBUTION_POINTS) {
    const items = p.contributions[point];
    if (!items.length) continue;
    lines.push(`  ${point}:`);
    for (const c of items) {
      if ('task' in c) {
        lines.push(`    task ${c.task}: ${c.description}`);
        continue;
      }
      const what = 'path' in c ? c.path : [...(c.extensions ?? []), ...(c.folder ? [`folder with ${c.folder.contains.join(', ')}`] : [])].join(', ');
      lines.push(`    ${c.id} (${what}): ${c.description}`);
    }
  }
  return lines;
}

function formatPorts(ports: OperationManifest['inputs']): string {
  const entries = Object.entries(ports);
  return entries.length ? entries.map(([name, s]) => `${name}: ${s.type}${s.optional ? '?' : ''}`).join(', ') : '-';
}

interface JsonSchemaProp {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  anyOf?: JsonSchemaProp[];
}

function formatType(s: JsonSchemaProp): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (s.anyOf) return s.anyOf.map(formatType).join('|');
  const t = Array.isArray(s.type) ? s.type.join('|') : (s.type ?? 'any');
  const bounds: string[] = [];
  const safe = (v: number | undefined) => v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER;
  if (safe(s.minimum)) bounds.push(`≥${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) bounds.push(`>${s.exclusiveMinimum}`);
  if (safe(s.maximum)) bounds.push(`≤${s.maximum}`);
  return bounds.length ? `${t} ${bounds.join(' ')}` : t;
}

function formatOperation(op: OperationManifest): string[] {
  const lines = [`  ${op.id}: ${op.title}`, `    in:  ${formatPorts(op.inputs)}`, `    out: ${formatPorts(op.outputs)}`];
  const props = ((op.params as { properties?: Record<string, JsonSchemaProp> }).properties ?? {}) as Record<string, JsonSchemaProp>;
  const required = new Set(((op.params as { required?: string[] }).required ?? []) as string[]);
  for (const [name, s] of Object.entries(props)) {
    const def = s.default !== undefined ? ` = ${JSON.stringify(s.default)}` : required.has(name) ? ' (required)' : '';
    lines.push(`    ${name}: ${formatType(s)}${def}${s.description ? `  ${s.description}` : ''}`);
  }
  return lines;
}
