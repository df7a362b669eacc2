/**
 * Focal's public API: what plugins, the CLI and embedding applications import.
 * Plugins import from here only (`import { ... } from 'focal'`).
 */
import 'reflect-metadata';

// errors
export { FocalError, isFocalError, throwIfAborted, USAGE_ERROR_CODES, type FocalErrorCode, type FocalErrorDetails } from './errors.js';

// data
export { DTYPES, allocate, dtypeOf, bytesPerSample, integerRange, type DType, type PixelArray, type ArrayFor } from './data/dtype.js';
export { createImage, isImage, type Image, type ImageInit, type Calibration } from './data/image.js';
export {
  createStack, isStack, planeCount, planeIndex, planePosition, getPlane, stackFromImage, imageFromStack, withPlanes,
  type Stack, type StackInit,
} from './data/stack.js';
export { isRoiSet, encodeRoi, decodeRoi, encodeRoiZip, readRoiZip, writeRoiZip, roiArea, zipStored, unzipStored, crc32, type Roi, type RoiSet, type RoiKind } from './io/roi.js';
export { createTable, isTable, tableToCsv, tableToJson, tableCsvPieces, tableJsonPieces, tableFromJson, CellSchema, TableJsonSchema, type Table, type TableJson, type Cell } from './data/table.js';
export { isModelRef, type ModelRef, type JsonValue } from './data/model.js';
export { convertPlanes, convertStack, minMax, SCALE_MODES, type ScaleMode, type ConvertOptions } from './data/convert.js';

// plugin contract
export {
  PORT_TYPES, portAccepts, defineOperation, definePlugin, defineTrainer,
  type PortType, type PortSpec, type Ports, type PortValues, type PortValueMap, type Logger, type ServiceProvider,
  type OpContext, type ParamsSchema, type OperationDef, type AnyOperationDef, type PluginDef,
  type TrainerDef, type AnyTrainerDef, type TrainerContext, type TilingPlan, type TilingInput, type TiledReduction, type OpStream,
} from './plugin/contract.js';
export {
  PluginManifestSchema, OperationManifestSchema, PortSpecSchema, OP_ID_PATTERN, PLUGIN_ID_PATTERN,
  manifestFromPlugin, manifestFromOperation, manifestFromTrainer, TrainerManifestSchema, paramsJsonSchema, type PluginManifest, type OperationManifest, type TrainerManifest,
} from './plugin/manifest.js';
// contribution points (readers, models, sampleData, pipelines)
export {
  ReaderContributionSchema, BundledFileSchema, ContributionsSchema, CONTRIBUTION_POINTS, CONTRIBUTION_ID_PATTERN, contributionsOf, contributionManifests,
  type ReaderContribution, type BundledFile, type ContributionPoint, type Contributions,
} from './plugin/manifest.js';
export type { ReaderDef, ReaderOpenOptions } from './plugin/contract.js';
export { isTiffPath, folderMatches, TIFF_EXTENSIONS, type FoundReader } from './plugin/readers.js';
/** Parse op params as the executor does (prototype keys dropped), for hosts that check params before a run. */
export { safeParseParams } from './plugin/params.js';
export { catalogFromPlugins, opIdsOf, entryFromOperation, type CatalogEntry, type OperationCatalog } from './plugin/catalog.js';

// services
export { IO_SERVICE, COMPUTE_SERVICE, LOGGER, CATALOG, SERVICE_PROVIDER, type IoService, type ComputeService } from './runtime/services.js';
export { ConsoleLogger, MemoryLogger, type LogLevel, type LogRecord } from './runtime/logger.js';
export { writeFileAtomic } from './io/atomic.js';
export { sha256File, sha256Folder } from './io/hash.js';
/** Micro-Manager NDTiff datasets (the watcher follows them as they grow; the stack plugin's `ndtiff` reader reads a whole one). */
export {
  readNdTiffDataset, readNdIndex, parseNdIndex, groupNdEntries, completeNdGroups, readNdGroup, ndDatasetName,
  type NdEntry, type NdIndex, type NdGroup,
} from './io/ndtiff.js';
/** Micro-Manager img_* folders (the watcher follows them; the stack plugin's `micromanager-img` reader reads a finished one). */
export { readMmImgFolder, readMmSummary, imgGrid, partialImgPlan, stackFromImgPlan, MM_IMG_PLANE, type ImgPlan, type MmSummary } from './io/mm-img-folder.js';

// test helpers for operation authors
export { testContext, runOp, captureStdio, type TestContext } from './testing/index.js';

// numeric helpers
export { mulberry32, gaussianRandom, poissonRandom, Xoshiro128, logFactorial, SeededRandom } from './numeric/random.js';
// FFT plans, spectral backends and convolvers are not here: see the second entry core/spectral.ts.

// The library floors have their own entries, so that a run loads only what its operations use:
// `focal/imaging` (core/imaging.ts), `focal/specimens` (core/specimens.ts), `focal/ml`
// (core/ml.ts, the learning kit) and `focal/spectral` (core/spectral.ts).
/**
 * The library floors, each imported on first call: how a plugin that gets this API as its
 * factory's argument (and has no `focal` dependency of its own) reaches them, e.g.
 * `const { gaussianBlur2d } = await focal.floors.imaging()`.
 */
export const floors = {
  imaging: () => import('./imaging.js'),
  specimens: () => import('./specimens.js'),
  ml: () => import('./ml.js'),
  spectral: () => import('./spectral.js'),
};

// zod, so that plugins share the host's copy
export { z } from 'zod';

// --- io (TIFF, PNG) ---
export { readTiff, inspectTiff, defaultReadBudget, type ReadTiffOptions, type TiffInfo, type TiffFormat } from './io/tiff/read.js';
export { writeTiff, encodeTiff, type WriteTiffOptions, type EncodedTiff } from './io/tiff/write.js';
export { openTiffImage, type OpenTiffOptions } from './io/tiff/lazy.js';
export { writePyramidalTiff, pyramidLevels, type PyramidOptions, type PyramidResult } from './io/tiff/pyramid.js';
export { openOmeZarr, readOmeZarr, writeOmeZarr, isZarrFolder, type OpenOmeZarrOptions, type OmeZarrLayout, type OmeZarrWriteOptions, type OmeZarrWriteResult } from './io/ome-zarr.js';
export { tiledOperation, tiledReduction, runTiledPiece, runTiledChannelsPiece, type TiledOptions, type TiledWorkers, type TiledReductionOptions } from './pipeline/tiled.js';
export { planStream, planeMeanStd, sourceBytes, streamBandBytes, type StreamOptions, type StreamPlan, type StreamNodePlan } from './pipeline/stream.js';
export { checkRegion, stackRegionSource, type LazyImage, type ImageLevel, type RegionRequest, type RegionSource } from './io/lazy-image.js';
export { diskCachedSource, type DiskCachedSource } from './io/disk-cache.js';
export { writeDeepZoom, readDeepZoomLevel, encodeRgbPng, deepZoomLevels, deepZoomTileRect, deepZoomDescriptor, deepZoomDisplay, type DeepZoomLevel, type DeepZoomDisplay, type DeepZoomOptions, type DeepZoomResult, type DeepZoomSource } from './io/deepzoom.js';
export type { SampleType } from './io/tiff/decode.js';
export { writePng, encodePng, renderPreview, autoContrastRange, autoContrastRangeOf, type PngOptions, type Preview } from './io/png.js';
export { encodePngPixels, encodePngPixelsAsync, type PngPixels } from './io/png-encode.js';
export { renderFigure, encodeFigurePng, writeFigurePng, labelColour, lutColour, niceLengthUm, IMAGEJ_CHANNEL_COLOURS, PANEL_GAP, type Figure, type FigureOptions, type FigurePanel } from './io/preview.js';
export { DefaultIoService } from './io/io-service.js';

// --- registry and discovery ---
export {
  PluginRegistry, importPluginEntry, manifestForPackage,
  type FocalApi, type PluginFactory, type PluginSource, type PluginLocation, type PluginInfo, type PluginRegistryOptions, type RegistryDiscoverResult,
} from './plugin/registry.js';
export {
  discoverPlugins, formatDiscoveryProblem, readFocalConfig, satisfiesRange, hostFocalVersion, CONFIG_FILE_NAME, PLUGIN_KEYWORD,
  type DiscoverOptions, type DiscoveredPlugin, type DiscoveryProblem, type DiscoveryResult, type FocalConfig,
} from './plugin/discovery.js';
export { userConfigDir, listTrustedFolders, trustFolder, untrustFolder, isTrustedFolder, TRUST_FILE_NAME } from './plugin/trust.js';

// --- pipelines ---
export {
  PipelineSchema, PipelineInputSchema, PipelineNodeSchema, PortRefSchema, PortTypeSchema, PIPELINE_NAME_PATTERN, PIPELINE_REF_PATTERN,
  pipelineJsonSchema, parseRef,
  type Pipeline, type PipelineDocument, type PipelineNode, type PipelineInput, type PortRef,
} from './pipeline/schema.js';
export {
  validatePipeline, assertValidPipeline, formatProblems, pipelineError, RESERVED_OUTPUT_NAMES,
  type PipelineProblem, type PipelineProblemCode, type ValidationResult, type ValidateOptions,
} from './pipeline/validate.js';
export { loadPipelineFile, readPipelineJson, resolveInputDefaults, type LoadedPipeline } from './pipeline/load.js';
export {
  runPipeline, valueKind, DEFAULT_CONCURRENCY,
  type RunOptions, type RunEvent, type PipelineResult, type PipelineOutput,
} from './pipeline/executor.js';

// --- host runtime: DI container and the files-in/files-out pipeline runner ---
export { createContainer, defaultThreads, type ContainerOptions } from './runtime/container.js';
export { ONNX_TELEMETRY_VARIABLE, disableOnnxTelemetry, onnxTelemetryOff } from './runtime/onnx-telemetry.js';
export {
  createWorkerPool, workerModulePath,
  type WorkerPool, type WorkerPoolOptions, type WorkerRunOptions, type WorkerProgress, type Transferable as WorkerTransferable,
} from './runtime/workers.js';
/** Rate and ETA over a moving window from (done, total, timeMs) samples (no clock read), and h:mm:ss: training lines, progress bars. */
export { estimateRate, RateEstimator, formatDuration, type ProgressSample, type RateEstimate, type RateWindowOptions } from './runtime/eta.js';
export { REPORT_ASSETS_DIR, writeReportZooms, zoomSourceOf, type ReportZoom } from './runtime/report-zoom.js';
export { writeRunReport, renderRunReport, renderBatchIndex, BATCH_INDEX_FILE, type BatchIndexData, pipelineGraphSvg, plotsOf, columnUnit, axisTitle, REPORT_FILE, REPORT_TABLE_ROWS, REPORT_PREVIEW_MAX_PX, type RunReportData, type RunReportWarning, type PlotSpec } from './runtime/report.js';
export { rebuildRunReport, readRunRecord, reportDataFromRecord, recordingWarnings, RunRecordSchema, type RunRecord, type RunWarning } from './runtime/run-record.js';
export { readTableFile, parseCsv, parseCsvPieces } from './io/table-file.js';
export {
  AUTOFOCUS_DATASET_FORMAT, AUTOFOCUS_DATASET_VERSION, AutofocusDatasetManifestSchema, AutofocusPairRowSchema,
  type AutofocusDatasetManifest, type AutofocusDatasetManifestInput, type AutofocusPairRow,
} from './io/autofocus-dataset.js';
export { PipelineRunner, defaultMemoryMb, ensureWritableFolder, removeRunFiles, type RunRequest, type RunSummary, type OutputRecord, type RunFiles } from './runtime/runner.js';
export { prestartIsolatedRun, runIsolated, RunThreadPool, type RunThreadPoolOptions, type IsolatedRunOptions, type PrestartedRun, type IsolatedRunPreload, type IsolatedRunHost, type IsolatedRunHooks, type IsolatedRunRequest } from './runtime/isolated-run.js';

// --- deep learning runtime: the service token here, the learning kit in `focal/ml` (core/ml.ts) ---
export { ML_SERVICE, type MlService } from './runtime/services.js';
export { createMlService } from './runtime/container.js';
export { BACKEND_NAMES, parseBackendName, type BackendName } from './ml/backend-names.js';
export { drawGlyphText, glyphTextWidthPx, legendTextWidthPx, renderLinePlot, type Series, type PlotOptions } from './ml/plot.js';
export { studentTCdf, pairedTTest, pairedDifference, type TTestResult } from './numeric/stats.js';
export {
  JobSpecSchema, parseJobSpec, jobIdOf, makeJobSpec, runJob, insideAllowed, isPermanentFailure, PERMANENT_FAILURE_CODES,
  jobFailureReport, writeJobFailure, writeFailureFiles, JOB_FILE,
  type JobSpec, type JobOutcome, type JobPipelineRunner, type RunJobOptions, type FailureReport,
} from './jobs/job.js';
export { appendJobTables, inputColumns, JOB_COLUMN, BATCH_INDEX_JSON, type CombinedJob } from './jobs/combined-tables.js';
