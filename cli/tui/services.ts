import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ensureWritableFolder,
  ConsoleLogger,
  createContainer,
  isFocalError,
  parseCsv,
  PipelineRunner,
  readPipelineJson,
  removeRunFiles,
  safeParseParams,
  tableFromJson,
  type LogRecord,
  type Pipeline,
  type RunRequest,
  type OperationCatalog,
  type RunEvent,
  type RunSummary,
  type Table,
} from '../../core/index.js';

/** A pipeline file the browser lists. */
export interface PipelineEntry {
  file: string;
  name: string;
  description: string;
  source: 'bundled' | 'folder';
  /** Set when the file is not a valid pipeline: the first problem. */
  problem?: string;
}

/** One parameter of a node, as the editor shows it. */
export interface ParamField {
  name: string;
  /** JSON Schema type (or enum values) for the hint. */
  type: string;
  /** 'string' params keep the typed text; others are parsed as JSON. */
  text: boolean;
  description?: string;
  /** The value with defaults applied (what the op will see). */
  value: unknown;
  /** Whether the pipeline file sets it (else it is the op's default). */
  explicit: boolean;
}

export interface NodeView {
  id: string;
  op: string;
  title: string;
  /** port ← ref */
  inputs: { port: string; ref: string }[];
  outputs: string[];
  fields: ParamField[];
}

export interface PipelineView {
  file: string;
  name: string;
  description: string;
  inputs: { name: string; type: string; file?: string; description?: string }[];
  nodes: NodeView[];
  outputs: { name: string; ref: string }[];
  pipeline: Pipeline;
}

export interface RunRequestTui {
  view: PipelineView;
  /** Node id → params as edited (complete objects). */
  params: Record<string, Record<string, unknown>>;
  /** Input name → file. */
  inputs: Record<string, string>;
  outDir: string;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  onLog?: (line: string) => void;
}

export interface TablePreview {
  columns: string[];
  rows: string[][];
  total: number;
}

/** What the screens need from Focal; the CLI builds it over the host, tests can too. */
export interface TuiServices {
  cwd: string;
  listPipelines(): Promise<PipelineEntry[]>;
  openPipeline(file: string): Promise<PipelineView>;
  /** zod's messages per param name ('' for object-level issues); empty when valid. */
  validateParams(op: string, params: Record<string, unknown>): Record<string, string>;
  run(request: RunRequestTui): Promise<RunSummary & { pipelineFile: string }>;
  readTable(file: string, maxRows: number): Promise<TablePreview>;
}

/** The package's root folder (holds package.json and pipelines/), from this module's location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'focal') return dir;
      } catch {
        /* keep looking */
      }
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

interface JsonSchemaProp {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  anyOf?: JsonSchemaProp[];
}

function typeLabel(s: JsonSchemaProp): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join('|');
  if (s.anyOf) return s.anyOf.map(typeLabel).join('|');
  return Array.isArray(s.type) ? s.type.join('|') : (s.type ?? 'any');
}

function isTextType(s: JsonSchemaProp): boolean {
  if (s.enum) return s.enum.every((v) => typeof v === 'string');
  if (s.anyOf) return s.anyOf.every(isTextType);
  return s.type === 'string';
}

/** Parses what the user typed for a field: text params keep the text, others are JSON (a bare word stays text). */
export function parseFieldText(field: Pick<ParamField, 'text'>, text: string): unknown {
  if (field.text) return text;
  const t = text.trim();
  if (t === '') return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

export function formatValue(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** zod issues → one message per top-level param ('' for the object itself). */
export function issuesByField(issues: readonly { path: readonly PropertyKey[]; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const key = issue.path.length ? String(issue.path[0]) : '';
    const rest = issue.path.length > 1 ? `${issue.path.slice(1).map(String).join('.')}: ` : '';
    if (!(key in out)) out[key] = `${rest}${issue.message}`;
  }
  return out;
}

/** The view of a validated pipeline: nodes with their op, ports and params (defaults resolved). */
export function pipelineView(file: string, pipeline: Pipeline, inputDefaults: Record<string, string>, catalog: OperationCatalog): PipelineView {
  const nodes: NodeView[] = Object.entries(pipeline.nodes).map(([id, node]) => {
    const entry = catalog.get(node.op);
    const manifest = entry?.manifest;
    const given = (node.params ?? {}) as Record<string, unknown>;
    let resolved: Record<string, unknown> = { ...given };
    if (entry) {
      const parsed = safeParseParams(entry.paramsSchema(), given);
      if (parsed.success) resolved = parsed.data as Record<string, unknown>;
    }
    const props = ((manifest?.params as { properties?: Record<string, JsonSchemaProp> } | undefined)?.properties ?? {}) as Record<string, JsonSchemaProp>;
    const names = [...new Set([...Object.keys(props), ...Object.keys(resolved)])];
    const fields: ParamField[] = names.map((name) => {
      const s = props[name] ?? {};
      return { name, type: typeLabel(s), text: isTextType(s), description: s.description, value: resolved[name], explicit: name in given };
    });
    return {
      id,
      op: node.op,
      title: manifest?.title ?? node.op,
      inputs: Object.entries(node.in).map(([port, ref]) => ({ port, ref })),
      outputs: Object.keys(manifest?.outputs ?? {}),
      fields,
    };
  });
  return {
    file,
    name: pipeline.name,
    description: pipeline.description ?? '',
    inputs: Object.entries(pipeline.inputs).map(([name, spec]) => ({ name, type: spec.type, file: inputDefaults[name], description: spec.description })),
    nodes,
    outputs: Object.entries(pipeline.outputs).map(([name, ref]) => ({ name, ref })),
    pipeline,
  };
}

/** An input default for the edited pipeline saved in `outDir`: relative to that folder, as pipeline defaults are (absolute across drives). */
function editedDefault(outDir: string, file: string): string {
  const rel = relative(outDir, file);
  return isAbsolute(rel) ? file : rel;
}

function formatLog(r: LogRecord): string {
  const node = r.fields.node ? `[${String(r.fields.node)}] ` : '';
  return `${r.level}: ${node}${r.message}`;
}

export interface TuiServicesOptions {
  catalog: OperationCatalog;
  loadPipeline(file: string): Promise<{ pipeline: Pipeline; inputDefaults: Record<string, string> }>;
  cwd?: string;
  /** Folder of bundled pipelines (default: the package's pipelines/). */
  bundledDir?: string;
  threads?: number;
  /**
   * Runs a request; the CLI runs it in a thread of its own (cli/run-host.ts), so that the
   * screen stays live and cancelling stops any operation. Default: in this thread, over `catalog`.
   */
  execute?: (request: RunRequest, onLog: (record: LogRecord) => void) => Promise<RunSummary>;
}

/** TuiServices over a plugin catalog (the CLI passes its host's registry). */
export function createTuiServices(options: TuiServicesOptions): TuiServices {
  const cwd = resolve(options.cwd ?? process.cwd());
  const runInProcess = async (request: RunRequest, onLog: (record: LogRecord) => void): Promise<RunSummary> => {
    const logger = new ConsoleLogger({ level: 'info', sink: onLog });
    const container = createContainer({ catalog: options.catalog, logger, threads: options.threads });
    return container.resolve(PipelineRunner).run(request);
  };
  const bundledDir = options.bundledDir ?? join(packageRoot(), 'pipelines');

  async function listDir(dir: string, source: PipelineEntry['source']): Promise<PipelineEntry[]> {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.json')).sort();
    } catch {
      return [];
    }
    const out: PipelineEntry[] = [];
    for (const n of names) {
      const file = join(dir, n);
      try {
        const doc = (await readPipelineJson(file)) as { name?: unknown; description?: unknown; nodes?: unknown; outputs?: unknown };
        if (typeof doc !== 'object' || doc === null || typeof doc.nodes !== 'object' || typeof doc.outputs !== 'object') continue; // not a pipeline
        out.push({ file, name: typeof doc.name === 'string' ? doc.name : basename(n, '.json'), description: typeof doc.description === 'string' ? doc.description : '', source });
      } catch {
        /* unreadable JSON: not listed */
      }
    }
    return out;
  }

  return {
    cwd,
    async listPipelines() {
      const bundled = await listDir(bundledDir, 'bundled');
      const local = resolve(cwd) === resolve(bundledDir) ? [] : await listDir(cwd, 'folder');
      return [...local, ...bundled];
    },
    async openPipeline(file) {
      const { pipeline, inputDefaults } = await options.loadPipeline(file);
      return pipelineView(file, pipeline, inputDefaults, options.catalog);
    },
    validateParams(op, params) {
      const entry = options.catalog.get(op);
      if (!entry) return { '': `unknown operation '${op}'` };
      const r = safeParseParams(entry.paramsSchema(), params);
      return r.success ? {} : issuesByField(r.error.issues);
    },
    async run(req) {
      const outDir = resolve(cwd, req.outDir);
      // Edited params: the pipeline actually run is written beside its outputs (run.json points
      // to it), with every input's default set to the file chosen, so it can be run again alone.
      let pipelineFile = req.view.file;
      const edited = req.view.nodes.some((n) => JSON.stringify(req.params[n.id] ?? {}) !== JSON.stringify(Object.fromEntries(n.fields.map((f) => [f.name, f.value]))));
      const inputs = { ...req.inputs };
      // Refused up front when not a writable folder on storage (/proc, /sys, a file, read-only):
      // recursive mkdir would spin forever on /proc.
      const createdDir = edited ? await ensureWritableFolder(outDir) : undefined;
      if (!edited) await checkOutputFolder(outDir);
      if (edited) {
        const doc = structuredClone(req.view.pipeline) as Pipeline & { inputs: Record<string, { default?: string }> };
        for (const [id, p] of Object.entries(req.params)) if (doc.nodes[id]) doc.nodes[id].params = p;
        for (const input of req.view.inputs) {
          if (inputs[input.name] === undefined && input.file) inputs[input.name] = input.file;
          const chosen = inputs[input.name];
          if (chosen !== undefined) doc.inputs[input.name].default = editedDefault(outDir, resolve(cwd, chosen));
          else delete doc.inputs[input.name].default;
        }
        pipelineFile = join(outDir, `${basename(req.view.file, '.json')}.edited.json`);
        await writeFile(pipelineFile, `${JSON.stringify(doc, null, 2)}\n`);
      }
      req.onLog?.(`info: running ${shortPath(cwd, pipelineFile)} → ${shortPath(cwd, outDir)}`);
      const request: RunRequest = { pipelineFile, inputs, outDir, preview: true, signal: req.signal, onEvent: req.onEvent };
      try {
        const onLog = (r: LogRecord) => req.onLog?.(formatLog(r));
        const summary = options.execute ? await options.execute(request, onLog) : await runInProcess(request, onLog);
        return { ...summary, pipelineFile };
      } catch (err) {
        // A failed or cancelled run leaves nothing: the edited pipeline goes too, and the folder if the TUI made it.
        if (edited) await removeRunFiles({ written: [pipelineFile], started: [] }, createdDir, outDir);
        if (isFocalError(err)) {
          const problems = err.details.problems as { pointer?: string; message: string }[] | undefined;
          for (const p of problems ?? []) req.onLog?.(`error: ${p.pointer ?? '/'}: ${p.message}`);
        }
        throw err;
      }
    },
    async readTable(file, maxRows) {
      const text = await readFile(file, 'utf8');
      let columns: string[];
      let rows: Record<string, unknown>[];
      if (file.toLowerCase().endsWith('.json')) {
        const data = JSON.parse(text) as unknown;
        let table: Table | undefined;
        try {
          table = tableFromJson(data, file); // a table's JSON form {columns, rows}, or an array of flat rows
        } catch {
          table = undefined; // any other JSON output: its array entries or the object itself as rows
        }
        if (table) {
          columns = [...table.columns];
          rows = table.rows;
        } else {
          rows = Array.isArray(data) ? (data as Record<string, unknown>[]) : [data as Record<string, unknown>];
          columns = [...new Set(rows.flatMap((r) => (typeof r === 'object' && r !== null ? Object.keys(r) : [])))];
        }
      } else {
        const t = parseCsv(text, file);
        columns = [...t.columns];
        rows = t.rows as Record<string, unknown>[];
      }
      return {
        columns,
        rows: rows.slice(0, maxRows).map((r) => columns.map((c) => formatCell(r[c]))),
        total: rows.length,
      };
    },
  };
}

function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Directory entries for the file picker: folders first, then files matching the filter. */
export async function listFolder(dir: string, exts: readonly string[] = ['.tif', '.tiff', '.json', '.csv']): Promise<{ name: string; dir: boolean }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const dirs: { name: string; dir: boolean }[] = [];
  const files: { name: string; dir: boolean }[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    let isDir = e.isDirectory();
    if (e.isSymbolicLink()) isDir = (await stat(join(dir, e.name)).catch(() => undefined))?.isDirectory() ?? false;
    if (isDir) dirs.push({ name: e.name, dir: true });
    else if (exts.some((x) => e.name.toLowerCase().endsWith(x))) files.push({ name: e.name, dir: false });
  }
  const by = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return [...dirs.sort(by), ...files.sort(by)];
}

/** A path relative to `cwd` when it lies inside it, else absolute. */
export function shortPath(cwd: string, file: string): string {
  const r = relative(cwd, file);
  return r === '' ? '.' : r.startsWith('..') ? file : r;
}

/** Checks an output folder as the run will (ensureWritableFolder), then removes what the check created: the run creates it again and owns it. */
async function checkOutputFolder(outDir: string): Promise<void> {
  const created = await ensureWritableFolder(outDir);
  if (created !== undefined) await removeRunFiles({ written: [], started: [] }, created, outDir);
}
