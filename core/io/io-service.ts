import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { Image } from '../data/image.js';
import type { JsonValue } from '../data/model.js';
import type { Stack } from '../data/stack.js';
import { tableCsvPieces, tableJsonPieces, type Table } from '../data/table.js';
import type { IoService } from '../runtime/services.js';
import { writeFileAtomic } from './atomic.js';
import { writeFigurePng } from './preview.js';
import { readTiff } from './tiff/read.js';
import { writeTiff } from './tiff/write.js';

/** Focal's IoService: TIFF in and out, PNG previews, CSV + JSON tables, JSON; every write is atomic. */
@injectable()
export class DefaultIoService implements IoService {
  readStack(path: string, options?: { signal?: AbortSignal; onWarning?: (message: string) => void }): Promise<Stack> {
    return readTiff(path, options);
  }

  writeStack(path: string, value: Stack | Image, options?: { ome?: boolean | { name?: string } }): Promise<void> {
    return writeTiff(path, value, options?.ome ? { ome: options.ome } : {});
  }

  writePreview(path: string, value: Stack | Image): Promise<void> {
    return writeFigurePng(path, value);
  }

  /** The table as `<basePath>.csv` and `<basePath>.json`, each encoded and written piece by piece (any number of rows). */
  async writeTable(basePath: string, table: Table): Promise<void> {
    await writeFileAtomic(`${basePath}.csv`, tableCsvPieces(table));
    await writeFileAtomic(`${basePath}.json`, tableJsonPieces(table));
  }

  writeJson(path: string, value: JsonValue): Promise<void> {
    return writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
  }
}
