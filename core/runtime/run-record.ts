/**
 * The provenance record a run writes beside its outputs (`run.json`): its shape (a zod schema,
 * so reading one back names the field that is wrong), the warnings a run collects into it, and
 * the report built from it: at the end of a run with the values in memory, or later from the
 * output folder (`focal report <out>`: outputs read back from their files, inputs from theirs
 * when still there and unchanged).
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { FocalError } from '../errors.js';
import { sha256File } from '../io/hash.js';
import type { LazyImage } from '../io/lazy-image.js';
import { readJsonFile, readTableFile } from '../io/table-file.js';
import { openTiffImage } from '../io/tiff/lazy.js';
import { openOmeZarr } from '../io/ome-zarr.js';
import type { Logger } from '../plugin/contract.js';
import { REPORT_FILE, writeRunReport, type RunReportData } from './report.js';
import { PROVENANCE_FILE } from './run-output.js';
import type { IoService } from './services.js';

const WarningSchema = z.object({ message: z.string(), node: z.string().optional(), input: z.string().optional() });
export type RunWarning = z.infer<typeof WarningSchema>;

/** run.json. Fields added later (node `in`, output `ref`, `warnings`, input `type`) are optional so older records still read. */
export const RunRecordSchema = z.object({
  focal: z.string().optional(),
  date: z.string().optional(),
  pipeline: z.object({ name: z.string(), file: z.string().optional(), description: z.string().optional() }),
  inputs: z.record(z.string(), z.object({ type: z.string().optional(), file: z.string(), folder: z.boolean().optional(), files: z.number().optional(), bytes: z.number().optional(), mtime: z.string().optional(), sha256: z.string().optional() })),
  nodes: z.record(z.string(), z.object({ op: z.string(), plugin: z.string().nullable().optional(), params: z.unknown().optional(), ms: z.number().nullable().optional(), in: z.record(z.string(), z.string()).optional() })),
  outputs: z.array(z.object({ name: z.string(), type: z.string(), files: z.array(z.string()), ref: z.string().optional() })),
  totalMs: z.number(),
  node: z.string().optional(),
  platform: z.string().optional(),
  warnings: z.array(WarningSchema).optional(),
  /** The report written with the run (report.html), when one was. */
  report: z.string().optional(),
  /** How a streamed run (issue 21: a slide region by region) ran: budget, tile size, output format, each node's mode and halo. */
  stream: z
    .object({
      memoryMb: z.number(),
      tileSize: z.number(),
      format: z.string(),
      nodes: z.array(z.object({ node: z.string(), op: z.string(), mode: z.string(), haloPx: z.number().optional(), totalHaloPx: z.number().optional() })),
    })
    .optional(),
});
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** A logger that also keeps every warning (with its node or input when the fields name one). */
export function recordingWarnings(logger: Logger, into: RunWarning[]): Logger {
  return {
    debug: (m, f) => logger.debug(m, f),
    info: (m, f) => logger.info(m, f),
    warn: (m, f) => {
      const node = typeof f?.node === 'string' ? f.node : undefined;
      const input = typeof f?.input === 'string' ? f.input : undefined;
      into.push({ message: m, ...(node ? { node } : {}), ...(input ? { input } : {}) });
      logger.warn(m, f);
    },
    error: (m, f) => logger.error(m, f),
  };
}

/** The report's data from a run record and the values at hand (output name → value, input name → value). */
export function reportDataFromRecord(
  record: RunRecord,
  at: { inputs: Record<string, unknown>; outputs: Record<string, unknown>; provenanceFile?: string; pipelineFile?: string; notes?: string[]; inputNotes?: Record<string, string> },
): RunReportData {
  return {
    pipeline: { name: record.pipeline.name, description: record.pipeline.description, file: at.pipelineFile ?? record.pipeline.file },
    inputs: Object.entries(record.inputs).map(([name, i]) => ({ name, type: i.type ?? '', file: i.file, sha256: i.sha256, bytes: i.bytes, value: at.inputs[name], ...(at.inputNotes?.[name] ? { note: at.inputNotes[name] } : {}) })),
    nodes: Object.entries(record.nodes).map(([id, n]) => ({ id, op: n.op, ms: n.ms ?? null, plugin: n.plugin ?? null, params: n.params, in: n.in })),
    outputs: record.outputs.map((o) => ({ name: o.name, type: o.type, files: o.files, ref: o.ref, value: at.outputs[o.name] })),
    totalMs: record.totalMs,
    provenanceFile: at.provenanceFile ?? PROVENANCE_FILE,
    date: record.date,
    versions: { focal: record.focal, node: record.node, platform: record.platform },
    warnings: record.warnings ?? [],
    notes: at.notes,
  };
}

/** Reads and checks `<outDir>/run.json`. @throws FocalError E_FORMAT naming the file and field, E_IO when missing. */
export async function readRunRecord(outDir: string): Promise<RunRecord> {
  const file = join(outDir, PROVENANCE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FocalError('E_IO', `${file}: cannot read the run record (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); is ${outDir} the output folder of a focal run?`, { file }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FocalError('E_FORMAT', `${file}: not JSON (${(err as Error).message})`, { file }, { cause: err });
  }
  const parsed = RunRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `/${issue.path.join('/')}`;
    throw new FocalError('E_FORMAT', `${file}: ${field}: ${issue.message}`, { file, field });
  }
  return parsed.data;
}

/** Inputs with more pixels than this (all planes) are not read for `focal report`'s previews: 256 Mpx, 512 MB of uint16. */
export const MAX_INPUT_PREVIEW_PIXELS = 256 * 1024 * 1024;

/** Pixels in every plane of a TIFF, from its header (0 when it is not a TIFF the lazy reader opens: the reader then decides). */
async function tiffPixels(file: string): Promise<number> {
  const lazy = await openTiffImage(file).catch(() => undefined);
  if (!lazy) return 0;
  try {
    return lazy.width * lazy.height * lazy.sizeC * lazy.sizeZ * lazy.sizeT;
  } finally {
    await lazy.close();
  }
}

/**
 * Rebuilds `<outDir>/report.html` from the run record and the files in the folder: each output is
 * read back from its file in `outDir` (a .tif as a stack, a pyramid or an OME-Zarr folder from its levels, a table from .csv/.json, other JSON as
 * is); each image input is previewed when its file is still there with the checksum run.json
 * recorded and it is not a dataset folder or a slide (`MAX_INPUT_PREVIEW_PIXELS`; otherwise the
 * report says why not). Returns the report's path and what it could not read.
 */
export async function rebuildRunReport(outDir: string, io: IoService): Promise<{ file: string; missing: string[] }> {
  const dir = resolve(outDir);
  const record = await readRunRecord(dir);
  const outputs: Record<string, unknown> = {};
  const missing: string[] = [];
  const opened: LazyImage[] = [];
  for (const o of record.outputs) {
    const names = o.files.map((f) => f.split(/[\\/]/).pop() ?? f);
    const local = (ext: string) => names.find((n) => n.toLowerCase().endsWith(ext));
    const at = (n: string) => join(dir, n);
    try {
      const zarr = local('.ome.zarr');
      if (zarr) {
        // an OME-Zarr output (a streamed run's) is shown from its levels, never read whole
        const lazy = await openOmeZarr(at(zarr));
        outputs[o.name] = lazy;
        opened.push(lazy);
      } else if (o.type === 'image' || o.type === 'stack' || local('.tif')) {
        const tif = local('.tif') ?? local('.tiff');
        if (!tif) throw new Error('no .tif file listed');
        // A pyramid is shown from its levels (zoomable view, picture from a small level), never read whole.
        const lazy = await openTiffImage(at(tif)).catch(() => undefined);
        if (lazy && lazy.levels.length > 1) {
          outputs[o.name] = lazy;
          opened.push(lazy);
        } else {
          await lazy?.close();
          outputs[o.name] = await io.readStack(at(tif));
        }
      } else if (o.type === 'table' || (local('.csv') && local('.json'))) {
        const f = local('.json') ?? local('.csv');
        if (!f) throw new Error('no .csv/.json file listed');
        outputs[o.name] = await readTableFile(at(f));
      } else {
        const f = local('.json');
        if (f) outputs[o.name] = await readJsonFile(at(f));
      }
    } catch (err) {
      missing.push(`output '${o.name}': ${(err as Error).message}`);
    }
  }
  const inputs: Record<string, unknown> = {};
  const inputNotes: Record<string, string> = {};
  for (const [name, i] of Object.entries(record.inputs)) {
    const file = isAbsolute(i.file) ? i.file : resolve(dir, i.file);
    if (i.type && i.type !== 'image' && i.type !== 'stack') continue;
    if (!i.type && !/\.tiff?$/i.test(file)) continue;
    const info = await stat(file).catch(() => undefined);
    if (!info) {
      inputNotes[name] = 'not previewed: the file is no longer there';
      continue;
    }
    if (i.folder || info.isDirectory()) {
      inputNotes[name] = 'not previewed: a dataset folder';
      continue;
    }
    if (i.sha256 && (await sha256File(file)) !== i.sha256) {
      inputNotes[name] = 'not previewed: the file changed since the run (checksum differs)';
      continue;
    }
    try {
      // a slide is never read whole for a preview
      const pixels = await tiffPixels(file);
      if (pixels > MAX_INPUT_PREVIEW_PIXELS) {
        inputNotes[name] = `not previewed: ${pixels.toLocaleString('en-US')} pixels, more than a report reads whole (${MAX_INPUT_PREVIEW_PIXELS.toLocaleString('en-US')})`;
        continue;
      }
      inputs[name] = await io.readStack(file);
    } catch (err) {
      inputNotes[name] = `not previewed: ${(err as Error).message}`;
    }
  }
  for (const [name, note] of Object.entries(inputNotes)) missing.push(`input '${name}': ${note}`);
  const notes = [`Rebuilt by focal report from ${PROVENANCE_FILE} and the files in this folder on ${new Date().toISOString()}.`, ...missing.map((m) => `Not shown: ${m}.`)];
  try {
    const file = await writeRunReport(dir, reportDataFromRecord(record, { inputs, outputs, notes, inputNotes }));
    return { file, missing };
  } finally {
    for (const img of opened) await img.close();
  }
}

export { REPORT_FILE };
