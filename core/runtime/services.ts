import type { InjectionToken } from 'tsyringe';
import type { Image } from '../data/image.js';
import type { JsonValue } from '../data/model.js';
import type { Stack } from '../data/stack.js';
import type { Table } from '../data/table.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import type { Logger, ServiceProvider } from '../plugin/contract.js';
import type { BackendName, BackendReport, Tf } from '../ml/backend.js';
import type { ModelPackage } from '../ml/model-package.js';
import type { InferenceEngine, InferenceEngineOptions } from '../ml/inference.js';
import type { WorkerPool } from './workers.js';

/** Reading and writing of images, tables and JSON; every write is atomic. */
export interface IoService {
  /** Reads a TIFF / OME-TIFF / ImageJ TIFF (multi-file Micro-Manager series included). */
  readStack(path: string, options?: { signal?: AbortSignal; onWarning?: (message: string) => void }): Promise<Stack>;
  /** Writes a TIFF with an ImageJ hyperstack description and resolution tags; with `ome`, an OME-TIFF (OME-XML: channel names, calibration). */
  writeStack(path: string, value: Stack | Image, options?: { ome?: boolean | { name?: string } }): Promise<void>;
  /** Writes an 8-bit PNG preview with auto-contrast. */
  writePreview(path: string, value: Stack | Image): Promise<void>;
  /** Writes `<basePath>.csv` and `<basePath>.json`. */
  writeTable(basePath: string, table: Table): Promise<void>;
  writeJson(path: string, value: JsonValue): Promise<void>;
}

/** How much parallelism Focal may use on this machine. */
export interface ComputeService {
  /** Worker threads / concurrent nodes allowed (FOCAL_THREADS, else available cores). */
  readonly threads: number;
  /**
   * The host's worker-thread pool, `threads` workers at most; created on first access,
   * its workers start with the first task and exit when idle.
   */
  readonly workers: WorkerPool;
}

/**
 * The deep-learning runtime (core/ml): TensorFlow.js backends, model packages,
 * inference engines. Every method loads its module lazily, so resolving this
 * service never loads TensorFlow.js or onnxruntime.
 */
export interface MlService {
  /** TensorFlow.js on the best (or the requested, or FOCAL_BACKEND's) backend; one instance per process. */
  loadTf(options?: { backend?: BackendName; threads?: number }): Promise<{ tf: Tf; backend: BackendName; reports: BackendReport[] }>;
  /** Which backends can run here, best first, with the reason for each one that cannot. */
  detectBackends(): Promise<BackendReport[]>;
  /** Reads and validates a model folder (manifest, every weights file's sha256, and `extra` with the schema its task's plugin declares). */
  loadModelPackage(dir: string): Promise<ModelPackage>;
  /** An inference engine for a model package (onnxruntime or tfjs). */
  createInferenceEngine(pkg: ModelPackage, options?: InferenceEngineOptions): Promise<InferenceEngine>;
}

export const IO_SERVICE: InjectionToken<IoService> = Symbol.for('focal.IoService');
export const COMPUTE_SERVICE: InjectionToken<ComputeService> = Symbol.for('focal.ComputeService');
export const ML_SERVICE: InjectionToken<MlService> = Symbol.for('focal.MlService');
export const LOGGER: InjectionToken<Logger> = Symbol.for('focal.Logger');

/** The operation catalog (the plugin registry) of this host. */
export const CATALOG: InjectionToken<OperationCatalog> = Symbol.for('focal.Catalog');
/** Resolves services from the host's container; handed to every operation as `ctx.services`. */
export const SERVICE_PROVIDER: InjectionToken<ServiceProvider> = Symbol.for('focal.ServiceProvider');
