import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { lstat, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import pLimit from 'p-limit';
import picomatch from 'picomatch';
import { appendJobTables, FocalError, isFocalError, sha256Folder, writeFileAtomic, writeTiff, type PipelineRunner, type RunRequest } from '../../core/index.js';
import { assembleImgFolder, classify, datasetHash, listZarrFolder, omeZarrFolder, omeZarrRef, probe, safeRelative, type DatasetRef, type PlaneCache, type ZarrListing } from './datasets.js';
import { fsyncDir, Ledger, WATCH_DIR, type LedgerFile, type LedgerRecord } from './ledger.js';
import { completeNdGroups, groupNdEntries, readNdGroup, readNdIndex, type NdGroup } from '../../core/index.js';

export interface WatchOptions {
  /** Folder to watch (recursively). */
  dir: string;
  pipelineFile: string;
  outDir: string;
  /** Pipeline input that receives each dataset. */
  inputName: string;
  /** Glob on paths relative to `dir` (case-insensitive); default every .tif/.tiff. */
  pattern?: string;
  /** Jobs at once (default 1). */
  concurrency?: number;
  /** Most jobs queued or running at once; complete datasets beyond it wait (default 64). */
  maxQueue?: number;
  /** Size and mtime must be unchanged this long before a dataset is checked (default 2000). */
  settleMs?: number;
  /** A dataset that stays incomplete this long after its last change is processed as it is, with a warning (default 120 000). */
  acquisitionTimeoutMs?: number;
  /** Process what is there, then stop. */
  once?: boolean;
  /** Poll the file system instead of OS events (network shares where inotify/FSEvents do not fire). */
  usePolling?: boolean;
  /**
   * Follow symbolic links (default false: a link, to a file or a folder, is skipped with a
   * `job-skipped` event). When followed, each real file is processed once and a real folder
   * already seen (a loop such as `in/loop → in`) is not entered again.
   */
  followSymlinks?: boolean;
  /** How often pending datasets are re-checked (default min(250, settleMs/4)). */
  pollMs?: number;
  /** Runs one job (PipelineRunner, or the CLI's thread-per-run host). */
  runner: Pick<PipelineRunner, 'run'>;
  /** Streaming settings given to every job's run, as `focal run` takes them (`--stream`, `--memory-mb`, …). */
  run?: Pick<RunRequest, 'stream' | 'memoryMb' | 'streamFormat' | 'tileSize' | 'zarrFormat'>;
  onEvent?: (event: WatchEvent) => void;
}

export type WatchEvent =
  | { event: 'watch-ready'; ts: number; dir: string; out: string; recovered: number; pending: number }
  | { event: 'job-queued'; ts: number; id: string; input: string; kind: string; files: number; output: string }
  | { event: 'job-started'; ts: number; id: string; input: string }
  | { event: 'job-done'; ts: number; id: string; input: string; output: string; ms: number; outputs: string[]; recovered?: boolean }
  | { event: 'tables-appended'; ts: number; id: string; input: string; files: string[] }
  | { event: 'job-failed'; ts: number; id: string; input: string; code: string; message: string; node?: string; op?: string; report: string }
  | { event: 'job-skipped'; ts: number; input: string; reason: string; /** Skipped for a symbolic link (not followed, a loop or a second path to the same file). */ link?: boolean }
  | { event: 'warning'; ts: number; message: string; input?: string }
  | { event: 'watch-stopped'; ts: number; done: number; failed: number; abandoned: number; queued: number };

export interface WatchSummary {
  done: number;
  failed: number;
  /** In-flight jobs aborted at shutdown (re-run at the next start). */
  abandoned: number;
  /** Queued jobs not started at shutdown (run at the next start). */
  queued: number;
}

interface Pending {
  ref: DatasetRef;
  paths: Set<string>;
  snapshot: Map<string, { size: number; mtimeMs: number }>;
  lastChange: number;
  version: number;
  probedVersion: number;
  reason?: string;
  /** Last error of a check (warned once). */
  error?: string;
  busy: boolean;
  /** ome-zarr: the folder's last listing (the settle check compares listings instead of stat-ing every chunk each tick). */
  zarr?: ZarrListing;
  /** ome-zarr: when the next listing may be taken (listings are spaced by settleMs, and by 4× their own duration for big folders). */
  zarrNextList?: number;
}

interface Job {
  id: string;
  ref: DatasetRef;
  files: LedgerFile[];
  sha256: string;
  inputSha256?: string;
  output: string;
  input: string;
  warnings: string[];
  controller: AbortController;
  /** Times the watcher ended while this job ran (from the ledger). */
  crashes?: number;
  /** ome-zarr: the folder's listing hash and file count (ledger fields). */
  folder?: { listing: string; fileCount: number };
}

const DEFAULT_PATTERN = '**/*.{tif,tiff,ome.zarr}';
/** Zarr v2 metadata files: dot files that are taken inside an OME-Zarr folder (other dot files are ignored). */
const ZARR_DOT_FILES = new Set(['.zattrs', '.zgroup', '.zarray', '.zmetadata']);

/** Failure code of a job whose input was renamed, deleted or changed while it ran (not retried). */
export const INPUT_VANISHED = 'E_INPUT_VANISHED';
/** Ledger failure code of a job that was running when the watcher ended without stopping (crash, kill): retried once. */
export const WATCHER_CRASHED = 'E_WATCHER_CRASHED';
/** Failure code of a job that was running at two watcher crashes: not retried, with a report in failed/. */
export const QUARANTINED = 'E_QUARANTINED';


/**
 * The watch engine: discovers datasets under a folder (chokidar), waits until each is
 * complete (stable size and mtime for settleMs, and parses; MMStack series closed), records
 * it in a durable ledger and runs the pipeline on it through PipelineRunner into a temp folder
 * that is renamed to its final name when the run has succeeded.
 */
export class FolderWatcher {
  private readonly dir: string;
  private readonly out: string;
  private readonly settleMs: number;
  private readonly timeoutMs: number;
  private readonly match: (rel: string) => boolean;
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly maxQueue: number;
  private readonly pending = new Map<string, Pending>();
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Set<string>();
  private readonly planeCache: PlaneCache = new Map();
  /** NDTiff folder key → labels of the groups already queued (or skipped) in this session. */
  private readonly ndTaken = new Map<string, Set<string>>();
  private readonly claimed = new Set<string>();
  private readonly follow: boolean;
  /** followSymlinks: real folder → the first path it was seen under (loop detection). */
  private readonly realDirs = new Map<string, string>();
  /** followSymlinks: real file → the first path it was seen under (each real file once). */
  private readonly realFiles = new Map<string, string>();
  /** Paths already reported as skipped (one event each). */
  private readonly skipped = new Set<string>();
  /** Non-regular files (FIFOs, sockets, devices) already reported. */
  private readonly notRegular = new Set<string>();
  private ledger!: Ledger;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private ready = false;
  private stopping = false;
  private abandoned = 0;
  private doneCount = 0;
  private failedCount = 0;
  private lockFile!: string;
  private finish!: (s: WatchSummary) => void;
  /** Resolves when the watcher has stopped (after `stop()`, or by itself with `once`). */
  readonly finished: Promise<WatchSummary>;

  constructor(private readonly options: WatchOptions) {
    this.dir = resolve(options.dir);
    this.out = resolve(options.outDir);
    this.settleMs = options.settleMs ?? 2000;
    this.timeoutMs = options.acquisitionTimeoutMs ?? 120_000;
    const isMatch = picomatch(options.pattern ?? DEFAULT_PATTERN, { nocase: true, dot: false });
    this.match = (rel) => isMatch(rel.split(sep).join('/'));
    this.limit = pLimit(options.concurrency ?? 1);
    this.maxQueue = options.maxQueue ?? 64;
    this.follow = options.followSymlinks ?? false;
    this.finished = new Promise((r) => (this.finish = r));
  }

  private emit(e: WatchEvent): void {
    this.options.onEvent?.(e);
  }

  /** Opens the ledger (recovering jobs a crash left unfinished) and starts watching. */
  async start(): Promise<void> {
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) throw new FocalError('E_USAGE', `watch folder ${this.dir} is not a folder`, { file: this.dir });
    if (this.dir === this.out) throw new FocalError('E_USAGE', '--out must not be the watched folder itself (use a sibling or a subfolder)', { file: this.out });
    await mkdir(this.out, { recursive: true });
    this.takeLock();
    this.ledger = Ledger.open(this.out);
    const recovered = await this.recover();
    for (const rec of this.ledger.jobs.values()) this.claimed.add(rec.output);

    const outInside = !relative(this.dir, this.out).startsWith('..');
    if (this.follow) this.realDirs.set(realpathSync(this.dir), this.dir);
    this.watcher = chokidarWatch(this.dir, {
      ignoreInitial: false,
      persistent: !this.options.once,
      usePolling: this.options.usePolling ?? false,
      interval: 500,
      binaryInterval: 500,
      followSymlinks: this.follow,
      ignored: (p: string) => (outInside && (p === this.out || p.startsWith(this.out + sep))) || (p !== this.dir && basename(p).startsWith('.') && !(ZARR_DOT_FILES.has(basename(p)) && omeZarrFolder(this.dir, p) !== undefined)) || this.seenDir(p),
    });
    this.watcher.on('add', (p) => this.onFile(p));
    this.watcher.on('change', (p) => this.onFile(p));
    this.watcher.on('error', (err) => this.emit({ event: 'warning', ts: Date.now(), message: `watcher: ${(err as Error).message}` }));
    await new Promise<void>((r) => this.watcher!.once('ready', () => r()));
    this.ready = true;
    this.emit({ event: 'watch-ready', ts: Date.now(), dir: this.dir, out: this.out, recovered, pending: this.pending.size });
    const poll = this.options.pollMs ?? Math.max(20, Math.min(250, Math.floor(this.settleMs / 4)));
    this.timer = setInterval(() => void this.tick(), poll);
    void this.tick();
  }

  private takeLock(): void {
    const dir = join(this.out, WATCH_DIR);
    this.lockFile = join(dir, 'lock');
    mkdirSync(dir, { recursive: true });
    if (existsSync(this.lockFile)) {
      const pid = Number(readFileSync(this.lockFile, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new FocalError('E_USAGE', `another focal watch (pid ${pid}) is using ${this.out}; stop it first`, { file: this.lockFile });
      }
    }
    writeFileSync(this.lockFile, `${process.pid}\n`, { flag: 'w' });
  }

  /**
   * Jobs a crash left queued or running: those whose final folder holds a run.json for the same
   * input content are marked done; the others are re-run when the scan finds their files again.
   * Temp folders and assembled inputs are removed.
   */
  private async recover(): Promise<number> {
    let recovered = 0;
    for (const rec of [...this.ledger.jobs.values()]) {
      if (rec.state !== 'queued' && rec.state !== 'running') continue;
      const final = join(this.out, rec.output);
      const runJson = join(final, 'run.json');
      if (rec.inputSha256 && existsSync(runJson)) {
        try {
          const run = JSON.parse(readFileSync(runJson, 'utf8')) as { inputs?: Record<string, { sha256?: string }>; outputs?: { files?: string[] }[] };
          if (run.inputs?.[this.options.inputName]?.sha256 === rec.inputSha256) {
            const outputs = listFiles(final).map((f) => relative(this.out, f));
            this.ledger.append({ ...stripState(rec), state: 'done', recovered: true, outputs });
            this.doneCount++;
            recovered++;
            await this.combineTables(rec.id, rec.key, final);
            this.emit({ event: 'job-done', ts: Date.now(), id: rec.id, input: rec.key, output: final, ms: 0, outputs, recovered: true });
          }
        } catch {
          // unreadable run.json: the job runs again
        }
      }
    }
    await this.recordCrashes();
    const dir = join(this.out, WATCH_DIR);
    for (const name of readdirSync(dir)) {
      if (name.startsWith('tmp-') || name.startsWith('assembled-')) rmSync(join(dir, name), { recursive: true, force: true });
    }
    return recovered;
  }

  /**
   * Jobs still `running` after recovery were running when the watcher ended without stopping
   * (a clean stop marks its aborted jobs `queued`): the job may be what crashed it. The first
   * time, it is recorded as failed (`E_WATCHER_CRASHED`) and retried when the scan finds it;
   * the second time, it is quarantined: failed (`E_QUARANTINED`) with a report in failed/, not retried.
   */
  private async recordCrashes(): Promise<void> {
    for (const rec of [...this.ledger.jobs.values()]) {
      if (rec.state !== 'running') continue;
      const crashes = (rec.crashes ?? 0) + 1;
      if (crashes < 2) {
        const message = 'the watcher ended (crash or kill) while this job ran; it runs once more';
        this.ledger.append({ ...stripState(rec), state: 'failed', crashes, error: { code: WATCHER_CRASHED, message } });
        this.emit({ event: 'warning', ts: Date.now(), message: `${rec.key}: ${message}`, input: rec.key });
        continue;
      }
      const message = `quarantined: the watcher ended (crash or kill) ${crashes} times while this job ran, so it is not run again; check the input and the pipeline's plugins, then delete this report and the job's line in ${join(WATCH_DIR, 'ledger.jsonl')} to retry`;
      const base = join(this.out, 'failed', safeRelative(rec.output));
      const report = { input: rec.key, kind: rec.kind, files: rec.files, sha256: rec.sha256, pipeline: resolve(this.options.pipelineFile), date: new Date().toISOString(), error: { code: QUARANTINED, message, crashes } };
      await mkdir(dirname(base), { recursive: true });
      await writeFileAtomic(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
      await writeFileAtomic(`${base}.txt`, `${QUARANTINED}: ${message}\n`);
      this.ledger.append({ ...stripState(rec), state: 'failed', crashes, error: { code: QUARANTINED, message } });
      this.failedCount++;
      this.emit({ event: 'job-failed', ts: Date.now(), id: rec.id, input: rec.key, code: QUARANTINED, message, report: `${base}.json` });
    }
  }

  /**
   * followSymlinks: true for a folder whose real path was already seen under another path
   * (a symlink loop, or a second link to the same folder): chokidar does not enter it.
   */
  private seenDir(p: string): boolean {
    if (!this.follow || p === this.dir) return false;
    let real: string;
    try {
      real = realpathSync(p);
      if (!statSync(real).isDirectory()) return false;
    } catch {
      return false; // gone, or a dangling link: chokidar reports nothing for it
    }
    const first = this.realDirs.get(real);
    if (first === undefined) {
      this.realDirs.set(real, p);
      return false;
    }
    if (first === p) return false;
    this.skip(p, `same folder as ${first} (${real}); not entered again (symbolic-link loop or second link)`);
    return true;
  }

  private skip(path: string, reason: string): void {
    if (this.skipped.has(path)) return;
    this.skipped.add(path);
    this.emit({ event: 'job-skipped', ts: Date.now(), input: path, reason, link: true });
  }

  /**
   * Whether a file found under the watched folder may be read: without followSymlinks a
   * symbolic link (or a file reached through one) is refused; with it, a real file already
   * seen under another path is. Skips are reported once per path.
   */
  private admit(path: string): boolean {
    if (!this.follow) {
      const link = this.linkOnTheWay(path);
      if (link) {
        this.skip(path, `${link === path ? 'a symbolic link' : `reached through the symbolic link ${link}`}; not followed (use --follow-symlinks to follow links)`);
        return false;
      }
      return true;
    }
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return true; // vanished: the checks that follow see it gone
    }
    const first = this.realFiles.get(real);
    if (first === undefined) this.realFiles.set(real, path);
    else if (first !== path) {
      this.skip(path, `same file as ${first} (${real}); each real file is processed once`);
      return false;
    }
    return true;
  }

  /** The first symbolic link on the way from the watched folder to `path` (itself included), if any. */
  private linkOnTheWay(path: string): string | undefined {
    const rel = relative(this.dir, path);
    if (rel.startsWith('..')) return path; // outside the watched folder
    let p = this.dir;
    for (const part of rel.split(sep)) {
      if (!part) continue;
      p = join(p, part);
      try {
        if (lstatSync(p).isSymbolicLink()) return p;
      } catch {
        return undefined; // gone
      }
    }
    return undefined;
  }

  /**
   * Whether `path` is a regular file (or gone: later checks see that). A named pipe, socket or
   * device would block or never end when opened or hashed: it is skipped with one warning event.
   */
  private regular(path: string): boolean {
    let s;
    try {
      s = statSync(path);
    } catch {
      return true;
    }
    if (s.isFile()) return true;
    if (!this.notRegular.has(path)) {
      this.notRegular.add(path);
      const kind = s.isFIFO() ? 'a named pipe (FIFO)' : s.isSocket() ? 'a socket' : s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : 'not a file';
      this.emit({ event: 'warning', ts: Date.now(), message: `${path}: ${kind}, not a regular file; skipped`, input: path });
    }
    return false;
  }

  private onFile(path: string): void {
    if (this.stopping) return;
    const zarr = omeZarrFolder(this.dir, path);
    if (zarr) return this.onZarrFile(zarr);
    const rel = relative(this.dir, path);
    const name = basename(path);
    const isPlaneFolderMeta = name === 'metadata.txt';
    if (!isPlaneFolderMeta && name !== 'NDTiff.index' && !this.match(rel)) return;
    if (!this.admit(path)) return;
    if (!this.regular(path)) return;
    const ref = classify(this.dir, path);
    if (!ref) return;
    if (isPlaneFolderMeta && ref.kind !== 'ndtiff') return; // metadata.txt alone is no dataset; its folder's planes are
    let p = this.pending.get(ref.key);
    if (!p) {
      p = { ref, paths: new Set(), snapshot: new Map(), lastChange: Date.now(), version: 0, probedVersion: -1, busy: false };
      this.pending.set(ref.key, p);
    }
    p.paths.add(path);
  }

  /**
   * A file inside an OME-Zarr folder was added or changed: the folder is one dataset (never its
   * files, whatever --pattern says of them), selected by --pattern on the folder's own path. The
   * event restarts its settle time; the files themselves are listed by checkZarr.
   */
  private onZarrFile(folder: string): void {
    if (!this.match(relative(this.dir, folder))) return;
    if (!this.admit(folder)) return;
    let p = this.pending.get(folder);
    if (!p) {
      p = { ref: omeZarrRef(this.dir, folder), paths: new Set([folder]), snapshot: new Map(), lastChange: Date.now(), version: 0, probedVersion: -1, busy: false };
      this.pending.set(folder, p);
    }
    p.lastChange = Date.now();
    p.version++;
  }

  private async tick(): Promise<void> {
    // One tick at a time: the timer fires while a tick awaits a check, and two ticks would each
    // see room under --max-queue and queue one job too many.
    if (this.stopping || this.ticking) return;
    this.ticking = true;
    try {
      await this.tickOnce();
    } finally {
      this.ticking = false;
    }
  }

  private ticking = false;

  private async tickOnce(): Promise<void> {
    const now = Date.now();
    for (const p of this.pending.values()) {
      if (p.busy) continue;
      if (this.limit.activeCount + this.limit.pendingCount >= this.maxQueue) break;
      p.busy = true;
      try {
        await this.check(p, now);
      } catch (err) {
        const message = `${p.ref.key}: ${(err as Error).message}`;
        if (p.error !== message) this.emit({ event: 'warning', ts: Date.now(), message, input: p.ref.key }); // once per distinct error
        p.error = message;
        if (now - p.lastChange >= this.timeoutMs) {
          this.emit({ event: 'warning', ts: Date.now(), message: `${p.ref.key}: given up after the acquisition timeout (${(err as Error).message})`, input: p.ref.key });
          this.pending.delete(p.ref.key);
        }
      } finally {
        p.busy = false;
      }
    }
    if (this.options.once && this.ready && !this.stopping && this.pending.size === 0 && this.limit.activeCount + this.limit.pendingCount === 0) {
      void this.stop();
    }
  }

  /** Updates the snapshot; true when something changed. */
  private async restat(p: Pending): Promise<boolean> {
    let changed = false;
    for (const f of [...p.paths]) {
      let s;
      try {
        s = await stat(f);
      } catch {
        p.paths.delete(f);
        if (p.snapshot.delete(f)) changed = true;
        continue;
      }
      if (!s.isFile() && !this.regular(f)) {
        // replaced by a FIFO, socket, … since it was found: dropped (hashing it could wait forever)
        p.paths.delete(f);
        if (p.snapshot.delete(f)) changed = true;
        continue;
      }
      const prev = p.snapshot.get(f);
      if (!prev || prev.size !== s.size || prev.mtimeMs !== s.mtimeMs) {
        p.snapshot.set(f, { size: s.size, mtimeMs: s.mtimeMs });
        changed = true;
      }
    }
    return changed;
  }

  private async check(p: Pending, now: number): Promise<void> {
    if (p.ref.kind === 'ndtiff') return this.checkNd(p, now);
    if (p.ref.kind === 'ome-zarr') return this.checkZarr(p, now);
    if (p.ref.kind === 'file' && existsSync(join(dirname(p.ref.key), 'NDTiff.index'))) {
      // the index appeared after the file: it belongs to an NDTiff dataset
      this.pending.delete(p.ref.key);
      this.onFile(p.ref.key);
      return;
    }
    if (await this.restat(p)) {
      p.lastChange = now;
      p.version++;
    }
    if (p.paths.size === 0) {
      this.pending.delete(p.ref.key);
      return;
    }
    if (now - p.lastChange < this.settleMs) return;
    // already-processed content (same path, size and mtime as a finished job): skip without hashing
    if (p.ref.kind === 'file' && this.knownFinished(p)) {
      this.pending.delete(p.ref.key);
      return;
    }
    if (p.probedVersion !== p.version) {
      const res = await probe(p.ref, this.planeCache, { followSymlinks: this.follow });
      p.probedVersion = p.version;
      for (const f of res.files) p.paths.add(f);
      if (await this.restat(p)) {
        p.lastChange = Date.now();
        p.version++;
        return;
      }
      if (res.complete) {
        await this.take(p, res.input, res.warnings);
        return;
      }
      p.reason = res.reason;
    }
    if (now - p.lastChange >= this.timeoutMs) {
      const warning = `${p.ref.key}: still incomplete ${Math.round((now - p.lastChange) / 1000)} s after its last change (${p.reason}); processing what is there`;
      await this.take(p, p.ref.kind === 'mmstack' ? p.ref.main! : p.ref.kind === 'file' ? p.ref.key : '', [warning]);
    }
  }

  /**
   * OME-Zarr: the folder is settled when no file event came for settleMs and a listing of all its
   * files (paths, sizes, mtimes) equals the one taken settleMs or more before (events can be
   * missed: polling, network shares); then it is complete when the image opens (probe). Zarr
   * allows missing chunks, so a writer still adding chunks is told from a finished one only by
   * settling: --settle-ms must exceed the writer's longest pause. A folder with symbolic links
   * inside is not taken (its hash, core's sha256Folder, leaves links out).
   */
  private async checkZarr(p: Pending, now: number): Promise<void> {
    const folder = p.ref.folder!;
    if (!existsSync(folder)) {
      this.pending.delete(p.ref.key);
      return;
    }
    if (p.zarr && (now - p.lastChange < this.settleMs || now < (p.zarrNextList ?? 0))) return;
    const listStarted = Date.now();
    const listing = await listZarrFolder(folder);
    p.zarrNextList = Date.now() + Math.max(this.settleMs, 4 * (Date.now() - listStarted));
    if (!p.zarr || listing.listing !== p.zarr.listing) {
      p.zarr = listing;
      p.lastChange = Date.now();
      p.version++;
      return;
    }
    if (listing.links.length > 0) {
      this.pending.delete(p.ref.key);
      this.skip(folder, `holds symbolic links (${listing.links.slice(0, 3).join(', ')}${listing.links.length > 3 ? ', …' : ''}); an OME-Zarr folder is taken only without links inside, with or without --follow-symlinks`);
      return;
    }
    if (this.knownFinishedFolder(p.ref.key, listing)) {
      this.pending.delete(p.ref.key);
      return;
    }
    if (p.probedVersion !== p.version) {
      const res = await probe(p.ref, this.planeCache);
      p.probedVersion = p.version;
      if (res.complete) {
        await this.takeZarr(p, listing, res.warnings);
        return;
      }
      p.reason = res.reason;
    }
    if (now - p.lastChange >= this.timeoutMs) {
      await this.takeZarr(p, listing, [`${folder}: still incomplete ${Math.round((now - p.lastChange) / 1000)} s after its last change (${p.reason}); processing what is there`]);
    }
  }

  /** A done or failed job of this folder with the same listing (paths, sizes, mtimes): skipped without re-hashing. */
  private knownFinishedFolder(key: string, listing: ZarrListing): boolean {
    for (const rec of this.ledger.jobs.values()) {
      if (rec.key === key && (rec.state === 'done' || rec.state === 'failed') && rec.error?.code !== WATCHER_CRASHED && rec.listing === listing.listing) return true;
    }
    return false;
  }

  /**
   * Queues a settled OME-Zarr folder. Its content hash is core's sha256Folder (every file's path
   * and sha256), the value `focal run` records as the input's sha256 in run.json, so it is the
   * job's inputSha256 too (crash recovery compares them). A folder that changed while it was
   * hashed waits again.
   */
  private async takeZarr(p: Pending, listing: ZarrListing, warnings: string[]): Promise<void> {
    const folder = p.ref.folder!;
    const { sha256 } = await sha256Folder(folder);
    const after = await listZarrFolder(folder);
    if (after.listing !== listing.listing) {
      p.zarr = after;
      p.lastChange = Date.now();
      p.version++;
      return;
    }
    this.pending.delete(p.ref.key);
    this.queue(p.ref, [{ path: folder, size: listing.bytes, mtimeMs: listing.newestMs }], sha256, folder, sha256, warnings, { listing: listing.listing, fileCount: listing.files });
  }

  /**
   * NDTiff: follows the append-only index. Each stack (the channels and z slices of one time
   * point and position) is queued as soon as the index shows it complete — a later time point
   * has started, or the index is closed (truncated to its entries and unchanged for settleMs) —
   * without waiting for the acquisition to end. With the index open and unchanged past the
   * acquisition timeout, the remaining stacks are taken too. If entries arrive after the index
   * looked closed, the watch entry is re-created by the change event and new stacks are taken.
   */
  private async checkNd(p: Pending, now: number): Promise<void> {
    const folder = p.ref.folder!;
    const indexFile = join(folder, 'NDTiff.index');
    if (existsSync(indexFile)) p.paths.add(indexFile);
    else if (await this.restat(p)) p.lastChange = now;
    if (!existsSync(indexFile)) {
      if (now - p.lastChange >= this.timeoutMs) {
        this.emit({ event: 'warning', ts: Date.now(), message: `${folder}: NDTiff files but no NDTiff.index after the acquisition timeout; skipped`, input: folder });
        this.pending.delete(p.ref.key);
      }
      return;
    }
    if (await this.restat(p)) {
      p.lastChange = now;
      p.version++;
    }
    if (p.paths.size === 0) {
      this.pending.delete(p.ref.key);
      return;
    }
    const index = await readNdIndex(folder);
    for (const e of index.entries) p.paths.add(join(folder, basename(e.file)));
    const closed = index.exactEnd && index.entries.length > 0 && now - p.lastChange >= this.settleMs;
    const timedOut = !closed && now - p.lastChange >= this.timeoutMs;
    const ready = timedOut ? groupNdEntries(index.entries) : completeNdGroups(index, closed);
    let taken = this.ndTaken.get(p.ref.key);
    if (!taken) this.ndTaken.set(p.ref.key, (taken = new Set()));
    for (const g of ready) {
      if (taken.has(g.label)) continue;
      if (this.limit.activeCount + this.limit.pendingCount >= this.maxQueue) return;
      if (timedOut) this.emit({ event: 'warning', ts: Date.now(), message: `${folder}: the NDTiff index is still open ${Math.round((now - p.lastChange) / 1000)} s after its last change; processing ${g.label || 'the dataset'} as it is`, input: folder });
      taken.add(g.label);
      await this.takeNd(p, g);
    }
    if ((closed || timedOut) && groupNdEntries(index.entries).every((g) => taken.has(g.label))) this.pending.delete(p.ref.key);
  }

  private async takeNd(p: Pending, group: NdGroup): Promise<void> {
    const folder = p.ref.folder!;
    let sha256: string;
    try {
      sha256 = (await readNdGroup(folder, group)).sha256;
    } catch {
      // unreadable: identified by its index entries; the job fails and writes a report
      sha256 = createHash('sha256').update(JSON.stringify(group.entries)).digest('hex');
    }
    const key = `${folder}#${group.label || 'all'}`;
    const ref: DatasetRef = { kind: 'ndtiff', key, outputBase: group.label ? `${p.ref.outputBase}_${group.label}` : p.ref.outputBase, folder, group };
    const files = [...new Set(group.entries.map((e) => join(folder, basename(e.file))))].sort();
    if (!this.admit(join(folder, 'NDTiff.index')) || files.some((f) => !this.admit(f))) {
      this.skip(key, this.follow ? 'its files were already processed under another path' : 'some of its files are symbolic links, which are not followed (use --follow-symlinks)');
      return;
    }
    const ledgerFiles: LedgerFile[] = [];
    for (const f of files) {
      const s = await stat(f).catch(() => undefined);
      ledgerFiles.push({ path: f, size: s?.size ?? 0, mtimeMs: s?.mtimeMs ?? 0 });
    }
    this.queue(ref, ledgerFiles, sha256, '', undefined, []);
  }

  private knownFinished(p: Pending): boolean {
    const s = p.snapshot.get(p.ref.key);
    if (!s) return false;
    for (const rec of this.ledger.jobs.values()) {
      if (rec.key !== p.ref.key || (rec.state !== 'done' && rec.state !== 'failed') || rec.error?.code === WATCHER_CRASHED) continue;
      const f = rec.files.find((x) => x.path === p.ref.key);
      if (f && f.size === s.size && f.mtimeMs === s.mtimeMs && rec.files.length === 1) return true;
    }
    return false;
  }

  private async take(p: Pending, input: string, warnings: string[]): Promise<void> {
    const files = [...p.paths].filter((f) => existsSync(f)).sort();
    const refused = files.filter((f) => !this.admit(f));
    if (refused.length > 0) {
      // a dataset part of which is a link (e.g. an MMStack split file): the dataset is not taken
      this.pending.delete(p.ref.key);
      this.skip(p.ref.key, `${refused.length} of its files ${refused.length === 1 ? 'is' : 'are'} skipped (${refused.map((f) => basename(f)).join(', ')}): ${this.follow ? 'already processed under another path' : 'symbolic links are not followed (use --follow-symlinks)'}`);
      return;
    }
    if (files.length === 0) {
      this.pending.delete(p.ref.key);
      return;
    }
    const { sha256, perFile } = await datasetHash(files);
    if (await this.restat(p)) {
      p.lastChange = Date.now();
      p.version++;
      return; // changed while hashing: wait again
    }
    this.pending.delete(p.ref.key);
    const ledgerFiles = files.map((f) => ({ path: f, ...p.snapshot.get(f)! }));
    this.queue(p.ref, ledgerFiles, sha256, input, input ? perFile.get(input) : undefined, warnings);
  }

  /** Records a complete dataset as `queued` (unless this content is already done or failed) and schedules it. */
  private queue(ref: DatasetRef, ledgerFiles: LedgerFile[], sha256: string, input: string, inputSha256: string | undefined, warnings: string[], folder?: Job['folder']): void {
    const prior = this.ledger.find(ref.key, sha256);
    if (prior && (prior.state === 'done' || (prior.state === 'failed' && prior.error?.code !== INPUT_VANISHED && prior.error?.code !== WATCHER_CRASHED))) {
      this.emit({ event: 'job-skipped', ts: Date.now(), input: ref.key, reason: `already ${prior.state} (job ${prior.id}, same content)` });
      return;
    }
    if (prior && (this.jobs.has(prior.id) || this.running.has(prior.id))) return; // already queued in this session
    let output = prior?.output;
    if (!output || existsSync(join(this.out, output))) output = this.chooseOutput(ref.outputBase, sha256);
    const id = prior?.id ?? `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const crashes = prior?.crashes;
    const job: Job = { id, ref, files: ledgerFiles, sha256, inputSha256, output, input, warnings, controller: new AbortController(), ...(crashes ? { crashes } : {}), ...(folder ? { folder } : {}) };
    this.claimed.add(output);
    this.jobs.set(id, job);
    this.ledger.append({ ...this.record(job), state: 'queued' });
    this.emit({ event: 'job-queued', ts: Date.now(), id, input: ref.key, kind: ref.kind, files: ledgerFiles.length, output: join(this.out, output) });
    void this.limit(() => this.runJob(job)).catch(() => undefined);
  }

  private chooseOutput(base: string, sha256: string): string {
    const safe = safeRelative(base);
    const candidates = [safe, `${safe}-${sha256.slice(0, 8)}`];
    for (let i = 2; ; i++) {
      const c = candidates.shift() ?? `${safe}-${sha256.slice(0, 8)}-${i}`;
      if (!this.claimed.has(c) && !existsSync(join(this.out, c)) && c.split(sep)[0] !== 'failed' && c.split(sep)[0] !== WATCH_DIR) return c;
    }
  }

  /**
   * Appends a done job's tables to the combined CSVs in the output folder (<out>/<table>.csv,
   * input path and job id first; core/jobs/combined-tables.ts). A failure is a warning: the
   * job's own outputs are complete, and its rows are added when it is appended again.
   */
  private async combineTables(id: string, input: string, final: string): Promise<void> {
    try {
      const files = await appendJobTables(this.out, { id, inputs: { [this.options.inputName]: input }, out: final });
      if (files.length) this.emit({ event: 'tables-appended', ts: Date.now(), id, input, files });
    } catch (err) {
      this.emit({ event: 'warning', ts: Date.now(), message: `${input}: its tables were not added to the combined tables: ${err instanceof Error ? err.message : String(err)}`, input });
    }
  }

  private record(job: Job): Omit<LedgerRecord, 'v' | 't' | 'state'> {
    return { id: job.id, key: job.ref.key, kind: job.ref.kind, files: job.files, sha256: job.sha256, output: job.output, ...(job.inputSha256 ? { inputSha256: job.inputSha256 } : {}), ...(job.crashes ? { crashes: job.crashes } : {}), ...(job.folder ? { listing: job.folder.listing, fileCount: job.folder.fileCount } : {}) };
  }

  private async runJob(job: Job): Promise<void> {
    if (this.stopping) return; // left `queued` in the ledger: runs at the next start
    this.running.add(job.id);
    const started = Date.now();
    const work = join(this.out, WATCH_DIR);
    const tmp = join(work, `tmp-${job.id}`);
    const assembled = join(work, `assembled-${job.id}.tif`);
    const final = join(this.out, job.output);
    try {
      this.ledger.append({ ...this.record(job), state: 'running' });
      this.emit({ event: 'job-started', ts: Date.now(), id: job.id, input: job.ref.key });
      for (const w of job.warnings) this.emit({ event: 'warning', ts: Date.now(), message: w, input: job.ref.key });
      await rm(tmp, { recursive: true, force: true });
      let input = job.input;
      if (job.ref.kind === 'img-folder' || job.ref.kind === 'ndtiff') {
        if (job.ref.kind === 'ndtiff') {
          const { stack } = await readNdGroup(job.ref.folder!, job.ref.group!, job.controller.signal);
          await writeTiff(assembled, stack, { mkdir: true });
        } else {
          const { warnings } = await assembleImgFolder(job.ref, this.planeCache, assembled, job.controller.signal, { followSymlinks: this.follow });
          for (const w of warnings) this.emit({ event: 'warning', ts: Date.now(), message: w, input: job.ref.key });
        }
        input = assembled;
        job.inputSha256 = (await datasetHash([assembled])).sha256;
        this.ledger.append({ ...this.record(job), state: 'running' });
      }
      await this.options.runner.run({ ...this.options.run, pipelineFile: this.options.pipelineFile, inputs: { [this.options.inputName]: input }, outDir: tmp, signal: job.controller.signal });
      await mkdir(dirname(final), { recursive: true });
      if (job.controller.signal.aborted) throw new FocalError('E_CANCELLED', 'cancelled before its outputs were committed');
      await rename(tmp, final); // atomic: the output folder appears complete or not at all
      fsyncDir(dirname(final));
      const outputs = listFiles(final).map((f) => relative(this.out, f));
      const ms = Date.now() - started;
      this.ledger.append({ ...this.record(job), state: 'done', ms, outputs });
      this.doneCount++;
      await this.combineTables(job.id, job.ref.key, final);
      this.emit({ event: 'job-done', ts: Date.now(), id: job.id, input: job.ref.key, output: final, ms, outputs });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      if (job.controller.signal.aborted) {
        this.abandoned++;
        // A clean stop: queued again, so the next start does not count it as a crash.
        this.ledger.append({ ...this.record(job), state: 'queued' });
        this.emit({ event: 'warning', ts: Date.now(), message: `${job.ref.key}: abandoned at shutdown; it runs again at the next start`, input: job.ref.key });
      } else {
        await this.fail(job, err);
      }
    } finally {
      await rm(assembled, { force: true }).catch(() => undefined);
      this.running.delete(job.id);
      this.jobs.delete(job.id);
    }
  }

  /** The first input file of a job that is gone since the job was queued (renamed or deleted). */
  private async vanished(job: Job): Promise<{ file: string; how: string } | undefined> {
    for (const f of job.files) {
      if (!(await lstat(f.path).then(() => true, () => false))) return { file: f.path, how: 'renamed or deleted' };
    }
    return undefined;
  }

  private async fail(job: Job, err: unknown): Promise<void> {
    const gone = await this.vanished(job);
    if (gone) {
      // Not the pipeline's fault: reported as what it is, and not retried (a file that comes
      // back, or a changed one, is a new dataset once it has settled).
      const original = err instanceof Error ? err.message : String(err);
      err = new FocalError('E_IO', `input vanished: ${gone.file} was ${gone.how} while its job ran; the job is not retried (${original})`, { file: gone.file, reason: 'input-vanished' });
    }
    const code = gone ? INPUT_VANISHED : isFocalError(err) ? err.code : 'E_INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    const node = isFocalError(err) && typeof err.details.node === 'string' ? err.details.node : undefined;
    const op = isFocalError(err) && typeof err.details.op === 'string' ? err.details.op : undefined;
    const base = join(this.out, 'failed', safeRelative(job.ref.outputBase));
    const report = {
      input: job.ref.key,
      kind: job.ref.kind,
      files: job.files,
      sha256: job.sha256,
      pipeline: resolve(this.options.pipelineFile),
      date: new Date().toISOString(),
      error: { code, message, ...(node ? { node } : {}), ...(op ? { op } : {}), ...(isFocalError(err) ? { details: err.details } : {}) },
    };
    await mkdir(dirname(base), { recursive: true });
    await writeFileAtomic(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    await writeFileAtomic(`${base}.txt`, `${code}: ${message}${node ? ` (node ${node}${op ? `, op ${op}` : ''})` : ''}\n`);
    this.ledger.append({ ...this.record(job), state: 'failed', error: { code, message, ...(node ? { node } : {}), ...(op ? { op } : {}) } });
    this.failedCount++;
    this.emit({ event: 'job-failed', ts: Date.now(), id: job.id, input: job.ref.key, code, message, node, op, report: `${base}.json` });
  }

  /**
   * Stops taking new work. In-flight jobs finish; after `graceMs` (or at once with 0) they are
   * aborted, their temp folders removed, and they are marked `queued` in the ledger (re-run at the next start;
   * a job still `running` there at the next start means the watcher crashed, see recordCrashes).
   */
  async stop(graceMs = Number.POSITIVE_INFINITY): Promise<WatchSummary> {
    if (!this.stopping) {
      this.stopping = true;
      if (this.timer) clearInterval(this.timer);
      await this.watcher?.close();
      this.limit.clearQueue();
      const queued = this.jobs.size - this.running.size;
      const inflight = () => new Promise<void>((r) => {
        const check = () => (this.running.size === 0 ? r() : setTimeout(check, 20));
        check();
      });
      let timer: NodeJS.Timeout | undefined;
      if (Number.isFinite(graceMs)) timer = setTimeout(() => this.abortAll(), graceMs);
      await inflight();
      if (timer) clearTimeout(timer);
      this.ledger.close();
      try {
        rmSync(this.lockFile, { force: true });
      } catch {
        // best effort
      }
      const summary = { done: this.doneCount, failed: this.failedCount, abandoned: this.abandoned, queued };
      this.emit({ event: 'watch-stopped', ts: Date.now(), ...summary });
      this.finish(summary);
    }
    return this.finished;
  }

  /** Aborts every in-flight job now (a second Ctrl-C, or the grace period ran out). */
  abortAll(): void {
    for (const id of this.running) this.jobs.get(id)?.controller.abort();
  }
}

function stripState(rec: LedgerRecord): Omit<LedgerRecord, 'v' | 't' | 'state'> {
  const { v: _v, t: _t, state: _s, ...rest } = rec;
  return rest;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}
