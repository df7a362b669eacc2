import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FocalError } from '../errors.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import type { Pipeline } from './schema.js';
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

/** JSON.parse with an error that names the file and, when the parser gives a position, its line and column. */
export function parseJsonText(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors on Windows may write a BOM
  try {
    return JSON.parse(body);
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
