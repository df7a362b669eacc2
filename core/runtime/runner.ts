import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { imageFromStack, isStack, planeCount, type Stack } from '../data/stack.js';
import { isImage, type Image } from '../data/image.js';
import { createTable, isTable, tableFromJson, type Cell, type Table } from '../data/table.js';
import type { JsonValue } from '../data/model.js';
import { FocalError, throwIfAborted } from '../errors.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import { isTiffPath } from '../plugin/readers.js';
import type { Logger, PortType, ServiceProvider } from '../plugin/contract.js';
import { loadPipelineFile } from '../pipeline/load.js';
import { hostFocalVersion } from '../plugin/discovery.js';
import { withoutPrototype } from '../plugin/params.js';
import { runPipeline, type RunEvent } from '../pipeline/executor.js';
import { planStream, sourceBytes, streamBandBytes, type StreamNodePlan } from '../pipeline/stream.js';
import { openTiffImage } from '../io/tiff/lazy.js';
import { writePyramidalTiff } from '../io/tiff/pyramid.js';
import { openOmeZarr, writeOmeZarr } from '../io/ome-zarr.js';
import type { LazyImage, RegionSource } from '../io/lazy-image.js';
import { parseRef, type Pipeline } from '../pipeline/schema.js';
import { assertNotOverwriting, ensureWritableFolder, isStagingFolder, protectedFiles, PROVENANCE_FILE, realPathOf, removeStaleRunFiles, stagingName } from './run-output.js';
import { REPORT_FILE, writeRunReport } from './report.js';
import { REPORT_ASSETS_DIR } from './report-zoom.js';
import { recordingWarnings, reportDataFromRecord, type RunRecord, type RunWarning } from './run-record.js';
import { sha256File, sha256Folder } from '../io/hash.js';
import { isRoiSet, writeRoiZip } from '../io/roi.js';
import { readJsonFile, readTableFile } from '../io/table-file.js';
import { CATALOG, COMPUTE_SERVICE, IO_SERVICE, LOGGER, SERVICE_PROVIDER, type ComputeService, type IoService } from './services.js';

export interface RunRequest {
  pipelineFile: string;
  /** Pipeline input name → file; inputs not given here use the pipeline's `default` file. */
  inputs?: Record<string, string>;
  outDir: string;
  /** Also write an 8-bit PNG preview beside every image/stack output. */
  preview?: boolean;
  /** Also write report.html (core/runtime/report.ts): previews, tables, node times, link to run.json. */
  report?: boolean;
  /** How image/stack outputs are written: 'imagej' (default: `<name>.tif`, ImageJ hyperstack) or 'ome' (`<name>.ome.tif`, OME-XML with channel names and calibration). */
  tiff?: 'imagej' | 'ome';
  signal?: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  /** Max nodes at once; default: the compute service's threads. */
  concurrency?: number;
  /**
   * What the run puts in the output folder, for a host that may have to stop the run abruptly
   * and remove what a killed run left (`removeRunFiles`): first its staging folder
   * (`.focal-staging-<pid>-<hex>`, 'start' before it is created; the outputs are written there),
   * then each output file's final path when its move into place starts and when it is done,
   * `run.json` last.
   */
  onWrite?: (file: string, state: 'start' | 'done') => void;
  /**
   * Streaming (issue 21, core/pipeline/stream.ts): 'auto' (default) streams when an image
   * input opens region by region (TIFF, OME-Zarr) and its planes take more than a quarter of
   * the memory budget; 'always' streams whenever the inputs allow it; 'never' loads whole stacks.
   * A streamed run writes each image output as a tiled pyramid (`streamFormat`) region by region.
   */
  stream?: 'auto' | 'always' | 'never';
  /** Memory budget of a streamed run, MiB; default: half the machine's memory. */
  memoryMb?: number;
  /** Streamed output: 'ome-tiff' (`<name>.ome.tif`, pyramidal, default) or 'ome-zarr' (`<name>.ome.zarr`). */
  streamFormat?: 'ome-tiff' | 'ome-zarr';
  /** Streamed output's tile (chunk) edge, px, a multiple of 16; default 512, smaller when the budget needs it. */
  tileSize?: number;
  /** Streamed OME-Zarr output: 3 (Zarr v3, NGFF 0.5, default) or 2 (Zarr v2, NGFF 0.4). */
  zarrFormat?: 2 | 3;
}

/** Default memory budget of a streamed run: half the machine's memory, MiB. */
export function defaultMemoryMb(): number {
  return Math.floor(totalmem() / 2 / 1024 / 1024);
}

export { ensureWritableFolder, removeRunFiles, type RunFiles } from './run-output.js';
import { removeRunFiles, type RunFiles } from './run-output.js';

export interface OutputRecord {
  name: string;
  type: PortType;
  files: string[];
}

export interface RunSummary {
  pipeline: string;
  outputs: OutputRecord[];
  timingsMs: Record<string, number>;
  totalMs: number;
  provenanceFile: string;
  /** report.html, when the request asked for it. */
  reportFile?: string;
}

/**
 * Runs a pipeline file end to end: validates it, checks that no output would land on an input
 * or the pipeline file and that the output folder is usable, loads the input files, executes the
 * graph, writes every output into a hidden staging folder inside the output folder, and moves
 * them into place with a `run.json` provenance record last (the previous run.json is removed
 * first). Nothing is moved into the output folder until the whole pipeline has succeeded, input
 * files are only ever opened for reading, and leftovers of killed runs are removed by the next
 * run into the folder (run-output.ts).
 */
@injectable()
export class PipelineRunner {
  constructor(
    @inject(CATALOG) private readonly catalog: OperationCatalog,
    @inject(IO_SERVICE) private readonly io: IoService,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(COMPUTE_SERVICE) private readonly compute: ComputeService,
    @inject(SERVICE_PROVIDER) private readonly services: ServiceProvider,
  ) {}

  async run(request: RunRequest): Promise<RunSummary> {
    if (request.memoryMb !== undefined && !(request.memoryMb >= 1)) throw new FocalError('E_USAGE', `--memory-mb must be at least 1, got ${request.memoryMb}`, { field: 'memoryMb' });
    const started = Date.now();
    const { pipeline, inputDefaults } = await loadPipelineFile(request.pipelineFile, this.catalog);
    const inputFiles = this.resolveInputFiles(pipeline, request, inputDefaults);
    const outDir = resolve(request.outDir);
    const preview = request.preview ?? false;
    // Before anything runs or is created: no output may land on a file the run reads.
    const reads = await protectedFiles([
      ...Object.entries(inputFiles).map(([name, file]) => ({ label: `input '${name}'`, file })),
      { label: 'the pipeline file', file: resolve(request.pipelineFile) },
    ]);
    const tiffExt = request.tiff === 'ome' ? 'ome.tif' : 'tif';
    const budgetBytes = (request.memoryMb ?? defaultMemoryMb()) * 1024 * 1024;
    const lazy = await this.lazyInputs(pipeline, inputFiles, request, budgetBytes);
    try {
      if (lazy) return await this.runStreamed(request, pipeline, inputFiles, lazy, budgetBytes, started, reads);
    } finally {
      for (const img of Object.values(lazy ?? {})) await img.close().catch(() => undefined);
    }
    const planned = this.plannedOutputFiles(pipeline, outDir, preview, tiffExt);
    if (request.report) planned.push({ name: 'report', file: join(outDir, REPORT_FILE), what: 'the run report' });
    await assertNotOverwriting(planned, reads);
    // report_files/ (the report's zoomable views) is replaced whole: nothing the run reads may be in it
    const assets = await realPathOf(join(outDir, REPORT_ASSETS_DIR));
    const inAssets = reads.find((r) => [...r.paths].some((p) => p.startsWith(assets + sep)));
    if (inAssets) throw new FocalError('E_USAGE', `${inAssets.label} (${inAssets.file}) is inside ${join(outDir, REPORT_ASSETS_DIR)}, which a run replaces with its report's zoomable views: move it or choose another --out folder`, { file: inAssets.file });
    const createdDir = await this.prepareOutFolder(outDir, request.signal);

    // A run's outputs appear as one unit: they are written into a hidden staging folder and moved
    // into place once all are written, run.json last. On failure or cancellation the staging
    // folder, the files this run moved in, and the folders it created (when left empty) are removed.
    const begun: string[] = [];
    const written: string[] = [];
    const staging = join(outDir, stagingName());
    try {
      begun.push(staging);
      request.onWrite?.(staging, 'start');
      await mkdir(staging);

      // The run's warnings go to the logger as before and into run.json and the report.
      const warnings: RunWarning[] = [];
      const logger = recordingWarnings(this.logger, warnings);
      const inputs: Record<string, unknown> = {};
      for (const [name, file] of Object.entries(inputFiles)) {
        inputs[name] = await this.loadInput(name, pipeline.inputs[name].type as PortType, file, request.signal, logger);
      }

      const result = await runPipeline(pipeline, {
        catalog: this.catalog,
        inputs,
        services: this.services,
        logger,
        signal: request.signal,
        concurrency: request.concurrency ?? this.compute.threads,
        onEvent: request.onEvent,
      });

      const outputs: OutputRecord[] = [];
      for (const [name, { type, value }] of Object.entries(result.outputs)) {
        throwIfAborted(request.signal);
        outputs.push(await this.writeOutput(staging, outDir, name, type, value, preview, request.tiff === 'ome'));
      }
      throwIfAborted(request.signal);
      const provenanceFile = join(outDir, PROVENANCE_FILE);
      const totalMs = Date.now() - started;
      const record = await this.provenance(request, pipeline, inputFiles, outputs, result.timings, totalMs, warnings);
      if (request.report) record.report = REPORT_FILE;
      await this.io.writeJson(join(staging, PROVENANCE_FILE), record as unknown as JsonValue);
      throwIfAborted(request.signal);
      const reportFile = request.report ? join(outDir, REPORT_FILE) : undefined;
      if (reportFile) {
        const values: Record<string, unknown> = {};
        for (const o of outputs) values[o.name] = result.outputs[o.name].value;
        await writeRunReport(staging, reportDataFromRecord(record, { inputs, outputs: values, provenanceFile: PROVENANCE_FILE, pipelineFile: resolve(request.pipelineFile) }), { signal: request.signal });
        throwIfAborted(request.signal);
      }

      // Commit. The value types decide the files; check them again against what the run read.
      await this.commit(request, { staging, outDir, outputs, reportFile, reads, begun, written });
      return { pipeline: pipeline.name, outputs, timingsMs: result.timings, totalMs, provenanceFile, ...(reportFile ? { reportFile } : {}) };
    } catch (err) {
      await removeRunFiles({ written, started: begun }, createdDir, outDir);
      throw err;
    }
  }

  /**
   * The image inputs opened region by region when this run streams (see RunRequest.stream), else
   * undefined (the inputs are loaded whole as before). Opening reads headers only.
   */
  private async lazyInputs(pipeline: Pipeline, files: Record<string, string>, request: RunRequest, budgetBytes: number): Promise<Record<string, LazyImage> | undefined> {
    const mode = request.stream ?? 'auto';
    if (mode === 'never') return undefined;
    const opened: Record<string, LazyImage> = {};
    const giveUp = async (err?: unknown): Promise<undefined> => {
      for (const img of Object.values(opened)) await img.close().catch(() => undefined);
      if (err !== undefined) throw err;
      return undefined;
    };
    let largest = 0;
    for (const [name, file] of Object.entries(files)) {
      const type = pipeline.inputs[name].type;
      if (type !== 'image' && type !== 'stack') continue;
      let img: LazyImage | undefined;
      try {
        const isDir = (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
        if (!isDir && isTiffPath(file)) img = await openTiffImage(file);
        else {
          const found = await this.catalog.readerFor?.(file);
          if (found?.reader.openLazy) img = await found.reader.openLazy(file, {});
          else if (mode === 'always') throw new FocalError('E_UNSUPPORTED', `input '${name}': ${file} has no reader that opens it region by region (TIFF, OME-Zarr), so the run cannot stream`, { file, field: `/inputs/${name}` });
        }
      } catch (err) {
        // auto: the whole-stack path reads it (or says exactly what is wrong with it)
        return giveUp(mode === 'always' ? err : undefined);
      }
      if (!img) return giveUp();
      opened[name] = img;
      largest = Math.max(largest, sourceBytes(img));
    }
    if (Object.keys(opened).length === 0) {
      return giveUp(mode === 'always' ? new FocalError('E_UNSUPPORTED', `pipeline '${pipeline.name}' has no image or stack input to stream`, { file: request.pipelineFile }) : undefined);
    }
    if (mode === 'auto' && largest <= budgetBytes / 4) return giveUp();
    return opened;
  }

  /**
   * A streamed run: the graph planned as region sources (core/pipeline/stream.ts) and each image
   * output written as a tiled pyramid region by region into the staging folder, then committed
   * as an in-memory run's outputs are. The report (default) shows each output from its written
   * pyramid's levels (a zoomable view and a picture from a small level); the inputs, too large to
   * hold, are listed but not previewed.
   */
  private async runStreamed(request: RunRequest, pipeline: Pipeline, inputFiles: Record<string, string>, lazy: Record<string, LazyImage>, budgetBytes: number, started: number, reads: Awaited<ReturnType<typeof protectedFiles>>): Promise<RunSummary> {
    const outDir = resolve(request.outDir);
    const format = request.streamFormat ?? 'ome-tiff';
    const ext = format === 'ome-zarr' ? 'ome.zarr' : 'ome.tif';
    const planned: { name: string; file: string; field?: string; what?: string }[] = [{ name: 'run', file: join(outDir, PROVENANCE_FILE), field: '/outputs', what: 'the provenance record' }];
    for (const name of Object.keys(pipeline.outputs)) planned.push({ name, file: join(outDir, `${name}.${ext}`) });
    await assertNotOverwriting(planned, reads);
    if (request.preview) this.logger.warn('--preview: a streamed run writes no PNG previews (the pyramid\'s small levels serve instead)');
    const createdDir = await this.prepareOutFolder(outDir, request.signal);
    const begun: string[] = [];
    const written: string[] = [];
    const staging = join(outDir, stagingName());
    const timings: Record<string, number> = {};
    let closePlan: (() => Promise<void>) | undefined;
    const emit = (e: RunEvent): void => {
      try {
        request.onEvent?.(e);
      } catch (err) {
        this.logger.warn(`progress listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    try {
      begun.push(staging);
      request.onWrite?.(staging, 'start');
      await mkdir(staging);
      const warnings: RunWarning[] = [];
      const logger = recordingWarnings(this.logger, warnings);
      const requestedTile = request.tileSize ?? 512;
      if (!Number.isInteger(requestedTile) || requestedTile % 16 !== 0 || requestedTile < 16 || requestedTile > 4096) {
        throw new FocalError('E_USAGE', `--tile-size must be a multiple of 16 from 16 to 4096, got ${requestedTile}`, { field: 'tileSize' });
      }
      const planStarted = Date.now();
      // tables and JSON inputs are small: loaded whole, for the ops that stream themselves (tsva.slide's positions)
      const values: Record<string, unknown> = {};
      for (const [name, file] of Object.entries(inputFiles)) {
        const type = pipeline.inputs[name].type as PortType;
        if (type !== 'image' && type !== 'stack') values[name] = await this.loadInput(name, type, file, request.signal, logger);
      }
      const plan = await planStream(pipeline, { catalog: this.catalog, inputs: lazy, values, budgetBytes, tileSize: requestedTile, services: this.services, logger, signal: request.signal, scratchDir: staging });
      closePlan = () => plan.close();
      // the largest tile (band height) whose bands fit the budget, beside ~256 MiB for the process and the reader's block cache (less under a tiny budget)
      const RESERVE = Math.min(256 * 1024 * 1024, budgetBytes / 4);
      let tileSize = requestedTile;
      while (tileSize > 16 && streamBandBytes(plan, tileSize) + RESERVE > budgetBytes) tileSize = Math.max(16, (tileSize / 2) & ~15);
      if (streamBandBytes(plan, tileSize) + RESERVE > budgetBytes) {
        throw new FocalError('E_UNSUPPORTED', `--memory-mb ${Math.round(budgetBytes / 1048576)}: even bands of ${tileSize} rows need ${Math.ceil((streamBandBytes(plan, tileSize) + RESERVE) / 1048576)} MB; raise --memory-mb`, { field: 'memoryMb' });
      }
      if (tileSize !== requestedTile) logger.info(`tiles of ${tileSize} px (not ${requestedTile}) keep the bands within --memory-mb ${Math.round(budgetBytes / 1048576)}`);
      logger.info(`streaming ${Object.keys(plan.outputs).length} output(s) region by region: tiles ${tileSize} px, budget ${Math.round(budgetBytes / 1048576)} MB`, { nodes: plan.nodes.map((n) => `${n.node}: ${n.mode}${n.haloPx !== undefined ? ` (halo ${n.haloPx} px)` : ''}`) });
      const planMs = Date.now() - planStarted;
      for (const n of plan.nodes) emit({ type: 'node-start', node: n.node, op: n.op });

      // progress: level-0 rows written over all outputs, each output weighted by its pixels
      // reductions (tables counted tile by tile) weigh their input's pixels, once per node
      const reductionNodes = [...new Set(Object.values(plan.reductions).map((r) => r.node))];
      const reductionWeight = (node: string): number => {
        const n = plan.nodes.find((p) => p.node === node)!;
        return n.width * n.height;
      };
      const weights = Object.values(plan.outputs).map((o) => o.width * o.height * o.sizeC * o.sizeZ * o.sizeT);
      const totalWeight = weights.reduce((a, b) => a + b, 0) + reductionNodes.reduce((a, n) => a + reductionWeight(n), 0) || 1;
      let doneWeight = 0;
      let last = -1;
      const progressOf = (weight: number) => (f: number): void => {
        const fraction = (doneWeight + f * weight) / totalWeight;
        if (fraction - last < 0.001 && f < 1) return;
        last = fraction;
        const elapsedMs = Date.now() - started;
        emit({ type: 'run-progress', fraction, done: fraction >= 1 ? plan.nodes.length : 0, total: plan.nodes.length, elapsedMs, ...(fraction > 0.01 ? { etaMs: (elapsedMs * (1 - fraction)) / fraction } : {}) });
      };
      const outputs: OutputRecord[] = [];
      const names = Object.keys(plan.outputs);
      for (let i = 0; i < names.length; i++) {
        throwIfAborted(request.signal);
        const name = names[i];
        const src: RegionSource = plan.outputs[name];
        const file = `${name}.${ext}`;
        const onProgress = progressOf(weights[i]);
        const t0 = Date.now();
        if (format === 'ome-zarr') {
          await writeOmeZarr(join(staging, file), src, { chunkSize: tileSize, zarrFormat: request.zarrFormat ?? 3, name, signal: request.signal, onProgress });
        } else {
          await writePyramidalTiff(join(staging, file), src, { tileSize, signal: request.signal, onProgress });
        }
        timings[`output:${name}`] = Date.now() - t0;
        doneWeight += weights[i];
        outputs.push({ name, type: 'stack', files: [join(outDir, file)] });
      }
      // then the tables: each reducing node reads its input tile by tile once, for all its outputs
      const tables: Record<string, unknown> = {};
      const reducedNodes = new Set<string>();
      for (const [name, reduction] of Object.entries(plan.reductions)) {
        throwIfAborted(request.signal);
        const first = !reducedNodes.has(reduction.node);
        reducedNodes.add(reduction.node);
        const weight = first ? reductionWeight(reduction.node) : 0;
        const t0 = Date.now();
        const value = await reduction.run(progressOf(weight));
        if (first) timings[`reduce:${reduction.node}`] = Date.now() - t0;
        doneWeight += weight;
        tables[name] = value;
        outputs.push(await this.writeOutput(staging, outDir, name, isTable(value) ? 'table' : 'json', value, false, false));
      }
      const ms = Date.now() - started;
      for (const n of plan.nodes) {
        timings[n.node] = n.mode === 'whole' ? planMs : ms;
        emit({ type: 'node-done', node: n.node, op: n.op, ms: timings[n.node] });
      }
      throwIfAborted(request.signal);
      const provenanceFile = join(outDir, PROVENANCE_FILE);
      const totalMs = Date.now() - started;
      const record = await this.provenance(request, pipeline, inputFiles, outputs, timings, totalMs, warnings);
      record.stream = { memoryMb: Math.round(budgetBytes / 1048576), tileSize, format: format === 'ome-zarr' ? `ome-zarr-v${request.zarrFormat ?? 3}` : format, nodes: plan.nodes.map((n: StreamNodePlan) => ({ node: n.node, op: n.op, mode: n.mode, ...(n.haloPx !== undefined ? { haloPx: n.haloPx } : {}), totalHaloPx: n.totalHaloPx })) };
      const reportFile = request.report ? join(outDir, REPORT_FILE) : undefined;
      if (reportFile) record.report = REPORT_FILE;
      await this.io.writeJson(join(staging, PROVENANCE_FILE), record as unknown as JsonValue);
      throwIfAborted(request.signal);
      if (reportFile) {
        await this.streamedReport(request, record, staging, lazy, outputs, tables);
        throwIfAborted(request.signal);
      }
      await this.commit(request, { staging, outDir, outputs, reportFile, reads, begun, written });
      return { pipeline: pipeline.name, outputs, timingsMs: timings, totalMs, provenanceFile, ...(reportFile ? { reportFile } : {}) };
    } catch (err) {
      await removeRunFiles({ written, started: begun }, createdDir, outDir);
      throw err;
    } finally {
      await closePlan?.();
    }
  }

  /**
   * Moves a run's staged files into `outDir`: the outputs, then report.html and its
   * report_files/ (when written), run.json last. The files are checked again against what the
   * run read; an earlier run's report (and zoomable views) go, so a report never describes other
   * outputs. `begun`/`written` record each move for the caller's cleanup on failure.
   */
  private async commit(
    request: RunRequest,
    c: { staging: string; outDir: string; outputs: OutputRecord[]; reportFile: string | undefined; reads: Awaited<ReturnType<typeof protectedFiles>>; begun: string[]; written: string[] },
  ): Promise<void> {
    const { staging, outDir, outputs, reportFile, reads, begun, written } = c;
    const provenanceFile = join(outDir, PROVENANCE_FILE);
    const reportAssets = reportFile && (await stat(join(staging, REPORT_ASSETS_DIR)).then(() => true, () => false)) ? [{ name: 'report', file: join(outDir, REPORT_ASSETS_DIR) }] : [];
    const files = [...outputs.flatMap((o) => o.files.map((file) => ({ name: o.name, file }))), ...(reportFile ? [{ name: 'report', file: reportFile }] : []), ...reportAssets];
    await assertNotOverwriting(files, reads);
    // A report an earlier run wrote (its run.json names it) would describe other outputs: it goes with that run.json.
    if (!reportFile && (await readFile(provenanceFile, 'utf8').then((t) => (JSON.parse(t) as { report?: unknown }).report === REPORT_FILE, () => false))) {
      await rm(join(outDir, REPORT_FILE), { force: true });
    }
    // The old run.json goes first: until the new one is in, the folder is visibly incomplete.
    await rm(provenanceFile, { force: true });
    await rm(join(outDir, REPORT_ASSETS_DIR), { recursive: true, force: true });
    for (const { file } of [...files, { file: provenanceFile }]) {
      begun.push(file);
      request.onWrite?.(file, 'start');
      // an OME-Zarr folder of an earlier run is replaced as a file would be
      if (file.endsWith('.ome.zarr')) await rm(file, { recursive: true, force: true });
      await rename(join(staging, basename(file)), file);
      written.push(file);
      request.onWrite?.(file, 'done');
    }
    await syncFolder(outDir);
    await rm(staging, { recursive: true, force: true });
  }

  /**
   * report.html of a streamed run, written into its staging folder: each output opened lazily
   * from the pyramid (OME-TIFF or OME-Zarr) just written there, so the report reads only small
   * levels and the tiles of its zoomable views; the inputs are named, not previewed.
   */
  private async streamedReport(request: RunRequest, record: RunRecord, staging: string, inputs: Record<string, LazyImage>, outputs: OutputRecord[], tables: Record<string, unknown>): Promise<void> {
    const opened: LazyImage[] = [];
    try {
      const values: Record<string, unknown> = { ...tables };
      for (const o of outputs) {
        if (o.name in tables) continue;
        const staged = join(staging, basename(o.files[0]));
        const img = staged.endsWith('.ome.zarr') ? await openOmeZarr(staged) : await openTiffImage(staged);
        opened.push(img);
        values[o.name] = img;
      }
      const inputNotes: Record<string, string> = {};
      for (const [name, img] of Object.entries(inputs)) inputNotes[name] = `streamed (${img.width} × ${img.height} px${img.levels.length > 1 ? `, ${img.levels.length} levels` : ''}): not previewed`;
      await writeRunReport(staging, reportDataFromRecord(record, { inputs: {}, outputs: values, provenanceFile: PROVENANCE_FILE, pipelineFile: resolve(request.pipelineFile), inputNotes }), { signal: request.signal });
    } finally {
      for (const img of opened) await img.close();
    }
  }

  /**
   * Makes sure `outDir` is writable (returns the outermost folder it created) and removes what
   * interrupted runs left there. A run cancelled by now (its inputs and modules were still
   * loading) stops here, before it creates anything.
   */
  private async prepareOutFolder(outDir: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    throwIfAborted(signal);
    const createdDir = await ensureWritableFolder(outDir);
    const stale = await removeStaleRunFiles(outDir);
    if (stale.length > 0) this.logger.info(`removed ${stale.length} leftover file(s) of interrupted runs from ${outDir}`, { files: stale });
    return createdDir;
  }

  /** The files each output would be written to, from the declared types of the values it names. */
  private plannedOutputFiles(pipeline: Pipeline, outDir: string, preview: boolean, tif: string): { name: string; file: string; field?: string; what?: string }[] {
    const planned: { name: string; file: string; field?: string; what?: string }[] = [{ name: 'run', file: join(outDir, PROVENANCE_FILE), field: '/outputs', what: 'the provenance record' }];
    for (const [name, ref] of Object.entries(pipeline.outputs)) {
      const r = parseRef(ref);
      const type = r.kind === 'input' ? pipeline.inputs[r.input]?.type : this.catalog.get(pipeline.nodes[r.node]?.op ?? '')?.manifest.outputs[r.port]?.type;
      const exts = type === 'image' || type === 'stack' ? (preview ? [tif, 'png'] : [tif]) : type === 'table' ? ['csv', 'json'] : type === undefined ? [tif, 'png', 'csv', 'json', 'zip'] : ['json', 'zip']; // a json port may carry an ImageJ ROI set (.zip)
      for (const ext of exts) planned.push({ name, file: join(outDir, `${name}.${ext}`) });
    }
    return planned;
  }
  private resolveInputFiles(pipeline: Pipeline, request: RunRequest, defaults: Record<string, string>): Record<string, string> {
    const given = request.inputs ?? {};
    for (const name of Object.keys(given)) {
      if (!Object.hasOwn(pipeline.inputs, name)) {
        const known = Object.keys(pipeline.inputs);
        throw new FocalError('E_USAGE', `pipeline '${pipeline.name}' has no input '${name}' (inputs: ${known.length ? known.join(', ') : 'none'})`, { file: request.pipelineFile, field: `/inputs/${name}` });
      }
    }
    const files: Record<string, string> = {};
    for (const [name, spec] of Object.entries(pipeline.inputs)) {
      const file = Object.hasOwn(given, name) && given[name] !== undefined ? resolve(given[name]) : Object.hasOwn(defaults, name) ? defaults[name] : undefined;
      if (file === undefined) {
        throw new FocalError('E_USAGE', `pipeline input '${name}' (${spec.type}) needs a file: --input ${name}=<file>`, { file: request.pipelineFile, field: `/inputs/${name}` });
      }
      files[name] = isAbsolute(file) ? file : resolve(file);
    }
    return files;
  }

  private async loadInput(name: string, type: PortType, file: string, signal: AbortSignal | undefined, logger: Logger): Promise<unknown> {
    switch (type) {
      case 'stack':
      case 'image': {
        const onWarning = (m: string) => logger.warn(m, { input: name, file });
        // a TIFF goes to Focal's reader; anything else (another format, a dataset folder) to the plugin reader that takes it, if any
        const found = isTiffPath(file) ? undefined : await this.catalog.readerFor?.(file);
        const stack = found ? await found.reader.open(file, { signal, onWarning }) : await this.io.readStack(file, { signal, onWarning });
        if (type === 'stack') return stack;
        if (planeCount(stack) !== 1) {
          throw new FocalError('E_PORT', `input '${name}' is an image but ${file} holds ${planeCount(stack)} planes (c=${stack.sizeC}, z=${stack.sizeZ}, t=${stack.sizeT})`, { file, field: `/inputs/${name}` });
        }
        return imageFromStack(stack);
      }
      case 'table':
        return readTableFile(file);
      case 'json':
        return readJsonFile(file);
      case 'model':
        throw new FocalError('E_UNSUPPORTED', `input '${name}': model inputs need the deep-learning runtime, which this version of Focal does not have yet`, { file });
      default:
        throw new FocalError('E_PORT', `input '${name}' has unknown type '${String(type)}'`);
    }
  }

  /** Writes one output into the staging folder; the record names the files it will have in `outDir`. */
  private async writeOutput(staging: string, outDir: string, name: string, type: PortType, value: unknown, preview: boolean, ome: boolean): Promise<OutputRecord> {
    const names: string[] = [];
    if (isStack(value) || isImage(value)) {
      const tif = ome ? `${name}.ome.tif` : `${name}.tif`;
      await this.io.writeStack(join(staging, tif), value as Stack | Image, ome ? { ome: { name } } : undefined);
      names.push(tif);
      if (preview) {
        await this.io.writePreview(join(staging, `${name}.png`), value as Stack | Image);
        names.push(`${name}.png`);
      }
    } else if (isTable(value)) {
      await this.io.writeTable(join(staging, name), value);
      names.push(`${name}.csv`, `${name}.json`);
    } else if (isRoiSet(value)) {
      // an ImageJ ROI set (e.g. cellcount.count's rois): the zip Fiji's ROI Manager opens
      await writeRoiZip(join(staging, `${name}.zip`), value);
      names.push(`${name}.zip`);
    } else {
      await this.io.writeJson(join(staging, `${name}.json`), value as JsonValue);
      names.push(`${name}.json`);
    }
    return { name, type, files: names.map((n) => join(outDir, n)) };
  }

  private async provenance(request: RunRequest, pipeline: Pipeline, inputFiles: Record<string, string>, outputs: OutputRecord[], timings: Record<string, number>, totalMs: number, warnings: RunWarning[]): Promise<RunRecord> {
    const inputs: RunRecord['inputs'] = {};
    for (const [name, file] of Object.entries(inputFiles)) {
      const info = await stat(file);
      if (info.isDirectory()) {
        const folder = await sha256Folder(file); // a dataset folder read by a plugin reader
        inputs[name] = { type: pipeline.inputs[name].type, file, folder: true, files: folder.files, bytes: folder.bytes, mtime: info.mtime.toISOString(), sha256: folder.sha256 };
      } else {
        inputs[name] = { type: pipeline.inputs[name].type, file, bytes: info.size, mtime: info.mtime.toISOString(), sha256: await sha256File(file) };
      }
    }
    const nodes: RunRecord['nodes'] = {};
    for (const [id, node] of Object.entries(pipeline.nodes)) {
      const entry = this.catalog.get(node.op);
      const params = entry ? (entry.paramsSchema().parse(withoutPrototype(node.params ?? {})) as JsonValue) : ((node.params ?? {}) as JsonValue);
      nodes[id] = { op: node.op, plugin: entry ? `${entry.pluginId}@${entry.pluginVersion}` : null, params, ms: timings[id] ?? null, in: { ...node.in } };
    }
    return {
      focal: await hostFocalVersion(),
      date: new Date().toISOString(),
      pipeline: { name: pipeline.name, file: resolve(request.pipelineFile), ...(pipeline.description ? { description: pipeline.description } : {}) },
      inputs,
      nodes,
      outputs: outputs.map((o) => ({ name: o.name, type: o.type, files: o.files, ref: pipeline.outputs[o.name] })),
      totalMs,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      warnings,
    };
  }
}


/** fsync a folder, so that the renames into it survive a power cut (best effort: not every platform allows it). */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close().catch(() => undefined);
}
