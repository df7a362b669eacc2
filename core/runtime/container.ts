import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { DefaultIoService } from '../io/io-service.js';
import type { ModelExtrasResolver } from '../ml/model-extras.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import type { Logger, ServiceProvider } from '../plugin/contract.js';
import { ConsoleLogger } from './logger.js';
import { createWorkerPool, type WorkerPool } from './workers.js';
import { CATALOG, COMPUTE_SERVICE, IO_SERVICE, LOGGER, ML_SERVICE, SERVICE_PROVIDER, type ComputeService, type IoService, type MlService } from './services.js';

export interface ContainerOptions {
  catalog: OperationCatalog;
  logger?: Logger;
  /** Parallelism; default FOCAL_THREADS or the number of available cores. */
  threads?: number;
  /** Replace the file I/O service (tests, embedding applications). */
  io?: IoService;
  /** Replace the deep-learning runtime (tests, embedding applications). */
  ml?: MlService;
}

/**
 * The default deep-learning runtime: delegates to core/ml through dynamic
 * imports, so that hosts running pipelines without deep learning never load
 * TensorFlow.js or onnxruntime. With `extras` (the host's plugin registry), a loaded package's
 * `extra` is validated with the schema its task's plugin declares.
 */
export function createMlService(extras?: ModelExtrasResolver): MlService {
  return {
    loadTf: async (options) => (await import('../ml/backend.js')).loadTf(options),
    detectBackends: async () => (await import('../ml/backend.js')).detectBackends(),
    loadModelPackage: async (dir) => (await import('../ml/model-package.js')).loadModelPackage(dir, { extras }),
    createInferenceEngine: async (pkg, options) => (await import('../ml/inference.js')).createInferenceEngine(pkg, options),
  };
}

/** Threads from FOCAL_THREADS, else the cores this process may use. */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number.parseInt(env.FOCAL_THREADS ?? '', 10);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Math.max(1, availableParallelism());
}

/**
 * A child of tsyringe's root container with Focal's services registered under
 * explicit tokens (no decorator metadata needed). Each host gets its own child,
 * so two hosts in one process never share state.
 */
export function createContainer(options: ContainerOptions): DependencyContainer {
  const c = rootContainer.createChildContainer();
  const threads = options.threads ?? defaultThreads();
  let pool: WorkerPool | undefined;
  const compute: ComputeService = {
    threads,
    get workers() {
      return (pool ??= createWorkerPool({ threads }));
    },
  };
  c.register(LOGGER, { useValue: options.logger ?? new ConsoleLogger() });
  c.register(COMPUTE_SERVICE, { useValue: compute });
  c.register(CATALOG, { useValue: options.catalog });
  if (options.io) c.register(IO_SERVICE, { useValue: options.io });
  else c.registerSingleton(IO_SERVICE, DefaultIoService);
  const catalog = options.catalog as OperationCatalog & Partial<ModelExtrasResolver>;
  c.register(ML_SERVICE, { useValue: options.ml ?? createMlService(typeof catalog.extrasFor === 'function' ? (catalog as ModelExtrasResolver) : undefined) });
  const provider: ServiceProvider = { resolve: (token) => c.resolve(token) };
  c.register(SERVICE_PROVIDER, { useValue: provider });
  return c;
}
