import type { Logger } from '../plugin/contract.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  message: string;
  fields: Record<string, unknown>;
}

/**
 * A small structured logger: records go to a sink (stderr by default), filtered by
 * level; `child` adds fields (plugin, op, node) to every record.
 */
export class ConsoleLogger implements Logger {
  constructor(
    private readonly options: { level?: LogLevel; sink?: (record: LogRecord) => void; fields?: Record<string, unknown> } = {},
  ) {}

  child(fields: Record<string, unknown>): ConsoleLogger {
    return new ConsoleLogger({ ...this.options, fields: { ...this.options.fields, ...fields } });
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.emit('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.emit('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.emit('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.emit('error', message, fields);
  }

  private emit(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.options.level ?? 'info']) return;
    const record = { level, message, fields: { ...this.options.fields, ...fields } };
    (this.options.sink ?? defaultSink)(record);
  }
}

function defaultSink(record: LogRecord): void {
  const tags = Object.entries(record.fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  process.stderr.write(`${record.level}: ${record.message}${tags ? ` (${tags})` : ''}\n`);
}

/** Records everything in memory; for tests. */
export class MemoryLogger extends ConsoleLogger {
  readonly records: LogRecord[];
  constructor(records: LogRecord[] = []) {
    super({ level: 'debug', sink: (r) => records.push(r) });
    this.records = records;
  }
}
