import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FocalError } from '../../core/index.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed';

/** One file of a dataset as it was when the job was queued. */
export interface LedgerFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * One line of `<out>/.focal-watch/ledger.jsonl`. Every state change appends a full record;
 * the latest record of a job id wins.
 */
export interface LedgerRecord {
  v: 1;
  /** ISO time of the append. */
  t: string;
  id: string;
  state: JobState;
  /** Dataset key: the input file's absolute path, `<folder>#position<n>` for img_* folders, `<folder>#<axes label>` for NDTiff stacks, the folder for OME-Zarr. */
  key: string;
  kind: DatasetKind;
  /**
   * Every file of the dataset (size, mtime) at queue time. An OME-Zarr folder (thousands of chunk
   * files) is one entry instead: the folder, its files' total bytes and their newest mtime; the
   * full listing is summarised by `listing`.
   */
  files: LedgerFile[];
  /** ome-zarr: sha256 of the folder's listing (`<relative path> <size> <mtimeMs>` lines, sorted), to skip unchanged folders without re-hashing. */
  listing?: string;
  /** ome-zarr: how many files the folder held. */
  fileCount?: number;
  /** sha256 of the dataset content (the file's bytes; for several files, of their hashes in order; OME-Zarr: core's sha256Folder, as run.json records it). */
  sha256: string;
  /** sha256 of the file handed to the pipeline (run.json's inputs.<name>.sha256); for img_* folders, of the assembled stack. */
  inputSha256?: string;
  /** Final output folder, relative to the output folder. */
  output: string;
  /** Recorded on `done`. */
  ms?: number;
  outputs?: string[];
  /** Recorded on `failed`. */
  error?: { code: string; message: string; node?: string; op?: string };
  /** `done` found by crash recovery (the output folder was already complete). */
  recovered?: boolean;
  /** How many times the watcher ended (crash, kill) while this job ran; at 2 it is quarantined. */
  crashes?: number;
}

export type DatasetKind = 'file' | 'mmstack' | 'img-folder' | 'ndtiff' | 'ome-zarr';

export const WATCH_DIR = '.focal-watch';

/**
 * Append-only JSON-lines ledger, fsynced after every append. On open it is compacted
 * (one line per job: its latest record) by writing a new file and renaming it over the
 * old one; a torn last line from a crash is dropped.
 */
export class Ledger {
  private fd: number | undefined;
  readonly file: string;
  /** Latest record per job id. */
  readonly jobs = new Map<string, LedgerRecord>();

  private constructor(readonly dir: string) {
    this.file = join(dir, 'ledger.jsonl');
  }

  static open(outDir: string): Ledger {
    const dir = join(outDir, WATCH_DIR);
    mkdirSync(dir, { recursive: true });
    const ledger = new Ledger(dir);
    ledger.load();
    ledger.compact();
    ledger.fd = openSync(ledger.file, 'a');
    return ledger;
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    const lines = readFileSync(this.file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let rec: LedgerRecord;
      try {
        rec = JSON.parse(line) as LedgerRecord;
      } catch (err) {
        if (i >= lines.length - 2) return; // torn last line of a crashed append
        throw new FocalError('E_FORMAT', `${this.file}: line ${i + 1} is not valid JSON (${(err as Error).message}); fix or remove the ledger`, { file: this.file });
      }
      if (typeof rec?.id !== 'string' || typeof rec.state !== 'string' || typeof rec.key !== 'string') {
        throw new FocalError('E_FORMAT', `${this.file}: line ${i + 1} is not a ledger record (needs id, state, key)`, { file: this.file });
      }
      this.jobs.set(rec.id, rec);
    });
  }

  private compact(): void {
    const tmp = `${this.file}.compact`;
    const fd = openSync(tmp, 'w');
    try {
      for (const rec of this.jobs.values()) writeSync(fd, `${JSON.stringify(rec)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    fsyncDir(this.dir);
  }

  append(rec: Omit<LedgerRecord, 'v' | 't'>): LedgerRecord {
    if (this.fd === undefined) throw new FocalError('E_IO', `ledger ${this.file} is closed`);
    const full: LedgerRecord = { v: 1, t: new Date().toISOString(), ...rec };
    writeSync(this.fd, `${JSON.stringify(full)}\n`);
    fsyncSync(this.fd);
    this.jobs.set(full.id, full);
    return full;
  }

  /** The latest job for this dataset key and content hash, if any. */
  find(key: string, sha256: string): LedgerRecord | undefined {
    let found: LedgerRecord | undefined;
    for (const rec of this.jobs.values()) if (rec.key === key && rec.sha256 === sha256) found = rec;
    return found;
  }

  /** Output folders (relative) claimed by any job. */
  claimedOutputs(): Set<string> {
    return new Set([...this.jobs.values()].map((r) => r.output));
  }

  close(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

/** Makes a rename or create inside `dir` durable (best effort where directories cannot be opened). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some platforms (Windows) cannot fsync a directory
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
