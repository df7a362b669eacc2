import type { InjectionToken } from 'tsyringe';
import type { Image } from '../data/image.js';
import type { JsonValue } from '../data/model.js';
import type { Stack } from '../data/stack.js';
import type { Table } from '../data/table.js';
import type { OperationCatalog } from '../plugin/catalog.js';
import type { Logger, ServiceProvider } from '../plugin/contract.js';

/** Reading and writing of images, tables and JSON; every write is atomic. */
export interface IoService {
  /** Reads a TIFF / OME-TIFF / ImageJ TIFF (multi-file Micro-Manager series included). */
  readStack(path: string, options?: { signal?: AbortSignal; onWarning?: (message: string) => void }): Promise<Stack>;
  /** Writes a TIFF with an ImageJ hyperstack description and resolution tags. */
  writeStack(path: string, value: Stack | Image): Promise<void>;
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
}

export const IO_SERVICE: InjectionToken<IoService> = Symbol.for('focal.IoService');
export const COMPUTE_SERVICE: InjectionToken<ComputeService> = Symbol.for('focal.ComputeService');
export const LOGGER: InjectionToken<Logger> = Symbol.for('focal.Logger');

/** The operation catalog (the plugin registry) of this host. */
export const CATALOG: InjectionToken<OperationCatalog> = Symbol.for('focal.Catalog');
/** Resolves services from the host's container; handed to every operation as `ctx.services`. */
export const SERVICE_PROVIDER: InjectionToken<ServiceProvider> = Symbol.for('focal.ServiceProvider');
