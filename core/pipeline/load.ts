import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FocalError } from '../errors.js';
import { opIdsOf, type OperationCatalog } from '../plugin/catalog.js';
import { escapePointer, type Pipeline } from './schema.js';
import { assertValidPipeline } from './validate.js';

export interface LoadedPipeline {
  pipeline: Pipeline;
  /** The file as given. */
  file: string;
  /** Pipeline input name → its `default` file, resolved against the pipeline file's folder (absolute). */
  inputDefaults: Record<string, string>;
}

/**
 * Reads and validates a pipeline file. Throws FocalError `E_USAGE` when there is no such
 * file (or the path is a folder): the caller named a pipeline that is not there, a usage
 * error (the CLI exits 2); `E_IO` when it exists but cannot be read (permissions, I/O);
 * `E_PIPELINE` when it is not JSON or not a valid pipeline (`details.problems` then lists
 * every problem). The document itself is not changed: input defaults are returned resolved
 * in `inputDefaults`.
 */
export async function loadPipelineFile(file: string, catalog: OperationCatalog): Promise<LoadedPipeline> {
  const doc = await readPipelineJson(file);
  await catalog.prepare?.(opIdsOf(doc));
  const pipeline = assertValidPipeline(doc, catalog, { file });
  return { pipeline, file, inputDefaults: resolveInputDefaults(pipeline, file) };
}

/**
 * Reads a pipeline file and parses its JSON (no validation). Errors as {@link loadPipelineFile}:
 * `E_USAGE` for a missing file or a folder, `E_IO` for one that cannot be read, `E_PIPELINE` for bad JSON.
 */
export async function readPipelineJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' ? 'it is a folder'
      : (err as Error).message;
    const notAFile = code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
    throw new FocalError(notAFile ? 'E_USAGE' : 'E_IO', `cannot read pipeline file ${file}: ${reason}`, { file }, { cause: err });
  }
  return parseJsonText(text, file);
}

/**
 * JSON.parse with an error that names the file and, when the parser gives a position, its line and
 * column. A key given twice in one object is an error too (JSON.parse would keep the last one
 * silently), naming the key's JSON pointer, line and column.
 */
export function parseJsonText(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors on Windows may write a BOM
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    const message = (err as Error).message;
    let where = '';
    if (!/line \d+/.test(message)) {
      const m = /at position (\d+)/.exec(message);
      const position = m ? Number(m[1]) : /end of JSON input/.test(message) ? body.length : undefined;
      if (position !== undefined) {
        const { line, column } = lineColumn(body, position);
        where = ` (line ${line}, column ${column})`;
      }
    }
    throw new FocalError('E_PIPELINE', `${file} is not valid JSON: ${message}${where}`, { file }, { cause: err });
  }
  const duplicate = findDuplicateKey(body);
  if (duplicate) {
    const { line, column } = lineColumn(body, duplicate.offset);
    throw new FocalError(
      'E_PIPELINE',
      `${file}: duplicate key '${duplicate.key}' at ${duplicate.pointer} (line ${line}, column ${column}); the earlier one is at line ${lineColumn(body, duplicate.firstOffset).line}. JSON parsers keep only the last, so one of them would be silently ignored`,
      { file, field: duplicate.pointer, line, column },
    );
  }
  return doc;
}

export interface DuplicateKey {
  /** The key as JSON.parse decodes it. */
  key: string;
  /** JSON pointer (RFC 6901) of the member, e.g. `/nodes/blur/params/sigmaPx`. */
  pointer: string;
  /** Character offset of the second occurrence's key, and of the first one. */
  offset: number;
  firstOffset: number;
}

/**
 * The first key that occurs twice in one object of `text`, which must be valid JSON (it is
 * scanned after JSON.parse accepted it). Keys are compared as JSON.parse decodes them, so
 * `"a"` and `"\u0061"` are the same key.
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  // One frame per open container: objects track their keys, arrays their next index.
  type Frame = { kind: 'object'; keys: Map<string, number>; key?: string } | { kind: 'array'; index: number };
  const stack: Frame[] = [];
  const pointer = (): string =>
    stack.map((f) => (f.kind === 'object' ? (f.key ?? '') : String(f.index))).map((k) => `/${escapePointer(k)}`).join('');
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      const top = stack[stack.length - 1];
      if (expectKey && top?.kind === 'object') {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        const first = top.keys.get(key);
        top.key = key;
        if (first !== undefined) return { key, pointer: pointer(), offset: start, firstOffset: first };
        top.keys.set(key, start);
        expectKey = false;
      }
    } else if (ch === '{') {
      stack.push({ kind: 'object', keys: new Map() });
      expectKey = true;
    } else if (ch === '[') {
      stack.push({ kind: 'array', index: 0 });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') expectKey = true;
      else if (top?.kind === 'array') top.index++;
    }
  }
  return undefined;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Input name → `default` resolved against the folder of `pipelineFile`; inputs without a default are left out. */
export function resolveInputDefaults(pipeline: Pipeline, pipelineFile: string): Record<string, string> {
  const folder = dirname(resolve(pipelineFile));
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(pipeline.inputs)) {
    if (spec.default !== undefined) out[name] = isAbsolute(spec.default) ? spec.default : resolve(folder, spec.default);
  }
  return out;
}
